//! The catalogue of every message text the validator writes for users, one Fluent file per
//! language (`en.ftl`, `ru.ftl`), embedded in the binary.
//!
//! A message id is the stable code with its dots turned into dashes (`ref.missing` is
//! `ref-missing`), with a suffix when one code has several texts (`inn-checksum-legal`).
//! Texts are formatted with [`msg!`]: `msg!(lang, "ref-missing", target = "category", value = v)`.
//! String arguments have their control characters escaped (`\u0001`), so that no message ever
//! carries a raw control byte to a terminal or a report.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentResource, FluentValue};
use std::borrow::Cow;
use std::sync::OnceLock;

pub use fluent_bundle::FluentArgs;

/// The language of the messages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// `ru`, `RU`, `ru_RU.UTF-8`, `ru-RU`, `en`, `en_US.UTF-8`... by the language part;
    /// `None` for any other language.
    pub fn parse(s: &str) -> Option<Lang> {
        let lang = s
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match lang.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// The language of the locale, as POSIX picks it: the first of `LC_ALL`, `LC_MESSAGES`
    /// and `LANG` that is set and not empty; English when that is not Russian.
    /// Read once: the locale does not change while the program runs.
    pub fn from_env() -> Lang {
        static LOCALE: OnceLock<Lang> = OnceLock::new();
        *LOCALE.get_or_init(|| Lang::from_locale_vars(|k| std::env::var(k).ok()))
    }

    /// [`Lang::from_env`] over any source of variables (tests cannot change the environment
    /// of a multi-threaded process safely).
    pub fn from_locale_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| get(k))
            .find(|v| !v.is_empty())
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }

    /// The language's code (`en`, `ru`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("en.ftl"),
            Lang::Ru => include_str!("ru.ftl"),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> &'static Bundle {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| Lang::ALL.map(build));
    &all[lang as usize]
}

fn build(lang: Lang) -> Bundle {
    // The catalogues are part of the binary and parsed by a unit test of every build, so a
    // syntax error cannot reach a release.
    let resource = FluentResource::try_new(lang.source().to_string())
        .unwrap_or_else(|(_, errors)| panic!("{lang}.ftl does not parse: {errors:?}"));
    let id = lang.code().parse().expect("a valid language identifier");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: messages go to terminals and JSON reports,
    // not to bidirectional UI text.
    b.set_use_isolating(false);
    b.add_resource(resource)
        .expect("no message is defined twice");
    b
}

/// Formats message `id` of `lang` with `args`; [`msg!`] is the usual way in.
///
/// A missing message or argument is a programming error: it panics in debug builds (so that
/// every test that reaches it fails) and in a release shows the id with its arguments rather
/// than nothing.
pub fn format(lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
    let b = bundle(lang);
    let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
        if cfg!(debug_assertions) {
            panic!("message {id:?} is not in the {lang} catalogue");
        }
        return fallback(id, args);
    };
    let mut errors = Vec::new();
    let text = b.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        if cfg!(debug_assertions) {
            panic!("message {id:?} ({lang}): {errors:?}");
        }
        return fallback(id, args);
    }
    text.into_owned()
}

/// Message `id` of `lang` without arguments, or `None` when the catalogue has no such message
/// (for texts looked up by a name read from data, such as a schema's field names).
pub fn lookup(lang: Lang, id: &str) -> Option<String> {
    let b = bundle(lang);
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let text = b.format_pattern(pattern, None, &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

fn fallback(id: &str, args: Option<&FluentArgs>) -> String {
    let mut s = id.to_string();
    for (k, v) in args.into_iter().flat_map(|a| a.iter()) {
        s.push_str(&format!(" {k}={v:?}"));
    }
    s
}

/// A value a message shows: strings (with control characters escaped) and numbers (which
/// also select plural forms).
pub trait Arg<'a> {
    fn arg(self) -> FluentValue<'a>;
}

impl<'a> Arg<'a> for &'a str {
    fn arg(self) -> FluentValue<'a> {
        FluentValue::String(escape_controls(self))
    }
}

impl<'a> Arg<'a> for &'a String {
    fn arg(self) -> FluentValue<'a> {
        self.as_str().arg()
    }
}

impl<'a> Arg<'a> for String {
    fn arg(self) -> FluentValue<'a> {
        match escape_controls(&self) {
            Cow::Borrowed(_) => FluentValue::String(Cow::Owned(self)),
            Cow::Owned(s) => FluentValue::String(Cow::Owned(s)),
        }
    }
}

impl<'a> Arg<'a> for &'a Cow<'a, str> {
    fn arg(self) -> FluentValue<'a> {
        self.as_ref().arg()
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl<'a> Arg<'a> for $t {
            fn arg(self) -> FluentValue<'a> {
                FluentValue::from(self)
            }
        }
    )*};
}
number_args!(u8, u16, u32, u64, usize, i32, i64, f64);

/// `s` with every control character written as a JSON-style escape (`\u0001`), so that a
/// value shown in a message cannot move the cursor, ring the bell or break a line.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Formats a catalogue message: the language, the message id as a literal (so that a test can
/// find every id the code uses), then `name = value` for each `{ $name }` of the message.
macro_rules! msg {
    ($lang:expr, $id:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut args = $crate::compo::messages::FluentArgs::new();
        $( args.set(stringify!($name), $crate::compo::messages::Arg::arg($value)); )*
        $crate::compo::messages::format($lang, $id, Some(&args))
    }};
}
pub(crate) use msg;

#[cfg(test)]
mod tests;
