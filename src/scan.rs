//! `scan`: finds secret values and key formats in file contents, without ever keeping a match.
//!
//! Two kinds of needle: the exact values of the project's local profiles and `.env` (matched
//! with Aho-Corasick), and the key formats of `key-formats.md` (regular expressions). A finding
//! records where and what kind — the file, line, key or rule — never the matched text.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use secrecy::{ExposeSecret, SecretString};

/// Values shorter than this are not looked for: `true`, `8080`, `local` would match everywhere.
pub const MIN_VALUE_LEN: usize = 8;

/// A value to look for, and where it came from.
pub struct Needle {
    /// The value.
    pub value: SecretString,
    /// The key (`anthropic`, `DATABASE_URL`).
    pub key: String,
    /// Where the value is defined, e.g. `profile local` or `.env`.
    pub origin: String,
}

/// Every key format of [`crate::key_formats`], compiled to look inside file contents. Those that
/// start with a fixed prefix share one multi-pattern regex (one pass over a file finds them all,
/// each match saying which format it is); the others (a keyword in any case, digits before the
/// fixed part) each keep their own, whose search starts from the fixed part they hold.
struct FormatRules {
    prefixed: regex_automata::meta::Regex,
    prefixed_formats: Vec<&'static crate::key_formats::KeyFormat>,
    others: Vec<(
        &'static crate::key_formats::KeyFormat,
        regex_automata::meta::Regex,
    )>,
}

static RULES: LazyLock<FormatRules> = LazyLock::new(|| {
    let build = |patterns: &[String]| {
        regex_automata::meta::Regex::builder()
            .syntax(regex_automata::util::syntax::Config::new().utf8(false))
            .configure(regex_automata::meta::Config::new().utf8_empty(false))
            .build_many(patterns)
            .expect("built-in key formats")
    };
    let (prefixed_formats, others): (Vec<_>, Vec<_>) =
        crate::key_formats::every().partition(|f| !f.prefixes.is_empty());
    let patterns: Vec<String> = prefixed_formats.iter().map(|f| f.alternation()).collect();
    FormatRules {
        prefixed: build(&patterns),
        prefixed_formats,
        others: others
            .into_iter()
            .map(|f| (f, build(&[f.alternation()])))
            .collect(),
    }
});

/// Passwords in documentation-style URLs that are not credentials.
const DOC_PASSWORDS: &[&str] = &[
    "password", "pass", "passwd", "pw", "pwd", "secret", "changeme", "postgres", "user", "demo",
    "test", "example", "hunter2",
];

/// What a finding matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Matched {
    /// The exact value of a key.
    Value {
        /// The key.
        key: String,
        /// Where the value is defined.
        origin: String,
    },
    /// A key format.
    Format {
        /// The rule id, e.g. `anthropic-api-key`.
        rule: String,
        /// What it finds.
        what: String,
    },
}

impl Matched {
    /// The SARIF rule id.
    #[must_use]
    pub fn rule_id(&self) -> &str {
        match self {
            Matched::Value { .. } => "secret-value",
            Matched::Format { rule, .. } => rule,
        }
    }

    /// A sentence for people, without the value.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Matched::Value { key, origin } => format!("the value of `{key}` ({origin})"),
            Matched::Format { what, rule } => format!("{what} ({rule})"),
        }
    }
}

/// One match: line and kind (the file is known to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// 1-based line.
    pub line: usize,
    /// What matched.
    pub matched: Matched,
    /// Why the hit does not count, when it is allowed.
    pub allowed: Option<String>,
}

/// A value that is not looked for, and why (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The key.
    pub key: String,
    /// Where the value is defined.
    pub origin: String,
    /// Why it is not looked for.
    pub why: &'static str,
}

/// The compiled needles.
pub struct Scanner {
    values: Option<AhoCorasick>,
    needles: Vec<Needle>,
    skipped: Vec<Skipped>,
}

/// Why a value is not worth looking for, if it is not: too short, a placeholder, or too common to
/// be a secret (a plain word such as a project name, or a number such as a port). Such values would
/// match all over a repository (`systemprompt`, `5432`) and find nothing secret.
#[must_use]
pub fn not_worth_looking_for(value: &str) -> Option<&'static str> {
    if value.len() < MIN_VALUE_LEN {
        return Some("shorter than 8 characters, so it would match by chance");
    }
    if crate::validate::is_placeholder(value) {
        return Some("a placeholder, not a real value");
    }
    if value.chars().all(|c| c.is_ascii_digit()) {
        return Some("a number (a port or an id), too common to be a secret");
    }
    if value.len() < 24 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some("a plain word (a name such as the project's), too common to be a secret");
    }
    None
}

impl Scanner {
    /// A scanner for these values (those [`not_worth_looking_for`] are dropped, and listed in
    /// [`Scanner::skipped`]) and the built-in formats.
    #[must_use]
    pub fn new(needles: Vec<Needle>) -> Self {
        let mut skipped = Vec::new();
        let mut needles: Vec<Needle> = needles
            .into_iter()
            .filter(|n| {
                let v = n.value.expose_secret().trim();
                match not_worth_looking_for(v) {
                    Some(why) => {
                        skipped.push(Skipped {
                            key: n.key.clone(),
                            origin: n.origin.clone(),
                            why,
                        });
                        false
                    }
                    None => true,
                }
            })
            .collect();
        // One needle per distinct value (the first definition names it).
        let mut seen = std::collections::HashSet::new();
        needles.retain(|n| seen.insert(n.value.expose_secret().trim().to_owned()));
        let values = (!needles.is_empty())
            .then(|| AhoCorasick::new(needles.iter().map(|n| n.value.expose_secret().trim())))
            .and_then(Result::ok);
        Self {
            values,
            needles,
            skipped,
        }
    }

    /// The values not looked for, and why.
    #[must_use]
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// How many values are looked for.
    #[must_use]
    pub fn value_count(&self) -> usize {
        self.needles.len()
    }

    /// Every hit in `content`, at most one per (line, kind).
    #[must_use]
    pub fn scan(&self, content: &[u8]) -> Vec<Hit> {
        let lines = LineIndex::new(content);
        let mut hits = Vec::new();
        if let Some(ac) = &self.values {
            for m in ac.find_overlapping_iter(content) {
                let needle = &self.needles[m.pattern().as_usize()];
                let text = needle.value.expose_secret();
                hits.push(Hit {
                    line: lines.line_of(m.start()),
                    matched: Matched::Value {
                        key: needle.key.clone(),
                        origin: needle.origin.clone(),
                    },
                    allowed: fake_marker(text.as_bytes()),
                });
            }
        }
        let prefixed = RULES
            .prefixed
            .find_iter(content)
            .map(|m| (RULES.prefixed_formats[m.pattern().as_usize()], m));
        let others = RULES
            .others
            .iter()
            .flat_map(|(f, re)| re.find_iter(content).map(move |m| (*f, m)));
        for (rule, m) in prefixed.chain(others) {
            let text = &content[m.range()];
            if preceded_by_word(content, m.start()) || !(rule.verify)(text) {
                continue;
            }
            let allowed = fake_marker(text)
                .or_else(|| crate::key_formats::documented_example(text).map(str::to_owned))
                .or_else(|| {
                    (rule.id == "postgres-password")
                        .then(|| doc_url(text))
                        .flatten()
                });
            hits.push(Hit {
                line: lines.line_of(m.start()),
                matched: Matched::Format {
                    rule: rule.id.to_owned(),
                    what: rule.what.to_owned(),
                },
                allowed,
            });
        }
        hits.sort_by(|a, b| (a.line, &a.matched).cmp(&(b.line, &b.matched)));
        hits.dedup_by(|a, b| a.line == b.line && a.matched == b.matched);
        hits
    }
}

/// The built-in allow-list: values marked as fakes by a separate word (`example-FAKE-jwt…`, as the
/// bundled demo's are; a real key that merely holds the letters `fake` is not), and values no
/// generator makes (one character repeated, or the alphabet in order, over most of their length:
/// `sk-ant-api03-AAAA…`, `ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`).
fn fake_marker(text: &[u8]) -> Option<String> {
    let marked = |w: &[u8]| {
        text.windows(w.len()).enumerate().any(|(at, x)| {
            let apart = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric());
            x.eq_ignore_ascii_case(w)
                && apart(at.checked_sub(1).and_then(|i| text.get(i)))
                && apart(text.get(at + w.len()))
        })
    };
    if marked(b"fake") || marked(b"example") {
        return Some(
            "marked as a made-up example value (the word \"fake\" or \"example\")".to_owned(),
        );
    }
    obvious_fake(text)
}

/// One character repeated, or characters in ascending order, over at least 80% of a value of 16
/// bytes or more, or a run of 16 of one character: made up by hand, never by a generator.
fn obvious_fake(text: &[u8]) -> Option<String> {
    if text.len() < 16 {
        return None;
    }
    let pairs = text.len() - 1;
    let same = text.windows(2).filter(|w| w[0] == w[1]).count();
    // The alphabet in order, in either case (`ghp_AbCdEf…` too).
    let ascending = text
        .windows(2)
        .filter(|w| w[1].to_ascii_lowercase() == w[0].to_ascii_lowercase().wrapping_add(1))
        .count();
    // A run of 16 of one character is as good as never drawn at random.
    let longest_run = text
        .chunk_by(|a, b| a == b)
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    (same.max(ascending) * 10 >= pairs * 8 || longest_run >= 16)
        .then(|| "made up by hand: one character repeated or the alphabet in order".to_owned())
}

/// Documentation URLs: a placeholder or masked password (`pw`, `<password>`,
/// `${POSTGRES_PASSWORD}`, `***`), the placeholder role `user`, a placeholder port (`host:port`),
/// a server on this machine, a documentation host, or a one-character test password.
fn doc_url(text: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(text);
    // The password as written: between the first `:` after the scheme and the last `@`.
    let written = text
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, pw)| pw.to_ascii_lowercase())
        .unwrap_or_default();
    if DOC_PASSWORDS.contains(&written.as_str())
        || crate::validate::is_placeholder(&written)
        || written.starts_with('$')
    {
        return Some("a documentation placeholder password".to_owned());
    }
    if !written.is_empty() && written.chars().all(|c| matches!(c, '*' | 'x' | '•' | '.')) {
        return Some("a masked password (`***`)".to_owned());
    }
    // PostgreSQL reserves `user`: a role of that name must be quoted everywhere, so a URL that
    // logs in as `user` is the documentation's placeholder.
    let user = text
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(user, _)| user);
    if user.is_some_and(|u| u.eq_ignore_ascii_case("user")) {
        return Some("a documentation URL (PostgreSQL reserves the role name `user`)".to_owned());
    }
    let Ok(url) = url::Url::parse(&text) else {
        let port = text
            .rsplit_once('@')
            .and_then(|(_, host)| host.split(['/', '?']).next())
            .and_then(|host| host.rsplit_once(':'))
            .map(|(_, port)| port);
        return port
            .filter(|p| !p.is_empty() && !p.chars().all(|c| c.is_ascii_digit()))
            .map(|_| "a documentation URL (its port is a word, such as `host:port`)".to_owned());
    };
    match url.host_str() {
        Some("localhost" | "127.0.0.1" | "[::1]" | "db" | "postgres") => {
            Some("a local development database".to_owned())
        }
        Some(host) if documentation_host(host) => {
            Some("a documentation host (RFC 2606 or RFC 5737)".to_owned())
        }
        _ if written.chars().count() == 1 => {
            Some("a one-character password, as tests write them".to_owned())
        }
        _ => None,
    }
}

/// A host reserved for documentation: the `.example`, `.test`, `.invalid` and `.localhost` names
/// and `example.com/net/org` (RFC 2606), the TEST-NET addresses (RFC 5737), and the words `host`
/// and `hostname` that stand for one.
fn documentation_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let tld = host.rsplit('.').next().unwrap_or_default();
    matches!(host.as_str(), "host" | "hostname")
        || matches!(tld, "example" | "test" | "invalid" | "localhost")
        || ["example.com", "example.net", "example.org"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || ["192.0.2.", "198.51.100.", "203.0.113."]
            .iter()
            .any(|net| host.starts_with(net))
}

fn preceded_by_word(content: &[u8], start: usize) -> bool {
    start > 0
        && content
            .get(start - 1)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Whether `content` looks binary (a NUL in the first 8 KiB), as git decides.
#[must_use]
pub fn is_binary(content: &[u8]) -> bool {
    content.iter().take(8192).any(|b| *b == 0)
}

/// Byte offset → 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(content: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            content
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needle(key: &str, value: &str) -> Needle {
        Needle {
            value: SecretString::from(value.to_owned()),
            key: key.to_owned(),
            origin: "profile local".to_owned(),
        }
    }

    #[test]
    fn finds_values_and_formats_with_lines_never_text() {
        let s = Scanner::new(vec![
            needle("jwt_secret", "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
            needle("short", "on"),
            needle("placeholder", "your-key-here"),
        ]);
        assert_eq!(s.value_count(), 1);
        let content = b"line one\nJWT=Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\nkey = \"AIzaSyA1234567890abcdefghijklmnopqrstuv\"\n";
        let hits = s.scan(content);
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[0].line, 2);
        assert_eq!(hits[0].matched.rule_id(), "secret-value");
        assert_eq!(hits[1].line, 3);
        assert_eq!(hits[1].matched.rule_id(), "gemini-api-key");
        assert!(hits.iter().all(|h| h.allowed.is_none()));
        let text = format!("{hits:?}");
        assert!(
            !text.contains("Zq3vN8") && !text.contains("AIzaSy"),
            "{text}"
        );
    }

    /// `n` characters from `alphabet`, drawn by a fixed generator: shaped like a real key, with
    /// no run or order that the obvious-fake rule allows.
    fn drawn(alphabet: &str, n: usize, seed: u64) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                chars[usize::try_from(x >> 33).unwrap() % chars.len()]
            })
            .collect()
    }

    #[test]
    fn well_known_credential_formats_are_found_by_their_own_rule() {
        const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const HEX: &str = "0123456789abcdef";
        const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let pem_body: Vec<String> = (0..6).map(|i| drawn(B64, 64, 100 + i)).collect();
        let cases = [
            ("aws-access-key-id", format!("AKIA{}", drawn(UPPER32, 16, 1))),
            (
                "aws-secret-access-key",
                format!("aws_secret_access_key = {}", drawn(B64, 40, 2)),
            ),
            (
                "private-key",
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                    pem_body.join("\n")
                ),
            ),
            (
                // As a JSON string: a service account's key, lines joined by `\n` escapes.
                "private-key",
                format!(
                    "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"",
                    pem_body.join("\\n")
                ),
            ),
            ("azure-storage-key", format!("AccountKey={}==", drawn(B64, 86, 3))),
            ("google-oauth-client-secret", format!("GOCSPX-{}", drawn(ALNUM, 28, 4))),
            ("digitalocean-token", format!("dop_v1_{}", drawn(HEX, 64, 5))),
            ("gitlab-token", format!("glpat-{}", drawn(ALNUM, 20, 6))),
            (
                "slack-token",
                format!("xoxb-{}-{}-{}", drawn("0123456789", 12, 7), drawn("0123456789", 13, 8), drawn(ALNUM, 24, 9)),
            ),
            (
                "slack-webhook-url",
                format!("https://hooks.slack.com/services/T{}/B{}/{}", drawn(UPPER32, 8, 10), drawn(UPPER32, 10, 11), drawn(ALNUM, 24, 12)),
            ),
            ("stripe-key", format!("sk_live_{}", drawn(ALNUM, 24, 13))),
            ("stripe-webhook-secret", format!("whsec_{}", drawn(ALNUM, 32, 14))),
            (
                "sendgrid-api-key",
                format!("SG.{}.{}", drawn(ALNUM, 22, 15), drawn(ALNUM, 43, 16)),
            ),
            ("npm-token", format!("npm_{}", drawn(ALNUM, 36, 17))),
            ("pypi-token", format!("pypi-AgEIcHlwaS5vcmc{}", drawn(ALNUM, 60, 18))),
            ("huggingface-token", format!("hf_{}", drawn("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 34, 19))),
            ("groq-api-key", format!("gsk_{}", drawn(ALNUM, 52, 20))),
            ("shopify-token", format!("shpat_{}", drawn(HEX, 32, 21))),
            ("vault-token", format!("hvs.{}", drawn(ALNUM, 95, 22))),
            ("doppler-token", format!("dp.st.{}", drawn(ALNUM, 43, 23))),
            ("linear-api-key", format!("lin_api_{}", drawn(ALNUM, 40, 24))),
            (
                "notion-token",
                format!("ntn_{}{}", drawn("0123456789", 11, 25), drawn(ALNUM, 35, 26)),
            ),
            ("sentry-auth-token", format!("sntryu_{}", drawn(HEX, 64, 27))),
            (
                "telegram-bot-token",
                format!("{}:AA{}", drawn("0123456789", 10, 28), drawn(ALNUM, 33, 29)),
            ),
            (
                "age-secret-key",
                format!("AGE-SECRET-KEY-1{}", drawn("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 30)),
            ),
        ];
        let s = Scanner::new(Vec::new());
        for (rule, text) in &cases {
            let content = format!("first line\nconfig = \"{text}\"\n");
            let hits = s.scan(content.as_bytes());
            assert!(
                hits.iter()
                    .any(|h| h.matched.rule_id() == *rule && h.line == 2 && h.allowed.is_none()),
                "{rule}: {hits:?}"
            );
        }
        // Every rule of the table has a case here.
        for f in &crate::key_formats::CREDENTIALS {
            assert!(
                cases.iter().any(|(r, _)| *r == f.id),
                "{} has no case",
                f.id
            );
        }
    }

    #[test]
    fn credential_look_alikes_are_not_findings() {
        let s = Scanner::new(Vec::new());
        let quiet = |content: &str| {
            let hits = s.scan(content.as_bytes());
            assert!(
                hits.iter().all(|h| h.allowed.is_some()),
                "{content}: {hits:?}"
            );
        };
        // A PEM header alone (code that looks for keys), or a body too short to be a key.
        quiet("expr: r\"-----BEGIN RSA PRIVATE KEY-----\",\n    },\n    Pattern { expr: r\"-----BEGIN EC PRIVATE KEY-----\" }");
        quiet("let pem = \"-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----\\n\";");
        // Not base32 after the prefix (`1`, `8`, `9`, `0`), or part of a longer word.
        quiet("{\"content\":\"AKIA1234567890ABCDEF\"}");
        quiet(&format!(
            "XAKIA{}",
            drawn("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 40)
        ));
        // AWS's own documented examples are allowed, with the reason.
        let hits = s.scan(b"key AKIAIOSFODNN7EXAMPLE and\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert!(
            hits.iter().all(|h| h
                .allowed
                .as_deref()
                .is_some_and(|w| w.contains("AWS's documented example"))),
            "{hits:?}"
        );
        // The alphabet in alternating case is as made up as in one case.
        quiet("\"ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\"");
        // Masked passwords, documentation hosts, one-character test passwords.
        quiet("postgres://user:***@db.internal.company.net/app");
        quiet("postgres://app:s3cr3tLongPassw0rd@db.example.com/app");
        quiet("postgres://app:s3cr3tLongPassw0rd@192.0.2.10:5432/app");
        quiet("postgres://u:p@edited:5432/db");
        quiet("postgres://user:realpass@host/db");
        quiet("postgres://user:realpw@internal:5432/app");
        // A real-looking password on a real-looking host is still found.
        let hits = s.scan(b"postgres://app:s3cr3tLongPassw0rd@db.internal.company.net/app");
        assert!(hits.iter().any(|h| h.allowed.is_none()), "{hits:?}");
    }

    #[test]
    fn a_fake_is_a_separate_word_or_a_value_no_generator_makes() {
        assert!(fake_marker(b"example-FAKE-jwt-secret-not-for-real-use").is_some());
        assert!(fake_marker(b"sk_test_fake_123").is_some());
        // The letters inside a real-looking key are no marker.
        assert!(fake_marker(b"sk-ant-api03-q8ZfakeR2mWexampleT9bA4uHd6fGiKoLe1Ns").is_none());
        assert!(fake_marker(b"ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").is_some());
        assert!(fake_marker(format!("sk-ant-api03-{}", "A".repeat(95)).as_bytes()).is_some());
        assert!(fake_marker(b"ghp_q83vEjkP0nVZ7pXlS5yR2mWcT9bA4uHd6fGi").is_none());
        assert!(
            doc_url(b"postgres://systemprompt:demo@demo-pg-postgresql:5432/systemprompt").is_some()
        );
    }

    #[test]
    fn allows_fakes_and_documentation_urls() {
        let s = Scanner::new(Vec::new());
        let hits = s.scan(b"a: ghp_DEMOFAKEnotREAL0000000000000000000000\nb: postgres://user:password@host:5432/db\nc: postgres://app:s3cr3t-Pw@db.prod.internal/app\n");
        assert_eq!(hits.len(), 3, "{hits:?}");
        assert!(hits[0].allowed.as_deref().unwrap().contains("made up"));
        assert!(hits[1].allowed.as_deref().unwrap().contains("placeholder"));
        assert_eq!(hits[2].allowed, None);
    }

    #[test]
    fn values_too_common_to_be_secret_are_not_looked_for() {
        let s = Scanner::new(vec![
            needle("POSTGRES_PASSWORD", "systemprompt"),
            needle("PG_PORT", "54321234"),
            needle("short", "abc"),
            needle("real", "s3cr3t-Pw-9x"),
        ]);
        assert_eq!(s.value_count(), 1);
        let why: Vec<(&str, &str)> = s
            .skipped()
            .iter()
            .map(|k| (k.key.as_str(), k.why))
            .collect();
        assert!(why[0].1.contains("plain word"), "{why:?}");
        assert!(why[1].1.contains("a number"), "{why:?}");
        assert!(why[2].1.contains("shorter than 8"), "{why:?}");
        assert!(s.scan(b"systemprompt systemprompt\n").is_empty());
        assert_eq!(s.scan(b"pw=s3cr3t-Pw-9x\n").len(), 1);
    }

    /// The documentation forms in the public template are allowed, each with its reason.
    #[test]
    fn documentation_urls_are_allowed_with_the_reason() {
        let s = Scanner::new(Vec::new());
        for (line, reason) in [
            ("`postgres://user:pw@host:port/db`", "placeholder"),
            ("postgres://systemprompt:<password>@postgres.zeabur.internal:5432/systemprompt", "placeholder"),
            ("url: postgres://systemprompt:CHANGE_ME@postgres.example.com:5432/systemprompt", ""),
            ("DATABASE_URL: postgres://systemprompt:${POSTGRES_PASSWORD:-systemprompt}@postgres:5432/systemprompt", "placeholder"),
            ("value: \"postgres://systemprompt:$(POSTGRES_PASSWORD)@postgres-primary:5432/systemprompt\"", "placeholder"),
            ("postgres://app:s3cr3tPw@db-1:port/app", "port is a word"),
        ] {
            let hits = s.scan(line.as_bytes());
            assert_eq!(hits.len(), 1, "{line}: {hits:?}");
            let allowed = hits[0].allowed.as_deref().unwrap_or_else(|| panic!("{line}: not allowed"));
            assert!(allowed.contains(reason), "{line}: {allowed}");
        }
        let hits = s.scan(b"postgres://app:s3cr3tPw@db.prod.internal:5432/app");
        assert_eq!(hits[0].allowed, None);
    }

    #[test]
    fn lines_and_binary() {
        let idx = LineIndex::new(b"a\nb\nc");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(4), 3);
        assert!(is_binary(b"\0abc"));
        assert!(!is_binary(b"abc"));
    }
}
