//! Batch and contact statuses, and the one table of legal transitions.

use serde::{Deserialize, Serialize};

/// Where a batch is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Waiting for `scheduled_start`.
    Pending,
    /// Dispatching calls.
    InProgress,
    /// Stopped by an operator or a fault; live calls finish, nothing new is dialed.
    Paused,
    /// Every contact reached a final status.
    Completed,
    /// Hard-stopped. Final.
    Cancelled,
    /// The end window passed before every contact was final.
    Expired,
}

/// Where a contact is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// Waiting for its first dial.
    Pending,
    /// The dial intent is durable; the provider is being asked.
    Dispatched,
    /// The call is ringing or in conversation.
    InProgress,
    /// Waiting for a retry at `next_eligible_at`.
    Retrying,
    /// Waiting for a follow-up the contact agreed to.
    FollowupScheduled,
    /// Answered and done.
    Completed,
    /// Given up after a network or provider failure.
    Failed,
    /// Given up after a busy line.
    Busy,
    /// Given up after no answer.
    NoAnswer,
    /// Taken out by an operator, a cancel, an expiry or a reached goal.
    Skipped,
    /// Every allowed attempt was used.
    MaxRetriesReached,
}

/// A status change that the transition table does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {what} transition from \"{from}\" to \"{to}\"")]
pub struct IllegalTransition {
    /// "batch" or "contact".
    pub what: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

impl BatchStatus {
    /// Every batch status, for exhaustive tests and listings.
    pub const ALL: [BatchStatus; 6] = [
        BatchStatus::Pending,
        BatchStatus::InProgress,
        BatchStatus::Paused,
        BatchStatus::Completed,
        BatchStatus::Cancelled,
        BatchStatus::Expired,
    ];

    /// The status as it appears in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Pending => "pending",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Paused => "paused",
            BatchStatus::Completed => "completed",
            BatchStatus::Cancelled => "cancelled",
            BatchStatus::Expired => "expired",
        }
    }

    /// True once nothing can change the batch any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BatchStatus::Completed | BatchStatus::Cancelled | BatchStatus::Expired
        )
    }

    /// Whether a batch may go from `self` to `to`.
    pub fn can_become(self, to: BatchStatus) -> bool {
        use BatchStatus::*;
        matches!(
            (self, to),
            (Pending, InProgress | Paused | Cancelled | Expired)
                | (InProgress, Paused | Completed | Cancelled | Expired)
                // Resuming before the scheduled start goes back to pending.
                | (Paused, Pending | InProgress | Cancelled | Expired)
        )
    }

    /// `to`, or the reason it is not allowed from `self`.
    pub fn transition(self, to: BatchStatus) -> Result<BatchStatus, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                what: "batch",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl ContactStatus {
    /// Every contact status, for exhaustive tests, counters and listings.
    pub const ALL: [ContactStatus; 11] = [
        ContactStatus::Pending,
        ContactStatus::Dispatched,
        ContactStatus::InProgress,
        ContactStatus::Retrying,
        ContactStatus::FollowupScheduled,
        ContactStatus::Completed,
        ContactStatus::Failed,
        ContactStatus::Busy,
        ContactStatus::NoAnswer,
        ContactStatus::Skipped,
        ContactStatus::MaxRetriesReached,
    ];

    /// The status as it appears in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Pending => "pending",
            ContactStatus::Dispatched => "dispatched",
            ContactStatus::InProgress => "in_progress",
            ContactStatus::Retrying => "retrying",
            ContactStatus::FollowupScheduled => "followup_scheduled",
            ContactStatus::Completed => "completed",
            ContactStatus::Failed => "failed",
            ContactStatus::Busy => "busy",
            ContactStatus::NoAnswer => "no_answer",
            ContactStatus::Skipped => "skipped",
            ContactStatus::MaxRetriesReached => "max_retries_reached",
        }
    }

    /// Parse the API spelling.
    pub fn parse(raw: &str) -> Option<ContactStatus> {
        ContactStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
    }

    /// Position in [`ContactStatus::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// True once no further attempt will be made.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ContactStatus::Completed
                | ContactStatus::Failed
                | ContactStatus::Busy
                | ContactStatus::NoAnswer
                | ContactStatus::Skipped
                | ContactStatus::MaxRetriesReached
        )
    }

    /// True while a call for the contact may be live at the provider, and so
    /// holds a concurrency slot.
    pub fn is_live(self) -> bool {
        matches!(self, ContactStatus::Dispatched | ContactStatus::InProgress)
    }

    /// True while the contact waits for a dial at `next_eligible_at`.
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            ContactStatus::Pending | ContactStatus::Retrying | ContactStatus::FollowupScheduled
        )
    }

    /// Whether a contact may go from `self` to `to`.
    pub fn can_become(self, to: ContactStatus) -> bool {
        use ContactStatus::*;
        let ended = matches!(
            to,
            Retrying | FollowupScheduled | Completed | Failed | Busy | NoAnswer | MaxRetriesReached
        );
        match self {
            // A waiting contact is dialed, or taken out before it is.
            Pending | Retrying | FollowupScheduled => matches!(to, Dispatched | Skipped),
            // The provider accepted the call, or the attempt ended before it
            // rang (refused, invalid number, lost).
            Dispatched => to == InProgress || ended,
            InProgress => ended,
            Completed | Failed | Busy | NoAnswer | Skipped | MaxRetriesReached => false,
        }
    }

    /// `to`, or the reason it is not allowed from `self`.
    pub fn transition(self, to: ContactStatus) -> Result<ContactStatus, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                what: "contact",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl std::fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for ContactStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transition table written out pair by pair, so a change to the
    /// rules above must be made twice, on purpose.
    const LEGAL_CONTACT_TRANSITIONS: &[(&str, &[&str])] = &[
        ("pending", &["dispatched", "skipped"]),
        ("retrying", &["dispatched", "skipped"]),
        ("followup_scheduled", &["dispatched", "skipped"]),
        (
            "dispatched",
            &[
                "in_progress",
                "retrying",
                "followup_scheduled",
                "completed",
                "failed",
                "busy",
                "no_answer",
                "max_retries_reached",
            ],
        ),
        (
            "in_progress",
            &[
                "retrying",
                "followup_scheduled",
                "completed",
                "failed",
                "busy",
                "no_answer",
                "max_retries_reached",
            ],
        ),
    ];

    const LEGAL_BATCH_TRANSITIONS: &[(&str, &[&str])] = &[
        (
            "pending",
            &["in_progress", "paused", "cancelled", "expired"],
        ),
        (
            "in_progress",
            &["paused", "completed", "cancelled", "expired"],
        ),
        (
            "paused",
            &["pending", "in_progress", "cancelled", "expired"],
        ),
    ];

    fn listed(table: &[(&str, &[&str])], from: &str, to: &str) -> bool {
        table
            .iter()
            .any(|(source, targets)| *source == from && targets.contains(&to))
    }

    #[test]
    fn every_contact_transition_is_legal_exactly_when_the_table_lists_it() {
        for from in ContactStatus::ALL {
            for to in ContactStatus::ALL {
                let expected = listed(LEGAL_CONTACT_TRANSITIONS, from.as_str(), to.as_str());
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
                assert_eq!(from.transition(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn every_batch_transition_is_legal_exactly_when_the_table_lists_it() {
        for from in BatchStatus::ALL {
            for to in BatchStatus::ALL {
                let expected = listed(LEGAL_BATCH_TRANSITIONS, from.as_str(), to.as_str());
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for from in ContactStatus::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(ContactStatus::ALL.iter().all(|to| !from.can_become(*to)));
        }
        for from in BatchStatus::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(BatchStatus::ALL.iter().all(|to| !from.can_become(*to)));
        }
    }

    #[test]
    fn an_illegal_transition_names_both_statuses() {
        let err = BatchStatus::Cancelled
            .transition(BatchStatus::InProgress)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal batch transition from \"cancelled\" to \"in_progress\""
        );
    }

    #[test]
    fn statuses_round_trip_through_their_api_spelling() {
        for status in ContactStatus::ALL {
            assert_eq!(ContactStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
            assert_eq!(ContactStatus::ALL[status.index()], status);
        }
    }
}
