//! The life of a file as a state machine: the states, and the table of the steps allowed from
//! each. [`super::Journal::transition`] refuses any other step, so that a row can never claim
//! a step that did not follow from its last one.
//!
//! Outbox files: `claiming -> claimed -> staged -> publishing -> uploaded -> published ->
//! archived`, or aside (`unchanged`, `superseded`) to `archived`, or `rejecting -> rejected`.
//! Files from `out/`: `downloaded -> delivering -> uploaded -> delivered -> acknowledged`, or
//! `rejecting -> rejected`. Staying in a state is always allowed: it records a detail (where
//! the file will be archived, a new work path) without a step.

use super::{JournalError, Result};

macro_rules! states {
    ($($v:ident = $s:literal, $final:literal;)*) => {
        /// The life of a file. Each state names the step that is being or has been done; see
        /// the pipeline's recovery for what a restart does in each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum State { $($v),* }
        impl State {
            pub const ALL: &'static [State] = &[$(State::$v),*];
            pub fn as_str(self) -> &'static str { match self { $(State::$v => $s),* } }
            pub fn parse(s: &str) -> Result<State> {
                match s { $($s => Ok(State::$v),)* other => Err(JournalError::UnknownState(other.into())) }
            }
            /// No further step will be taken.
            pub fn is_final(self) -> bool { match self { $(State::$v => $final),* } }
        }
    };
}

states! {
    // Outbox files.
    Claiming = "claiming", false;
    Claimed = "claimed", false;
    Staged = "staged", false;
    Rejecting = "rejecting", false;
    Rejected = "rejected", true;
    Superseded = "superseded", false;
    Unchanged = "unchanged", false;
    Publishing = "publishing", false;
    Uploaded = "uploaded", false;
    Published = "published", false;
    Archived = "archived", true;
    // Files from out/.
    Downloaded = "downloaded", false;
    Delivering = "delivering", false;
    Delivered = "delivered", false;
    Acknowledged = "acknowledged", true;
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

use State::*;

/// The steps allowed from each state (besides staying). Why each exists:
const ALLOWED: &[(State, &[State])] = &[
    // Taken into work/; or gone before it could be (archived as vanished); or unusable (a
    // name too long, a link, a FIFO): rejected with a report.
    (Claiming, &[Claimed, Archived, Rejecting]),
    // Validated and staged; or the same as what was published (unchanged); or a Sellper XML
    // converted into data files (archived); or invalid.
    (Claimed, &[Staged, Unchanged, Archived, Rejecting]),
    // Its publish begins; or a newer snapshot made it pointless; or a changes-only snapshot
    // that changes nothing the portal holds (unchanged); or a refusal found only at publish
    // time (an attached file it needs could not be published).
    (Staged, &[Publishing, Superseded, Unchanged, Rejecting]),
    (Superseded, &[Archived]),
    (Unchanged, &[Archived]),
    // Uploaded under the hidden name; or the upload failed and the file waits its turn again;
    // or it can never be published.
    (Publishing, &[Uploaded, Staged, Rejecting]),
    // Outbound: renamed onto its name (published), or the hidden upload was lost and is sent
    // again (publishing). Inbound: renamed into the inbox (delivered). Either: rejected.
    (Uploaded, &[Published, Publishing, Delivered, Rejecting]),
    (Published, &[Archived]),
    // Validated and on its way to the inbox; a duplicate, or a download that never completed
    // (acknowledged); invalid.
    (Downloaded, &[Delivering, Acknowledged, Rejecting]),
    (Delivering, &[Uploaded, Rejecting]),
    (Delivered, &[Acknowledged]),
    (Rejecting, &[Rejected]),
    (Rejected, &[]),
    (Archived, &[]),
    (Acknowledged, &[]),
];

/// The states a file may go to from `from`, staying excluded.
pub fn allowed_from(from: State) -> &'static [State] {
    ALLOWED
        .iter()
        .find(|(s, _)| *s == from)
        .map(|(_, to)| *to)
        .unwrap_or(&[])
}

/// Whether a row in `from` may go to `to`.
pub fn allowed(from: State, to: State) -> bool {
    from == to || allowed_from(from).contains(&to)
}

/// `a, b, c`, or `none (final)`: for the error message.
pub(super) fn allowed_list(from: State) -> String {
    let to = allowed_from(from);
    if to.is_empty() {
        "none (final)".into()
    } else {
        to.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The error for a step not allowed, `Ok` for one that is.
pub(super) fn check(id: i64, name: &str, from: State, to: State) -> Result<()> {
    if allowed(from, to) {
        Ok(())
    } else {
        Err(JournalError::Transition {
            id,
            name: name.into(),
            from,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_row_and_final_states_lead_nowhere() {
        for s in State::ALL {
            assert!(
                ALLOWED.iter().any(|(f, _)| f == s),
                "{s} has no row in the table"
            );
            assert_eq!(allowed_from(*s).is_empty(), s.is_final(), "{s}");
        }
    }

    #[test]
    fn the_paths_the_pipeline_takes_are_allowed() {
        let paths: &[&[State]] = &[
            // Published, then archived.
            &[
                Claiming, Claimed, Staged, Publishing, Uploaded, Published, Archived,
            ],
            // Recovery re-uploads a publish cut off, and a failed publish waits again.
            &[
                Staged, Publishing, Staged, Publishing, Uploaded, Publishing, Uploaded,
            ],
            &[Claiming, Claimed, Unchanged, Unchanged, Archived],
            &[Claiming, Claimed, Staged, Superseded, Superseded, Archived],
            &[Claiming, Claimed, Archived, Archived],
            &[Claiming, Archived],
            &[Claiming, Claimed, Rejecting, Rejecting, Rejected],
            &[Claiming, Rejecting, Rejected],
            &[
                Downloaded,
                Downloaded,
                Delivering,
                Uploaded,
                Delivered,
                Delivered,
                Acknowledged,
            ],
            &[Downloaded, Acknowledged],
            &[Downloaded, Rejecting, Rejected],
            &[Downloaded, Delivering, Rejecting, Rejected],
        ];
        for p in paths {
            for w in p.windows(2) {
                assert!(allowed(w[0], w[1]), "{} -> {} refused", w[0], w[1]);
            }
        }
    }

    #[test]
    fn steps_that_make_no_sense_are_refused() {
        for (from, to) in [
            (Archived, Publishing),
            (Rejected, Claimed),
            (Acknowledged, Delivering),
            (Published, Rejecting),
            (Published, Staged),
            (Claiming, Published),
            (Staged, Published),
            (Delivered, Rejecting),
            (Rejecting, Archived),
            (Claimed, Publishing),
        ] {
            assert!(!allowed(from, to), "{from} -> {to} allowed");
            let e = check(7, "prices.json", from, to).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("file 7 (prices.json)")
                    && msg.contains(&format!("from {from} to {to}")),
                "{msg}"
            );
        }
    }
}
