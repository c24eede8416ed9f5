//! Phone numbers: written to E.164 with a default country, and the time
//! zone a number puts its owner in. Used by the importer, the store and
//! the dispatcher alike, so it depends on none of them.

mod number;
mod zone;

pub use number::{PhoneError, is_e164, normalize_phone, parse_country};
pub use zone::{infer_from_phone, resolve_time_zone};
