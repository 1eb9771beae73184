//! Recipe configuration text: one `key: value` setting per line (devices.md C).

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Serialize;

/// A recipe configuration: settings kept in key order, each key once.
///
/// Key order compares the dotted segments of two keys one by one; a segment of digits (a list
/// index) sorts before a word and by its number, so `route.ipv4.2` comes before
/// `route.ipv4.10`, and words sort by their bytes. devices.md C finds no evidence that line
/// order matters to the device; a fixed order makes rendering deterministic and lets two
/// revisions be compared line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    lines: Vec<(String, String)>,
}

/// Why recipe text could not be read; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("line {line}: expected `key: value`")]
    MissingColon { line: usize },
    #[error("line {line}: {key:?} is not a recipe key (dotted words of a-z, 0-9 and '-')")]
    BadKey { line: usize, key: String },
    #[error("line {line}: the value is missing (an empty value is written \"\")")]
    MissingValue { line: usize },
    #[error("line {line}: the value's quotes or backslash escapes are malformed")]
    BadQuoting { line: usize },
    #[error("line {line}: the value holds a control character")]
    ControlCharacter { line: usize },
    #[error("line {line}: {key} is set twice")]
    DuplicateKey { line: usize, key: String },
}

/// One difference between two recipes, as [`diff`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum DiffLine {
    Added {
        key: String,
        value: String,
    },
    Removed {
        key: String,
        value: String,
    },
    Changed {
        key: String,
        old: String,
        new: String,
    },
}

impl Recipe {
    /// A recipe of these settings, put in key order. Keys must be distinct and values free of
    /// control characters; rendering guarantees both.
    pub(super) fn new(mut lines: Vec<(String, String)>) -> Self {
        lines.sort_by(|a, b| key_order(&a.0, &b.0));
        debug_assert!(lines.windows(2).all(|w| w[0].0 != w[1].0), "{lines:?}");
        Self { lines }
    }

    /// The settings, in key order.
    pub fn lines(&self) -> &[(String, String)] {
        &self.lines
    }

    /// The value of one key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines
            .binary_search_by(|(k, _)| key_order(k, key))
            .ok()
            .map(|i| self.lines[i].1.as_str())
    }

    /// Writes the recipe as text: `key: value` lines in key order, each ending in a newline.
    ///
    /// As seil2recipe writes values (devices.md C): an empty value is `""`, and a value holding
    /// whitespace, `'`, `"` or `\` is put in double quotes with `"` and `\` escaped by a
    /// backslash. Quoting on any whitespace rather than only on a space keeps values such as a
    /// trailing full-width space intact through [`Recipe::from_text`].
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for (key, value) in &self.lines {
            let _ = writeln!(text, "{key}: {}", quote(value));
        }
        text
    }

    /// Reads recipe text.
    ///
    /// Lines end in LF or CRLF (devices.md C, `smf-line.txt`). Blank lines are skipped, and so
    /// are lines starting with `#`: the format documents no comments, but no key can start with
    /// `#`, and IIJ's own examples annotate lines that way. Spaces and tabs around the colon are
    /// ignored, as the official samples align with them. A value is bare, or in double quotes
    /// with `\"` and `\\` as the only escapes.
    ///
    /// # Errors
    /// The first line that is not a setting, has a bad key or value, or repeats a key.
    pub fn from_text(text: &str) -> Result<Self, ParseError> {
        let mut lines = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = trim(raw);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (key, value) = trimmed
                .split_once(':')
                .ok_or(ParseError::MissingColon { line })?;
            let key = trim(key);
            if !is_key(key) {
                return Err(ParseError::BadKey {
                    line,
                    key: key.to_owned(),
                });
            }
            let value = unquote(trim(value), line)?;
            if value.chars().any(char::is_control) {
                return Err(ParseError::ControlCharacter { line });
            }
            lines.push((line, key.to_owned(), value));
        }
        lines.sort_by(|a, b| key_order(&a.1, &b.1).then(a.0.cmp(&b.0)));
        if let Some(w) = lines.windows(2).find(|w| w[0].1 == w[1].1) {
            return Err(ParseError::DuplicateKey {
                line: w[1].0,
                key: w[1].1.clone(),
            });
        }
        Ok(Self {
            lines: lines.into_iter().map(|(_, k, v)| (k, v)).collect(),
        })
    }
}

/// What changed from recipe `a` to recipe `b`, in key order: keys only in `b` are added, keys
/// only in `a` removed, keys in both with different values changed.
pub fn diff(a: &Recipe, b: &Recipe) -> Vec<DiffLine> {
    let (mut a, mut b) = (a.lines.iter().peekable(), b.lines.iter().peekable());
    let mut out = Vec::new();
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return out,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => key_order(ka, kb),
        };
        out.extend(match order {
            Ordering::Less => a.next().map(|(key, value)| DiffLine::Removed {
                key: key.clone(),
                value: value.clone(),
            }),
            Ordering::Greater => b.next().map(|(key, value)| DiffLine::Added {
                key: key.clone(),
                value: value.clone(),
            }),
            Ordering::Equal => a
                .next()
                .zip(b.next())
                .filter(|((_, old), (_, new))| old != new)
                .map(|((key, old), (_, new))| DiffLine::Changed {
                    key: key.clone(),
                    old: old.clone(),
                    new: new.clone(),
                }),
        });
    }
}

/// The key order described on [`Recipe`].
fn key_order(a: &str, b: &str) -> Ordering {
    fn rank(segment: &str) -> (bool, usize, &str, &str) {
        let digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
        let number = segment.trim_start_matches('0');
        if digits {
            (false, number.len(), number, segment)
        } else {
            (true, 0, segment, segment)
        }
    }
    a.split('.').map(rank).cmp(b.split('.').map(rank))
}

fn is_key(key: &str) -> bool {
    key.split('.').all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

fn quote(value: &str) -> String {
    let special = |c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '\\');
    if !value.is_empty() && !value.contains(special) {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

fn unquote(value: &str, line: usize) -> Result<String, ParseError> {
    let Some(inner) = value.strip_prefix('"') else {
        return match value {
            "" => Err(ParseError::MissingValue { line }),
            v if v.contains(['"', '\\']) => Err(ParseError::BadQuoting { line }),
            v => Ok(v.to_owned()),
        };
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.as_str().is_empty() => return Ok(out),
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err(ParseError::BadQuoting { line }),
            },
            '"' => return Err(ParseError::BadQuoting { line }),
            c => out.push(c),
        }
    }
    Err(ParseError::BadQuoting { line })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(lines: &[(&str, &str)]) -> Recipe {
        Recipe::new(
            lines
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn keys_sort_by_segment_with_numeric_indexes() {
        let r = recipe(&[
            ("route.ipv4.10.gateway", "b"),
            ("route.ipv4.2.gateway", "a"),
            ("route.ipv4.10.destination", "c"),
            ("resolver.service", "enable"),
            ("dhcp.server.service", "enable"),
            ("dhcp.server.0.interface", "ge1"),
        ]);
        let keys: Vec<_> = r.lines().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "dhcp.server.0.interface",
                "dhcp.server.service",
                "resolver.service",
                "route.ipv4.2.gateway",
                "route.ipv4.10.destination",
                "route.ipv4.10.gateway",
            ]
        );
        assert_eq!(r.get("route.ipv4.10.gateway"), Some("b"));
        assert_eq!(r.get("route.ipv4.3.gateway"), None);
    }

    #[test]
    fn values_are_quoted_as_seil2recipe_does() {
        // The example of devices.md C: hostname <'" \> is written "<'\" \\>".
        let r = recipe(&[
            ("hostname", r#"<'" \>"#),
            ("a", ""),
            ("b", "パスワード"),
            ("c", "x\u{3000}"),
        ]);
        assert_eq!(
            r.to_text(),
            "a: \"\"\nb: パスワード\nc: \"x\u{3000}\"\nhostname: \"<'\\\" \\\\>\"\n"
        );
        assert_eq!(Recipe::from_text(&r.to_text()), Ok(r));
    }

    #[test]
    fn reads_aligned_samples_comments_and_crlf() {
        let text = "# sample\r\n\r\ninterface.pppoe0.id        : ${pppoe0_id}\r\n\
                    route.ipv4.0.gateway :pppoe0\n  hostname: \"a b\"  \n";
        let r = Recipe::from_text(text).unwrap();
        assert_eq!(
            r,
            recipe(&[
                ("interface.pppoe0.id", "${pppoe0_id}"),
                ("route.ipv4.0.gateway", "pppoe0"),
                ("hostname", "a b"),
            ])
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        use ParseError::*;
        let cases = [
            ("ok: 1\nno colon here", MissingColon { line: 2 }),
            (
                "Interface.ge1: x",
                BadKey {
                    line: 1,
                    key: "Interface.ge1".into(),
                },
            ),
            (
                "a..b: x",
                BadKey {
                    line: 1,
                    key: "a..b".into(),
                },
            ),
            ("a:", MissingValue { line: 1 }),
            ("a: \"open", BadQuoting { line: 1 }),
            ("a: \"x\" y", BadQuoting { line: 1 }),
            ("a: \"\\n\"", BadQuoting { line: 1 }),
            ("a: x\"y", BadQuoting { line: 1 }),
            ("a: \"x\ty\"", ControlCharacter { line: 1 }),
            (
                "b: 1\na: 2\nb: 3",
                DuplicateKey {
                    line: 3,
                    key: "b".into(),
                },
            ),
        ];
        for (text, err) in cases {
            assert_eq!(Recipe::from_text(text), Err(err), "{text:?}");
        }
    }

    #[test]
    fn diff_reports_changes_in_key_order() {
        let old = recipe(&[("a", "1"), ("c", "3"), ("d.2", "x"), ("d.10", "y")]);
        let new = recipe(&[("b", "2"), ("c", "4"), ("d.10", "y"), ("e", "")]);
        let s = |v: &str| v.to_owned();
        assert_eq!(
            diff(&old, &new),
            [
                DiffLine::Removed {
                    key: s("a"),
                    value: s("1")
                },
                DiffLine::Added {
                    key: s("b"),
                    value: s("2")
                },
                DiffLine::Changed {
                    key: s("c"),
                    old: s("3"),
                    new: s("4")
                },
                DiffLine::Removed {
                    key: s("d.2"),
                    value: s("x")
                },
                DiffLine::Added {
                    key: s("e"),
                    value: s("")
                },
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
