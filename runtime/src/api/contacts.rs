//! A batch's contacts: the tasks table, the debug view, skipping one.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::batches::owned_batch;
use super::body::{StrictJson, StrictPath, StrictQuery, page_limit};
use super::{ApiError, ApiResult, AppState, Caller, ErrorCode};
use crate::model::{Attempt, Blocker, CallStatus, ContactStatus, Millis};
use crate::reporting::progress::effective_blocker;
use crate::store::{BatchRecord, ContactEvent, ContactQuery, ContactRecord};

/// A contact and why it waits, if it does.
#[derive(Serialize, ToSchema)]
pub struct ContactView {
    #[serde(flatten)]
    contact: ContactRecord,
    /// The blocker as the operator sees it, the batch's own state first.
    effective_blocker: Option<Blocker>,
    #[serde(flatten)]
    limits: DialLimits,
}

/// The limits a batch's contacts are dialed to, beside `attempts_made`
/// and `followups_made`: "3/3 attempts + 1/1 follow-up". Null when the
/// batch's campaign is no longer in the config.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub(super) struct DialLimits {
    /// Attempts the contact may be dialed, follow-ups aside.
    pub(super) max_attempts: Option<u32>,
    /// Follow-ups the person may ask for past `max_attempts`.
    pub(super) max_followups: Option<u32>,
}

impl DialLimits {
    pub(super) fn of(state: &AppState, caller: &Caller, batch: &BatchRecord) -> DialLimits {
        let spec = state.campaign(caller, &batch.campaign_id).ok();
        DialLimits {
            max_attempts: spec
                .map(|spec| batch.max_attempts_under(spec))
                .or(batch.max_attempts),
            max_followups: spec
                .map(|spec| batch.max_followups_under(spec))
                .or(batch.max_followups),
        }
    }
}

/// Filters and paging of a batch's contacts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only contacts with this status.
    status: Option<ContactStatus>,
    /// Only waiting contacts held by this blocker.
    blocker: Option<Blocker>,
    /// Only contacts whose last disposition is this label.
    #[param(example = "interested")]
    disposition: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    cursor: Option<String>,
    /// Page size: 1 to 1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// A page of contacts.
#[derive(Serialize, ToSchema)]
pub struct ContactPage {
    contacts: Vec<ContactView>,
    /// Where the next page starts; null on the last page.
    next_cursor: Option<String>,
}

/// Most contacts looked at for one filtered page; the page then ends early
/// with a cursor to go on from.
const MAX_SCAN: usize = 20_000;

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/contacts",
    operation_id = "list_contacts",
    tag = "contacts",
    summary = "The batch's contacts in upload order, filtered",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\""), ListQuery),
    responses(
        (status = 200, description = "A page of contacts", body = ContactPage),
        (status = 404, description = "No such batch in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(batch_id): StrictPath<String>,
    StrictQuery(query): StrictQuery<ListQuery>,
) -> ApiResult<Json<ContactPage>> {
    let limit = page_limit(query.limit)?;
    let now = state.inner.clock.now();
    let app = state.clone();
    state
        .blocking(move |store| {
            let batch = owned_batch(store, &caller, &batch_id)?;
            let limits = DialLimits::of(&app, &caller, &batch);
            let filtering = query.blocker.is_some() || query.disposition.is_some();
            let mut contacts = Vec::new();
            let mut cursor = query.cursor.clone();
            let mut scanned = 0;
            'pages: loop {
                let page = store.list_contacts(&ContactQuery {
                    batch_id: batch.id.clone(),
                    status: query.status,
                    cursor: cursor.clone(),
                    limit: if filtering { 500 } else { limit },
                })?;
                let last_page = page.next_cursor.is_none();
                for contact in page.items {
                    scanned += 1;
                    cursor = Some(contact.seq.to_string());
                    let blocker = effective_blocker(&batch, &contact, now);
                    let wanted = query.blocker.is_none_or(|b| blocker == Some(b))
                        && query
                            .disposition
                            .as_deref()
                            .is_none_or(|d| contact.last_disposition.as_deref() == Some(d));
                    if wanted {
                        contacts.push(ContactView {
                            contact,
                            effective_blocker: blocker,
                            limits,
                        });
                        if contacts.len() == limit {
                            break 'pages;
                        }
                    }
                }
                if last_page {
                    cursor = None;
                    break;
                }
                if scanned >= MAX_SCAN {
                    break;
                }
            }
            Ok(ContactPage {
                contacts,
                next_cursor: cursor,
            })
        })
        .await
        .map(Json)
}

/// A contact with every attempt and its event log.
#[derive(Serialize, ToSchema)]
pub struct ContactDetailView {
    #[serde(flatten)]
    contact: ContactView,
    attempts: Vec<AttemptView>,
    /// The next planned dial of a waiting contact; null otherwise.
    next_call: Option<NextCall>,
    events: Vec<ContactEvent>,
}

/// An attempt with its call status.
#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    #[serde(flatten)]
    attempt: Attempt,
    call_status: CallStatus,
}

impl From<Attempt> for AttemptView {
    fn from(attempt: Attempt) -> Self {
        AttemptView {
            call_status: CallStatus::of(&attempt),
            attempt,
        }
    }
}

/// A waiting contact's next dial: a call that is planned, not yet made.
#[derive(Serialize, ToSchema)]
pub struct NextCall {
    call_status: ScheduledCallStatus,
    /// When the contact may be dialed next.
    #[schema(value_type = crate::model::schema::EpochMillis)]
    at: Millis,
}

impl NextCall {
    fn of(contact: &ContactRecord) -> Option<NextCall> {
        if !contact.status.is_waiting() {
            return None;
        }
        contact.next_eligible_at.map(|at| NextCall {
            call_status: ScheduledCallStatus::Scheduled,
            at,
        })
    }
}

/// The call status of a planned call: [`CallStatus::Scheduled`], alone,
/// so the document says a planned call is never anything else.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduledCallStatus {
    Scheduled,
}

fn contact_not_found(batch_id: &str, seq: u64) -> ApiError {
    ApiError::new(
        ErrorCode::ContactNotFound,
        format!("contact {seq} of batch \"{batch_id}\" not found"),
    )
}

#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}/contacts/{seq}",
    operation_id = "get_contact",
    tag = "contacts",
    summary = "One contact with its attempts and event log",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\""), ("seq" = u64, Path, description = "The contact's place in the upload, from 0")),
    responses(
        (status = 200, description = "The contact", body = ContactDetailView),
        (status = 404, description = "No such batch or contact", body = ErrorBody),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath((batch_id, seq)): StrictPath<(String, u64)>,
) -> ApiResult<Json<ContactDetailView>> {
    let now = state.inner.clock.now();
    let app = state.clone();
    state
        .blocking(move |store| {
            let batch = owned_batch(store, &caller, &batch_id)?;
            let limits = DialLimits::of(&app, &caller, &batch);
            let detail = store
                .contact_detail(&batch.id, seq)?
                .ok_or_else(|| contact_not_found(&batch_id, seq))?;
            let next_call = NextCall::of(&detail.contact);
            Ok(ContactDetailView {
                contact: ContactView {
                    effective_blocker: effective_blocker(&batch, &detail.contact, now),
                    contact: detail.contact,
                    limits,
                },
                next_call,
                attempts: detail.attempts.into_iter().map(AttemptView::from).collect(),
                events: detail.events,
            })
        })
        .await
        .map(Json)
}

/// The body of a skip.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// Why, recorded as the contact's final reason.
    #[schema(max_length = 500, example = "asked not to be called")]
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/contacts/{seq}/skip",
    operation_id = "skip_contact",
    tag = "contacts",
    summary = "Takes a waiting contact out",
    params(("batch_id" = String, Path, description = "The batch, e.g. \"btc_3f2a9c0d1e4b5a67\""), ("seq" = u64, Path, description = "The contact's place in the upload, from 0")),
    request_body(content = Option<SkipBody>, content_type = "application/json", description = "Optional; an empty body is no reason"),
    responses(
        (status = 200, description = "The contact, skipped", body = ContactView),
        (status = 404, description = "No such batch or contact", body = ErrorBody),
        (status = 409, description = "The contact is not waiting", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn skip(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath((batch_id, seq)): StrictPath<(String, u64)>,
    StrictJson(body): StrictJson<SkipBody>,
) -> ApiResult<Json<ContactView>> {
    let now = state.inner.clock.now();
    let reason = match body.reason.as_deref().map(str::trim) {
        Some(note) if note.chars().count() > 500 => {
            return Err(ApiError::new(
                ErrorCode::InvalidBody,
                "\"reason\" is longer than 500 characters",
            ));
        }
        Some(note) if !note.is_empty() => format!("operator_skipped: {note}"),
        _ => "operator_skipped".to_string(),
    };
    let app = state.clone();
    state
        .blocking(move |store| {
            let batch = owned_batch(store, &caller, &batch_id)?;
            let limits = DialLimits::of(&app, &caller, &batch);
            let contact = store
                .contact(&batch.id, seq)?
                .ok_or_else(|| contact_not_found(&batch_id, seq))?;
            if contact.status == ContactStatus::Skipped {
                return Ok(ContactView {
                    contact,
                    effective_blocker: None,
                    limits,
                });
            }
            if !contact.status.is_waiting() {
                return Err(ApiError::new(ErrorCode::IllegalTransition,
                    format!(
                        "contact {seq} of batch \"{batch_id}\" is {}, only a waiting contact can be skipped",
                        contact.status
                    ),
                ));
            }
            let contact = store.skip_contact(&batch.id, seq, &reason, now)?;
            Ok(ContactView {
                contact,
                effective_blocker: None,
                limits,
            })
        })
        .await
        .map(Json)
}
