//! Dates that match the schema's pattern but are not on the calendar (`2026-02-30`, hour
//! 25), and end dates before their start dates.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{visit, Check, Cx, Loc, Reads};
use crate::compo::messages::{msg, Lang};
use crate::compo::model::{DataType, Step};
use crate::compo::report::codes;

/// Dates and date-times that are not real ones.
pub(crate) struct RealDates;

impl Check for RealDates {
    fn reads(&self, t: DataType) -> Reads {
        Reads::first_members(DATE_FIELDS.iter().filter(|d| d.0 == t).map(|d| d.1))
    }

    fn check(&self, t: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        dates(cx, t, obj);
    }
}

/// An end date before its start date.
pub(crate) struct DateRanges;

impl Check for DateRanges {
    fn reads(&self, t: DataType) -> Reads {
        match range_fields(t) {
            Some((from, to)) => Reads::Members(vec![from, to]),
            None => Reads::Nothing,
        }
    }

    fn check(&self, t: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        date_ranges(cx, t, obj);
    }
}

/// The fields of `t` that start and end a period.
fn range_fields(t: DataType) -> Option<(&'static str, &'static str)> {
    match t {
        DataType::Contracts => Some(("valid_from", "valid_to")),
        DataType::Acts => Some(("period_from", "period_to")),
        _ => None,
    }
}

fn dates(cx: &mut Cx, t: DataType, record: &Map<String, Value>) {
    let mut at = Vec::new();
    for (ty, path, kind) in DATE_FIELDS {
        if *ty != t {
            continue;
        }
        visit(record, path, &mut at, &mut |segs, v| {
            let Some(s) = v.as_str() else { return };
            let problem = match kind {
                DateKind::Date => date_problem(s),
                DateKind::DateTime => date_time_problem(s),
                DateKind::DateOrDateTime => date_problem(s).or_else(|| date_time_problem(s)),
            };
            if let Some(problem) = problem {
                let loc = Loc::at(cx.index, segs);
                let message = problem.message(cx.lang, &loc.path, s);
                cx.push(&loc, codes::DATE_INVALID, message);
            }
        });
    }
}

fn date_ranges(cx: &mut Cx, t: DataType, obj: &Map<String, Value>) {
    let (from_key, to_key) = match t {
        DataType::Contracts => ("valid_from", "valid_to"),
        DataType::Acts => ("period_from", "period_to"),
        _ => return,
    };
    let date = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .and_then(|s| date_shape(s).and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)))
    };
    if let (Some(from), Some(to)) = (date(from_key), date(to_key)) {
        if to < from {
            cx.push(
                &cx.root().field(to_key),
                codes::DATE_RANGE,
                msg!(
                    cx.lang,
                    "date-range",
                    to_field = to_key,
                    to = to.to_string(),
                    from_field = from_key,
                    from = from.to_string()
                ),
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum DateKind {
    Date,
    DateTime,
    /// `orders.date`: the portal writes a date-time, most ERPs a date.
    DateOrDateTime,
}

static DATE_FIELDS: &[(DataType, &[Step], DateKind)] = {
    use DataType::*;
    use DateKind::*;
    use Step::{Each, Field};
    &[
        (Contracts, &[Field("date")], Date),
        (Contracts, &[Field("valid_from")], Date),
        (Contracts, &[Field("valid_to")], Date),
        (Prices, &[Field("valid_to")], Date),
        (Remains, &[Field("expected"), Each, Field("date")], Date),
        (Finances, &[Field("documents"), Each, Field("date")], Date),
        (
            Finances,
            &[Field("documents"), Each, Field("due_date")],
            Date,
        ),
        (Finances, &[Field("updated_at")], DateTime),
        (Orders, &[Field("date")], DateOrDateTime),
        (Orders, &[Field("delivery"), Field("date")], Date),
        (Orders, &[Field("documents"), Each, Field("date")], Date),
        (Orders, &[Field("updated_at")], DateTime),
        (Acts, &[Field("period_from")], Date),
        (Acts, &[Field("period_to")], Date),
        (Acts, &[Field("lines"), Each, Field("date")], Date),
    ]
};

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

/// Splits a `YYYY-MM-DD` string into numbers without judging them; `None` when the shape
/// differs (then the schema's pattern speaks).
fn date_shape(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = (two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?) as i32;
    Some((year, two_digits(&b[5..7])?, two_digits(&b[8..10])?))
}

/// Why a string shaped like a date or a date-time is not a real one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DateProblem {
    Month(u32),
    Day {
        year: i32,
        month: u32,
        days: i64,
        day: u32,
    },
    Hour(u32),
    Minute(u32),
    Second {
        second: u32,
        minute: u32,
    },
    Offset(String),
}

impl DateProblem {
    /// The `date.invalid` message for `value` in `field`.
    fn message(&self, lang: Lang, field: &str, value: &str) -> String {
        match *self {
            DateProblem::Month(month) => msg!(
                lang,
                "date-invalid-month",
                field = field,
                value = value,
                month = month
            ),
            DateProblem::Day {
                year,
                month,
                days,
                day,
            } => msg!(
                lang,
                "date-invalid-day",
                field = field,
                value = value,
                month = month,
                year = year.to_string(),
                days = days,
                day = day
            ),
            DateProblem::Hour(hour) => msg!(
                lang,
                "date-invalid-hour",
                field = field,
                value = value,
                hour = hour
            ),
            DateProblem::Minute(minute) => msg!(
                lang,
                "date-invalid-minute",
                field = field,
                value = value,
                minute = minute
            ),
            DateProblem::Second { second, minute } => msg!(
                lang,
                "date-invalid-second",
                field = field,
                value = value,
                second = second,
                minute = minute
            ),
            DateProblem::Offset(ref offset) => msg!(
                lang,
                "date-invalid-offset",
                field = field,
                value = value,
                offset = offset
            ),
        }
    }
}

/// Why year-month-day is not a calendar date, or `None` when it is one.
fn ymd_problem(y: i32, m: u32, d: u32) -> Option<DateProblem> {
    if NaiveDate::from_ymd_opt(y, m, d).is_some() {
        return None;
    }
    if !(1..=12).contains(&m) {
        return Some(DateProblem::Month(m));
    }
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    let days = next.signed_duration_since(first).num_days();
    Some(DateProblem::Day {
        year: y,
        month: m,
        days,
        day: d,
    })
}

/// For a string shaped like a date, why it is not a real one.
fn date_problem(s: &str) -> Option<DateProblem> {
    let (y, m, d) = date_shape(s)?;
    ymd_problem(y, m, d)
}

/// For a string shaped like an RFC 3339 date-time (`2026-11-22T09:30:00.5+03:00`), why it is
/// not a real one. Other shapes give `None`.
fn date_time_problem(s: &str) -> Option<DateProblem> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = date_shape(&s[..10])?;
    let (h, mi, sec) = (
        two_digits(&b[11..13])?,
        two_digits(&b[14..16])?,
        two_digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => None,
        [b'+' | b'-', oh @ .., b':', m1, m2] if oh.len() == 2 => {
            Some((two_digits(oh)?, two_digits(&[*m1, *m2])?))
        }
        _ => return None,
    };
    if let Some(p) = ymd_problem(y, mo, d) {
        return Some(p);
    }
    if h > 23 {
        return Some(DateProblem::Hour(h));
    }
    if mi > 59 {
        return Some(DateProblem::Minute(mi));
    }
    // RFC 3339 allows a leap second, which can only end a minute.
    if sec > 60 || (sec == 60 && mi != 59) {
        return Some(DateProblem::Second {
            second: sec,
            minute: mi,
        });
    }
    if let Some((oh, om)) = offset {
        if oh > 23 || om > 59 {
            return Some(DateProblem::Offset(format!("{oh:02}:{om:02}")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    #[test]
    fn date_validity() {
        assert_eq!(date_problem("2026-02-28"), None);
        assert_eq!(date_problem("2024-02-29"), None);
        let feb = |year, day| DateProblem::Day {
            year,
            month: 2,
            days: 28,
            day,
        };
        assert_eq!(date_problem("2026-02-30"), Some(feb(2026, 30)));
        assert_eq!(date_problem("2025-02-29"), Some(feb(2025, 29)));
        assert_eq!(
            feb(2026, 30).message(Lang::En, "date", "2026-02-30"),
            "date \"2026-02-30\" is not a real date: February 2026 has 28 days, not 30; correct \
             it in the ERP"
        );
        assert_eq!(
            feb(2026, 30).message(Lang::Ru, "date", "2026-02-30"),
            "date «2026-02-30» — несуществующая дата: в феврале 2026 года 28 дней, а не 30; \
             исправьте дату в 1С"
        );
        assert_eq!(date_problem("2026-13-01"), Some(DateProblem::Month(13)));
        assert_eq!(date_problem("2026-00-10"), Some(DateProblem::Month(0)));
        assert!(date_problem("2026-04-31").is_some());
        assert!(date_problem("2026-04-00").is_some());
        // Other shapes are the schema's business.
        assert_eq!(date_problem("2026-2-30"), None);
        assert_eq!(date_problem("30.02.2026"), None);

        assert_eq!(date_time_problem("2026-11-22T09:30:00+03:00"), None);
        assert_eq!(date_time_problem("2026-11-22t09:30:00.123456Z"), None);
        assert_eq!(date_time_problem("2026-12-31T23:59:60Z"), None);
        assert!(date_time_problem("2026-13-22T09:30:00Z").is_some());
        assert!(date_time_problem("2026-02-30T09:30:00Z").is_some());
        assert_eq!(
            date_time_problem("2026-11-22T25:30:00+03:00"),
            Some(DateProblem::Hour(25))
        );
        assert!(date_time_problem("2026-11-22T09:60:00Z").is_some());
        assert!(date_time_problem("2026-11-22T09:30:61Z").is_some());
        assert!(date_time_problem("2026-11-22T09:30:60Z").is_some());
        assert!(date_time_problem("2026-11-22T09:30:00+24:00").is_some());
        // Not RFC 3339 shaped: no offset, no seconds, space separator, empty fraction.
        for s in [
            "2026-11-22T09:30:00",
            "2026-11-22T09:30+03:00",
            "2026-11-22 09:30:00Z",
            "2026-11-22T09:30:00.Z",
            "2026-13-22T09:30:00+0300",
        ] {
            assert_eq!(date_time_problem(s), None, "{s}");
        }
    }

    #[test]
    fn date_fields_per_type() {
        let c = json!({"date": "2026-02-30", "valid_from": "2026-01-01",
            "valid_to": "2026-04-31"});
        let i = run(DataType::Contracts, c, false);
        assert_eq!(
            found(&i),
            [
                ("/7/date", codes::DATE_INVALID),
                ("/7/valid_to", codes::DATE_INVALID)
            ]
        );
        assert!(i[0].message.contains("\"2026-02-30\""));
        assert!(i[0].message.contains("February 2026 has 28 days"));

        let o = json!({"date": "2026-11-31T10:00:00+03:00", "delivery": {"date": "2026-06-31"},
            "documents": [{"date": "2026-01-01"}, {"date": "2026-01-32"}],
            "updated_at": "2026-11-22T24:00:00Z"});
        assert_eq!(
            found(&run(DataType::Orders, o, false)),
            [
                ("/7/date", codes::DATE_INVALID),
                ("/7/delivery/date", codes::DATE_INVALID),
                ("/7/documents/1/date", codes::DATE_INVALID),
                ("/7/updated_at", codes::DATE_INVALID)
            ]
        );
        assert!(run(DataType::Orders, json!({"date": "2026-11-30"}), false).is_empty());
        assert!(run(
            DataType::Orders,
            json!({"date": "2026-11-30T10:00:00+03:00"}),
            false
        )
        .is_empty());
        // A date-time in a date-only field is left to the schema.
        assert!(run(
            DataType::Orders,
            json!({"delivery": {"date": "2026-11-31T10:00:00Z"}}),
            false
        )
        .is_empty());

        let f = json!({"documents": [{"date": "2026-02-29", "due_date": "2026-09-31"}],
            "updated_at": "2026-00-01T00:00:00Z"});
        assert_eq!(
            found(&run(DataType::Finances, f, false)),
            [
                ("/7/documents/0/date", codes::DATE_INVALID),
                ("/7/documents/0/due_date", codes::DATE_INVALID),
                ("/7/updated_at", codes::DATE_INVALID)
            ]
        );
        assert_eq!(
            found(&run(
                DataType::Prices,
                json!({"valid_to": "2026-11-31"}),
                false
            )),
            [("/7/valid_to", codes::DATE_INVALID)]
        );
        assert_eq!(
            found(&run(
                DataType::Remains,
                json!({"expected": [{"date": "2026-12-01"}, {"date": "2026-12-32"}]}),
                false
            )),
            [("/7/expected/1/date", codes::DATE_INVALID)]
        );
        let a = json!({"period_from": "2026-02-29", "period_to": "2026-03-31",
            "lines": [{"date": "2026-03-32"}]});
        assert_eq!(
            found(&run(DataType::Acts, a, false)),
            [
                ("/7/period_from", codes::DATE_INVALID),
                ("/7/lines/0/date", codes::DATE_INVALID)
            ]
        );
        // Same field name, type without date rules.
        assert!(run(DataType::Products, json!({"date": "2026-02-30"}), false).is_empty());
    }

    #[test]
    fn date_ranges() {
        let c = |from: &str, to: &str| {
            run(
                DataType::Contracts,
                json!({"valid_from": from, "valid_to": to}),
                false,
            )
        };
        assert!(c("2026-01-01", "2026-01-01").is_empty());
        assert!(c("2026-01-01", "2027-01-01").is_empty());
        let i = c("2026-01-02", "2026-01-01");
        assert_eq!(found(&i), [("/7/valid_to", codes::DATE_RANGE)]);
        assert!(i[0]
            .message
            .contains("2026-01-01 is before valid_from 2026-01-02"));
        // An invalid date is reported once, as invalid, not also as out of range.
        assert_eq!(
            found(&c("2026-03-01", "2026-02-30")),
            [("/7/valid_to", codes::DATE_INVALID)]
        );
        let a = |from: &str, to: &str| {
            run(
                DataType::Acts,
                json!({"period_from": from, "period_to": to}),
                false,
            )
        };
        assert!(a("2026-01-01", "2026-03-31").is_empty());
        assert_eq!(
            found(&a("2026-03-31", "2026-01-01")),
            [("/7/period_to", codes::DATE_RANGE)]
        );
    }
}
