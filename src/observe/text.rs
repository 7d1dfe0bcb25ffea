//! The words of the status page in each language it speaks, and how a request picks one.
//!
//! One small table per language, kept here until the program's message catalogue (per-language
//! files, being built separately) reaches this module; then these strings move there.

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

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
        if let Some(l) = query_lang.and_then(Lang::from_tag) {
            return l;
        }
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.unwrap_or("").split(',') {
            let mut it = part.split(';');
            let Some(l) = it.next().and_then(Lang::from_tag) else {
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

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
        }
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

static EN: Words = Words {
    title: "compo-exchange status",
    work_folder: "Work folder",
    server: "Exchange server",
    updated: "Updated",
    refresh_note: "refreshes every 10 s",
    no_journal: "No journal yet: nothing has run in this work folder.",
    health: "Health",
    component: "Component",
    condition: "Condition",
    since: "Since",
    last_success: "Last success",
    ok: "ok",
    failing: "failing",
    no_health: "No failures recorded.",
    warnings: "Warnings",
    topic: "About",
    message: "Message",
    types: "Publishing by type",
    data_type: "Type",
    schedule: "Schedule",
    last_publish: "Last publish",
    next_tick: "Next tick",
    waiting: "Waiting",
    retrying: "Retrying",
    rejected_24h: "Rejected 24 h",
    at_every_check: "at every check",
    never: "never",
    retrying_files: "Files being retried",
    file: "File",
    state: "State",
    attempts: "Attempts",
    last_error: "Last error",
    next_attempt: "Next attempt",
    failing_since: "Failing since",
    none_retrying: "No file is being retried.",
    waiting_files: "Files waiting for their tick",
    staged_at: "Staged at",
    none_waiting: "No file is waiting.",
    rejections: "Rejections",
    rejections_note: "last 7 days, newest first",
    when: "When",
    outcome: "Outcome",
    first_error: "First error",
    report: "Report",
    open_report: "report",
    rejected: "rejected",
    held: "held",
    and_more: "more",
    none_rejected: "No file was rejected in the last 7 days.",
    held_hint: "held by the mass-deletion guard: compo-exchange release NAME lets it through",
    collection: "Inbound collection (out/)",
    last_collect: "Last collect",
    last_delivered: "Last delivered",
    delivered_24h: "Delivered 24 h",
    attached: "Attached files",
    folder: "Folder",
    on_server: "On the server",
    files: "files",
    progress: "Sync",
    running: "running",
    finished: "finished",
    attached_rejected: "Rejected attached files",
    other_language: "По-русски",
};

static RU: Words = Words {
    title: "Состояние compo-exchange",
    work_folder: "Рабочая папка",
    server: "Сервер обмена",
    updated: "Обновлено",
    refresh_note: "обновляется каждые 10 с",
    no_journal: "Журнала ещё нет: в этой рабочей папке ничего не запускалось.",
    health: "Исправность",
    component: "Компонент",
    condition: "Состояние",
    since: "Начиная с",
    last_success: "Последний успех",
    ok: "в порядке",
    failing: "сбой",
    no_health: "Сбоев не записано.",
    warnings: "Предупреждения",
    topic: "О чём",
    message: "Сообщение",
    types: "Публикация по типам",
    data_type: "Тип",
    schedule: "Расписание",
    last_publish: "Последняя публикация",
    next_tick: "Следующий запуск",
    waiting: "Ждут",
    retrying: "Повторы",
    rejected_24h: "Отклонено за 24 ч",
    at_every_check: "при каждой проверке",
    never: "ещё не было",
    retrying_files: "Файлы, которые пробуем снова",
    file: "Файл",
    state: "Шаг",
    attempts: "Попыток",
    last_error: "Последняя ошибка",
    next_attempt: "Следующая попытка",
    failing_since: "Сбой с",
    none_retrying: "Повторяемых файлов нет.",
    waiting_files: "Файлы, ждущие своего запуска",
    staged_at: "Подготовлен",
    none_waiting: "Ждущих файлов нет.",
    rejections: "Отклонённые файлы",
    rejections_note: "за 7 дней, новые сверху",
    when: "Когда",
    outcome: "Итог",
    first_error: "Первая ошибка",
    report: "Отчёт",
    open_report: "отчёт",
    rejected: "отклонён",
    held: "задержан",
    and_more: "ещё",
    none_rejected: "За 7 дней ни один файл не отклонён.",
    held_hint: "задержан защитой от массового удаления: его пропускает compo-exchange release ИМЯ",
    collection: "Приём из out/",
    last_collect: "Последний сбор",
    last_delivered: "Последний доставленный",
    delivered_24h: "Доставлено за 24 ч",
    attached: "Вложения",
    folder: "Папка",
    on_server: "На сервере",
    files: "файлов",
    progress: "Синхронизация",
    running: "идёт",
    finished: "завершена",
    attached_rejected: "Отклонённые вложения",
    other_language: "In English",
};

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn the_query_wins_then_accept_language_by_weight() {
        assert_eq!(Lang::choose(Some("ru"), Some("en")), Lang::Ru);
        assert_eq!(Lang::choose(Some("xx"), Some("ru-RU,ru;q=0.9")), Lang::Ru);
        assert_eq!(
            Lang::choose(None, Some("de-DE,en;q=0.5,ru;q=0.8")),
            Lang::Ru
        );
        assert_eq!(Lang::choose(None, Some("en-GB,ru;q=0.3")), Lang::En);
        assert_eq!(Lang::choose(None, Some("de")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }
}
