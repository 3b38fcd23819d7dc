//! Secret key names: the snake_case names of `secrets.json` and their env-style names.

/// Keys whose env-style name is not simply the upper-cased key (systemprompt-cloud.md).
const ENV_NAMES: &[(&str, &str)] = &[
    ("jwt_secret", "JWT_SECRET"),
    ("database_url", "DATABASE_URL"),
    ("anthropic", "ANTHROPIC_API_KEY"),
    ("openai", "OPENAI_API_KEY"),
    ("gemini", "GEMINI_API_KEY"),
    ("github", "GITHUB_TOKEN"),
    ("moonshot", "MOONSHOT_API_KEY"),
    ("qwen", "QWEN_API_KEY"),
];

/// The keys whose env name is not their upper-cased self, with that name (`anthropic`,
/// `ANTHROPIC_API_KEY`).
pub fn renamed_keys() -> impl Iterator<Item = (&'static str, &'static str)> {
    ENV_NAMES
        .iter()
        .copied()
        .filter(|(k, e)| !k.eq_ignore_ascii_case(e))
}

/// Further env names upstream reads a key from (`Secrets::get`, the secrets loader).
const ENV_ALIASES: &[(&str, &str)] = &[("moonshot", "KIMI_API_KEY"), ("qwen", "DASHSCOPE_API_KEY")];

/// The further env names upstream reads `key` from (`moonshot`: `KIMI_API_KEY`).
pub fn aliases(key: &str) -> impl Iterator<Item = &'static str> + '_ {
    ENV_ALIASES
        .iter()
        .filter(move |(k, _)| *k == key)
        .map(|(_, env)| *env)
}

/// The env-style name of a key: `anthropic` → `ANTHROPIC_API_KEY`, `foo_bar` → `FOO_BAR`.
///
/// ```
/// use systemprompt_secrets::keys::{env_name, key_from_env};
/// assert_eq!(env_name("anthropic"), "ANTHROPIC_API_KEY");
/// assert_eq!(key_from_env("MOLTBOOK_BUILDER"), "moltbook_builder");
/// ```
#[must_use]
pub fn env_name(key: &str) -> String {
    named_env(key).map_or_else(|| key.to_ascii_uppercase(), str::to_owned)
}

/// The env name of a key whose name is not simply its key in upper case (`anthropic` →
/// `ANTHROPIC_API_KEY`); `None` for every other key.
#[must_use]
pub fn named_env(key: &str) -> Option<&'static str> {
    ENV_NAMES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, env)| *env)
}

/// The key for an env-style name: `ANTHROPIC_API_KEY` → `anthropic`, `FOO_BAR` → `foo_bar`.
#[must_use]
pub fn key_from_env(name: &str) -> String {
    ENV_NAMES
        .iter()
        .chain(ENV_ALIASES)
        .find(|(_, env)| env.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_ascii_lowercase(), |(key, _)| (*key).to_owned())
}

/// Accepts either form a user may type (`anthropic` or `ANTHROPIC_API_KEY`) and returns the key.
#[must_use]
pub fn normalize(name: &str) -> String {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        key_from_env(name)
    } else {
        name.to_owned()
    }
}

/// Whether `name` can be an environment variable's name in every shell and tool:
/// `^[A-Za-z_][A-Za-z0-9_]*$`.
#[must_use]
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether a key name is snake_case: `^[a-z][a-z0-9_]*$`.
#[must_use]
pub fn is_snake_case(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The snake_case name to suggest for a key that is not snake_case.
#[must_use]
pub fn to_snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            prev_lower = true;
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    let trimmed = trimmed.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    if trimmed.is_empty() {
        "secret".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Keys whose values a provider issues (API keys, tokens): no random value can stand in for them.
#[must_use]
pub fn is_provider_key(key: &str) -> bool {
    [
        "anthropic",
        "openai",
        "gemini",
        "github",
        "moonshot",
        "qwen",
    ]
    .contains(&key)
}

/// Secrets a project makes itself rather than gets from a provider (`init` and `rotate` generate
/// them): each profile should have its own.
#[must_use]
pub fn is_generated_secret(key: &str) -> bool {
    [
        "jwt_secret",
        "oauth_at_rest_pepper",
        "manifest_signing_secret_seed",
        "signing_key_pem",
    ]
    .contains(&key)
}

/// The closest candidate to `name`, if one is close enough to be a likely typo.
#[must_use]
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_follow_upstream_mapping() {
        assert_eq!(env_name("anthropic"), "ANTHROPIC_API_KEY");
        assert_eq!(env_name("github"), "GITHUB_TOKEN");
        assert_eq!(env_name("moltbook_builder"), "MOLTBOOK_BUILDER");
        assert_eq!(key_from_env("ANTHROPIC_API_KEY"), "anthropic");
        assert_eq!(key_from_env("FOO_BAR"), "foo_bar");
        assert_eq!(normalize("GEMINI_API_KEY"), "gemini");
        assert_eq!(normalize("gemini"), "gemini");
        assert_eq!(key_from_env("KIMI_API_KEY"), "moonshot");
        assert_eq!(key_from_env("DASHSCOPE_API_KEY"), "qwen");
        assert_eq!(aliases("qwen").collect::<Vec<_>>(), ["DASHSCOPE_API_KEY"]);
        assert_eq!(env_name("oauth_at_rest_pepper"), "OAUTH_AT_REST_PEPPER");
    }

    #[test]
    fn env_names_are_checked() {
        for ok in ["A", "_X", "FOO_BAR9", "MixedCase"] {
            assert!(is_env_name(ok), "{ok}");
        }
        for bad in [
            "",
            "9A",
            "BAD KEY",
            "Q$(TOUCH X)",
            "A-B",
            "A=B",
            "A\u{1b}[31m",
        ] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }

    #[test]
    fn snake_case_check_and_suggestion() {
        assert!(is_snake_case("jwt_secret"));
        assert!(is_snake_case("a1"));
        assert!(!is_snake_case("JwtSecret"));
        assert!(!is_snake_case("1abc"));
        assert!(!is_snake_case("db-url"));
        assert!(!is_snake_case(""));
        assert_eq!(to_snake_case("JwtSecret"), "jwt_secret");
        assert_eq!(to_snake_case("db-url"), "db_url");
        assert_eq!(to_snake_case("OPENAI"), "openai");
        assert_eq!(to_snake_case(" api key "), "api_key");
    }

    #[test]
    fn closest_finds_typos_only() {
        let keys = ["required", "default-profile", "profiles-dir"];
        assert_eq!(closest("requried", keys), Some("required"));
        assert_eq!(closest("profile-dir", keys), Some("profiles-dir"));
        assert_eq!(closest("zzz", keys), None);
    }
}
