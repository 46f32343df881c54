//! The lexicon pack: `pack.toml` + phrase files → a validated [`Pack`] that
//! hands each stage its own settings.
//!
//! A pack is one folder for the people who edit it; inside callqa it is the
//! settings of many stages. This module sits above all of them: it parses the
//! file, gives each section to the stage that owns it (`[audio]` to audio,
//! `[verify]` and the categories to the lexicon, `[rules]` … `[risk]` to the
//! rules, `[privacy]`, `[review]`), and each settings type validates its own
//! numbers beside its definition (`settings::Validate`). Every problem comes
//! back with its file and line (the key's place in the TOML document), all of
//! them at once, and a broken pack never scores calls.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audio::AudioSettings;
use crate::i18n::{Lang, Messages};
use crate::input::CenterZone;
use crate::lexicon::{parse_line, Category, CategorySpeaker, Lexicon, MatchSettings, Phrase, Role, VerifySettings};
use crate::privacy::PrivacySettings;
use crate::review::ReviewSettings;
use crate::rules::settings::{RiskSettings, Rubric, RuleSettings, SpeakerSettings, TimingSettings};
use crate::rules::{RuleBook, RULE_IDS};
use crate::settings::{Checks, SettingProblem, Validate};
use crate::text::NormalizeOptions;

mod lines;

use lines::KeyLines;

/// The center itself: its clock (see [`CenterZone`]).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CenterToml {
    time_zone: Option<String>,
    group_readable: bool,
    language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryToml {
    file: String,
    /// What people read (首句问候, 禁用语…); the name when none.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    speaker: CategorySpeaker,
    #[serde(default)]
    min_speaker_confidence: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackToml {
    #[serde(default)]
    name: String,
    #[serde(default)]
    center: CenterToml,
    #[serde(default)]
    audio: AudioSettings,
    #[serde(default)]
    normalize: NormalizeOptions,
    #[serde(default)]
    matching: MatchSettings,
    #[serde(default)]
    verify: VerifySettings,
    categories: BTreeMap<String, CategoryToml>,
    #[serde(default)]
    rules: RuleSettings,
    #[serde(default)]
    timing: TimingSettings,
    #[serde(default)]
    speakers: SpeakerSettings,
    #[serde(default)]
    rubric: Rubric,
    #[serde(default)]
    risk: RiskSettings,
    #[serde(default)]
    privacy: PrivacySettings,
    #[serde(default)]
    review: ReviewSettings,
    #[serde(default)]
    rule_titles: BTreeMap<String, String>,
}

/// A validated pack: each stage's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// The pack's `name` (the top of pack.toml).
    pub name: String,
    /// Where it came from, for messages.
    pub source: PathBuf,
    /// The center's time zone: calls' days are taken on its clock.
    pub time_zone: CenterZone,
    /// What callqa writes may be read by the owner's group (`files::share_with_group`).
    pub group_readable: bool,
    /// What a recording may be.
    pub audio: AudioSettings,
    /// The categories and phrases, and how they are matched.
    pub lexicon: Lexicon,
    /// Where required phrases belong and what a hold is.
    pub rules: RuleSettings,
    /// What a call's timing must meet.
    pub timing: TimingSettings,
    /// Telling agent from customer on mono calls.
    pub speakers: SpeakerSettings,
    /// What each failed rule costs.
    pub rubric: Rubric,
    /// When a call is at risk of a complaint.
    pub risk: RiskSettings,
    /// What of customers' personal data is redacted where people read.
    pub privacy: PrivacySettings,
    /// The floors a rule's agreement with QA reviewers must hold.
    pub review: ReviewSettings,
    /// The rules' and categories' names for people.
    pub titles: Titles,
    /// Each category's phrase file, as pack.toml names it (relative to
    /// `source`): where a tool adds phrases (`callqa lexicon prompts`).
    pub phrase_files: std::collections::BTreeMap<String, String>,
    /// The language people read: `[center] language`, unless the command
    /// line asks for another (`--lang`).
    pub language: Lang,
}

impl Pack {
    /// What the rules judge by: their settings and the categories.
    pub fn rule_book(&self) -> RuleBook<'_> {
        RuleBook {
            lexicon: &self.lexicon,
            rules: &self.rules,
            timing: &self.timing,
            speakers: &self.speakers,
            rubric: &self.rubric,
            risk: &self.risk,
        }
    }

    /// The category of that id, if the pack has it.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.lexicon.category(name)
    }
}

/// What people read for a rule or a category: the pack's own words (开场白缺失,
/// 禁用语…), written in the pack's language. Tables and JSON keep the ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Titles {
    /// Rule id → the pack's name for it (`[rule_titles]`).
    pub rules: BTreeMap<String, String>,
    /// Category id → its `title`.
    pub categories: BTreeMap<String, String>,
    /// The language the titles are written in (`[center] language`).
    #[serde(default)]
    pub language: Lang,
}

impl Titles {
    /// A rule's name for a reader of `messages`' language: the pack's title
    /// when the pack speaks that language (a center that renames a rule sees
    /// its own words), else callqa's name for the rule, else the pack's title
    /// or the id.
    pub fn rule_in(&self, messages: &Messages, id: &str) -> String {
        self.name_in(messages, self.rules.get(id), "rule-", id)
    }

    /// A category's name for a reader of `messages`' language, as [`Titles::rule_in`].
    pub fn category_in(&self, messages: &Messages, name: &str) -> String {
        // a category without a title of its own has its name as title
        let own = self.categories.get(name).filter(|t| *t != name);
        self.name_in(messages, own, "category-", name)
    }

    fn name_in(&self, messages: &Messages, own: Option<&String>, kind: &str, id: &str) -> String {
        match own {
            Some(title) if self.language == messages.lang() => title.clone(),
            _ => messages
                .lookup(&format!("{kind}{id}"))
                .or_else(|| own.cloned())
                .unwrap_or_else(|| id.to_string()),
        }
    }
}

/// One problem of a pack, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProblem {
    /// The pack file.
    pub file: PathBuf,
    /// Its line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong, for the person who edits the pack.
    pub message: String,
}

impl std::fmt::Display for PackProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A pack that failed validation: all its problems, not just the first.
#[derive(Debug, thiserror::Error)]
#[error("lexicon pack {dir} has {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct PackError {
    /// The pack folder.
    pub dir: PathBuf,
    /// Every problem found, in file order.
    pub problems: Vec<PackProblem>,
}

/// The default pack, compiled into the binary (the files of `lexicons/`).
pub fn builtin_pack() -> Pack {
    const FILES: &[(&str, &str)] = &[
        ("pack.toml", include_str!("../../lexicons/pack.toml")),
        ("greeting.txt", include_str!("../../lexicons/greeting.txt")),
        ("closing.txt", include_str!("../../lexicons/closing.txt")),
        ("nine_do.txt", include_str!("../../lexicons/nine_do.txt")),
        ("nine_dont.txt", include_str!("../../lexicons/nine_dont.txt")),
        ("forbidden.txt", include_str!("../../lexicons/forbidden.txt")),
        ("hold_request.txt", include_str!("../../lexicons/hold_request.txt")),
        ("hold_return.txt", include_str!("../../lexicons/hold_return.txt")),
        ("hold_checkin.txt", include_str!("../../lexicons/hold_checkin.txt")),
        ("risk.txt", include_str!("../../lexicons/risk.txt")),
        ("system.txt", include_str!("../../lexicons/system.txt")),
    ];
    let files: HashMap<&str, &str> = FILES.iter().copied().collect();
    load_from(Path::new("<built-in lexicons>"), |name| {
        files
            .get(name)
            .map(|s| s.to_string())
            .ok_or_else(|| "not in the built-in pack".to_string())
    })
    .expect("the built-in pack is validated by the test suite")
}

/// Loads and validates the pack in `dir`.
pub fn load_pack(dir: &Path) -> Result<Pack, PackError> {
    load_from(dir, |name| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
    })
}

/// Where the problems of one pack are gathered, each with its place.
struct Problems<'a> {
    toml_path: PathBuf,
    lines: &'a KeyLines,
    found: Vec<PackProblem>,
}

impl Problems<'_> {
    /// A problem of pack.toml at `section.key` (or at the section alone).
    fn at(&mut self, section: &str, key: Option<&str>, message: String) {
        self.found.push(PackProblem {
            file: self.toml_path.clone(),
            line: self.lines.line(section, key),
            message,
        });
    }

    fn settings(&mut self, problems: Vec<SettingProblem>) {
        for p in problems {
            self.at(&p.section, Some(&p.key), p.message);
        }
    }
}

fn load_from(dir: &Path, read: impl Fn(&str) -> Result<String, String>) -> Result<Pack, PackError> {
    let fail = |problems: Vec<PackProblem>| PackError {
        dir: dir.to_path_buf(),
        problems,
    };
    let toml_path = dir.join("pack.toml");
    let toml_text = read("pack.toml").map_err(|e| {
        fail(vec![PackProblem {
            file: toml_path.clone(),
            line: None,
            message: format!("cannot read: {e}"),
        }])
    })?;
    let at_line = |message: String, line: Option<usize>| {
        fail(vec![PackProblem {
            file: toml_path.clone(),
            line,
            message,
        }])
    };
    let lines = KeyLines::of(&toml_text).map_err(|(message, line)| at_line(message, line))?;
    let config: PackToml = toml::from_str(&toml_text).map_err(|e| {
        // serde reports an unknown key at its table; point at the key itself
        let unknown = e
            .message()
            .split('`')
            .nth(1)
            .filter(|_| e.message().starts_with("unknown field"));
        let line = unknown
            .and_then(|key| lines.first_line_of_key(key))
            .or_else(|| e.span().map(|s| lines.line_at(s.start)));
        at_line(e.message().to_string(), line)
    })?;
    let mut problems = Problems {
        toml_path,
        lines: &lines,
        found: Vec::new(),
    };
    problems.settings(validate_sections(&config));
    let time_zone = zone_of(&config.center, &mut problems);
    let language = language_of(&config.center, &mut problems);
    let (categories, phrases) = read_categories(dir, &config, &read, &mut problems);
    check_rule_titles(&config.rule_titles, &mut problems);
    if !problems.found.is_empty() {
        return Err(fail(problems.found));
    }
    let category_titles = categories.iter().map(|c| (c.name.clone(), c.title.clone())).collect();
    let phrase_files = config
        .categories
        .iter()
        .map(|(name, c)| (name.clone(), c.file.clone()))
        .collect();
    Ok(Pack {
        name: config.name,
        source: dir.to_path_buf(),
        time_zone,
        group_readable: config.center.group_readable,
        audio: config.audio,
        lexicon: Lexicon {
            categories,
            phrases,
            normalize: config.normalize,
            matching: config.matching,
            verify: config.verify,
        },
        rules: config.rules,
        timing: config.timing,
        speakers: config.speakers,
        rubric: config.rubric,
        risk: config.risk,
        privacy: config.privacy,
        review: config.review,
        titles: Titles {
            rules: config.rule_titles,
            categories: category_titles,
            language,
        },
        phrase_files,
        language,
    })
}

/// Each section's settings, checked by the stage that owns them.
fn validate_sections(config: &PackToml) -> Vec<SettingProblem> {
    let mut checks = Checks::default();
    let sections: [(&str, &dyn Validate); 10] = [
        ("audio", &config.audio),
        ("matching", &config.matching),
        ("verify", &config.verify),
        ("rules", &config.rules),
        ("timing", &config.timing),
        ("speakers", &config.speakers),
        ("rubric", &config.rubric),
        ("risk", &config.risk),
        ("review", &config.review),
        ("privacy", &config.privacy),
    ];
    for (section, settings) in sections {
        settings.validate(checks.in_section(section));
    }
    for (name, category) in &config.categories {
        if let Some(min) = category.min_speaker_confidence {
            checks
                .in_section(&format!("categories.{name}"))
                .share("min_speaker_confidence", min);
        }
    }
    checks.into_problems()
}

fn zone_of(center: &CenterToml, problems: &mut Problems) -> CenterZone {
    match center.time_zone.as_deref().map(str::parse::<CenterZone>) {
        None => CenterZone::default(),
        Some(Ok(zone)) => zone,
        Some(Err(message)) => {
            problems.at("center", Some("time_zone"), message);
            CenterZone::default()
        }
    }
}

fn language_of(center: &CenterToml, problems: &mut Problems) -> Lang {
    match center.language.as_deref().map(|l| (l, Lang::parse(l))) {
        None => Lang::default(),
        Some((_, Some(language))) => language,
        Some((given, None)) => {
            problems.at(
                "center",
                Some("language"),
                format!("center.language: {given:?} is not a language callqa writes (zh or en)"),
            );
            Lang::default()
        }
    }
}

/// The categories and their phrase files; every line a phrase or a problem at its line.
fn read_categories(
    dir: &Path,
    config: &PackToml,
    read: &impl Fn(&str) -> Result<String, String>,
    problems: &mut Problems,
) -> (Vec<Category>, Vec<Phrase>) {
    let mut categories = Vec::new();
    let mut phrases: Vec<Phrase> = Vec::new();
    let mut ids: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for (name, cat) in &config.categories {
        let role_name = cat.role.as_deref().unwrap_or(name);
        let Some(role) = Role::parse(role_name) else {
            problems.at(
                &format!("categories.{name}"),
                None,
                format!(
                    "unknown category {role_name:?} (known: {}; for an extra list set role = \"watch\")",
                    Role::ALL.map(Role::as_str).join(", ")
                ),
            );
            continue;
        };
        categories.push(Category {
            name: name.clone(),
            title: cat
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| name.clone()),
            role,
            speaker: cat.speaker,
            min_speaker_confidence: cat.min_speaker_confidence,
        });
        let file = dir.join(&cat.file);
        let text = match read(&cat.file) {
            Ok(t) => t,
            Err(e) => {
                problems.found.push(PackProblem {
                    file,
                    line: None,
                    message: format!("cannot read the phrase file of category {name}: {e}"),
                });
                continue;
            }
        };
        for (i, line) in text.lines().enumerate() {
            let problem = |message| PackProblem {
                file: file.clone(),
                line: Some(i + 1),
                message,
            };
            match parse_line(line, i + 1, name, &config.normalize) {
                Ok(None) => {}
                Ok(Some(phrase)) => match ids.get(&phrase.id) {
                    Some((first_file, first_line)) => problems.found.push(problem(format!(
                        "duplicate id {} (first at {}:{first_line})",
                        phrase.id,
                        first_file.display()
                    ))),
                    None => {
                        ids.insert(phrase.id.clone(), (file.clone(), i + 1));
                        phrases.push(phrase);
                    }
                },
                Err(message) => problems.found.push(problem(message)),
            }
        }
    }
    (categories, phrases)
}

fn check_rule_titles(titles: &BTreeMap<String, String>, problems: &mut Problems) {
    for (rule, title) in titles {
        if !RULE_IDS.contains(&rule.as_str()) {
            let message = format!("rule_titles: {rule:?} is not a rule ({})", RULE_IDS.join(", "));
            problems.at("rule_titles", Some(rule), message);
        } else if title.trim().is_empty() {
            problems.at("rule_titles", Some(rule), format!("rule_titles.{rule} is empty"));
        }
    }
}

#[cfg(test)]
mod tests;
