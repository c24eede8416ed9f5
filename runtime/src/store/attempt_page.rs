//! The `A` record: one attempt (the first, the second, ...) of each of
//! the [`ATTEMPT_GROUP`](super::keys::ATTEMPT_GROUP) neighbouring contacts
//! that ended it, each kept encoded under its contact's slot.
//!
//! One record per group and number instead of one per attempt: a batch
//! dials neighbouring contacts together, so their attempts end together
//! and one write of a page serves several of them, and sled's insert path
//! is a large share of the store's work. An attempt that ends alone
//! rewrites its page with the entries already there; one too large to
//! share a page is a record of its own (see `sled_store.rs`).
//!
//! The layout is MessagePack: an array of `[slot, bin]` pairs in slot
//! order. A reader finds one entry by walking the headers, without
//! decoding the others.

use rmp::decode;

/// An entry that could not be read: the record is not an attempt page.
#[derive(Debug)]
pub struct Malformed(String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not an attempt page: {}", self.0)
    }
}

/// Every entry of `page`, in slot order, each borrowed from it.
pub fn entries(page: &[u8]) -> Result<Vec<(u8, &[u8])>, Malformed> {
    let mut rest = page;
    let count = decode::read_array_len(&mut rest).map_err(|err| Malformed(err.to_string()))?;
    // The count is read from the record: it sizes nothing before the
    // entries are there.
    let mut entries = Vec::new();
    for _ in 0..count {
        entries.push(read_entry(&mut rest)?);
    }
    if !rest.is_empty() {
        return Err(Malformed(format!(
            "{} bytes after the last entry",
            rest.len()
        )));
    }
    Ok(entries)
}

/// The entry of `slot` in `page`, if it has one.
pub fn entry(page: &[u8], slot: u8) -> Result<Option<&[u8]>, Malformed> {
    let mut rest = page;
    let count = decode::read_array_len(&mut rest).map_err(|err| Malformed(err.to_string()))?;
    for _ in 0..count {
        let (at, bytes) = read_entry(&mut rest)?;
        if at == slot {
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

/// A page of `entries`, which are in slot order.
pub fn encode<'e>(entries: impl ExactSizeIterator<Item = (u8, &'e [u8])>) -> Vec<u8> {
    let mut page = Vec::new();
    let count = u32::try_from(entries.len()).expect("a page holds few entries");
    rmp::encode::write_array_len(&mut page, count).expect("writing to a Vec never fails");
    for (slot, bytes) in entries {
        let len = u32::try_from(bytes.len()).expect("an attempt is far below 4 GiB");
        rmp::encode::write_array_len(&mut page, 2).expect("writing to a Vec never fails");
        rmp::encode::write_uint(&mut page, u64::from(slot)).expect("writing to a Vec never fails");
        rmp::encode::write_bin_len(&mut page, len).expect("writing to a Vec never fails");
        page.extend_from_slice(bytes);
    }
    page
}

fn read_entry<'p>(rest: &mut &'p [u8]) -> Result<(u8, &'p [u8]), Malformed> {
    let malformed = |err: &dyn std::fmt::Display| Malformed(err.to_string());
    let fields = decode::read_array_len(rest).map_err(|err| malformed(&err))?;
    if fields != 2 {
        return Err(Malformed(format!("an entry of {fields} fields")));
    }
    let slot: u8 = decode::read_int(rest).map_err(|err| malformed(&err))?;
    let len = decode::read_bin_len(rest).map_err(|err| malformed(&err))? as usize;
    if rest.len() < len {
        return Err(Malformed(format!(
            "an entry of {len} bytes with {} left",
            rest.len()
        )));
    }
    let (bytes, after) = rest.split_at(len);
    *rest = after;
    Ok((slot, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_by_its_slot_among_others() {
        let page = encode([(0, &b"first"[..]), (7, b""), (31, b"last")].into_iter());
        assert_eq!(entry(&page, 0).unwrap(), Some(&b"first"[..]));
        assert_eq!(entry(&page, 7).unwrap(), Some(&b""[..]));
        assert_eq!(entry(&page, 31).unwrap(), Some(&b"last"[..]));
        assert_eq!(entry(&page, 3).unwrap(), None);
        assert_eq!(
            entries(&page).unwrap(),
            vec![(0, &b"first"[..]), (7, &b""[..]), (31, &b"last"[..])]
        );
    }

    #[test]
    fn a_page_claiming_more_entries_than_it_holds_is_malformed() {
        let mut page = Vec::new();
        rmp::encode::write_array_len(&mut page, u32::MAX).unwrap();
        assert!(entries(&page).is_err());
        assert!(entry(&page, 1).is_err());
    }

    #[test]
    fn a_truncated_page_is_malformed_not_read_short() {
        let page = encode([(2, &[9u8; 300][..])].into_iter());
        let cut = &page[..page.len() - 1];
        assert!(entry(cut, 2).is_err());
        assert!(entries(cut).is_err());
        let mut longer = page.clone();
        longer.push(0);
        assert!(entries(&longer).is_err());
    }
}
