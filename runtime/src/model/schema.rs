//! Schemas of values whose Rust type does not say what the wire carries:
//! a time as epoch milliseconds (an `i64` alias), a time a request may
//! give in two forms, and E.164 numbers. Fields name them with
//! `#[schema(value_type = ...)]`.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// A time as milliseconds since the Unix epoch, UTC.
pub struct EpochMillis;

impl PartialSchema for EpochMillis {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("Milliseconds since the Unix epoch, UTC"))
            .examples([json!(1_750_000_000_000_i64)])
            .into()
    }
}

impl ToSchema for EpochMillis {}

/// A time a request gives as RFC 3339 text or as epoch milliseconds.
pub struct TimeInput;

impl PartialSchema for TimeInput {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    .examples([json!("2025-03-01T09:00:00Z")]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(999_999_999_999_999_i64))
                    .examples([json!(1_750_000_000_000_i64)]),
            )
            .description(Some(
                "An RFC 3339 time or milliseconds since the Unix epoch",
            ))
            .into()
    }
}

impl ToSchema for TimeInput {}

/// The pattern of an E.164 number: "+", a country code, at most 15 digits.
pub const E164_PATTERN: &str = "^\\+[1-9][0-9]{6,14}$";

/// A phone number in E.164 form, as outdial stores every number.
pub struct E164;

impl PartialSchema for E164 {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(E164_PATTERN))
            .description(Some("A phone number in E.164 form"))
            .examples([json!("+12125550101")])
            .into()
    }
}

impl ToSchema for E164 {}
