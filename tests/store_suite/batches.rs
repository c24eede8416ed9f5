//! Creating batches, whole or in chunks, under idempotency keys, and listing
//! their contacts.

use outdial::model::{ContactStatus, EventKind};
use outdial::store::{BatchQuery, ContactChunk, ContactQuery, NewBatch, StoreError};

use super::Backend;
use super::requests::{T0, chunk, journal_kinds, new_batch};

pub(super) fn the_same_idempotency_key_returns_the_same_batch(backend: &dyn Backend) {
    let store = &*backend.open();
    let mut request = new_batch(2);
    request.idempotency_key = Some("upload-1".to_string());
    let first = store.create_batch(request.clone()).expect("create");
    let second = store.create_batch(request).expect("create again");
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.batch, second.batch);
    assert!(first.batch.id.starts_with("btc_"));
    let listed = store
        .list_batches(&BatchQuery {
            workspace: "ws".to_string(),
            limit: 10,
            ..BatchQuery::default()
        })
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(store.batch_counters(&first.batch.id).expect("c").total, 2);
}

pub(super) fn a_repeated_idempotency_key_answers_the_first_batch_without_reading_the_upload(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let keyed = || NewBatch {
        idempotency_key: Some("upload-1".to_string()),
        ..new_batch(4)
    };
    let first = store.create_batch(keyed()).expect("first create");

    let mut untouched = std::iter::from_fn(|| -> Option<ContactChunk> {
        panic!("the upload of a repeated create is never read")
    });
    let again = store
        .create_batch_in_chunks(keyed(), &mut untouched)
        .expect("repeat")
        .expect("answered");
    assert!(!again.created);
    assert_eq!(again.batch.id, first.batch.id);
    assert_eq!(store.batch_counters(&first.batch.id).unwrap().total, 4);
}

pub(super) fn an_idempotency_key_names_a_batch_of_its_own_workspace_only(backend: &dyn Backend) {
    let store = &*backend.open();
    let keyed = |workspace: &str| NewBatch {
        workspace: workspace.to_string(),
        idempotency_key: Some("upload-1".to_string()),
        ..new_batch(2)
    };
    let ours = store.create_batch(keyed("ws")).expect("create");
    let theirs = store.create_batch(keyed("other")).expect("create");
    assert!(theirs.created, "another workspace's key names none of ours");
    assert_ne!(theirs.batch.id, ours.batch.id);
    assert_eq!(theirs.batch.workspace, "other");

    let again = store.create_batch(keyed("ws")).expect("create again");
    assert!(!again.created);
    assert_eq!(again.batch, ours.batch);
    let again = store.create_batch(keyed("other")).expect("create again");
    assert!(!again.created);
    assert_eq!(again.batch, theirs.batch);
}

pub(super) fn creates_racing_under_one_idempotency_key_make_one_batch(backend: &dyn Backend) {
    let store = &*backend.open();
    let keyed = || NewBatch {
        idempotency_key: Some("upload-1".to_string()),
        ..new_batch(5)
    };
    // Several chunks each, so the creates overlap while their contacts are
    // written.
    let answers: Vec<_> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(move || {
                    let mut chunks = [chunk(5, 1_500), chunk(1_500, 3_000)].into_iter();
                    store
                        .create_batch_in_chunks(keyed(), &mut chunks)
                        .expect("a create under a taken key is no error")
                        .expect("not abandoned")
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|racer| racer.join().expect("the racer finishes"))
            .collect()
    });

    let created = answers.iter().filter(|answer| answer.created).count();
    assert_eq!(created, 1, "exactly one create made the batch");
    let batch = &answers[0].batch.id;
    assert!(
        answers.iter().all(|answer| answer.batch.id == *batch),
        "every create answers the same batch: {:?}",
        answers.iter().map(|a| &a.batch.id).collect::<Vec<_>>()
    );
    let listed = store
        .list_batches(&BatchQuery {
            workspace: "ws".to_string(),
            limit: 10,
            ..BatchQuery::default()
        })
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(store.open_batches().expect("open batches").len(), 1);
    let counters = store.batch_counters(batch).expect("counters");
    assert_eq!(counters.total, 3_000);
    assert_eq!(counters, store.recount(batch).expect("recount"));
    assert_eq!(
        store.campaign_counters("ws", "camp").expect("campaign"),
        counters,
        "nothing of the losing creates is counted"
    );
    assert_eq!(journal_kinds(store, 0), [EventKind::BatchCreated.as_str()]);
}

pub(super) fn a_batch_larger_than_one_write_is_created_whole(backend: &dyn Backend) {
    let store = &*backend.open();
    let contacts = 25_000;
    let created = store.create_batch(new_batch(contacts)).expect("create");
    let batch = created.batch.id;

    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.total, contacts as u64);
    assert_eq!(counters.status(ContactStatus::Pending), contacts as u64);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    let last = store
        .contact(&batch, contacts as u64 - 1)
        .expect("read")
        .expect("the last contact is stored");
    assert_eq!(last.contact_id, format!("c{}", contacts - 1));
    // sled writes 10,000 contacts at a time, a seam inside one of its pages
    // of 32: the contacts around it are each where they belong.
    let seam: Vec<u64> = (9_990..10_010).collect();
    let read = store.contacts_with_attempts(&batch, &seam).expect("read");
    for found in read {
        let contact = found
            .expect("every contact around the seam is stored")
            .contact;
        assert_eq!(contact.contact_id, format!("c{}", contact.seq));
        assert_eq!(contact.phone, format!("+1555000{:04}", contact.seq));
    }
}

pub(super) fn a_batch_fed_in_chunks_numbers_its_contacts_on_and_appears_only_with_the_last_write(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let query = BatchQuery {
        workspace: "ws".to_string(),
        limit: 10,
        ..BatchQuery::default()
    };
    let mut pulled = 0;
    let mut chunks = [chunk(5, 40), chunk(40, 41), chunk(41, 12_000)]
        .into_iter()
        .inspect(|_| {
            pulled += 1;
            let listed = store.list_batches(&query).expect("list");
            assert!(
                listed.items.is_empty(),
                "no batch is visible while contacts arrive"
            );
            assert!(store.open_batches().expect("open batches").is_empty());
        });
    let created = store
        .create_batch_in_chunks(new_batch(5), &mut chunks)
        .expect("create")
        .expect("not abandoned");
    assert_eq!(pulled, 3);
    let batch = created.batch.id;
    let counters = store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.total, 12_000);
    assert_eq!(counters, store.recount(&batch).expect("recount"));
    for seq in [0, 4, 5, 39, 40, 41, 11_999] {
        let contact = store.contact(&batch, seq).expect("read").expect("stored");
        assert_eq!(contact.contact_id, format!("c{seq}"));
    }
    assert_eq!(store.due(&batch, T0, 20_000).expect("due").len(), 12_000);
}

/// The batches of workspace "ws", newest first.
fn listed_batches(store: &dyn outdial::store::Store) -> Vec<String> {
    store
        .list_batches(&BatchQuery {
            workspace: "ws".to_string(),
            limit: 100,
            ..BatchQuery::default()
        })
        .expect("list")
        .items
        .into_iter()
        .map(|batch| batch.id)
        .collect()
}

pub(super) fn an_abandoned_create_leaves_no_batch_behind(backend: &dyn Backend) {
    let store = &*backend.open();
    let kept = store.create_batch(new_batch(3)).expect("an earlier batch");
    let head = store.journal_head().expect("head");
    let keyed = |contacts| NewBatch {
        idempotency_key: Some("upload-1".to_string()),
        ..new_batch(contacts)
    };

    let mut chunks = [
        chunk(10, 15_000),
        ContactChunk::Abandon,
        chunk(15_000, 15_001),
    ]
    .into_iter();
    let created = store
        .create_batch_in_chunks(keyed(10), &mut chunks)
        .expect("an abandon is not an error");
    assert!(created.is_none());
    assert_eq!(chunks.count(), 1, "nothing is read after the abandon");

    assert_eq!(listed_batches(store), std::slice::from_ref(&kept.batch.id));
    let open = store.open_batches().expect("open batches");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, kept.batch.id);
    assert_eq!(
        store.campaign_counters("ws", "camp").expect("campaign"),
        store.batch_counters(&kept.batch.id).expect("counters"),
        "none of the abandoned contacts is counted"
    );
    assert_eq!(store.journal_head().expect("head"), head, "nothing is told");

    let again = store.create_batch(keyed(2)).expect("create");
    assert!(again.created, "the abandoned create took no key");
    assert_eq!(store.batch_counters(&again.batch.id).expect("c").total, 2);
}

pub(super) fn a_contact_id_repeated_in_a_later_chunk_refuses_the_whole_batch(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let head = store.journal_head().expect("head");
    let mut repeat = new_batch(3).contacts;
    repeat.truncate(1);
    repeat[0].contact_id = "c1".to_string();
    repeat[0].phone = "+15559990000".to_string();
    let mut chunks = [chunk(3, 7), ContactChunk::Contacts(repeat)].into_iter();

    let error = store
        .create_batch_in_chunks(new_batch(3), &mut chunks)
        .expect_err("a repeated id is refused");
    match &error {
        StoreError::DuplicateContact {
            contact_id, seqs, ..
        } => {
            assert_eq!(contact_id, "c1");
            assert_eq!(*seqs, (1, 7));
        }
        other => panic!("expected a duplicate contact, got {other:?}"),
    }
    assert!(error.to_string().contains("numbers 2 and 8 of the upload"));
    assert!(listed_batches(store).is_empty());
    assert!(store.open_batches().expect("open batches").is_empty());
    assert_eq!(
        store
            .campaign_counters("ws", "camp")
            .expect("campaign")
            .total,
        0
    );
    assert_eq!(store.journal_head().expect("head"), head);
}

pub(super) fn listing_contacts_by_status_pages_with_a_cursor(backend: &dyn Backend) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(10)).expect("create").batch.id;
    for seq in [1, 4, 5, 9] {
        store
            .skip_contact(&batch, seq, "operator", T0)
            .expect("skip");
    }
    let mut query = ContactQuery {
        batch_id: batch.clone(),
        status: Some(ContactStatus::Skipped),
        cursor: None,
        limit: 3,
    };
    let first = store.list_contacts(&query).expect("page");
    assert_eq!(
        first.items.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![1, 4, 5]
    );
    query.cursor = first.next_cursor;
    let second = store.list_contacts(&query).expect("page");
    assert_eq!(
        second.items.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![9]
    );
    assert_eq!(second.next_cursor, None);
}

pub(super) fn listing_contacts_by_status_follows_its_cursor_across_the_whole_batch(
    backend: &dyn Backend,
) {
    let store = &*backend.open();
    let batch = store.create_batch(new_batch(100)).expect("create").batch.id;
    // Around and across sled's state pages of 32 contacts.
    let skipped = [3, 31, 32, 77, 99];
    for seq in skipped {
        store
            .skip_contact(&batch, seq, "operator", T0)
            .expect("skip");
    }
    let mut query = ContactQuery {
        batch_id: batch.clone(),
        status: Some(ContactStatus::Skipped),
        cursor: None,
        limit: 2,
    };
    let mut seen = Vec::new();
    loop {
        let page = store.list_contacts(&query).expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|contact| {
            assert_eq!(contact.status, ContactStatus::Skipped);
            assert_eq!(contact.contact_id, format!("c{}", contact.seq));
            contact.seq
        }));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, skipped);
    query.status = None;
    query.cursor = Some("30".to_string());
    query.limit = 3;
    let after_30: Vec<u64> = store
        .list_contacts(&query)
        .expect("page")
        .items
        .iter()
        .map(|contact| contact.seq)
        .collect();
    assert_eq!(
        after_30,
        [31, 32, 33],
        "an unfiltered page continues after its cursor"
    );
}
