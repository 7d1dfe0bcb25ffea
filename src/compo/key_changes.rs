//! The keys a data file adds or removes, packed: what the record store and the validator's view
//! of the portal learn from one file.
//!
//! A snapshot of a million products carries a million upserts. Held as one `String` and one
//! tuple each they took about 80 MB, were copied into the journal as JSON and read back the
//! same way; packed (the key texts end to end, one offset and one record per upsert) they take
//! 40 bytes and a key's length each, move into and out of the journal as three flat arrays,
//! and cost no allocation per key.

use super::canonical::RecordHash;

/// One upsert: the record's key, its index in the file and the hash of its canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upsert<'a> {
    pub key: &'a str,
    pub index: u64,
    pub hash: RecordHash,
}

/// The keys a data file adds or removes, for the engine's index of what the portal has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChanges {
    pub snapshot: bool,
    /// The upserted keys end to end.
    text: String,
    /// Where each upsert's key ends in `text`.
    ends: Vec<u64>,
    /// Each upsert's record index in the file and the hash of its canonical form (what the
    /// record store compares to find what changed), as two words: 24 bytes, not a `u128`'s 32.
    records: Vec<Record>,
    pub deletions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    index: u64,
    hash: [u64; 2],
}

impl KeyChanges {
    /// No changes yet; a snapshot's when `snapshot`.
    pub fn new(snapshot: bool) -> KeyChanges {
        KeyChanges {
            snapshot,
            ..Default::default()
        }
    }

    /// Room for `n` more upserts whose keys take `text` bytes in all.
    pub fn reserve(&mut self, n: usize, text: usize) {
        self.text.reserve(text);
        self.ends.reserve(n);
        self.records.reserve(n);
    }

    pub fn push(&mut self, key: &str, index: u64, hash: RecordHash) {
        self.text.push_str(key);
        self.ends.push(self.text.len() as u64);
        self.records.push(Record {
            index,
            hash: [hash as u64, (hash >> 64) as u64],
        });
    }

    /// How many keys the file upserts.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The upserts, in the order they were pushed.
    pub fn upserts(&self) -> impl ExactSizeIterator<Item = Upsert<'_>> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// The `i`-th upsert pushed.
    pub fn get(&self, i: usize) -> Upsert<'_> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let r = self.records[i];
        Upsert {
            key: &self.text[start as usize..self.ends[i] as usize],
            index: r.index,
            hash: r.hash[0] as u128 | (r.hash[1] as u128) << 64,
        }
    }

    /// The upserted keys.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.upserts().map(|u| u.key)
    }

    /// The changes once the records at `dropped` (sorted indices) are left out of the file:
    /// their keys go, and the indices of the records after them close up.
    pub fn without(self, dropped: &[u64]) -> KeyChanges {
        if dropped.is_empty() {
            return self;
        }
        let mut out = KeyChanges::new(self.snapshot);
        out.reserve(self.len(), self.text.len());
        for u in self.upserts() {
            let before = dropped.partition_point(|&d| d < u.index);
            if dropped.get(before) == Some(&u.index) {
                continue;
            }
            out.push(u.key, u.index - before as u64, u.hash);
        }
        out.deletions = self.deletions;
        out
    }

    /// Writes the upserts for the journal as three little-endian arrays, each preceded by its
    /// length as a u64: the key texts (bytes), the end of each key (u64), and per upsert its
    /// index (u64) and hash (u128).
    pub fn write_packed(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&(self.text.len() as u64).to_le_bytes())?;
        w.write_all(self.text.as_bytes())?;
        w.write_all(&(self.ends.len() as u64).to_le_bytes())?;
        for e in &self.ends {
            w.write_all(&e.to_le_bytes())?;
        }
        w.write_all(&(self.records.len() as u64).to_le_bytes())?;
        for r in &self.records {
            w.write_all(&r.index.to_le_bytes())?;
            w.write_all(&r.hash[0].to_le_bytes())?;
            w.write_all(&r.hash[1].to_le_bytes())?;
        }
        Ok(())
    }

    /// The bytes [`KeyChanges::write_packed`] writes for these upserts.
    pub fn packed_len(&self) -> usize {
        24 + self.text.len() + self.ends.len() * 8 + self.records.len() * 24
    }

    /// Reads upserts written by [`KeyChanges::write_packed`] from `r`; `None` when they are not well formed.
    /// `size` is what `r` holds in all: no length read from a damaged blob makes it reserve
    /// more than that.
    pub fn read_packed(
        snapshot: bool,
        r: &mut impl std::io::Read,
        size: usize,
        deletions: Vec<String>,
    ) -> std::io::Result<Option<KeyChanges>> {
        fn len(r: &mut impl std::io::Read) -> std::io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        // Fixed-size items, read a buffer at a time straight into their array.
        fn items<T, const N: usize>(
            r: &mut impl std::io::Read,
            n: usize,
            make: impl Fn(&[u8; N]) -> T,
        ) -> std::io::Result<Vec<T>> {
            let mut out = Vec::with_capacity(n);
            let mut buf = vec![0u8; N * 4096];
            let mut left = n;
            while left > 0 {
                let take = left.min(4096);
                r.read_exact(&mut buf[..take * N])?;
                out.extend(
                    buf[..take * N]
                        .chunks_exact(N)
                        .map(|c| make(c.try_into().expect("N bytes"))),
                );
                left -= take;
            }
            Ok(out)
        }
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let fits = |n: u64, item: u64| n.checked_mul(item).is_some_and(|b| b <= size as u64);
        let text_len = len(r)?;
        if !fits(text_len, 1) {
            return Ok(None);
        }
        let text_len = text_len as usize;
        let mut text = vec![0u8; text_len];
        r.read_exact(&mut text)?;
        let Ok(text) = String::from_utf8(text) else {
            return Ok(None);
        };
        let n = len(r)?;
        if !fits(n, 32) {
            return Ok(None);
        }
        let n = n as usize;
        let ends = items::<u64, 8>(r, n, |b| word(b))?;
        if len(r)? != n as u64 {
            return Ok(None);
        }
        let records = items::<Record, 24>(r, n, |b| Record {
            index: word(&b[..8]),
            hash: [word(&b[8..16]), word(&b[16..])],
        })?;
        // Every key must end after the previous one, within the text, on a character boundary.
        let mut start = 0;
        for &end in &ends {
            if end < start || end > text.len() as u64 || !text.is_char_boundary(end as usize) {
                return Ok(None);
            }
            start = end;
        }
        Ok(Some(KeyChanges {
            snapshot,
            text,
            ends,
            records,
            deletions,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KeyChanges {
        let mut k = KeyChanges::new(true);
        k.push("P-1", 0, u128::MAX - 3);
        k.push("", 1, 0);
        k.push("Ж\u{1f}7", 5, 42);
        k.deletions.push("gone".into());
        k
    }

    #[test]
    fn upserts_come_back_as_pushed() {
        let k = sample();
        let got: Vec<_> = k.upserts().map(|u| (u.key, u.index, u.hash)).collect();
        assert_eq!(
            got,
            [("P-1", 0, u128::MAX - 3), ("", 1, 0), ("Ж\u{1f}7", 5, 42)]
        );
        assert_eq!(k.len(), 3);
    }

    #[test]
    fn dropped_records_take_their_keys_and_the_rest_close_up() {
        let k = sample().without(&[1]);
        let got: Vec<_> = k.upserts().map(|u| (u.key, u.index)).collect();
        assert_eq!(got, [("P-1", 0), ("Ж\u{1f}7", 4)]);
        assert_eq!(k.deletions, ["gone"]);
    }

    #[test]
    fn the_packed_form_round_trips_and_refuses_damage() {
        let k = sample();
        let mut b = Vec::new();
        k.write_packed(&mut b).unwrap();
        assert_eq!(b.len(), k.packed_len());
        let back = KeyChanges::read_packed(true, &mut &b[..], b.len(), k.deletions.clone())
            .unwrap()
            .unwrap();
        assert_eq!(back, k);
        // Cut short: an error. A key ending inside a character: not well formed.
        assert!(KeyChanges::read_packed(true, &mut &b[..b.len() - 1], b.len(), vec![]).is_err());
        let mut bad = b.clone();
        // The second key's end (after the 8-byte text length, 7 bytes of text, the count and
        // the first end) points into the middle of "Ж".
        let at = 8 + 7 + 8 + 8;
        bad[at..at + 8].copy_from_slice(&4u64.to_le_bytes());
        bad[at + 8..at + 16].copy_from_slice(&4u64.to_le_bytes());
        assert_eq!(
            KeyChanges::read_packed(true, &mut &bad[..], bad.len(), vec![]).unwrap(),
            None
        );
        // A length beyond what the blob holds is refused before anything is reserved.
        let mut huge = b.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            KeyChanges::read_packed(true, &mut &huge[..], huge.len(), vec![]).unwrap(),
            None
        );
    }
}
