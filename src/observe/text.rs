//! The words of the status page in the language a request asks for: formatted once per
//! language from the program's message catalogue (`src/compo/messages/{en,ru}.ftl`, ids
//! `page-*`), and how a request picks its language.

use crate::compo::messages::msg;
pub use crate::compo::messages::Lang;
use std::sync::OnceLock;

fn from_tag(tag: &str) -> Option<Lang> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    match primary.as_str() {
        "en" => Some(Lang::En),
        "ru" => Some(Lang::Ru),
        _ => None,
    }
}

/// `?lang=` wins; then the first language of `Accept-Language` (by its q weights) that the
/// page speaks; English otherwise.
pub fn choose(query_lang: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(l) = query_lang.and_then(from_tag) {
        return l;
    }
    let mut best: Option<(f32, Lang)> = None;
    for part in accept_language.unwrap_or("").split(',') {
        let mut it = part.split(';');
        let Some(l) = it.next().and_then(from_tag) else {
            continue;
        };
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if !matches!(best, Some((bq, _)) if bq >= q) {
            best = Some((q, l));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

/// The page's words in `lang`, formatted at the first request in that language.
pub fn words(lang: Lang) -> &'static Words {
    static EN: OnceLock<Words> = OnceLock::new();
    static RU: OnceLock<Words> = OnceLock::new();
    match lang {
        Lang::En => EN.get_or_init(|| Words::new(Lang::En)),
        Lang::Ru => RU.get_or_init(|| Words::new(Lang::Ru)),
    }
}

/// Every text of the page, one field per phrase.
pub struct Words {
    pub title: &'static str,
    pub work_folder: &'static str,
    pub server: &'static str,
    pub updated: &'static str,
    pub refresh_note: &'static str,
    pub no_journal: &'static str,
    pub health: &'static str,
    pub component: &'static str,
    pub condition: &'static str,
    pub since: &'static str,
    pub last_success: &'static str,
    pub ok: &'static str,
    pub failing: &'static str,
    pub no_health: &'static str,
    pub warnings: &'static str,
    pub topic: &'static str,
    pub message: &'static str,
    pub types: &'static str,
    pub data_type: &'static str,
    pub schedule: &'static str,
    pub last_publish: &'static str,
    pub next_tick: &'static str,
    pub waiting: &'static str,
    pub retrying: &'static str,
    pub rejected_24h: &'static str,
    pub at_every_check: &'static str,
    pub never: &'static str,
    pub retrying_files: &'static str,
    pub file: &'static str,
    pub state: &'static str,
    pub attempts: &'static str,
    pub last_error: &'static str,
    pub next_attempt: &'static str,
    pub failing_since: &'static str,
    pub none_retrying: &'static str,
    pub waiting_files: &'static str,
    pub staged_at: &'static str,
    pub none_waiting: &'static str,
    pub rejections: &'static str,
    pub rejections_note: &'static str,
    pub when: &'static str,
    pub outcome: &'static str,
    pub first_error: &'static str,
    pub report: &'static str,
    pub open_report: &'static str,
    pub report_gone: &'static str,
    pub report_gone_hint: &'static str,
    pub rejected: &'static str,
    pub held: &'static str,
    pub and_more: &'static str,
    pub none_rejected: &'static str,
    pub held_hint: &'static str,
    pub collection: &'static str,
    pub last_collect: &'static str,
    pub last_delivered: &'static str,
    pub delivered_24h: &'static str,
    pub attached: &'static str,
    pub folder: &'static str,
    pub on_server: &'static str,
    pub files: &'static str,
    pub progress: &'static str,
    pub running: &'static str,
    pub finished: &'static str,
    pub attached_rejected: &'static str,
    pub other_language: &'static str,
}

impl Words {
    /// Formats every text of `lang`. Each lives as long as the process (two languages of about
    /// sixty short phrases, made once), so the page's code takes them as plain `&str`.
    fn new(lang: Lang) -> Words {
        let keep = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        Words {
            title: keep(msg!(lang, "page-title")),
            work_folder: keep(msg!(lang, "page-work-folder")),
            server: keep(msg!(lang, "page-server")),
            updated: keep(msg!(lang, "page-updated")),
            refresh_note: keep(msg!(lang, "page-refresh-note")),
            no_journal: keep(msg!(lang, "page-no-journal")),
            health: keep(msg!(lang, "page-health")),
            component: keep(msg!(lang, "page-component")),
            condition: keep(msg!(lang, "page-condition")),
            since: keep(msg!(lang, "page-since")),
            last_success: keep(msg!(lang, "page-last-success")),
            ok: keep(msg!(lang, "page-ok")),
            failing: keep(msg!(lang, "page-failing")),
            no_health: keep(msg!(lang, "page-no-health")),
            warnings: keep(msg!(lang, "page-warnings")),
            topic: keep(msg!(lang, "page-topic")),
            message: keep(msg!(lang, "page-message")),
            types: keep(msg!(lang, "page-types")),
            data_type: keep(msg!(lang, "page-data-type")),
            schedule: keep(msg!(lang, "page-schedule")),
            last_publish: keep(msg!(lang, "page-last-publish")),
            next_tick: keep(msg!(lang, "page-next-tick")),
            waiting: keep(msg!(lang, "page-waiting")),
            retrying: keep(msg!(lang, "page-retrying")),
            rejected_24h: keep(msg!(lang, "page-rejected-24h")),
            at_every_check: keep(msg!(lang, "page-at-every-check")),
            never: keep(msg!(lang, "page-never")),
            retrying_files: keep(msg!(lang, "page-retrying-files")),
            file: keep(msg!(lang, "page-file")),
            state: keep(msg!(lang, "page-state")),
            attempts: keep(msg!(lang, "page-attempts")),
            last_error: keep(msg!(lang, "page-last-error")),
            next_attempt: keep(msg!(lang, "page-next-attempt")),
            failing_since: keep(msg!(lang, "page-failing-since")),
            none_retrying: keep(msg!(lang, "page-none-retrying")),
            waiting_files: keep(msg!(lang, "page-waiting-files")),
            staged_at: keep(msg!(lang, "page-staged-at")),
            none_waiting: keep(msg!(lang, "page-none-waiting")),
            rejections: keep(msg!(lang, "page-rejections")),
            rejections_note: keep(msg!(lang, "page-rejections-note")),
            when: keep(msg!(lang, "page-when")),
            outcome: keep(msg!(lang, "page-outcome")),
            first_error: keep(msg!(lang, "page-first-error")),
            report: keep(msg!(lang, "page-report")),
            open_report: keep(msg!(lang, "page-open-report")),
            report_gone: keep(msg!(lang, "page-report-gone")),
            report_gone_hint: keep(msg!(lang, "page-report-gone-hint")),
            rejected: keep(msg!(lang, "page-rejected")),
            held: keep(msg!(lang, "page-held")),
            and_more: keep(msg!(lang, "page-and-more")),
            none_rejected: keep(msg!(lang, "page-none-rejected")),
            held_hint: keep(msg!(lang, "page-held-hint")),
            collection: keep(msg!(lang, "page-collection")),
            last_collect: keep(msg!(lang, "page-last-collect")),
            last_delivered: keep(msg!(lang, "page-last-delivered")),
            delivered_24h: keep(msg!(lang, "page-delivered-24h")),
            attached: keep(msg!(lang, "page-attached")),
            folder: keep(msg!(lang, "page-folder")),
            on_server: keep(msg!(lang, "page-on-server")),
            files: keep(msg!(lang, "page-files")),
            progress: keep(msg!(lang, "page-progress")),
            running: keep(msg!(lang, "page-running")),
            finished: keep(msg!(lang, "page-finished")),
            attached_rejected: keep(msg!(lang, "page-attached-rejected")),
            other_language: keep(msg!(lang, "page-other-language")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{choose, words, Lang};

    #[test]
    fn the_query_wins_then_accept_language_by_weight() {
        assert_eq!(choose(Some("ru"), Some("en")), Lang::Ru);
        assert_eq!(choose(Some("xx"), Some("ru-RU,ru;q=0.9")), Lang::Ru);
        assert_eq!(choose(None, Some("de-DE,en;q=0.5,ru;q=0.8")), Lang::Ru);
        assert_eq!(choose(None, Some("en-GB,ru;q=0.3")), Lang::En);
        assert_eq!(choose(None, Some("de")), Lang::En);
        assert_eq!(choose(None, None), Lang::En);
    }

    #[test]
    fn every_text_comes_from_the_catalogue_in_each_language() {
        let (en, ru) = (words(Lang::En), words(Lang::Ru));
        assert_eq!(en.title, "compo-exchange status");
        assert_eq!(ru.rejections, "Отклонённые файлы");
        assert_eq!(en.other_language, "По-русски");
        assert_ne!(en.report_gone, ru.report_gone);
    }
}
