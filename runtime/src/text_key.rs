//! Remembering many strings by a 128-bit hash of each instead of the
//! string: a million attempt ids, phone numbers or contact ids cost 16
//! bytes apiece. Two of n texts share a key with probability about
//! n²/2¹²⁹, which no import or run comes near.

use std::hash::{BuildHasher, RandomState};

/// A text as a [`TextKeys`] remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextKey([u64; 2]);

/// Turns texts into [`TextKey`]s. Keys from two `TextKeys` never compare:
/// each draws its own random hash keys.
#[derive(Debug, Clone, Default)]
pub struct TextKeys(RandomState);

impl TextKeys {
    pub fn new() -> Self {
        TextKeys::default()
    }

    pub fn key(&self, text: &str) -> TextKey {
        // Two SipHash outputs over inputs that differ in their first byte
        // are independent 64-bit halves.
        TextKey([self.0.hash_one((0u8, text)), self.0.hash_one((1u8, text))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_a_key_and_different_ones_do_not() {
        let keys = TextKeys::new();
        assert_eq!(keys.key("att_1"), keys.key("att_1"));
        let distinct: std::collections::HashSet<TextKey> = (0..100_000)
            .map(|n| keys.key(&format!("att_{n}")))
            .collect();
        assert_eq!(distinct.len(), 100_000);
    }
}
