//! What to process: a folder of recordings or a manifest → a list of calls.
//!
//! Manifests are CSV (header row) or JSONL, with `call_id, path, agent_id` and
//! optionally `agent_channel` (left/right/mono) and `started_at`; any other
//! column is carried through to the output tables. Relative paths are relative
//! to the manifest's folder; every audio path leaves discovery absolute, so a
//! transcript's recording is found from any folder (and mapped by [`AudioRoots`]
//! where another machine mounts the recordings elsewhere). A folder is searched recursively; if it has a
//! `manifest.csv` or `manifest.jsonl` at its top, that manifest is used.
//! Without a manifest, agent id, call id and date come from the file name by a
//! regex with named groups.
//!
//! A bad row or file never stops discovery: it becomes an [`FailedItem`]
//! (with file and line) and the rest of the batch goes on.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::transcript::{AgentChannel, Fingerprint};

mod roots;

pub use roots::{absolute, AudioRoot, AudioRoots};

/// `A001_20261120_091205_xyz.wav`: agent id first, then date and time.
pub const DEFAULT_NAME_PATTERN: &str =
    r"^(?P<agent_id>[A-Za-z0-9]+)[_-](?:(?P<date>\d{4}-?\d{2}-?\d{2})(?:[_T-]?(?P<time>\d{2}:?\d{2}:?\d{2}))?)?";

/// The audio files a folder walk picks up, by extension in any case (the formats `audio` decodes).
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "mp3", "flac", "ogg", "oga"];
const MANIFEST_NAMES: &[&str] = &["manifest.csv", "manifest.jsonl"];
const KNOWN_COLUMNS: &[&str] = &["call_id", "path", "agent_id", "agent_channel", "started_at"];

/// One call to transcribe and score.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    /// The call's id: unique in a night (the manifest's, or the file stem).
    pub call_id: String,
    /// The agent the call is scored for.
    pub agent_id: String,
    /// The recording.
    pub audio_path: PathBuf,
    /// Which channel of a stereo recording is the agent's.
    pub agent_channel: AgentChannel,
    /// When the call began, RFC 3339 with the center's offset once read (its day is the call's day).
    pub started_at: Option<String>,
    /// The manifest's other columns, carried to calls.parquet (renamed where they would collide).
    pub extra: BTreeMap<String, String>,
}

/// An item that cannot be processed, and why. What is known of the call
/// (date, extra columns) is kept, so the failure lands on the right agent and day.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct FailedItem {
    /// `manifest.csv:7` or the audio file's path.
    pub location: String,
    /// The call's id, when the entry got that far.
    pub call_id: Option<String>,
    /// The agent, when known, so the failure counts on their scorecard.
    pub agent_id: Option<String>,
    /// The recording, when known.
    pub audio_path: Option<PathBuf>,
    /// When the call began, when known (the failure's day).
    #[serde(default)]
    pub started_at: Option<String>,
    /// The manifest's other columns, when known.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// Why it failed, for a person.
    pub reason: String,
    /// An entry of the input that never became a call (a manifest row, a
    /// file or folder): it belongs to the run that read the input, and the
    /// next run's reading replaces it. Keyed by its location, so a duplicate
    /// row never stands for the call that holds its id.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub input: bool,
    /// The stage of the call's journey that failed (`probe`, `decode`,
    /// `transcribe`…), when it got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// What the failed attempt was made of (the audio's hash, the model,
    /// the settings): while they stay the same, a rerun keeps the failure
    /// rather than trying again every night (`run --retry-failed` tries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

impl FailedItem {
    /// A call that was listed fine but could not be processed.
    pub fn of_call(call: &CallSpec, location: String, reason: String) -> Self {
        Self {
            location,
            call_id: Some(call.call_id.clone()),
            agent_id: Some(call.agent_id.clone()),
            audio_path: Some(call.audio_path.clone()),
            started_at: call.started_at.clone(),
            extra: call.extra.clone(),
            reason,
            input: false,
            stage: None,
            fingerprint: None,
        }
    }

    /// The same failure, naming the stage that failed.
    pub fn at_stage(mut self, stage: &str) -> Self {
        self.stage = Some(stage.to_string());
        self
    }

    /// What the failure is about: its call id, or where it was found when the
    /// entry had none (a manifest row without an id).
    pub fn key(&self) -> &str {
        match (&self.call_id, self.input) {
            (Some(id), false) => id,
            _ => &self.location,
        }
    }
}

/// What reading the input found: the calls, and the entries that could not become calls.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The calls to process, in the input's order.
    pub calls: Vec<CallSpec>,
    /// The entries that could not become calls (each lands in failures.json).
    pub problems: Vec<FailedItem>,
    /// What was read, for the user ("manifest data-samples/manifest.csv").
    pub source: String,
}

/// How a folder without a manifest is read.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    /// Names the parts of a file name (`agent_id` required; `call_id`, `date`, `time`).
    pub name_pattern: Regex,
    /// The agent's channel for stereo files.
    pub default_agent_channel: AgentChannel,
    /// Where times without an offset are read, and calls' days are taken.
    pub zone: CenterZone,
}

/// The day of a `started_at` as input parsing writes it: its first ten
/// characters (`YYYY-MM-DD`, the center's day), when they are a date.
/// Every table, folder and report takes a call's day from here.
pub fn call_day(started_at: &str) -> Option<&str> {
    let day = started_at.get(..10)?;
    parse_day(day).map(|_| day)
}

/// `YYYY-MM-DD` read by hand: a re-score asks it of every call and every
/// hit, and chrono's format-string parser was a seventieth of the run.
fn parse_day(day: &str) -> Option<chrono::NaiveDate> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range]
            .iter()
            .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

/// The days since 1970-01-01 of a call's day (`YYYY-MM-DD`): the number
/// Parquet's DATE stores and the search index filters on, counted here once.
pub fn day_number(day: &str) -> Option<i64> {
    let date = parse_day(day)?;
    Some(date.signed_duration_since(chrono::NaiveDate::default()).num_days())
}

/// The call center's time zone. A call's day is its day on the center's
/// clock, whatever machine reads it: a pod in UTC files a Shanghai evening
/// under the Shanghai day. Times without an offset (file names, most
/// manifests) are read on that clock; times with one (`Z`, `+08:00`) are
/// converted to it. `started_at` is written with the center's offset
/// (`2026-11-20T09:12:05+08:00`), so its first ten characters are the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CenterZone(chrono_tz::Tz);

impl Default for CenterZone {
    /// Calls are Mandarin: China's one zone, unless the pack or `--time-zone` says otherwise.
    fn default() -> Self {
        Self(chrono_tz::Asia::Shanghai)
    }
}

impl std::str::FromStr for CenterZone {
    type Err = String;

    /// An IANA zone name (`Asia/Shanghai`, `Asia/Taipei`, `UTC`).
    fn from_str(name: &str) -> Result<Self, String> {
        name.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            format!("time zone {name:?} is not an IANA zone name (e.g. Asia/Shanghai, Asia/Hong_Kong, UTC)")
        })
    }
}

impl std::fmt::Display for CenterZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl CenterZone {
    /// A wall-clock time on the center's clock, as `started_at`. In the hour
    /// a clock skips (zones with summer time), the time is read before the jump.
    fn local(self, at: chrono::NaiveDateTime) -> String {
        use chrono::{LocalResult, Offset, TimeZone};
        let zoned = match self.0.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
            LocalResult::None => self
                .0
                .from_utc_datetime(&(at - self.0.offset_from_utc_datetime(&at).fix())),
        };
        Self::stamp(&zoned)
    }

    /// An instant, as `started_at` on the center's clock.
    fn instant<Z: chrono::TimeZone>(self, at: &chrono::DateTime<Z>) -> String {
        Self::stamp(&at.with_timezone(&self.0))
    }

    fn stamp(at: &chrono::DateTime<chrono_tz::Tz>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// Why the input could not be read at all (one bad entry is a [`FailedItem`] instead).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input path is not there.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    /// A file or folder of the input could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A manifest that cannot be read as one (not one bad row: the file).
    #[error("{path}: not a manifest: {reason}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file name pattern is not a regex, or lacks `agent_id`.
    #[error("file name pattern: {0}")]
    BadPattern(String),
}

impl DiscoverOptions {
    /// Options with the default zone (Asia/Shanghai); the pattern must name `agent_id`.
    pub fn new(name_pattern: &str, default_agent_channel: AgentChannel) -> Result<Self, InputError> {
        let name_pattern = Regex::new(name_pattern).map_err(|e| InputError::BadPattern(e.to_string()))?;
        if !name_pattern.capture_names().any(|n| n == Some("agent_id")) {
            return Err(InputError::BadPattern(
                "it needs a named group (?P<agent_id>...)".into(),
            ));
        }
        Ok(Self {
            name_pattern,
            default_agent_channel,
            zone: CenterZone::default(),
        })
    }

    /// The same options, days taken in `zone`.
    pub fn with_zone(self, zone: CenterZone) -> Self {
        Self { zone, ..self }
    }
}

/// Lists the calls under `input` (folder or manifest file).
pub fn discover(input: &Path, options: &DiscoverOptions) -> Result<Discovery, InputError> {
    let mut discovery = discover_entries(input, options)?;
    for problem in &mut discovery.problems {
        problem.input = true;
        if let Some(path) = &mut problem.audio_path {
            *path = absolute(path);
        }
    }
    for call in &mut discovery.calls {
        call.audio_path = absolute(&call.audio_path);
    }
    Ok(discovery)
}

fn discover_entries(input: &Path, options: &DiscoverOptions) -> Result<Discovery, InputError> {
    if input.is_file() && !is_audio(input) {
        return read_manifest(input, options);
    }
    if !input.is_dir() && !input.is_file() {
        return Err(InputError::NotFound(input.to_path_buf()));
    }
    if let Some(manifest) = MANIFEST_NAMES.iter().map(|n| input.join(n)).find(|p| p.is_file()) {
        return read_manifest(&manifest, options);
    }
    let mut discovery = Discovery {
        source: if input.is_file() {
            format!("file {}", input.display())
        } else {
            format!("folder {}", input.display())
        },
        ..Default::default()
    };
    let files = audio_files(input, &mut discovery.problems);
    let mut seen = HashSet::new();
    for path in files {
        match call_from_file_name(&path, options) {
            Ok(call) if !seen.insert(call.call_id.clone()) => discovery.problems.push(FailedItem::of_call(
                &call,
                path.display().to_string(),
                format!("duplicate call id {}", call.call_id),
            )),
            Ok(call) => discovery.calls.push(call),
            Err(reason) => discovery.problems.push(FailedItem {
                location: path.display().to_string(),
                call_id: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
                audio_path: Some(path.clone()),
                started_at: file_mtime(&path, options.zone),
                reason,
                ..FailedItem::default()
            }),
        }
    }
    Ok(discovery)
}

/// The audio files below `input` (or `input` itself), in name order. Links
/// are followed, but a link back up the tree is reported, not walked forever,
/// and so is a folder that cannot be read; the rest of the walk goes on.
fn audio_files(input: &Path, problems: &mut Vec<FailedItem>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(input).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_audio(entry.path()) => files.push(entry.into_path()),
            Ok(_) => {}
            Err(e) => problems.push(FailedItem {
                location: e.path().unwrap_or(input).display().to_string(),
                reason: match e.loop_ancestor() {
                    Some(ancestor) => format!("a link back to {}: not followed", ancestor.display()),
                    None => format!(
                        "cannot read: {}",
                        e.io_error().map_or(e.to_string(), ToString::to_string)
                    ),
                },
                ..FailedItem::default()
            }),
        }
    }
    files
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The call a file name describes, or why it describes none.
fn call_from_file_name(path: &Path, options: &DiscoverOptions) -> Result<CallSpec, String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let captures = options.name_pattern.captures(&stem);
    let group = |name: &str| {
        captures
            .as_ref()
            .and_then(|c| c.name(name))
            .map(|m| m.as_str().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(agent_id) = group("agent_id") else {
        return Err(format!(
            "missing agent id: file name {stem:?} does not match the name pattern {:?} \
             (use a manifest, or --name-pattern)",
            options.name_pattern.as_str()
        ));
    };
    let started_at = match group("date") {
        Some(date) => Some(
            timestamp_from_parts(&date, group("time").as_deref(), options.zone).map_err(|reason| {
                format!(
                    "file name {stem:?}: {reason} (name pattern {:?})",
                    options.name_pattern.as_str()
                )
            })?,
        ),
        None => file_mtime(path, options.zone),
    };
    Ok(CallSpec {
        call_id: group("call_id").unwrap_or(stem),
        agent_id,
        audio_path: path.to_path_buf(),
        agent_channel: options.default_agent_channel,
        started_at,
        extra: BTreeMap::new(),
    })
}

/// The forms of `started_at` a manifest may use; written out as the first.
const STARTED_AT_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%dT%H%M%S",
];
const STARTED_AT_DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"];

/// A manifest's `started_at` → `YYYY-MM-DDTHH:MM:SS+08:00` on the center's
/// clock. Accepted: the forms above, with or without fractions of a second
/// (dropped), and with or without an offset (`Z`, `+08:00`, `+0800`, `UTC`):
/// with one, the instant is converted to the center's clock; without, the
/// time is the center's. A date alone is midnight; full-width digits count.
/// Anything else is that row's error.
fn parse_started_at(text: &str, zone: CenterZone) -> Result<String, String> {
    static FRACTION: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"(\d:\d\d|\d{6})[.,]\d+").expect("valid"));
    static OFFSET: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"(?i)^(?P<at>.*\d)\s*(?P<zone>z|utc|gmt|(?:utc|gmt)?[+-]\d\d(?::?\d\d)?)$").expect("valid")
    });
    let ascii: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '：' => ':',
            '＋' => '+',
            _ => c,
        })
        .collect();
    let plain = FRACTION.replace(&ascii, "$1");
    let naive = |text: &str| {
        STARTED_AT_FORMATS
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
            .or_else(|| {
                STARTED_AT_DATE_FORMATS
                    .iter()
                    .find_map(|f| chrono::NaiveDate::parse_from_str(text, f).ok())
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
    };
    if let Some(at) = naive(&plain) {
        return Ok(zone.local(at));
    }
    let with_offset = OFFSET.captures(&plain).and_then(|c| {
        let at = naive(&c["at"])?;
        let offset = utc_offset(&c["zone"])?;
        Some(zone.instant(&at.and_local_timezone(offset).single()?))
    });
    with_offset.ok_or_else(|| {
        format!(
            "started_at {text:?} is not a date and time (use YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD HH:MM:SS, \
             YYYY/MM/DD, YYYYMMDD…, optionally with an offset: Z, +08:00)"
        )
    })
}

/// `Z`, `UTC`, `+08:00`, `+0800`, `-05`, `UTC+8`… → the offset.
fn utc_offset(text: &str) -> Option<chrono::FixedOffset> {
    let lower = text.to_ascii_lowercase();
    let signed = lower.trim_start_matches("utc").trim_start_matches("gmt");
    if signed.is_empty() || signed == "z" {
        return chrono::FixedOffset::east_opt(0);
    }
    let (sign, digits) = signed.split_at(1);
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    chrono::FixedOffset::east_opt(if sign == "-" { -seconds } else { seconds })
}

/// `YYYYMMDD` and `HHMMSS` from a file name → `YYYY-MM-DDTHH:MM:SS`.
/// Separators are ignored and full-width digits (２０２６) read as digits, as
/// Chinese file names often have them; anything else is an error, never a guess.
fn timestamp_from_parts(date: &str, time: Option<&str>, zone: CenterZone) -> Result<String, String> {
    let digits = |text: &str, what: &str, expected: usize| -> Result<Vec<u32>, String> {
        let mut found = Vec::new();
        for c in text.chars() {
            match c {
                '0'..='9' => found.push(c as u32 - '0' as u32),
                '０'..='９' => found.push(c as u32 - '０' as u32),
                '-' | '_' | '.' | ':' | ' ' => {}
                other => return Err(format!("{what} {text:?} has {other:?}, not a digit")),
            }
        }
        if found.len() == expected {
            Ok(found)
        } else {
            Err(format!(
                "{what} {text:?} must have {expected} digits, has {}",
                found.len()
            ))
        }
    };
    let number = |d: &[u32]| d.iter().fold(0, |n, &x| n * 10 + x);
    let d = digits(date, "date", 8)?;
    let t = match time {
        Some(time) => digits(time, "time", 6)?,
        None => vec![0; 6],
    };
    let (year, month, day) = (number(&d[..4]) as i32, number(&d[4..6]), number(&d[6..]));
    let (hour, minute, second) = (number(&t[..2]), number(&t[2..4]), number(&t[4..]));
    let at = chrono::NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("date {date:?} is not a calendar date"))?
        .and_hms_opt(hour, minute, second)
        .ok_or_else(|| format!("time {:?} is not a time of day", time.unwrap_or_default()))?;
    Ok(zone.local(at))
}

/// When the file was last written, on the center's clock (never the machine's).
fn file_mtime(path: &Path, zone: CenterZone) -> Option<String> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(zone.instant(&chrono::DateTime::<chrono::Utc>::from(modified)))
}

/// One manifest row as text fields, with its line number.
type Row = (usize, BTreeMap<String, String>);

fn read_manifest(path: &Path, options: &DiscoverOptions) -> Result<Discovery, InputError> {
    let is_jsonl = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    let mut problems = Vec::new();
    let rows = if is_jsonl {
        read_jsonl_rows(path, &mut problems)?
    } else {
        read_csv_rows(path, &mut problems)?
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut discovery = Discovery {
        source: format!("manifest {}", path.display()),
        problems,
        ..Default::default()
    };
    let mut seen = HashSet::new();
    for (line, fields) in rows {
        match call_from_row(&fields, base, options) {
            Ok(call) if !seen.insert(call.call_id.clone()) => discovery.problems.push(FailedItem::of_call(
                &call,
                format!("{}:{line}", path.display()),
                format!("duplicate call id {}", call.call_id),
            )),
            Ok(call) => discovery.calls.push(call),
            Err(reason) => discovery.problems.push(FailedItem {
                location: format!("{}:{line}", path.display()),
                call_id: fields.get("call_id").filter(|s| !s.is_empty()).cloned(),
                agent_id: fields.get("agent_id").filter(|s| !s.is_empty()).cloned(),
                audio_path: fields.get("path").filter(|s| !s.is_empty()).map(|p| base.join(p)),
                // on the center's clock when readable, so the failure lands on its day
                started_at: fields
                    .get("started_at")
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(|s| parse_started_at(s, options.zone).unwrap_or_else(|_| s.to_string())),
                extra: fields
                    .iter()
                    .filter(|(k, _)| !KNOWN_COLUMNS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                reason,
                input: true,
                ..FailedItem::default()
            }),
        }
    }
    Ok(discovery)
}

fn call_from_row(
    fields: &BTreeMap<String, String>,
    base: &Path,
    options: &DiscoverOptions,
) -> Result<CallSpec, String> {
    let field = |name: &str| fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let call_id = field("call_id").ok_or("missing call_id")?.to_string();
    let path = field("path").ok_or("missing path")?;
    let agent_id = field("agent_id").ok_or("missing agent id")?.to_string();
    let audio_path = base.join(path);
    if !audio_path.is_file() {
        return Err(format!("audio file {} does not exist", audio_path.display()));
    }
    let agent_channel = match field("agent_channel") {
        Some(text) => text.parse()?,
        None => options.default_agent_channel,
    };
    let extra = fields
        .iter()
        .filter(|(k, _)| !KNOWN_COLUMNS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(CallSpec {
        call_id,
        agent_id,
        started_at: match field("started_at") {
            Some(text) => Some(parse_started_at(text, options.zone)?),
            None => file_mtime(&audio_path, options.zone),
        },
        audio_path,
        agent_channel,
        extra,
    })
}

fn read_csv_rows(path: &Path, problems: &mut Vec<FailedItem>) -> Result<Vec<Row>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| InputError::BadManifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let headers = reader
        .headers()
        .map_err(|e| InputError::BadManifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .clone();
    for required in ["call_id", "path", "agent_id"] {
        if !headers.iter().any(|h| h == required) {
            return Err(InputError::BadManifest {
                path: path.to_path_buf(),
                reason: format!(
                    "the header row has no {required} column (it has: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line() as usize);
                if record.len() != headers.len() {
                    problems.push(row_problem(
                        path,
                        line,
                        format!("{} fields, the header has {}", record.len(), headers.len()),
                    ));
                    continue;
                }
                rows.push((
                    line,
                    headers
                        .iter()
                        .map(str::to_string)
                        .zip(record.iter().map(str::to_string))
                        .collect(),
                ));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(row_problem(path, line, e.to_string()));
            }
        }
    }
    Ok(rows)
}

fn read_jsonl_rows(path: &Path, problems: &mut Vec<FailedItem>) -> Result<Vec<Row>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(object) => rows.push((
                i + 1,
                object
                    .into_iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (k, text)
                    })
                    .collect(),
            )),
            Err(e) => problems.push(row_problem(path, i + 1, format!("not a JSON object: {e}"))),
        }
    }
    Ok(rows)
}

fn row_problem(path: &Path, line: usize, reason: String) -> FailedItem {
    FailedItem {
        location: format!("{}:{line}", path.display()),
        reason,
        ..FailedItem::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calls_day_is_its_start_times_date_and_a_number_of_days() {
        assert_eq!(call_day("2026-11-20T09:12:05+08:00"), Some("2026-11-20"));
        assert_eq!(day_number("1970-01-02"), Some(1));
        assert_eq!(day_number("2026-11-20"), Some(20_777));
        assert_eq!(day_number("2024-02-29"), Some(19_782));
        for not_a_day in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-050",
            "2026/11/20",
            "20261120",
            "2026-11-2x",
            "",
        ] {
            assert_eq!(day_number(not_a_day), None, "{not_a_day}");
            assert_eq!(call_day(not_a_day), None, "{not_a_day}");
        }
    }

    fn options() -> DiscoverOptions {
        DiscoverOptions::new(DEFAULT_NAME_PATTERN, AgentChannel::Left).unwrap()
    }

    #[test]
    fn csv_manifest_rows_become_calls_or_problems_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wav"), b"x").unwrap();
        std::fs::write(
            dir.path().join("m.csv"),
            "call_id,path,agent_id,agent_channel,started_at,queue\n\
             c1,a.wav,A1,right,2026-11-20T09:00:00,repair\n\
             c2,missing.wav,A1,,,\n\
             c3,a.wav,,left,,\n\
             c4,a.wav,A2,centre,,\n\
             c1,a.wav,A1,left,,\n",
        )
        .unwrap();
        let found = discover(&dir.path().join("m.csv"), &options()).unwrap();
        assert_eq!(found.calls.len(), 1);
        let call = &found.calls[0];
        assert_eq!((call.call_id.as_str(), call.agent_channel), ("c1", AgentChannel::Right));
        assert_eq!(call.extra.get("queue").map(String::as_str), Some("repair"));
        assert_eq!(call.audio_path, dir.path().join("a.wav"));
        let reasons: Vec<(String, String)> = found
            .problems
            .iter()
            .map(|p| (p.location.rsplit(':').next().unwrap().to_string(), p.reason.clone()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(
            reasons[0].0 == "3" && reasons[0].1.contains("does not exist"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].0 == "4" && reasons[1].1.contains("missing agent id"),
            "{reasons:?}"
        );
        assert!(reasons[2].1.contains("agent_channel"), "{reasons:?}");
        assert!(reasons[3].1.contains("duplicate"), "{reasons:?}");
    }

    #[test]
    fn jsonl_manifest_with_a_broken_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wav"), b"x").unwrap();
        std::fs::write(
            dir.path().join("m.jsonl"),
            "{\"call_id\":\"c1\",\"path\":\"a.wav\",\"agent_id\":\"A1\",\"team\":7}\n{not json\n",
        )
        .unwrap();
        let found = discover(&dir.path().join("m.jsonl"), &options()).unwrap();
        assert_eq!(found.calls.len(), 1);
        assert_eq!(found.calls[0].extra.get("team").map(String::as_str), Some("7"));
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].location.ends_with("m.jsonl:2"));
    }

    #[test]
    fn folder_names_give_agent_and_date() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("night")).unwrap();
        for name in ["night/A7_20261120_231500_x.wav", "nopattern.mp3", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let found = discover(dir.path(), &options()).unwrap();
        assert_eq!(found.calls.len(), 1);
        assert_eq!(found.calls[0].agent_id, "A7");
        assert_eq!(found.calls[0].call_id, "A7_20261120_231500_x");
        assert_eq!(found.calls[0].started_at.as_deref(), Some("2026-11-20T23:15:00+08:00"));
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].reason.contains("missing agent id"));
    }

    #[test]
    fn file_name_dates_are_parsed_never_sliced() {
        for (date, time, expected) in [
            ("20261120", Some("231500"), Ok("2026-11-20T23:15:00+08:00")),
            (
                "２０２６１１２０",
                Some("０９１２０５"),
                Ok("2026-11-20T09:12:05+08:00"),
            ),
            ("2026-11-20", None, Ok("2026-11-20T00:00:00+08:00")),
            ("2026112", None, Err("must have 8 digits")),
            ("20261399", None, Err("not a calendar date")),
            ("20260230", None, Err("not a calendar date")),
            ("20261120", Some("256000"), Err("not a time of day")),
            ("2026١١20", None, Err("not a digit")),
            ("", None, Err("must have 8 digits")),
        ] {
            let got = timestamp_from_parts(date, time, CenterZone::default());
            match expected {
                Ok(want) => assert_eq!(got.as_deref(), Ok(want), "{date:?} {time:?}"),
                Err(reason) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(reason)),
                    "{date:?} {time:?}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn manifest_times_are_parsed_at_the_boundary() {
        for (text, expected) in [
            ("2026-11-20T09:12:05", Some("2026-11-20T09:12:05+08:00")),
            ("2026-11-20 09:12:05", Some("2026-11-20T09:12:05+08:00")),
            ("2026/11/20 09:12:05", Some("2026-11-20T09:12:05+08:00")),
            ("2026/11/20", Some("2026-11-20T00:00:00+08:00")),
            ("2026-11-20", Some("2026-11-20T00:00:00+08:00")),
            ("20261120", Some("2026-11-20T00:00:00+08:00")),
            ("20261120091205", Some("2026-11-20T09:12:05+08:00")),
            ("2026-11-20T09:12", Some("2026-11-20T09:12:00+08:00")),
            ("2026-11-20T09:12:05.250", Some("2026-11-20T09:12:05+08:00")),
            ("２０２６-１１-２０ ０９:１２:０５", Some("2026-11-20T09:12:05+08:00")),
            // offsets are honoured: a UTC evening is the next Shanghai morning
            ("2026-11-19T20:00:00.000Z", Some("2026-11-20T04:00:00+08:00")),
            ("2026-11-19T20:00:00Z", Some("2026-11-20T04:00:00+08:00")),
            ("2026-11-19 20:00:00 UTC", Some("2026-11-20T04:00:00+08:00")),
            ("2026-11-19T15:00:00-05:00", Some("2026-11-20T04:00:00+08:00")),
            ("2026-11-20T09:12:05+08:00", Some("2026-11-20T09:12:05+08:00")),
            ("2026-11-20T09:12:05.250+0800", Some("2026-11-20T09:12:05+08:00")),
            ("2026-11-20T10:12:05+09", Some("2026-11-20T09:12:05+08:00")),
            ("20261119200000Z", Some("2026-11-20T04:00:00+08:00")),
            ("2026-11-20T09:12:05+25:00", None),
            ("2026-11-20T09:12:05 CST", None),
            ("20261399", None),
            ("2026-02-30", None),
            ("2026-11-20T25:00:00", None),
            ("yesterday", None),
            ("11/20/2026", None),
        ] {
            let got = parse_started_at(text, CenterZone::default());
            match expected {
                Some(want) => assert_eq!(got.as_deref(), Ok(want), "{text}"),
                None => assert!(got.as_ref().is_err_and(|e| e.contains(text)), "{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn the_day_is_the_centers_whatever_the_machine() {
        let utc: CenterZone = "UTC".parse().unwrap();
        let taipei: CenterZone = "Asia/Taipei".parse().unwrap();
        let text = "2026-11-19T20:00:00.000Z";
        assert_eq!(parse_started_at(text, utc).as_deref(), Ok("2026-11-19T20:00:00+00:00"));
        assert_eq!(
            parse_started_at(text, taipei).as_deref(),
            Ok("2026-11-20T04:00:00+08:00")
        );
        // without an offset, the time is the center's own
        assert_eq!(
            parse_started_at("2026-11-19 20:00", utc).as_deref(),
            Ok("2026-11-19T20:00:00+00:00")
        );
        assert!("Mars/Olympus".parse::<CenterZone>().unwrap_err().contains("IANA"));
        // a file's time is an instant: written at 16:30 UTC, it is past midnight in Shanghai
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.wav");
        std::fs::write(&file, b"x").unwrap();
        let instant = chrono::DateTime::parse_from_rfc3339("2026-11-19T16:30:00Z").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(instant.into())
            .unwrap();
        assert_eq!(
            file_mtime(&file, CenterZone::default()).as_deref(),
            Some("2026-11-20T00:30:00+08:00")
        );
        assert_eq!(file_mtime(&file, utc).as_deref(), Some("2026-11-19T16:30:00+00:00"));
    }

    #[test]
    fn a_bad_started_at_is_that_row_s_problem_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wav"), b"x").unwrap();
        std::fs::write(
            dir.path().join("m.csv"),
            "call_id,path,agent_id,started_at\nc1,a.wav,A1,2026/11/20 08:00:00\nc2,a.wav,A1,20261399\n",
        )
        .unwrap();
        let found = discover(&dir.path().join("m.csv"), &options()).unwrap();
        assert_eq!(found.calls.len(), 1);
        assert_eq!(found.calls[0].started_at.as_deref(), Some("2026-11-20T08:00:00+08:00"));
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].location.ends_with("m.csv:3"), "{:?}", found.problems);
        assert!(found.problems[0].reason.contains("20261399"), "{:?}", found.problems);
    }

    #[test]
    fn a_bad_date_in_a_file_name_is_that_file_s_problem() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "A1_２０２６１１２０_091205_x.wav",
            "A2_20261399_000000_y.wav",
            "A3_20261120_000000_z.wav",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        // a pattern whose date group is too short must not panic either
        let short = DiscoverOptions::new(r"^(?P<agent_id>A\d)_(?P<date>\d{4})", AgentChannel::Left).unwrap();
        for options in [options(), short] {
            let found = discover(dir.path(), &options).unwrap();
            assert_eq!(found.calls.len() + found.problems.len(), 3, "{found:?}");
        }
        let found = discover(dir.path(), &options()).unwrap();
        let dates: Vec<_> = found.calls.iter().map(|c| c.started_at.as_deref()).collect();
        assert_eq!(
            dates,
            [Some("2026-11-20T09:12:05+08:00"), Some("2026-11-20T00:00:00+08:00")]
        );
        assert_eq!(found.problems.len(), 1);
        assert!(
            found.problems[0].reason.contains("not a calendar date"),
            "{:?}",
            found.problems
        );
    }

    #[test]
    fn a_link_loop_is_reported_and_the_walk_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("night/late")).unwrap();
        std::fs::write(dir.path().join("night/A1_20261120_010000_a.wav"), b"x").unwrap();
        std::fs::write(dir.path().join("night/late/A2_20261120_020000_b.wav"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("night"), dir.path().join("night/late/again")).unwrap();
        let found = discover(dir.path(), &options()).unwrap();
        let ids: Vec<&str> = found.calls.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(ids, ["A1_20261120_010000_a", "A2_20261120_020000_b"]);
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(found.problems[0].location.ends_with("again"), "{:?}", found.problems);
        assert!(found.problems[0].reason.contains("link back"), "{:?}", found.problems);
    }

    #[test]
    fn one_audio_file_is_a_batch_of_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("A7_20261120_231500_x.wav");
        std::fs::write(&file, b"x").unwrap();
        let found = discover(&file, &options()).unwrap();
        assert_eq!(found.calls.len(), 1);
        assert_eq!(found.calls[0].agent_id, "A7");
        assert!(found.source.starts_with("file"));
    }

    #[test]
    fn a_folder_with_a_manifest_uses_it() {
        let found = discover(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples")),
            &options(),
        )
        .unwrap();
        assert!(found.source.starts_with("manifest"));
        assert_eq!(found.calls.len(), 5);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any file name, under name patterns whose groups are too short, too
        /// long or odd: a call or that file's problem, never a panic.
        #[test]
        fn any_file_name_is_a_call_or_a_problem(
            stem in "[A-Za-z0-9０-９_\\-一-龥 .]{0,40}",
            pattern in proptest::sample::select(vec![
                DEFAULT_NAME_PATTERN,
                r"^(?P<agent_id>[^_]+)_(?P<date>\d{4})",
                r"^(?P<agent_id>[^_]+)_(?P<date>\d+)_(?P<time>\d+)",
                r"(?P<agent_id>.*)(?P<date>.*)(?P<time>.*)(?P<call_id>.*)",
                r"^(?P<agent_id>\w)(?P<date>\w{8})?",
            ]),
        ) {
            let options = DiscoverOptions::new(pattern, AgentChannel::Left).unwrap();
            let _ = call_from_file_name(&PathBuf::from(format!("{stem}.wav")), &options);
        }

        /// Any bytes as a CSV or JSONL manifest: calls and problems, or a
        /// clear error, never a panic; every problem names the manifest.
        #[test]
        fn any_manifest_is_read_without_panic(
            text in "(call_id|path|agent_id|started_at|agent_channel|queue|[,\"\n{}:a-z0-9 ./２０-]|x\\.wav){0,60}",
            jsonl in proptest::prelude::any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("x.wav"), b"x").unwrap();
            let manifest = dir.path().join(if jsonl { "m.jsonl" } else { "m.csv" });
            std::fs::write(&manifest, &text).unwrap();
            if let Ok(found) = discover(&manifest, &options()) {
                for problem in &found.problems {
                    proptest::prop_assert!(problem.location.contains("m."), "{problem:?}");
                }
            }
        }
    }
}
