//! How often one job runs: a wall-clock-aligned interval, a cron expression, or every tick.
//!
//! Times are `DateTime<FixedOffset>`: the offset carried by an instant is taken as the local
//! offset at that instant (the system clock supplies the current local offset), so cron fields
//! and interval alignment are read in local wall-clock time. How the scheduler copes with the
//! offset changing under it (DST) is described in `scheduler.rs`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveTime, SubsecRound, TimeDelta, TimeZone};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use super::ScheduleError;

const DAY_SECS: u64 = 24 * 60 * 60;

/// The longest interval accepted. Anything rarer is better said with a cron expression, and
/// the bound keeps all arithmetic well inside `i64` nanoseconds.
const MAX_INTERVAL_SECS: u64 = 366 * DAY_SECS;

/// A whole, positive number of seconds between runs, at most 366 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    secs: u64,
}

impl Interval {
    /// Validates the length: a zero interval would make a job due at every instant.
    pub fn from_secs(secs: u64) -> Result<Interval, ScheduleError> {
        let text = || Interval { secs }.to_string();
        if secs == 0 {
            return Err(ScheduleError::BadInterval {
                text: "0s".into(),
                reason: "an interval must be longer than zero".into(),
            });
        }
        if secs > MAX_INTERVAL_SECS {
            return Err(ScheduleError::BadInterval {
                text: text(),
                reason: "intervals longer than 366 days are not accepted; use a cron expression"
                    .into(),
            });
        }
        Ok(Interval { secs })
    }

    pub fn as_secs(self) -> u64 {
        self.secs
    }

    pub fn as_duration(self) -> Duration {
        Duration::from_secs(self.secs)
    }

    /// Whether runs line up with local midnight; otherwise they line up with the Unix epoch.
    pub fn divides_day(self) -> bool {
        DAY_SECS % self.secs == 0
    }

    fn next_after(self, t: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        // The cast is lossless: secs <= MAX_INTERVAL_SECS.
        let step = self.secs as i64;
        if self.divides_day() {
            // Multiples of the interval since local midnight: "every 5m" means :00, :05, ...
            // whenever the daemon happened to start, and the last slot of a day ends exactly
            // at the next midnight, which is itself a slot.
            let midnight = t
                .offset()
                .from_local_datetime(&t.date_naive().and_time(NaiveTime::MIN))
                .single()?;
            let since = (t - midnight).num_nanoseconds()?;
            let k = since / (step * 1_000_000_000) + 1;
            midnight.checked_add_signed(TimeDelta::seconds(k * step))
        } else {
            // An interval that does not divide a day (7m, 25h, 2d) cannot repeat the same
            // pattern every day; counting from the epoch at least keeps it steady across
            // restarts. Sub-second parts of `t` cannot matter: slots fall on whole seconds.
            let k = t.timestamp().div_euclid(step) + 1;
            let next = DateTime::from_timestamp(k.checked_mul(step)?, 0)?;
            Some(next.with_timezone(t.offset()))
        }
    }
}

impl fmt::Display for Interval {
    /// Canonical text: `1d`, `1h30m`, `45s`; parses back to the same interval.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.secs;
        if s > 0 && s % DAY_SECS == 0 {
            return write!(f, "{}d", s / DAY_SECS);
        }
        let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if sec > 0 || s == 0 {
            write!(f, "{sec}s")?;
        }
        Ok(())
    }
}

/// A validated 5-field cron expression, kept with its (whitespace-normalised) text.
#[derive(Debug, Clone, PartialEq)]
pub struct CronSchedule {
    text: String,
    /// Boxed: a parsed pattern is large and would bloat every `Cadence`.
    cron: Box<Cron>,
}

impl CronSchedule {
    pub fn parse(text: &str) -> Result<CronSchedule, ScheduleError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let normalised = fields.join(" ");
        let bad = |reason: String| ScheduleError::BadCron {
            text: normalised.clone(),
            reason,
        };
        if let Some(nick) = normalised.strip_prefix('@') {
            const NICKNAMES: [&str; 6] =
                ["yearly", "annually", "monthly", "weekly", "daily", "hourly"];
            if !NICKNAMES.iter().any(|n| n.eq_ignore_ascii_case(nick)) {
                return Err(bad(format!(
                    "unknown nickname `@{nick}`; known: @{}",
                    NICKNAMES.join(", @")
                )));
            }
        } else if fields.len() != 5 {
            return Err(bad(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), \
                 this one has {}",
                fields.len()
            )));
        }
        // Seconds and years are disallowed so that a 6- or 7-field expression is not
        // silently read with a different field order than the user meant.
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(&normalised).map_err(|e| bad(e.to_string()))?;
        // Croner accepts patterns such as `0 0 31 2 *` that name no real date; such a job
        // would silently never run, so it is refused here instead.
        let reference = DateTime::from_timestamp(946_684_800, 0)
            .map(|t| t.fixed_offset())
            .ok_or_else(|| bad("internal reference date out of range".into()))?;
        if cron.find_next_occurrence(&reference, false).is_err() {
            return Err(bad("it never matches a real date".into()));
        }
        Ok(CronSchedule {
            text: normalised,
            cron: Box::new(cron),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cron(&self) -> &Cron {
        &self.cron
    }

    fn next_after(&self, t: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        // Croner steps from `t` by whole seconds and keeps its nanoseconds, which would give
        // e.g. 06:00:00.4 for a 06:00 job; starting from the truncated second keeps slots on
        // whole seconds, and the result stays strictly after `t` since it is at least one
        // second after the truncation.
        self.cron
            .find_next_occurrence(&t.trunc_subsecs(0), false)
            .ok()
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How often a job runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Cadence {
    /// Every interval, aligned to local midnight if the interval divides a day, otherwise to
    /// the Unix epoch.
    Every(Interval),
    /// At the times a cron expression matches in local time.
    Cron(CronSchedule),
    /// At every tick, whatever caused it; such a job never causes a tick itself. Used by
    /// `once` and by tests.
    Immediate,
}

impl Cadence {
    /// Shorthand for an interval cadence.
    pub fn every_secs(secs: u64) -> Result<Cadence, ScheduleError> {
        Interval::from_secs(secs).map(Cadence::Every)
    }

    /// Parses a cadence as written in the configuration: an interval (`30s`, `5m`, `15 min`,
    /// `1h30m`, `every 5 minutes`, `every hour`; `m` is minutes), a 5-field cron expression
    /// or an `@daily`-style nickname, or `immediate`.
    pub fn parse(s: &str) -> Result<Cadence, ScheduleError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if text.eq_ignore_ascii_case("immediate") {
            return Ok(Cadence::Immediate);
        }
        let fields = text.split_whitespace().count();
        // No interval is written with these characters or with five words, so anything that
        // has them gets the cron parser's (more helpful) error rather than the interval's.
        if text.starts_with('@') || fields >= 5 || text.contains(['*', '/', '?', '#']) {
            return CronSchedule::parse(text).map(Cadence::Cron);
        }
        parse_interval(text).map(Cadence::Every)
    }

    /// The first run time strictly after `t`. `None` for [`Cadence::Immediate`], which has no
    /// times of its own, and for a cron expression with no match left before year 5000.
    pub fn next_after(&self, t: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        match self {
            Cadence::Every(interval) => interval.next_after(t),
            Cadence::Cron(cron) => cron.next_after(t),
            Cadence::Immediate => None,
        }
    }
}

impl FromStr for Cadence {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Cadence, ScheduleError> {
        Cadence::parse(s)
    }
}

impl fmt::Display for Cadence {
    /// Canonical text, accepted back by [`Cadence::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Every(interval) => interval.fmt(f),
            Cadence::Cron(cron) => cron.fmt(f),
            Cadence::Immediate => f.write_str("immediate"),
        }
    }
}

/// `5m`, `15 min`, `1h30m`, `1h 30m`, `every 5 minutes`, `every hour`.
fn parse_interval(text: &str) -> Result<Interval, ScheduleError> {
    let bad = |reason: String| ScheduleError::BadInterval {
        text: text.to_string(),
        reason,
    };
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    let mut every = false;
    if let Some(after) = rest.strip_prefix("every") {
        if after.trim().is_empty() {
            return Err(bad("`every` needs a length, e.g. `every 5 minutes`".into()));
        }
        if after.starts_with(char::is_whitespace) {
            every = true;
            rest = after.trim_start();
        }
    }

    let mut total: u64 = 0;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, after_number) = rest.split_at(digits);
        let after_number = after_number.trim_start();
        if after_number.starts_with(['.', ',']) && digits > 0 {
            return Err(bad(
                "fractions are not accepted; combine units instead, e.g. `1h30m`".into(),
            ));
        }
        let letters = after_number
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let (unit, after_unit) = after_number.split_at(letters);
        if unit.is_empty() {
            return Err(bad(match after_number.chars().next() {
                None => format!("`{number}` has no unit; add s, m (minutes), h or d"),
                Some(c) => format!("unexpected `{c}`"),
            }));
        }
        let count: u64 = if number.is_empty() {
            // "every minute" / "every hour": the count 1 is implied, but only there.
            if every && parts == 0 && after_unit.trim().is_empty() {
                1
            } else {
                return Err(bad(format!("expected a number before `{unit}`")));
            }
        } else {
            number
                .parse()
                .map_err(|_| bad(format!("`{number}` is too large")))?
        };
        let unit_secs = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => DAY_SECS,
            _ => {
                return Err(bad(format!(
                    "unknown unit `{unit}`; use s, m (minutes), h or d"
                )))
            }
        };
        total = count
            .checked_mul(unit_secs)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| bad("the interval is too long".into()))?;
        parts += 1;
        rest = after_unit.trim_start();
    }
    if parts == 0 {
        return Err(bad("no length given".into()));
    }
    Interval::from_secs(total).map_err(|e| match e {
        ScheduleError::BadInterval { reason, .. } => bad(reason),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn next(c: &str, t: &str) -> DateTime<FixedOffset> {
        Cadence::parse(c).unwrap().next_after(at(t)).unwrap()
    }

    #[test]
    fn parses_intervals_in_every_accepted_spelling() {
        let cases = [
            ("5m", 300),
            ("15 min", 900),
            ("1h", 3600),
            ("30s", 30),
            ("every 5 minutes", 300),
            ("Every 2 Hours", 7200),
            ("every minute", 60),
            ("every hour", 3600),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("2 days", 2 * 86400),
            ("  10 secs ", 10),
        ];
        for (text, secs) in cases {
            assert_eq!(
                Cadence::parse(text),
                Ok(Cadence::Every(Interval { secs })),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_cron_and_immediate() {
        assert_eq!(Cadence::parse("immediate"), Ok(Cadence::Immediate));
        assert_eq!(Cadence::parse("IMMEDIATE"), Ok(Cadence::Immediate));
        for text in [
            "0 6 * * *",
            "*/5 * * * *",
            "0 6 * * mon-fri",
            "@daily",
            "30 2 1 */3 *",
        ] {
            match Cadence::parse(text) {
                Ok(Cadence::Cron(c)) => assert_eq!(c.text(), text),
                other => panic!("{text}: {other:?}"),
            }
        }
        // Extra spaces are normalised away in the canonical text.
        assert_eq!(
            Cadence::parse(" 0  6 * *   * ").unwrap().to_string(),
            "0 6 * * *"
        );
    }

    #[test]
    fn rejects_bad_text_with_what_and_why() {
        let cases = [
            ("", "empty schedule"),
            ("   ", "empty schedule"),
            ("5", "`5` has no unit"),
            ("5x", "unknown unit `x`"),
            ("5 months", "unknown unit `months`"),
            ("0m", "longer than zero"),
            ("1.5h", "fractions are not accepted"),
            ("every", "`every` needs a length"),
            ("minutes", "expected a number before `minutes`"),
            ("-5m", "unexpected `-`"),
            ("400d", "longer than 366 days"),
            ("99999999999999999999s", "too large"),
            ("0 6 * *", "has 5 fields"),
            ("0 0 6 * * *", "this one has 6"),
            ("61 * * * *", "not a valid cron expression"),
            ("0 0 31 2 *", "never matches a real date"),
            ("@reboot", "unknown nickname `@reboot`"),
        ];
        for (text, needle) in cases {
            let err = Cadence::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
            // Every message says what would have been accepted.
            assert!(err.contains("accepted: an interval"), "{text:?}: {err}");
        }
        let err = Cadence::parse("5x").unwrap_err().to_string();
        assert!(err.starts_with("`5x` is not a valid interval"), "{err}");
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        for (text, canonical) in [
            ("every 5 minutes", "5m"),
            ("90 min", "1h30m"),
            ("3600s", "1h"),
            ("24h", "1d"),
            ("25h", "25h"),
            ("61s", "1m1s"),
            ("0 6 * * *", "0 6 * * *"),
            ("immediate", "immediate"),
        ] {
            let c = Cadence::parse(text).unwrap();
            assert_eq!(c.to_string(), canonical, "{text}");
            assert_eq!(canonical.parse::<Cadence>().unwrap(), c, "{text}");
        }
    }

    #[test]
    fn intervals_align_to_local_midnight() {
        assert_eq!(
            next("5m", "2024-05-10T10:02:30+03:00"),
            at("2024-05-10T10:05:00+03:00")
        );
        assert_eq!(
            next("5m", "2024-05-10T10:05:00+03:00"),
            at("2024-05-10T10:10:00+03:00")
        );
        // An hourly job at a half-hour offset still fires on the local hour.
        assert_eq!(
            next("1h", "2024-05-10T10:20:00+05:30"),
            at("2024-05-10T11:00:00+05:30")
        );
        assert_eq!(
            next("5m", "2024-05-10T23:58:00+03:00"),
            at("2024-05-11T00:00:00+03:00")
        );
        // Six hours from local midnight, not from UTC midnight.
        assert_eq!(
            next("6h", "2024-05-10T01:00:00+03:00"),
            at("2024-05-10T06:00:00+03:00")
        );
        // Sub-second precision does not let a slot be returned that is not after `t`.
        assert_eq!(
            next("5m", "2024-05-10T10:04:59.999+03:00"),
            at("2024-05-10T10:05:00+03:00")
        );
        assert_eq!(
            next("5m", "2024-05-10T10:05:00.001+03:00"),
            at("2024-05-10T10:10:00+03:00")
        );
    }

    #[test]
    fn intervals_that_do_not_divide_a_day_align_to_the_epoch() {
        assert!(!Interval::from_secs(7 * 60).unwrap().divides_day());
        // 2024-01-01T00:00:00Z is 28 401 120 minutes after the epoch, 4 057 302 sevens and 6
        // more; the next multiple of 7 minutes is one minute later.
        assert_eq!(
            next("7m", "2024-01-01T00:00:00Z"),
            at("2024-01-01T00:01:00Z")
        );
        // The same instant written in another offset gets the same slot.
        assert_eq!(
            next("7m", "2024-01-01T03:00:00+03:00"),
            at("2024-01-01T00:01:00Z")
        );
        assert_eq!(
            next("7m", "2024-01-01T00:01:00Z"),
            at("2024-01-01T00:08:00Z")
        );
        // Before the epoch too (floor division, not truncation).
        assert_eq!(
            next("7m", "1969-12-31T23:50:00Z"),
            at("1969-12-31T23:53:00Z")
        );
    }

    #[test]
    fn cron_runs_daily_at_six_local_across_midnight() {
        // +05:00 has no DST, so the answer is plainly 06:00 local every day.
        assert_eq!(
            next("0 6 * * *", "2024-03-10T23:30:00+05:00"),
            at("2024-03-11T06:00:00+05:00")
        );
        assert_eq!(
            next("0 6 * * *", "2024-03-11T00:00:00+05:00"),
            at("2024-03-11T06:00:00+05:00")
        );
        assert_eq!(
            next("0 6 * * *", "2024-03-11T06:00:00+05:00"),
            at("2024-03-12T06:00:00+05:00")
        );
        assert_eq!(
            next("0 6 * * *", "2024-03-11T05:59:59.600+05:00"),
            at("2024-03-11T06:00:00+05:00")
        );
        // Across a month and a year end.
        assert_eq!(
            next("0 6 * * *", "2024-12-31T07:00:00+05:00"),
            at("2025-01-01T06:00:00+05:00")
        );
    }

    #[test]
    fn immediate_has_no_times_of_its_own() {
        assert_eq!(
            Cadence::Immediate.next_after(at("2024-05-10T10:00:00Z")),
            None
        );
    }
}
