//! The store's index of one type (key → content hash, layer) and its encoding as one blob.

use crate::compo::canonical::RecordHash;
use rustc_hash::FxHashMap;

/// One record the portal holds. Millions of these stay in memory while a publish runs, so the
/// hash is kept as two words: 24 bytes an entry instead of the 32 a `u128`'s alignment costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The hash of its canonical form; 0 when unknown (it then differs from any record).
    hash: [u64; 2],
    /// The layer file that holds its text; [`Entry::NO_LAYER`] when there is none.
    pub layer: u32,
    /// Its record's index in that layer (the layer has one record per line).
    pub line: u32,
}

impl Entry {
    pub const NO_LAYER: u32 = u32::MAX;
    /// A record known by its key only (a journal from an older release).
    pub const UNKNOWN: Entry = Entry {
        hash: [0, 0],
        layer: Entry::NO_LAYER,
        line: 0,
    };

    pub fn new(hash: RecordHash, layer: u32, line: u32) -> Entry {
        Entry {
            hash: [hash as u64, (hash >> 64) as u64],
            layer,
            line,
        }
    }

    pub fn hash(&self) -> RecordHash {
        self.hash[0] as u128 | (self.hash[1] as u128) << 64
    }
}

/// Keys as boxed strings: 8 bytes less per entry than `String`, which keeps a spare capacity.
pub type Entries = FxHashMap<Box<str>, Entry>;

/// What the portal holds of one type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holding {
    pub entries: Entries,
    /// Layer numbers, oldest first: a record's text is in the layer its entry names.
    pub layers: Vec<u32>,
    pub next_layer: u32,
    /// A full snapshot was published: the entries are everything the portal has of the type.
    /// Otherwise only what deltas brought is known.
    pub complete: bool,
    /// Why the store may not match the portal; `None` when the processor can vouch for it.
    pub doubt: Option<String>,
    /// When the last full snapshot was published (RFC 3339).
    pub full_at: Option<String>,
    /// When the index was last checked against the texts of its layers (RFC 3339).
    pub verified_at: Option<String>,
}

impl Holding {
    /// Whether the processor can vouch that the entries are exactly what the portal has.
    pub fn vouched(&self) -> bool {
        self.complete && self.doubt.is_none()
    }
}

const VERSION: u8 = 1;

/// Per entry: key length (u16), key, hash (16 bytes), layer (u32), line (u32); little-endian.
pub(super) fn encode(entries: &Entries) -> Vec<u8> {
    let size: usize = entries.keys().map(|k| k.len() + 26).sum();
    let mut out = Vec::with_capacity(size + 9);
    out.push(VERSION);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (k, e) in entries {
        // Keys are at most a few hundred bytes (four identifiers of 64 characters).
        out.extend_from_slice(&(k.len() as u16).to_le_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&e.hash().to_le_bytes());
        out.extend_from_slice(&e.layer.to_le_bytes());
        out.extend_from_slice(&e.line.to_le_bytes());
    }
    out
}

pub(super) fn decode(blob: &[u8]) -> Result<Entries, String> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if b.len() < n {
            return Err("the index ends early".into());
        }
        let (head, rest) = b.split_at(n);
        *b = rest;
        Ok(head)
    }
    let mut b = blob;
    let version = take(&mut b, 1)?[0];
    if version != VERSION {
        return Err(format!(
            "index version {version} (written by a newer release?)"
        ));
    }
    let n = u64::from_le_bytes(take(&mut b, 8)?.try_into().expect("8 bytes"));
    let mut entries = Entries::default();
    entries.reserve(n as usize);
    for _ in 0..n {
        let len = u16::from_le_bytes(take(&mut b, 2)?.try_into().expect("2 bytes")) as usize;
        let key = std::str::from_utf8(take(&mut b, len)?)
            .map_err(|_| "a key is not UTF-8".to_string())?
            .into();
        let hash = u128::from_le_bytes(take(&mut b, 16)?.try_into().expect("16 bytes"));
        let layer = u32::from_le_bytes(take(&mut b, 4)?.try_into().expect("4 bytes"));
        let line = u32::from_le_bytes(take(&mut b, 4)?.try_into().expect("4 bytes"));
        entries.insert(key, Entry::new(hash, layer, line));
    }
    if !b.is_empty() {
        return Err("bytes after the last entry".into());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_round_trips_and_refuses_damage() {
        let mut e = Entries::default();
        e.insert("P-1".into(), Entry::new(u128::MAX - 7, 0, 3));
        e.insert("P\u{1f}Ж\u{1f}\u{1f}1".into(), Entry::UNKNOWN);
        let blob = encode(&e);
        assert_eq!(decode(&blob).unwrap(), e);
        assert!(decode(&blob[..blob.len() - 1]).is_err());
        let mut longer = blob.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(&[9]).is_err());
    }
}
