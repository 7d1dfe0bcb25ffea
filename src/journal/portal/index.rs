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

/// The bytes [`write`] gives for `entries`.
pub(super) fn encoded_len(entries: &Entries) -> usize {
    9 + entries.keys().map(|k| k.len() + 26).sum::<usize>()
}

/// Per entry: key length (u16), key, hash (16 bytes), layer (u32), line (u32); little-endian.
pub(super) fn write(entries: &Entries, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(&[VERSION])?;
    out.write_all(&(entries.len() as u64).to_le_bytes())?;
    for (k, e) in entries {
        // Keys are at most a few hundred bytes (four identifiers of 64 characters).
        out.write_all(&(k.len() as u16).to_le_bytes())?;
        out.write_all(k.as_bytes())?;
        out.write_all(&e.hash().to_le_bytes())?;
        out.write_all(&e.layer.to_le_bytes())?;
        out.write_all(&e.line.to_le_bytes())?;
    }
    Ok(())
}

/// Reads what [`write`] wrote, a buffer at a time: the index is never held twice. `size` is
/// what `r` holds: a damaged count cannot make it reserve more than that many entries.
pub(super) fn read(r: &mut impl std::io::Read, size: usize) -> Result<Entries, String> {
    fn take<const N: usize>(r: &mut impl std::io::Read) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        r.read_exact(&mut b).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "the index ends early".to_string(),
            _ => e.to_string(),
        })?;
        Ok(b)
    }
    let [version] = take::<1>(r)?;
    if version != VERSION {
        return Err(format!(
            "index version {version} (written by a newer release?)"
        ));
    }
    let n = u64::from_le_bytes(take::<8>(r)?);
    if n.saturating_mul(26) > size as u64 {
        return Err(format!("{n} entries cannot fit in {size} bytes"));
    }
    let mut entries = Entries::default();
    entries.reserve(n as usize);
    let mut key = Vec::new();
    for _ in 0..n {
        let len = u16::from_le_bytes(take::<2>(r)?) as usize;
        key.resize(len, 0);
        r.read_exact(&mut key)
            .map_err(|_| "the index ends early".to_string())?;
        let k = std::str::from_utf8(&key).map_err(|_| "a key is not UTF-8".to_string())?;
        let hash = u128::from_le_bytes(take::<16>(r)?);
        let layer = u32::from_le_bytes(take::<4>(r)?);
        let line = u32::from_le_bytes(take::<4>(r)?);
        entries.insert(k.into(), Entry::new(hash, layer, line));
    }
    if r.read(&mut [0u8; 1]).map_err(|e| e.to_string())? != 0 {
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
        let mut blob = Vec::new();
        write(&e, &mut blob).unwrap();
        assert_eq!(blob.len(), encoded_len(&e));
        assert_eq!(read(&mut &blob[..], blob.len()).unwrap(), e);
        assert!(read(&mut &blob[..blob.len() - 1], blob.len()).is_err());
        let mut longer = blob.clone();
        longer.push(0);
        assert!(read(&mut &longer[..], longer.len()).is_err());
        assert!(read(&mut &[9u8][..], 1).is_err());
        let mut many = blob.clone();
        many[1..9].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read(&mut &many[..], many.len()).is_err());
    }
}
