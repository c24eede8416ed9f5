//! Suppression lists: create and read a workspace's lists, add numbers
//! (JSON, or an upload of CSV or a JSON array), take them off, page
//! through a list, and ask which lists a number is on.
//!
//! Every number goes through the batch importer's E.164 normalization.
//! Entries are checked whole before anything is written, so a refused
//! request writes nothing; the checked entries are then written 10,000 a
//! write.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::body::{StrictJson, StrictPath, StrictQuery, page_limit, read_body};
use super::error::RowProblem;
use super::{ApiError, ApiResult, AppState, Caller, ErrorCode};
use crate::import::{ImportFormat, PHONE_ALIASES, RowError, normalize_phone, parse_country};
use crate::model::schema::{E164, TimeInput};
use crate::model::{
    Millis, NewSuppression, NewSuppressionList, SuppressionEntry, SuppressionHit, SuppressionList,
    list_name_problem,
};
use crate::store::{Store, SuppressionQuery};

/// Entries written to the store at a time.
const WRITE_CHUNK: usize = 10_000;
/// Longest reason of an entry, in characters.
const MAX_REASON: usize = 500;

/// The body of a list create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListBody {
    /// Lowercase letters, digits, "-" and "_", 1 to 64 characters.
    #[schema(example = "litigators", pattern = "^[a-z0-9_-]{1,64}$")]
    name: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// True: a number on the list is never dialed. False: the list only
    /// informs the dial-gate plugin (a consent list, say). Default: true.
    blocks: Option<bool>,
}

/// A workspace's lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListsAnswer {
    /// In name order; `dnc-internal` is always among them.
    lists: Vec<SuppressionList>,
}

/// One number to add, as JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read field by field, for row errors; this is its schema.
pub struct EntryInput {
    /// E.164, or a national number with `default_country`.
    #[schema(example = "+14155550100")]
    phone: String,
    /// From this time on the number is no longer suppressed.
    #[schema(value_type = Option<TimeInput>)]
    expires_at: Option<Value>,
    #[schema(max_length = 500, example = "asked not to be called")]
    reason: Option<String>,
}

/// Numbers to add to a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntriesBody {
    #[schema(value_type = Vec<EntryInput>, min_items = 1)]
    entries: Vec<Value>,
}

/// Options of an add.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PhoneQuery {
    /// ISO 3166 country of numbers written without a country code.
    #[param(example = "US", pattern = "^[A-Za-z]{2}$")]
    default_country: Option<String>,
}

/// What an add did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddAnswer {
    list: String,
    /// Numbers new to the list.
    added: u64,
    /// Numbers the list held already, their entry replaced.
    updated: u64,
}

/// Numbers to take off a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveBody {
    /// E.164, or national numbers with `default_country`.
    #[schema(min_items = 1)]
    phones: Vec<String>,
}

/// What a removal did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemoveAnswer {
    list: String,
    /// Numbers that were on the list and are no longer.
    removed: u64,
}

/// Paging of a list's entries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// A page of a list's entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesPage {
    /// In phone order, expired entries included.
    entries: Vec<SuppressionEntry>,
    /// Where the next page starts; null on the last page.
    next_cursor: Option<String>,
}

/// The lists a number is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneSuppressions {
    #[schema(value_type = E164)]
    phone: String,
    /// Its unexpired entries, in list-name order.
    lists: Vec<SuppressionHit>,
    /// True when one of them blocks: the number is never dialed.
    blocked: bool,
}

fn list_not_found(list: &str) -> ApiError {
    ApiError::new(
        ErrorCode::SuppressionListNotFound,
        format!("suppression list \"{list}\" not found"),
    )
}

/// The list if the caller's workspace has it; 404 otherwise.
fn owned_list(store: &dyn Store, caller: &Caller, list: &str) -> ApiResult<SuppressionList> {
    store
        .suppression_list(&caller.workspace, list)?
        .ok_or_else(|| list_not_found(list))
}

fn country(query: &PhoneQuery) -> ApiResult<Option<phonenumber::country::Id>> {
    query
        .default_country
        .as_deref()
        .map(|code| {
            parse_country(code).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidEntries,
                    format!(
                        "\"default_country\" is \"{code}\", expected an ISO 3166 code like \"US\""
                    ),
                )
            })
        })
        .transpose()
}

/// A number in E.164, or why not, in the words of a batch upload.
fn phone_in_e164(raw: &str, country: Option<phonenumber::country::Id>) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err("the phone number is missing, expected a number in every row".to_string());
    }
    normalize_phone(raw, country).map_err(|why| {
        let expected = if country.is_some() {
            "expected a number in the default country or with a \"+\" country code"
        } else {
            "expected an international number like \"+14155550100\""
        };
        format!("{why}, {expected}")
    })
}

/// Checks one entry's fields, each bad one reported as `bad(field, value,
/// reason)`.
fn checked_entry(
    phone: Option<&str>,
    expires_at: Option<Result<Millis, String>>,
    reason: Option<&str>,
    country: Option<phonenumber::country::Id>,
    bad: &mut dyn FnMut(&str, Option<&str>, String),
) -> Option<NewSuppression> {
    let phone = match phone_in_e164(phone.unwrap_or_default(), country) {
        Ok(phone) => Some(phone),
        Err(why) => {
            bad("phone", phone, why);
            None
        }
    };
    let expires_at = match expires_at.transpose() {
        Ok(at) => Some(at),
        Err(why) => {
            bad("expires_at", None, why);
            None
        }
    };
    let reason = reason.map(str::trim).filter(|text| !text.is_empty());
    if let Some(text) = reason
        && text.chars().count() > MAX_REASON
    {
        bad(
            "reason",
            None,
            format!("the reason is longer than {MAX_REASON} characters"),
        );
        return None;
    }
    Some(NewSuppression {
        phone: phone?,
        expires_at: expires_at?,
        reason: reason.map(str::to_string),
    })
}

/// The entries of a JSON array, each checked; a bad one is reported at
/// `{path}[{index}].{field}`.
fn json_entries(
    items: &[Value],
    path: &str,
    country: Option<phonenumber::country::Id>,
) -> Result<Vec<NewSuppression>, Vec<RowError>> {
    let mut problems = Vec::new();
    let mut entries = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let mut bad = |field: &str, value: Option<&str>, reason: String| {
            problems.push(RowError {
                row: index,
                field: Some(format!("{path}[{index}].{field}")),
                value: value.map(str::to_string),
                reason,
                format: ImportFormat::Json,
            });
        };
        let Some(object) = item.as_object() else {
            problems.push(RowError {
                row: index,
                field: Some(format!("{path}[{index}]")),
                value: None,
                reason: "expected an object with \"phone\"".to_string(),
                format: ImportFormat::Json,
            });
            continue;
        };
        if let Some(unknown) = object
            .keys()
            .find(|key| !["phone", "expires_at", "reason"].contains(&key.as_str()))
        {
            bad(
                unknown,
                None,
                format!("unknown field \"{unknown}\", expected phone, expires_at or reason"),
            );
            continue;
        }
        let text = |field: &str| object.get(field).and_then(Value::as_str);
        let expires_at = object
            .get("expires_at")
            .filter(|value| !value.is_null())
            .map(|value| {
                super::body::parse_time("expires_at", value).map_err(|error| error.message)
            });
        if let Some(entry) =
            checked_entry(text("phone"), expires_at, text("reason"), country, &mut bad)
        {
            entries.push(entry);
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// The entries of a CSV with a header row: a phone column (named as a
/// batch upload's), optional `expires_at` and `reason`; other columns are
/// ignored. Rows are numbered as a spreadsheet shows them.
fn csv_entries(
    bytes: &[u8],
    country: Option<phonenumber::country::Id>,
    max_rows: usize,
) -> ApiResult<Result<Vec<NewSuppression>, Vec<RowError>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let malformed = |row: usize, error: csv::Error| {
        ApiError::new(ErrorCode::InvalidEntries, format!("row {row}: {error}"))
    };
    let header = match records.next() {
        Some(record) => record.map_err(|error| malformed(1, error))?,
        None => {
            return Err(ApiError::new(
                ErrorCode::InvalidEntries,
                "the file is empty, expected a header row and numbers",
            ));
        }
    };
    let names: Vec<String> = header
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').trim().to_lowercase())
        .collect();
    let column = |aliases: &[&str]| {
        names
            .iter()
            .position(|name| aliases.contains(&name.as_str()))
    };
    let Some(phone_at) = column(PHONE_ALIASES) else {
        return Err(ApiError::new(
            ErrorCode::InvalidEntries,
            format!(
                "the file has no phone column, expected a header named \"phone\" (found {})",
                names
                    .iter()
                    .map(|name| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let expires_at = column(&["expires_at"]);
    let reason_at = column(&["reason"]);
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for (index, record) in records.enumerate() {
        let row = index + 2;
        if index >= max_rows {
            return Err(ApiError::new(
                ErrorCode::InvalidEntries,
                format!(
                    "the file has more than {max_rows} numbers, expected at most {max_rows}: split it"
                ),
            ));
        }
        let record = record.map_err(|error| malformed(row, error))?;
        let cell = |at: Option<usize>| at.and_then(|at| record.get(at)).map(str::trim);
        let mut bad = |field: &str, value: Option<&str>, reason: String| {
            let field = match field {
                "phone" => names[phone_at].clone(),
                other => other.to_string(),
            };
            problems.push(RowError {
                row,
                field: Some(field),
                value: value.map(str::to_string),
                reason,
                format: ImportFormat::Csv,
            });
        };
        let expires = cell(expires_at)
            .filter(|text| !text.is_empty())
            .map(|text| {
                super::body::parse_time_text("expires_at", text).map_err(|error| error.message)
            });
        if let Some(entry) = checked_entry(
            cell(Some(phone_at)),
            expires,
            cell(reason_at),
            country,
            &mut bad,
        ) {
            entries.push(entry);
        }
    }
    Ok(if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    })
}

/// The answer to entries that did not all pass: nothing was written.
fn refused(problems: Vec<RowError>) -> ApiError {
    let count = problems.len();
    let mut error = ApiError::new(
        ErrorCode::InvalidEntries,
        format!(
            "{count} {} invalid, nothing was written",
            if count == 1 {
                "entry is"
            } else {
                "entries are"
            }
        ),
    );
    error.rows = problems.iter().map(RowProblem::from).collect();
    error
}

/// Writes checked entries to `list`, a write per [`WRITE_CHUNK`].
async fn write_entries(
    state: &AppState,
    caller: Caller,
    list: String,
    entries: Vec<NewSuppression>,
) -> ApiResult<Json<AddAnswer>> {
    if entries.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidEntries,
            "no entries, expected at least one number",
        ));
    }
    let now = state.inner.clock.now();
    state
        .blocking(move |store| {
            owned_list(store, &caller, &list)?;
            let mut answer = AddAnswer {
                list: list.clone(),
                added: 0,
                updated: 0,
            };
            for chunk in crate::store::in_chunks(entries, WRITE_CHUNK) {
                let written =
                    store.add_suppressions(&caller.workspace, &list, chunk, &caller.actor(), now)?;
                answer.added += written.added;
                answer.updated += written.updated;
            }
            tracing::info!(workspace = %caller.workspace, list = %list, added = answer.added, updated = answer.updated, "suppressions added");
            Ok(answer)
        })
        .await
        .map(Json)
}

#[utoipa::path(
    post,
    path = "/v1/suppression-lists",
    operation_id = "create_suppression_list",
    tag = "suppression",
    summary = "Creates a suppression list of the workspace",
    request_body(content = CreateListBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The list was created", body = SuppressionList),
        (status = 409, description = "The workspace has a list of that name", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    StrictJson(body): StrictJson<CreateListBody>,
) -> ApiResult<(StatusCode, Json<SuppressionList>)> {
    if let Some(problem) = list_name_problem(&body.name) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"name\": {problem}"),
        ));
    }
    if body
        .description
        .as_ref()
        .is_some_and(|text| text.chars().count() > 500)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "\"description\" is longer than 500 characters",
        ));
    }
    let now = state.inner.clock.now();
    let new = NewSuppressionList {
        name: body.name,
        description: body.description,
        blocks: body.blocks.unwrap_or(true),
    };
    let list = state
        .blocking(move |store| Ok(store.create_suppression_list(&caller.workspace, new, now)?))
        .await?;
    tracing::info!(workspace = %list.workspace, list = %list.name, blocks = list.blocks, "suppression list created");
    Ok((StatusCode::CREATED, Json(list)))
}

#[utoipa::path(
    get,
    path = "/v1/suppression-lists",
    operation_id = "list_suppression_lists",
    tag = "suppression",
    summary = "The workspace's suppression lists, dnc-internal always among them",
    responses((status = 200, description = "Every list, in name order", body = ListsAnswer)),
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ListsAnswer>> {
    state
        .blocking(move |store| {
            Ok(ListsAnswer {
                lists: store.suppression_lists(&caller.workspace)?,
            })
        })
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/v1/suppression-lists/{list}",
    operation_id = "get_suppression_list",
    tag = "suppression",
    summary = "One suppression list with its entry count",
    params(("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\"")),
    responses(
        (status = 200, description = "The list", body = SuppressionList),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(list): StrictPath<String>,
) -> ApiResult<Json<SuppressionList>> {
    state
        .blocking(move |store| owned_list(store, &caller, &list))
        .await
        .map(Json)
}

#[utoipa::path(
    post,
    path = "/v1/suppression-lists/{list}/entries",
    operation_id = "add_suppressions",
    tag = "suppression",
    summary = "Adds numbers to a list; a number already on it is updated",
    params(("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\""), PhoneQuery),
    request_body(content = EntriesBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The numbers were added", body = AddAnswer),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
        (status = 422, description = "Entries refused, nothing written: the rows say which and why", body = ErrorBody),
    ),
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(list): StrictPath<String>,
    StrictQuery(query): StrictQuery<PhoneQuery>,
    StrictJson(body): StrictJson<EntriesBody>,
) -> ApiResult<Json<AddAnswer>> {
    let country = country(&query)?;
    let entries = json_entries(&body.entries, "entries", country).map_err(refused)?;
    write_entries(&state, caller, list, entries).await
}

#[utoipa::path(
    post,
    path = "/v1/suppression-lists/{list}/entries/upload",
    operation_id = "upload_suppressions",
    tag = "suppression",
    summary = "Adds the numbers of a CSV file (or a JSON array) to a list; a file with a bad row writes nothing",
    params(("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\""), PhoneQuery),
    request_body(content(
        (Vec<EntryInput> = "application/json"),
        (super::schema::SuppressionCsv = "text/csv"),
    )),
    responses(
        (status = 200, description = "The numbers were added", body = AddAnswer),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
        (status = 413, description = "The upload is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Neither JSON nor CSV", body = ErrorBody),
        (status = 422, description = "Rows refused, nothing written: the rows say which and why", body = ErrorBody),
    ),
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(list): StrictPath<String>,
    StrictQuery(query): StrictQuery<PhoneQuery>,
    request: Request,
) -> ApiResult<Json<AddAnswer>> {
    let country = country(&query)?;
    let kind = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("text/csv")
        .to_string();
    let bytes = read_body(request, &state).await?;
    let max_rows = state.inner.settings.max_contacts_per_batch;
    let entries = tokio::task::spawn_blocking(move || {
        if kind.starts_with("text/csv") {
            csv_entries(&bytes, country, max_rows)
        } else if kind.starts_with("application/json") {
            let items: Vec<Value> = serde_json::from_slice(&bytes).map_err(|error| {
                ApiError::new(
                    ErrorCode::InvalidBody,
                    format!("invalid JSON body: {error}, expected an array of entries"),
                )
            })?;
            if items.len() > max_rows {
                return Err(ApiError::new(
                    ErrorCode::InvalidEntries,
                    format!("the upload has more than {max_rows} numbers, expected at most {max_rows}: split it"),
                ));
            }
            Ok(json_entries(&items, "", country))
        } else {
            Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("content type \"{kind}\", expected \"text/csv\" or \"application/json\""),
            ))
        }
    })
    .await
    .map_err(ApiError::internal)??
    .map_err(refused)?;
    write_entries(&state, caller, list, entries).await
}

/// A number named in the path, as E.164.
fn path_phone(raw: &str, country: Option<phonenumber::country::Id>) -> ApiResult<String> {
    phone_in_e164(raw, country)
        .map_err(|why| ApiError::new(ErrorCode::InvalidEntries, format!("\"phone\": {why}")))
}

/// Numbers as E.164; any bad one refuses the request, each reported.
fn removal_phones(
    phones: &[String],
    country: Option<phonenumber::country::Id>,
) -> ApiResult<Vec<String>> {
    let mut problems = Vec::new();
    let mut found = Vec::with_capacity(phones.len());
    for (index, raw) in phones.iter().enumerate() {
        match phone_in_e164(raw, country) {
            Ok(phone) => found.push(phone),
            Err(reason) => problems.push(RowError {
                row: index,
                field: Some(format!("phones[{index}]")),
                value: Some(raw.clone()),
                reason,
                format: ImportFormat::Json,
            }),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(refused(problems))
    }
}

async fn remove_phones(
    state: &AppState,
    caller: Caller,
    list: String,
    phones: Vec<String>,
) -> ApiResult<Json<RemoveAnswer>> {
    let now = state.inner.clock.now();
    state
        .blocking(move |store| {
            owned_list(store, &caller, &list)?;
            let mut removed = 0;
            for chunk in crate::store::in_chunks(phones, WRITE_CHUNK) {
                removed += store.remove_suppressions(&caller.workspace, &list, chunk, now)?;
            }
            tracing::info!(workspace = %caller.workspace, list = %list, removed, "suppressions removed");
            Ok(RemoveAnswer { list, removed })
        })
        .await
        .map(Json)
}

#[utoipa::path(
    delete,
    path = "/v1/suppression-lists/{list}/entries/{phone}",
    operation_id = "remove_suppression",
    tag = "suppression",
    summary = "Takes one number off a list",
    params(
        ("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\""),
        ("phone" = String, Path, description = "The number, e.g. \"+14155550100\""),
        PhoneQuery,
    ),
    responses(
        (status = 200, description = "Whether the number was on the list", body = RemoveAnswer),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
        (status = 422, description = "Not a phone number, or an unknown default country", body = ErrorBody),
    ),
)]
pub async fn remove_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath((list, phone)): StrictPath<(String, String)>,
    StrictQuery(query): StrictQuery<PhoneQuery>,
) -> ApiResult<Json<RemoveAnswer>> {
    let phone = path_phone(&phone, country(&query)?)?;
    remove_phones(&state, caller, list, vec![phone]).await
}

#[utoipa::path(
    post,
    path = "/v1/suppression-lists/{list}/entries/remove",
    operation_id = "remove_suppressions",
    tag = "suppression",
    summary = "Takes numbers off a list",
    params(("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\""), PhoneQuery),
    request_body(content = RemoveBody, content_type = "application/json"),
    responses(
        (status = 200, description = "How many numbers were on the list", body = RemoveAnswer),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
        (status = 422, description = "Numbers refused, nothing removed: the rows say which and why", body = ErrorBody),
    ),
)]
pub async fn remove_many(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(list): StrictPath<String>,
    StrictQuery(query): StrictQuery<PhoneQuery>,
    StrictJson(body): StrictJson<RemoveBody>,
) -> ApiResult<Json<RemoveAnswer>> {
    if body.phones.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidEntries,
            "\"phones\" is empty, expected at least one number",
        ));
    }
    let phones = removal_phones(&body.phones, country(&query)?)?;
    remove_phones(&state, caller, list, phones).await
}

#[utoipa::path(
    get,
    path = "/v1/suppression-lists/{list}/entries",
    operation_id = "list_suppressions",
    tag = "suppression",
    summary = "A page of a list's entries, in phone order",
    params(("list" = String, Path, description = "The list's name, e.g. \"dnc-internal\""), EntriesQuery),
    responses(
        (status = 200, description = "A page of entries", body = EntriesPage),
        (status = 404, description = "No such list in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(list): StrictPath<String>,
    StrictQuery(query): StrictQuery<EntriesQuery>,
) -> ApiResult<Json<EntriesPage>> {
    let limit = page_limit(query.limit)?;
    state
        .blocking(move |store| {
            owned_list(store, &caller, &list)?;
            let page = store.suppression_entries(&SuppressionQuery {
                workspace: caller.workspace.clone(),
                list,
                cursor: query.cursor,
                limit,
            })?;
            Ok(EntriesPage {
                entries: page.items,
                next_cursor: page.next_cursor,
            })
        })
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/v1/suppressions/{phone}",
    operation_id = "check_suppression",
    tag = "suppression",
    summary = "The lists a number is on now, and whether it is blocked",
    params(("phone" = String, Path, description = "The number, e.g. \"+14155550100\""), PhoneQuery),
    responses(
        (status = 200, description = "The number's unexpired entries", body = PhoneSuppressions),
        (status = 422, description = "Not a phone number, or an unknown default country", body = ErrorBody),
    ),
)]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(phone): StrictPath<String>,
    StrictQuery(query): StrictQuery<PhoneQuery>,
) -> ApiResult<Json<PhoneSuppressions>> {
    let phone = path_phone(&phone, country(&query)?)?;
    let now = state.inner.clock.now();
    state
        .blocking(move |store| {
            let lists = store
                .suppressions_of(&caller.workspace, std::slice::from_ref(&phone), now)?
                .remove(0);
            Ok(PhoneSuppressions {
                blocked: lists.iter().any(|hit| hit.blocks),
                phone,
                lists,
            })
        })
        .await
        .map(Json)
}
