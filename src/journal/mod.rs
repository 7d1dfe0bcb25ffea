//! The persistent journal: every file handled, its states, and what the portal has.
