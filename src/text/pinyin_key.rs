//! Sound keys for tolerant matching.
//!
//! ASR slips on Mandarin are mostly homophones and near-sounds: 燃气→然气,
//! 可以→可疑 (same syllable, other tone), 请您稍等→请您收等 (shao/shou),
//! 来电→来订 (dian/ding). We compare characters by toneless pinyin, with the
//! usual southern-Mandarin merges (zh/z, ch/c, sh/s, n/l, -ng/-n) folded in.

use pinyin::ToPinyin;

/// A character's sound: toneless pinyin with fuzzy merges, split in initial and final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Syllable {
    pub initial: &'static str,
    pub final_: &'static str,
}

/// How alike two characters sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SyllableDistance {
    /// Same character.
    Same,
    /// Same syllable up to tone and fuzzy merges: a homophone.
    Homophone,
    /// Initial or rhyme in common (shao/shou, dian/ding, jiang/rang).
    Near,
    /// Nothing in common.
    Different,
}

const INITIALS: &[&str] = &[
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y",
    "w",
];

use super::HAN;

/// The fuzzy syllable of a character, or None for non-Chinese characters.
/// Table lookup: matching asks this for every character of every call.
pub fn syllable_of(c: char) -> Option<Syllable> {
    static TABLE: std::sync::OnceLock<Vec<Option<Syllable>>> = std::sync::OnceLock::new();
    let code = c as u32;
    if !HAN.contains(&code) {
        return compute_syllable(c);
    }
    let table = TABLE.get_or_init(|| {
        HAN.map(|code| char::from_u32(code).and_then(compute_syllable))
            .collect()
    });
    table[(code - HAN.start()) as usize]
}

fn compute_syllable(c: char) -> Option<Syllable> {
    let plain = c.to_pinyin()?.plain();
    let initial = INITIALS.iter().find(|i| plain.starts_with(**i)).copied().unwrap_or("");
    let final_ = &plain[initial.len()..];
    let initial = match initial {
        "zh" => "z",
        "ch" => "c",
        "sh" => "s",
        "l" => "n",
        other => other,
    };
    let final_ = match final_ {
        "ang" => "an",
        "eng" => "en",
        "ing" => "in",
        "iang" => "ian",
        "uang" => "uan",
        other => other,
    };
    Some(Syllable { initial, final_ })
}

/// How alike two characters sound (the first reading of each).
pub fn syllable_distance(a: char, b: char) -> SyllableDistance {
    if a == b {
        return SyllableDistance::Same;
    }
    match (syllable_of(a), syllable_of(b)) {
        (Some(x), Some(y)) if x == y => SyllableDistance::Homophone,
        // an initial in common, not the lack of one: 爱 (ai) and 二 (er) share
        // nothing but their missing initial
        (Some(x), Some(y))
            if (!x.initial.is_empty() && x.initial == y.initial) || rhyme(x.final_) == rhyme(y.final_) =>
        {
            SyllableDistance::Near
        }
        _ => SyllableDistance::Different,
    }
}

/// A final without its medial glide (jiang/rang, shuan/san): glides are what
/// fast telephone speech loses first.
fn rhyme(final_: &str) -> &str {
    match final_.strip_prefix(['i', 'u', 'v']) {
        Some(rest) if !rest.is_empty() => rest,
        _ => final_,
    }
}

#[cfg(test)]
mod tests {
    use super::SyllableDistance::*;
    use super::*;

    #[test]
    fn asr_slips_sound_alike_unrelated_words_do_not() {
        for (a, b, want) in [
            ('燃', '然', Homophone),
            ('以', '疑', Homophone),
            ('址', '只', Homophone),
            ('赶', '感', Homophone),
            ('稍', '收', Near),
            ('电', '订', Near),
            ('将', '让', Near),
            ('忙', '好', Different),
            ('等', '等', Same),
            ('a', '好', Different),
            // zero-initial syllables are not near each other for lacking an initial
            ('爱', '二', Different),
            ('恩', '欧', Different),
            ('爱', '恩', Different),
            ('爱', '晒', Near), // ai / shai: the rhyme
            ('安', '按', Homophone),
        ] {
            assert_eq!(syllable_distance(a, b), want, "{a} {b}");
        }
    }
}
