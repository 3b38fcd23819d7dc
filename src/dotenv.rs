//! Reading dotenv files with `dotenvy`'s iterator, without touching the process environment.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// One variable of a dotenv file.
#[derive(Debug)]
pub struct DotEnvEntry {
    /// The variable name as written, e.g. `ANTHROPIC_API_KEY`.
    pub var: String,
    /// The value.
    pub value: SecretString,
    /// The 1-based line where the variable is defined, when it can be found.
    pub line: Option<usize>,
}

/// Why a dotenv file could not be read. Never contains a value or a line's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DotEnvError {
    /// The file could not be read.
    #[error("cannot read {}: {source}\n    help: check that the file exists and that you may read it", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `NAME=value`.
    #[error("{}:{line}: this line is not a valid `NAME=value` assignment\n    help: quote values that contain spaces or `#`, and use `NAME=value` with no spaces around `=`", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
    },
    /// The file is not UTF-8.
    #[error("{}:{line}: the file is not valid UTF-8\n    help: save the file as UTF-8", path.display())]
    Utf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the first bad byte.
        line: usize,
    },
}

/// Reads every variable of a dotenv file, in order. `${VAR}` substitution reads, never writes, the environment.
pub fn read(path: &Path) -> Result<Vec<DotEnvEntry>, DotEnvError> {
    let bytes = std::fs::read(path).map_err(|source| DotEnvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        DotEnvError::Utf8 {
            path: path.to_path_buf(),
            line: good.split(|b| *b == b'\n').count(),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut entries = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((var, value)) => {
                let line = definition_line(text, &var);
                entries.push(DotEnvEntry {
                    var,
                    value: SecretString::from(value),
                    line,
                });
            }
            Err(dotenvy::Error::LineParse(bad, _)) => {
                let line = text
                    .find(bad.as_str())
                    .map_or(1, |at| text[..at].matches('\n').count() + 1);
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

/// The last line that assigns `var` (the one that wins, as in dotenvy).
fn definition_line(text: &str, var: &str) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").map_or(l, str::trim_start);
            l.strip_prefix(var)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .last()
        .map(|(i, _)| i + 1)
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
}
