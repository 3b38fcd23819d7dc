//! The validation rules of key-formats.md plus the manifest's custom rules. Findings never hold values.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use secrecy::ExposeSecret;

use crate::config::{ProfileSettings, RuleConfig};
use crate::finding::{Finding, Location, Severity};
use crate::key_formats;
use crate::keys;
use crate::layers::Resolved;
use crate::source::Source;

/// The smallest `jwt_secret` accepted.
pub const JWT_MIN_LEN: usize = 32;

const GENERATE_JWT: &str = "generate one with `openssl rand -base64 48`";

/// Values copied from docs and templates that are not real secrets (compared case-insensitively).
const PLACEHOLDERS: &[&str] = &[
    "sk-ant-...",
    "sk-...",
    "aiza...",
    "ghp_...",
    "your-key-here",
    "your_key_here",
    "your-api-key",
    "your-api-key-here",
    "your-secret-here",
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replaceme",
    "todo",
    "xxx",
    "placeholder",
    "secret",
    "password",
    "minimum-32-character-secret-key-here",
    "your-anthropic-api-key",
    "your-openai-api-key",
    "your-gemini-api-key",
    "your-github-token",
    "your-jwt-secret",
    "postgres://user:password@localhost:5432/db",
    "postgresql://user:password@localhost:5432/dbname",
];

/// Validates resolved secrets against the profile's settings. Returns every finding, sorted by key.
#[must_use]
pub fn validate(resolved: &Resolved, settings: &ProfileSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let file_location = || {
        Some(Location::File {
            path: resolved.secrets_path.clone(),
            line: None,
            column: None,
        })
    };

    for key in &settings.required {
        if resolved.get(key).is_none() {
            let (location, detail) = match resolved.blanks.get(key) {
                Some(source) => (Some(Location::Source(source.clone())), "is empty"),
                None => (file_location(), "is missing"),
            };
            let hint = match key.as_str() {
                "jwt_secret" => format!("add \"jwt_secret\" to the secrets file; {GENERATE_JWT}"),
                "database_url" => {
                    "add \"database_url\": \"postgres://user:password@host:5432/dbname\"".to_owned()
                }
                _ => format!(
                    "add \"{key}\" to the secrets file or set {}",
                    keys::env_name(key)
                ),
            };
            findings.push(
                Finding::new(
                    "missing-required-key",
                    Severity::Error,
                    Some(key),
                    format!("required key `{key}` {detail}"),
                    hint,
                )
                .at(location),
            );
        }
    }

    if settings.require_ai_provider && keys::AI_PROVIDERS.iter().all(|k| resolved.get(k).is_none())
    {
        findings.push(
            Finding::new(
                "missing-ai-provider",
                Severity::Error,
                None,
                "no AI provider key: set at least one of anthropic, openai, gemini",
                "add \"anthropic\", \"openai\" or \"gemini\" to the secrets file, or set `require-ai-provider = false` in the manifest",
            )
            .at(file_location()),
        );
    }

    for (key, resolution) in &resolved.entries {
        let def = &resolution.winner;
        let location = Some(Location::Source(def.source.clone()));
        let before = findings.len();
        check_value(
            key,
            def.value.expose_secret(),
            &def.source,
            settings.rules.get(key),
            &mut findings,
        );
        for f in &mut findings[before..] {
            f.location.clone_from(&location);
        }
    }
    findings.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.code.cmp(&b.code))
    });
    findings.extend(file_mode_findings(&resolved.files_read));
    findings
}

/// The permission bits of `path` that let group or others read or write it (`None` when none do,
/// or on platforms without Unix modes).
#[must_use]
pub fn loose_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// A warning for each file that group or others can read or write (secrets.json, dotenv files).
#[must_use]
pub fn file_mode_findings(paths: &[PathBuf]) -> Vec<Finding> {
    let cwd = std::env::current_dir().unwrap_or_default();
    paths
        .iter()
        .filter_map(|path| {
            let mode = loose_mode(path)?;
            Some(
                Finding::new(
                    crate::finding::FILE_PERMISSIONS,
                    Severity::Warning,
                    None,
                    format!(
                        "{} can be read or written by group or others (mode {mode:04o})",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    format!(
                        "run `chmod 600 {}` or `cargo systemprompt-secrets doctor --fix`",
                        crate::source::display_path(path, &cwd).display()
                    ),
                )
                .at(Some(Location::File {
                    path: path.clone(),
                    line: None,
                    column: None,
                })),
            )
        })
        .collect()
}

/// The findings for one value of `key` from `source` (for values given on a command line).
#[must_use]
pub fn validate_value(
    key: &str,
    value: &str,
    source: &Source,
    rule: Option<&RuleConfig>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    check_value(key, value, source, rule, &mut out);
    for f in &mut out {
        f.location = Some(Location::Source(source.clone()));
    }
    out
}

/// Checks one value. Pushes findings without location; the caller sets it.
fn check_value(
    key: &str,
    value: &str,
    source: &Source,
    rule: Option<&RuleConfig>,
    out: &mut Vec<Finding>,
) {
    let mut push = |code: &str, severity: Severity, message: String, hint: String| {
        out.push(Finding::new(code, severity, Some(key), message, hint));
    };
    let what = match source {
        Source::Env { var } => format!("${var}"),
        _ => format!("`{key}`"),
    };

    if value.contains('\n') || value.contains('\r') {
        push(
            "embedded-newline",
            Severity::Error,
            format!("{what} contains a line break"),
            "a key is one line: paste it again without the line break".to_owned(),
        );
    }
    if value.trim() != value {
        push(
            "surrounding-whitespace",
            Severity::Error,
            format!("{what} starts or ends with whitespace"),
            "remove the spaces or tabs around the value (a copy-and-paste slip)".to_owned(),
        );
    }
    let value = value.trim();
    if is_placeholder(value) {
        push(
            "placeholder-value",
            Severity::Error,
            format!("{what} is a placeholder copied from docs or a template, not a real value"),
            match key {
                "jwt_secret" => GENERATE_JWT.to_owned(),
                _ => format!("put the real value for `{key}` in place of the placeholder"),
            },
        );
        return;
    }

    check_known_key(key, &what, value, &mut push);

    if let Some(rule) = rule {
        check_rule(&what, value, rule, &mut push);
    }
}

/// The built-in rules for the keys key-formats.md knows.
fn check_known_key(
    key: &str,
    what: &str,
    value: &str,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    match key {
        "jwt_secret" => check_jwt(what, value, push),
        "database_url" => check_database_url(what, value, push),
        "anthropic" => {
            if !key_formats::ANTHROPIC.has_prefix(value) {
                push("anthropic-prefix", Severity::Error, format!("{what} does not start with `sk-ant-`"),
                    "Anthropic API keys start with `sk-ant-`; copy the key again from console.anthropic.com".to_owned());
            } else if !key_formats::ANTHROPIC.fits(value) {
                push("anthropic-shape", Severity::Warning,
                    format!("{what} does not have the usual shape (`sk-ant-api03-` and 95 more characters, 108 in all)"),
                    "check that the whole key was copied".to_owned());
            }
        }
        "openai" => {
            if key_formats::ANTHROPIC.has_prefix(value) {
                push(
                    "openai-prefix",
                    Severity::Error,
                    format!("{what} looks like an Anthropic key (`sk-ant-`)"),
                    "move it to `anthropic`, and put the OpenAI key (`sk-…`) here".to_owned(),
                );
            } else if !key_formats::OPENAI.has_prefix(value) {
                push(
                    "openai-prefix",
                    Severity::Error,
                    format!("{what} does not start with `sk-`"),
                    "OpenAI API keys start with `sk-`; copy the key again from platform.openai.com"
                        .to_owned(),
                );
            } else if !key_formats::OPENAI.fits(value) {
                push(
                    "openai-shape",
                    Severity::Warning,
                    format!("{what} does not have the usual shape of an OpenAI key"),
                    "check that the whole key was copied (project keys start with `sk-proj-`)"
                        .to_owned(),
                );
            }
        }
        "gemini" => {
            if !key_formats::GEMINI.has_prefix(value) {
                push("gemini-prefix", Severity::Error, format!("{what} does not start with `AIza`"),
                    "Gemini API keys start with `AIza`; copy the key again from aistudio.google.com".to_owned());
            } else if !key_formats::GEMINI.fits(value) {
                push(
                    "gemini-shape",
                    Severity::Warning,
                    format!("{what} is not `AIza` and 35 more characters (39 in all)"),
                    "check that the whole key was copied".to_owned(),
                );
            }
        }
        "github" if !key_formats::GITHUB.has_prefix(value) => {
            push("github-shape", Severity::Warning, format!("{what} does not start with a GitHub token prefix (ghp_, github_pat_, gho_, ghs_)"),
                    "use a personal access token from github.com/settings/tokens".to_owned());
        }
        _ if key.starts_with("moltbook_") && !key_formats::MOLTBOOK.has_prefix(value) => {
            push("agent-key-prefix", Severity::Error, format!("{what} does not start with `moltbook_sk_`"),
                "agent keys (moltbook_*) start with `moltbook_sk_`; copy the key again from the agent's settings".to_owned());
        }
        _ => {}
    }
}

fn check_jwt(what: &str, value: &str, push: &mut impl FnMut(&str, Severity, String, String)) {
    let len = value.chars().count();
    if len < JWT_MIN_LEN {
        push(
            "jwt-secret-too-short",
            Severity::Error,
            format!("{what} must be at least {JWT_MIN_LEN} characters (got {len})"),
            GENERATE_JWT.to_owned(),
        );
        return;
    }
    let distinct: BTreeSet<char> = value.chars().collect();
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if distinct.len() < 10 || is_repetition(value) || classes < 2 {
        push("jwt-secret-low-variety", Severity::Warning,
            format!("{what} has little variety (repeated characters, a repeated pattern, or only one kind of character)"),
            format!("use random bytes instead: {GENERATE_JWT}"));
    }
}

/// Whether the value is a shorter string repeated.
fn is_repetition(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=bytes.len() / 2)
        .any(|n| bytes.len().is_multiple_of(n) && bytes.chunks(n).all(|c| c == &bytes[..n]))
}

fn check_database_url(
    what: &str,
    value: &str,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    let form = "the form is postgres://user:password@host:5432/dbname".to_owned();
    let Some((scheme, rest)) = value.split_once("://") else {
        push(
            "database-url-scheme",
            Severity::Error,
            format!("{what} is not a URL"),
            form,
        );
        return;
    };
    if scheme != "postgres" && scheme != "postgresql" {
        push(
            "database-url-scheme",
            Severity::Error,
            format!(
                "{what} uses the scheme `{}`; it must be `postgres://` or `postgresql://`",
                if scheme.len() <= 16
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '+')
                {
                    scheme
                } else {
                    "?"
                }
            ),
            form,
        );
        return;
    }
    let unencoded = userinfo_needs_encoding(rest);
    let url = match url::Url::parse(value) {
        Ok(url) => url,
        Err(e) => {
            let hint = if unencoded {
                "percent-encode special characters in the password (`@` → %40, `#` → %23, `/` → %2F, `?` → %3F, `:` → %3A)".to_owned()
            } else {
                form
            };
            push(
                "database-url-invalid",
                Severity::Error,
                format!("{what} is not a valid URL: {e}"),
                hint,
            );
            return;
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        push(
            "database-url-no-host",
            Severity::Error,
            format!("{what} has no host"),
            form.clone(),
        );
    }
    let db = url.path().trim_start_matches('/');
    if db.is_empty() {
        push(
            "database-url-no-database",
            Severity::Error,
            format!("{what} names no database"),
            "add the database name after the host: …@host:5432/dbname".to_owned(),
        );
    }
    if url.username().is_empty() || url.password().is_none() {
        push(
            "database-url-no-credentials",
            Severity::Warning,
            format!("{what} has no user or no password"),
            "most servers need both: postgres://user:password@host:5432/dbname".to_owned(),
        );
    }
    if unencoded {
        push("database-url-unencoded", Severity::Warning,
            format!("{what} has characters in the user or password that should be percent-encoded"),
            "percent-encode special characters in the password (`@` → %40, `#` → %23, `/` → %2F, `?` → %3F, `:` → %3A)".to_owned());
    }
}

/// Whether the user-info part (before the last `@` of the authority) holds characters that need encoding.
fn userinfo_needs_encoding(after_scheme: &str) -> bool {
    // A `?` or `#` after a `/` starts the query or fragment, where an `@` is data. Before that an
    // `@` may end a password holding a raw `/`, `?` or `#`.
    let end = after_scheme
        .find('/')
        .and_then(|slash| after_scheme[slash..].find(['?', '#']).map(|q| slash + q))
        .unwrap_or(after_scheme.len());
    let Some(at) = after_scheme[..end].rfind('@') else {
        return false;
    };
    let userinfo = &after_scheme[..at];
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let bad = |s: &str| {
        let b = s.as_bytes();
        b.iter().enumerate().any(|(i, c)| match c {
            b'%' => {
                !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            }
            b'@' | b'/' | b'?' | b'#' | b'[' | b']' | b' ' | b':' => true,
            _ => false,
        })
    };
    bad(user) || bad(pass)
}

fn check_rule(
    what: &str,
    value: &str,
    rule: &RuleConfig,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    let severity = rule.severity.unwrap_or(Severity::Error);
    if let Some(prefix) = &rule.prefix {
        if !value.starts_with(prefix.as_str()) {
            push("rule-prefix", severity, format!("{what} does not start with `{prefix}` (manifest rule)"),
                format!("the manifest requires the prefix `{prefix}`; check that the right value was copied"));
        }
    }
    if let Some(min) = rule.min_length {
        let len = value.chars().count();
        if len < min {
            push(
                "rule-min-length",
                severity,
                format!("{what} must be at least {min} characters (got {len}) (manifest rule)"),
                "check that the whole value was copied".to_owned(),
            );
        }
    }
    if let Some(pattern) = &rule.pattern {
        let matches = Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value));
        if !matches {
            push("rule-pattern", severity, format!("{what} does not match the pattern `{pattern}` (manifest rule)"),
                "check the value against the rule in [...metadata.systemprompt-secrets.rules] of the manifest".to_owned());
        }
    }
}

/// Whether `value` is a placeholder copied from docs or templates (`sk-ant-...`, `changeme`, `<key>`).
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDERS.contains(&lower.as_str())
        || lower.ends_with("...")
        || lower.ends_with('…')
        || (lower.starts_with("your")
            && (lower.ends_with("here") || lower.ends_with("key") || lower.ends_with("token")))
        || (lower.starts_with('<') && lower.ends_with('>'))
        || (lower.starts_with("${") && lower.ends_with('}'))
        || (lower.len() >= 4 && lower.chars().all(|c| c == 'x' || c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache_layer::NoCache;
    use crate::config::Config;
    use crate::env::MapEnv;
    use crate::layers::{load, LoadOptions};

    const ANT: &str = "sk-ant-api03-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHFAA";

    fn run(json: &str) -> Vec<Finding> {
        run_with(json, &Config::default())
    }

    fn run_with(json: &str, config: &Config) -> Vec<Finding> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.json");
        std::fs::write(&p, json).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let env = MapEnv::default();
        let settings = config.for_profile("local");
        let opts = LoadOptions {
            env: &env,
            use_env: true,
            env_files: vec![],
            cache: &NoCache,
            project_id: "p",
        };
        validate(&load(&p, &settings, "local", &opts).unwrap(), &settings)
    }

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[cfg(unix)]
    #[test]
    fn loose_file_modes_are_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.json");
        std::fs::write(&p, "{}").unwrap();
        for (mode, warns) in [
            (0o600, false),
            (0o400, false),
            (0o640, true),
            (0o604, true),
            (0o620, true),
        ] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            let f = file_mode_findings(std::slice::from_ref(&p));
            assert_eq!(!f.is_empty(), warns, "{mode:o}");
            if warns {
                assert_eq!(f[0].code, "file-permissions");
                assert_eq!(f[0].severity, Severity::Warning);
                assert!(f[0].hint.contains("chmod 600"), "{}", f[0].hint);
            }
        }
    }

    fn good(extra: &str) -> String {
        format!("{{\"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\", \"database_url\": \"postgres://app:pw@db:5432/app\", \"anthropic\": \"{ANT}\"{extra}}}")
    }

    #[test]
    fn clean_profile_has_no_findings() {
        assert_eq!(ANT.len(), 108);
        assert!(run(&good("")).is_empty(), "{:?}", run(&good("")));
    }

    #[test]
    fn missing_and_empty_required_keys_and_provider() {
        let f = run("{\"jwt_secret\": \"\"}");
        assert_eq!(
            codes(&f),
            [
                "missing-ai-provider",
                "missing-required-key",
                "missing-required-key"
            ]
        );
        let jwt = f
            .iter()
            .find(|f| f.key.as_deref() == Some("jwt_secret"))
            .unwrap();
        assert!(jwt.message.contains("is empty"));
        assert_eq!(jwt.location.as_ref().unwrap().line(), Some(1));
    }

    #[test]
    fn jwt_rules() {
        let f = run(&good("").replace("Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "short"));
        assert_eq!(codes(&f), ["jwt-secret-too-short"]);
        assert!(f[0].message.contains("got 5"));
        let f = run(&good("").replace("Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", &"ab".repeat(20)));
        assert_eq!(codes(&f), ["jwt-secret-low-variety"]);
    }

    #[test]
    fn database_url_rules() {
        let cases = [
            ("mysql://a:b@h/db", "database-url-scheme"),
            ("not a url", "database-url-scheme"),
            ("postgres://a:b@h:port/db", "database-url-invalid"),
            ("postgres://a:b@h:5432", "database-url-no-database"),
            ("postgres://h:5432/db", "database-url-no-credentials"),
            ("postgres://a:p@ss@h:5432/db", "database-url-unencoded"),
        ];
        for (url, code) in cases {
            let f = run(&good("").replace("postgres://app:pw@db:5432/app", url));
            assert!(codes(&f).contains(&code), "{url}: {:?}", codes(&f));
            for finding in &f {
                assert!(!finding.message.contains(url) && !finding.hint.contains(url));
            }
        }
        let f = run(&good("").replace(
            "postgres://app:pw@db:5432/app",
            "postgresql://a:p%40ss@h/db",
        ));
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn an_at_sign_in_the_query_is_not_in_the_password() {
        // Found by the `database_url` fuzz target: `postgres://h:5432/db?application_name=a@b`
        // was warned about as if its user-info held an unencoded `@`.
        let source = Source::Env {
            var: "DATABASE_URL".into(),
        };
        let codes = |v: &str| -> Vec<String> {
            validate_value("database_url", v, &source, None)
                .into_iter()
                .map(|f| f.code)
                .collect()
        };
        assert!(codes("postgres://u:p@h:5432/db?application_name=a@b").is_empty());
        assert!(codes("postgres://u:p@h/db#x@y").is_empty());
        assert_eq!(
            codes("postgres://h:5432/db?application_name=a@b"),
            ["database-url-no-credentials"]
        );
        // A raw `@`, `?`, `#` or `/` in the password is still pointed out.
        for raw in [
            "postgres://u:p@ss@h/db?x=1",
            "postgres://u:p?ss@h/db",
            "postgres://u:p#ss@h/db",
            "postgres://u:1234/x@h/db",
        ] {
            let findings = validate_value("database_url", raw, &source, None);
            assert!(
                findings.iter().any(|f| f.hint.contains("percent-encode")),
                "{raw}: {findings:?}"
            );
        }
    }

    #[test]
    fn provider_prefixes_and_shapes() {
        let f = run(&good(", \"openai\": \"sk-ant-xyz\", \"gemini\": \"AIzaShort\", \"github\": \"tok\", \"moltbook_builder\": \"x\""));
        assert_eq!(
            codes(&f),
            [
                "gemini-shape",
                "github-shape",
                "agent-key-prefix",
                "openai-prefix"
            ]
        );
        let f = run(&good("").replace(ANT, "sk-ant-api03-short"));
        assert_eq!(codes(&f), ["anthropic-shape"]);
        let f = run(&good("").replace(ANT, "sk-proj-abc"));
        assert_eq!(codes(&f), ["anthropic-prefix"]);
    }

    #[test]
    fn placeholders_whitespace_newlines() {
        let f = run(&good(
            ", \"openai\": \"sk-...\", \"gemini\": \"your-key-here\", \"github\": \" ghp_x\\n\"",
        ));
        assert_eq!(
            codes(&f),
            [
                "placeholder-value",
                "embedded-newline",
                "surrounding-whitespace",
                "placeholder-value"
            ]
        );
    }

    #[test]
    fn custom_rules_with_severity() {
        let v = serde_json::json!({"rules": {"stripe": {"prefix": "sk_live_", "min-length": 20, "pattern": "sk_[a-z]+_[0-9]+", "severity": "warning"}, "other": {"required": true}}});
        let config = Config::from_tables(
            Some((
                crate::config::TableSource {
                    manifest: std::path::Path::new("/C.toml"),
                    prefix: "workspace.metadata",
                },
                &v,
            )),
            None,
        )
        .unwrap();
        let f = run_with(&good(", \"stripe\": \"pk_test_x\""), &config);
        assert_eq!(
            codes(&f),
            [
                "missing-required-key",
                "rule-min-length",
                "rule-pattern",
                "rule-prefix"
            ]
        );
        assert!(f[1..].iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn findings_never_contain_the_value() {
        let canary = "CANARYcanary0123456789";
        for key in [
            "jwt_secret",
            "database_url",
            "anthropic",
            "openai",
            "gemini",
            "github",
            "moltbook_x",
        ] {
            for value in [
                canary.to_owned(),
                format!(" {canary}\n"),
                format!("postgres://{canary}:{canary}@/"),
                format!("{canary}..."),
            ] {
                let json = serde_json::json!({ key: value }).to_string();
                for f in run(&json) {
                    let text = format!("{f:?}");
                    assert!(!text.contains(canary), "{key}: {text}");
                }
            }
        }
    }
}
