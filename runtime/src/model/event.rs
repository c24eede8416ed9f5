//! The events the journal records and webhooks deliver, and the names a
//! webhook subscription may give them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{BatchStatus, ContactStatus};

/// Every change told to the outside: written to the journal in the same
/// atomic change as what it tells of, delivered to webhooks, streamed to
/// the dashboard. Stored and sent as its name ("batch.paused").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "&'static str")]
pub enum EventKind {
    #[serde(rename = "batch.created")]
    BatchCreated,
    /// Waiting for its scheduled start (again, after a resume).
    #[serde(rename = "batch.scheduled")]
    BatchScheduled,
    #[serde(rename = "batch.started")]
    BatchStarted,
    #[serde(rename = "batch.paused")]
    BatchPaused,
    #[serde(rename = "batch.resumed")]
    BatchResumed,
    #[serde(rename = "batch.completed")]
    BatchCompleted,
    #[serde(rename = "batch.cancelled")]
    BatchCancelled,
    #[serde(rename = "batch.expired")]
    BatchExpired,
    /// A dial intent was made durable: the call is being placed.
    #[serde(rename = "call.started")]
    CallStarted,
    #[serde(rename = "call.ended")]
    CallEnded,
    /// A contact reached a final status.
    #[serde(rename = "contact.finalized")]
    ContactFinalized,
}

impl EventKind {
    /// Every event, in the order the docs list them.
    pub const ALL: [EventKind; 11] = [
        EventKind::BatchCreated,
        EventKind::BatchScheduled,
        EventKind::BatchStarted,
        EventKind::BatchPaused,
        EventKind::BatchResumed,
        EventKind::BatchCompleted,
        EventKind::BatchCancelled,
        EventKind::BatchExpired,
        EventKind::CallStarted,
        EventKind::CallEnded,
        EventKind::ContactFinalized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::BatchCreated => "batch.created",
            EventKind::BatchScheduled => "batch.scheduled",
            EventKind::BatchStarted => "batch.started",
            EventKind::BatchPaused => "batch.paused",
            EventKind::BatchResumed => "batch.resumed",
            EventKind::BatchCompleted => "batch.completed",
            EventKind::BatchCancelled => "batch.cancelled",
            EventKind::BatchExpired => "batch.expired",
            EventKind::CallStarted => "call.started",
            EventKind::CallEnded => "call.ended",
            EventKind::ContactFinalized => "contact.finalized",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The event of a batch entering `to` from `from`; `first_start` when
    /// it has never been in progress before.
    pub fn of_batch_status(from: BatchStatus, to: BatchStatus, first_start: bool) -> EventKind {
        match to {
            BatchStatus::InProgress if first_start => EventKind::BatchStarted,
            BatchStatus::InProgress | BatchStatus::Pending if from == BatchStatus::Paused => {
                EventKind::BatchResumed
            }
            BatchStatus::InProgress => EventKind::BatchStarted,
            BatchStatus::Pending => EventKind::BatchScheduled,
            BatchStatus::Paused => EventKind::BatchPaused,
            BatchStatus::Completed => EventKind::BatchCompleted,
            BatchStatus::Cancelled => EventKind::BatchCancelled,
            BatchStatus::Expired => EventKind::BatchExpired,
        }
    }

    /// The other names a subscription may give the event by: the status
    /// a batch event leaves the batch in, "attempt" for "call". A
    /// finalized contact is also named by its status ("contact.no_answer"),
    /// which only its payload tells.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            EventKind::CallStarted => &["attempt.started"],
            EventKind::CallEnded => &["attempt.ended"],
            EventKind::BatchStarted | EventKind::BatchResumed => &["batch.in_progress"],
            EventKind::BatchScheduled => &["batch.pending"],
            _ => &[],
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EventKind> for &'static str {
    fn from(kind: EventKind) -> &'static str {
        kind.as_str()
    }
}

impl TryFrom<String> for EventKind {
    type Error = String;

    fn try_from(name: String) -> Result<EventKind, String> {
        EventKind::parse(&name).ok_or_else(|| format!("unknown event \"{name}\""))
    }
}

/// Whether a webhook's `events` entry names something that can happen: an
/// event or one of its aliases, "batch.<status>", "contact.<status>", a
/// group ("batch.*") or "*".
pub fn is_subscribable(pattern: &str) -> bool {
    let mut names = EventKind::ALL
        .iter()
        .flat_map(|kind| std::iter::once(kind.as_str()).chain(kind.aliases().iter().copied()));
    match pattern.split_once('.') {
        None => pattern == "*",
        Some((group, "*")) => {
            names.any(|name| name.split_once('.').is_some_and(|(of, _)| of == group))
        }
        Some(("batch", status)) => {
            names.any(|name| name == pattern)
                || BatchStatus::ALL
                    .iter()
                    .any(|known| known.as_str() == status)
        }
        Some(("contact", status)) => {
            names.any(|name| name == pattern) || ContactStatus::parse(status).is_some()
        }
        Some(_) => names.any(|name| name == pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_stored_and_sent_as_its_name_and_read_back() {
        for kind in EventKind::ALL {
            let json = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(
                serde_json::from_str::<EventKind>(&json).expect("reads"),
                kind
            );
            let packed = rmp_serde::to_vec(&kind).expect("packs");
            assert_eq!(packed, rmp_serde::to_vec(kind.as_str()).expect("packs"));
            assert_eq!(
                rmp_serde::from_slice::<EventKind>(&packed).expect("unpacks"),
                kind
            );
        }
        assert!(serde_json::from_str::<EventKind>("\"batch.exploded\"").is_err());
    }

    #[test]
    fn a_subscription_may_name_events_aliases_statuses_and_groups_but_nothing_else() {
        for known in [
            "*",
            "batch.*",
            "call.*",
            "attempt.*",
            "contact.*",
            "batch.scheduled",
            "batch.pending",
            "batch.in_progress",
            "attempt.ended",
            "contact.finalized",
            "contact.no_answer",
        ] {
            assert!(is_subscribable(known), "{known}");
        }
        for unknown in [
            "batch",
            "batch.exploded",
            "calls.*",
            "contact.ringing",
            "",
            ".",
        ] {
            assert!(!is_subscribable(unknown), "{unknown}");
        }
    }

    #[test]
    fn the_webhook_docs_list_every_event_and_only_those() {
        let docs = include_str!("../../../docs/providers.md");
        let start = docs
            .find("Every change a webhook may tell of (")
            .expect("the docs list the events");
        let list = &docs[start..];
        let list = &list[list.find('(').expect("a list") + 1..list.find(')').expect("its end")];
        let documented: Vec<&str> = list
            .split(',')
            .map(|name| name.trim().trim_matches('`'))
            .collect();
        let all: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(documented, all);
    }
}
