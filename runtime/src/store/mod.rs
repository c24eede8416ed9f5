//! Durable storage behind the `Store` trait.
