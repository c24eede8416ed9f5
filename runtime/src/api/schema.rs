//! Schemas of the CSV bodies, which no Rust type describes: operations
//! name them as their body. The wire forms of times and numbers are in
//! `model::schema`.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::model::EventKind;

/// A contact upload as CSV.
pub struct CsvUpload;

impl PartialSchema for CsvUpload {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A header row naming the columns, then one contact a row. \"phone\" is required; \"name\", \"time_zone\" and \"id\" are read as such, and every other column becomes an attribute.",
            ))
            .examples([json!(
                "phone,name,id,plan\n+12125550101,Ada,c-1,pro\n(212) 555-0102,Grace,c-2,basic\n"
            )])
            .into()
    }
}

impl ToSchema for CsvUpload {}

/// Numbers to add to a suppression list, as CSV.
pub struct SuppressionCsv;

impl PartialSchema for SuppressionCsv {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A header row naming the columns, then one number a row. \"phone\" is required (or \"phone_number\", \"number\", \"to\"); \"expires_at\" (RFC 3339 or epoch milliseconds) and \"reason\" are optional; other columns are ignored.",
            ))
            .examples([json!(
                "phone,expires_at,reason\n+12125550101,,asked not to be called\n(212) 555-0102,2026-12-31T00:00:00Z,complaint\n"
            )])
            .into()
    }
}

impl ToSchema for SuppressionCsv {}

/// A batch export as CSV.
pub struct ExportCsv;

impl PartialSchema for ExportCsv {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "A header row ({}), then one row per contact",
                super::batches::EXPORT_HEADER.join(",")
            )))
            .into()
    }
}

impl ToSchema for ExportCsv {}

/// A batch's attempts as CSV.
pub struct AttemptsCsv;

impl PartialSchema for AttemptsCsv {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "A header row ({}), then one row per attempt; times are RFC 3339 in UTC",
                super::reports::ATTEMPTS_HEADER.join(",")
            )))
            .into()
    }
}

impl ToSchema for AttemptsCsv {}

/// One event of a batch's event stream, as the stream's fields carry it.
pub struct StreamEvent;

impl PartialSchema for StreamEvent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "event",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "A journal event's kind (\"batch.paused\", \"call.ended\", ...); \"progress\"; \"end\" once the batch is final and no call is live, after which the stream closes; \"error\" when the stream cannot go on",
                    ))
                    .enum_values(Some(
                        EventKind::ALL
                            .iter()
                            .map(|kind| kind.as_str())
                            .chain(["progress", "end", "error"]),
                    ))
                    .examples([json!("progress")]),
            )
            .required("event")
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "For a journal event, the event as JSON; for \"progress\", the batch's progress as JSON, as GET .../status answers it; for \"end\", the batch's final status (\"completed\"); for \"error\", what went wrong",
                    )),
            )
            .required("data")
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^evt_[0-9a-f]+$"))
                    .description(Some("A journal event's id, to resume after with Last-Event-ID")),
            )
            .description(Some(
                "A server-sent event; keep-alive comments carry no event",
            ))
            .into()
    }
}

impl ToSchema for StreamEvent {}
