//! A phone number's attempts across every campaign and batch of its
//! workspace, for frequency caps and dial gates: each contact keeps its
//! share in the same change as its attempts, and a number's history is the
//! union of the shares of its contacts.

use crate::model::{ContactDials, Millis, PHONE_HISTORY_WINDOW, PhoneHistory};

/// `dials` once an attempt started at `started_at`: the start joins the
/// others in time order, and starts older than the window before it go.
pub fn placed(dials: &mut ContactDials, started_at: Millis) {
    let position = dials.placed.partition_point(|start| *start <= started_at);
    dials.placed.insert(position, started_at);
    dials.last_attempt_at = dials.last_attempt_at.max(Some(started_at));
    trim(&mut dials.placed, started_at);
}

/// `dials` once the attempt started at `started_at` ended at `at`,
/// labelled `label`. An attempt that did not count (it never reached the
/// network) is taken back out: it placed no call.
pub fn ended(
    dials: &mut ContactDials,
    started_at: Millis,
    label: Option<&str>,
    counts_as_attempt: bool,
    at: Millis,
) {
    if counts_as_attempt {
        if let Some(label) = label {
            dials.last_label = Some((at, label.to_string()));
        }
    } else if let Some(index) = dials.placed.iter().rposition(|at| *at == started_at) {
        dials.placed.remove(index);
        if dials.last_attempt_at == Some(started_at) {
            dials.last_attempt_at = dials.placed.last().copied();
        }
    }
    trim(&mut dials.placed, at);
}

/// The history of a number whose contacts hold `shares`, as of `now`.
pub fn history<'d>(
    shares: impl IntoIterator<Item = &'d ContactDials>,
    now: Millis,
) -> PhoneHistory {
    let cutoff = now.saturating_sub(PHONE_HISTORY_WINDOW);
    let mut history = PhoneHistory::default();
    let mut labelled_at = None;
    for share in shares {
        history
            .placed
            .extend(share.placed.iter().filter(|start| **start >= cutoff));
        history.last_attempt_at = history.last_attempt_at.max(share.last_attempt_at);
        if let Some((at, label)) = &share.last_label
            && labelled_at.is_none_or(|newest| *at > newest)
        {
            labelled_at = Some(*at);
            history.last_label = Some(label.clone());
        }
    }
    history.placed.sort_unstable();
    history
}

/// Drops the starts older than the window before `at`.
fn trim(placed: &mut Vec<Millis>, at: Millis) {
    let cutoff = at.saturating_sub(PHONE_HISTORY_WINDOW);
    let older = placed.partition_point(|start| *start < cutoff);
    placed.drain(..older);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DAY_MS;

    #[test]
    fn a_placed_attempt_joins_in_time_order_and_starts_past_thirty_days_go() {
        let mut dials = ContactDials::default();
        placed(&mut dials, 0);
        placed(&mut dials, 31 * DAY_MS);
        assert_eq!(dials.placed, vec![31 * DAY_MS]);
        placed(&mut dials, 31 * DAY_MS - 5);
        assert_eq!(dials.placed, vec![31 * DAY_MS - 5, 31 * DAY_MS]);
        assert_eq!(dials.last_attempt_at, Some(31 * DAY_MS));
    }

    #[test]
    fn an_end_labels_the_contact_and_an_uncounted_one_takes_its_start_back() {
        let mut dials = ContactDials::default();
        placed(&mut dials, 10);
        placed(&mut dials, 20);
        let mut labelled = dials.clone();
        ended(&mut labelled, 10, Some("busy"), true, 30);
        assert_eq!(labelled.placed, vec![10, 20]);
        assert_eq!(labelled.last_label, Some((30, "busy".to_string())));
        ended(&mut dials, 20, Some("system_retry"), false, 30);
        assert_eq!(dials.placed, vec![10]);
        assert_eq!(dials.last_attempt_at, Some(10));
        assert_eq!(dials.last_label, None);
    }

    #[test]
    fn a_numbers_history_joins_its_contacts_and_takes_the_newest_label() {
        let first = ContactDials {
            placed: vec![5, 40],
            last_attempt_at: Some(40),
            last_label: Some((45, "busy".to_string())),
        };
        let second = ContactDials {
            placed: vec![20],
            last_attempt_at: Some(20),
            last_label: Some((25, "no_answer".to_string())),
        };
        let history = history([&second, &first], 6 + PHONE_HISTORY_WINDOW);
        assert_eq!(history.placed, vec![20, 40], "5 is past the window");
        assert_eq!(history.last_attempt_at, Some(40));
        assert_eq!(history.last_label.as_deref(), Some("busy"));
    }
}
