//! Suppression lists: creating one, adding and removing numbers, the entry
//! count kept with them, and `dnc-internal`, which every workspace has.

use std::collections::{HashMap, HashSet};

use crate::model::{
    DNC_INTERNAL, Millis, NewSuppression, NewSuppressionList, SuppressionEntry, SuppressionList,
    SuppressionWrite, list_name_problem,
};
use crate::store::StoreError;

/// Most characters of a list's description.
pub const MAX_DESCRIPTION: usize = 500;

/// The list `name` of `workspace` as reads answer it: as stored, else
/// `dnc-internal` as it is before anything was written to it.
pub fn as_read(
    stored: Option<SuppressionList>,
    workspace: &str,
    name: &str,
) -> Option<SuppressionList> {
    stored.or_else(|| (name == DNC_INTERNAL).then(|| SuppressionList::dnc_internal(workspace)))
}

/// The list `name` of `workspace` a write at `at` adds to or takes from:
/// as stored; `dnc-internal`, created now, when it was never written.
pub fn for_write(
    stored: Option<SuppressionList>,
    workspace: &str,
    name: &str,
    at: Millis,
) -> Result<SuppressionList, StoreError> {
    match (stored, name == DNC_INTERNAL) {
        (Some(list), _) => Ok(list),
        (None, true) => Ok(SuppressionList {
            created_at: at,
            ..SuppressionList::dnc_internal(workspace)
        }),
        (None, false) => Err(StoreError::SuppressionListNotFound {
            workspace: workspace.to_string(),
            list: name.to_string(),
        }),
    }
}

/// A new list of `workspace`; refused when the name is taken (by a stored
/// list, or `dnc-internal`, which always exists) or malformed.
pub fn create(
    stored: Option<SuppressionList>,
    workspace: &str,
    new: NewSuppressionList,
    at: Millis,
) -> Result<SuppressionList, StoreError> {
    if let Some(problem) = list_name_problem(&new.name) {
        return Err(StoreError::InvalidSuppressionListName(problem));
    }
    if stored.is_some() || new.name == DNC_INTERNAL {
        return Err(StoreError::SuppressionListExists {
            workspace: workspace.to_string(),
            list: new.name,
        });
    }
    let description = new
        .description
        .map(|text| {
            text.trim()
                .chars()
                .take(MAX_DESCRIPTION)
                .collect::<String>()
        })
        .filter(|text| !text.is_empty());
    Ok(SuppressionList {
        workspace: workspace.to_string(),
        name: new.name,
        description,
        blocks: new.blocks,
        created_at: at,
        entries: 0,
    })
}

/// What a write to a list changes: the list (its entry count), the
/// entries written, the numbers taken off.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionChange {
    pub list: SuppressionList,
    /// One per number, the last given for it.
    pub entries: Vec<SuppressionEntry>,
    pub removed: Vec<String>,
    pub write: SuppressionWrite,
}

/// Adds `adds` to `list`, of which `on_list` are the numbers it holds
/// already: their entries are replaced and the count stays. A number
/// given twice is written once, as given last.
pub fn add(
    mut list: SuppressionList,
    on_list: &HashSet<String>,
    adds: Vec<NewSuppression>,
    by: &str,
    at: Millis,
) -> SuppressionChange {
    let mut entries: Vec<SuppressionEntry> = Vec::with_capacity(adds.len());
    let mut written: HashMap<String, usize> = HashMap::with_capacity(adds.len());
    let mut write = SuppressionWrite::default();
    for add in adds {
        let entry = SuppressionEntry {
            phone: add.phone,
            added_at: at,
            expires_at: add.expires_at,
            reason: add.reason,
            added_by: by.to_string(),
        };
        if let Some(index) = written.get(&entry.phone) {
            entries[*index] = entry;
            write.updated += 1;
            continue;
        }
        if on_list.contains(&entry.phone) {
            write.updated += 1;
        } else {
            write.added += 1;
        }
        written.insert(entry.phone.clone(), entries.len());
        entries.push(entry);
    }
    list.entries += write.added;
    SuppressionChange {
        list,
        entries,
        removed: Vec::new(),
        write,
    }
}

/// Takes `phones` off `list`, of which `on_list` are the numbers it
/// holds; the others are no change.
pub fn remove(
    mut list: SuppressionList,
    on_list: &HashSet<String>,
    phones: Vec<String>,
) -> SuppressionChange {
    let mut seen = HashSet::with_capacity(phones.len());
    let removed: Vec<String> = phones
        .into_iter()
        .filter(|phone| on_list.contains(phone) && seen.insert(phone.clone()))
        .collect();
    list.entries = list.entries.saturating_sub(removed.len() as u64);
    SuppressionChange {
        list,
        entries: Vec::new(),
        removed,
        write: SuppressionWrite::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(phone: &str, reason: &str) -> NewSuppression {
        NewSuppression {
            phone: phone.to_string(),
            expires_at: None,
            reason: Some(reason.to_string()),
        }
    }

    #[test]
    fn dnc_internal_is_read_before_it_is_written_and_created_by_its_first_write() {
        let read = as_read(None, "ws", DNC_INTERNAL).expect("always there");
        assert!(read.blocks);
        assert_eq!(read.entries, 0);
        assert_eq!(as_read(None, "ws", "consent"), None);
        let written = for_write(None, "ws", DNC_INTERNAL, 42).expect("created");
        assert_eq!(written.created_at, 42);
        let err = for_write(None, "ws", "consent", 42).expect_err("not created");
        assert_eq!(
            err.to_string(),
            "suppression list \"consent\" not found in workspace \"ws\""
        );
    }

    #[test]
    fn a_taken_or_malformed_name_is_refused() {
        let list = NewSuppressionList {
            name: DNC_INTERNAL.to_string(),
            description: None,
            blocks: true,
        };
        let err = create(None, "ws", list, 1).expect_err("taken");
        assert!(matches!(err, StoreError::SuppressionListExists { .. }));
        let bad = NewSuppressionList {
            name: "Has Space".to_string(),
            ..NewSuppressionList::default()
        };
        assert!(matches!(
            create(None, "ws", bad, 1),
            Err(StoreError::InvalidSuppressionListName(_))
        ));
    }

    #[test]
    fn adding_a_number_already_on_the_list_replaces_its_entry_and_keeps_the_count() {
        let mut list = for_write(None, "ws", DNC_INTERNAL, 1).expect("list");
        list.entries = 1;
        let on_list = HashSet::from(["+14155550100".to_string()]);
        let change = add(
            list,
            &on_list,
            vec![
                new("+14155550100", "again"),
                new("+14155550101", "first"),
                new("+14155550101", "second"),
            ],
            "ops",
            5,
        );
        assert_eq!(change.list.entries, 2);
        assert_eq!(
            change.write,
            SuppressionWrite {
                added: 1,
                updated: 2
            }
        );
        assert_eq!(change.entries.len(), 2);
        assert_eq!(change.entries[1].reason.as_deref(), Some("second"));
    }

    #[test]
    fn removing_counts_only_the_numbers_that_were_on_the_list() {
        let mut list = for_write(None, "ws", DNC_INTERNAL, 1).expect("list");
        list.entries = 1;
        let on_list = HashSet::from(["+14155550100".to_string()]);
        let phones = vec!["+14155550100".to_string(), "+14155550100".to_string()];
        let change = remove(list, &on_list, [phones, vec!["+1999".to_string()]].concat());
        assert_eq!(change.removed, vec!["+14155550100".to_string()]);
        assert_eq!(change.list.entries, 0);
    }
}
