//! The time zone that 1C's local dates and times are taken in (`validation.timezone`), and the
//! date-time arithmetic the normalisation needs: reading 1C's forms, adding an offset, taking
//! the local date of an instant.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
};
use chrono_tz::Tz;

/// An IANA time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone::host()
    }
}

impl Zone {
    /// A zone by its IANA name (`Europe/Moscow`, `Asia/Yekaterinburg`, `UTC`).
    pub fn parse(name: &str) -> Result<Zone, String> {
        name.trim().parse::<Tz>().map(Zone).map_err(|_| {
            format!(
                "\"{name}\" is not an IANA time zone name; write it as Region/City, e.g. \
                 \"Europe/Moscow\", \"Asia/Novosibirsk\" or \"UTC\""
            )
        })
    }

    /// The host's zone: `TZ` when it holds an IANA name (as the C library reads it), else
    /// the system's setting, else UTC.
    pub fn host() -> Zone {
        let from_tz = std::env::var("TZ")
            .ok()
            .and_then(|v| Zone::parse(v.trim_start_matches(':')).ok());
        from_tz
            .or_else(|| {
                iana_time_zone::get_timezone()
                    .ok()
                    .and_then(|n| Zone::parse(&n).ok())
            })
            .unwrap_or(Zone(Tz::UTC))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zone's offset at a local date-time. In the hour skipped when clocks go forward
    /// (a time that never happened there), the offset after the change; in the hour repeated
    /// when they go back, the first one (1C, which stores no offset, cannot tell them apart).
    pub fn offset_at_local(&self, local: &NaiveDateTime) -> FixedOffset {
        match self.0.offset_from_local_datetime(local) {
            LocalResult::Single(o) | LocalResult::Ambiguous(o, _) => o.fix(),
            LocalResult::None => self.0.offset_from_utc_datetime(local).fix(),
        }
    }

    /// The local date and time of an instant.
    pub fn local(&self, at: &DateTime<FixedOffset>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }
}

/// `+03:00`; offsets with seconds (local mean time before 1920) are cut to minutes, which RFC
/// 3339 requires.
pub fn offset_text(o: FixedOffset) -> String {
    let secs = o.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A date-time as 1C and others write it: `YYYY-MM-DDTHH:MM:SS`, optional fraction, optional
/// `Z` or `±HH:MM`.
#[derive(Debug, Clone, PartialEq)]
pub struct Written<'a> {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
    /// The text without its offset (what an added offset is appended to).
    pub without_offset: &'a str,
}

/// Reads `s` as a date-time; `None` for anything else (a date alone, another format, a
/// calendar date that does not exist).
pub fn read_datetime(s: &str) -> Option<Written<'_>> {
    let b = s.as_bytes();
    if b.len() < 19 || b[10] != b'T' {
        return None;
    }
    // The offset starts after the seconds and their fraction.
    let mut end = 19;
    if b.get(19) == Some(&b'.') {
        end = 20;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == 20 {
            return None;
        }
    }
    let (body, rest) = s.split_at(end);
    let offset = if rest.is_empty() {
        None
    } else {
        Some(read_offset(rest)?)
    };
    let date = NaiveDate::parse_from_str(&body[..10], "%Y-%m-%d").ok()?;
    if !body[..10].bytes().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            c == b'-'
        } else {
            c.is_ascii_digit()
        }
    }) {
        return None;
    }
    let time = NaiveTime::parse_from_str(&body[11..], "%H:%M:%S%.f").ok()?;
    Some(Written {
        local: date.and_time(time),
        offset,
        without_offset: body,
    })
}

/// `Z` or `±HH:MM`.
fn read_offset(s: &str) -> Option<FixedOffset> {
    if s == "Z" || s == "z" {
        return FixedOffset::east_opt(0);
    }
    let r = s.as_bytes();
    if r.len() != 6 || !matches!(r[0], b'+' | b'-') || r[3] != b':' {
        return None;
    }
    let h: i32 = s[1..3].parse().ok()?;
    let m: i32 = s[4..6].parse().ok()?;
    let secs = (h * 60 + m) * 60;
    FixedOffset::east_opt(if r[0] == b'-' { -secs } else { secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> Zone {
        Zone::parse("Europe/Moscow").unwrap()
    }

    #[test]
    fn names_are_iana_names() {
        assert_eq!(moscow().name(), "Europe/Moscow");
        assert!(Zone::parse("Asia/Yekaterinburg").is_ok());
        let e = Zone::parse("MSK+3").unwrap_err();
        assert!(e.contains("Europe/Moscow"), "{e}");
        assert!(Zone::parse("Europe/Moskow").is_err());
    }

    #[test]
    fn offsets_follow_the_zones_history() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap();
        let m = moscow();
        assert_eq!(
            offset_text(m.offset_at_local(&at("2026-11-20T09:30:00"))),
            "+03:00"
        );
        // Moscow kept summer time all year from 2011 to 2014.
        assert_eq!(
            offset_text(m.offset_at_local(&at("2012-01-10T12:00:00"))),
            "+04:00"
        );
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            offset_text(berlin.offset_at_local(&at("2026-07-01T12:00:00"))),
            "+02:00"
        );
        assert_eq!(
            offset_text(berlin.offset_at_local(&at("2026-01-01T12:00:00"))),
            "+01:00"
        );
        // 02:30 does not exist on 2026-03-29 in Berlin: the offset after the change.
        assert_eq!(
            offset_text(berlin.offset_at_local(&at("2026-03-29T02:30:00"))),
            "+02:00"
        );
        // 02:30 happens twice on 2026-10-25: the first.
        assert_eq!(
            offset_text(berlin.offset_at_local(&at("2026-10-25T02:30:00"))),
            "+02:00"
        );
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            offset_text(ny.offset_at_local(&at("2026-01-01T12:00:00"))),
            "-05:00"
        );
    }

    #[test]
    fn the_forms_1c_writes_are_read() {
        let w = read_datetime("2026-11-20T00:00:00").unwrap();
        assert_eq!(w.offset, None);
        assert_eq!(w.without_offset, "2026-11-20T00:00:00");
        let w = read_datetime("2026-11-20T21:00:00Z").unwrap();
        assert_eq!(w.offset.unwrap().local_minus_utc(), 0);
        assert_eq!(
            moscow()
                .local(&w.local.and_local_timezone(w.offset.unwrap()).unwrap())
                .to_string(),
            "2026-11-21 00:00:00"
        );
        let w = read_datetime("2026-11-20T09:30:00.123+05:00").unwrap();
        assert_eq!(w.without_offset, "2026-11-20T09:30:00.123");
        assert_eq!(w.offset.unwrap().local_minus_utc(), 5 * 3600);
        for bad in [
            "2026-11-20",
            "2026-11-20 09:30:00",
            "2026-02-30T00:00:00",
            "2026-11-20T25:00:00",
            "2026-11-20T09:30:00+3",
            "2026-11-20T09:30:00.",
            "20.11.2026 09:30:00",
            "+2026-1-20T09:30:00",
        ] {
            assert!(read_datetime(bad).is_none(), "{bad}");
        }
    }
}
