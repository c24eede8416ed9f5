//! The store conformance suite: the `Store` contract's tests, written once
//! and run against every backend.
//!
//! A backend joins with a [`Backend`] that opens fresh, empty stores and one
//! line in a test module:
//!
//! ```ignore
//! outdial_tests::store_contract_tests!(SledBackend);
//! ```
//!
//! which makes one `#[test]` per case, named after it, so `cargo test
//! a_case_name` runs one case and a failure names the guarantee it broke.
//! The cases use only the public API of `outdial`: what they check, every
//! backend must do.
//!
//! The case names are listed once, in `__store_contract_cases!`; both the
//! test macro and the table of case functions are made from that list, so a
//! case cannot be left out of one and not the other, a misspelt name does
//! not compile, and a case function missing from the list is dead code.

mod batches;
mod counters;
mod dialing;
mod due;
mod journal;
pub mod requests;
mod suppression;

use std::any::Any;
use std::ops::Deref;

use outdial::store::Store;

/// A kind of store the suite runs against.
pub trait Backend {
    /// A fresh, empty store; every call gives a new one.
    fn open(&self) -> FreshStore;
}

/// A store opened for one case, with whatever must outlive it (a temporary
/// directory, say), which is dropped after the store.
pub struct FreshStore {
    store: Box<dyn Store>,
    _keep: Box<dyn Any + Send + Sync>,
}

impl FreshStore {
    /// A store that needs nothing kept alive beside it.
    pub fn new(store: impl Store + 'static) -> FreshStore {
        FreshStore {
            store: Box::new(store),
            _keep: Box::new(()),
        }
    }

    /// `store`, keeping `keep` until after the store is dropped.
    pub fn keeping(store: impl Store + 'static, keep: impl Any + Send + Sync) -> FreshStore {
        FreshStore {
            store: Box::new(store),
            _keep: Box::new(keep),
        }
    }
}

impl Deref for FreshStore {
    type Target = dyn Store;

    fn deref(&self) -> &(dyn Store + 'static) {
        self.store.as_ref()
    }
}

/// One guarantee of the contract, checked against a backend.
type Case = fn(&dyn Backend);

/// Every case by name, in the order of the list.
macro_rules! case_table {
    (; $($case:ident),* $(,)?) => {
        const CASES: &[(&str, Case)] = &[$((stringify!($case), cases::$case)),*];
    };
}

crate::__store_contract_cases!([case_table]);

/// The case functions, gathered for the table.
mod cases {
    pub(super) use super::batches::*;
    pub(super) use super::counters::*;
    pub(super) use super::dialing::*;
    pub(super) use super::due::*;
    pub(super) use super::journal::*;
    pub(super) use super::suppression::*;
}

/// Runs the case named `name` against `backend`.
#[doc(hidden)]
pub fn run(name: &str, backend: &dyn Backend) {
    match CASES.iter().find(|(listed, _)| *listed == name) {
        Some((_, case)) => case(backend),
        None => {
            let names: Vec<&str> = CASES.iter().map(|(listed, _)| *listed).collect();
            panic!("no store contract case is named \"{name}\"; the cases: {names:?}");
        }
    }
}

/// Checks that `tested`, the cases a `store_contract_tests!` made tests of,
/// are exactly the table's, each once.
#[doc(hidden)]
pub fn assert_every_case_is_tested(tested: &[&str]) {
    let table: Vec<&str> = CASES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        tested, table,
        "the tests made and the table of cases differ"
    );
    let mut unique = table.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        table.len(),
        "a case is listed twice: {table:?}"
    );
}

/// Makes one `#[test]` per case of the store conformance suite, run
/// against the [`Backend`](crate::store_suite::Backend) `$backend`
/// evaluates to, plus one checking that every case has its test. One
/// invocation per module: the tests are named after the cases.
#[macro_export]
macro_rules! store_contract_tests {
    ($backend:expr) => {
        $crate::__store_contract_cases!([$crate::__store_contract_tests_of] $backend);
    };
}

/// The test of each case named, against `$backend`.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_tests_of {
    ($backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::store_suite::run(stringify!($case), &$backend);
            }
        )*

        #[test]
        fn every_store_contract_case_has_its_test() {
            $crate::store_suite::assert_every_case_is_tested(&[$(stringify!($case)),*]);
        }
    };
}

/// The suite's cases, listed once: expands `[$callback] $args` to
/// `$callback! { $args; case, case, ... }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_cases {
    ([$($callback:tt)*] $($args:tt)*) => {
        $($callback)*! { $($args)*;
            // Counters (counters.rs).
            counters_equal_a_recount_after_a_random_workload,
            counters_equal_a_recount_after_every_write_of_a_random_workload,
            // Creating batches (batches.rs).
            the_same_idempotency_key_returns_the_same_batch,
            a_repeated_idempotency_key_answers_the_first_batch_without_reading_the_upload,
            an_idempotency_key_names_a_batch_of_its_own_workspace_only,
            creates_racing_under_one_idempotency_key_make_one_batch,
            a_batch_larger_than_one_write_is_created_whole,
            a_batch_fed_in_chunks_numbers_its_contacts_on_and_appears_only_with_the_last_write,
            an_abandoned_create_leaves_no_batch_behind,
            a_contact_id_repeated_in_a_later_chunk_refuses_the_whole_batch,
            listing_contacts_by_status_pages_with_a_cursor,
            listing_contacts_by_status_follows_its_cursor_across_the_whole_batch,
            // Dialing (dialing.rs).
            illegal_transitions_are_rejected_and_nothing_is_written,
            a_refused_begin_in_a_group_leaves_no_trace_and_the_others_still_begin,
            a_refused_end_in_a_group_leaves_the_other_ends_and_the_counters_right,
            ends_refused_in_a_group_leave_their_attempts_live_and_untouched,
            a_refused_mark_in_a_group_leaves_the_other_marks,
            once_a_pause_returns_no_attempt_of_the_batch_begins_yet_live_calls_end,
            once_a_cancel_returns_no_attempt_begins_and_live_calls_end_given_up,
            a_pause_fences_off_begins_racing_it_from_another_thread,
            every_status_but_in_progress_refuses_dials_yet_ends_live_calls,
            a_fault_streak_pauses_the_batch_inside_the_same_write,
            a_placed_call_shows_its_provider_id_before_it_rings,
            a_call_id_recorded_for_an_ended_attempt_never_reaches_the_contacts_next_attempt,
            an_unknown_placement_is_told_in_the_contact_log_only_while_its_attempt_is_live,
            a_contacts_log_tells_dispatch_calls_end_and_faults_in_the_order_they_happened,
            // The due list (due.rs).
            the_due_index_orders_by_eligibility_then_sequence,
            due_answers_only_contacts_eligible_by_now_in_eligibility_order,
            contacts_due_together_leave_the_due_list_one_by_one,
            a_forced_dispatch_makes_contacts_held_for_a_scheduled_start_due_now,
            skipping_the_waiting_contacts_of_a_large_batch_works_in_chunks,
            // The journal (journal.rs).
            every_told_change_is_journaled_in_order_with_stable_ids,
            a_dialed_call_is_journaled_with_the_payloads_webhooks_carry,
            the_journal_reads_from_any_seq_and_prunes_nothing_after_the_acknowledged_one,
            journal_events_follow_the_order_of_their_changes_and_of_their_staging,
            each_writers_changes_keep_their_order_in_the_journal_when_writers_race,
            a_pruned_journal_never_gives_a_seq_twice,
            // Compliance (suppression.rs).
            dnc_internal_exists_in_every_workspace_before_anything_is_written,
            a_created_list_is_listed_by_name_in_its_workspace_only_and_never_twice,
            adding_a_number_again_updates_it_and_removing_answers_how_many_were_there,
            an_expired_entry_no_longer_suppresses_yet_stays_listed,
            a_lists_entries_page_in_phone_order_with_a_cursor,
            suppressions_of_tells_each_number_its_blocking_and_informing_lists_by_name,
            a_numbers_history_spans_the_campaigns_and_batches_of_its_workspace_only,
            a_system_retry_takes_its_start_back_out_of_the_numbers_history,
            skips_in_a_group_count_suppressed_and_gate_skips_and_refuse_contacts_not_waiting,
            an_end_that_suppresses_adds_the_number_in_the_same_write,
        }
    };
}
