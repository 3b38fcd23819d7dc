//! Reading dotenv files with `dotenvy`'s iterator, without touching the process environment.

use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// One variable of a dotenv file.
#[derive(Debug)]
pub struct DotEnvEntry {
    /// The variable name as written, e.g. `ANTHROPIC_API_KEY`.
    pub var: String,
    /// The value.
    pub value: SecretString,
    /// The 1-based line where the variable's definition starts (always known when parsed).
    pub line: Option<usize>,
}

/// Why a dotenv file could not be read. Never contains a value or a line's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DotEnvError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `NAME=value`.
    #[error("{}:{line}: this line is not a valid `NAME=value` assignment", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
    },
    /// The file is not UTF-8.
    #[error("{}:{line}: the file is not valid UTF-8", path.display())]
    Utf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the first bad byte.
        line: usize,
    },
}

impl DotEnvError {
    /// What is wrong, without the file and line (which a finding carries apart).
    #[must_use]
    pub fn problem(&self) -> String {
        match self {
            Self::Io { source, .. } => source.to_string(),
            Self::Syntax { .. } => "this line is not a valid `NAME=value` assignment".to_owned(),
            Self::Utf8 { .. } => "the file is not valid UTF-8".to_owned(),
        }
    }

    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Io { .. } => Some("check that the file exists and that you may read it".to_owned()),
            Self::Syntax { .. } => Some("quote values that contain spaces or `#`, and use `NAME=value` with no spaces around `=`".to_owned()),
            Self::Utf8 { .. } => Some("save the file as UTF-8".to_owned()),
        }
    }
}

/// The largest dotenv file read (1 MiB, as a secrets file).
pub const MAX_SIZE: u64 = 1024 * 1024;

/// Reads every variable of a dotenv file, in order. `${VAR}` substitution reads, never writes, the environment.
pub fn read(path: &Path) -> Result<Vec<DotEnvEntry>, DotEnvError> {
    // The file's bytes are zeroized once parsed; the values live on only as `SecretString`s.
    let bytes = secrecy::zeroize::Zeroizing::new(
        crate::regular_file::read(path, MAX_SIZE).map_err(|e| DotEnvError::Io {
            path: path.to_path_buf(),
            source: match e {
                crate::regular_file::ReadError::Io(source) => source,
                other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
            },
        })?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        DotEnvError::Utf8 {
            path: path.to_path_buf(),
            line: good.split(|b| *b == b'\n').count(),
        }
    })?;
    parse(path, text)
}

/// Parses the text of a dotenv file read from `path` (see [`read`]); `path` is only used in errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<DotEnvEntry>, DotEnvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // dotenvy refuses a last line that ends in a space or a tab unless a newline follows it.
    let with_newline;
    let text = if text.is_empty() || text.ends_with('\n') {
        text
    } else {
        with_newline = secrecy::zeroize::Zeroizing::new(format!("{text}\n"));
        with_newline.as_str()
    };
    let read = Cell::new(0);
    let lines = LineReader {
        rest: text.as_bytes(),
        read: &read,
    };
    let mut entries = Vec::new();
    // The bytes of `text` that hold the entries (or skipped lines) seen so far, and the lines they
    // end: counted once each, so that reading stays linear in the file's size.
    let (mut done, mut lines_done) = (0, 0);
    for item in dotenvy::from_read_iter(lines) {
        let chunk = &text[done..read.get()];
        let line = lines_done + entry_line(chunk);
        lines_done += chunk.bytes().filter(|b| *b == b'\n').count();
        done = read.get();
        match item {
            Ok((var, value)) => entries.push(DotEnvEntry {
                var,
                value: SecretString::from(value),
                line: Some(line),
            }),
            Err(dotenvy::Error::LineParse(..)) => {
                return Err(DotEnvError::Syntax {
                    path: path.to_path_buf(),
                    line,
                });
            }
            Err(e) => {
                return Err(DotEnvError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(e.to_string()),
                })
            }
        }
    }
    Ok(entries)
}

/// Gives dotenvy's buffered reader at most one line per `read`, so that when dotenvy returns an
/// entry, the bytes read so far end where that entry ends.
struct LineReader<'a> {
    rest: &'a [u8],
    read: &'a Cell<usize>,
}

impl Read for LineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let line_end = self
            .rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(self.rest.len(), |i| i + 1);
        let n = line_end.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

/// The 1-based line, within `chunk` (the bytes dotenvy read for one entry), where the entry
/// starts: the first line that is neither blank nor a comment (dotenvy skips those).
fn entry_line(chunk: &str) -> usize {
    let skipped = chunk
        .split_inclusive('\n')
        .take_while(|l| {
            let l = l.trim_start();
            l.is_empty() || l.starts_with('#')
        })
        .count();
    skipped + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn reads_entries_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        std::fs::write(&p, "# c\nexport A=1\n\nB=\"two words\"\n").unwrap();
        let e = read(&p).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].var.as_str(), e[0].line), ("A", Some(2)));
        assert_eq!(e[1].value.expose_secret(), "two words");
        assert_eq!(e[1].line, Some(4));
    }

    #[test]
    fn syntax_errors_name_the_line_not_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        std::fs::write(&p, "A=1\nCANARY-LINE value\n").unwrap();
        let err = read(&p).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(":2:"), "{text}");
        assert!(!text.contains("CANARY"), "{text}");
    }

    fn syntax_line(text: &str) -> usize {
        match parse(Path::new(".env"), text) {
            Err(DotEnvError::Syntax { line, .. }) => line,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_name_the_first_bad_entry() {
        // Caught by the `dotenv` fuzz target's checks (spotted in dotenvy's source while writing
        // them): the line was where the bad text first appeared anywhere in the file, e.g. inside
        // an earlier line or an earlier multi-line value.
        assert_eq!(syntax_line("AB=1\nB\n"), 2);
        assert_eq!(syntax_line("A=\"\nB\n\"\nB\n"), 4);
        assert_eq!(syntax_line("A=1\n\n# c\nB=\"open\nC=2\n"), 4);
    }

    #[test]
    fn last_line_may_end_in_whitespace_without_a_newline() {
        // Caught by the `dotenv` fuzz target's checks: dotenvy refused `A=1 ` at the very end of
        // a file.
        let e = parse(Path::new(".env"), "B=2\nA=1 ").unwrap();
        assert_eq!((e[1].var.as_str(), e[1].line), ("A", Some(2)));
        assert_eq!(e[1].value.expose_secret(), "1");
    }

    #[test]
    fn definition_lines_are_where_each_entry_starts() {
        // Caught by the `dotenv` fuzz target's line check: a definition was placed on a line
        // inside another entry's multi-line value, and `export<TAB>` definitions had no line.
        let text = "A=1\nX=\"\nA=inside\n\"\nexport\tB=2\n  # c\nA=3\n";
        let e = parse(Path::new(".env"), text).unwrap();
        let lines: Vec<_> = e.iter().map(|e| (e.var.as_str(), e.line)).collect();
        assert_eq!(
            lines,
            [
                ("A", Some(1)),
                ("X", Some(2)),
                ("B", Some(5)),
                ("A", Some(7))
            ]
        );
    }
}
