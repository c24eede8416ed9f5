//! Contacts from JSON: `[{"phone": ..., "name": ..., "time_zone": ...,
//! "id": ..., "attributes": {...}}]`.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};

use super::{
    ImportError, ImportFormat, ImportOptions, ImportReport, ImportSummary, ImportedContact,
    RawContact, RowChecker,
};

/// The keys a contact object may have.
const FIELDS: &str = "\"phone\", \"name\", \"time_zone\", \"id\" or \"attributes\"";

/// Read contacts from a JSON array of objects. Errors name the field path,
/// e.g. `contacts[3].phone`; `row` is the index in the array.
pub fn import_json(input: &[u8], options: &ImportOptions) -> Result<ImportReport, ImportError> {
    ImportReport::collect(|sink| import_json_into(input, options, sink))
}

/// [`import_json`] handing each contact that passes to `sink`; see
/// [`import_csv_into`](super::import_csv_into).
pub fn import_json_into(
    input: &[u8],
    options: &ImportOptions,
    sink: &mut dyn FnMut(ImportedContact),
) -> Result<ImportSummary, ImportError> {
    let mut checker = RowChecker::new(options, ImportFormat::Json, sink);
    let mut stopped = None;
    let mut document = serde_json::Deserializer::from_slice(input);
    // The array is read one contact at a time, so a large upload is never
    // held as a tree of values as well as its text.
    let read = serde::Deserializer::deserialize_any(
        &mut document,
        ContactArray {
            options,
            checker: &mut checker,
            stopped: &mut stopped,
        },
    )
    .and_then(|()| document.end());
    if let Some(error) = stopped {
        return Err(error);
    }
    read.map_err(|err| ImportError::Json {
        line: err.line(),
        column: err.column(),
        message: err
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    })?;
    checker.finish()
}

/// Reads the top-level array, checking each contact as soon as it is read.
/// A refusal of the whole document is left in `stopped`; the error handed
/// back to serde only ends the reading.
struct ContactArray<'a, 'sink> {
    options: &'a ImportOptions,
    checker: &'a mut RowChecker<'sink>,
    stopped: &'a mut Option<ImportError>,
}

impl ContactArray<'_, '_> {
    fn refuse<E: serde::de::Error>(&mut self, error: ImportError) -> Result<(), E> {
        let message = error.to_string();
        *self.stopped = Some(error);
        Err(E::custom(message))
    }

    fn not_an_array<E: serde::de::Error>(&mut self, what: &str) -> Result<(), E> {
        self.refuse(ImportError::Shape(format!(
            "the document is {what}, expected an array of contacts"
        )))
    }
}

impl<'de> serde::de::Visitor<'de> for ContactArray<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an array of contacts")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        let mut row = 0;
        while let Some(item) = items.next_element::<Value>()? {
            if row == self.options.max_rows {
                return self.refuse(ImportError::TooManyRows {
                    max: self.options.max_rows,
                });
            }
            match read_contact(row, item, self.options, self.checker) {
                Ok(raw) => self.checker.check(raw),
                Err(error) => self.checker.reject(*error),
            }
            row += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, _map: A) -> Result<(), A::Error> {
        self.not_an_array("an object")
    }

    fn visit_str<E: serde::de::Error>(mut self, _text: &str) -> Result<(), E> {
        self.not_an_array("a string")
    }

    fn visit_bool<E: serde::de::Error>(mut self, _flag: bool) -> Result<(), E> {
        self.not_an_array("a boolean")
    }

    fn visit_i64<E: serde::de::Error>(mut self, _number: i64) -> Result<(), E> {
        self.not_an_array("a number")
    }

    fn visit_u64<E: serde::de::Error>(mut self, _number: u64) -> Result<(), E> {
        self.not_an_array("a number")
    }

    fn visit_f64<E: serde::de::Error>(mut self, _number: f64) -> Result<(), E> {
        self.not_an_array("a number")
    }

    fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.not_an_array("null")
    }
}

fn read_contact(
    row: usize,
    item: Value,
    options: &ImportOptions,
    checker: &RowChecker<'_>,
) -> Result<RawContact, Box<super::RowError>> {
    let path = |field: &str| format!("contacts[{row}].{field}");
    let fail = |field: Option<String>, value: Option<&str>, reason: String| {
        Box::new(checker.error(row, field, value, reason))
    };
    let Value::Object(object) = item else {
        return Err(fail(
            None,
            None,
            format!("the contact is {}, expected an object", kind(&item)),
        ));
    };
    let mut raw = RawContact {
        row,
        ..RawContact::default()
    };
    for (key, value) in object {
        let field = path(&key);
        if let ("attributes", Value::Object(attributes)) = (key.as_str(), &value) {
            for (name, value) in attributes {
                let field = format!("{field}.{name}");
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    Value::Bool(flag) => flag.to_string(),
                    Value::Null => continue,
                    other => {
                        return Err(fail(
                            Some(field),
                            None,
                            format!(
                                "the attribute is {}, expected a string, number or boolean",
                                kind(other)
                            ),
                        ));
                    }
                };
                check_size(&text, options)
                    .map_err(|reason| fail(Some(field.clone()), Some(&text), reason))?;
                raw.attributes.push((name.clone(), text));
            }
            continue;
        }
        let text = match &value {
            Value::Null => continue,
            Value::String(text) => text.clone(),
            // Numeric ids are common in exports; phones must stay strings
            // so a leading "+" or "0" is never lost.
            Value::Number(number) if key == "id" => number.to_string(),
            other if is_known(&key) => {
                return Err(fail(
                    Some(field),
                    None,
                    format!(
                        "\"{key}\" is {}, expected {}",
                        kind(other),
                        expected_type(&key)
                    ),
                ));
            }
            _ => {
                return Err(fail(
                    Some(field),
                    None,
                    format!("unknown field \"{key}\", expected {FIELDS}"),
                ));
            }
        };
        check_size(&text, options)
            .map_err(|reason| fail(Some(field.clone()), Some(&text), reason))?;
        match key.as_str() {
            "phone" => raw.phone = Some((field, text)),
            "name" => raw.name = Some(text),
            "time_zone" => raw.time_zone = Some((field, text)),
            "id" => raw.id = Some((field, text)),
            _ => {
                return Err(fail(
                    Some(field),
                    None,
                    format!("unknown field \"{key}\", expected {FIELDS}"),
                ));
            }
        }
    }
    if raw.phone.is_none() {
        return Err(fail(
            Some(path("phone")),
            None,
            "the phone number is missing, expected a string".to_string(),
        ));
    }
    Ok(raw)
}

fn check_size(text: &str, options: &ImportOptions) -> Result<(), String> {
    if text.len() > options.max_field_bytes {
        Err(format!(
            "the value is {} bytes long, expected at most {}",
            text.len(),
            options.max_field_bytes
        ))
    } else {
        Ok(())
    }
}

fn is_known(key: &str) -> bool {
    KNOWN_FIELDS.contains(&key)
}

const KNOWN_FIELDS: [&str; 5] = ["phone", "name", "time_zone", "id", "attributes"];

/// A contact of a JSON upload, as the API's document describes it: the
/// fields [`read_contact`] reads, each of the type it expects.
pub struct JsonContact;

impl utoipa::PartialSchema for JsonContact {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(description))
        };
        let scalar = SchemaType::from_iter([Type::String, Type::Number, Type::Boolean, Type::Null]);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "phone",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .description(Some(
                        "E.164, or national under the upload's default_country",
                    ))
                    .examples([json!("+12125550101")]),
            )
            .required("phone")
            .property("name", text("The person's name").examples([json!("Ada")]))
            .property(
                "time_zone",
                text("An IANA zone; inferred from the number when left out")
                    .examples([json!("America/New_York")]),
            )
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([
                        Type::String,
                        Type::Integer,
                        Type::Null,
                    ]))
                    .description(Some(
                        "The caller's own id, unique in the batch; \"row-N\" when left out",
                    ))
                    .examples([json!("c-1")]),
            )
            .property(
                "attributes",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
                    .additional_properties(Some(ObjectBuilder::new().schema_type(scalar)))
                    .description(Some(
                        "Free-form values kept with the contact and handed to plugins",
                    ))
                    .examples([json!({"plan": "pro", "seats": 3})]),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for JsonContact {}

fn expected_type(key: &str) -> &'static str {
    match key {
        "attributes" => "an object",
        "id" => "a string or number",
        "phone" | "name" | "time_zone" => "a string",
        _ => "one of the known fields",
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::super::ImportMode;
    use super::*;

    fn strict(json: &str) -> Result<ImportReport, ImportError> {
        let options = ImportOptions::new(ImportMode::Strict)
            .with_default_country("US")
            .expect("US");
        import_json(json.as_bytes(), &options)
    }

    #[test]
    fn the_documented_contact_has_exactly_the_fields_the_reader_knows() {
        let RefOr::T(Schema::Object(schema)) = <JsonContact as utoipa::PartialSchema>::schema()
        else {
            panic!("a contact is an object");
        };
        let documented: Vec<&str> = schema.properties.keys().map(String::as_str).collect();
        assert_eq!(documented, KNOWN_FIELDS);
        assert!(FIELDS.contains("\"attributes\""));
        for field in KNOWN_FIELDS {
            assert!(FIELDS.contains(&format!("\"{field}\"")), "{field}");
        }
    }

    #[test]
    fn contacts_are_read_with_their_attributes() {
        let report = strict(
            r#"[{"phone": "(415) 555-0100", "name": "Ada", "time_zone": "America/Chicago",
                 "id": 7, "attributes": {"plan": "gold", "seats": 3, "vip": true}}]"#,
        )
        .unwrap();
        let contact = &report.contacts[0];
        assert_eq!(contact.row, 0);
        assert_eq!(contact.phone, "+14155550100");
        assert_eq!(contact.id.as_deref(), Some("7"));
        assert_eq!(
            contact.attributes,
            vec![
                ("plan".to_string(), "gold".to_string()),
                ("seats".to_string(), "3".to_string()),
                ("vip".to_string(), "true".to_string()),
            ]
        );
    }

    #[test]
    fn errors_name_the_field_path() {
        let err = strict(
            r#"[{"phone": "+14155550100"}, {"phone": 4155550101}, {"phone": "+14155550102", "tz": "UTC"},
                {"phone": "+14155550103", "attributes": {"tags": ["a"]}}, {"phone": "+14155550100"}]"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("contacts[1].phone: \"phone\" is a number, expected a string"),
            "{text}"
        );
        assert!(
            text.contains("contacts[2].tz: unknown field \"tz\""),
            "{text}"
        );
        assert!(
            text.contains("contacts[3].attributes.tags: the attribute is an array"),
            "{text}"
        );
        assert!(
            text.contains("contacts[4].phone: +14155550100 duplicates contacts[0]"),
            "{text}"
        );
    }

    #[test]
    fn a_document_that_is_not_an_array_is_refused_whole() {
        assert!(matches!(
            strict(r#"{"phone": "+1"}"#),
            Err(ImportError::Shape(_))
        ));
        let err = strict("[{\"phone\": }]").unwrap_err();
        assert!(matches!(err, ImportError::Json { line: 1, .. }), "{err}");
    }

    #[test]
    fn a_missing_phone_is_reported_at_its_path() {
        let err = strict(r#"[{"name": "Ada"}]"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("contacts[0].phone: the phone number is missing"),
            "{err}"
        );
    }
}
