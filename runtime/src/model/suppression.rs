//! Compliance records of a workspace: suppression (do-not-call) lists and
//! their entries, and each phone number's recent attempts across every
//! campaign and batch. The store persists them as MessagePack arrays, so a
//! field's position is part of the stored format.

use serde::{Deserialize, Serialize};

use super::{DAY_MS, Millis};

/// The blocking list every workspace has, whether written to or not.
pub const DNC_INTERNAL: &str = "dnc-internal";

/// Longest list name, in characters.
pub const MAX_LIST_NAME: usize = 64;

/// How far back a phone's history keeps the starts of its attempts.
pub const PHONE_HISTORY_WINDOW: Millis = 30 * DAY_MS;

/// A suppression list of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuppressionList {
    pub workspace: String,
    /// Lowercase letters, digits, "-" and "_", 1 to 64 characters.
    pub name: String,
    pub description: Option<String>,
    /// True: a number on the list is never dialed. False: the list only
    /// informs a dial-gate plugin (a consent list, say).
    pub blocks: bool,
    /// 0 for `dnc-internal` until something is written to it.
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub created_at: Millis,
    /// Entries kept, expired ones included until they are removed.
    pub entries: u64,
}

impl SuppressionList {
    /// `dnc-internal` of `workspace` as it is before anything is written.
    pub fn dnc_internal(workspace: &str) -> SuppressionList {
        SuppressionList {
            workspace: workspace.to_string(),
            name: DNC_INTERNAL.to_string(),
            description: Some("Numbers that are never dialed".to_string()),
            blocks: true,
            created_at: 0,
            entries: 0,
        }
    }
}

/// Why a list name is refused, or `None` for a good one.
pub fn list_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > MAX_LIST_NAME {
        return Some(format!(
            "list name \"{name}\" has {} characters, expected 1 to {MAX_LIST_NAME}",
            name.chars().count()
        ));
    }
    let bad = |c: &char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_');
    name.chars().find(bad).map(|c| {
        format!(
            "list name \"{name}\" has the character '{c}', expected lowercase letters, digits, \"-\" and \"_\""
        )
    })
}

/// A list to create.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSuppressionList {
    pub name: String,
    pub description: Option<String>,
    pub blocks: bool,
}

/// A number on a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuppressionEntry {
    /// E.164.
    #[schema(value_type = crate::model::schema::E164)]
    pub phone: String,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub added_at: Millis,
    /// From this time on the entry no longer suppresses.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub expires_at: Option<Millis>,
    pub reason: Option<String>,
    /// An operator, an API key's actor, or the attempt whose end added it.
    pub added_by: String,
}

impl SuppressionEntry {
    /// Whether the entry still suppresses at `now`.
    pub fn active_at(&self, now: Millis) -> bool {
        unexpired(self.expires_at, now)
    }
}

/// Whether an entry that expires at `expires_at` still suppresses at
/// `now`: it stops at its expiry.
pub fn unexpired(expires_at: Option<Millis>, now: Millis) -> bool {
    expires_at.is_none_or(|expires| expires > now)
}

/// A number to add to a list, already in E.164.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSuppression {
    pub phone: String,
    pub expires_at: Option<Millis>,
    pub reason: Option<String>,
}

/// What an add did: numbers new to the list, and numbers it held already
/// whose entry was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct SuppressionWrite {
    pub added: u64,
    pub updated: u64,
}

/// An unexpired list a number is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuppressionHit {
    pub list: String,
    pub blocks: bool,
    pub reason: Option<String>,
}

/// A phone number to add to a list when an attempt ends, in the same
/// write as the end.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionAdd {
    pub list: String,
    pub reason: String,
}

/// A number's recent attempts across every campaign and batch of one
/// workspace: the union of its contacts' [`ContactDials`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PhoneHistory {
    /// Start times of the attempts placed within the window
    /// ([`PHONE_HISTORY_WINDOW`]) before the time it was read at, oldest
    /// first.
    pub placed: Vec<Millis>,
    /// The newest attempt's start.
    pub last_attempt_at: Option<Millis>,
    /// The newest ended attempt's disposition label.
    pub last_label: Option<String>,
}

impl PhoneHistory {
    /// Attempts started at `t` or later.
    pub fn attempts_since(&self, t: Millis) -> u32 {
        let older = self.placed.partition_point(|at| *at < t);
        u32::try_from(self.placed.len() - older).unwrap_or(u32::MAX)
    }
}

/// One contact's share of its number's [`PhoneHistory`]. It is kept with
/// the contact, so the writes that begin and end an attempt carry it and
/// no record per number is rewritten on every dial.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactDials {
    /// Starts of the contact's attempts that count (a live one included),
    /// within the window before the contact was last written, oldest first.
    pub placed: Vec<Millis>,
    /// The newest of those starts, kept past the window.
    pub last_attempt_at: Option<Millis>,
    /// When the newest counted attempt ended, and its disposition label.
    pub last_label: Option<(Millis, String)>,
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names_are_lowercase_letters_digits_dashes_and_underscores() {
        assert_eq!(list_name_problem("dnc-internal"), None);
        assert_eq!(list_name_problem("consent_2025"), None);
        assert_eq!(
            list_name_problem("DNC").as_deref(),
            Some(
                "list name \"DNC\" has the character 'D', expected lowercase letters, digits, \"-\" and \"_\""
            )
        );
        assert!(list_name_problem("").is_some());
        assert!(list_name_problem(&"a".repeat(64)).is_none());
        assert!(list_name_problem(&"a".repeat(65)).is_some());
    }

    #[test]
    fn an_entry_stops_suppressing_when_it_expires() {
        let entry = SuppressionEntry {
            phone: "+14155550100".to_string(),
            added_at: 0,
            expires_at: Some(100),
            reason: None,
            added_by: "ops".to_string(),
        };
        assert!(entry.active_at(99));
        assert!(!entry.active_at(100));
    }

    #[test]
    fn attempts_since_counts_the_starts_at_or_after_the_time() {
        let history = PhoneHistory {
            placed: vec![10, 20, 30],
            last_attempt_at: Some(30),
            last_label: None,
        };
        assert_eq!(history.attempts_since(0), 3);
        assert_eq!(history.attempts_since(20), 2);
        assert_eq!(history.attempts_since(31), 0);
    }
}
