//! Validation findings: a stable code, a severity, the key, where it was found, and a fix.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::source::Source;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported; fails only in strict mode.
    #[serde(alias = "warn")]
    Warning,
    /// Upstream refuses to boot on it ([`Finding::refuses_boot`]: fails in every mode), or the
    /// value certainly cannot work (fails unless the profile's mode is `warn` or `skip`).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// How strictly a profile is validated (`profile.yaml` `secrets.validation`, or the manifest).
///
/// No mode turns what upstream refuses to boot on into a pass: such a finding
/// ([`Finding::refuses_boot`]) fails in every mode, as upstream returns its load error in every
/// mode. A mode only decides about the tool's own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Errors and warnings both fail.
    Strict,
    /// Errors fail, warnings are reported (the default for profiles that are not protected).
    Default,
    /// The tool's own errors are reported as warnings; only what upstream refuses fails.
    Warn,
    /// Only upstream's own checks run (and fail); the tool's advice is not given.
    Skip,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Strict => "strict",
            Mode::Default => "default",
            Mode::Warn => "warn",
            Mode::Skip => "skip",
        })
    }
}

/// The code of the advisory for a secrets file that group or others can read or write.
pub const FILE_PERMISSIONS: &str = "file-permissions";
/// The code of the advisory for a secrets file that git tracks (its values are in the repository).
pub const SECRETS_TRACKED: &str = "secrets-tracked";
/// The code of the advisory for a key that is not snake_case (legal upstream).
pub const KEY_NAME: &str = "key-not-snake-case";
/// The code of the advisory for a key of the other generation (`jwt_secret` on 0.11 and later).
pub const UNREAD_KEY: &str = "unread-key";
/// The code of the advice that a later systemprompt release requires a key this file lacks, when
/// Cargo.lock names no systemprompt version.
pub const LATER_BOOT_KEY: &str = "later-boot-key";
/// The code of the note that the app reads a profile's secrets elsewhere (`secrets.source`).
pub const SECRETS_SOURCE: &str = "secrets-source";
/// The code of the error for a key the app reads from another Vault document that lacks it.
pub const VAULT_KEY_UNSERVED: &str = "vault-key-unserved";
/// Every advice code: shown in every mode, failing none, and what a manifest's `allow` may turn off.
pub const ADVISORY: &[&str] = &[
    FILE_PERMISSIONS,
    SECRETS_TRACKED,
    KEY_NAME,
    UNREAD_KEY,
    LATER_BOOT_KEY,
    SECRETS_SOURCE,
];

impl Mode {
    /// Whether a finding of this severity fails validation in this mode.
    #[must_use]
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            Mode::Strict => true,
            Mode::Default => severity == Severity::Error,
            Mode::Warn | Mode::Skip => false,
        }
    }

    /// Whether this finding fails validation in this mode. What upstream refuses to boot on fails
    /// in every mode. Advisories (a secrets file readable by others) are reported but never fail:
    /// they are about the file, not the values, and `doctor --fix` repairs them.
    #[must_use]
    pub fn fails_on(self, finding: &Finding) -> bool {
        finding.refuses_boot || (!finding.is_advisory() && self.fails(finding.severity))
    }
}

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Location {
    /// A definition of the key in one of the layers.
    Source(Source),
    /// A file with an optional line and column (a secrets file that failed to parse, a manifest).
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: Option<usize>,
        /// 1-based column.
        column: Option<usize>,
    },
}

impl Location {
    /// The file, if this location is in one.
    #[must_use]
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Location::Source(s) => s.path(),
            Location::File { path, .. } => Some(path),
        }
    }

    /// The 1-based line, if known.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Location::Source(s) => s.line(),
            Location::File { line, .. } => *line,
        }
    }

    /// The layer this location is in, highest first (the environment, dotenv files, the
    /// secrets file or a file named by itself, the keyring).
    #[must_use]
    pub fn layer_rank(&self) -> u8 {
        match self {
            Location::Source(
                crate::source::Source::Env { .. } | crate::source::Source::Given { .. },
            ) => 0,
            Location::Source(crate::source::Source::DotEnv { .. }) => 1,
            Location::Source(crate::source::Source::SecretsFile { .. }) | Location::File { .. } => {
                2
            }
            Location::Source(
                crate::source::Source::Keyring { .. } | crate::source::Source::Remote { .. },
            ) => 3,
        }
    }

    /// The 1-based column, if known.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        match self {
            Location::Source(_) => None,
            Location::File { column, .. } => *column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Source(s) => s.fmt(f),
            Location::File { path, line, column } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                    if let Some(column) = column {
                        write!(f, ":{column}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// One problem with a profile's secrets. **Never holds the value or any part of it.**
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code, e.g. `jwt-secret-too-short`.
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// The key concerned, if any.
    pub key: Option<String>,
    /// Where it was found.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The systemprompt version this project uses refuses to load or boot on it: it fails in every
    /// validation mode.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refuses_boot: bool,
}

impl Finding {
    /// A new finding without a location.
    pub fn new(
        code: impl Into<String>,
        severity: Severity,
        key: Option<&str>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            severity,
            key: key.map(str::to_owned),
            location: None,
            message: message.into(),
            hint: hint.into(),
            refuses_boot: false,
        }
    }

    /// Marks it as a refusal of upstream's: an error that fails in every mode.
    #[must_use]
    pub fn boot_refusal(mut self) -> Self {
        self.severity = Severity::Error;
        self.refuses_boot = true;
        self
    }

    /// Sets the location.
    #[must_use]
    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    /// The severity shown for a profile in `mode`: in warn mode only upstream's refusals fail, so
    /// the tool's own errors are shown as warnings.
    #[must_use]
    pub fn shown_severity(&self, mode: Mode) -> Severity {
        if mode == Mode::Warn && !self.refuses_boot {
            Severity::Warning
        } else {
            self.severity
        }
    }

    /// Whether this finding is advice about a file rather than a problem with a value: it is
    /// shown, but fails no mode (see [`Mode::fails_on`]).
    #[must_use]
    pub fn is_advisory(&self) -> bool {
        ADVISORY.contains(&self.code.as_str())
    }
}
