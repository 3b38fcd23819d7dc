//! A profile's `secrets.json`: strict reading (a flat JSON object of strings, nothing else),
//! rendering in order, and (with the `cli` feature) the atomic write side.

#[cfg(feature = "cli")]
mod write;
#[cfg(feature = "cli")]
pub use write::{
    check_replaceable, lock, read_entries, set_entry, values, write_entries, Entries, WriteLock,
    LOCK_WAIT,
};

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The largest `secrets.json` accepted (1 MiB).
pub const MAX_SIZE: u64 = 1024 * 1024;
/// The longest key accepted, in bytes (a key is also an environment variable's name).
pub const MAX_KEY_LEN: usize = 256;

/// A parsed `secrets.json`.
#[derive(Debug)]
pub struct SecretsFile {
    /// The file it was read from.
    pub path: PathBuf,
    /// The entries in file order. Null and blank values are kept as `None` (absent). A key
    /// defined twice is here once, with its last value, as upstream reads it.
    pub entries: Vec<FileEntry>,
    /// What upstream reads without complaint but deserves a word (a key defined twice).
    pub warnings: Vec<FileProblem>,
}

/// One key of a `secrets.json`.
#[derive(Debug)]
pub struct FileEntry {
    /// The key, as written (snake_case is the usual spelling, but upstream accepts any).
    pub key: String,
    /// The value; `None` when the file holds `null` or a blank string.
    pub value: Option<SecretString>,
    /// The 1-based line of the key.
    pub line: usize,
    /// Whether the file holds `null` there (not a blank string): a writer keeps it so.
    pub null: bool,
}

/// Why a secrets file was rejected: one or more problems, each with a place and a fix.
#[derive(Debug, thiserror::Error)]
pub struct SecretsFileError {
    /// The file.
    pub path: PathBuf,
    /// Every problem found (at least one).
    pub problems: Vec<FileProblem>,
}

/// One reason a secrets file was rejected. Never contains a value.
#[derive(Debug, Clone)]
pub struct FileProblem {
    /// Stable kebab-case code, e.g. `duplicate-key`.
    pub code: &'static str,
    /// The key concerned, if any.
    pub key: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for SecretsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{} is not a valid secrets file ({count} problem{})",
            self.path.display(),
            if count == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}", self.path.display())?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
                if let Some(col) = p.column {
                    write!(f, ":{col}")?;
                }
            }
            write!(f, ": {} [{}]\n    help: {}", p.message, p.code, p.hint)?;
        }
        Ok(())
    }
}

impl SecretsFileError {
    fn one(path: &Path, problem: FileProblem) -> Self {
        Self {
            path: path.to_path_buf(),
            problems: vec![problem],
        }
    }
}

impl FileProblem {
    fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            code,
            key: None,
            line: None,
            column: None,
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn at(mut self, line: usize, column: Option<usize>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }

    fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

/// Reads and strictly parses a `secrets.json`.
pub fn read(path: &Path) -> Result<SecretsFile, SecretsFileError> {
    let unreadable = |e: std::io::Error| {
        SecretsFileError::one(
            path,
            FileProblem::new(
                "unreadable-file",
                format!("cannot read the file: {e}"),
                "check that the file exists and that you may read it",
            ),
        )
    };
    // The file's bytes are zeroized once parsed; the values live on only as `SecretString`s.
    let bytes = match crate::regular_file::read(path, MAX_SIZE) {
        Ok(bytes) => secrecy::zeroize::Zeroizing::new(bytes),
        Err(crate::regular_file::ReadError::Io(e)) => return Err(unreadable(e)),
        Err(crate::regular_file::ReadError::NotRegular { kind }) => {
            return Err(SecretsFileError::one(
                path,
                FileProblem::new(
                    "not-a-regular-file",
                    format!("the secrets file is {kind}, not a regular file"),
                    "point `secrets.secrets_path` (or the profile folder) at a regular file",
                ),
            ))
        }
        Err(crate::regular_file::ReadError::TooLarge { .. }) => {
            return Err(SecretsFileError::one(path, too_large(MAX_SIZE + 1)))
        }
    };
    parse(path, &bytes)
}

/// A file over [`MAX_SIZE`] (`size` bytes, when known exactly).
fn too_large(size: u64) -> FileProblem {
    FileProblem::new(
        "file-too-large",
        if size > MAX_SIZE + 1 {
            format!("the file is {size} bytes, too large; the limit is {MAX_SIZE} bytes (1 MiB)")
        } else {
            format!("the file is too large; the limit is {MAX_SIZE} bytes (1 MiB)")
        },
        "a secrets file holds a flat object of keys; check that the right file is configured, and keep large values elsewhere",
    )
}

/// The top-level keys and values, in file order.
type Pairs = Vec<(String, RawValue)>;

/// The file's text and its top-level pairs, or why it is not a JSON object at all.
fn top_level<'a>(path: &Path, bytes: &'a [u8]) -> Result<(&'a str, Pairs), SecretsFileError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(SecretsFileError::one(
            path,
            FileProblem::new(
                "byte-order-mark",
                "the file starts with a byte-order mark (U+FEFF), which systemprompt cannot parse (\"expected value at line 1 column 1\")",
                "save the file as UTF-8 without a BOM (in most editors: \"UTF-8\", not \"UTF-8 with BOM\")",
            )
            .at(1, Some(1)),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(&bytes[..e.valid_up_to()]);
        SecretsFileError::one(
            path,
            FileProblem::new(
                "invalid-utf8",
                "the file is not valid UTF-8",
                "save the file as UTF-8, without a byte-order mark",
            )
            .at(line, Some(column)),
        )
    })?;

    let top: Top = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        SecretsFileError::one(
            path,
            FileProblem::new(
                "invalid-json",
                format!("malformed JSON: {message}"),
                "fix the JSON syntax; the file must look like {\"database_url\": \"...\", \"anthropic\": \"...\"}",
            )
            .at(e.line(), Some(char_column(text, e.line(), e.column()))),
        )
    })?;
    let pairs =
        match top {
            Top::Object(pairs) => pairs,
            Top::Other(kind) => return Err(SecretsFileError::one(
                path,
                FileProblem::new(
                    "not-an-object",
                    format!("the top level is {kind}, not an object"),
                    "the file must be one flat JSON object of strings: {\"key\": \"value\", ...}",
                )
                .at(1, None),
            )),
        };
    Ok((text, pairs))
}

/// Strictly parses the bytes of a `secrets.json` (see [`read`]), as upstream reads it: a leading
/// byte-order mark is refused (upstream's JSON parser stops at it), and of a key defined twice the
/// last definition wins (with a warning).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<SecretsFile, SecretsFileError> {
    if bytes.len() as u64 > MAX_SIZE {
        return Err(SecretsFileError::one(path, too_large(bytes.len() as u64)));
    }
    let (text, pairs) = top_level(path, bytes)?;
    let lines = top_level_key_lines(text);
    let line_of = |index: usize| lines.get(index).copied().unwrap_or(1);
    // The last definition of each key is the one upstream reads: `last[i]` is the index of the
    // last definition of pair i's key.
    let last: Vec<usize> = {
        let mut at: HashMap<&str, usize> = HashMap::with_capacity(pairs.len());
        let mut twice = false;
        for (index, (key, _)) in pairs.iter().enumerate() {
            twice |= at.insert(key, index).is_some();
        }
        if twice {
            pairs.iter().map(|(key, _)| at[key.as_str()]).collect()
        } else {
            (0..pairs.len()).collect()
        }
    };
    // Keys that differ only in case need an upper-case letter somewhere.
    let mixed_case = pairs
        .iter()
        .any(|(key, _)| key.bytes().any(|b| b.is_ascii_uppercase()));
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut folded: HashMap<Cow<'_, str>, (&str, usize)> = HashMap::new();
    for (index, (key, value)) in pairs.iter().enumerate() {
        let line = line_of(index);
        let last_index = last[index];
        if last_index != index {
            warnings.push(
                FileProblem::new(
                    "duplicate-key",
                    format!(
                        "key `{}` is defined twice: on line {line} and on line {}; systemprompt reads the last one",
                        crate::source::escape_controls(key),
                        line_of(last_index)
                    ),
                    "remove the earlier definition, so that nobody edits the one that is not read",
                )
                .key(key)
                .at(line, None),
            );
            continue;
        }
        if mixed_case {
            problems.extend(case_twin(&mut folded, key, line));
        }
        problems.extend(unusable_name(key, line));
        if let RawValue::Other(kind) = value {
            problems.push(
                FileProblem::new(
                    "not-a-string",
                    format!("the value of `{key}` is {kind}, not a string"),
                    "write the value as a JSON string in double quotes, or null to leave it unset",
                )
                .key(key)
                .at(line, None),
            );
        }
    }
    if !problems.is_empty() {
        return Err(SecretsFileError {
            path: path.to_path_buf(),
            problems,
        });
    }
    let mut entries = Vec::with_capacity(pairs.len());
    for (index, (key, value)) in pairs.into_iter().enumerate() {
        if last[index] != index {
            continue;
        }
        let null = matches!(value, RawValue::Null);
        let value = match value {
            RawValue::Str(s) if !is_blank(&s) => Some(s),
            _ => None,
        };
        entries.push(FileEntry {
            line: line_of(index),
            key,
            value,
            null,
        });
    }
    Ok(SecretsFile {
        path: path.to_path_buf(),
        entries,
        warnings,
    })
}

/// A key that is empty or holds a control character (a line break, a tab, an escape): it could
/// not be an environment name, and printed raw it could forge a line of a log.
fn unusable_name(key: &str, line: usize) -> Option<FileProblem> {
    key_problem(key).map(|message| {
        FileProblem::new(
            "invalid-key-name",
            message,
            "rename it to letters, digits and underscores (such a key cannot be an environment name either)",
        )
        .at(line, None)
    })
}

/// Why `key` cannot be a key: empty, a control character (a line break, a tab, an escape), or
/// longer than [`MAX_KEY_LEN`]. The message shows the key escaped, and only its start when long.
#[must_use]
pub fn key_problem(key: &str) -> Option<String> {
    if key.len() > MAX_KEY_LEN {
        let start: String = key.chars().take(32).collect();
        return Some(format!(
            "key `{}…` is {} bytes long; a key is at most {MAX_KEY_LEN} bytes",
            crate::source::escape_controls(&start),
            key.len()
        ));
    }
    (key.is_empty() || key.chars().any(char::is_control)).then(|| {
        format!(
            "key `{}` is empty or holds a control character (a line break, a tab, an escape)",
            crate::source::escape_controls(key)
        )
    })
}

/// A key that differs from an earlier one only in case (upstream looks keys up without regard to
/// case, so which one it reads is not defined). `folded` holds the keys seen, lower-cased.
fn case_twin<'a>(
    folded: &mut HashMap<Cow<'a, str>, (&'a str, usize)>,
    key: &'a str,
    line: usize,
) -> Option<FileProblem> {
    // Most keys are lower case already: they are their own folded form, with no copy.
    let lower: Cow<'a, str> = if key.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(key.to_ascii_lowercase())
    } else {
        Cow::Borrowed(key)
    };
    match folded.get(&lower) {
        Some((other, _)) if *other == key => None,
        Some((other, first)) => Some(
            FileProblem::new(
                "case-duplicate-key",
                format!("keys `{other}` (line {first}) and `{key}` (line {line}) differ only in case"),
                "keep one of them: systemprompt looks keys up without regard to case, so which one it reads is not defined",
            )
            .key(key)
            .at(line, None),
        ),
        None => {
            folded.insert(lower, (key, line));
            None
        }
    }
}

/// Renders entries as a `secrets.json` in the given order (absent values as `""`), two-space indented.
///
/// # Panics
/// Never: serializing a string cannot fail.
#[must_use]
pub fn render(entries: &[(String, Option<SecretString>)]) -> SecretString {
    render_keeping(entries, &std::collections::BTreeSet::new())
}

/// [`render`], writing an absent value as `null` for the keys in `nulls` (those the file being
/// replaced holds as `null`) and as `""` for the others, so that an untouched entry keeps its form.
///
/// # Panics
/// Never: a string always serializes as JSON.
#[must_use]
pub fn render_keeping(
    entries: &[(String, Option<SecretString>)],
    nulls: &std::collections::BTreeSet<String>,
) -> SecretString {
    use secrecy::ExposeSecret;
    let quote = |s: &str| serde_json::to_string(s).expect("a string always serializes");
    let mut out = String::from("{\n");
    for (i, (key, value)) in entries.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&quote(key));
        out.push_str(": ");
        match value {
            None if nulls.contains(key) => out.push_str("null"),
            _ => out.push_str(&quote(value.as_ref().map_or("", |v| v.expose_secret()))),
        }
        out.push_str(if i + 1 == entries.len() { "\n" } else { ",\n" });
    }
    out.push_str("}\n");
    SecretString::from(out)
}

/// Applies `updates` to a file's entries: existing keys change in place, new keys go at the end.
/// Returns the new entries and the keys that were added.
#[must_use]
pub fn merge(
    file: Option<SecretsFile>,
    updates: Vec<(String, SecretString)>,
) -> (Vec<(String, Option<SecretString>)>, Vec<String>) {
    let mut entries: Vec<(String, Option<SecretString>)> = file
        .map(|f| f.entries.into_iter().map(|e| (e.key, e.value)).collect())
        .unwrap_or_default();
    let mut added = Vec::new();
    for (key, value) in updates {
        // Keys are looked up without regard to case, as upstream does: an update of `MAILGUN_KEY`
        // lands on the file's `MailgunKey`, keeping its spelling.
        if let Some(slot) = entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            slot.1 = Some(value);
        } else {
            added.push(key.clone());
            entries.push((key, Some(value)));
        }
    }
    (entries, added)
}

fn is_blank(s: &SecretString) -> bool {
    use secrecy::ExposeSecret;
    s.expose_secret().trim().is_empty()
}

/// 1-based line and column of the end of `prefix`.
fn line_col(prefix: &[u8]) -> (usize, usize) {
    let line = String::from_utf8_lossy(prefix).matches('\n').count() + 1;
    let line_start = prefix
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&prefix[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The 1-based character column for `serde_json`'s column, which counts bytes from the start of
/// the line and is 0 right after a newline or at the end of an empty input.
fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    let line_text = text.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    let end = byte_column.min(line_text.len());
    String::from_utf8_lossy(&line_text.as_bytes()[..end])
        .chars()
        .count()
        .max(1)
}

/// The line of each key of the top-level object, in order. Only called on valid JSON.
fn top_level_key_lines(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut expect_key) = (0usize, 1usize, false);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                if depth == 1 && expect_key {
                    out.push(line);
                    expect_key = false;
                }
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

enum Top {
    Object(Vec<(String, RawValue)>),
    Other(&'static str),
}

/// A JSON value where a secret string belongs: the string, `null`, or what else it is.
pub(crate) enum RawValue {
    Str(SecretString),
    Null,
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<RawValue>()?;
                    pairs.push((key, value));
                }
                Ok(Top::Object(pairs))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::Other("an array"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
                Ok(Top::Other("a string"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
                Ok(Top::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
                Ok(Top::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
                Ok(Top::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
                Ok(Top::Other("a number"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
                Ok(Top::Other("null"))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(SecretString::from(s)))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<RawValue, E> {
                Ok(RawValue::Str(SecretString::from(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawValue, E> {
                Ok(RawValue::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawValue::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawValue::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn parse_str(s: &str) -> Result<SecretsFile, SecretsFileError> {
        parse(Path::new("secrets.json"), s.as_bytes())
    }

    fn codes(e: &SecretsFileError) -> Vec<&'static str> {
        e.problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn reads_flat_object_with_lines() {
        let f = parse_str(
            "{\n  \"jwt_secret\": \"abc\",\n  \"openai\": null,\n  \"gemini\": \"  \"\n}",
        )
        .unwrap();
        assert_eq!(f.entries.len(), 3);
        assert_eq!(f.entries[0].key, "jwt_secret");
        assert_eq!(f.entries[0].line, 2);
        assert_eq!(f.entries[0].value.as_ref().unwrap().expose_secret(), "abc");
        assert!(f.entries[1].value.is_none());
        assert!(f.entries[2].value.is_none());
        assert_eq!(f.entries[2].line, 4);
    }

    #[test]
    fn refuses_a_bom_as_upstream_cannot_parse_it() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(b"{\"a\": \"b\"}");
        let e = parse(Path::new("s"), &bytes).unwrap_err();
        assert_eq!(codes(&e), ["byte-order-mark"]);
    }

    #[test]
    fn rejects_malformed_json_with_position() {
        let e = parse_str("{\n  \"a\": \"b\",\n  \"c\" \"d\"\n}").unwrap_err();
        assert_eq!(codes(&e), ["invalid-json"]);
        assert_eq!(e.problems[0].line, Some(3));
        assert!(e.problems[0].column.is_some());
    }

    #[test]
    fn malformed_json_columns_are_one_based_characters() {
        // Found by the `secrets_json` fuzz target: serde_json reports column 0 at the start of a
        // line (an empty file, or a file ending after a newline) and counts bytes, not characters.
        let at = |s: &str| {
            let e = parse_str(s).unwrap_err();
            assert_eq!(codes(&e), ["invalid-json"]);
            (e.problems[0].line, e.problems[0].column)
        };
        assert_eq!(at(""), (Some(1), Some(1)));
        assert_eq!(at("{\n"), (Some(2), Some(1)));
        assert_eq!(at("{\"\u{e9}\u{e9}\": x}"), (Some(1), Some(8)));
        assert_eq!(at("{\"a\": x}"), (Some(1), Some(7)));
    }

    #[test]
    fn a_duplicate_key_keeps_the_last_value_as_upstream_does_and_warns() {
        use secrecy::ExposeSecret;
        let f = parse_str("{\n\"a\": \"x\",\n\"b\": \"y\",\n\"a\": \"z\"\n}").unwrap();
        let keys: Vec<(&str, usize)> = f.entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(keys, [("b", 3), ("a", 4)]);
        assert_eq!(f.entries[1].value.as_ref().unwrap().expose_secret(), "z");
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].code, "duplicate-key");
        assert!(
            f.warnings[0].message.contains("line 2 and on line 4"),
            "{}",
            f.warnings[0].message
        );
        // The earlier definition's own problems do not count: upstream never reads it.
        assert!(parse_str("{\"a\": 1, \"a\": \"z\"}").is_ok());
    }

    #[test]
    fn reports_every_structural_problem_at_once() {
        let e = parse_str(
            "{\"Bad\": \"x\", \"n\": 1, \"o\": {\"k\": [1,2]}, \"l\": [\"v\"], \"bad\": \"y\"}",
        )
        .unwrap_err();
        assert_eq!(
            codes(&e),
            [
                "not-a-string",
                "not-a-string",
                "not-a-string",
                "case-duplicate-key"
            ]
        );
        assert!(e.problems[0].message.contains("a number"));
        assert!(
            e.problems[3]
                .message
                .contains("`Bad` (line 1) and `bad` (line 1)"),
            "{}",
            e.problems[3].message
        );
    }

    #[test]
    fn keys_that_are_not_snake_case_are_accepted_as_upstream_does() {
        let f = parse_str("{\n\"MyKey\": \"x\",\n\"OPENAI\": \"y\"\n}").unwrap();
        let keys: Vec<_> = f.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["MyKey", "OPENAI"]);
    }

    #[test]
    fn rejects_non_object_and_bad_utf8() {
        assert_eq!(codes(&parse_str("[\"a\"]").unwrap_err()), ["not-an-object"]);
        assert_eq!(codes(&parse_str("\"a\"").unwrap_err()), ["not-an-object"]);
        let e = parse(Path::new("s"), b"{\"a\":\n \"\xff\"}").unwrap_err();
        assert_eq!(codes(&e), ["invalid-utf8"]);
        assert_eq!(
            (e.problems[0].line, e.problems[0].column),
            (Some(2), Some(3))
        );
    }

    #[test]
    fn key_lines_skip_nested_and_escaped_content() {
        let text = "{\"a\": \"x\\\"{,\",\n\"b\": \"y\"}";
        assert_eq!(top_level_key_lines(text), vec![1, 2]);
    }

    #[test]
    fn render_and_merge_round_trip_in_order() {
        let f = parse_str("{\"b\": \"1\", \"a\": null}").unwrap();
        let (entries, added) = merge(
            Some(f),
            vec![
                ("a".into(), SecretString::from("x\"y")),
                ("c".into(), SecretString::from("3")),
            ],
        );
        assert_eq!(added, ["c"]);
        let text = render(&entries);
        assert_eq!(
            text.expose_secret(),
            "{\n  \"b\": \"1\",\n  \"a\": \"x\\\"y\",\n  \"c\": \"3\"\n}\n"
        );
        let back = parse(Path::new("s"), text.expose_secret().as_bytes()).unwrap();
        assert_eq!(
            back.entries[1].value.as_ref().unwrap().expose_secret(),
            "x\"y"
        );

        // An update lands on the key whatever its case, keeping the file's spelling.
        let f = parse_str("{\"MailgunKey\": \"old\"}").unwrap();
        let (entries, added) = merge(
            Some(f),
            vec![("mailgunkey".into(), SecretString::from("new"))],
        );
        assert!(added.is_empty());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "MailgunKey");
    }

    #[test]
    fn errors_never_contain_values() {
        let canary = "CANARY-9f8e7d";
        let inputs = [
            format!("{{\"a\": \"{canary}\", \"a\": 1}}"),
            format!("{{\"A\": \"{canary}\", \"a\": \"{canary}\"}}"),
            format!("{{\"a\": \"{canary}\" \"b\": 1}}"),
            format!("{{\"a\": \"{canary}"),
            format!("{{\"a\": \"{canary}\\q\"}}"),
        ];
        for input in inputs {
            let e = parse_str(&input).unwrap_err();
            assert!(!e.to_string().contains(canary), "{e}");
            assert!(!format!("{e:?}").contains(canary));
        }
        let twice = parse_str(&format!("{{\"a\": \"{canary}\", \"a\": \"{canary}\"}}")).unwrap();
        assert!(!format!("{:?}", twice.warnings).contains(canary));
    }
}
