//! Spoken numbers as whisper writes them → digit strings.
//!
//! A customer reading out a phone or card number says it digit by digit, and
//! whisper writes it as Arabic digits (`13812345678`), full-width ones, Chinese
//! numerals (`一三八…`, `幺` for one, `两` for two, `〇`/`零` for nought) or a mix,
//! in groups with spaces, commas or dashes between them, sometimes split over
//! two clauses (`138，1234，5678`). A [`DigitRun`] is such a stretch: its groups
//! of digits and where each sits in the text, so the PII rules can try the
//! groups together and apart.

/// The digit a character stands for when a number is read out digit by digit.
/// Place values (十, 百, 千) are not digits: amounts are said with them,
/// phone and card numbers never.
pub fn digit_of(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => c,
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32)?,
        '零' | '〇' | '○' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '两' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Whether `c` is an Arabic digit (ASCII or full-width): unlike a Chinese
/// numeral, never part of an ordinary word.
fn is_arabic(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// What may stand between two groups of one number read out.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}' | '-' | '－' | '—' | ',' | '，' | '、' | '.' | '。' | '…' | '\n'
    )
}

/// At most this many characters between two groups of one number…
const MAX_GAP: usize = 4;
/// …of which at most this many are not separators: whisper writes a digit it
/// did not catch as some other character (`13次，98次爱，6588`).
const MAX_GARBLED: usize = 2;

/// Characters that say what a number counts (a date, an amount, a time, a
/// place): never a digit whisper garbled, so never bridged.
fn is_unit(c: char) -> bool {
    matches!(
        c,
        '十' | '百'
            | '千'
            | '万'
            | '亿'
            | '年'
            | '月'
            | '日'
            | '号'
            | '点'
            | '时'
            | '分'
            | '秒'
            | '元'
            | '块'
            | '角'
            | '毛'
            | '钟'
            | '天'
            | '个'
            | '期'
            | '周'
            | '岁'
            | '楼'
            | '层'
            | '室'
            | '栋'
            | '单'
            | '米'
            | '度'
            | '位'
            | '户'
            | '条'
            | '套'
            | '台'
            | '张'
            | '笔'
    )
}

/// What whisper writes for 幺 (one, as numbers are read out) when it does not
/// know the word: a digit only next to another digit.
fn is_soft_one(c: char) -> bool {
    matches!(c, '要' | '腰' | '妖' | '邀' | '药')
}

/// A group of digits: the digits, and the characters of the text they span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitGroup {
    /// The digits, as digits.
    pub digits: String,
    /// Character offsets in the text, `start..end`.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// How many of its leading and trailing characters are Chinese numerals
    /// (一, 两…), which may belong to the words around the number instead.
    pub numeral_head: usize,
    /// …and trailing.
    pub numeral_tail: usize,
}

/// Consecutive groups of digits with only separators between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitRun {
    /// The groups, in order.
    pub groups: Vec<DigitGroup>,
}

impl DigitRun {
    /// All the run's digits, separators dropped.
    pub fn digits(&self) -> String {
        self.groups.iter().map(|g| g.digits.as_str()).collect()
    }
}

const OTHER: u8 = 0;
/// A digit, or a soft one (要 for 幺) that may stand for one.
const DIGIT: u8 = 1;
/// A unit (十, 元, 号…): never inside a number read out.
const UNIT: u8 = 2;
/// Each character of the Basic Multilingual Plane's class, looked up once:
/// [`RunBound`] runs over every clause of every call of a re-score,
/// and the matches it replaces cost more than the whole rest of its loop.
static CHAR_CLASSES: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    (0..=0xFFFF_u32)
        .map(|code| match char::from_u32(code) {
            Some(c) if digit_of(c).is_some() || is_soft_one(c) => DIGIT,
            Some(c) if is_unit(c) => UNIT,
            _ => OTHER,
        })
        .collect()
});

/// At least as many digits as the longest run [`digit_runs`] finds in a
/// text, counted a character at a time without allocating (in a pass that
/// looks for other things too): most clauses of a call hold no number long
/// enough to be anyone's, and need no closer look.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunBound {
    /// The longest run so far.
    pub longest: usize,
    run: usize,
    gap: usize,
}

impl RunBound {
    pub fn push(&mut self, c: char) {
        let class = CHAR_CLASSES.get(c as usize).copied().unwrap_or(OTHER);
        if class == DIGIT {
            self.run += 1;
            self.gap = 0;
            self.longest = self.longest.max(self.run);
        } else if class == UNIT {
            self.run = 0; // never bridged
        } else {
            self.gap += 1;
            if self.gap > MAX_GAP {
                self.run = 0;
            }
        }
    }
}

/// Every run of digits in `text` (by characters), in order.
pub fn digit_runs(text: &str) -> Vec<DigitRun> {
    let chars: Vec<char> = text.chars().collect();
    // each character's digit: a soft one (要 for 幺) only beside a digit
    let hard: Vec<Option<char>> = chars.iter().map(|&c| digit_of(c)).collect();
    let digit: Vec<Option<char>> = (0..chars.len())
        .map(|i| {
            hard[i].or_else(|| {
                let beside = (i > 0 && hard[i - 1].is_some()) || hard.get(i + 1).is_some_and(Option::is_some);
                (is_soft_one(chars[i]) && beside).then_some('1')
            })
        })
        .collect();
    let mut runs: Vec<DigitRun> = Vec::new();
    let mut current: Vec<DigitGroup> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit[i].is_none() && current.is_empty() {
            i += 1; // no run open: nothing to bridge
            continue;
        }
        if digit[i].is_none() {
            // a short gap (separators, a garbled digit or two) keeps the run open
            let mut j = i;
            let mut garbled = 0;
            while j < chars.len() && digit[j].is_none() && j - i < MAX_GAP {
                if !is_separator(chars[j]) {
                    if is_unit(chars[j]) || garbled == MAX_GARBLED {
                        break;
                    }
                    garbled += 1;
                }
                j += 1;
            }
            let bridged = digit.get(j).is_some_and(Option::is_some) && j > i;
            if !bridged {
                runs.push(DigitRun {
                    groups: std::mem::take(&mut current),
                });
                i += 1;
            } else {
                i = j;
            }
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while let Some(Some(d)) = digit.get(i) {
            digits.push(*d);
            i += 1;
        }
        let span = &chars[start..i];
        let numeral_head = span.iter().take_while(|&&c| !is_arabic(c)).count();
        let numeral_tail = if numeral_head == span.len() {
            0
        } else {
            span.iter().rev().take_while(|&&c| !is_arabic(c)).count()
        };
        current.push(DigitGroup {
            digits,
            start,
            end: i,
            numeral_head,
            numeral_tail,
        });
    }
    if !current.is_empty() {
        runs.push(DigitRun { groups: current });
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_read_out_come_back_as_digits() {
        for (text, want) in [
            ("我的手机号是13812345678", vec!["13812345678"]),
            ("一三八 一二三四 五六七八", vec!["13812345678"]),
            ("幺三八，幺二三四，五六七八。", vec!["13812345678"]),
            ("１３８-１２３４-５６７８", vec!["13812345678"]),
            ("138一二三四5678", vec!["13812345678"]),
            ("两点到三点", vec!["2", "3"]),
            ("2026年11月20日", vec!["2026", "11", "20"]),
            ("一百二十元", vec!["1", "2"]),
            ("没有数字", vec![]),
        ] {
            let got: Vec<String> = digit_runs(text).iter().map(DigitRun::digits).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn groups_know_where_they_are_and_which_ends_are_words() {
        let runs = digit_runs("第一138 1234两个");
        assert_eq!(runs.len(), 1);
        let g = &runs[0].groups;
        assert_eq!((g[0].digits.as_str(), g[0].start, g[0].end), ("1138", 1, 5));
        assert_eq!((g[0].numeral_head, g[0].numeral_tail), (1, 0));
        assert_eq!((g[1].digits.as_str(), g[1].start, g[1].end), ("12342", 6, 11));
        assert_eq!((g[1].numeral_head, g[1].numeral_tail), (0, 1));
        assert_eq!(runs[0].digits(), "113812342");
    }

    /// One digit as whisper might write it.
    fn spoken(d: u8, style: u8) -> String {
        let arabic = char::from(b'0' + d);
        let full = char::from_u32('０' as u32 + u32::from(d)).unwrap();
        let chinese: &[char] = match d {
            0 => &['零', '〇'],
            1 => &['一', '幺'],
            2 => &['二', '两'],
            _ => &[],
        };
        let plain = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'][usize::from(d)];
        match style % 4 {
            0 => arabic.to_string(),
            1 => full.to_string(),
            2 => plain.to_string(),
            _ => chinese
                .get(usize::from(style / 4) % 2)
                .copied()
                .unwrap_or(plain)
                .to_string(),
        }
    }

    proptest! {
        #[test]
        fn any_digit_string_written_any_way_normalises_back(
            digits in proptest::collection::vec(0u8..10, 1..24),
            styles in proptest::collection::vec(0u8..8, 24),
            gaps in proptest::collection::vec(0usize..12, 24),
        ) {
            const SEPARATORS: &[&str] = &[" ", "，", "-", ", ", "、", "。", "\u{3000}"];
            let mut text = String::from("号码是");
            for (i, &d) in digits.iter().enumerate() {
                text.push_str(&spoken(d, styles[i]));
                if i + 1 < digits.len() {
                    if let Some(sep) = SEPARATORS.get(gaps[i]) {
                        text.push_str(sep);
                    }
                }
            }
            text.push_str("，对吧");
            let runs = digit_runs(&text);
            let want: String = digits.iter().map(|&d| char::from(b'0' + d)).collect();
            prop_assert_eq!(runs.len(), 1, "{}", text);
            prop_assert_eq!(runs[0].digits(), want, "{}", text);
        }
    }
}
