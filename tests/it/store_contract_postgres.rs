//! The store conformance suite against PostgreSQL: each case on a fresh
//! database of its own; skipped, saying why, where there is no server.

outdial_tests::store_contract_tests!(outdial_tests::postgres_backend_or_skip!());
