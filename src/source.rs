//! Where a value (or a finding) comes from: a file and line, an env variable, or the keyring.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One place a secret can be defined, from highest precedence to lowest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Source {
    /// The process environment, under this variable name.
    Env {
        /// The variable name, e.g. `ANTHROPIC_API_KEY`.
        var: String,
    },
    /// A dotenv file (`.env` at the workspace root or an `--env-file`).
    DotEnv {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the definition, when found.
        line: Option<usize>,
        /// The variable name in the file.
        var: String,
    },
    /// The profile's `secrets.json`.
    SecretsFile {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the key.
        line: Option<usize>,
    },
    /// The OS-keyring cache of this profile.
    Keyring {
        /// A description of the entry (service and account), never its content.
        entry: String,
    },
    /// A remote document the app reads (a `source: vault` profile's `secrets.vault` path).
    Remote {
        /// Where, for people (`OpenBao apps/team/app/local`).
        place: String,
    },
    /// A value given to a command (`set NAME --stdin`, a prompt, `NAME=VALUE`), for its name.
    Given {
        /// The name it was given for.
        var: String,
        /// How: `stdin`, `the prompt` or `the command line`.
        how: &'static str,
    },
}

impl Source {
    /// A short label for the layer: `env`, `.env`, `secrets.json`, `keyring`.
    #[must_use]
    pub fn layer(&self) -> &'static str {
        match self {
            Source::Env { .. } => "env",
            Source::DotEnv { .. } => "dotenv",
            Source::SecretsFile { .. } => "secrets.json",
            Source::Keyring { .. } => "keyring",
            Source::Given { .. } => "given",
            Source::Remote { .. } => "remote",
        }
    }

    /// The file this source lives in, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::DotEnv { path, .. } | Source::SecretsFile { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The 1-based line in [`Source::path`], if known.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Source::DotEnv { line, .. } | Source::SecretsFile { line, .. } => *line,
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env { var } => write!(f, "env ${var}"),
            Source::DotEnv { path, line, var } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                }
                write!(f, " ({var})")
            }
            Source::SecretsFile { path, line } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                }
                Ok(())
            }
            Source::Keyring { entry } => write!(f, "keyring ({entry})"),
            Source::Given { var, how } => write!(f, "{var} from {how}"),
            Source::Remote { place } => write!(f, "{place}"),
        }
    }
}

/// A path shown relative to `base` when it lies below it, for shorter messages.
#[must_use]
pub fn display_path(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// A path shown relative to the current directory when it lies below it. Control characters in
/// it (a line break or an escape in a file or folder name) are shown escaped, so that a name
/// cannot start a line of its own in a log (`::error::…`) or colour the terminal.
#[must_use]
pub fn rel(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    escape_controls(&display_path(path, &cwd).display().to_string())
}

/// `text` with every control character escaped (`\n`, `\u{1b}`), the rest unchanged.
#[must_use]
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
