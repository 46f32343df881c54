//! `pack.toml` + phrase files → a validated [`Pack`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::phrase::{parse_line, Phrase};
use super::{PackError, PackProblem, Role};
use crate::audio::AudioSettings;
use crate::i18n::{Lang, Messages};
use crate::input::CenterZone;
use crate::privacy::PrivacySettings;
use crate::review::ReviewSettings;
use crate::rules::settings::{RiskSettings, Rubric, RuleSettings, SpeakerSettings, TimingSettings};
use crate::rules::RULE_IDS;
use crate::text::NormalizeOptions;

/// Whose words a category listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CategorySpeaker {
    /// The agent's words (the default).
    #[default]
    Agent,
    /// The customer's words (risk phrases).
    Customer,
    /// Anyone's words.
    Any,
}

/// Sound-alike matching for whisper's slips (`[matching]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchSettings {
    /// Match phrases that sound like the pack's (请您稍等 heard as 请您收等).
    pub tolerant: bool,
    /// …only phrases at least this many characters long, so short words do not fire by chance.
    pub tolerant_min_chars: usize,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            tolerant: true,
            tolerant_min_chars: 4,
        }
    }
}

/// When a phrase checked against the audio (`asr::verify`) counts as said,
/// and when the evidence is too grey to say either way. See `[verify]` in
/// `lexicons/pack.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifySettings {
    /// Accepted when the phrase is at most this much less likely than what
    /// whisper heard, per character (log-likelihood)…
    pub accept_gap_per_char: f32,
    /// …no token of it is less likely than this…
    pub accept_weakest: f32,
    /// …and it beats every rival phrase at that place by at least this much.
    pub accept_margin: f32,
    /// Also accepted (with the same margin) when it is at most this much less
    /// likely per character than what was heard…
    pub likely_gap_per_char: f32,
    /// …its own tokens are likely outright: their mean log-probability at
    /// least this (a phrase read into a customer's or the babble's words
    /// scores −4 and below here, one the agent said through a bad line −2 and
    /// above, even where the line garbled it past the gap above)…
    pub likely_mean: f32,
    /// …and no token of it is less likely than this.
    pub likely_weakest: f32,
    /// Not accepted but at least this likely per character (and not beaten by
    /// a rival): neither said nor clearly not said.
    pub uncertain_gap_per_char: f32,
    /// How far off (by sound, per phrase character) a stretch of text may be
    /// for the phrase to be checked at all, at transcription (`callqa run`).
    /// Higher finds more and costs more decoder time.
    pub near_budget_per_char: f32,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            accept_gap_per_char: -0.8,
            accept_weakest: -6.0,
            accept_margin: 1.0,
            likely_gap_per_char: -1.5,
            likely_mean: -2.5,
            likely_weakest: -7.5,
            uncertain_gap_per_char: -2.5,
            near_budget_per_char: 0.55,
        }
    }
}

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

/// A phrase list and how the rules read it (`[categories.NAME]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Its id, as in hits.parquet.
    pub name: String,
    /// What people read: the pack's `title`, or the name.
    pub title: String,
    /// What it is for.
    pub role: Role,
    /// Whose words count.
    pub speaker: CategorySpeaker,
    /// On a mono call attributed by voice less surely than this, the
    /// category takes the call's speech as unknown (`rules.unknown_speaker`).
    pub min_speaker_confidence: Option<f64>,
}

/// A validated pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// The pack's `name` (the top of pack.toml).
    pub name: String,
    /// Where it came from, for messages.
    pub source: PathBuf,
    /// The center's time zone: calls' days are taken on its clock.
    pub time_zone: CenterZone,
    /// What callqa writes may be read by the owner's group (`store::share_with_group`).
    pub group_readable: bool,
    /// What a recording may be.
    pub audio: AudioSettings,
    /// How text is made comparable before matching.
    pub normalize: NormalizeOptions,
    /// Sound-alike matching.
    pub matching: MatchSettings,
    /// Checking near phrases against the audio.
    pub verify: VerifySettings,
    /// The categories, in the pack's order.
    pub categories: Vec<Category>,
    /// Every phrase of every category.
    pub phrases: Vec<Phrase>,
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
    /// The language people read: `[center] language`, unless the command
    /// line asks for another (`--lang`).
    pub language: Lang,
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

impl Pack {
    /// The category of that id, if the pack has it.
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.name == name)
    }
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

fn load_from(dir: &Path, read: impl Fn(&str) -> Result<String, String>) -> Result<Pack, PackError> {
    let mut problems = Vec::new();
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
    let config: PackToml = toml::from_str(&toml_text).map_err(|e| {
        // serde reports an unknown key at its table; point at the key itself
        let unknown_key = e
            .message()
            .split('`')
            .nth(1)
            .filter(|_| e.message().starts_with("unknown field"));
        let line = unknown_key
            .and_then(|key| {
                toml_text
                    .lines()
                    .position(|l| l.trim_start().starts_with(key))
                    .map(|i| i + 1)
            })
            .or_else(|| e.span().map(|s| toml_text[..s.start].lines().count().max(1)));
        fail(vec![PackProblem {
            file: toml_path.clone(),
            line,
            message: e.message().to_string(),
        }])
    })?;
    check_numbers(&config, &toml_path, &toml_text, &mut problems);
    let time_zone = match config.center.time_zone.as_deref().map(str::parse::<CenterZone>) {
        None => CenterZone::default(),
        Some(Ok(zone)) => zone,
        Some(Err(message)) => {
            problems.push(PackProblem {
                file: toml_path.clone(),
                line: line_of_key(&toml_text, "center", "time_zone"),
                message,
            });
            CenterZone::default()
        }
    };

    let mut categories = Vec::new();
    let mut phrases: Vec<Phrase> = Vec::new();
    let mut ids: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for (name, cat) in &config.categories {
        let role_name = cat.role.as_deref().unwrap_or(name);
        let Some(role) = Role::parse(role_name) else {
            problems.push(PackProblem {
                file: toml_path.clone(),
                line: line_of(&toml_text, &format!("[categories.{name}]")),
                message: format!(
                    "unknown category {role_name:?} (known: {}; for an extra list set role = \"watch\")",
                    Role::ALL.map(Role::as_str).join(", ")
                ),
            });
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
                problems.push(PackProblem {
                    file: file.clone(),
                    line: None,
                    message: format!("cannot read the phrase file of category {name}: {e}"),
                });
                continue;
            }
        };
        for (i, line) in text.lines().enumerate() {
            match parse_line(line, i + 1, name, &config.normalize) {
                Ok(None) => {}
                Ok(Some(phrase)) => {
                    if let Some((first_file, first_line)) = ids.get(&phrase.id) {
                        problems.push(PackProblem {
                            file: file.clone(),
                            line: Some(i + 1),
                            message: format!(
                                "duplicate id {} (first at {}:{first_line})",
                                phrase.id,
                                first_file.display()
                            ),
                        });
                        continue;
                    }
                    ids.insert(phrase.id.clone(), (file.clone(), i + 1));
                    phrases.push(phrase);
                }
                Err(message) => problems.push(PackProblem {
                    file: file.clone(),
                    line: Some(i + 1),
                    message,
                }),
            }
        }
    }
    for (rule, title) in &config.rule_titles {
        if !RULE_IDS.contains(&rule.as_str()) {
            problems.push(PackProblem {
                file: toml_path.clone(),
                line: line_of_key(&toml_text, "rule_titles", rule),
                message: format!("rule_titles: {rule:?} is not a rule ({})", RULE_IDS.join(", ")),
            });
        } else if title.trim().is_empty() {
            problems.push(PackProblem {
                file: toml_path.clone(),
                line: line_of_key(&toml_text, "rule_titles", rule),
                message: format!("rule_titles.{rule} is empty"),
            });
        }
    }
    let language = match config.center.language.as_deref().map(|l| (l, Lang::parse(l))) {
        None => Lang::default(),
        Some((_, Some(language))) => language,
        Some((given, None)) => {
            problems.push(PackProblem {
                file: toml_path.clone(),
                line: line_of_key(&toml_text, "center", "language"),
                message: format!("center.language: {given:?} is not a language callqa writes (zh or en)"),
            });
            Lang::default()
        }
    };
    let category_titles = categories.iter().map(|c| (c.name.clone(), c.title.clone())).collect();
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(Pack {
        name: config.name,
        source: dir.to_path_buf(),
        time_zone,
        group_readable: config.center.group_readable,
        audio: config.audio,
        normalize: config.normalize,
        matching: config.matching,
        verify: config.verify,
        categories,
        phrases,
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
        language,
    })
}

/// Every number of pack.toml: finite and in range, else a problem at its line.
/// (A NaN deduction gives NaN scores; a negative cap adds points.)
fn check_numbers(config: &PackToml, toml_path: &Path, toml_text: &str, problems: &mut Vec<PackProblem>) {
    let r = &config.rules;
    let t = &config.timing;
    let b = &config.rubric;
    let non_negative = [
        ("timing", "first_response_within_s", t.first_response_within_s),
        ("timing", "dead_air_min_s", t.dead_air_min_s),
        ("timing", "talk_over_min_s", t.talk_over_min_s),
        ("timing", "speech_rate_min_cpm", t.speech_rate_min_cpm),
        ("timing", "speech_rate_max_cpm", t.speech_rate_max_cpm),
        ("timing", "speech_rate_min_speech_s", t.speech_rate_min_speech_s),
        ("timing", "hold_checkin_max_gap_s", t.hold_checkin_max_gap_s),
        ("rubric", "first_response_late", b.first_response_late),
        ("rubric", "dead_air_per", b.dead_air_per),
        ("rubric", "dead_air_cap", b.dead_air_cap),
        ("rubric", "talk_over_per", b.talk_over_per),
        ("rubric", "talk_over_cap", b.talk_over_cap),
        ("rubric", "speech_rate", b.speech_rate),
        ("rubric", "hold_checkin_per", b.hold_checkin_per),
        ("rubric", "hold_checkin_cap", b.hold_checkin_cap),
        ("rules", "greeting_within_s", r.greeting_within_s),
        ("rules", "closing_within_s", r.closing_within_s),
        ("rules", "hold_min_silence_s", r.hold_min_silence_s),
        ("rules", "hold_request_window_s", r.hold_request_window_s),
        ("rules", "hold_return_window_s", r.hold_return_window_s),
        ("rules", "utterance_gap_s", r.utterance_gap_s),
        ("rubric", "greeting_missing", b.greeting_missing),
        ("rubric", "greeting_late", b.greeting_late),
        ("rubric", "closing_missing", b.closing_missing),
        ("rubric", "hold_per_bad_hold", b.hold_per_bad_hold),
        ("rubric", "hold_cap", b.hold_cap),
        ("rubric", "forbidden_per_hit", b.forbidden_per_hit),
        ("rubric", "forbidden_cap", b.forbidden_cap),
        ("rubric", "nine_dont_per_hit", b.nine_dont_per_hit),
        ("rubric", "nine_dont_cap", b.nine_dont_cap),
        ("rubric", "nine_do_bonus_per_hit", b.nine_do_bonus_per_hit),
        ("rubric", "nine_do_bonus_cap", b.nine_do_bonus_cap),
        ("rubric", "customer_risk", b.customer_risk),
        ("risk", "voice_baseline_s", config.risk.voice_baseline_s),
        ("risk", "voice_louder_db", config.risk.voice_louder_db),
        ("risk", "voice_higher_octaves", config.risk.voice_higher_octaves),
        ("risk", "voice_min_raised_s", config.risk.voice_min_raised_s),
    ];
    let mut problem = |section: &str, key: &str, message: String| {
        problems.push(PackProblem {
            file: toml_path.to_path_buf(),
            line: line_of_key(toml_text, section, key),
            message,
        });
    };
    let max_minutes = config.audio.max_call_minutes;
    if !(max_minutes.is_finite() && max_minutes > 0.0) {
        problem(
            "audio",
            "max_call_minutes",
            format!("audio.max_call_minutes must be a number of minutes above 0, not {max_minutes}"),
        );
    }
    for (section, key, value) in non_negative {
        if !(value.is_finite() && value >= 0.0) {
            problem(
                section,
                key,
                format!("{section}.{key} must be a number ≥ 0, not {value}"),
            );
        }
    }
    // points are out of 100: no deduction or bonus beyond that means anything
    for (section, key, value) in non_negative.iter().filter(|(s, _, _)| *s == "rubric") {
        if value.is_finite() && *value > 100.0 {
            problem(
                section,
                key,
                format!("{section}.{key} must be at most 100, not {value}"),
            );
        }
    }
    for (key, value) in [
        ("min_precision", config.review.min_precision),
        ("min_recall", config.review.min_recall),
    ] {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            problem(
                "review",
                key,
                format!("review.{key} must be a share from 0 to 1, not {value}"),
            );
        }
    }
    if !(b.pass_mark.is_finite() && (0.0..=100.0).contains(&b.pass_mark)) {
        problem(
            "rubric",
            "pass_mark",
            format!("rubric.pass_mark must be between 0 and 100, not {}", b.pass_mark),
        );
    }
    for rule in b.red_lines.iter().filter(|r| !RULE_IDS.contains(&r.as_str())) {
        problem(
            "rubric",
            "red_lines",
            format!(
                "rubric.red_lines: {rule:?} is not a rule; the rules are {}",
                RULE_IDS.join(", ")
            ),
        );
    }
    let sp = &config.speakers;
    let categories = config.categories.iter().filter_map(|(name, c)| {
        Some((
            format!("categories.{name}"),
            "min_speaker_confidence",
            c.min_speaker_confidence?,
        ))
    });
    let probabilities = [
        (
            "speakers".to_string(),
            "min_segment_confidence",
            sp.min_segment_confidence,
        ),
        ("speakers".to_string(), "min_call_confidence", sp.min_call_confidence),
    ];
    for (section, key, value) in probabilities.into_iter().chain(categories) {
        if !(0.0..=1.0).contains(&value) {
            problem(
                &section,
                key,
                format!("{section}.{key} must be between 0 and 1, not {value}"),
            );
        }
    }
    if t.speech_rate_min_cpm > t.speech_rate_max_cpm {
        problem(
            "timing",
            "speech_rate_min_cpm",
            format!(
                "timing.speech_rate_min_cpm ({}) is above speech_rate_max_cpm ({})",
                t.speech_rate_min_cpm, t.speech_rate_max_cpm
            ),
        );
    }
    let v = &config.verify;
    for (key, value) in [
        ("accept_gap_per_char", v.accept_gap_per_char),
        ("accept_weakest", v.accept_weakest),
        ("likely_gap_per_char", v.likely_gap_per_char),
        ("likely_mean", v.likely_mean),
        ("likely_weakest", v.likely_weakest),
        ("uncertain_gap_per_char", v.uncertain_gap_per_char),
    ] {
        if !(value.is_finite() && value <= 0.0) {
            problem(
                "verify",
                key,
                format!("verify.{key} is a log-likelihood: 0 or below, not {value}"),
            );
        }
    }
    if !(0.0..=1.0).contains(&v.near_budget_per_char) {
        problem(
            "verify",
            "near_budget_per_char",
            format!(
                "verify.near_budget_per_char must be between 0 and 1, not {}",
                v.near_budget_per_char
            ),
        );
    }
    if !v.accept_margin.is_finite() {
        problem(
            "verify",
            "accept_margin",
            format!("verify.accept_margin must be a number, not {}", v.accept_margin),
        );
    }
    if v.uncertain_gap_per_char < crate::asr::HOPELESS_GAP_PER_CHAR {
        problem(
            "verify",
            "uncertain_gap_per_char",
            format!(
                "verify.uncertain_gap_per_char ({}) is below {}: the audio check stops following a phrase there",
                v.uncertain_gap_per_char,
                crate::asr::HOPELESS_GAP_PER_CHAR
            ),
        );
    }
    if v.accept_margin > crate::asr::RIVAL_REACH {
        problem(
            "verify",
            "accept_margin",
            format!(
                "verify.accept_margin ({}) is above {}: the audio check stops following a rival that far behind",
                v.accept_margin,
                crate::asr::RIVAL_REACH
            ),
        );
    }
    if v.likely_gap_per_char < crate::asr::RIVALS_FROM_GAP_PER_CHAR {
        problem(
            "verify",
            "likely_gap_per_char",
            format!(
                "verify.likely_gap_per_char ({}) is below {}: the audio check scores no rivals for a phrase there",
                v.likely_gap_per_char,
                crate::asr::RIVALS_FROM_GAP_PER_CHAR
            ),
        );
    }
    if v.uncertain_gap_per_char > v.accept_gap_per_char {
        problem(
            "verify",
            "uncertain_gap_per_char",
            format!(
                "verify.uncertain_gap_per_char ({}) is above accept_gap_per_char ({}): nothing would be uncertain",
                v.uncertain_gap_per_char, v.accept_gap_per_char
            ),
        );
    }
    if config.matching.tolerant_min_chars < 3 {
        problem(
            "matching",
            "tolerant_min_chars",
            "matching.tolerant_min_chars below 3 makes short words fire by chance".into(),
        );
    }
}

/// The line of `key = …` inside `[section]` of a TOML text.
fn line_of_key(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
        } else if current == section
            && line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(i + 1);
        }
    }
    None
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.trim() == needle).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_pack_is_valid_and_complete() {
        let pack = load_pack(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons"))).unwrap();
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Watch) {
            assert!(pack.categories.iter().any(|c| c.role == role), "{role:?}");
        }
        let count = |cat: &str| pack.phrases.iter().filter(|p| p.category == cat).count();
        assert_eq!(count("nine_do"), 9);
        assert_eq!(count("nine_dont"), 9);
        assert_eq!(
            builtin_pack(),
            Pack {
                source: PathBuf::from("<built-in lexicons>"),
                ..pack
            }
        );
    }

    #[test]
    fn every_problem_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pack.toml"),
            "[categories.greeting]\nfile = \"g.txt\"\n\n[categories.greetings]\nfile = \"g.txt\"\n\n\
             [center]\ntime_zone = \"Beijing\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("g.txt"),
            "# ok\ng.a  您好\ng.b  {nope}好\ng.a  再见\ng.c\n",
        )
        .unwrap();
        let err = load_pack(dir.path()).unwrap_err();
        let text: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        for (place, says) in [
            ("pack.toml:4", "unknown category \"greetings\""),
            ("pack.toml:8", "time zone \"Beijing\" is not an IANA zone name"),
            ("g.txt:3", "unknown slot"),
            ("g.txt:4", "duplicate id g.a (first at"),
            ("g.txt:5", "no phrase"),
        ] {
            assert!(
                text.iter().any(|t| t.contains(place) && t.contains(says)),
                "{place} {says}: {text:#?}"
            );
        }
    }

    /// A pack of one greeting phrase and `toml`, loaded: its problems.
    fn problems_of(toml: &str) -> PackError {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("g.txt"), "g.a  您好\n").unwrap();
        std::fs::write(dir.path().join("pack.toml"), toml).unwrap();
        load_pack(dir.path()).unwrap_err()
    }

    #[test]
    fn rules_and_categories_have_the_packs_titles() {
        let pack = builtin_pack();
        // read in the pack's own language, Chinese
        let zh = crate::i18n::Messages::of(crate::i18n::Lang::Zh);
        assert_eq!(pack.titles.rule_in(zh, "nine_dont_phrase"), "九不准");
        assert_eq!(pack.titles.category_in(zh, "forbidden"), "禁用语");
        assert_eq!(
            pack.titles.rule_in(zh, "made_up"),
            "made_up",
            "an id without a title is itself"
        );
        for rule in RULE_IDS {
            assert!(
                pack.titles.rules.contains_key(*rule),
                "{rule} has a title in the default pack"
            );
        }
        let err = problems_of(
            "[categories.greeting]\nfile = \"g.txt\"\n\n[rule_titles]\ngreeting_missing = \"未问候\"\nbe_nice = \"礼貌\"\n",
        );
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].line, Some(6), "{err}");
        assert!(err.to_string().contains("\"be_nice\" is not a rule"), "{err}");
    }

    #[test]
    fn a_rule_reads_in_the_readers_language() {
        use crate::i18n::{Lang, Messages};
        let (zh, en) = (Messages::of(Lang::Zh), Messages::of(Lang::En));
        let mut titles = builtin_pack().titles;
        titles.rules.insert("forbidden_phrase".into(), "服务禁语".into());
        titles.categories.insert("vip".into(), "贵宾".into());
        // the pack's own words in its language, callqa's names in the other
        assert_eq!(titles.rule_in(zh, "forbidden_phrase"), "服务禁语");
        assert_eq!(titles.rule_in(en, "forbidden_phrase"), "forbidden phrase");
        assert_eq!(titles.category_in(en, "nine_dont"), "nine don'ts");
        // a category of the center's own keeps its title: callqa has no name for it
        assert_eq!(titles.category_in(en, "vip"), "贵宾");
        assert_eq!(titles.category_in(en, "made_up"), "made_up");
        // a pack written in English is read in its own words
        titles.language = Lang::En;
        titles.rules.insert("forbidden_phrase".into(), "Banned words".into());
        assert_eq!(titles.rule_in(en, "forbidden_phrase"), "Banned words");
        assert_eq!(titles.rule_in(zh, "forbidden_phrase"), "禁用语");
        let err = problems_of("[center]\nlanguage = \"fr\"\n\n[categories.greeting]\nfile = \"g.txt\"\n");
        assert_eq!(err.problems[0].line, Some(2), "{err}");
        assert!(err.to_string().contains("center.language"), "{err}");
    }

    #[test]
    fn toml_mistakes_point_at_their_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pack.toml"),
            "[categories.greeting]\nfile = \"g.txt\"\n[rules]\ngreeting_within = 3\n",
        )
        .unwrap();
        let err = load_pack(dir.path()).unwrap_err();
        assert_eq!(err.problems[0].line, Some(4), "{err}");
        assert!(err.to_string().contains("greeting_within"), "{err}");
    }

    /// Every number of pack.toml, wrong in the ways a hand edit goes wrong:
    /// each is refused at its own line.
    #[test]
    fn every_number_is_checked_at_its_line() {
        let cases = [
            ("rules", "greeting_within_s", "-1.0"),
            ("rules", "closing_within_s", "nan"),
            ("rules", "hold_min_silence_s", "inf"),
            ("rules", "hold_request_window_s", "-0.5"),
            ("rules", "hold_return_window_s", "nan"),
            ("rules", "utterance_gap_s", "-inf"),
            ("rubric", "pass_mark", "101.0"),
            ("rubric", "greeting_missing", "-15.0"),
            ("rubric", "greeting_late", "nan"),
            ("rubric", "closing_missing", "inf"),
            ("rubric", "hold_per_bad_hold", "-10.0"),
            ("rubric", "hold_cap", "-20.0"),
            ("rubric", "forbidden_per_hit", "nan"),
            ("rubric", "forbidden_cap", "-40.0"),
            ("rubric", "nine_dont_per_hit", "1000.0"),
            ("rubric", "nine_dont_cap", "-1.0"),
            ("rubric", "nine_do_bonus_per_hit", "nan"),
            ("rubric", "nine_do_bonus_cap", "-6.0"),
            ("matching", "tolerant_min_chars", "1"),
            ("rubric", "red_lines", "[\"forbidden_phrase\", \"rude_tone\"]"),
            ("verify", "accept_gap_per_char", "0.3"),
            ("verify", "accept_margin", "3.0"),
            ("verify", "likely_mean", "0.5"),
            ("verify", "likely_weakest", "nan"),
            ("verify", "likely_gap_per_char", "-2.0"),
            ("verify", "uncertain_gap_per_char", "-4.0"),
            ("verify", "near_budget_per_char", "1.5"),
        ];
        for (section, key, value) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("g.txt"), "g.a  您好\n").unwrap();
            // the key on line 5, after the category and a comment
            let toml =
                format!("[categories.greeting]\nfile = \"g.txt\"\n[{section}]\n# changed by hand\n{key} = {value}\n");
            std::fs::write(dir.path().join("pack.toml"), toml).unwrap();
            let err = load_pack(dir.path()).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{key} = {value}: {err}");
            let problem = &err.problems[0];
            assert_eq!(problem.line, Some(5), "{key} = {value}: {problem}");
            assert!(problem.to_string().contains(key), "{problem}");
        }
    }
}
