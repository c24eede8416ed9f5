//! `/healthz` and Prometheus metrics at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ErrorBody;
use super::{ApiError, ApiResult, AppState, ErrorCode};
use crate::model::{ContactStatus, Counters};

/// Counts kept by the API process itself.
#[derive(Default)]
pub(super) struct Metrics {
    /// Requests by (method, route, status).
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    pub webhook_delivered: AtomicU64,
    pub webhook_failed: AtomicU64,
}

/// Counts every routed request by its route pattern, not its concrete
/// path, so ids never become label values.
pub(super) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if let Ok(mut requests) = state.inner.metrics.requests.lock() {
        *requests.entry((method, route, status)).or_default() += 1;
    }
    response
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    summary = "Liveness and store health",
    security(()),
    responses(
        (status = 200, description = "The store answers", body = String, content_type = "text/plain", example = "ok\n"),
        (status = 503, description = "The store cannot be read", body = ErrorBody),
    ),
)]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<&'static str> {
    state
        .blocking(|store| {
            store.journal_head().map_err(|error| {
                ApiError::new(
                    ErrorCode::Unhealthy,
                    format!("the store cannot be read: {error}"),
                )
            })
        })
        .await?;
    Ok("ok\n")
}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Public by default; with `[server] metrics = \"key\"` it takes the metrics key as a bearer token, and no API key opens it.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "The metrics key is required and was not given", body = ErrorBody),
    ),
)]
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let settings = &state.inner.settings.metrics;
    if let Some(expected) = &settings.key_sha256 {
        check_metrics_key(&headers, expected)?;
    }
    let labels = settings.labels;
    let campaigns: Vec<(String, String)> = state.inner.campaigns.keys().cloned().collect();
    let snapshot = state
        .blocking(move |store| {
            // Campaigns whose labels are alike are summed into one series.
            let mut counters: BTreeMap<Vec<String>, Counters> = BTreeMap::new();
            for (workspace, campaign) in campaigns {
                let found = store.campaign_counters(&workspace, &campaign)?;
                let mut identity = Vec::new();
                if labels.workspace {
                    identity.push(format!("workspace=\"{workspace}\""));
                }
                if labels.campaign {
                    identity.push(format!("campaign=\"{campaign}\""));
                }
                add_counters(counters.entry(identity).or_default(), &found);
            }
            let open = store.open_batches()?;
            Ok((counters, open, store.journal_head()?))
        })
        .await?;
    let (counters, open, journal_head) = snapshot;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP outdial_http_requests_total HTTP requests answered, by route pattern and status."
    );
    let _ = writeln!(out, "# TYPE outdial_http_requests_total counter");
    if let Ok(requests) = state.inner.metrics.requests.lock() {
        for ((method, route, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "outdial_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP outdial_contacts Contacts per campaign and status."
    );
    let _ = writeln!(out, "# TYPE outdial_contacts gauge");
    for (identity, found) in &counters {
        for status in ContactStatus::ALL {
            let mut series = identity.clone();
            series.push(format!("status=\"{status}\""));
            let _ = writeln!(
                out,
                "outdial_contacts{} {}",
                label_set(&series),
                found.status(status)
            );
        }
    }
    for (name, help, read) in [
        (
            "outdial_attempts_total",
            "Dial attempts.",
            (|c: &Counters| c.attempts) as fn(&Counters) -> u64,
        ),
        ("outdial_answered_total", "Answered attempts.", |c| {
            c.answered
        }),
        (
            "outdial_plugin_faults_total",
            "Attempts on which a policy plugin faulted.",
            |c| c.plugin_faults,
        ),
        ("outdial_talk_seconds_total", "Talk time.", |c| {
            c.talk_ms / 1_000
        }),
        (
            "outdial_cost_micros_total",
            "Call cost in millionths.",
            |c| c.cost_micros,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (identity, found) in &counters {
            let _ = writeln!(out, "{name}{} {}", label_set(identity), read(found));
        }
    }
    let _ = writeln!(out, "# HELP outdial_open_batches Batches not final yet.");
    let _ = writeln!(out, "# TYPE outdial_open_batches gauge");
    let _ = writeln!(out, "outdial_open_batches {}", open.len());
    let _ = writeln!(
        out,
        "# HELP outdial_journal_head Sequence number of the newest journaled change."
    );
    let _ = writeln!(out, "# TYPE outdial_journal_head gauge");
    let _ = writeln!(out, "outdial_journal_head {journal_head}");
    let metrics = &state.inner.metrics;
    let _ = writeln!(
        out,
        "# HELP outdial_webhook_deliveries_total Webhook delivery tries, by result."
    );
    let _ = writeln!(out, "# TYPE outdial_webhook_deliveries_total counter");
    let _ = writeln!(
        out,
        "outdial_webhook_deliveries_total{{result=\"delivered\"}} {}",
        metrics.webhook_delivered.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "outdial_webhook_deliveries_total{{result=\"failed\"}} {}",
        metrics.webhook_failed.load(Ordering::Relaxed)
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

/// Refuses a scrape that does not present the metrics key as a bearer
/// token. Only the metrics key is looked at: API keys do not open
/// `/metrics`. Digests are compared in constant time, so the answer's
/// timing tells nothing about the key.
fn check_metrics_key(headers: &axum::http::HeaderMap, expected: &[u8; 32]) -> ApiResult<()> {
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "/metrics needs the metrics key, expected an \"Authorization: Bearer <key>\" header",
        )
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the authorization header is not valid text"))?;
    // The scheme is case-insensitive (RFC 9110).
    let key = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "the authorization header is not a bearer token, expected \"Bearer <key>\"",
            )
        })?;
    let digest: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    if bool::from(digest.ct_eq(expected)) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("the metrics key is not valid"))
    }
}

/// Adds the counts `/metrics` shows of one campaign to `sum`.
fn add_counters(sum: &mut Counters, campaign: &Counters) {
    for (total, count) in sum.by_status.iter_mut().zip(campaign.by_status) {
        *total += count;
    }
    sum.attempts += campaign.attempts;
    sum.answered += campaign.answered;
    sum.plugin_faults += campaign.plugin_faults;
    sum.talk_ms += campaign.talk_ms;
    sum.cost_micros += campaign.cost_micros;
}

/// `{a="x",b="y"}`, or nothing for a series without labels.
fn label_set(labels: &[String]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", labels.join(","))
    }
}
