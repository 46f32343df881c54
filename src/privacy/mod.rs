//! Customers' personal data in what people read: found in the text whisper
//! wrote, and redacted in everything shown (the report, hits.parquet's
//! `context`, examples, the clip index).
//!
//! Matching never sees this stage: the lexicon runs on the raw transcript, so
//! a redaction cannot hide or move a phrase hit. The transcript archive keeps
//! the raw text too (re-scoring reads it); it is the owner's alone (`store`).
//!
//! What is found (see [`PiiKind`]): mobile numbers, landlines with an area
//! code (or after 电话/座机), ID card numbers (18 characters; a garbled one by
//! its birth date), bank card numbers (16–19 digits, by Luhn or after 卡号),
//! e-mail addresses; and, unless the pack turns them off, an address after
//! 地址是 / 住在 / 我家在 and a name after 我叫 / 我姓. A number after a word
//! the pack marks as safe (订单号, 工单号…) is left as it is.

mod numbers;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::text::pinyin_key::{syllable_distance, syllable_of, SyllableDistance};
use crate::transcript::{Segment, Speaker};

pub use numbers::{digit_of, digit_runs, DigitGroup, DigitRun};

/// What a redacted stretch was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A mainland mobile number (11 digits, 1 then 3 to 9).
    Mobile,
    /// A landline number with its area code.
    Landline,
    /// A resident identity card number (18 characters).
    IdCard,
    /// A bank card number (16 to 19 digits, by checksum or said after 卡号…).
    BankCard,
    /// A long number said after 号码, 账号… that is none of the above.
    Number,
    /// An e-mail address.
    Email,
    /// What a customer says after 地址是, 住在…
    Address,
    /// What a customer says after 我叫, 我姓…
    Name,
}

impl PiiKind {
    const ALL: [PiiKind; 8] = [
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::IdCard,
        PiiKind::BankCard,
        PiiKind::Number,
        PiiKind::Email,
        PiiKind::Address,
        PiiKind::Name,
    ];

    /// Its id in the tables (`mobile`, `id_card`…).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Mobile => "mobile",
            PiiKind::Landline => "landline",
            PiiKind::IdCard => "id_card",
            PiiKind::BankCard => "bank_card",
            PiiKind::Number => "number",
            PiiKind::Email => "email",
            PiiKind::Address => "address",
            PiiKind::Name => "name",
        }
    }

    /// The kind of that id.
    pub fn of_str(id: &str) -> Option<PiiKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == id)
    }

    /// What a reader sees in its place.
    pub fn mark(self) -> &'static str {
        match self {
            PiiKind::Mobile => "【手机号】",
            PiiKind::Landline => "【电话】",
            PiiKind::IdCard => "【身份证号】",
            PiiKind::BankCard => "【银行卡号】",
            PiiKind::Number => "【号码】",
            PiiKind::Email => "【邮箱】",
            PiiKind::Address => "【地址】",
            PiiKind::Name => "【姓名】",
        }
    }
}

/// A stretch of personal data in a text, by character offsets `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiSpan {
    /// What it is.
    pub kind: PiiKind,
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

/// `[privacy]` in pack.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// Redact in what people read. `--show-pii` turns it off for one run,
    /// and the report then says so at its top.
    pub redact: bool,
    /// Also addresses after 地址是 / 住在 / 我家在 and names after 我叫 / 我姓.
    pub names_and_addresses: bool,
    /// A number said right after one of these words is not personal data.
    pub safe_after: Vec<String>,
}

impl crate::settings::Validate for PrivacySettings {
    fn validate(&self, c: &mut crate::settings::Checks) {
        if self.safe_after.iter().any(|word| word.trim().is_empty()) {
            c.problem(
                "safe_after",
                "privacy.safe_after: an empty word would make every number safe".into(),
            );
        }
    }
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            redact: true,
            names_and_addresses: true,
            safe_after: [
                "订单",
                "工单",
                "单号",
                "单好",
                "编号",
                "工单号",
                "订单号",
                "流水号",
                "受理号",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Seconds of audio hidden before and after the time personal data is
/// placed at: clause times are spread by length, so a digit's own time is
/// off by a few hundred milliseconds.
pub const AUDIO_MARGIN_S: f64 = 0.6;

/// The fewest digits of any number [`Redactor::classify`] calls personal (a
/// landline without its area code).
const MIN_PERSONAL_DIGITS: usize = 7;
/// How near (in characters) a word must stand before a number to say what it is.
const KEYWORD_REACH: usize = 8;
/// How far before a number its cue word is looked for to place the tone: the
/// number's first groups, garbled past reading (银行卡号16万案例，8104…), were
/// said after it all the same.
const AUDIO_CUE_REACH: usize = 16;
/// At most this many characters after a number before its clause ends are
/// taken as the number's garbled last group, and hidden with it.
const GARBLED_TAIL_CHARS: usize = 5;
/// (机号: 手机号 is heard as 舍机号 on a bad line.)
const PHONE_WORDS: &[&str] = &["电话", "座机", "号码", "手机", "机号", "拨打", "联系方式"];
const CARD_WORDS: &[&str] = &["卡号", "银行卡", "信用卡", "储蓄卡", "账号", "帐号"];
/// 身份证号 is often heard as 身份正好, 学份证号…: the tail is enough.
const ID_WORDS: &[&str] = &["身份证", "证件号", "证号", "份正好"];
const ADDRESS_WORDS: &[&str] = &["地址是", "地址在", "住址是", "我住在", "住在", "我家在", "家住", "家在"];
const NAME_WORDS: &[&str] = &["我叫", "我姓", "名字是", "名字叫", "本人姓"];
/// Each character of the Basic Multilingual Plane: whether it is the second
/// character of an address or name cue word. A text holds a cue word only
/// where such a character follows the word's first: one lookup per
/// character (every clause of every call is asked), the words themselves
/// compared only there.
static CUE_SECONDS: LazyLock<Vec<bool>> = LazyLock::new(|| {
    let mut seconds = vec![false; 0x1_0000];
    for word in ADDRESS_WORDS.iter().chain(NAME_WORDS) {
        if let Some(second) = word.chars().nth(1) {
            seconds[second as usize] = true;
        }
    }
    seconds
});

/// Whether a text holds any address or name cue word at all (most clauses
/// do not), told a character at a time, in a pass that looks for other
/// things too.
#[derive(Debug, Clone, Copy)]
struct CueWatch<'t> {
    text: &'t str,
    previous: Option<(usize, char)>,
}

impl<'t> CueWatch<'t> {
    fn new(text: &'t str) -> Self {
        Self { text, previous: None }
    }

    /// Whether a cue word ends with `c`, the character at byte `at` of the text.
    fn push(&mut self, at: usize, c: char) -> bool {
        let found = self.previous.is_some_and(|(start, first)| {
            CUE_SECONDS.get(c as usize).copied().unwrap_or(false)
                && ADDRESS_WORDS
                    .iter()
                    .chain(NAME_WORDS)
                    .any(|w| w.starts_with(first) && self.text[start..].starts_with(w))
        });
        self.previous = Some((at, c));
        found
    }
}

/// The longest address kept as one (it ends at the clause's end before that).
const MAX_ADDRESS_CHARS: usize = 40;

/// What scoring keeps of a call's personal data ([`Redactor::of_call`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallPersonalData {
    /// When it was said, in seconds, widened by [`AUDIO_MARGIN_S`] each side
    /// and merged: where a clip of the call plays a tone instead of the
    /// voice. Each speaker's clauses are read as one text (a number is often
    /// split over two), and a character's time is spread over its clause as
    /// the matcher spreads a hit's.
    pub times: Vec<(f64, f64)>,
    /// Where, written as `segment:start-end:kind` joined by `;`
    /// (calls.parquet's `redacted_spans`): the redaction decided once, which
    /// later readers apply with [`apply_recorded`] instead of finding it again.
    pub recorded: String,
    /// Whose words hold any: the text shown of anyone else's (a hit's
    /// context) holds none to redact.
    pub speakers: Vec<Speaker>,
}

/// Finds and redacts personal data, as a pack's `[privacy]` says.
#[derive(Debug, Clone)]
pub struct Redactor {
    settings: PrivacySettings,
}

impl Redactor {
    /// A redactor for what the pack's `[privacy]` asks.
    pub fn new(settings: &PrivacySettings) -> Self {
        Self {
            settings: settings.clone(),
        }
    }

    /// The personal data in `text`, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<PiiSpan> {
        // most clauses hold no digit, no @ and no cue word: nothing to look at
        // (scoring asks this of every call and every hit's context)
        self.find_where(text, self.what_may_be_in(text))
    }

    /// [`Self::find`] in `text` known to hold what [`Self::what_may_be_in`] says.
    fn find_where(&self, text: &str, (has_digit, has_at, has_cue): (bool, bool, bool)) -> Vec<PiiSpan> {
        if !(has_digit || has_at || has_cue) {
            return Vec::new();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spans = Vec::new();
        if has_digit {
            for run in digit_runs(text) {
                self.numbers_in(&run, &chars, &mut spans);
            }
        }
        // (the regex has no literal to skip ahead by)
        let emails = has_at.then(|| EMAIL.find_iter(text)).into_iter().flatten();
        for m in emails {
            let start = text[..m.start()].chars().count();
            spans.push(PiiSpan {
                kind: PiiKind::Email,
                start,
                end: start + m.as_str().chars().count(),
            });
        }
        if has_cue {
            after_words(&chars, &ADDRESS_CUES, PiiKind::Address, &mut spans, |rest| {
                rest.iter()
                    .take(MAX_ADDRESS_CHARS)
                    .take_while(|c| !is_clause_end(**c))
                    .count()
            });
            after_words(&chars, &NAME_CUES, PiiKind::Name, &mut spans, |rest| {
                // a surname is one character (two for 欧阳, 司马…); a full name two to four
                rest.iter()
                    .take(3)
                    .take_while(|c| crate::text::is_han(**c) && !is_particle(**c))
                    .count()
            });
        }
        spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        let mut merged: Vec<PiiSpan> = Vec::new();
        for span in spans {
            match merged.last_mut() {
                Some(last) if span.start < last.end => last.end = last.end.max(span.end),
                _ => merged.push(span),
            }
        }
        merged
    }

    /// `text` with each stretch of personal data replaced by its mark
    /// (【手机号】…); the text itself when there is none.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        redact_spans(text, &self.find(text))
    }

    /// A call's personal data as scoring keeps it (see [`CallPersonalData`]),
    /// each speaker's clauses looked at together: a number is often split
    /// over two clauses, and what is bleeped in the audio is what is marked
    /// in the text. A speaker whose whole text holds no long enough number,
    /// no @ and no cue word (most speakers of most calls) needs no closer look.
    ///
    /// `told` is who said each segment as the rules told it (a mono call's
    /// voices, the system's prompts), as the hits are found.
    pub fn of_call(&self, segments: &[Segment], told: &[Speaker]) -> CallPersonalData {
        let mut times = Vec::new();
        let mut recorded: Vec<(usize, PiiSpan)> = Vec::new();
        let mut speakers_with_data = Vec::new();
        let mut speakers = told.to_vec();
        speakers.sort();
        speakers.dedup();
        for speaker in speakers {
            let (indices, mine): (Vec<usize>, Vec<&Segment>) = segments
                .iter()
                .zip(told)
                .enumerate()
                .filter(|(_, (_, &s))| s == speaker)
                .map(|(i, (segment, _))| (i, segment))
                .unzip();
            let text = mine.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
            let (digits, at, cue) = self.what_may_be_in(&text);
            if !(digits || at || cue) {
                continue;
            }
            let spans = self.find_where(&text, (digits, at, cue));
            if spans.is_empty() {
                continue;
            }
            speakers_with_data.push(speaker);
            let clauses = JoinedClauses::of(&mine);
            for span in &spans {
                recorded.extend(clauses.split(span).map(|(k, part)| (indices[k], part)));
            }
            times_in(&mine, &clauses, &text, spans, &mut times);
        }
        recorded.sort_by_key(|(i, span)| (*i, span.start));
        let recorded = recorded
            .iter()
            .map(|(i, span)| format!("{i}:{}-{}:{}", span.start, span.end, span.kind.as_str()))
            .collect::<Vec<_>>()
            .join(";");
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (start, end) in times {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        CallPersonalData {
            times: merged,
            recorded,
            speakers: speakers_with_data,
        }
    }

    /// Whether `text` may hold a personal number (a run of digits long
    /// enough), an email (an @), a name or an address (a cue word). Never
    /// all false where [`Self::find`] finds something, in `text` or in any
    /// stretch of it.
    fn what_may_be_in(&self, text: &str) -> (bool, bool, bool) {
        // one pass for the three (this runs over every clause of every call)
        let look_for_cues = self.settings.names_and_addresses;
        let (mut digits, mut cues) = (numbers::RunBound::default(), CueWatch::new(text));
        let (mut at_sign, mut cue) = (false, false);
        for (at, c) in text.char_indices() {
            digits.push(c);
            at_sign |= c == '@';
            cue = cue || (look_for_cues && cues.push(at, c));
        }
        (digits.longest >= MIN_PERSONAL_DIGITS, at_sign, cue)
    }

    /// The personal numbers of one run: the longest stretches of its groups
    /// that read as one, tried from the first group on.
    /// A number of a known kind (mobile, ID…) is looked for first, then,
    /// in the groups left, a long number of no known kind.
    fn numbers_in(&self, run: &DigitRun, chars: &[char], spans: &mut Vec<PiiSpan>) {
        let groups = &run.groups;
        let mut used = vec![false; groups.len()];
        // digits before each group (and after the last): a stretch's length in O(1)
        let mut before = Vec::with_capacity(groups.len() + 1);
        before.push(0);
        for group in groups {
            before.push(before.last().copied().unwrap_or(0) + group.digits.len());
        }
        for generic in [false, true] {
            let mut first = 0;
            while first < groups.len() {
                if used[first] {
                    first += 1;
                    continue;
                }
                let free_until = (first..groups.len()).find(|&g| used[g]).unwrap_or(groups.len());
                // the stretches shorter than any personal number (amounts,
                // 一下, 一个…: most of a call's runs) are never classified
                let digits_to = |last: usize| before[last + 1] - before[first];
                let found = (first..free_until)
                    .rev()
                    .take_while(|&last| digits_to(last) >= MIN_PERSONAL_DIGITS)
                    .find_map(|last| {
                        let picked = &groups[first..=last];
                        self.classify_trimmed(picked, chars, generic).map(|span| (last, span))
                    });
                match found {
                    Some((last, span)) => {
                        spans.push(span);
                        used[first..=last].iter_mut().for_each(|u| *u = true);
                        first = last + 1;
                    }
                    None => first += 1,
                }
            }
        }
    }

    /// [`Self::classify`], also with the Chinese numerals at either end left
    /// to the words around (打一下 before a number, 一个 after it).
    fn classify_trimmed(&self, groups: &[DigitGroup], chars: &[char], generic: bool) -> Option<PiiSpan> {
        let (head, tail) = (&groups[0], &groups[groups.len() - 1]);
        let digits: String = groups.iter().map(|g| g.digits.as_str()).collect();
        let digit_count = digits.chars().count();
        for cut_head in 0..=head.numeral_head.min(2) {
            for cut_tail in 0..=tail.numeral_tail.min(2) {
                // whole groups are left out by the caller, not here
                let inside = cut_head < head.digits.len() && cut_tail < tail.digits.len();
                if cut_head + cut_tail >= digit_count || !inside {
                    continue;
                }
                let kept: String = digits
                    .chars()
                    .skip(cut_head)
                    .take(digit_count - cut_head - cut_tail)
                    .collect();
                let (start, end) = (head.start + cut_head, tail.end - cut_tail);
                let kind = self.classify(&kept, chars, start, end);
                if let Some(kind) = kind.filter(|k| (*k == PiiKind::Number) == generic) {
                    // an ID's closing X is part of it
                    let x = kind == PiiKind::IdCard && kept.len() == 17;
                    return Some(PiiSpan {
                        kind,
                        start,
                        end: end + usize::from(x),
                    });
                }
            }
        }
        None
    }

    /// Whether `before` (the characters before a number) holds a word the
    /// pack marks safe (订单, 工单号…): as written, or, for a word of three
    /// syllables, as a bad line lets whisper write it: its first and last
    /// syllables alike by sound (工单号 heard as 公斤好). Never where a word
    /// that says personal data stands too (手机号 sounds like 受理号).
    fn said_after_a_safe_word(&self, before: &str, before_chars: &[char]) -> bool {
        let safe = &self.settings.safe_after;
        if safe.iter().any(|w| before.contains(w.as_str())) {
            return true;
        }
        let personal = [PHONE_WORDS, CARD_WORDS, ID_WORDS].into_iter().flatten();
        if personal.into_iter().any(|w| before.contains(w)) {
            return false;
        }
        let alike = |a: char, b: char| syllable_distance(a, b) <= SyllableDistance::Homophone;
        safe.iter().any(|word| {
            let mut word = word.chars();
            let (Some(head), Some(_), Some(tail), None) = (word.next(), word.next(), word.next(), word.next()) else {
                return false;
            };
            before_chars
                .windows(3)
                .any(|w| alike(w[0], head) && alike(w[2], tail) && syllable_of(w[1]).is_some())
        })
    }

    /// What a number said at `start..end` of the text is, if personal.
    fn classify(&self, digits: &str, chars: &[char], start: usize, end: usize) -> Option<PiiKind> {
        if digits.len() < MIN_PERSONAL_DIGITS {
            return None;
        }
        let before_chars = &chars[start.saturating_sub(KEYWORD_REACH)..start];
        let before: String = before_chars.iter().collect();
        let said_after = |words: &[&str]| words.iter().any(|w| before.contains(w));
        if self.said_after_a_safe_word(&before, before_chars) {
            return None;
        }
        // an ID's last character may be X, written after the digits
        let x_follows = chars.get(end).is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ'));
        let n = digits.len();
        let bytes = digits.as_bytes();
        if n == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
            return Some(PiiKind::Mobile);
        }
        if (n == 18 || (n == 17 && x_follows)) && (id_checksum_ok(digits, x_follows) || id_birth_date(digits)) {
            return Some(PiiKind::IdCard);
        }
        if (16..=19).contains(&n) && (luhn_ok(digits) || said_after(CARD_WORDS)) {
            return Some(PiiKind::BankCard);
        }
        if (10..=12).contains(&n) && bytes[0] == b'0' && bytes[1] != b'0' {
            return Some(PiiKind::Landline);
        }
        if (7..=8).contains(&n) && said_after(PHONE_WORDS) {
            return Some(PiiKind::Landline);
        }
        if n >= 15 && said_after(ID_WORDS) {
            return Some(PiiKind::IdCard);
        }
        if n >= 7 && said_after(&[PHONE_WORDS, CARD_WORDS, ID_WORDS].concat()) {
            return Some(PiiKind::Number);
        }
        // nine digits or more is nobody's amount, date or time: an ID or card
        // whisper garbled a digit of (dropped, doubled, misheard)
        if n >= 9 {
            return Some(PiiKind::Number);
        }
        None
    }
}

/// One speaker's clauses read as one text, joined by line breaks: where
/// each clause starts in it (in characters) and how long it is.
struct JoinedClauses {
    starts: Vec<usize>,
    lens: Vec<usize>,
}

impl JoinedClauses {
    fn of(mine: &[&Segment]) -> Self {
        let lens: Vec<usize> = mine.iter().map(|s| s.text.chars().count()).collect();
        let mut starts = Vec::with_capacity(lens.len());
        let mut at = 0;
        for len in &lens {
            starts.push(at);
            at += len + 1;
        }
        Self { starts, lens }
    }

    /// The clause and place in it of the joined text's `j`-th character; a
    /// line break is the next clause's start.
    fn place(&self, j: usize) -> Option<(usize, usize)> {
        let k = self.starts.partition_point(|&s| s <= j).checked_sub(1)?;
        let i = j - self.starts[k];
        match i.cmp(&self.lens[k]) {
            std::cmp::Ordering::Less => Some((k, i)),
            std::cmp::Ordering::Equal if k + 1 < self.starts.len() => Some((k + 1, 0)),
            _ => None,
        }
    }

    /// A span of the joined text as the parts of it in each clause.
    fn split<'s>(&'s self, span: &'s PiiSpan) -> impl Iterator<Item = (usize, PiiSpan)> + 's {
        self.starts
            .iter()
            .zip(&self.lens)
            .enumerate()
            .filter_map(|(k, (&start, &len))| {
                let (from, to) = (span.start.max(start), span.end.min(start + len));
                (from < to).then_some((
                    k,
                    PiiSpan {
                        kind: span.kind,
                        start: from - start,
                        end: to - start,
                    },
                ))
            })
    }
}

/// The times of the personal data `spans` found in one speaker's clauses
/// `mine`, read as one `text` (joined by line breaks), added to `times` unmerged.
fn times_in(mine: &[&Segment], clauses: &JoinedClauses, text: &str, spans: Vec<PiiSpan>, times: &mut Vec<(f64, f64)>) {
    let time_at = |(k, i): (usize, usize), after: bool| {
        let s = mine[k];
        let n = clauses.lens[k].max(1) as f64;
        s.start + (s.end - s.start) * (i as f64 + f64::from(u8::from(after))) / n
    };
    let chars: Vec<char> = text.chars().collect();
    for span in spans {
        // from the cue word on (卡号是…): the number's first group is
        // often the one whisper garbled, and its clause times with it
        let from = cue_end_before(&chars, span.start, AUDIO_CUE_REACH).unwrap_or(span.start);
        // to the clause's end when only a few characters follow: the
        // number's last group, garbled (…2405分397)
        let rest = chars[span.end.min(chars.len())..]
            .iter()
            .take_while(|&&c| !is_clause_end(c))
            .count();
        let to = if rest <= GARBLED_TAIL_CHARS {
            span.end + rest
        } else {
            span.end
        };
        let (Some(first), Some(last)) = (clauses.place(from), clauses.place(to.saturating_sub(1))) else {
            continue;
        };
        times.push((
            (time_at(first, false) - AUDIO_MARGIN_S).max(0.0),
            time_at(last, true) + AUDIO_MARGIN_S,
        ));
    }
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").expect("valid"));

/// The address and name cue words as characters, made once.
static ADDRESS_CUES: LazyLock<CueWords> = LazyLock::new(|| CueWords::of(ADDRESS_WORDS));
static NAME_CUES: LazyLock<CueWords> = LazyLock::new(|| CueWords::of(NAME_WORDS));

/// Cue words as characters, and their first characters.
struct CueWords {
    words: Vec<Vec<char>>,
    firsts: Vec<char>,
}

impl CueWords {
    fn of(words: &[&str]) -> Self {
        let words: Vec<Vec<char>> = words.iter().map(|w| w.chars().collect()).collect();
        let firsts = words.iter().filter_map(|w| w.first().copied()).collect();
        Self { words, firsts }
    }
}

/// Spans of `kind` after each of `cues` in `chars`, as long as `length` says.
fn after_words(
    chars: &[char],
    cues: &CueWords,
    kind: PiiKind,
    spans: &mut Vec<PiiSpan>,
    length: impl Fn(&[char]) -> usize,
) {
    let CueWords { words, firsts } = cues;
    // most characters start no cue word: one comparison each, not one per word
    let mut i = 0;
    while i < chars.len() {
        if !firsts.contains(&chars[i]) {
            i += 1;
            continue;
        }
        let hit = words.iter().find(|w| chars[i..].starts_with(w));
        match hit {
            Some(word) => {
                let start = i + word.len();
                let len = length(&chars[start..]);
                if len > 0 {
                    spans.push(PiiSpan {
                        kind,
                        start,
                        end: start + len,
                    });
                }
                i = start + len.max(1);
            }
            None => i += 1,
        }
    }
}

/// Where the nearest cue word of a number (手机, 卡号, 身份证…) within
/// [`KEYWORD_REACH`] characters before `start` ends.
fn cue_end_before(chars: &[char], start: usize, reach: usize) -> Option<usize> {
    let from = start.saturating_sub(reach);
    [PHONE_WORDS, CARD_WORDS, ID_WORDS]
        .concat()
        .iter()
        .filter_map(|word| {
            let word: Vec<char> = word.chars().collect();
            (from..start.saturating_sub(word.len() - 1))
                .rev()
                .find(|&i| chars[i..].starts_with(&word))
                .map(|i| i + word.len())
        })
        .max()
}

fn is_clause_end(c: char) -> bool {
    matches!(c, '，' | '。' | '！' | '？' | '；' | ',' | '.' | '!' | '?' | ';' | '\n')
}

/// Characters that end a name said after 我叫 (我叫王明的 → 王明).
fn is_particle(c: char) -> bool {
    matches!(
        c,
        '的' | '了' | '吗' | '呢' | '吧' | '啊' | '是' | '我' | '你' | '您' | '在' | '和'
    )
}

/// GB 11643: the 18th character is the check of the first 17.
fn id_checksum_ok(digits: &str, x_follows: bool) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    if values.len() < 17 {
        return false;
    }
    let sum: u32 = WEIGHTS.iter().zip(&values).map(|(w, v)| w * v).sum();
    let check = CHECK[(sum % 11) as usize];
    match (values.len(), x_follows) {
        (17, true) => check == b'X',
        (18, _) => check == b'0' + values[17] as u8,
        _ => false,
    }
}

/// Whether characters 7–14 of an ID-length number are a plausible birth date
/// (1900–2029): the check for an ID whisper garbled a digit of.
fn id_birth_date(digits: &str) -> bool {
    let Some(date) = digits.get(6..14) else {
        return false;
    };
    let year: u32 = date[..4].parse().unwrap_or(0);
    (1900..2030).contains(&year) && chrono::NaiveDate::parse_from_str(date, "%Y%m%d").is_ok()
}

/// The Luhn check bank card numbers carry.
fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `text` with `spans` (in order, not overlapping) replaced by their marks.
fn redact_spans<'t>(text: &'t str, spans: &[PiiSpan]) -> Cow<'t, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut spans = spans.iter().peekable();
    let mut skip_to = 0;
    for (i, c) in text.chars().enumerate() {
        if let Some(span) = spans.peek() {
            if i == span.start {
                out.push_str(span.kind.mark());
                skip_to = span.end;
                spans.next();
            }
        }
        if i >= skip_to {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The redaction scoring recorded ([`CallPersonalData::recorded`]) applied to the
/// `segment`-th segment's `text`: the text with the recorded spans marked.
pub fn apply_recorded<'t>(recorded: &str, segment: usize, text: &'t str) -> Cow<'t, str> {
    let spans: Vec<PiiSpan> = recorded
        .split(';')
        .filter_map(|item| {
            let (index, rest) = item.split_once(':')?;
            if index.parse::<usize>().ok()? != segment {
                return None;
            }
            let (range, kind) = rest.split_once(':')?;
            let (start, end) = range.split_once('-')?;
            Some(PiiSpan {
                kind: PiiKind::of_str(kind)?,
                start: start.parse().ok()?,
                end: end.parse().ok()?,
            })
        })
        .collect();
    redact_spans(text, &spans)
}

#[cfg(test)]
mod tests {
    /// What scoring records is what a later reader applies: the same text
    /// as redacting it again, without the pack.
    #[test]
    fn a_recorded_redaction_reads_back_as_the_redaction() {
        let redactor = Redactor::new(&PrivacySettings::default());
        let segments = [
            Segment::new(Speaker::Customer, 0.0, 2.0, "我的手机号是13912345678"),
            Segment::new(Speaker::Agent, 2.0, 3.0, "好的"),
            Segment::new(
                Speaker::Customer,
                3.0,
                6.0,
                "身份证号11010519491231002X，卡号6222020200112233445",
            ),
        ];
        let recorded = redactor.of_call(&segments, &stored_speakers(&segments)).recorded;
        assert!(recorded.starts_with("0:6-17:mobile"), "{recorded}");
        for (i, s) in segments.iter().enumerate() {
            assert_eq!(apply_recorded(&recorded, i, &s.text), redactor.redact(&s.text), "{i}");
        }
        assert_eq!(apply_recorded("", 0, "13912345678"), "13912345678");
    }

    fn stored_speakers(segments: &[Segment]) -> Vec<Speaker> {
        segments.iter().map(|s| s.speaker).collect()
    }

    /// A number whisper split over two clauses is bleeped in the audio as
    /// one: the text shown of each clause marks its part of it, and whose
    /// words hold personal data is known.
    #[test]
    fn a_number_split_over_two_clauses_is_marked_in_both() {
        let redactor = Redactor::new(&PrivacySettings::default());
        let segments = [
            Segment::new(Speaker::Customer, 0.0, 2.0, "我的手机号是139"),
            Segment::new(Speaker::Agent, 2.0, 2.5, "嗯"),
            Segment::new(Speaker::Customer, 2.5, 4.0, "1234 5678，对"),
        ];
        let personal = redactor.of_call(&segments, &stored_speakers(&segments));
        let shown: Vec<String> = (0..segments.len())
            .map(|i| apply_recorded(&personal.recorded, i, &segments[i].text).into_owned())
            .collect();
        assert_eq!(shown, ["我的手机号是【手机号】", "嗯", "【手机号】，对"]);
        assert_eq!(personal.speakers, [Speaker::Customer]);
        assert_eq!(personal.times.len(), 1);
        // a mono call: the segments stored as one voice, told apart by the rules
        let mono: Vec<Segment> = segments
            .iter()
            .map(|s| Segment::new(Speaker::Unknown, s.start, s.end, &s.text))
            .collect();
        let told: Vec<Speaker> = segments.iter().map(|s| s.speaker).collect();
        let personal = redactor.of_call(&mono, &told);
        assert_eq!(personal.recorded, "0:6-9:mobile;2:0-9:mobile");
    }

    use super::*;

    fn redact(text: &str) -> String {
        Redactor::new(&PrivacySettings::default()).redact(text).into_owned()
    }

    #[test]
    fn personal_numbers_are_redacted_however_whisper_wrote_them() {
        for (text, want) in [
            ("我的手机号是13812345678。", "我的手机号是【手机号】。"),
            ("一三八一二三四五六七八", "【手机号】"),
            ("幺三八，幺二三四，五六七八，对", "【手机号】，对"),
            ("138 1234 5678", "【手机号】"),
            ("您打一下13812345678", "您打一下【手机号】"),
            ("第一13812345678两个", "第一【手机号】两个"),
            ("电话是010-62345678", "电话是【电话】"),
            ("座机62345678", "座机【电话】"),
            ("身份证号110105199003071239", "身份证号【身份证号】"),
            ("身份证11010519900307123X", "身份证【身份证号】"),
            // a digit misheard: no checksum, but the birth date is there
            ("110105199003071235", "【身份证号】"),
            ("卡号6222 0212 3456 7890 128", "卡号【银行卡号】"),
            ("4111111111111111", "【银行卡号】"),
            ("邮箱是zhang.san@example.com", "邮箱是【邮箱】"),
            ("我家在朝阳区建国路88号，", "我家在【地址】，"),
            ("我姓王。", "我姓【姓名】。"),
            ("我叫张小明的", "我叫【姓名】的"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    /// The digit-run bound of a whole text.
    fn longest_run_bound(text: &str) -> usize {
        let mut bound = numbers::RunBound::default();
        text.chars().for_each(|c| bound.push(c));
        bound.longest
    }

    /// Whether the cue watch finds a cue word anywhere in `text`.
    fn holds_cue_word(text: &str) -> bool {
        let mut cue = CueWatch::new(text);
        text.char_indices().any(|(at, c)| cue.push(at, c))
    }

    #[test]
    fn the_quick_digit_bound_never_undercounts_a_run() {
        for text in [
            "幺三八，幺二三四，五六七八，对",
            "13次，98次爱，6588",
            "电话是010-62345678",
            "卡号6222 0212 3456 7890 128",
            "要三八一二三四五六七八要",
            "一百二十元，三四五六七八九",
            "我说一下，就是一，二，三。四五六七",
            "2026年11月20日",
        ] {
            let longest = digit_runs(text).iter().map(|r| r.digits().len()).max().unwrap_or(0);
            assert!(longest_run_bound(text) >= longest, "{text}");
        }
    }

    #[test]
    fn cue_words_are_found_wherever_they_stand() {
        for word in ADDRESS_WORDS.iter().chain(NAME_WORDS) {
            for text in [
                word.to_string(),
                format!("好的，{word}"),
                format!("{word}哪里"),
                format!("我我{word}"),
            ] {
                assert!(holds_cue_word(&text), "{text}");
            }
        }
        for text in ["", "我", "我明白您的意思", "地址", "住", "在家里", "名字"] {
            assert!(!holds_cue_word(text), "{text}");
        }
    }

    #[test]
    fn other_numbers_stay() {
        for text in [
            "燃气费一共128.50元",
            "一百二十元",
            "2026年11月20日",
            "两个工作日内",
            "我5分钟后就回来",
            "18号上门",
            "下午三点到五点",
            "订单号202611200012345678",
            "工单号 6222021234567890128",
            "一共1280元，分12期",
            "请问还有什么可以帮您",
            "1234567",
        ] {
            assert_eq!(redact(text), text, "{text}");
        }
    }

    #[test]
    fn without_names_and_addresses_only_numbers_go() {
        let redactor = Redactor::new(&PrivacySettings {
            names_and_addresses: false,
            ..PrivacySettings::default()
        });
        assert_eq!(redactor.redact("我叫王明，电话13812345678"), "我叫王明，电话【手机号】");
    }

    #[test]
    fn times_cover_the_number_across_clauses_with_a_margin() {
        let redactor = Redactor::new(&PrivacySettings::default());
        let segments = [
            Segment::new(Speaker::Customer, 10.0, 12.0, "好的，号码是138，"),
            Segment::new(Speaker::Agent, 11.0, 12.0, "嗯"),
            Segment::new(Speaker::Customer, 12.5, 14.5, "1234 5678，对"),
            Segment::new(Speaker::Agent, 20.0, 22.0, "一共128元，两个工作日"),
        ];
        let times = redactor.of_call(&segments, &stored_speakers(&segments)).times;
        assert_eq!(times.len(), 1, "{times:?}");
        let (start, end) = times[0];
        // from the cue 号码 on (it ends at character 5 of 10 in 10–12 s); 5678
        // ends with character 9 of 11 in 12.5–14.5 s
        assert!(
            (start - (10.0 + 2.0 * 5.0 / 10.0 - AUDIO_MARGIN_S)).abs() < 1e-9,
            "{start}"
        );
        assert!((end - (12.5 + 2.0 * 9.0 / 11.0 + AUDIO_MARGIN_S)).abs() < 1e-9, "{end}");
    }

    /// Issue 23 on a phone line: the tone starts at the cue word even when the
    /// number's first groups came out garbled, and takes a garbled last group in.
    #[test]
    fn the_tone_covers_garbled_groups_around_a_number() {
        let redactor = Redactor::new(&PrivacySettings::default());
        let segments = [
            Segment::new(Speaker::Customer, 26.0, 30.0, "银横卡号16万案例,"),
            Segment::new(Speaker::Customer, 30.0, 33.0, "81041019 6652351"),
            Segment::new(Speaker::Customer, 40.0, 46.0, "银行卡号6244827522405分397"),
        ];
        let times = redactor.of_call(&segments, &stored_speakers(&segments)).times;
        assert_eq!(times.len(), 2, "{times:?}");
        // from 卡号 (ending at character 4 of 10), nine characters before the digits
        assert!(
            (times[0].0 - (26.0 + 4.0 * 4.0 / 10.0 - AUDIO_MARGIN_S)).abs() < 1e-9,
            "{times:?}"
        );
        // to the clause's end: 分397 is the card's last group
        assert!((times[1].1 - (46.0 + AUDIO_MARGIN_S)).abs() < 1e-9, "{times:?}");
    }

    #[test]
    fn a_safe_word_misheard_still_keeps_the_centers_number() {
        // 工单号 heard as 公斤好 on a bad line: the order number stays
        assert_eq!(redact("公斤好18865432109,请您记一下"), "公斤好18865432109,请您记一下");
        // a word of personal data wins: 手机号 sounds like 受理号
        assert_eq!(redact("手机号13812345678"), "手机号【手机号】");
        assert_eq!(redact("舍机号13812345678"), "舍机号【手机号】");
        // other words are not taken for a safe one
        assert_eq!(redact("我的号是13812345678"), "我的号是【手机号】");
    }

    #[test]
    fn checks_are_the_published_ones() {
        assert!(id_checksum_ok("11010519491231002", true)); // 11010519491231002X
        assert!(id_checksum_ok("110105199003071239", false));
        assert!(!id_checksum_ok("110105199003071234", false));
        assert!(luhn_ok("4111111111111111"));
        assert!(!luhn_ok("4111111111111112"));
    }
}
