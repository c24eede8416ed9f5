//! Compliance: a workspace's suppression lists and their entries, each
//! number's attempts across the workspace, skips in a group with their
//! own counters, and a suppression written with an attempt's end.

use outdial::model::{CallOutcome, ContactStatus, DAY_MS, MINUTE_MS};
use outdial::store::{
    DNC_INTERNAL, NewBatch, NewSuppression, NewSuppressionList, Store, StoreError, SuppressionAdd,
    SuppressionHit, SuppressionQuery, SuppressionWrite,
};

use super::Backend;
use super::requests::{T0, begin_one, end, key_of, new_batch, start};

fn entry(phone: &str, reason: &str) -> NewSuppression {
    NewSuppression {
        phone: phone.to_string(),
        expires_at: None,
        reason: Some(reason.to_string()),
    }
}

fn informing(name: &str) -> NewSuppressionList {
    NewSuppressionList {
        name: name.to_string(),
        description: Some("consent given".to_string()),
        blocks: false,
    }
}

fn phones(numbers: &[&str]) -> Vec<String> {
    numbers.iter().map(|phone| phone.to_string()).collect()
}

fn list_names(store: &dyn Store, workspace: &str) -> Vec<String> {
    store
        .suppression_lists(workspace)
        .expect("the lists read")
        .into_iter()
        .map(|list| list.name)
        .collect()
}

pub(super) fn dnc_internal_exists_in_every_workspace_before_anything_is_written(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    assert_eq!(list_names(store, "ws"), vec![DNC_INTERNAL]);
    let list = store
        .suppression_list("elsewhere", DNC_INTERNAL)
        .expect("read")
        .expect("always there");
    assert!(list.blocks);
    assert_eq!(list.entries, 0);
    assert_eq!(store.suppression_list("ws", "consent").expect("read"), None);
    let err = store
        .create_suppression_list(
            "ws",
            NewSuppressionList {
                name: DNC_INTERNAL.to_string(),
                description: None,
                blocks: true,
            },
            T0,
        )
        .expect_err("dnc-internal always exists");
    assert_eq!(
        err.to_string(),
        "suppression list \"dnc-internal\" already exists in workspace \"ws\""
    );
}

pub(super) fn a_created_list_is_listed_by_name_in_its_workspace_only_and_never_twice(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let created = store
        .create_suppression_list("ws", informing("consent"), T0)
        .expect("created");
    assert_eq!(created.created_at, T0);
    assert!(!created.blocks);
    assert_eq!(created.description.as_deref(), Some("consent given"));
    assert_eq!(list_names(store, "ws"), vec!["consent", DNC_INTERNAL]);
    assert_eq!(list_names(store, "other"), vec![DNC_INTERNAL]);
    let err = store
        .create_suppression_list("ws", informing("consent"), T0 + 1)
        .expect_err("taken");
    assert!(
        matches!(&err, StoreError::SuppressionListExists { list, .. } if list == "consent"),
        "{err}"
    );
    let err = store
        .create_suppression_list("ws", informing("Consent!"), T0)
        .expect_err("malformed");
    assert!(matches!(err, StoreError::InvalidSuppressionListName(_)));
    let err = store
        .add_suppressions("ws", "missing", vec![entry("+14155550100", "x")], "ops", T0)
        .expect_err("no such list");
    assert_eq!(
        err.to_string(),
        "suppression list \"missing\" not found in workspace \"ws\""
    );
}

pub(super) fn adding_a_number_again_updates_it_and_removing_answers_how_many_were_there(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let written = store
        .add_suppressions(
            "ws",
            DNC_INTERNAL,
            vec![
                entry("+14155550100", "complaint"),
                entry("+14155550101", "x"),
            ],
            "ops",
            T0,
        )
        .expect("added");
    assert_eq!(
        written,
        SuppressionWrite {
            added: 2,
            updated: 0
        }
    );
    let again = store
        .add_suppressions(
            "ws",
            DNC_INTERNAL,
            vec![entry("+14155550100", "asked twice")],
            "lead",
            T0 + 5,
        )
        .expect("updated");
    assert_eq!(
        again,
        SuppressionWrite {
            added: 0,
            updated: 1
        }
    );
    let list = store
        .suppression_list("ws", DNC_INTERNAL)
        .expect("read")
        .expect("list");
    assert_eq!((list.entries, list.created_at), (2, T0));
    let first = store
        .suppression_entries(&SuppressionQuery {
            workspace: "ws".to_string(),
            list: DNC_INTERNAL.to_string(),
            cursor: None,
            limit: 1,
        })
        .expect("entries")
        .items
        .remove(0);
    assert_eq!(first.phone, "+14155550100");
    assert_eq!(first.reason.as_deref(), Some("asked twice"));
    assert_eq!((first.added_by.as_str(), first.added_at), ("lead", T0 + 5));

    let removed = store
        .remove_suppressions(
            "ws",
            DNC_INTERNAL,
            phones(&["+14155550100", "+14155550199"]),
            T0 + 6,
        )
        .expect("removed");
    assert_eq!(removed, 1);
    let list = store
        .suppression_list("ws", DNC_INTERNAL)
        .expect("read")
        .expect("list");
    assert_eq!(list.entries, 1);
    let hits = store
        .suppressions_of("ws", &phones(&["+14155550100", "+14155550101"]), T0 + 7)
        .expect("hits");
    assert!(hits[0].is_empty());
    assert_eq!(hits[1].len(), 1);
}

pub(super) fn an_expired_entry_no_longer_suppresses_yet_stays_listed(backend: &dyn Backend) {
    let store = &*backend.open();
    let mut expiring = entry("+14155550100", "until the end of the campaign");
    expiring.expires_at = Some(T0 + DAY_MS);
    store
        .add_suppressions("ws", DNC_INTERNAL, vec![expiring], "ops", T0)
        .expect("added");
    let on = phones(&["+14155550100"]);
    assert_eq!(
        store
            .suppressions_of("ws", &on, T0 + DAY_MS - 1)
            .expect("hits")[0]
            .len(),
        1
    );
    assert!(store.suppressions_of("ws", &on, T0 + DAY_MS).expect("hits")[0].is_empty());
    let page = store
        .suppression_entries(&SuppressionQuery {
            workspace: "ws".to_string(),
            list: DNC_INTERNAL.to_string(),
            cursor: None,
            limit: 10,
        })
        .expect("entries");
    assert_eq!(page.items[0].expires_at, Some(T0 + DAY_MS));
}

pub(super) fn a_lists_entries_page_in_phone_order_with_a_cursor(backend: &dyn Backend) {
    let store = &*backend.open();
    store
        .create_suppression_list("ws", informing("consent"), T0)
        .expect("created");
    let numbers: Vec<String> = (0..7).rev().map(|i| format!("+1415555010{i}")).collect();
    let entries = numbers.iter().map(|phone| entry(phone, "opt-in")).collect();
    store
        .add_suppressions("ws", "consent", entries, "ops", T0)
        .expect("added");
    // Another list's and another workspace's entries are not listed.
    store
        .add_suppressions(
            "ws",
            DNC_INTERNAL,
            vec![entry("+14155550103", "x")],
            "ops",
            T0,
        )
        .expect("added");
    store
        .create_suppression_list("other", informing("consent"), T0)
        .expect("created");
    store
        .add_suppressions(
            "other",
            "consent",
            vec![entry("+14155550109", "x")],
            "ops",
            T0,
        )
        .expect("added");
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .suppression_entries(&SuppressionQuery {
                workspace: "ws".to_string(),
                list: "consent".to_string(),
                cursor,
                limit: 3,
            })
            .expect("a page");
        assert!(page.items.len() <= 3);
        listed.extend(page.items.into_iter().map(|entry| entry.phone));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let err = store
        .suppression_entries(&SuppressionQuery {
            workspace: "ws".to_string(),
            list: "nope".to_string(),
            cursor: None,
            limit: 3,
        })
        .expect_err("no such list");
    assert!(matches!(err, StoreError::SuppressionListNotFound { .. }));
}

pub(super) fn suppressions_of_tells_each_number_its_blocking_and_informing_lists_by_name(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    store
        .create_suppression_list("ws", informing("consent"), T0)
        .expect("created");
    store
        .create_suppression_list(
            "ws",
            NewSuppressionList {
                name: "litigators".to_string(),
                description: None,
                blocks: true,
            },
            T0,
        )
        .expect("created");
    for list in [DNC_INTERNAL, "consent", "litigators"] {
        store
            .add_suppressions("ws", list, vec![entry("+14155550100", list)], "ops", T0)
            .expect("added");
    }
    store
        .add_suppressions(
            "ws",
            "consent",
            vec![entry("+14155550101", "web form")],
            "ops",
            T0,
        )
        .expect("added");
    store
        .add_suppressions(
            "other",
            DNC_INTERNAL,
            vec![entry("+14155550102", "x")],
            "ops",
            T0,
        )
        .expect("added");
    let hits = store
        .suppressions_of(
            "ws",
            &phones(&["+14155550100", "+14155550101", "+14155550102"]),
            T0,
        )
        .expect("hits");
    let hit = |list: &str, blocks: bool, reason: &str| SuppressionHit {
        list: list.to_string(),
        blocks,
        reason: Some(reason.to_string()),
    };
    assert_eq!(
        hits,
        vec![
            vec![
                hit("consent", false, "consent"),
                hit(DNC_INTERNAL, true, DNC_INTERNAL),
                hit("litigators", true, "litigators"),
            ],
            vec![hit("consent", false, "web form")],
            Vec::new(),
        ]
    );
}

/// A batch like [`new_batch`]'s of `workspace` and `campaign`.
fn batch_of(workspace: &str, campaign: &str, contacts: usize) -> NewBatch {
    NewBatch {
        workspace: workspace.to_string(),
        campaign_id: campaign.to_string(),
        ..new_batch(contacts)
    }
}

pub(super) fn a_numbers_history_spans_the_campaigns_and_batches_of_its_workspace_only(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let first = store
        .create_batch(batch_of("ws", "camp", 1))
        .expect("create")
        .batch
        .id;
    let second = store
        .create_batch(batch_of("ws", "other", 1))
        .expect("create")
        .batch
        .id;
    let elsewhere = store
        .create_batch(batch_of("ws2", "camp", 1))
        .expect("create")
        .batch
        .id;
    for batch in [&first, &second, &elsewhere] {
        start(store, batch);
    }
    let history = |workspace: &str, batch: &str, now| {
        let contact = store.contact(batch, 0).expect("read").expect("there");
        store
            .phone_histories(workspace, &[&contact], now)
            .expect("read")
            .remove(0)
    };
    assert_eq!(history("ws", &first, T0), Default::default());

    let early = begin_one(store, &first, 0, T0 + MINUTE_MS);
    store
        .end_attempt(end(
            key_of(&early),
            T0 + 2 * MINUTE_MS,
            CallOutcome::Busy,
            ContactStatus::Retrying,
        ))
        .expect("ended");
    let late = begin_one(store, &second, 0, T0 + 3 * MINUTE_MS);
    begin_one(store, &elsewhere, 0, T0 + 4 * MINUTE_MS);

    let now = T0 + 5 * MINUTE_MS;
    let through_first = history("ws", &first, now);
    assert_eq!(
        through_first.placed,
        vec![T0 + MINUTE_MS, T0 + 3 * MINUTE_MS]
    );
    assert_eq!(through_first.last_attempt_at, Some(late.started_at));
    assert_eq!(through_first.last_label.as_deref(), Some("busy"));
    assert_eq!(through_first.attempts_since(T0 + 2 * MINUTE_MS), 1);
    assert_eq!(
        history("ws", &second, now),
        through_first,
        "the same through either contact"
    );
    let apart = history("ws2", &elsewhere, now);
    assert_eq!(apart.placed, vec![T0 + 4 * MINUTE_MS]);
    assert_eq!(apart.last_label, None);

    // A start older than 30 days is out of the history read then.
    store
        .end_attempt(end(
            key_of(&late),
            T0 + 30 * DAY_MS + 2 * MINUTE_MS,
            CallOutcome::NoAnswer,
            ContactStatus::NoAnswer,
        ))
        .expect("ended");
    let later = history("ws", &first, T0 + 30 * DAY_MS + 2 * MINUTE_MS);
    assert_eq!(later.placed, vec![T0 + 3 * MINUTE_MS]);
    assert_eq!(later.last_label.as_deref(), Some("no_answer"));
}

pub(super) fn a_system_retry_takes_its_start_back_out_of_the_numbers_history(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(1)).expect("create").batch.id;
    start(store, &batch);
    let placed = begin_one(store, &batch, 0, T0 + MINUTE_MS);
    store
        .end_attempt(end(
            key_of(&placed),
            T0 + 2 * MINUTE_MS,
            CallOutcome::Busy,
            ContactStatus::Retrying,
        ))
        .expect("ended");
    let throttled = begin_one(store, &batch, 0, T0 + 3 * MINUTE_MS);
    let mut retry = end(
        key_of(&throttled),
        T0 + 3 * MINUTE_MS,
        CallOutcome::Failed,
        ContactStatus::Retrying,
    );
    retry.counts_as_attempt = false;
    store.end_attempt(retry).expect("ended");
    let contact = store.contact(&batch, 0).expect("read").expect("there");
    let history = store
        .phone_histories("ws", &[&contact], T0 + 4 * MINUTE_MS)
        .expect("read")
        .remove(0);
    assert_eq!(history.placed, vec![T0 + MINUTE_MS]);
    assert_eq!(history.last_attempt_at, Some(T0 + MINUTE_MS));
    assert_eq!(history.last_label.as_deref(), Some("busy"));
}

pub(super) fn skips_in_a_group_count_suppressed_and_gate_skips_and_refuse_contacts_not_waiting(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(5)).expect("create").batch.id;
    start(store, &batch);
    let live = begin_one(store, &batch, 4, T0);
    let results = store
        .skip_contacts(
            &batch,
            vec![
                (0, "suppressed:dnc-internal".to_string()),
                (1, "gate:quiet-hours".to_string()),
                (2, "operator".to_string()),
                (4, "suppressed:dnc-internal".to_string()),
                (9, "gate:unknown".to_string()),
            ],
            T0 + 1,
        )
        .expect("one write");
    assert_eq!(
        results[0]
            .as_ref()
            .expect("skipped")
            .final_reason
            .as_deref(),
        Some("suppressed:dnc-internal")
    );
    assert!(results[1].is_ok() && results[2].is_ok());
    assert!(matches!(results[3], Err(StoreError::IllegalTransition(_))));
    assert!(matches!(
        results[4],
        Err(StoreError::ContactNotFound { .. })
    ));
    let refused = store.contact(&batch, 4).expect("read").expect("contact");
    assert_eq!(refused.live_attempt_id.as_deref(), Some(live.id.as_str()));

    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.status(ContactStatus::Skipped), 3);
    assert_eq!((counters.suppressed, counters.gate_skipped), (1, 1));
    assert_eq!(store.recount(&batch).expect("recount"), counters);
    let campaign = store.campaign_counters("ws", "camp").expect("counters");
    assert_eq!((campaign.suppressed, campaign.gate_skipped), (1, 1));
}

pub(super) fn an_end_that_suppresses_adds_the_number_in_the_same_write(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(2)).expect("create").batch.id;
    start(store, &batch);
    let first = begin_one(store, &batch, 0, T0);
    let second = begin_one(store, &batch, 1, T0);
    let suppressing = |attempt, list: &str| {
        let mut end = end(
            key_of(attempt),
            T0 + MINUTE_MS,
            CallOutcome::Answered,
            ContactStatus::Completed,
        );
        end.suppress = Some(SuppressionAdd {
            list: list.to_string(),
            reason: "asked not to be called".to_string(),
        });
        end
    };
    let counters = store.batch_counters(&batch).expect("counters");
    let results = store
        .end_attempts(vec![
            suppressing(&first, "no-such-list"),
            suppressing(&second, DNC_INTERNAL),
        ])
        .expect("one write");

    // The refused end added nothing and ended nothing.
    assert!(matches!(
        results[0],
        Err(StoreError::SuppressionListNotFound { .. })
    ));
    let waiting = store.contact(&batch, 0).expect("read").expect("contact");
    assert_eq!(waiting.live_attempt_id.as_deref(), Some(first.id.as_str()));
    // The other ended, its number on dnc-internal, told in its log.
    let ended = results[1].as_ref().expect("ended");
    assert_eq!(ended.contact.status, ContactStatus::Completed);
    let hits = store
        .suppressions_of(
            "ws",
            &phones(&["+15550000000", "+15550000001"]),
            T0 + MINUTE_MS,
        )
        .expect("hits");
    assert!(hits[0].is_empty());
    assert_eq!(hits[1].len(), 1);
    assert!(hits[1][0].blocks);
    let list = store
        .suppression_list("ws", DNC_INTERNAL)
        .expect("read")
        .expect("list");
    assert_eq!(list.entries, 1);
    let entries = store
        .suppression_entries(&SuppressionQuery {
            workspace: "ws".to_string(),
            list: DNC_INTERNAL.to_string(),
            cursor: None,
            limit: 10,
        })
        .expect("entries");
    assert_eq!(entries.items[0].added_by, second.id);
    let detail = store
        .contact_detail(&batch, 1)
        .expect("read")
        .expect("contact");
    assert!(
        detail
            .events
            .iter()
            .any(|event| event.kind == "suppressed" && event.detail.contains(&second.id))
    );
    let after = store.batch_counters(&batch).expect("counters");
    assert_eq!(after.ended, counters.ended + 1);
    assert_eq!(store.recount(&batch).expect("recount"), after);
}
