//! Where each key of pack.toml is: its line, from the TOML parser's own spans
//! (a comment that mentions a key, or a key of the same name in another
//! section, never misleads it).

use toml::de::{DeTable, DeValue};

/// The line of every `section.key` (and every section) of a TOML document.
pub(super) struct KeyLines {
    /// (dotted section, key or "" for the section itself, byte offset)
    places: Vec<(String, String, usize)>,
    /// Byte offsets where each line starts.
    line_starts: Vec<usize>,
}

impl KeyLines {
    /// The places of `text`'s keys; a document that does not parse is its
    /// error and line.
    pub(super) fn of(text: &str) -> Result<Self, (String, Option<usize>)> {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut lines = Self {
            places: Vec::new(),
            line_starts,
        };
        let table = DeTable::parse(text).map_err(|e| {
            let line = e.span().map(|s| lines.line_at(s.start));
            (e.message().to_string(), line)
        })?;
        lines.walk("", table.get_ref());
        Ok(lines)
    }

    fn walk(&mut self, section: &str, table: &DeTable) {
        for (key, value) in table.iter() {
            let name: &str = key.get_ref().as_ref();
            match value.get_ref() {
                DeValue::Table(inner) => {
                    let dotted = if section.is_empty() {
                        name.to_string()
                    } else {
                        format!("{section}.{name}")
                    };
                    self.places.push((dotted.clone(), String::new(), key.span().start));
                    self.walk(&dotted, inner);
                }
                _ => self
                    .places
                    .push((section.to_string(), name.to_string(), key.span().start)),
            }
        }
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line_at(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset).max(1)
    }

    /// The line of `key` in `section` (dotted: `categories.greeting`), or of
    /// the section's header when `key` is None.
    pub(super) fn line(&self, section: &str, key: Option<&str>) -> Option<usize> {
        let key = key.unwrap_or("");
        self.places
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|&(_, _, offset)| self.line_at(offset))
    }

    /// The first line where a key of this name is set, in any section.
    pub(super) fn first_line_of_key(&self, key: &str) -> Option<usize> {
        self.places
            .iter()
            .filter(|(_, k, _)| k == key)
            .map(|&(_, _, offset)| self.line_at(offset))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_their_own_section() {
        let text = "name = \"x\"\n[rules]\n# greeting_within_s = 9\ngreeting_within_s = 2.0\n\n[timing]\ngreeting_within_s = 1\n[categories.greeting]\nfile = \"g.txt\"\n";
        let lines = KeyLines::of(text).unwrap();
        assert_eq!(lines.line("", Some("name")), Some(1));
        assert_eq!(lines.line("rules", Some("greeting_within_s")), Some(4));
        assert_eq!(lines.line("timing", Some("greeting_within_s")), Some(7));
        assert_eq!(lines.line("categories.greeting", None), Some(8));
        assert_eq!(lines.line("categories.greeting", Some("file")), Some(9));
        assert_eq!(lines.line("rules", Some("nothing")), None);
        assert_eq!(lines.first_line_of_key("greeting_within_s"), Some(4));
        let (message, line) = KeyLines::of("[rules]\nx = = 1\n").err().unwrap();
        assert_eq!(line, Some(2), "{message}");
    }
}
