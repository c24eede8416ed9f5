//! The key layout of the one sled tree. Every key starts with a tag byte
//! naming its family; ids end with a 0 byte so one id is never a prefix of
//! another's keys; numbers are big-endian so byte order is numeric order.
//!
//! | tag | key | value |
//! |---|---|---|
//! | `B` | batch | `BatchRecord` |
//! | `O` | batch | () while the batch is not final |
//! | `I` | workspace, idempotency key | batch id |
//! | `W` | workspace, created_at, batch | () |
//! | `K` | workspace, campaign, created_at, batch | () |
//! | `~` | | the store's format version |
//! | `C` | batch, page | `ContactCard`s of [`PAGE`] contacts from seq `page * PAGE`: the fields fixed at creation |
//! | `F` | batch, page | `ContactState` of [`PAGE`] contacts from seq `page * PAGE`, each with its live attempt |
//! | `D` | batch, next_eligible_at, page | bit mask of the page's contacts waiting until then: the due index |
//! | `A` | batch, group, attempt number | that attempt of each contact of the [`ATTEMPT_GROUP`] that ended it, with its "ended" log line: `EndedRecord`s (`attempt_page.rs`) |
//! | `A` | batch, group, attempt number, slot | one such attempt too large to share the page: an `EndedRecord` |
//! | `E` | batch, seq, event number | `ContactEvent`: the other lines of a contact's log |
//! | `V` | batch, page | () while a contact of the `F` page has a live attempt: the live index |
//! | `R` | batch | `RecentCall`s, newest first |
//! | `N` | batch | batch `Counters` |
//! | `M` | workspace, campaign | campaign `Counters` |
//! | `T` | batch | batch `AttemptTotals` |
//! | `U` | workspace, campaign | campaign `AttemptTotals` |
//! | `P` | batch, number | `NumberTotals` of a caller id in the batch |
//! | `Q` | workspace, campaign, number | `NumberTotals` in the campaign |
//! | `L` | batch, minute | `MinuteTotals`: the timeline |
//! | `Z` | batch, zone | () for each time zone of the batch's contacts |
//! | `X` | workspace, campaign, number | `NumberState` set by an operator |
//! | `J` | last seq of the page | `JournalEvent`s in seq order: the outbox of outside notifications |
//! | `H` | | seq of the newest journal event |
//! | `Y` | endpoint | `WebhookEndpointState` |
//! | `G` | endpoint, try number | `WebhookDelivery` |
//! | `l` | workspace, list | `SuppressionList` (`dnc-internal` once written) |
//! | `s` | workspace, list, phone | `SuppressionEntry`: a list's entries in phone order |
//! | `p` | workspace, phone, list | `SuppressionMark`: the lists a number is on, read before a dial |
//! | `n` | workspace, phone | the batch and seq of each contact of the number, whose `ContactDials` make its history |
//! | `m` | workspace, phone | () while more than one contact holds the number: only such a number's history reads `n` |

use crate::model::Millis;

/// Contacts per `F` record. A tick moves contacts that sit together in
/// sequence order (a batch is dialed in that order, and retries come due
/// in it), so one write of a page serves many of them.
pub const PAGE: u64 = 32;

/// Contacts per `A` record. Sharing a record cuts sled's work per ended
/// attempt (about 15 % more attempts a second than a record each), but
/// larger records cost memory while sled's cache is slow to evict: at 8
/// contacts, a batch of 100,000 peaked 30 MiB higher than with a record
/// each, at 4 contacts 20 MiB, and at 1,000,000 contacts no higher.
pub const ATTEMPT_GROUP: u64 = 4;

pub const BATCH: u8 = b'B';
pub const OPEN: u8 = b'O';
pub const IDEMPOTENCY: u8 = b'I';
pub const BY_WORKSPACE: u8 = b'W';
pub const BY_CAMPAIGN: u8 = b'K';
pub const FORMAT: u8 = b'~';
pub const CONTACT: u8 = b'C';
pub const STATE_PAGE: u8 = b'F';
pub const DUE: u8 = b'D';
pub const ATTEMPT: u8 = b'A';
pub const EVENT: u8 = b'E';
pub const LIVE: u8 = b'V';
pub const RECENT: u8 = b'R';
pub const BATCH_COUNTERS: u8 = b'N';
pub const CAMPAIGN_COUNTERS: u8 = b'M';
pub const BATCH_TOTALS: u8 = b'T';
pub const CAMPAIGN_TOTALS: u8 = b'U';
pub const BATCH_NUMBER: u8 = b'P';
pub const CAMPAIGN_NUMBER: u8 = b'Q';
pub const TIMELINE: u8 = b'L';
pub const ZONE: u8 = b'Z';
pub const NUMBER_STATE: u8 = b'X';
pub const JOURNAL: u8 = b'J';
pub const JOURNAL_HEAD: u8 = b'H';
pub const WEBHOOK: u8 = b'Y';
pub const WEBHOOK_LOG: u8 = b'G';
/// A batch being created: there until its last write (or its discard).
pub const DRAFT: u8 = b'S';
pub const SUPPRESSION_LIST: u8 = b'l';
pub const SUPPRESSION_ENTRY: u8 = b's';
pub const PHONE_SUPPRESSION: u8 = b'p';
pub const PHONE_CONTACT: u8 = b'n';
pub const SHARED_PHONE: u8 = b'm';

/// Builds a key field by field.
#[derive(Debug, Clone)]
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(tag: u8) -> Key {
        let mut bytes = Vec::with_capacity(48);
        bytes.push(tag);
        Key(bytes)
    }

    pub fn text(mut self, text: &str) -> Key {
        self.0.extend_from_slice(text.as_bytes());
        self.0.push(0);
        self
    }

    pub fn u64(mut self, value: u64) -> Key {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn u8(mut self, value: u8) -> Key {
        self.0.push(value);
        self
    }

    pub fn u32(mut self, value: u32) -> Key {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A signed time, sign bit flipped so negative times sort first.
    pub fn time(self, at: Millis) -> Key {
        self.u64((at as u64) ^ (1 << 63))
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads a time written by [`Key::time`] at `offset`.
pub fn read_time(bytes: &[u8], offset: usize) -> Option<Millis> {
    read_u64(bytes, offset).map(|raw| (raw ^ (1 << 63)) as Millis)
}

/// Reads a big-endian u64 at `offset`.
pub fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    let slice = bytes.get(offset..offset + 8)?;
    Some(u64::from_be_bytes(slice.try_into().ok()?))
}

/// Reads a big-endian u32 at `offset`.
pub fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let slice = bytes.get(offset..offset + 4)?;
    Some(u32::from_be_bytes(slice.try_into().ok()?))
}

pub fn batch(batch: &str) -> Key {
    Key::new(BATCH).text(batch)
}

pub fn open(batch: &str) -> Key {
    Key::new(OPEN).text(batch)
}

pub fn idempotency(workspace: &str, key: &str) -> Key {
    Key::new(IDEMPOTENCY).text(workspace).text(key)
}

pub fn by_workspace(workspace: &str, created_at: Millis, batch: &str) -> Key {
    Key::new(BY_WORKSPACE)
        .text(workspace)
        .time(created_at)
        .text(batch)
}

pub fn by_campaign(workspace: &str, campaign: &str, created_at: Millis, batch: &str) -> Key {
    Key::new(BY_CAMPAIGN)
        .text(workspace)
        .text(campaign)
        .time(created_at)
        .text(batch)
}

/// The record of the cards of `seq`'s page.
pub fn card_page(batch: &str, seq: u64) -> Key {
    Key::new(CONTACT).text(batch).u64(seq / PAGE)
}

pub fn format() -> Key {
    Key::new(FORMAT)
}

/// The page holding contact `seq`'s state.
pub fn state_page(batch: &str, seq: u64) -> Key {
    Key::new(STATE_PAGE).text(batch).u64(seq / PAGE)
}

/// The due-index record of the contacts of `seq`'s page that wait until
/// `at`: contacts that come due together (a new batch, the retries of one
/// tick) share one record per page.
pub fn due(batch: &str, at: Millis, seq: u64) -> Key {
    Key::new(DUE).text(batch).time(at).u64(seq / PAGE)
}

/// Offset of the time inside a due key of `batch`.
pub fn due_time_offset(batch: &str) -> usize {
    1 + batch.len() + 1
}

/// The prefix of the ended attempts of the contacts of `seq`'s group.
pub fn attempt_pages(batch: &str, seq: u64) -> Key {
    Key::new(ATTEMPT).text(batch).u64(seq / ATTEMPT_GROUP)
}

/// Attempt `number` of the contacts of `seq`'s group that ended it, each
/// written into it when it ends.
pub fn attempt_page(batch: &str, seq: u64, number: u32) -> Key {
    attempt_pages(batch, seq).u32(number)
}

/// Attempt `number` of contact `seq`, when it was too large to share its
/// group's page: after the page in key order.
pub fn lone_attempt(batch: &str, seq: u64, number: u32) -> Key {
    attempt_page(batch, seq, number).u8(attempt_slot(seq))
}

/// Position of contact `seq` in its attempt group.
pub fn attempt_slot(seq: u64) -> u8 {
    (seq % ATTEMPT_GROUP) as u8
}

/// The slot a lone attempt's key names, or None for a page's key, of an
/// `A` key under `batch`.
pub fn lone_attempt_slot(key: &[u8], batch: &str) -> Option<u8> {
    let page_key_len = 1 + batch.len() + 1 + 8 + 4;
    (key.len() == page_key_len + 1).then(|| key[page_key_len])
}

pub fn event(batch: &str, seq: u64, number: u32) -> Key {
    Key::new(EVENT).text(batch).u64(seq).u32(number)
}

/// `key` under another family: a state page's live-index marker is its
/// own key under `LIVE`, and the other way round.
pub fn retag(key: &[u8], tag: u8) -> Vec<u8> {
    let mut retagged = key.to_vec();
    retagged[0] = tag;
    retagged
}

pub fn recent(batch: &str) -> Key {
    Key::new(RECENT).text(batch)
}

pub fn batch_counters(batch: &str) -> Key {
    Key::new(BATCH_COUNTERS).text(batch)
}

pub fn campaign_counters(workspace: &str, campaign: &str) -> Key {
    Key::new(CAMPAIGN_COUNTERS).text(workspace).text(campaign)
}

pub fn batch_totals(batch: &str) -> Key {
    Key::new(BATCH_TOTALS).text(batch)
}

pub fn campaign_totals(workspace: &str, campaign: &str) -> Key {
    Key::new(CAMPAIGN_TOTALS).text(workspace).text(campaign)
}

pub fn batch_number(batch: &str, number: &str) -> Key {
    Key::new(BATCH_NUMBER).text(batch).text(number)
}

pub fn campaign_number(workspace: &str, campaign: &str, number: &str) -> Key {
    Key::new(CAMPAIGN_NUMBER)
        .text(workspace)
        .text(campaign)
        .text(number)
}

pub fn timeline(batch: &str, minute: Millis) -> Key {
    Key::new(TIMELINE).text(batch).time(minute)
}

pub fn draft(batch: &str) -> Key {
    Key::new(DRAFT).text(batch)
}

pub fn zone(batch: &str, zone: &str) -> Key {
    Key::new(ZONE).text(batch).text(zone)
}

pub fn number_state(workspace: &str, campaign: &str, number: &str) -> Key {
    Key::new(NUMBER_STATE)
        .text(workspace)
        .text(campaign)
        .text(number)
}

pub fn suppression_list(workspace: &str, list: &str) -> Key {
    Key::new(SUPPRESSION_LIST).text(workspace).text(list)
}

pub fn suppression_entry(workspace: &str, list: &str, phone: &str) -> Key {
    Key::new(SUPPRESSION_ENTRY)
        .text(workspace)
        .text(list)
        .text(phone)
}

/// The entry of `phone` on `list` as the dial-time lookup reads it: every
/// list of a number under one prefix.
pub fn phone_suppression(workspace: &str, phone: &str, list: &str) -> Key {
    Key::new(PHONE_SUPPRESSION)
        .text(workspace)
        .text(phone)
        .text(list)
}

/// The workspace and number of a `p` key.
pub fn read_phone_suppression(key: &[u8]) -> Option<(&str, &str)> {
    let mut fields = key.get(1..)?.split(|b| *b == 0);
    let workspace = std::str::from_utf8(fields.next()?).ok()?;
    let phone = std::str::from_utf8(fields.next()?).ok()?;
    fields.next()?;
    Some((workspace, phone))
}

pub fn phone_contacts(workspace: &str, phone: &str) -> Key {
    Key::new(PHONE_CONTACT).text(workspace).text(phone)
}

pub fn shared_phone(workspace: &str, phone: &str) -> Key {
    Key::new(SHARED_PHONE).text(workspace).text(phone)
}

/// The workspace and number of an `m` key.
pub fn read_shared_phone(key: &[u8]) -> Option<(&str, &str)> {
    let mut fields = key.get(1..)?.strip_suffix(&[0])?.split(|b| *b == 0);
    let workspace = std::str::from_utf8(fields.next()?).ok()?;
    let phone = std::str::from_utf8(fields.next()?).ok()?;
    fields.next().is_none().then_some((workspace, phone))
}

/// The last 0-terminated text field of a key.
pub fn last_text(key: &[u8]) -> String {
    let body = key.strip_suffix(&[0]).unwrap_or(key);
    let start = body.iter().rposition(|b| *b == 0).map_or(1, |at| at + 1);
    String::from_utf8_lossy(&body[start..]).into_owned()
}

pub fn journal(seq: u64) -> Key {
    Key::new(JOURNAL).u64(seq)
}

pub fn journal_head() -> Key {
    Key::new(JOURNAL_HEAD)
}

pub fn webhook(endpoint: &str) -> Key {
    Key::new(WEBHOOK).text(endpoint)
}

pub fn webhook_log(endpoint: &str, number: u64) -> Key {
    Key::new(WEBHOOK_LOG).text(endpoint).u64(number)
}

/// Renders a key as a page cursor.
pub fn to_cursor(key: &[u8]) -> String {
    hex::encode(key)
}

/// Reads a page cursor back into a key.
pub fn from_cursor(cursor: &str) -> Option<Vec<u8>> {
    hex::decode(cursor).ok()
}

/// The smallest key after every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_family_has_a_tag_of_its_own() {
        let tags = [
            BATCH,
            OPEN,
            IDEMPOTENCY,
            BY_WORKSPACE,
            BY_CAMPAIGN,
            FORMAT,
            CONTACT,
            STATE_PAGE,
            DUE,
            ATTEMPT,
            EVENT,
            LIVE,
            RECENT,
            BATCH_COUNTERS,
            CAMPAIGN_COUNTERS,
            BATCH_TOTALS,
            CAMPAIGN_TOTALS,
            BATCH_NUMBER,
            CAMPAIGN_NUMBER,
            TIMELINE,
            ZONE,
            NUMBER_STATE,
            JOURNAL,
            JOURNAL_HEAD,
            WEBHOOK,
            WEBHOOK_LOG,
            DRAFT,
            SUPPRESSION_LIST,
            SUPPRESSION_ENTRY,
            PHONE_SUPPRESSION,
            PHONE_CONTACT,
            SHARED_PHONE,
        ];
        let distinct: std::collections::HashSet<u8> = tags.iter().copied().collect();
        assert_eq!(distinct.len(), tags.len(), "two key families share a tag");
    }

    #[test]
    fn a_numbers_list_key_reads_back_as_its_workspace_and_number() {
        let key = phone_suppression("ws", "+15550000000", "dnc-internal").into_vec();
        assert_eq!(read_phone_suppression(&key), Some(("ws", "+15550000000")));
        assert_eq!(read_phone_suppression(&key[..5]), None);
    }

    #[test]
    fn a_shared_numbers_key_reads_back_as_its_workspace_and_number() {
        let key = shared_phone("ws", "+15550000000").into_vec();
        assert_eq!(read_shared_phone(&key), Some(("ws", "+15550000000")));
        assert_eq!(read_shared_phone(&key[..5]), None);
    }

    #[test]
    fn times_sort_in_byte_order_across_the_sign() {
        let keys: Vec<Vec<u8>> = [-5_i64, -1, 0, 1, 1_700_000_000_000]
            .iter()
            .map(|at| due("b", *at, 0).into_vec())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(read_time(&keys[0], due_time_offset("b")), Some(-5));
    }

    #[test]
    fn one_batch_id_is_never_a_prefix_of_another_batchs_keys() {
        let short = Key::new(CONTACT).text("btc_1").into_vec();
        let long = card_page("btc_12", 0).into_vec();
        assert!(!long.starts_with(&short));
    }
}
