//! Contact import: CSV and JSON contacts into validated, normalized rows.
