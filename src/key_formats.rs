//! The key formats of `key-formats.md`, in one table: `validate` checks a whole value against a
//! format's shapes, `scan` looks for the same shapes inside file contents.
//!
//! Character classes are spelled out: `\w` is Unicode in `regex`. A whole value is checked with
//! `regex-lite` (compiled once per run, for one value), text is searched with `regex-automata`.

use std::sync::OnceLock;

use regex_lite::Regex;

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
    /// What a match must also satisfy that a small regular expression cannot say (a private
    /// key's body length).
    pub verify: fn(&[u8]) -> bool,
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
            verify: |_| true,
            whole: OnceLock::new(),
        }
    }

    /// The same format, with a check every match must pass.
    const fn verified(mut self, verify: fn(&[u8]) -> bool) -> Self {
        self.verify = verify;
        self
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

/// Well-known credential formats beyond the profile's own keys, for `scan`: cloud providers,
/// private keys and the tokens of common hosted services. Each is a precise pattern (a fixed
/// prefix or a fixed structure, after gitleaks' rule of the same name where it has one); nothing
/// is guessed from entropy, so a match is a credential-shaped value.
pub static CREDENTIALS: [KeyFormat; 24] = [
    KeyFormat::new(
        "aws-access-key-id",
        "an AWS access key id",
        &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
        &[r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?-u:\b)"],
    ),
    KeyFormat::new(
        "aws-secret-access-key",
        "an AWS secret access key",
        &[],
        &[r#"(?i-u:aws_?secret_?access_?key)["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}(?-u:\b)"#],
    ),
    KeyFormat::new(
        "private-key",
        "a private key (PEM)",
        &["-----BEGIN"],
        // The header, a body, and the footer; the body's lines may be split by newlines, `\n`
        // escapes, quotes and commas, as in JSON or source code. Unbounded repetition keeps the
        // automaton small; the body's length is checked after ([`pem_has_body`]).
        &[r#"-----BEGIN[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s"',:\\-]+?-----END[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----"#],
    )
    .verified(pem_has_body),
    KeyFormat::new(
        "azure-storage-key",
        "an Azure storage account key",
        &["AccountKey="],
        &[r"AccountKey=[A-Za-z0-9+/]{86}=="],
    ),
    KeyFormat::new(
        "google-oauth-client-secret",
        "a Google OAuth client secret",
        &["GOCSPX-"],
        &[r"GOCSPX-[A-Za-z0-9_-]{28}(?-u:\b)"],
    ),
    KeyFormat::new(
        "digitalocean-token",
        "a DigitalOcean token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        &[r"do[opr]_v1_[a-f0-9]{64}"],
    ),
    KeyFormat::new(
        "gitlab-token",
        "a GitLab token",
        &["glpat-", "glptt-", "gldt-"],
        &[
            r"glpat-[A-Za-z0-9_-]{20}(?-u:\b)",
            r"glptt-[a-f0-9]{40}",
            r"gldt-[A-Za-z0-9_-]{20}(?-u:\b)",
        ],
    ),
    KeyFormat::new(
        "slack-token",
        "a Slack token",
        &["xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxr-"],
        &[r"xox[bpaer]-[0-9]{10,13}-[0-9]{10,13}(?:-[0-9]{10,13})?-[A-Za-z0-9]{24,34}"],
    ),
    KeyFormat::new(
        "slack-webhook-url",
        "a Slack webhook URL",
        &["https://hooks.slack.com/"],
        &[r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}"],
    ),
    KeyFormat::new(
        "stripe-key",
        "a Stripe secret or restricted key",
        &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        &[r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{24,99}"],
    ),
    KeyFormat::new(
        "stripe-webhook-secret",
        "a Stripe webhook signing secret",
        &["whsec_"],
        &[r"whsec_[A-Za-z0-9]{32,}"],
    ),
    KeyFormat::new(
        "sendgrid-api-key",
        "a SendGrid API key",
        &["SG."],
        &[r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"],
    ),
    KeyFormat::new(
        "npm-token",
        "an npm access token",
        &["npm_"],
        &[r"npm_[A-Za-z0-9]{36}(?-u:\b)"],
    ),
    KeyFormat::new(
        "pypi-token",
        "a PyPI upload token",
        &["pypi-AgEIcHlwaS5vcmc"],
        &[r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"],
    ),
    KeyFormat::new(
        "huggingface-token",
        "a Hugging Face token",
        &["hf_"],
        &[r"hf_[A-Za-z]{34}(?-u:\b)"],
    ),
    KeyFormat::new(
        "groq-api-key",
        "a Groq API key",
        &["gsk_"],
        &[r"gsk_[A-Za-z0-9]{52}(?-u:\b)"],
    ),
    KeyFormat::new(
        "shopify-token",
        "a Shopify token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        &[r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"],
    ),
    KeyFormat::new(
        "vault-token",
        "a HashiCorp Vault or OpenBao service token",
        &["hvs.", "hvb."],
        &[
            r"hvs\.[A-Za-z0-9_-]{90,120}",
            r"hvb\.[A-Za-z0-9_-]{138,300}",
        ],
    ),
    KeyFormat::new(
        "doppler-token",
        "a Doppler token",
        &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."],
        &[r"dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,44}(?-u:\b)"],
    ),
    KeyFormat::new(
        "linear-api-key",
        "a Linear API key",
        &["lin_api_"],
        &[r"lin_api_[A-Za-z0-9]{40}(?-u:\b)"],
    ),
    KeyFormat::new(
        "notion-token",
        "a Notion integration token",
        &["ntn_"],
        &[r"ntn_[0-9]{11}[A-Za-z0-9]{35}(?-u:\b)"],
    ),
    KeyFormat::new(
        "sentry-auth-token",
        "a Sentry auth token",
        &["sntrys_", "sntryu_"],
        &[r"sntrys_[A-Za-z0-9+/=_]{60,}", r"sntryu_[a-f0-9]{64}"],
    ),
    KeyFormat::new(
        "telegram-bot-token",
        "a Telegram bot token",
        &[],
        &[r"[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?-u:\b)"],
    ),
    KeyFormat::new(
        "age-secret-key",
        "an age secret key",
        &["AGE-SECRET-KEY-1"],
        &[r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"],
    ),
];

/// Whether a PEM block holds a key: at least 64 base64 characters between its header and footer
/// (a header alone, or `abc` as tests write, is not a key).
fn pem_has_body(block: &[u8]) -> bool {
    let dashes = |from: usize| {
        block[from..]
            .windows(5)
            .position(|w| w == b"-----")
            .map(|p| p + from)
    };
    // After the header's closing dashes, up to the footer's opening ones.
    let Some(body_start) = dashes(5).map(|p| p + 5) else {
        return false;
    };
    let body_end = dashes(body_start).unwrap_or(block.len());
    let body = &block[body_start..body_end];
    // `\n` escapes: the `n` is no part of the key.
    let escapes = body
        .windows(2)
        .filter(|w| w == b"\\n" || w == b"\\r")
        .count();
    let base64 = body
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    base64.saturating_sub(escapes) >= 64
}

/// Every format `scan` looks for: the profile's key formats, then the other credentials.
pub fn every() -> impl Iterator<Item = &'static KeyFormat> {
    ALL.iter().copied().chain(CREDENTIALS.iter())
}

/// Values a vendor's own documentation prints as its example: never a credential.
pub const DOCUMENTED_EXAMPLES: &[(&str, &str)] = &[
    (
        "AKIAIOSFODNN7EXAMPLE",
        "AWS's documented example access key id",
    ),
    (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS's documented example secret access key",
    ),
];

/// Whether `text` holds a vendor's documented example value, and whose.
#[must_use]
pub fn documented_example(text: &[u8]) -> Option<&'static str> {
    DOCUMENTED_EXAMPLES
        .iter()
        .find(|(value, _)| text.windows(value.len()).any(|w| w == value.as_bytes()))
        .map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_compiles_and_fits_an_example() {
        for f in every() {
            // Both engines: `fits` uses regex-lite, `scan` regex-automata.
            assert!(Regex::new(&f.alternation()).is_ok(), "{}", f.id);
            assert!(regex::Regex::new(&f.alternation()).is_ok(), "{}", f.id);
        }
        let ids: std::collections::BTreeSet<&str> = every().map(|f| f.id).collect();
        assert_eq!(ids.len(), every().count(), "rule ids are unique");
        let api03 = format!("sk-ant-api03-{}AA", "a".repeat(93));
        assert!(ANTHROPIC.fits(&api03) && ANTHROPIC.has_prefix(&api03));
        assert!(!ANTHROPIC.fits(&format!("{api03} ")), "the whole value");
        assert!(GEMINI.fits(&format!("AIza{}", "B".repeat(35))));
        assert!(GITHUB.has_prefix("github_pat_x") && !GITHUB.fits("ghp_short"));
    }
}
