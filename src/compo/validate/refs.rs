//! The checks across records and files of a batch: references to keys and to attached files
//! (against the batch and, in the engine, the portal's state), and cycles in the category tree.

use super::record::pointer_of;
use super::*;

impl Run<'_> {
    /// Whether a reference from `from` resolves; `None` when it cannot be checked.
    pub(super) fn check_ref(
        &self,
        from: usize,
        record: u64,
        (path, at): (&'static [Step], Option<u32>),
        target: DataType,
        value: &str,
    ) -> Option<Issue> {
        let ti = self.index.get(&target);
        let mut rejected_in = None;
        if let Some(loc) = ti.and_then(|ti| ti.keys.get(value)) {
            let f = loc.file as usize;
            // Against the portal's state (the engine), a record whose file is rejected will
            // never arrive there, so it cannot carry a reference. Validating alone, the record
            // exists and its file's own report says what is wrong with it.
            if f == from || self.state.is_none() || self.will_publish(f, loc.index as u64) {
                return None;
            }
            // Under drop_records the record itself has errors: it is left out (or its file
            // rejected whole), and the message says so rather than blaming the whole file.
            let dropped = self.v.opts.policy == Policy::DropRecords
                && self.accs[f].bad.contains(&(loc.index as u64));
            rejected_in = Some((self.accs[f].report.file.clone(), dropped));
        }
        // Left out for its errors; the portal may still hold an older version of it.
        let dropped_in = ti.and_then(|ti| ti.dropped.get(value));
        let deleted = ti.is_some_and(|ti| ti.deleted.contains_key(value));
        let snapshot = ti.is_some_and(|ti| ti.snapshot);
        let found = if deleted || snapshot || rejected_in.is_some() {
            false
        } else {
            match self.state {
                Some(s) if s.has_type(target) => s.contains(target, value),
                _ => return None,
            }
        };
        if found {
            return None;
        }
        let lang = self.v.opts.lang;
        let target = target.name();
        let dropped_in = dropped_in.map(|&f| (self.accs[f as usize].report.file.clone(), true));
        let message = if let Some((file, true)) = rejected_in.as_ref().or(dropped_in.as_ref()) {
            msg!(
                lang,
                "ref-missing-dropped",
                target = target,
                value = value,
                file = file.as_str()
            )
        } else if let Some((file, false)) = &rejected_in {
            msg!(
                lang,
                "ref-missing-rejected",
                target = target,
                value = value,
                file = file.as_str()
            )
        } else if deleted {
            msg!(lang, "ref-missing-deleted", target = target, value = value)
        } else {
            msg!(lang, "ref-missing", target = target, value = value)
        };
        Some(Issue::new(
            Some(record),
            pointer_of(record, path, at),
            codes::REF_MISSING,
            message,
        ))
    }

    /// Whether record `index` of file `f` reaches the portal: its file is valid, or the
    /// `drop_records` policy publishes the file without its bad records and this one is good.
    pub(super) fn will_publish(&self, f: usize, index: u64) -> bool {
        let acc = &self.accs[f];
        if acc.report.is_ok() {
            return true;
        }
        self.v.opts.policy == Policy::DropRecords
            && !acc.bad.contains(&index)
            && acc.report.errors.iter().all(|e| e.record.is_some())
    }

    pub(super) fn check_file_ref(
        &self,
        record: u64,
        (path, at): (&'static [Step], Option<u32>),
        folder: AttachedFolder,
        name: &str,
    ) -> Option<Issue> {
        let lang = self.v.opts.lang;
        let file = format!("{folder}/{name}");
        let message = match self.files_in_batch.get(&(folder, name)) {
            Some(true) => return None,
            // Validating alone, the file exists and its own report says what is wrong; for
            // the engine it will not reach the server, so the reference would dangle.
            Some(false) if self.state.is_none() => return None,
            Some(false) => msg!(lang, "file-missing-rejected", file = file),
            None => {
                match self.state.and_then(|s| s.has_attached(folder, name)) {
                    Some(true) => return None,
                    Some(false) => {}
                    None if !self.folders.contains(&folder) => return None,
                    None => {}
                }
                msg!(lang, "file-missing", file = file, folder = folder.name())
            }
        };
        Some(Issue::new(
            Some(record),
            pointer_of(record, path, at),
            codes::FILE_MISSING,
            message,
        ))
    }

    pub(super) fn resolve_pending(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            if let Some(issue) = self.check_ref(p.file, p.record, p.at, p.target, &p.value) {
                self.accs[p.file].error(issue);
            }
        }
    }

    /// Reports each cycle of the category tree once, on its member that comes first.
    pub(super) fn find_cycles(&mut self) {
        if self.parents.is_empty() {
            return;
        }
        let parents = std::mem::take(&mut self.parents);
        let parent_of: HashMap<&str, (&str, usize, u64)> = parents
            .iter()
            .map(|(k, p, f, i)| (k.as_str(), (p.as_str(), *f, *i)))
            .collect();
        let mut done: HashSet<&str> = HashSet::new();
        let mut cycles = Vec::new();
        for (start, ..) in &parents {
            let mut path: Vec<&str> = Vec::new();
            let mut on_path: HashMap<&str, usize> = HashMap::new();
            let mut cur = start.as_str();
            loop {
                if done.contains(cur) {
                    break;
                }
                if let Some(&pos) = on_path.get(cur) {
                    cycles.push(path[pos..].to_vec());
                    break;
                }
                on_path.insert(cur, path.len());
                path.push(cur);
                match parent_of.get(cur) {
                    Some((p, ..)) => cur = p,
                    None => break,
                }
            }
            done.extend(path);
        }
        for cycle in cycles {
            let first = cycle
                .iter()
                .map(|k| parent_of[k])
                .min_by_key(|&(_, f, i)| (f, i))
                .expect("a cycle has members");
            let (_, file, idx) = first;
            let names: Vec<String> = cycle.iter().map(|k| format!("\"{k}\"")).collect();
            self.accs[file].error(Issue::new(
                Some(idx),
                format!("/{idx}/parent_id"),
                codes::TREE_CYCLE,
                msg!(self.v.opts.lang, "tree-cycle", cycle = names.join(" → ")),
            ));
        }
    }
}
