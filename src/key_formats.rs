//! The key formats of `key-formats.md`, in one table: `validate` checks a whole value against a
//! format's shapes, `scan` looks for the same shapes inside file contents.
//!
//! Character classes are spelled out: `\w` is Unicode in `regex`.

use std::sync::OnceLock;

use regex::Regex;

/// One key format.
pub struct KeyFormat {
    /// The rule id shown by `scan` (`anthropic-api-key`).
    pub id: &'static str,
    /// What it finds, for people (`an Anthropic API key`).
    pub what: &'static str,
    /// The prefixes every value of this kind starts with.
    pub prefixes: &'static [&'static str],
    /// The usual shapes, as regular expressions without anchors.
    pub shapes: &'static [&'static str],
    whole: OnceLock<Regex>,
}

impl KeyFormat {
    const fn new(
        id: &'static str,
        what: &'static str,
        prefixes: &'static [&'static str],
        shapes: &'static [&'static str],
    ) -> Self {
        Self {
            id,
            what,
            prefixes,
            shapes,
            whole: OnceLock::new(),
        }
    }

    /// Whether `value` starts with one of the prefixes.
    #[must_use]
    pub fn has_prefix(&self, value: &str) -> bool {
        self.prefixes.iter().any(|p| value.starts_with(p))
    }

    /// Whether the whole of `value` has one of the usual shapes.
    ///
    /// # Panics
    /// If a built-in shape is not a regular expression (a test checks that they all are).
    pub fn fits(&self, value: &str) -> bool {
        self.whole
            .get_or_init(|| Regex::new(&format!("^(?:{})$", self.alternation())).expect("shape"))
            .is_match(value)
    }

    /// The shapes as one unanchored alternation, to look for inside text.
    #[must_use]
    pub fn alternation(&self) -> String {
        self.shapes
            .iter()
            .map(|s| format!("(?:{s})"))
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// Anthropic API, admin and OAuth keys (gitleaks anthropic-api-key, anthropic-admin-api-key).
pub static ANTHROPIC: KeyFormat = KeyFormat::new(
    "anthropic-api-key",
    "an Anthropic API key",
    &["sk-ant-"],
    &[
        r"sk-ant-api03-[A-Za-z0-9_-]{93}AA",
        r"sk-ant-(?:admin01|oat01|ort01)-[A-Za-z0-9_-]{20,}",
    ],
);

/// `OpenAI` legacy, project, service-account and admin keys (gitleaks openai-api-key).
pub static OPENAI: KeyFormat = KeyFormat::new(
    "openai-api-key",
    "an OpenAI API key",
    &["sk-"],
    &[
        r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]+T3BlbkFJ[A-Za-z0-9_-]+",
    ],
);

/// Google API keys, as Gemini uses (gitleaks gcp-api-key).
pub static GEMINI: KeyFormat = KeyFormat::new(
    "gemini-api-key",
    "a Google API key",
    &["AIza"],
    &[r"AIza[A-Za-z0-9_-]{35}"],
);

/// GitHub tokens (gitleaks github rules).
pub static GITHUB: KeyFormat = KeyFormat::new(
    "github-token",
    "a GitHub token",
    &["ghp_", "github_pat_", "gho_", "ghs_", "ghu_", "ghr_"],
    &[
        r"(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36}",
        r"github_pat_[A-Za-z0-9_]{22,}",
    ],
);

/// Agent keys (`moltbook_*`), from the seed playbook.
pub static MOLTBOOK: KeyFormat = KeyFormat::new(
    "moltbook-agent-key",
    "a moltbook agent key",
    &["moltbook_sk_"],
    &[r"moltbook_sk_[A-Za-z0-9_-]{16,}"],
);

/// PostgreSQL URLs with a password in them.
pub static POSTGRES_PASSWORD: KeyFormat = KeyFormat::new(
    "postgres-password",
    "a PostgreSQL URL with a password",
    &["postgres://", "postgresql://"],
    &[r"postgres(?:ql)?://[^\s:@/'\x22]+:[^\s@/'\x22]+@[^\s/'\x22]+"],
);

/// Every format `scan` looks for.
pub static ALL: [&KeyFormat; 6] = [
    &ANTHROPIC,
    &OPENAI,
    &GEMINI,
    &GITHUB,
    &MOLTBOOK,
    &POSTGRES_PASSWORD,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_compiles_and_fits_an_example() {
        for f in ALL {
            assert!(Regex::new(&f.alternation()).is_ok(), "{}", f.id);
        }
        let api03 = format!("sk-ant-api03-{}AA", "a".repeat(93));
        assert!(ANTHROPIC.fits(&api03) && ANTHROPIC.has_prefix(&api03));
        assert!(!ANTHROPIC.fits(&format!("{api03} ")), "the whole value");
        assert!(GEMINI.fits(&format!("AIza{}", "B".repeat(35))));
        assert!(GITHUB.has_prefix("github_pat_x") && !GITHUB.fits("ghp_short"));
    }
}
