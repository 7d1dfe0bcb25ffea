//! Record checks that a JSON Schema cannot express.
//!
//! The schema says which fields exist and what JSON type they have; this module checks what the
//! values mean: identifier check digits, sums that must add up, money precision, real calendar
//! dates, date ranges, and the two protocol rules about whole records (no `"deleted": true` in
//! a snapshot, no password fields on customers).
//!
//! Every check here is deliberately tolerant of a malformed record: a field that is absent or
//! has the wrong JSON type is skipped, because the schema check already reports it and one
//! mistake should produce one message. Checks run per record and in parallel, so they only see
//! the record itself (references between records are someone else's job).

use chrono::NaiveDate;
use serde_json::{Map, Number, Value};

use crate::compo::ident::{self, IdentProblem};
use crate::compo::messages::{msg, Lang};
use crate::compo::model::{first_field, DataType, Step};
use crate::compo::report::{codes, pointer_token, Issue};

/// Amounts may differ from what their parts add up to by a cent; the epsilon absorbs binary
/// floating-point noise so that a difference of exactly 0.01 passes.
const SUM_TOLERANCE: f64 = 0.01 + 1e-9;

/// Checks one record (the `index`-th element of the file's array) and appends what is wrong.
///
/// `is_delta` tells whether the file is a delta: a record with `"deleted": true` there carries
/// only its key, so it gets no other check. In a snapshot such a record is itself an error, and
/// it is checked like any other record so that the user sees everything at once.
pub fn check_record(
    t: DataType,
    index: u64,
    record: &Value,
    is_delta: bool,
    lang: Lang,
    out: &mut Vec<Issue>,
) {
    let Some(obj) = record.as_object() else {
        return;
    };
    let mut c = Checker { index, lang, out };
    if obj.get("deleted") == Some(&Value::Bool(true)) {
        if is_delta {
            return;
        }
        c.push(
            &Loc::root(index).field("deleted"),
            codes::SNAPSHOT_DELETED,
            msg!(lang, "snapshot-deleted"),
        );
    }
    match t {
        DataType::Contragents => c.contragent(obj),
        DataType::Products => c.barcodes(obj),
        DataType::Customers => c.password_fields(obj),
        DataType::Orders => c.order_sums(obj),
        DataType::Acts => c.act_sums(obj),
        _ => {}
    }
    c.precision(t, record);
    c.dates(t, record);
    c.date_ranges(t, obj);
}

/// The top-level members of a record of type `t` that [`check_record`] reads, or `None` when
/// it reads the whole record. The validator hands the checks only these (see
/// `validate::Validator`); keep this next to the checks it describes.
pub fn fields_read(t: DataType) -> Option<Vec<&'static str>> {
    use DataType::*;
    let mut f = vec!["deleted"];
    match t {
        Contragents | Customers | Orders | Acts => return None,
        Products => f.push("barcodes"),
        Contracts => f.extend(["valid_from", "valid_to"]),
        _ => {}
    }
    f.extend(
        PRECISION_FIELDS
            .iter()
            .filter(|p| p.0 == t)
            .filter_map(|p| first_field(p.1)),
    );
    f.extend(
        DATE_FIELDS
            .iter()
            .filter(|d| d.0 == t)
            .filter_map(|d| first_field(d.1)),
    );
    Some(f)
}

/// Where a value is: its RFC 6901 pointer into the file, and a readable path for messages.
#[derive(Debug, Clone)]
struct Loc {
    pointer: String,
    path: String,
}

impl Loc {
    fn root(index: u64) -> Loc {
        Loc {
            pointer: format!("/{index}"),
            path: String::new(),
        }
    }

    fn field(&self, name: &str) -> Loc {
        Loc {
            pointer: format!("{}/{}", self.pointer, pointer_token(name)),
            path: if self.path.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", self.path)
            },
        }
    }

    fn item(&self, j: usize) -> Loc {
        Loc {
            pointer: format!("{}/{j}", self.pointer),
            path: format!("{}[{j}]", self.path),
        }
    }

    /// The location of what [`visit`] reached by `segs` in record `index`.
    fn at(index: u64, segs: &[Seg]) -> Loc {
        segs.iter().fold(Loc::root(index), |loc, seg| match seg {
            Seg::Field(name) => loc.field(name),
            Seg::Item(j) => loc.item(*j),
        })
    }
}

/// One step from a record to a value that [`visit`] reached: kept as plain data so that the
/// pointer and path strings are only built for values that have a problem, not for every
/// number and date of every record.
#[derive(Debug, Clone, Copy)]
enum Seg {
    Field(&'static str),
    Item(usize),
}

/// Calls `f` for every value found at `path` below `v`, with the steps that led there.
/// Missing fields and values of the wrong container type end the walk silently.
fn visit<'a>(v: &'a Value, path: &[Step], at: &mut Vec<Seg>, f: &mut dyn FnMut(&[Seg], &'a Value)) {
    match path.split_first() {
        None => f(at, v),
        Some((Step::Field(name), rest)) => {
            if let Some(child) = v.as_object().and_then(|o| o.get(*name)) {
                at.push(Seg::Field(name));
                visit(child, rest, at, f);
                at.pop();
            }
        }
        Some((Step::Each, rest)) => {
            if let Some(items) = v.as_array() {
                for (j, child) in items.iter().enumerate() {
                    at.push(Seg::Item(j));
                    visit(child, rest, at, f);
                    at.pop();
                }
            }
        }
    }
}

struct Checker<'o> {
    index: u64,
    lang: Lang,
    out: &'o mut Vec<Issue>,
}

/// A string field that is present, a string, and not empty (1C often exports "" for "none").
fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Rounds to cents for display; `+ 0.0` turns a negative zero into a plain one.
fn money(x: f64) -> String {
    format!("{}", (x * 100.0).round() / 100.0 + 0.0)
}

/// Positions (1-based) where `actual` and `expected`, aligned at their ends, differ; used to
/// name the wrong check digits.
fn wrong_positions(actual: &str, expected: &str) -> String {
    let start = actual.len() - expected.len();
    let positions: Vec<String> = actual.as_bytes()[start..]
        .iter()
        .zip(expected.as_bytes())
        .enumerate()
        .filter(|(_, (a, e))| a != e)
        .map(|(i, _)| (start + i + 1).to_string())
        .collect();
    positions.join(", ")
}

impl Checker<'_> {
    fn push(&mut self, loc: &Loc, code: &str, message: String) {
        self.out.push(Issue::new(
            Some(self.index),
            loc.pointer.clone(),
            code,
            message,
        ));
    }

    fn root(&self) -> Loc {
        Loc::root(self.index)
    }

    fn contragent(&mut self, obj: &Map<String, Value>) {
        let kind = obj.get("kind").and_then(Value::as_str);
        if let Some(inn) = obj.get("inn").and_then(Value::as_str) {
            self.inn(inn, kind);
        }
        if let Some(kpp) = non_empty_str(obj, "kpp") {
            let loc = self.root().field("kpp");
            match kind {
                Some(k @ ("entrepreneur" | "person")) => self.push(
                    &loc,
                    codes::KPP_FORMAT,
                    msg!(self.lang, "kpp-format-not-legal", kpp = kpp, kind = k),
                ),
                _ if !ident::kpp_well_formed(kpp) => self.push(
                    &loc,
                    codes::KPP_FORMAT,
                    msg!(self.lang, "kpp-format", kpp = kpp),
                ),
                _ => {}
            }
        }
        if let Some(ogrn) = non_empty_str(obj, "ogrn") {
            self.ogrn(ogrn, kind);
        }
        let accounts = self.root().field("bank_accounts");
        if let Some(list) = obj.get("bank_accounts").and_then(Value::as_array) {
            for (j, acc) in list.iter().enumerate() {
                let Some(acc) = acc.as_object() else { continue };
                let (Some(bik), Some(number)) = (
                    acc.get("bik").and_then(Value::as_str),
                    acc.get("account").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if bik.len() != 9 || number.len() != 20 || !is_digits(bik) || !is_digits(number) {
                    continue;
                }
                if !ident::account_matches_bik(number, bik) {
                    let message = match ident::expected_account_key(number, bik) {
                        Some(key) => msg!(
                            self.lang,
                            "account-checksum-key",
                            account = number,
                            bik = bik,
                            key = key.to_string()
                        ),
                        None => msg!(self.lang, "account-checksum", account = number, bik = bik),
                    };
                    self.push(
                        &accounts.item(j).field("account"),
                        codes::ACCOUNT_CHECKSUM,
                        message,
                    );
                }
            }
        }
    }

    fn inn(&mut self, inn: &str, kind: Option<&str>) {
        let loc = self.root().field("inn");
        let wanted = match kind {
            Some("legal") => Some(10),
            Some("entrepreneur" | "person") => Some(12),
            _ => None,
        };
        let known_kind = wanted.and(kind).unwrap_or("other");
        if !is_digits(inn) {
            self.push(
                &loc,
                codes::INN_FORMAT,
                msg!(self.lang, "inn-format-digits", inn = inn, kind = known_kind),
            );
            return;
        }
        let len = inn.len();
        let length_ok = match wanted {
            Some(n) => len == n,
            None => len == 10 || len == 12,
        };
        if !length_ok {
            let message = match wanted {
                Some(_) => msg!(
                    self.lang,
                    "inn-format-length",
                    inn = inn,
                    length = len,
                    kind = known_kind
                ),
                None => msg!(self.lang, "inn-format-length-any", inn = inn, length = len),
            };
            self.push(&loc, codes::INN_FORMAT, message);
            return;
        }
        if ident::check_inn(inn) == Err(IdentProblem::Checksum) {
            let expected = ident::expected_inn_check_digits(inn).unwrap_or_default();
            let positions = wrong_positions(inn, &expected);
            let digits: String = inn[len - expected.len()..]
                .bytes()
                .zip(expected.bytes())
                .filter(|(a, e)| a != e)
                .map(|(_, e)| char::from(e))
                .collect();
            self.push(
                &loc,
                codes::INN_CHECKSUM,
                msg!(
                    self.lang,
                    "inn-checksum",
                    inn = inn,
                    count = digits.len(),
                    digits = digits,
                    positions = positions
                ),
            );
        }
    }

    fn ogrn(&mut self, ogrn: &str, kind: Option<&str>) {
        let loc = self.root().field("ogrn");
        let wanted = match kind {
            Some("person") => {
                self.push(
                    &loc,
                    codes::OGRN_FORMAT,
                    msg!(self.lang, "ogrn-format-person", ogrn = ogrn),
                );
                return;
            }
            Some("legal") => Some(13),
            Some("entrepreneur") => Some(15),
            _ => None,
        };
        let len = ogrn.chars().count();
        let shape_ok = is_digits(ogrn)
            && match wanted {
                Some(n) => len == n,
                None => len == 13 || len == 15,
            };
        if !shape_ok {
            self.push(
                &loc,
                codes::OGRN_FORMAT,
                msg!(
                    self.lang,
                    "ogrn-format",
                    ogrn = ogrn,
                    digits = if is_digits(ogrn) { "yes" } else { "no" },
                    length = len,
                    kind = wanted.and(kind).unwrap_or("other")
                ),
            );
            return;
        }
        if ident::check_ogrn(ogrn) == Err(IdentProblem::Checksum) {
            let expected = ident::expected_ogrn_check_digit(ogrn).unwrap_or_default();
            self.push(
                &loc,
                codes::OGRN_CHECKSUM,
                msg!(
                    self.lang,
                    "ogrn-checksum",
                    ogrn = ogrn,
                    expected = expected.to_string(),
                    length = len
                ),
            );
        }
    }

    fn barcodes(&mut self, obj: &Map<String, Value>) {
        let Some(list) = obj.get("barcodes").and_then(Value::as_array) else {
            return;
        };
        for (j, b) in list.iter().enumerate() {
            let Some(code) = b.as_str() else { continue };
            // Other lengths are the schema's pattern to report.
            if !matches!(code.len(), 8 | 12 | 13 | 14) || !is_digits(code) {
                continue;
            }
            if !ident::barcode_valid(code) {
                let expected = ident::gs1_check_digit(&code[..code.len() - 1])
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                self.push(
                    &self.root().field("barcodes").item(j),
                    codes::BARCODE_CHECKSUM,
                    msg!(
                        self.lang,
                        "barcode-checksum",
                        barcode = code,
                        expected = expected
                    ),
                );
            }
        }
    }

    fn password_fields(&mut self, obj: &Map<String, Value>) {
        for key in obj.keys() {
            let lower = key.to_lowercase();
            let suspicious = ["password", "passwd", "пароль"]
                .iter()
                .any(|p| lower.contains(p))
                || lower == "pass"
                || lower == "pwd";
            if suspicious {
                self.push(
                    &self.root().field(key),
                    codes::SECURITY_PASSWORD_FIELD,
                    msg!(self.lang, "security-password_field", field = key),
                );
            }
        }
    }

    fn order_sums(&mut self, obj: &Map<String, Value>) {
        let items = obj.get("items").and_then(Value::as_array);
        let base = self.root().field("items");
        if let Some(items) = items {
            for (j, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    continue;
                };
                let num = |k: &str| item.get(k).and_then(Value::as_f64);
                let (Some(q), Some(p), Some(amount)) =
                    (num("quantity"), num("price"), num("amount"))
                else {
                    continue;
                };
                let discount = match item.get("discount") {
                    None | Some(Value::Null) => 0.0,
                    Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                    // A discount of the wrong type makes the expectation unknowable.
                    Some(_) => continue,
                };
                let expected = q * p * (1.0 - discount / 100.0);
                if (amount - expected).abs() > SUM_TOLERANCE {
                    let loc = base.item(j).field("amount");
                    let message = if discount == 0.0 {
                        msg!(
                            self.lang,
                            "sum-mismatch-amount",
                            field = &loc.path,
                            amount = amount.to_string(),
                            quantity = q.to_string(),
                            price = p.to_string(),
                            expected = money(expected)
                        )
                    } else {
                        msg!(
                            self.lang,
                            "sum-mismatch-amount-discount",
                            field = &loc.path,
                            amount = amount.to_string(),
                            quantity = q.to_string(),
                            price = p.to_string(),
                            discount = discount.to_string(),
                            expected = money(expected)
                        )
                    };
                    self.push(&loc, codes::SUM_MISMATCH, message);
                }
            }
        }
        let Some(total) = obj.get("total").and_then(Value::as_f64) else {
            return;
        };
        let Some(items) = items else { return };
        let amounts: Option<Vec<f64>> = items
            .iter()
            .map(|i| i.get("amount").and_then(Value::as_f64))
            .collect();
        let Some(amounts) = amounts else { return };
        let cost = match obj.get("delivery") {
            None | Some(Value::Null) => 0.0,
            Some(Value::Object(d)) => match d.get("cost") {
                None | Some(Value::Null) => 0.0,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(_) => return,
            },
            Some(_) => return,
        };
        let sum: f64 = amounts.iter().sum();
        let expected = sum + cost;
        if (total - expected).abs() > SUM_TOLERANCE {
            let message = if cost == 0.0 {
                msg!(
                    self.lang,
                    "sum-mismatch-total",
                    total = total.to_string(),
                    count = amounts.len(),
                    sum = money(sum),
                    expected = money(expected)
                )
            } else {
                msg!(
                    self.lang,
                    "sum-mismatch-total-delivery",
                    total = total.to_string(),
                    count = amounts.len(),
                    sum = money(sum),
                    cost = cost.to_string(),
                    expected = money(expected)
                )
            };
            self.push(&self.root().field("total"), codes::SUM_MISMATCH, message);
        }
    }

    fn act_sums(&mut self, obj: &Map<String, Value>) {
        let num = |k: &str| obj.get(k).and_then(Value::as_f64);
        let (Some(opening), Some(closing)) = (num("opening_balance"), num("closing_balance"))
        else {
            return;
        };
        let (mut debit, mut credit) = (0.0, 0.0);
        match obj.get("lines") {
            None | Some(Value::Null) => {}
            Some(Value::Array(lines)) => {
                for line in lines {
                    let Some(line) = line.as_object() else { return };
                    for (key, acc) in [("debit", &mut debit), ("credit", &mut credit)] {
                        match line.get(key) {
                            None | Some(Value::Null) => {}
                            Some(Value::Number(n)) => *acc += n.as_f64().unwrap_or(0.0),
                            Some(_) => return,
                        }
                    }
                }
            }
            Some(_) => return,
        }
        let expected = opening + debit - credit;
        if (closing - expected).abs() > SUM_TOLERANCE {
            self.push(
                &self.root().field("closing_balance"),
                codes::SUM_MISMATCH,
                msg!(
                    self.lang,
                    "sum-mismatch-balance",
                    closing = closing.to_string(),
                    opening = opening.to_string(),
                    debit = money(debit),
                    credit = money(credit),
                    expected = money(expected)
                ),
            );
        }
    }

    fn precision(&mut self, t: DataType, record: &Value) {
        let mut at = Vec::new();
        for (ty, path, max, what) in PRECISION_FIELDS {
            if *ty != t {
                continue;
            }
            visit(record, path, &mut at, &mut |segs, v| {
                let Value::Number(n) = v else { return };
                let digits = fractional_digits(n);
                if digits > *max {
                    let loc = Loc::at(self.index, segs);
                    let message = msg!(
                        self.lang,
                        "number-precision",
                        field = &loc.path,
                        value = n.to_string(),
                        digits = digits,
                        kind = *what,
                        max = *max
                    );
                    self.push(&loc, codes::NUMBER_PRECISION, message);
                }
            });
        }
    }

    fn dates(&mut self, t: DataType, record: &Value) {
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
                    let loc = Loc::at(self.index, segs);
                    let message = problem.message(self.lang, &loc.path, s);
                    self.push(&loc, codes::DATE_INVALID, message);
                }
            });
        }
    }

    fn date_ranges(&mut self, t: DataType, obj: &Map<String, Value>) {
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
                self.push(
                    &self.root().field(to_key),
                    codes::DATE_RANGE,
                    msg!(
                        self.lang,
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
}

/// Fields whose numbers have a limited number of fractional digits, and how many.
static PRECISION_FIELDS: &[(DataType, &[Step], u32, &str)] = {
    use DataType::*;
    use Step::{Each, Field};
    // The kind of amount, as the catalogue's `number-precision` selects on it.
    const MONEY: &str = "money";
    const PRICE: &str = "price";
    &[
        (Orders, &[Field("total")], 2, MONEY),
        (Orders, &[Field("items"), Each, Field("amount")], 2, MONEY),
        (Orders, &[Field("items"), Each, Field("price")], 4, PRICE),
        (Orders, &[Field("delivery"), Field("cost")], 2, MONEY),
        (Finances, &[Field("balance")], 2, MONEY),
        (Finances, &[Field("credit_limit")], 2, MONEY),
        (Finances, &[Field("overdue_debt")], 2, MONEY),
        (
            Finances,
            &[Field("documents"), Each, Field("amount")],
            2,
            MONEY,
        ),
        (
            Finances,
            &[Field("documents"), Each, Field("debt")],
            2,
            MONEY,
        ),
        (Acts, &[Field("opening_balance")], 2, MONEY),
        (Acts, &[Field("closing_balance")], 2, MONEY),
        (Acts, &[Field("lines"), Each, Field("debit")], 2, MONEY),
        (Acts, &[Field("lines"), Each, Field("credit")], 2, MONEY),
        (Contracts, &[Field("credit_limit")], 2, MONEY),
        (Prices, &[Field("price")], 4, PRICE),
    ]
};

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

/// Digits after the decimal point in the shortest decimal that reads back as the same f64
/// (what the exporter most plausibly wrote). Integers have none.
pub fn fractional_digits(n: &Number) -> u32 {
    if n.is_i64() || n.is_u64() {
        return 0;
    }
    let Some(f) = n.as_f64() else { return 0 };
    // `{:e}` is the shortest round-trip form in scientific notation: "1.2345e2", "1e-7".
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mantissa_digits = mantissa.split_once('.').map_or(0, |(_, frac)| frac.len()) as i64;
    (mantissa_digits - exp).max(0) as u32
}

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
    use super::*;
    use serde_json::json;

    fn run(t: DataType, record: Value, is_delta: bool) -> Vec<Issue> {
        let mut out = Vec::new();
        check_record(t, 7, &record, is_delta, Lang::En, &mut out);
        for i in &out {
            assert_eq!(i.record, Some(7));
            assert!(i.pointer.starts_with("/7"), "{}", i.pointer);
        }
        out
    }

    fn found(issues: &[Issue]) -> Vec<(&str, &str)> {
        issues
            .iter()
            .map(|i| (i.pointer.as_str(), i.code.as_str()))
            .collect()
    }

    fn legal(extra: Value) -> Value {
        let mut base = json!({
            "id": "C1", "name": "Romashka", "kind": "legal", "inn": "7707083893",
            "kpp": "773601001", "ogrn": "1027700132195",
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn valid_contragents_pass() {
        assert!(run(DataType::Contragents, legal(json!({})), false).is_empty());
        let ip = json!({"id": "C2", "name": "IP Ivanov", "kind": "entrepreneur",
            "inn": "500100732259", "ogrn": "304500116000157", "kpp": "", "bank_accounts": [
                {"bik": "044525225", "account": "40702810938000000001"}]});
        // 304500116000157: body 30450011600015 mod 13 mod 10 = 7.
        assert_eq!(ident::check_ogrn("304500116000157"), Ok(()));
        assert!(run(DataType::Contragents, ip, false).is_empty());
        let person = json!({"id": "C3", "name": "Petrov", "kind": "person",
            "inn": "500100732259", "kpp": null, "ogrn": null});
        assert!(run(DataType::Contragents, person, false).is_empty());
    }

    #[test]
    fn inn_checksum_message_names_the_digit() {
        let issues = run(
            DataType::Contragents,
            legal(json!({"inn": "7707083894"})),
            false,
        );
        assert_eq!(found(&issues), [("/7/inn", codes::INN_CHECKSUM)]);
        assert_eq!(
            issues[0].message,
            "INN \"7707083894\" has a wrong check digit (expected 3 in position 10); check the \
             number in the ERP"
        );
        let issues = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732250"}),
            false,
        );
        assert_eq!(found(&issues), [("/7/inn", codes::INN_CHECKSUM)]);
        assert!(
            issues[0].message.contains("expected 9 in position 12"),
            "{}",
            issues[0].message
        );
        let issues = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732200"}),
            false,
        );
        assert!(
            issues[0]
                .message
                .contains("expected 59 in positions 11, 12"),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn inn_length_depends_on_kind() {
        let i = run(
            DataType::Contragents,
            legal(json!({"inn": "500100732259"})),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        assert!(i[0].message.contains("has 12 digits"));
        assert!(i[0].message.contains("legal entity has 10"));
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "7707083893"}),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            legal(json!({"inn": "77070 83893"})),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        assert!(i[0].message.contains("digits only"));
        // Unknown kind: either length is acceptable, the check digits still count.
        assert!(run(
            DataType::Contragents,
            json!({"kind": "alien", "inn": "500100732259"}),
            false
        )
        .is_empty());
        assert_eq!(
            found(&run(
                DataType::Contragents,
                json!({"inn": "77070838931"}),
                false
            )),
            [("/7/inn", codes::INN_FORMAT)]
        );
        assert_eq!(
            found(&run(
                DataType::Contragents,
                json!({"inn": "7707083894"}),
                false
            )),
            [("/7/inn", codes::INN_CHECKSUM)]
        );
    }

    #[test]
    fn wrongly_typed_fields_are_left_to_the_schema() {
        let r = json!({"kind": "legal", "inn": 7707083894u64, "kpp": 12, "ogrn": [1],
            "bank_accounts": "none", "deleted": "yes"});
        assert!(run(DataType::Contragents, r, false).is_empty());
        let r = json!({"kind": "legal", "bank_accounts": [1, {"bik": 44525225, "account": "x"},
            {"bik": "04452522", "account": "40702810438000000001"}]});
        assert!(run(DataType::Contragents, r, false).is_empty());
        assert!(run(DataType::Orders, json!("not an object"), false).is_empty());
        assert!(run(
            DataType::Orders,
            json!({"items": {"a": 1}, "total": "10"}),
            false
        )
        .is_empty());
    }

    #[test]
    fn kpp_rules() {
        assert!(run(
            DataType::Contragents,
            legal(json!({"kpp": "7736AB001"})),
            false
        )
        .is_empty());
        let i = run(
            DataType::Contragents,
            legal(json!({"kpp": "77360100"})),
            false,
        );
        assert_eq!(found(&i), [("/7/kpp", codes::KPP_FORMAT)]);
        assert!(i[0].message.contains("\"77360100\""));
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "kpp": "773601001"}),
            false,
        );
        assert_eq!(found(&i), [("/7/kpp", codes::KPP_FORMAT)]);
        assert!(i[0].message.contains("only legal entities have a KPP"));
        assert!(i[0].message.contains("remove it"));
    }

    #[test]
    fn ogrn_rules() {
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "1027700132196"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_CHECKSUM)]);
        assert!(
            i[0].message.contains("expected 5 in position 13"),
            "{}",
            i[0].message
        );
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "304500116000157"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "ogrn": "1027700132195"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "ogrn": "304500116000158"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_CHECKSUM)]);
        assert!(i[0].message.starts_with("OGRNIP"));
        let i = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732259", "ogrn": "304500116000157"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        assert!(i[0].message.contains("a person"));
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "10277OO132195"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
    }

    #[test]
    fn bank_account_keys() {
        let r = legal(json!({"bank_accounts": [
            {"bik": "044525225", "account": "40702810938000000001"},
            {"bik": "044525225", "account": "40702810438000000001"},
            {"bik": "044525000", "account": "40101810800000010041"},
            {"bik": "044525000", "account": "40101810700000010041"},
            {"bik": "044525225", "account": "4070281043800000000"},
        ]}));
        let i = run(DataType::Contragents, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/bank_accounts/1/account", codes::ACCOUNT_CHECKSUM),
                ("/7/bank_accounts/3/account", codes::ACCOUNT_CHECKSUM)
            ]
        );
        assert!(i[0].message.contains("\"40702810438000000001\""));
        assert!(i[0].message.contains("\"044525225\""));
        assert!(i[0].message.contains("would be 9"), "{}", i[0].message);
    }

    #[test]
    fn barcodes() {
        let r = json!({"id": "P1", "barcodes": ["4006381333931", "4006381333932", "96385074",
            "96385075", "036000291452", "14006381333938", "14006381333939", "123", 4006381333932u64,
            "ABCDEFGH"]});
        let i = run(DataType::Products, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/barcodes/1", codes::BARCODE_CHECKSUM),
                ("/7/barcodes/3", codes::BARCODE_CHECKSUM),
                ("/7/barcodes/6", codes::BARCODE_CHECKSUM)
            ]
        );
        assert!(i[0].message.contains("\"4006381333932\""));
        assert!(i[0].message.contains("expected 1"));
    }

    #[test]
    fn deleted_records() {
        let r = json!({"id": "C1", "kind": "legal", "inn": "123", "deleted": true});
        assert!(run(DataType::Contragents, r.clone(), true).is_empty());
        let i = run(DataType::Contragents, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/deleted", codes::SNAPSHOT_DELETED),
                ("/7/inn", codes::INN_FORMAT)
            ]
        );
        assert!(run(
            DataType::Products,
            json!({"id": "P", "deleted": false}),
            false
        )
        .is_empty());
    }

    #[test]
    fn password_fields() {
        let r = json!({"id": "U1", "email": "a@b.ru", "Password": "x", "user_passwd": 1,
            "Пароль": "y", "PWD": "z", "pass": "w", "passport": "1234", "compass": "n",
            "a/password~": "q"});
        let i = run(DataType::Customers, r.clone(), false);
        let mut got = found(&i);
        got.sort();
        let mut want = vec![
            ("/7/Password", codes::SECURITY_PASSWORD_FIELD),
            ("/7/user_passwd", codes::SECURITY_PASSWORD_FIELD),
            ("/7/Пароль", codes::SECURITY_PASSWORD_FIELD),
            ("/7/PWD", codes::SECURITY_PASSWORD_FIELD),
            ("/7/pass", codes::SECURITY_PASSWORD_FIELD),
            ("/7/a~1password~0", codes::SECURITY_PASSWORD_FIELD),
        ];
        want.sort();
        assert_eq!(got, want);
        assert!(i[0].message.contains("never transferred"));
        assert!(i[0].message.contains("remove the field"));
        // Only customers are concerned.
        assert!(run(DataType::Managers, r, false).is_empty());
    }

    fn order(items: Value, total: Value, delivery: Value) -> Value {
        json!({"id": "O1", "date": "2026-11-22", "items": items, "total": total,
            "delivery": delivery})
    }

    #[test]
    fn order_item_amounts() {
        let items = json!([
            {"quantity": 3, "price": 35.5, "amount": 106.5},
            {"quantity": 3, "price": 35.5, "discount": 10, "amount": 95.85},
            {"quantity": 3, "price": 35.5, "discount": 10, "amount": 106.5},
            {"quantity": 2, "price": 0.3, "amount": 0.61},
            {"quantity": 2, "price": 0.3, "amount": 0.62},
            {"quantity": "2", "price": 1, "amount": 100},
            {"quantity": 2, "price": 1, "discount": "5", "amount": 100},
            {"quantity": 1, "price": 10, "discount": null, "amount": 10}
        ]);
        let i = run(
            DataType::Orders,
            order(items, Value::Null, Value::Null),
            false,
        );
        assert_eq!(
            found(&i),
            [
                ("/7/items/2/amount", codes::SUM_MISMATCH),
                ("/7/items/4/amount", codes::SUM_MISMATCH)
            ]
        );
        assert!(i[0].message.contains("106.5"), "{}", i[0].message);
        assert!(i[0].message.contains("95.85"), "{}", i[0].message);
        assert!(i[0].message.starts_with("items[2].amount"));
    }

    #[test]
    fn order_totals() {
        let items = json!([{"quantity": 1, "price": 100, "amount": 100},
            {"quantity": 1, "price": 0.1, "amount": 0.1}, {"quantity": 1, "price": 0.2, "amount": 0.2}]);
        let ok = order(
            items.clone(),
            json!(150.3),
            json!({"kind": "delivery", "cost": 50}),
        );
        assert!(run(DataType::Orders, ok, false).is_empty());
        let ok = order(items.clone(), json!(100.3), json!({"kind": "pickup"}));
        assert!(run(DataType::Orders, ok, false).is_empty());
        let ok = order(items.clone(), json!(100.31), Value::Null);
        assert!(run(DataType::Orders, ok, false).is_empty());
        let bad = order(
            items.clone(),
            json!(100.3),
            json!({"kind": "delivery", "cost": 50}),
        );
        let i = run(DataType::Orders, bad, false);
        assert_eq!(found(&i), [("/7/total", codes::SUM_MISMATCH)]);
        assert!(i[0].message.contains("total is 100.3"), "{}", i[0].message);
        assert!(i[0].message.contains("= 150.3"), "{}", i[0].message);
        let bad = order(items.clone(), json!(100.32), Value::Null);
        assert_eq!(
            found(&run(DataType::Orders, bad, false)),
            [("/7/total", codes::SUM_MISMATCH)]
        );
        // An amount of the wrong type: the total cannot be judged.
        let items2 = json!([{"quantity": 1, "price": 100, "amount": "100"}]);
        assert!(run(
            DataType::Orders,
            order(items2, json!(5), Value::Null),
            false
        )
        .is_empty());
        let odd = order(items, json!(5), json!({"cost": "50"}));
        assert!(run(DataType::Orders, odd, false).is_empty());
    }

    #[test]
    fn act_balances() {
        let act = |closing: Value, lines: Value| {
            json!({"id": "A1", "period_from": "2026-01-01", "period_to": "2026-03-31",
                "opening_balance": 100, "closing_balance": closing, "lines": lines})
        };
        let lines = json!([{"date": "2026-01-10", "document": "x", "debit": 600},
            {"date": "2026-01-11", "document": "y", "credit": 150.25}, {"date": "2026-01-12", "document": "z"}]);
        assert!(run(DataType::Acts, act(json!(549.75), lines.clone()), false).is_empty());
        let i = run(DataType::Acts, act(json!(550), lines.clone()), false);
        assert_eq!(found(&i), [("/7/closing_balance", codes::SUM_MISMATCH)]);
        assert!(i[0].message.contains("549.75"), "{}", i[0].message);
        assert!(run(DataType::Acts, act(json!(100), Value::Null), false).is_empty());
        assert_eq!(
            found(&run(DataType::Acts, act(json!(101), json!([])), false)),
            [("/7/closing_balance", codes::SUM_MISMATCH)]
        );
        let odd = json!([{"date": "2026-01-10", "document": "x", "debit": "600"}]);
        assert!(run(DataType::Acts, act(json!(1), odd), false).is_empty());
    }

    fn num(s: &str) -> Number {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn counting_fractional_digits() {
        for (s, d) in [
            ("0", 0),
            ("12", 0),
            ("-5", 0),
            ("12.0", 0),
            ("12.5", 1),
            ("12.50", 1),
            ("12.34", 2),
            ("0.001", 3),
            ("1e-7", 7),
            ("1.5e-7", 8),
            ("1.25e2", 0),
            ("1.2345e2", 2),
            ("1e21", 0),
            ("123.4567", 4),
            ("-0.12345", 5),
        ] {
            assert_eq!(fractional_digits(&num(s)), d, "{s}");
        }
    }

    #[test]
    fn precision_limits() {
        let r = json!({"id": "O1", "total": 10.123, "delivery": {"cost": 1.5},
            "items": [{"quantity": 1, "price": 10.1234, "amount": 10.12},
                      {"quantity": 1, "price": 0.12345, "amount": 0.001}]});
        let i: Vec<_> = run(DataType::Orders, r, false)
            .into_iter()
            .filter(|i| i.code == codes::NUMBER_PRECISION)
            .collect();
        assert_eq!(
            found(&i),
            [
                ("/7/total", codes::NUMBER_PRECISION),
                ("/7/items/1/amount", codes::NUMBER_PRECISION),
                ("/7/items/1/price", codes::NUMBER_PRECISION)
            ]
        );
        assert!(i[0].message.contains("10.123"));
        assert!(i[0].message.contains("at most 2"));
        assert!(i[2].message.contains("at most 4"));

        let p = |price: Value| run(DataType::Prices, json!({"price": price}), false);
        assert!(p(json!(12.3456)).is_empty());
        assert_eq!(
            found(&p(json!(12.34567))),
            [("/7/price", codes::NUMBER_PRECISION)]
        );
        assert_eq!(
            found(&p(json!(1e-7))),
            [("/7/price", codes::NUMBER_PRECISION)]
        );

        let f = json!({"balance": 1.001, "credit_limit": 2.5, "overdue_debt": 0.333,
            "documents": [{"amount": 1.1, "debt": 2.222}, {"amount": 3.333, "debt": 0}]});
        assert_eq!(
            found(&run(DataType::Finances, f, false)),
            [
                ("/7/balance", codes::NUMBER_PRECISION),
                ("/7/overdue_debt", codes::NUMBER_PRECISION),
                ("/7/documents/1/amount", codes::NUMBER_PRECISION),
                ("/7/documents/0/debt", codes::NUMBER_PRECISION)
            ]
        );
        let a = json!({"opening_balance": 0.001, "closing_balance": 0.001,
            "lines": [{"debit": 0.005}, {"credit": 0.005}]});
        assert_eq!(
            found(&run(DataType::Acts, a, false)),
            [
                ("/7/opening_balance", codes::NUMBER_PRECISION),
                ("/7/closing_balance", codes::NUMBER_PRECISION),
                ("/7/lines/0/debit", codes::NUMBER_PRECISION),
                ("/7/lines/1/credit", codes::NUMBER_PRECISION)
            ]
        );
        assert_eq!(
            found(&run(
                DataType::Contracts,
                json!({"credit_limit": 1000.555}),
                false
            )),
            [("/7/credit_limit", codes::NUMBER_PRECISION)]
        );
        // Fields not listed are free (quantities, weights).
        assert!(run(DataType::Products, json!({"weight": 0.12345}), false).is_empty());
    }

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

    #[test]
    fn pointers_escape_keys() {
        let l = Loc::root(3).field("a/b").item(2).field("c~d");
        assert_eq!(l.pointer, "/3/a~1b/2/c~0d");
        assert_eq!(l.path, "a/b[2].c~d");
    }
}
