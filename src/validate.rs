//! The validation rules of key-formats.md plus the manifest's custom rules. Findings never hold values.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use secrecy::ExposeSecret;

use crate::config::{ProfileSettings, RuleConfig};
use crate::finding::{Finding, Location, Severity};
use crate::finding::{KEY_NAME, UNREAD_KEY};
use crate::generation::{Generation, JWT_SECRET, PEPPER};
use crate::key_formats;
use crate::keys;
use crate::layers::Resolved;
use crate::source::Source;
use crate::upstream;

/// The smallest `jwt_secret` accepted.
pub const JWT_MIN_LEN: usize = 32;
/// The smallest `oauth_at_rest_pepper` accepted (`OAUTH_AT_REST_PEPPER_MIN_LENGTH` upstream).
pub const PEPPER_MIN_LEN: usize = 32;

const GENERATE_JWT: &str = "generate one with `openssl rand -base64 48`";
const GENERATE_PEPPER: &str =
    "generate one with `cargo systemprompt-secrets rotate oauth_at_rest_pepper` (64 random letters and digits, as upstream makes it)";
/// The database URL keys (the PostgreSQL URL rules apply to each).
const DATABASE_URL_KEYS: &[&str] = &[
    "database_url",
    "database_write_url",
    "database_session_url",
    "external_database_url",
    "internal_database_url",
];

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

/// Validates resolved secrets against the profile's settings. Returns every finding in the order
/// of the files: whole-profile ones first, then by layer, file and line.
///
/// What the project's systemprompt version refuses to load or boot on is an error that fails in
/// every mode ([`Finding::refuses_boot`]); what certainly cannot work is an error; the rest is a
/// warning.
#[must_use]
pub fn validate(resolved: &Resolved, settings: &ProfileSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(required_findings(resolved, settings));
    let release = settings.generation.release();
    let generation = settings.generation.generation;
    let providers = generation.ai_providers();
    if settings.require_ai_provider && providers.iter().all(|k| resolved.get(k).is_none()) {
        let (last, rest) = providers.split_last().unwrap_or((&"", &[]));
        let quoted: Vec<String> = rest.iter().map(|k| format!("\"{k}\"")).collect();
        // A provider key in another case (`Anthropic`) is a custom key to upstream: say so here
        // too, as its own finding does.
        let other_case = resolved
            .entries
            .keys()
            .find(|k| providers.contains(&keys::to_snake_case(k).as_str()))
            .map(|k| {
                format!(
                    " (`{k}` is a custom key to systemprompt, not `{}`)",
                    keys::to_snake_case(k)
                )
            })
            .unwrap_or_default();
        // systemprompt boots without one; its AI features then have nothing to call.
        findings.push(
            Finding::new(
                "missing-ai-provider",
                Severity::Warning,
                None,
                format!("no AI provider key: set at least one of {}{other_case}", providers.join(", ")),
                format!("add {} or \"{last}\" to the secrets file, or set `require-ai-provider = false` in the manifest", quoted.join(", ")),
            )
            .at(Some(file_location(resolved))),
        );
    }
    findings.extend(key_name_findings(resolved, release));
    findings.extend(shared_env_names(resolved));

    for (key, resolution) in &resolved.entries {
        let def = &resolution.winner;
        let location = Some(Location::Source(def.source.clone()));
        let before = findings.len();
        check_value(
            key,
            def.value.expose_secret(),
            &def.source,
            settings.rules.get(key),
            release,
            &mut findings,
        );
        for f in &mut findings[before..] {
            f.location.clone_from(&location);
        }
    }
    findings.extend(resolved.notes.iter().cloned());
    findings.extend(file_mode_findings(&resolved.files_read));
    findings.retain(|f| !settings.allows(&f.code));
    // The profile as a whole first (a missing key, the file's mode), then each file top to
    // bottom, as an editor shows it; a stable sort keeps one line's findings in their order.
    findings.sort_by_cached_key(|f| {
        let location = f.location.as_ref();
        let line = location.and_then(Location::line);
        (
            line.is_some(),
            location.map_or(0, Location::layer_rank),
            location.and_then(Location::path).map(Path::to_path_buf),
            line,
            location.and_then(Location::column),
            std::cmp::Reverse(f.severity),
            f.key.clone(),
            f.code.clone(),
        )
    });
    findings
}

/// A finding for each required key without a value: upstream's (a refusal in every mode), the
/// manifest's (an error), and, when the version is unknown, later releases' (advice).
fn required_findings(resolved: &Resolved, settings: &ProfileSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let release = settings.generation.release();
    let upstream_required = release.required_keys(settings.boot);
    let manifest_required = settings
        .required
        .iter()
        .map(String::as_str)
        .filter(|k| !upstream_required.contains(k));
    let later = later_requirements(settings);
    for (key, upstream) in upstream_required
        .iter()
        .map(|k| (*k, Requirement::Upstream))
        .chain(manifest_required.map(|k| (k, Requirement::Manifest)))
        .chain(later.iter().map(|k| (*k, Requirement::Later)))
    {
        if present(resolved, release, key) {
            continue;
        }
        let (location, detail) = match resolved.blanks.get(key) {
            Some(source) => (Some(Location::Source(source.clone())), "is empty"),
            None => (Some(file_location(resolved)), "is missing"),
        };
        let finding = Finding::new(
            if matches!(upstream, Requirement::Later) {
                crate::finding::LATER_BOOT_KEY
            } else {
                "missing-required-key"
            },
            Severity::Error,
            Some(key),
            match upstream {
                Requirement::Later => format!(
                    "`{key}` {detail}: systemprompt {} and later refuse to boot without it (Cargo.lock names no systemprompt version, so this is advice)",
                    first_requiring(key)
                ),
                Requirement::Upstream => format!(
                    "required key `{key}` {detail}{}",
                    boot_words(key, &settings.generation)
                ),
                Requirement::Manifest => format!("required key `{key}` {detail} (the manifest requires it)"),
            },
            if resolved.secrets_file_found {
                add_hint(key)
            } else {
                env_hint(key)
            },
        )
        .at(location);
        findings.push(match upstream {
            Requirement::Upstream => finding.boot_refusal(),
            Requirement::Manifest => finding,
            Requirement::Later => Finding {
                severity: Severity::Warning,
                ..finding
            },
        });
    }

    findings
}

/// Every finding of one profile in `mode`: its secrets ([`validate`]) and the profile itself
/// ([`profile_findings`]). `skip` quiets the tool's advice, never upstream's own refusals.
#[must_use]
pub fn validate_profile(
    resolved: &Resolved,
    settings: &ProfileSettings,
    profile: &crate::profile::Profile,
    mode: crate::finding::Mode,
) -> Vec<Finding> {
    let mut findings = validate(resolved, settings);
    findings.extend(
        profile_findings(profile, &settings.generation)
            .into_iter()
            .filter(|f| !settings.allows(&f.code)),
    );
    if mode == crate::finding::Mode::Skip {
        findings.retain(|f| f.refuses_boot);
    }
    findings
}

/// Findings about the profile itself for the project's release: where the app reads its secrets
/// (`secrets.source`), a source the release does not know, and fields of an older shape it refuses.
#[must_use]
pub fn profile_findings(
    profile: &crate::profile::Profile,
    detected: &crate::generation::Detected,
) -> Vec<Finding> {
    use crate::profile::SecretSource;
    let release = detected.release();
    let at = profile.yaml_path.clone().map(|path| Location::File {
        path,
        line: None,
        column: None,
    });
    let mut out = Vec::new();
    let source = profile.yaml.source();
    let version = detected
        .version
        .as_ref()
        .filter(|_| detected.version_known())
        .map(|v| format!("systemprompt {v}"));
    if source == SecretSource::Vault && !release.vault_source && version.is_some() {
        out.push(
            Finding::new(
                "unknown-secrets-source",
                Severity::Error,
                None,
                format!(
                    "`secrets.source: vault` is not known to {}: it came in 0.50",
                    version.as_deref().unwrap_or_default()
                ),
                "upgrade systemprompt to 0.50 or later, or use `source: file`",
            )
            .at(at.clone())
            .boot_refusal(),
        );
    } else if !source.reads_file() {
        out.push(
            Finding::new(
                crate::finding::SECRETS_SOURCE,
                Severity::Warning,
                None,
                format!(
                    "systemprompt reads this profile's secrets from {}, not from {}: the checks here are of that file, which the app does not read",
                    profile.yaml.source_place(),
                    crate::source::rel(&profile.secrets_path)
                ),
                "keep the secrets where the app reads them; `cargo systemprompt-secrets sync` fills a Vault path",
            )
            .at(at.clone()),
        );
    }
    let pepper = release.generation == crate::generation::Generation::Pepper;
    if let (Some(version), Some(problem), true) =
        (&version, secrets_block_problem(&profile.yaml), pepper)
    {
        out.push(
            Finding::new(
                "invalid-secrets-block",
                Severity::Error,
                None,
                format!("profile.yaml {problem}: {version} does not load this profile"),
                "give `secrets:` a `source` (file, env, vault or external) and, for `source: file`, the `secrets_path` of the secrets file (`./secrets.json`)",
            )
            .at(at.clone())
            .boot_refusal(),
        );
    }
    let since = (release.since.0, release.since.1, release.since.2);
    for shape in &profile.yaml.old_shape {
        if version.is_some() && since >= shape.refused_since {
            out.push(
                Finding::new(
                    "old-profile-shape",
                    Severity::Warning,
                    None,
                    format!(
                        "profile.yaml states `{}`, which {} no longer reads ({}; refused since {}.{}), so it does not load this profile",
                        shape.field,
                        version.as_deref().unwrap_or_default(),
                        shape.instead,
                        shape.refused_since.0,
                        shape.refused_since.1
                    ),
                    format!("run `{}`", crate::profile::MIGRATE_COMMAND),
                )
                .at(at.clone()),
            );
        }
    }
    out
}

/// What upstream's profile loader refuses in a `secrets:` block (0.34 and 0.77 alike,
/// `SecretsConfig`): no `source`, a `file` source without `secrets_path`, a `vault` source without
/// its `vault` block.
fn secrets_block_problem(yaml: &crate::profile::ProfileYaml) -> Option<&'static str> {
    let block = yaml.secrets.as_ref()?;
    match block.source.as_deref() {
        None => Some("has a `secrets:` block without `source`"),
        Some("file")
            if block
                .secrets_path
                .as_ref()
                .is_none_or(|p| p.as_os_str().is_empty()) =>
        {
            Some("says `secrets.source: file` without `secrets_path`")
        }
        Some("vault") if block.vault.is_none() => {
            Some("says `secrets.source: vault` without a `secrets.vault` block")
        }
        _ => None,
    }
}

/// The secrets file itself, for a finding about the file as a whole.
fn file_location(resolved: &Resolved) -> Location {
    Location::File {
        path: resolved.secrets_path.clone(),
        line: None,
        column: None,
    }
}

/// Why a key is required.
#[derive(Clone, Copy)]
enum Requirement {
    /// The project's systemprompt version refuses to load or boot without it.
    Upstream,
    /// The manifest requires it.
    Manifest,
    /// A later systemprompt release requires it, and the version is not known: advice.
    Later,
}

/// Whether `key` has a value, looked up as upstream looks it up: a custom key (the master key,
/// the licence secret) also under its name in the other case.
fn present(resolved: &Resolved, release: &crate::upstream::Release, key: &str) -> bool {
    if release.reads_exactly(key) {
        return resolved.get(key).is_some();
    }
    upstream::custom_lookup_names(key)
        .iter()
        .any(|k| resolved.get(k).is_some())
}

/// When the version is unknown, the boot keys the newest release requires that the assumed one
/// does not: said as advice, since the project may be on an older release.
fn later_requirements(settings: &ProfileSettings) -> Vec<&'static str> {
    if settings.generation.version_known()
        || settings.generation.generation != crate::generation::Generation::Pepper
    {
        return Vec::new();
    }
    let assumed = settings.generation.release().required_keys(settings.boot);
    upstream::Release::latest()
        .required_keys(settings.boot)
        .into_iter()
        .filter(|k| !assumed.contains(k))
        .collect()
}

/// The first release that requires `key`, as text.
fn first_requiring(key: &str) -> String {
    upstream::RELEASES
        .iter()
        .find(|r| {
            r.required_keys(upstream::BootConditions {
                cloud_target: true,
                multi_tenant: true,
            })
            .contains(&key)
        })
        .map_or_else(|| "?".to_owned(), upstream::Release::since_text)
}

/// The words after "required key `x` is missing": which release refuses, and why.
fn boot_words(key: &str, detected: &crate::generation::Detected) -> String {
    let version = detected
        .version
        .as_ref()
        .filter(|_| detected.version_known())
        .map_or_else(
            || detected.generation.releases().to_owned(),
            |v| format!("systemprompt {v}"),
        );
    match key {
        upstream::SEED => format!(
            ": {version} refuses to boot without it (every replica must share one seed, so it is never generated at boot)"
        ),
        upstream::MASTER_KEY => format!(": {version} refuses to boot without it (it seals secrets at rest)"),
        upstream::SIGNING_KEY => format!(": {version} refuses a `target: cloud` boot without it"),
        upstream::LICENCE_SECRET => format!(": {version} refuses to boot without it when `licence.multi_tenant` is on"),
        _ => format!(": {version} cannot load secrets without it"),
    }
}

/// How to add a missing key where there is no secrets file (CI reads the environment): the
/// variable that carries it.
fn env_hint(key: &str) -> String {
    let generate = match key {
        "jwt_secret" => format!("; {GENERATE_JWT}"),
        PEPPER => format!("; {GENERATE_PEPPER}"),
        _ => String::new(),
    };
    format!(
        "no secrets file here: set the environment variable {} (in CI, from its secret store){generate}",
        keys::env_name(key)
    )
}

/// How to add a missing key.
fn add_hint(key: &str) -> String {
    match key {
        "jwt_secret" => format!("add \"jwt_secret\" to the secrets file; {GENERATE_JWT}"),
        PEPPER => format!("add \"{PEPPER}\" to the secrets file; {GENERATE_PEPPER}"),
        "database_url" => {
            "add \"database_url\": \"postgres://user:password@host:5432/dbname\"".to_owned()
        }
        upstream::SEED | upstream::MASTER_KEY | upstream::SIGNING_KEY => format!(
            "run `cargo systemprompt-secrets init --add-missing` (it generates only the missing keys), or `cargo systemprompt-secrets rotate {key}`"
        ),
        _ => format!(
            "add \"{key}\" to the secrets file or set {}",
            keys::env_name(key)
        ),
    }
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

/// Advice about who else can change a secrets file: a folder that group or others may write to
/// (they can replace the file), and a file owned by another user.
#[cfg(unix)]
fn ownership_findings(paths: &[PathBuf], cwd: &Path) -> Vec<Finding> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // This process's user: the owner of /proc/self (Linux); elsewhere the owner check is skipped.
    let me = std::fs::metadata("/proc/self").ok().map(|m| m.uid());
    let mut out = Vec::new();
    let mut folders_seen = std::collections::BTreeSet::new();
    for path in paths {
        let at = Some(Location::File {
            path: path.clone(),
            line: None,
            column: None,
        });
        if let (Some(me), Ok(meta)) = (me, std::fs::metadata(path)) {
            if meta.uid() != me && meta.uid() != 0 {
                out.push(
                    Finding::new(
                        crate::finding::FILE_PERMISSIONS,
                        Severity::Warning,
                        None,
                        format!(
                            "{} belongs to another user (uid {}), who can change it",
                            crate::source::rel(path),
                            meta.uid()
                        ),
                        "check who wrote it; then `chown` it to yourself (and `chmod 600` it)"
                            .to_owned(),
                    )
                    .at(at.clone()),
                );
            }
        }
        let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            continue;
        };
        if !folders_seen.insert(dir.to_path_buf()) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        // A sticky folder such as /tmp lets nobody replace another's file.
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            out.push(
                Finding::new(
                    crate::finding::FILE_PERMISSIONS,
                    Severity::Warning,
                    None,
                    format!(
                        "the folder {} can be written by group or others (mode {:04o}): they can replace {}",
                        crate::source::display_path(dir, cwd).display(),
                        mode & 0o777,
                        path.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    format!(
                        "run `chmod go-w {}`",
                        crate::source::display_path(dir, cwd).display()
                    ),
                )
                .at(at),
            );
        }
    }
    out
}

#[cfg(not(unix))]
fn ownership_findings(_: &[PathBuf], _: &Path) -> Vec<Finding> {
    Vec::new()
}

/// A warning for each file that group or others can read or write (secrets.json, dotenv files),
/// whose folder they can write to, or that another user owns.
#[must_use]
pub fn file_mode_findings(paths: &[PathBuf]) -> Vec<Finding> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut findings = ownership_findings(paths, &cwd);
    findings.extend(
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
            .collect::<Vec<_>>(),
    );
    findings
}

/// The findings for one value of `key` from `source` (for values given on a command line).
#[must_use]
pub fn validate_value(
    key: &str,
    value: &str,
    source: &Source,
    rule: Option<&RuleConfig>,
    release: &upstream::Release,
) -> Vec<Finding> {
    let mut out = Vec::new();
    check_value(key, value, source, rule, release, &mut out);
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
    release: &upstream::Release,
    out: &mut Vec<Finding>,
) {
    // A code in `refusals` is one upstream refuses to boot on, for this key in this release.
    let refusals = boot_refusal_codes(key, release);
    let mut push = |code: &str, severity: Severity, message: String, hint: String| {
        let f = Finding::new(code, severity, Some(key), message, hint);
        out.push(if refusals.contains(&code) {
            f.boot_refusal()
        } else {
            f
        });
    };
    let what = match source {
        Source::Env { var } => format!("${var}"),
        Source::Given { var, .. } => format!("the value given for {var}"),
        _ => format!("`{key}`"),
    };

    // A line break pasted at the end is one slip, reported once, with any spaces around it.
    let body = value.trim_end_matches(['\n', '\r']);
    let embedded = (body.contains('\n') || body.contains('\r')) && !is_pem(value);
    if embedded {
        push(
            "embedded-newline",
            Severity::Error,
            format!("{what} contains a line break"),
            "a key is one line: paste it again without the line break".to_owned(),
        );
    }
    if let Some(what_char) = invisible(value) {
        push(
            "invisible-character",
            Severity::Error,
            format!("{what} contains {what_char}"),
            if what_char.starts_with("a NUL") {
                "no environment can carry a NUL byte: copy the value again".to_owned()
            } else {
                "an invisible character came in with a copy and paste: type or copy the value again"
                    .to_owned()
            },
        );
    }
    let trailing_break = body.len() != value.len() && !embedded && !is_pem(value);
    let spaces = body.trim() != body && !is_pem(value);
    if trailing_break || spaces {
        let (message, hint) = match (trailing_break, spaces) {
            (true, false) => (
                "ends with a line break",
                "remove the line break at the end of the value",
            ),
            (false, _) => (
                "starts or ends with whitespace",
                "remove the spaces or tabs around the value",
            ),
            (true, true) => (
                "starts or ends with whitespace and a line break",
                "remove the spaces, tabs and line break around the value",
            ),
        };
        // Upstream reads the value as it is (and trims the seed and the master key): spaces are a
        // slip it does not refuse; a line break cannot go in a header or a URL (the tool's error).
        push(
            "surrounding-whitespace",
            if trailing_break {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!("{what} {message}"),
            format!("{hint} (a copy-and-paste slip)"),
        );
    }
    // Upstream compares the raw value's prefix: a database URL with a space before it is refused.
    if release.checked_database_urls.contains(&key)
        && !has_postgres_prefix(value)
        && has_postgres_prefix(value.trim())
    {
        push(
            "database-url-scheme",
            Severity::Error,
            format!("{what} starts with whitespace, so it does not start with `postgres://`"),
            "remove the spaces before the URL".to_owned(),
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
                PEPPER => GENERATE_PEPPER.to_owned(),
                _ => format!("put the real value for `{key}` in place of the placeholder"),
            },
        );
        return;
    }

    check_known_key(key, &what, value, release, &mut push);

    if let Some(rule) = rule {
        check_rule(&what, value, rule, &mut push);
    }
}

/// The built-in rules for the keys key-formats.md knows.
fn check_known_key(
    key: &str,
    what: &str,
    value: &str,
    release: &upstream::Release,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    match key {
        "jwt_secret" => check_jwt(what, value, push),
        PEPPER => check_pepper(what, value, push),
        "manifest_signing_secret_seed" => check_seed(what, value, push),
        _ if is_master_key_name(key) => {
            check_master_key(
                what,
                value,
                release.boot_required.contains(&upstream::MASTER_KEY),
                push,
            );
        }
        "signing_key_pem" => check_signing_key(what, value, push),
        _ if DATABASE_URL_KEYS.contains(&key) => check_database_url(what, value, push),
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
                    if ["sk-proj-", "sk-svcacct-", "sk-admin-"]
                        .iter()
                        .any(|p| value.starts_with(p))
                    {
                        "check that the whole key was copied: these keys are long and have `T3BlbkFJ` in the middle; copy it again from platform.openai.com".to_owned()
                    } else {
                        "check that the whole key was copied: legacy keys are `sk-`, 20 characters, `T3BlbkFJ`, 20 characters; project keys start with `sk-proj-`".to_owned()
                    },
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

/// The finding codes upstream refuses to boot on for `key` in `release`: its own checks of the
/// pepper (or `jwt_secret`), the seed, the master key and the database URLs it checks.
fn boot_refusal_codes(key: &str, release: &upstream::Release) -> &'static [&'static str] {
    let pepper = release.generation == crate::generation::Generation::Pepper;
    match key {
        PEPPER if pepper => &["pepper-too-short"],
        JWT_SECRET if !pepper => &["jwt-secret-too-short"],
        upstream::SEED if pepper => &["seed-length", "seed-not-base64"],
        _ if is_master_key_name(key) && release.boot_required.contains(&upstream::MASTER_KEY) => {
            &["master-key-length", "master-key-not-hex"]
        }
        _ if release.checked_database_urls.contains(&key) => &["database-url-scheme"],
        _ => &[],
    }
}

/// `encryption_master_key` as upstream finds it (`Secrets::get`: the name, or all upper case).
fn is_master_key_name(key: &str) -> bool {
    key == upstream::MASTER_KEY || key == "ENCRYPTION_MASTER_KEY"
}

/// Whether the value starts as upstream requires of a database URL.
fn has_postgres_prefix(value: &str) -> bool {
    value.starts_with("postgres://") || value.starts_with("postgresql://")
}

/// `encryption_master_key` (0.62+): hex, either case, of exactly 32 bytes (`decode_master_key`,
/// which trims). Before 0.62 nothing reads it: the same problems are advice.
fn check_master_key(
    what: &str,
    value: &str,
    required: bool,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    let severity = if required {
        Severity::Error
    } else {
        Severity::Warning
    };
    let hint = "put 64 hex characters there (`openssl rand -hex 32`); if the server already sealed data with another key, put that key back instead".to_owned();
    let hex = value.trim();
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        push(
            "master-key-not-hex",
            severity,
            format!("{what} is not hex: encryption_master_key is 64 hex characters (32 bytes)"),
            hint,
        );
    } else if hex.len() != 64 {
        push(
            "master-key-length",
            severity,
            format!(
                "{what}: encryption_master_key is invalid (expected 32-byte value, got {})",
                hex.len() / 2
            ),
            hint,
        );
    }
}

/// Upstream's rule, in upstream's words: at least 32 characters (bytes, as upstream counts).
fn check_pepper(what: &str, value: &str, push: &mut impl FnMut(&str, Severity, String, String)) {
    let len = value.len();
    if len < PEPPER_MIN_LEN {
        push(
            "pepper-too-short",
            Severity::Error,
            format!("{what}: oauth_at_rest_pepper must be at least {PEPPER_MIN_LEN} characters (got {len})"),
            GENERATE_PEPPER.to_owned(),
        );
    } else if low_variety(value) {
        push("pepper-low-variety", Severity::Warning,
            format!("{what} has little variety (repeated characters, a repeated pattern, or only one kind of character)"),
            format!("use random characters instead: {GENERATE_PEPPER}"));
    }
}

/// `manifest_signing_secret_seed`: standard base64 of exactly 32 bytes (`config/bootstrap`).
fn check_seed(what: &str, value: &str, push: &mut impl FnMut(&str, Severity, String, String)) {
    use base64::Engine as _;
    let hint = "remove the key and let systemprompt write a fresh one, or put `openssl rand -base64 32` there".to_owned();
    // Upstream trims the seed before decoding it (`decode_seed`).
    match base64::engine::general_purpose::STANDARD.decode(value.trim()) {
        Ok(bytes) if bytes.len() == 32 => {}
        Ok(bytes) => push(
            "seed-length",
            Severity::Error,
            format!(
                "{what} decodes to {} bytes; it must be exactly 32",
                bytes.len()
            ),
            hint,
        ),
        Err(_) => push(
            "seed-not-base64",
            Severity::Error,
            format!("{what} is not standard base64"),
            hint,
        ),
    }
}

/// `signing_key_pem`: upstream decodes it as standard base64 of a PEM file.
fn check_signing_key(
    what: &str,
    value: &str,
    push: &mut impl FnMut(&str, Severity, String, String),
) {
    use base64::Engine as _;
    if is_pem(value) {
        push(
            "signing-key-not-base64",
            Severity::Error,
            format!("{what} is a PEM block, but systemprompt reads the base64 of one"),
            "encode the PEM file: `base64 -w0 signing-key.pem`, and put that here".to_owned(),
        );
        return;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    if !decoded.is_some_and(|pem| is_pem(&pem)) {
        push(
            "signing-key-invalid",
            Severity::Error,
            format!("{what} is not the base64 of a PEM block"),
            "encode the PEM file: `base64 -w0 signing-key.pem`, and put that here".to_owned(),
        );
    }
}

/// The first invisible character in a value, named: NUL, a tab or another control character, a
/// zero-width space or joiner, a byte-order mark, or a bidirectional control (U+202A–U+202E,
/// U+2066–U+2069). Line breaks are reported on their own.
fn invisible(value: &str) -> Option<String> {
    value.chars().find_map(|c| {
        let name = match c {
            '\0' => "a NUL byte".to_owned(),
            '\t' => "a tab".to_owned(),
            '\n' | '\r' => return None,
            '\u{200B}' => "a zero-width space (U+200B)".to_owned(),
            '\u{200C}' | '\u{200D}' | '\u{2060}' => {
                format!("a zero-width joiner (U+{:04X})", c as u32)
            }
            '\u{FEFF}' => "a byte-order mark (U+FEFF)".to_owned(),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                format!("a bidirectional control character (U+{:04X})", c as u32)
            }
            c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
            _ => return None,
        };
        Some(name)
    })
}

/// Whether `text` holds a PEM block (`-----BEGIN …-----` … `-----END …-----`).
fn is_pem(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("-----BEGIN ") && text.contains("\n-----END ") && text.ends_with("-----")
}

/// Repeated characters, a repeated pattern, or only one kind of character.
fn low_variety(value: &str) -> bool {
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
    distinct.len() < 10 || is_repetition(value) || classes < 2
}

/// Key names: not snake_case (legal upstream; said with the snake_case spelling), another case of
/// a typed key (`Anthropic`: upstream reads it as a custom key, never as `anthropic`), a likely
/// typo of a known key, or a key this generation does not read.
fn key_name_findings(resolved: &Resolved, release: &crate::upstream::Release) -> Vec<Finding> {
    let generation = release.generation;
    let mut out = Vec::new();
    let keys = resolved
        .entries
        .iter()
        .map(|(k, r)| (k, Some(&r.winner.source)))
        .chain(
            resolved
                .blanks
                .iter()
                .filter(|(k, _)| !resolved.entries.contains_key(*k))
                .map(|(k, s)| (k, Some(s))),
        );
    for (key, source) in keys {
        let location = || source.map(|s| Location::Source(s.clone()));
        if !keys::is_snake_case(key) {
            let snake = keys::to_snake_case(key);
            let (message, help) = if release.reads_exactly(&snake) {
                (
                    format!("key `{key}` is not `{snake}`: systemprompt reads it as a custom key, so `{snake}` is not set"),
                    format!("rename it to `{snake}`; systemprompt reads its own keys in lower case only"),
                )
            } else {
                (
                    format!("key `{key}` is not snake_case"),
                    format!("systemprompt accepts it, but `{snake}` is the usual spelling (keys match ^[a-z][a-z0-9_]*$)"),
                )
            };
            out.push(
                Finding::new(KEY_NAME, Severity::Warning, Some(key), message, help).at(location()),
            );
        }
        let other = match generation {
            Generation::Pepper => JWT_SECRET,
            Generation::JwtSecret => PEPPER,
        };
        if key == other {
            out.push(
                Finding::new(
                    UNREAD_KEY,
                    Severity::Warning,
                    Some(key),
                    format!("`{key}` is not read by {}: it is a custom key nothing reads", generation.releases()),
                    format!("this project is on {}; its secret is `{}`. Remove `{key}` once nothing of yours reads it", generation, generation.secret_key()),
                )
                .at(location()),
            );
        } else if let Some(known) = misspelling_of(key, generation) {
            out.push(
                Finding::new(
                    "misspelled-key",
                    Severity::Warning,
                    Some(key),
                    format!("key `{key}` is not one systemprompt knows"),
                    format!("did you mean `{known}`?"),
                )
                .at(location()),
            );
        }
    }
    out
}

/// Two keys that become the same environment name (`anthropic` and `anthropic_api_key`, `github`
/// and `github_token`): an error naming both places. Every verb gives the name the canonical
/// key's value ([`Resolved::by_env_name`]).
fn shared_env_names(resolved: &Resolved) -> Vec<Finding> {
    // A key that is not a known one becomes its upper-cased self, and keys that differ only in
    // case are refused when the file is read: so a shared name is always a known key's (`anthropic`)
    // and a key spelled like its env name (`anthropic_api_key`). Only those pairs are looked up.
    let place = |key: &str| {
        resolved
            .get(key)
            .map_or_else(String::new, |d| d.source.to_string())
    };
    keys::renamed_keys()
        .filter(|(kept, _)| resolved.entries.contains_key(*kept))
        .filter_map(|(kept, name)| {
            let other = [name.to_ascii_lowercase(), name.to_owned()]
                .into_iter()
                .find(|k| resolved.entries.contains_key(k))?;
            Some(
                Finding::new(
                    "shared-env-name",
                    Severity::Error,
                    Some(&other),
                    format!(
                        "`{other}` ({}) and `{kept}` ({}) both become {name}",
                        place(&other),
                        place(kept)
                    ),
                    format!(
                        "keep one of them; {name} takes `{kept}`, so remove `{other}` or rename it"
                    ),
                )
                .at(resolved
                    .get(&other)
                    .map(|d| Location::Source(d.source.clone()))),
            )
        })
        .collect()
}

/// The known key `key` is likely a misspelling of: the same letters without `_`/`-`, the
/// env-style name in lower case (`anthropic_api_key`), or one or two edits away.
fn misspelling_of(key: &str, generation: Generation) -> Option<&'static str> {
    // Runs for every key of a profile: no allocation unless a candidate is close in length.
    let squashed_eq = |a: &str, b: &str| {
        let skip = |c: &u8| *c != b'_' && *c != b'-';
        a.bytes()
            .filter(skip)
            .map(|c| c.to_ascii_lowercase())
            .eq(b.bytes().filter(skip))
    };
    if generation.knows(key) {
        return None;
    }
    let squashed_len = |s: &str| s.bytes().filter(|b| *b != b'_' && *b != b'-').count();
    let key_squashed = squashed_len(key);
    generation.known_keys().iter().copied().find(|k| {
        if key.len().abs_diff(k.len()) > 8 {
            return false;
        }
        if key.len() == k.len() && key.eq_ignore_ascii_case(k) {
            return false;
        }
        if (key_squashed == squashed_len(k) && squashed_eq(key, k))
            || keys::renamed_keys().any(|(known, env)| {
                known == *k && env.len() == key.len() && env.eq_ignore_ascii_case(key)
            })
        {
            return true;
        }
        if key.len() < 6 || key.len().abs_diff(k.len()) > 2 {
            return false;
        }
        let lower = key.to_ascii_lowercase();
        let extends = lower
            .strip_prefix(k)
            .is_some_and(|rest| rest.starts_with('_') || rest.bytes().all(|b| b.is_ascii_digit()));
        let limit = if lower.len() >= 9 { 2 } else { 1 };
        // Adjacent transpositions count as one edit (optimal string alignment): the typos people
        // make. The bag distance, a lower bound of it, rules out most keys without the table.
        !extends && bag_distance(&lower, k) <= limit && strsim::osa_distance(&lower, k) <= limit
    })
}

/// A lower bound of the edit distance of `a` and `b`: max(|a − b|, |b − a|) over the multisets of
/// their bytes, counted in 64 classes (bytes that share a class only lower the bound). An
/// insertion, deletion or substitution changes each side by at most one; a transposition, neither.
fn bag_distance(a: &str, b: &str) -> usize {
    let mut count = [0i16; 64];
    for &x in a.as_bytes() {
        count[usize::from(x & 63)] += 1;
    }
    for &x in b.as_bytes() {
        count[usize::from(x & 63)] -= 1;
    }
    let total: usize = count.iter().map(|c| usize::from(c.unsigned_abs())).sum();
    // extra + missing = total and extra − missing = |a| − |b|.
    usize::midpoint(total, a.len().abs_diff(b.len()))
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
    if low_variety(value) {
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
        // A socket path: libpq and sqlx connect through the local socket.
        push(
            "database-url-no-host",
            Severity::Warning,
            format!("{what} has no host"),
            form.clone(),
        );
    }
    let db = url.path().trim_start_matches('/');
    if db.is_empty() {
        // PostgreSQL then connects to the database named like the user.
        push(
            "database-url-no-database",
            Severity::Warning,
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

/// Provider prefixes that docs keep in front of a placeholder (`sk-ant-your-key-here`), longest
/// first.
const PLACEHOLDER_PREFIXES: &[&str] = &[
    "sk-ant-api03-",
    "sk-ant-",
    "sk-proj-",
    "moltbook_sk_",
    "github_pat_",
    "sk_live_",
    "sk_test_",
    "sk-",
    "ghp_",
    "gho_",
    "aiza",
];

/// Whether `value` is a placeholder copied from docs or templates (`sk-ant-...`, `changeme`,
/// `<key>`), also behind a provider prefix (`sk-ant-xxxxxxxxxxxx`, `sk-ant-REPLACE_ME`).
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    is_placeholder_text(&lower)
        || PLACEHOLDER_PREFIXES.iter().any(|p| {
            lower
                .strip_prefix(p)
                .is_some_and(|rest| !rest.is_empty() && is_placeholder_text(rest))
        })
}

fn is_placeholder_text(lower: &str) -> bool {
    let words = lower.replace('_', "-");
    PLACEHOLDERS.contains(&lower)
        || PLACEHOLDERS.contains(&words.as_str())
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
        load_and_validate(
            json,
            config,
            crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
            &MapEnv::default(),
        )
    }

    /// Writes `json` as a private secrets.json, loads it with `env` and validates it.
    fn load_and_validate(
        json: &str,
        config: &Config,
        detected: crate::generation::Detected,
        env: &MapEnv,
    ) -> Vec<Finding> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.json");
        std::fs::write(&p, json).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let settings = config.for_profile("local", detected);
        let opts = LoadOptions {
            env,
            use_env: true,
            read_file: true,
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
                "missing-required-key",
                "missing-ai-provider",
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
            validate_value(
                "database_url",
                v,
                &source,
                None,
                crate::upstream::Release::latest(),
            )
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
            let findings = validate_value(
                "database_url",
                raw,
                &source,
                None,
                crate::upstream::Release::latest(),
            );
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
                "agent-key-prefix",
                "openai-prefix",
                "gemini-shape",
                "github-shape"
            ]
        );
        let f = run(&good("").replace(ANT, "sk-ant-api03-short"));
        assert_eq!(codes(&f), ["anthropic-shape"]);
        let f = run(&good("").replace(ANT, "sk-proj-abc"));
        assert_eq!(codes(&f), ["anthropic-prefix"]);
        // A project key cut short is not told to start with what it starts with.
        let f = run(&good(", \"openai\": \"sk-proj-abcdefghij\""));
        let shape = f
            .iter()
            .find(|f| f.code == "openai-shape")
            .expect("openai-shape");
        assert!(!shape.hint.contains("start with `sk-proj-`"), "{shape:?}");
        assert!(shape.hint.contains("T3BlbkFJ"), "{shape:?}");
    }

    #[test]
    fn placeholders_keep_errors_behind_a_provider_prefix() {
        for value in [
            "sk-ant-xxxxxxxxxxxx",
            "sk-ant-your-key-here",
            "sk-ant-REPLACE_ME",
            "sk-your-key-here",
            "sk-ant-api03-xxxxxxxx",
            "AIzaXXXXXXXXXXXXXXXX",
            "ghp_your_token_here",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in [
            ANT,
            "sk-ant-x",
            "sk-proj-abc",
            "ghp_0123456789abcdef",
            "secretive",
        ] {
            assert!(!is_placeholder(value), "{value}");
        }
        let f = run(&good(", \"openai\": \"sk-your-key-here\"").replace(ANT, "sk-ant-REPLACE_ME"));
        assert_eq!(codes(&f), ["placeholder-value", "placeholder-value"]);
        assert!(f.iter().all(|f| f.severity == Severity::Error));
    }

    #[test]
    fn placeholders_whitespace_newlines() {
        let f = run(&good(
            ", \"openai\": \"sk-...\", \"gemini\": \"your-key-here\", \"github\": \" ghp_x\\n\"",
        ));
        // A space and a pasted line break around a value: one slip, one finding.
        assert_eq!(
            codes(&f),
            [
                "placeholder-value",
                "surrounding-whitespace",
                "placeholder-value"
            ]
        );
        assert!(
            f[1].message.contains("whitespace and a line break"),
            "{:?}",
            f[1]
        );
        let f = run(&good(", \"github\": \"ghp_x\\n\""));
        assert_eq!(codes(&f), ["surrounding-whitespace"]);
        assert!(
            f[0].message.ends_with("ends with a line break"),
            "{:?}",
            f[0]
        );
        assert!(!f[0].hint.contains("spaces or tabs"), "{:?}", f[0]);
        let f = run(&good(", \"github\": \"ghp_x\\nghp_y\""));
        assert_eq!(codes(&f), ["embedded-newline"]);
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

    /// On systemprompt 0.34 (the pepper generation, before the boot required more).
    fn run_pepper(json: &str) -> Vec<Finding> {
        load_and_validate(
            json,
            &Config::default(),
            crate::generation::Detected::at_version("0.34.0"),
            &MapEnv::from_pairs([("KIMI_API_KEY", "sk-kimi-from-env")]),
        )
    }

    const PEPPER: &str = "Qm7Xr2Lk9Vt4Bn8Hc3Jw6Pz1Sd5Fg0Ya2Ue7Io4Kl8Mn3Bv6Cx9ZqWeRtYuIoPa";

    #[test]
    fn the_pepper_generation_requires_the_pepper_and_counts_more_providers() {
        let good = format!(
            "{{\"oauth_at_rest_pepper\": \"{PEPPER}\", \"database_url\": \"postgres://a:b@h/db\"}}"
        );
        // moonshot from KIMI_API_KEY is an AI provider in this generation.
        assert!(run_pepper(&good).is_empty(), "{:?}", run_pepper(&good));
        let f = run_pepper(
            "{\"oauth_at_rest_pepper\": \"short\", \"database_url\": \"postgres://a:b@h/db\"}",
        );
        assert_eq!(codes(&f), ["pepper-too-short"]);
        assert!(
            f[0].message
                .contains("oauth_at_rest_pepper must be at least 32 characters (got 5)"),
            "{}",
            f[0].message
        );
        let f = run_pepper("{\"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\", \"database_url\": \"postgres://a:b@h/db\"}");
        assert_eq!(codes(&f), ["missing-required-key", "unread-key"]);
        assert!(f[1].is_advisory(), "a leftover jwt_secret fails no mode");
        assert!(
            f[0].hint.contains("rotate oauth_at_rest_pepper"),
            "{}",
            f[0].hint
        );
    }

    /// On systemprompt 0.77, with `conditions`.
    fn run_077(json: &str, conditions: crate::upstream::BootConditions) -> Vec<Finding> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.json");
        std::fs::write(&p, json).unwrap();
        let mut settings = Config::default()
            .for_profile("local", crate::generation::Detected::at_version("0.77.0"));
        settings.boot = conditions;
        let opts = LoadOptions {
            env: &MapEnv::default(),
            use_env: false,
            read_file: true,
            env_files: vec![],
            cache: &NoCache,
            project_id: "p",
        };
        validate(&load(&p, &settings, "local", &opts).unwrap(), &settings)
            .into_iter()
            .filter(|f| !f.is_advisory())
            .collect()
    }

    #[test]
    fn on_0_77_the_seed_and_master_key_are_boot_refusals_in_every_mode() {
        use base64::Engine as _;
        let seed = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let master = "ab".repeat(32);
        let doc = |extra: &str| {
            format!(
                "{{\"oauth_at_rest_pepper\": \"{PEPPER}\", \"database_url\": \"postgres://a:b@h/db\", \"anthropic\": \"{ANT}\"{extra}}}"
            )
        };
        let none = crate::upstream::BootConditions::default();
        let f = run_077(&doc(""), none);
        assert_eq!(codes(&f), ["missing-required-key", "missing-required-key"]);
        assert!(f.iter().all(|f| f.refuses_boot), "{f:?}");
        assert!(
            f[0].message.contains("systemprompt 0.77.0 refuses to boot"),
            "{}",
            f[0].message
        );
        assert!(
            crate::finding::Mode::Warn.fails_on(&f[0])
                && crate::finding::Mode::Skip.fails_on(&f[0])
        );
        // Upstream trims the seed and the master key, reads either case of hex, and finds the
        // master key under its upper-case name too.
        let ok = run_077(
            &doc(&format!(", \"manifest_signing_secret_seed\": \" {seed} \", \"ENCRYPTION_MASTER_KEY\": \"{}\"", master.to_uppercase())),
            none,
        );
        assert!(
            ok.iter()
                .all(|f| !f.refuses_boot && f.severity == Severity::Warning),
            "{ok:?}"
        );
        let bad = run_077(
            &doc(&format!(
                ", \"manifest_signing_secret_seed\": \"{seed}\", \"encryption_master_key\": \"{}\"",
                &master[..62]
            )),
            none,
        );
        assert_eq!(codes(&bad), ["master-key-length"]);
        assert!(
            bad[0].refuses_boot && bad[0].message.contains("got 31"),
            "{bad:?}"
        );
        // target: cloud needs the signing key; multi-tenant licences need their secret.
        let full = doc(&format!(", \"manifest_signing_secret_seed\": \"{seed}\", \"encryption_master_key\": \"{master}\""));
        let cloud = run_077(
            &full,
            crate::upstream::BootConditions {
                cloud_target: true,
                multi_tenant: true,
            },
        );
        let keys: Vec<_> = cloud.iter().filter_map(|f| f.key.as_deref()).collect();
        assert_eq!(keys, ["licence_signing_secret", "signing_key_pem"]);
        // A database_session_url must be PostgreSQL from 0.70.
        let f = run_077(
            &full.replace('}', ", \"database_session_url\": \"mysql://h/db\"}"),
            none,
        );
        assert_eq!(codes(&f), ["database-url-scheme"]);
        assert!(f[0].refuses_boot);
    }

    #[test]
    fn without_a_version_the_later_boot_keys_are_advice() {
        let f = load_and_validate(
            &format!("{{\"oauth_at_rest_pepper\": \"{PEPPER}\", \"database_url\": \"postgres://a:b@h/db\", \"anthropic\": \"{ANT}\"}}"),
            &Config::default(),
            crate::generation::Detected::fixed(crate::generation::Generation::Pepper),
            &MapEnv::default(),
        );
        assert_eq!(
            codes(&f),
            [
                crate::finding::LATER_BOOT_KEY,
                crate::finding::LATER_BOOT_KEY
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.is_advisory() && !crate::finding::Mode::Strict.fails_on(f)));
        assert!(f[0].message.contains("0.62 and later"), "{}", f[0].message);
    }

    #[test]
    fn rules_for_every_key_0_34_knows() {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let pem =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let with = |extra: &str| {
            run_pepper(&format!(
                "{{\"oauth_at_rest_pepper\": \"{PEPPER}\", \"database_url\": \"postgres://a:b@h/db\"{extra}}}"
            ))
        };
        let ok = with(&format!(
            ", \"manifest_signing_secret_seed\": \"{}\", \"signing_key_pem\": \"{}\", \"internal_database_url\": \"postgres://a:b@i/db\"",
            b64(&[7; 32]),
            b64(pem.as_bytes())
        ));
        assert!(ok.is_empty(), "{ok:?}");
        let cases = [
            (
                format!(", \"manifest_signing_secret_seed\": \"{}\"", b64(&[7; 16])),
                "seed-length",
            ),
            (
                ", \"manifest_signing_secret_seed\": \"not base64!\"".to_owned(),
                "seed-not-base64",
            ),
            (
                format!(
                    ", \"signing_key_pem\": {}",
                    serde_json::to_string(pem).unwrap()
                ),
                "signing-key-not-base64",
            ),
            (
                format!(", \"signing_key_pem\": \"{}\"", b64(b"hello")),
                "signing-key-invalid",
            ),
            (
                ", \"database_write_url\": \"mysql://a:b@h/db\"".to_owned(),
                "database-url-scheme",
            ),
            (
                ", \"external_database_url\": \"postgres://a:b@h\"".to_owned(),
                "database-url-no-database",
            ),
            (
                ", \"internal_database_url\": \"postgres://a:p@ss@h/db\"".to_owned(),
                "database-url-unencoded",
            ),
        ];
        for (extra, code) in cases {
            assert_eq!(codes(&with(&extra)), [code], "{extra}");
        }
    }

    #[test]
    fn key_names_warn_with_the_usual_spelling_and_typos_get_a_suggestion() {
        let f = run_pepper(&format!("{{\"oauth_at_rest_pepper\": \"{PEPPER}\", \"database_url\": \"postgres://a:b@h/db\", \"MailgunKey\": \"x\", \"open_ai\": \"y\", \"anthropic_api_key\": \"z\", \"jwt_secrt\": \"w\", \"github_webhook_secret\": \"v\", \"qwen2\": \"u\"}}"));
        let got: Vec<(String, String, String)> = f
            .iter()
            .map(|f| {
                (
                    f.code.clone(),
                    f.key.clone().unwrap_or_default(),
                    f.hint.clone(),
                )
            })
            .collect();
        assert!(got.contains(&("key-not-snake-case".into(), "MailgunKey".into(), "systemprompt accepts it, but `mailgun_key` is the usual spelling (keys match ^[a-z][a-z0-9_]*$)".into())), "{got:?}");
        for (key, known) in [("open_ai", "openai"), ("anthropic_api_key", "anthropic")] {
            assert!(
                got.contains(&(
                    "misspelled-key".into(),
                    key.into(),
                    format!("did you mean `{known}`?")
                )),
                "{key}: {got:?}"
            );
        }
        assert!(
            !got.iter()
                .any(|(_, k, _)| k == "github_webhook_secret" || k == "qwen2"),
            "custom keys that merely start like a known one are fine: {got:?}"
        );
        // In the older generation, `jwt_secrt` is a typo of its required key.
        let f = run("{\"jwt_secrt\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\"}");
        assert!(
            f.iter()
                .any(|f| f.code == "misspelled-key" && f.hint == "did you mean `jwt_secret`?"),
            "{f:?}"
        );
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

    #[test]
    fn the_bag_distance_never_exceeds_the_edit_distance() {
        let words = [
            "anthropic",
            "antropic",
            "anthorpic",
            "openai",
            "opena1",
            "k00001",
            "database_url",
            "databse_url",
            "github",
            "gihtub",
            "",
            "a",
            "zz",
            "oauth_at_rest_pepper",
        ];
        for a in words {
            for b in words {
                assert!(
                    super::bag_distance(a, b) <= strsim::osa_distance(a, b),
                    "{a} {b}"
                );
            }
        }
    }
}
