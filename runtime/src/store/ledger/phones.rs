//! A phone number's attempts across every campaign and batch of its
//! workspace, for frequency caps: kept in the same change as the attempts
//! themselves.

use crate::model::{Millis, PHONE_HISTORY_WINDOW, PhoneHistory};

/// `history` once an attempt started at `started_at`, written at `at`:
/// the start joins the others in time order, and starts older than the
/// window before `at` go.
pub fn placed(history: Option<PhoneHistory>, started_at: Millis, at: Millis) -> PhoneHistory {
    let mut history = history.unwrap_or_default();
    let position = history.placed.partition_point(|start| *start <= started_at);
    history.placed.insert(position, started_at);
    history.last_attempt_at = history.last_attempt_at.max(Some(started_at));
    trim(&mut history, at);
    history
}

/// `history` once the attempt started at `started_at` ended at `at`,
/// labelled `label`. An attempt that did not count (it never reached the
/// network) is taken back out: it placed no call.
pub fn ended(
    history: Option<PhoneHistory>,
    started_at: Millis,
    label: Option<&str>,
    counts_as_attempt: bool,
    at: Millis,
) -> PhoneHistory {
    let mut history = history.unwrap_or_default();
    if counts_as_attempt {
        if let Some(label) = label {
            history.last_label = Some(label.to_string());
        }
    } else if let Some(index) = history.placed.iter().rposition(|at| *at == started_at) {
        history.placed.remove(index);
        if history.last_attempt_at == Some(started_at) {
            history.last_attempt_at = history.placed.last().copied();
        }
    }
    trim(&mut history, at);
    history
}

/// Drops the starts older than the window before `at`.
fn trim(history: &mut PhoneHistory, at: Millis) {
    let cutoff = at.saturating_sub(PHONE_HISTORY_WINDOW);
    let older = history.placed.partition_point(|start| *start < cutoff);
    history.placed.drain(..older);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DAY_MS;

    #[test]
    fn a_placed_attempt_joins_in_time_order_and_starts_past_thirty_days_go() {
        let old = placed(None, 0, 0);
        let history = placed(Some(old), 31 * DAY_MS, 31 * DAY_MS);
        assert_eq!(history.placed, vec![31 * DAY_MS]);
        let history = placed(Some(history), 31 * DAY_MS - 5, 31 * DAY_MS);
        assert_eq!(history.placed, vec![31 * DAY_MS - 5, 31 * DAY_MS]);
        assert_eq!(history.last_attempt_at, Some(31 * DAY_MS));
    }

    #[test]
    fn an_end_labels_the_number_and_an_uncounted_one_takes_its_start_back() {
        let history = placed(placed(None, 10, 10).into(), 20, 20);
        let labelled = ended(Some(history.clone()), 10, Some("busy"), true, 30);
        assert_eq!(labelled.placed, vec![10, 20]);
        assert_eq!(labelled.last_label.as_deref(), Some("busy"));
        let retried = ended(Some(history), 20, Some("system_retry"), false, 30);
        assert_eq!(retried.placed, vec![10]);
        assert_eq!(retried.last_attempt_at, Some(10));
        assert_eq!(retried.last_label, None);
    }
}
