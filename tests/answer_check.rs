//! Every answer a test server gives, checked against the OpenAPI document:
//! the status must be documented for the operation, the content type must
//! be one the answer lists, and a JSON body must match its schema, with no
//! field the schema does not name. A test server wraps its router with
//! [`AnswerCheck::wrap`] and asserts [`AnswerCheck::assert_clean`] when it
//! is done, so any drift between the server and its document fails a test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

/// The checker of one server's answers.
pub struct AnswerCheck {
    document: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    violations: Mutex<Vec<String>>,
    checked: Mutex<u64>,
}

impl AnswerCheck {
    pub fn new(document: &Value) -> Arc<Self> {
        Arc::new(AnswerCheck {
            document: strict(document),
            validators: Mutex::new(HashMap::new()),
            violations: Mutex::new(Vec::new()),
            checked: Mutex::new(0),
        })
    }

    /// `router` with every answer checked on its way out.
    pub fn wrap(self: &Arc<Self>, router: Router) -> Router {
        let check = self.clone();
        router.layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let check = check.clone();
                async move { check.intercept(request, next).await }
            },
        ))
    }

    async fn intercept(&self, request: Request, next: Next) -> Response {
        let method = request.method().as_str().to_ascii_lowercase();
        let path = request.uri().path().to_string();
        let response = next.run(request).await;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // A stream is checked by its status and type; its body never ends.
        if content_type.starts_with("text/event-stream") {
            self.record(self.check(
                &method,
                &path,
                response.status().as_u16(),
                &content_type,
                None,
            ));
            return response;
        }
        let (parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(error) => {
                self.record(Err(format!(
                    "{method} {path}: the body could not be read: {error}"
                )));
                return Response::from_parts(parts, Body::empty());
            }
        };
        self.record(self.check(
            &method,
            &path,
            parts.status.as_u16(),
            &content_type,
            Some(&bytes),
        ));
        Response::from_parts(parts, Body::from(bytes))
    }

    fn record(&self, outcome: Result<(), String>) {
        *self.checked.lock().unwrap() += 1;
        if let Err(violation) = outcome {
            eprintln!("answer outside the OpenAPI document: {violation}");
            self.violations.lock().unwrap().push(violation);
        }
    }

    /// Checks one answer of `method path`.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        let Some(template) = self.template_of(path) else {
            // Not an operation (the dashboard's page and assets, or a
            // route that does not exist): an error there is still the
            // API's error shape.
            if content_type.starts_with("application/json") {
                let schema = json!({"$ref": "#/components/schemas/ErrorBody"});
                return self.validate(&format!("undocumented {path}"), &schema, body);
            }
            return Ok(());
        };
        let place = format!("{method} {template} answered {status}");
        let Some(operation) = self.document["paths"][&template].get(method) else {
            return if status == 405 {
                Ok(())
            } else {
                Err(format!(
                    "{place}: the document has no {method} on this path"
                ))
            };
        };
        let responses = &operation["responses"];
        let answer = responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("{place}: the status is not documented"))?;
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let Some(content) = answer["content"].as_object() else {
            return match body {
                Some(bytes) if !bytes.is_empty() => {
                    Err(format!("{place}: the document says no body, got {media}"))
                }
                _ => Ok(()),
            };
        };
        let documented = content
            .iter()
            .find(|(kind, _)| kind.split(';').next().unwrap_or_default().trim() == media)
            .map(|(_, entry)| entry)
            .ok_or_else(|| {
                format!(
                    "{place}: content type \"{content_type}\" is not one of {:?}",
                    content.keys().collect::<Vec<_>>()
                )
            })?;
        if media == "application/json" {
            self.validate(&place, &documented["schema"], body)
        } else {
            Ok(())
        }
    }

    fn validate(&self, place: &str, schema: &Value, body: Option<&[u8]>) -> Result<(), String> {
        let Some(bytes) = body else {
            return Ok(());
        };
        let instance: Value = serde_json::from_slice(bytes)
            .map_err(|error| format!("{place}: the body is not JSON: {error}"))?;
        let validator = self.validator(schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|error| format!("at {}: {error}", error.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            let mut shown = instance.to_string();
            shown.truncate(600);
            Err(format!("{place}: {} (body {shown})", errors.join("; ")))
        }
    }

    fn validator(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key = schema.to_string();
        if let Some(found) = self.validators.lock().unwrap().get(&key) {
            return Ok(found.clone());
        }
        // The answer's schema becomes the root, beside the document's
        // components, so its references resolve.
        let mut root = json!({"allOf": [schema], "components": self.document["components"]});
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|error| format!("the document's schema does not compile: {error}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        Ok(validator)
    }

    /// The document's path template `path` is an instance of; literal
    /// segments win over parameters.
    fn template_of(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.document["paths"]
            .as_object()?
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template.clone()))
            })
            .max()
            .map(|(_, template)| template)
    }

    /// Answers checked so far.
    pub fn checked(&self) -> u64 {
        *self.checked.lock().unwrap()
    }

    /// Every answer so far was inside the document.
    pub fn assert_clean(&self) {
        let violations = self.violations.lock().unwrap();
        assert!(
            violations.is_empty(),
            "{} answers were outside the OpenAPI document:\n{}",
            violations.len(),
            violations.join("\n")
        );
    }
}

/// The document with every object schema closed: a field the schema does
/// not name fails the check. Schemas that are parts of an `allOf` stay
/// open, and the schema holding the `allOf` is closed instead, since
/// `unevaluatedProperties` sees the fields of every part.
fn strict(document: &Value) -> Value {
    let mut document = document.clone();
    let mut parts = Vec::new();
    collect_all_of_parts(&document, &mut parts);
    if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            let reference = format!("#/components/schemas/{name}");
            if !parts.contains(&reference) {
                close(schema);
            }
        }
    }
    document
}

fn close(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let is_object = object.contains_key("properties") || object.contains_key("allOf");
    if is_object
        && !object.contains_key("additionalProperties")
        && !object.contains_key("unevaluatedProperties")
    {
        object.insert("unevaluatedProperties".into(), json!(false));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = object.get_mut(key).and_then(Value::as_array_mut) {
            choices.iter_mut().for_each(close);
        }
    }
}

fn collect_all_of_parts(value: &Value, parts: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(list) = object.get("allOf").and_then(Value::as_array) {
                for part in list {
                    if let Some(reference) = part.get("$ref").and_then(Value::as_str) {
                        parts.push(reference.to_string());
                    }
                }
            }
            object
                .values()
                .for_each(|child| collect_all_of_parts(child, parts));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| collect_all_of_parts(child, parts)),
        _ => {}
    }
}
