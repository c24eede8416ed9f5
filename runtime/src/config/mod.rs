//! Runtime configuration files: parsing, validation with exact locations.
