//! The words people read, in their language: Simplified Chinese by default,
//! English on request (`--lang en`, or `[center] language` in pack.toml).
//!
//! Every sentence a QA lead reads (the report, the terminal summary, the
//! examples table, the clip and review pages, the batch's notes) is a message
//! of a Fluent catalogue, `zh-CN.ftl` or `en.ftl` beside this file, looked up
//! by id; no rendering stage writes a sentence of its own. Fluent carries what
//! the two languages do differently: English plurals (`1 call`, `2 calls`),
//! Chinese measure words (`3 通电话`), word order. Dates, durations and
//! numbers are messages too (`2026年11月20日`, `2.5 小时`), so a reader sees them
//! the way their language writes them. Tables and JSON keep the stable ids:
//! only what a person reads changes with the language.
//!
//! Ids, transcripts and reasons from other stages are data: they go into
//! messages as arguments, unchanged.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// A language callqa writes for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese (zh-CN): the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The short code pack.toml and `--lang` take.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The page's `lang` attribute (fonts and line breaking follow it).
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Reads `zh`, `zh-CN`, `zh-Hans`, `en`, `en-US`… (case does not matter).
    pub fn parse(text: &str) -> Option<Lang> {
        let head = text.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match head.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn catalogue(self) -> (&'static str, &'static str) {
        match self {
            Lang::Zh => ("zh-CN.ftl", include_str!("zh-CN.ftl")),
            Lang::En => ("en.ftl", include_str!("en.ftl")),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The arguments of a message: names and values (strings or numbers; a
/// number decides an English plural).
pub type Args<'a> = FluentArgs<'a>;

/// One language's catalogue, ready to format messages.
pub struct Messages {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").field("lang", &self.lang).finish()
    }
}

/// `msg!(messages, "report-title", name = value, …)`: the message formatted with
/// its arguments.
#[macro_export]
macro_rules! msg {
    ($messages:expr, $id:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut args = $crate::i18n::Args::new();
        $( args.set(stringify!($name), $value); )*
        $messages.format($id, &args)
    }};
}

impl Messages {
    /// The catalogue of `lang`, parsed once per process.
    pub fn of(lang: Lang) -> &'static Messages {
        static ZH: OnceLock<Messages> = OnceLock::new();
        static EN: OnceLock<Messages> = OnceLock::new();
        let cell = match lang {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        };
        cell.get_or_init(|| Messages::load(lang))
    }

    fn load(lang: Lang) -> Messages {
        let (file, text) = lang.catalogue();
        // the catalogues are compiled in and checked by the test suite
        let resource = FluentResource::try_new(text.to_string())
            .unwrap_or_else(|(_, errors)| panic!("src/i18n/{file} does not parse: {errors:?}"));
        let id: unic_langid::LanguageIdentifier = lang.html_lang().parse().expect("a valid language id");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // no invisible direction marks around arguments: both languages run left to right
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("src/i18n/{file}: {errors:?}"));
        Messages { lang, bundle }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether the catalogue has `id` (for names it may or may not give).
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// The message `id` without arguments.
    pub fn text(&self, id: &str) -> String {
        self.format(id, &Args::new())
    }

    /// The message `id` with `args`. A message missing from the catalogue
    /// shows as its id (the test suite keeps that from happening).
    pub fn format(&self, id: &str, args: &Args) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, Some(args), &mut errors);
        debug_assert!(errors.is_empty(), "{id}: {errors:?}");
        text.into_owned()
    }

    /// A message whose id is made at run time (`rule-greeting_missing`), if
    /// the catalogue has it.
    pub fn lookup(&self, id: &str) -> Option<String> {
        self.has(id).then(|| self.text(id))
    }

    /// A day (`YYYY-MM-DD`) as the reader writes one: `2026年11月20日`. Text
    /// that is not such a day comes back as it is.
    pub fn date(&self, day: &str) -> String {
        self.day_as("fmt-date", day)
    }

    /// A day in few characters, for a chart's axis: `11月20日`, `2026-11-20`.
    pub fn short_date(&self, day: &str) -> String {
        self.day_as("fmt-date-short", day)
    }

    /// `day` through the format `id`, which takes the parts it writes.
    fn day_as(&self, id: &str, day: &str) -> String {
        use chrono::Datelike;
        let Ok(d) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            return day.to_string();
        };
        let mut args = Args::new();
        args.set("year", d.year());
        args.set("month", d.month());
        args.set("day", d.day());
        args.set("iso", day.to_string());
        self.format(id, &args)
    }

    /// A moment of the clock, for "written at".
    pub fn date_time(&self, at: chrono::NaiveDateTime) -> String {
        use chrono::Timelike;
        msg!(
            self,
            "fmt-date-time",
            date = self.date(&at.format("%Y-%m-%d").to_string()),
            time = format!("{:02}:{:02}", at.hour(), at.minute())
        )
    }

    /// Hours of audio: minutes under an hour (`35 分钟`), else hours (`2.5 小时`).
    pub fn hours(&self, hours: f64) -> String {
        if hours < 1.0 {
            msg!(self, "fmt-minutes", minutes = format!("{:.0}", hours * 60.0))
        } else {
            msg!(self, "fmt-hours", hours = format!("{hours:.1}"))
        }
    }

    /// A stretch of time as a reader takes it in: seconds under a minute,
    /// then minutes, then hours.
    pub fn duration(&self, seconds: f64) -> String {
        if seconds < 60.0 {
            self.seconds(seconds)
        } else {
            self.hours(seconds / 3600.0)
        }
    }

    /// Seconds, one decimal: `3.2 秒`.
    pub fn seconds(&self, seconds: f64) -> String {
        msg!(self, "fmt-seconds", seconds = format!("{seconds:.1}"))
    }

    /// A list of names as the reader separates them: `a、b、c` or `a, b, c`.
    pub fn list<S: AsRef<str>>(&self, items: &[S]) -> String {
        let separator = self.text("fmt-list-separator");
        let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
        items.join(&separator)
    }
}

#[cfg(test)]
mod tests;
