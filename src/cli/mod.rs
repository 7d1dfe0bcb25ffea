//! Command-line interface: argument parsing and exit codes, decided here and nowhere else.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
