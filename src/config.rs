//! `[workspace|package.metadata.systemprompt-secrets]`: typed, strict, merged workspace → package → flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::finding::{Mode, Severity};
use crate::generation::{Detected, Generation};
use crate::keys;

/// The name of the metadata table.
pub const TABLE: &str = "systemprompt-secrets";

const TOP_KEYS: &[&str] = &[
    "project",
    "generation",
    "backend",
    "openbao",
    "profiles-dir",
    "default-profile",
    "required",
    "require-ai-provider",
    "protected-profiles",
    "rules",
    "profiles",
    "scan",
    "allow",
];
const SCAN_KEYS: &[&str] = &["allow"];
const SCAN_ALLOW_KEYS: &[&str] = &["path", "reason"];
const RULE_KEYS: &[&str] = &[
    "prefix",
    "min-length",
    "pattern",
    "required",
    "severity",
    "generate",
];
const PROFILE_KEYS: &[&str] = &[
    "required",
    "require-ai-provider",
    "rules",
    "validation",
    "tenant-id",
    "backend",
];
const OPENBAO_KEYS: &[&str] = &[
    "address",
    "mount",
    "path",
    "namespace",
    "ca-cert",
    "remote-names",
];

/// Where a profile's remote secrets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum RemoteBackend {
    /// The systemprompt cloud API.
    #[default]
    Systemprompt,
    /// An OpenBao or HashiCorp Vault server (KV v2).
    Openbao,
}

/// How remote names are spelled in OpenBao.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteNames {
    /// The secrets.json keys (`anthropic`), so a round trip loses nothing.
    #[default]
    Keys,
    /// Env-style names (`ANTHROPIC_API_KEY`).
    Env,
}

/// One address or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Addresses {
    /// One URL.
    One(String),
    /// Several URLs, tried in order.
    Many(Vec<String>),
}

impl Addresses {
    /// The addresses as a list.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Addresses::One(a) => vec![a.clone()],
            Addresses::Many(v) => v.clone(),
        }
    }
}

/// `[…openbao]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OpenBaoTable {
    /// One URL or a list.
    pub address: Option<Addresses>,
    /// The KV v2 mount (default `secret`).
    pub mount: Option<String>,
    /// The path template (default `systemprompt/{project}/{profile}`).
    pub path: Option<String>,
    /// Sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// A PEM CA certificate to trust (relative to the manifest).
    pub ca_cert: Option<PathBuf>,
    /// `keys` (default) or `env`.
    pub remote_names: Option<RemoteNames>,
}

/// Profile names protected when the manifest does not say otherwise (`*` matches any text).
pub const DEFAULT_PROTECTED: &[&str] = &["production", "prod", "*prod*"];

/// One metadata table as written in one manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ManifestTable {
    /// The project's name (`{project}` in the OpenBao path); only in the workspace root's manifest.
    pub project: Option<String>,
    /// Pins the secrets.json generation: `pepper` (systemprompt 0.11 and later) or `jwt-secret`.
    pub generation: Option<Generation>,
    /// The remote of every profile (default `systemprompt`).
    pub backend: Option<RemoteBackend>,
    /// OpenBao / Vault settings.
    pub openbao: Option<OpenBaoTable>,
    /// Where the profile folders live.
    pub profiles_dir: Option<PathBuf>,
    /// The profile used when none is chosen.
    pub default_profile: Option<String>,
    /// Keys that must be present.
    pub required: Option<Vec<String>>,
    /// Whether one of anthropic / openai / gemini must be present.
    pub require_ai_provider: Option<bool>,
    /// Profiles validated strictly and (later) confirmed before writes.
    pub protected_profiles: Option<Vec<String>>,
    /// Custom rules per key.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// Per-profile overrides.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileOverride>,
    /// `scan` settings.
    pub scan: Option<ScanTable>,
    /// Advice codes not reported for this project (a demo whose values are fake, say).
    pub allow: Option<Vec<String>>,
}

/// `[…scan]`: what `scan` may find without failing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScanTable {
    /// Files whose findings are allowed, each with the reason.
    #[serde(default)]
    pub allow: Vec<ScanAllow>,
}

/// One `allow = [{ path = "…", reason = "…" }]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScanAllow {
    /// A glob (`*`, `**`, `?`), relative to the manifest's folder.
    pub path: String,
    /// Why these findings are fine (shown with every allowed finding).
    pub reason: String,
    /// The manifest's folder (filled in when the table is read).
    #[serde(skip)]
    pub base: PathBuf,
}

/// `[…rules.<key>]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleConfig {
    /// The value must start with this.
    pub prefix: Option<String>,
    /// The value must have at least this many characters.
    pub min_length: Option<usize>,
    /// The whole value must match this regular expression.
    pub pattern: Option<String>,
    /// The key must be present.
    pub required: Option<bool>,
    /// The severity of this rule's findings (default `error`).
    pub severity: Option<Severity>,
    /// How `rotate` makes a new value: `base64:48`, `hex:32` or `alnum:40`.
    pub generate: Option<String>,
}

/// `[…profiles.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileOverride {
    /// Replaces `required` for this profile.
    pub required: Option<Vec<String>>,
    /// Replaces `require-ai-provider` for this profile.
    pub require_ai_provider: Option<bool>,
    /// Rules merged over the shared ones for this profile.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// The validation mode for this profile.
    pub validation: Option<Mode>,
    /// The systemprompt cloud tenant of this profile.
    pub tenant_id: Option<String>,
    /// The remote of this profile.
    pub backend: Option<RemoteBackend>,
}

/// A configuration problem in a manifest. Manifests hold no secrets, so values may be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key that this table does not have.
    #[error("{}{}: unknown key `{key}` in [{table}]", manifest.display(), place(*line, *column))]
    UnknownKey {
        /// The manifest.
        manifest: PathBuf,
        /// The 1-based line, when found.
        line: Option<usize>,
        /// The 1-based column, when found.
        column: Option<usize>,
        /// The dotted table name.
        table: String,
        /// The unknown key.
        key: String,
        /// The closest valid key.
        suggestion: Option<String>,
        /// All valid keys.
        valid: Vec<&'static str>,
    },
    /// A value of the wrong type or shape.
    #[error("{}{}: invalid [{table}]: {message}", manifest.display(), place(*line, *column))]
    Invalid {
        /// The manifest.
        manifest: PathBuf,
        /// The 1-based line, when found.
        line: Option<usize>,
        /// The 1-based column, when found.
        column: Option<usize>,
        /// The key the value belongs to, when known.
        key: Option<String>,
        /// The dotted table name.
        table: String,
        /// What serde said.
        message: String,
    },
    /// A rule's `pattern` is not a valid regular expression.
    #[error("{}{}: rule `{key}` has an invalid pattern: {message}", manifest.display(), place(*line, *column))]
    Pattern {
        /// The manifest.
        manifest: PathBuf,
        /// The 1-based line of the pattern, when found.
        line: Option<usize>,
        /// The 1-based column, when found.
        column: Option<usize>,
        /// The rule's key.
        key: String,
        /// The regex error.
        message: String,
    },
}

impl ConfigError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::UnknownKey {
                suggestion, valid, ..
            } => Some(suggestion.as_ref().map_or_else(
                || format!("valid keys are: {}", valid.join(", ")),
                |s| format!("did you mean `{s}`?"),
            )),
            Self::Invalid { key, .. } => Some(key.as_deref().and_then(expected_form).map_or_else(
                || "see \"Configuration\" in the README for each key and its values".to_owned(),
                |form| {
                    format!(
                        "`{}` takes {form} (see \"Configuration\" in the README)",
                        key.as_deref().unwrap_or_default()
                    )
                },
            )),
            Self::Pattern { .. } => {
                Some("`pattern` uses Rust regex syntax and must match the whole value".to_owned())
            }
        }
    }
}

fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// What each manifest key takes, for the help of a value of the wrong type.
fn expected_form(key: &str) -> Option<&'static str> {
    Some(match key {
        "generation" => {
            "`\"pepper\"` (systemprompt 0.11 and later) or `\"jwt-secret\"` (0.10 and earlier)"
        }
        "backend" => "`\"systemprompt\"` (the cloud) or `\"openbao\"`",
        "profiles-dir" | "ca-cert" => "a path, relative to the manifest",
        "default-profile" => "a profile name, such as `\"local\"`",
        "required" => "a list of key names, such as `[\"oauth_at_rest_pepper\", \"database_url\"]`",
        "require-ai-provider" => "`true` or `false`",
        "protected-profiles" => {
            "a list of profile names or `*` patterns, such as `[\"production\", \"*prod*\"]`"
        }
        "allow" => "a list of advice codes, such as `[\"file-permissions\"]`",
        "validation" => "one of `\"strict\"`, `\"default\"`, `\"warn\"`, `\"skip\"`",
        "project" => "the project's name, a string (it replaces `{project}` in the OpenBao path)",
        "tenant-id" | "mount" | "namespace" | "prefix" | "reason" => "a string",
        "path" => {
            "a string (for OpenBao, a template such as `\"systemprompt/{project}/{profile}\"`)"
        }
        "pattern" => "a Rust regular expression, as a string",
        "address" => "a URL or a list of URLs, such as `\"https://bao.internal:8200\"`",
        "remote-names" => "`\"keys\"` or `\"env\"`",
        "min-length" => "a whole number of characters, such as `32`",
        "severity" => "`\"error\"` or `\"warning\"`",
        "generate" => "a generator such as `\"base64:48\"`, `\"hex:32\"` or `\"alnum:64\"`",
        "rules" | "profiles" | "openbao" | "scan" => "a table",
        _ => return None,
    })
}

/// Where a metadata table came from: the manifest path, its text (for line numbers) and its table name.
#[derive(Debug, Clone, Copy)]
pub struct TableSource<'a> {
    /// The manifest file.
    pub manifest: &'a Path,
    /// `workspace.metadata` or `package.metadata`.
    pub prefix: &'a str,
}

/// The merged configuration for a project.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project's name, when the manifest gives one.
    pub project: Option<String>,
    /// The generation the manifest pins, if it does.
    pub generation: Option<Generation>,
    /// The remote of every profile unless overridden.
    pub backend: RemoteBackend,
    /// OpenBao settings (`ca-cert` made absolute).
    pub openbao: OpenBaoTable,
    /// Profiles folder (absolute) when configured.
    pub profiles_dir: Option<PathBuf>,
    /// The default profile.
    pub default_profile: Option<String>,
    /// Keys that must be present, when the manifest says (else the generation's).
    pub required: Option<Vec<String>>,
    /// At least one AI provider key.
    pub require_ai_provider: bool,
    /// Protected profile names or `*` patterns.
    pub protected_profiles: Vec<String>,
    /// Custom rules.
    pub rules: BTreeMap<String, RuleConfig>,
    /// Per-profile overrides.
    pub profiles: BTreeMap<String, ProfileOverride>,
    /// The manifests whose tables were read.
    pub manifests: Vec<PathBuf>,
    /// `scan` allow-list entries from every table read.
    pub scan_allow: Vec<ScanAllow>,
    /// Advice codes the manifest turns off ([`crate::finding::ADVISORY`]).
    pub allow: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            project: None,
            generation: None,
            backend: RemoteBackend::default(),
            openbao: OpenBaoTable::default(),
            profiles_dir: None,
            default_profile: None,
            required: None,
            require_ai_provider: true,
            protected_profiles: DEFAULT_PROTECTED.iter().map(|s| (*s).to_owned()).collect(),
            rules: BTreeMap::new(),
            profiles: BTreeMap::new(),
            manifests: Vec::new(),
            scan_allow: Vec::new(),
            allow: Vec::new(),
        }
    }
}

/// The effective settings for one profile.
#[derive(Debug, Clone)]
pub struct ProfileSettings {
    /// The secrets.json generation, and why.
    pub generation: Detected,
    /// Keys that must be present.
    pub required: Vec<String>,
    /// At least one AI provider key.
    pub require_ai_provider: bool,
    /// Custom rules (shared merged with the profile's).
    pub rules: BTreeMap<String, RuleConfig>,
    /// Mode from the manifest, if set.
    pub validation: Option<Mode>,
    /// Whether the profile is protected.
    pub protected: bool,
    /// The cloud tenant from the manifest, if set.
    pub tenant_id: Option<String>,
    /// The remote backend.
    pub backend: RemoteBackend,
    /// Advice codes the manifest turns off.
    pub allow: Vec<String>,
    /// What profile.yaml says that upstream's boot checks depend on.
    pub boot: crate::upstream::BootConditions,
}

impl ProfileSettings {
    /// Whether the manifest's `allow` turns off the advice `code`.
    #[must_use]
    pub fn allows(&self, code: &str) -> bool {
        self.allow.iter().any(|a| a == code)
    }

    /// The validation mode: the manifest's, else profile.yaml's (`from_yaml`), else strict for a
    /// protected profile and default for the others.
    #[must_use]
    pub fn mode(&self, from_yaml: Option<Mode>) -> Mode {
        self.validation.or(from_yaml).unwrap_or(if self.protected {
            Mode::Strict
        } else {
            Mode::Default
        })
    }
}

impl Config {
    /// Parses and merges the workspace table and then the package table over it.
    ///
    /// Each argument is the table's source and the `systemprompt-secrets` value, if present.
    pub fn from_tables(
        workspace: Option<(TableSource<'_>, &serde_json::Value)>,
        package: Option<(TableSource<'_>, &serde_json::Value)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        for (source, value) in [workspace, package].into_iter().flatten() {
            let table = parse_table(source, value)?;
            config.apply(source.manifest, table);
            config.manifests.push(source.manifest.to_path_buf());
        }
        Ok(config)
    }

    fn apply(&mut self, manifest: &Path, t: ManifestTable) {
        let base = manifest.parent().unwrap_or(Path::new("."));
        if let Some(dir) = t.profiles_dir {
            self.profiles_dir = Some(base.join(dir));
        }
        if let Some(b) = t.backend {
            self.backend = b;
        }
        if let Some(o) = t.openbao {
            macro_rules! take {
                ($($f:ident),*) => {$( if o.$f.is_some() { self.openbao.$f = o.$f; } )*};
            }
            take!(address, mount, path, namespace, remote_names);
            if let Some(ca) = o.ca_cert {
                self.openbao.ca_cert = Some(base.join(ca));
            }
        }
        if let Some(p) = t.default_profile {
            self.default_profile = Some(p);
        }
        if let Some(r) = t.required {
            self.required = Some(r);
        }
        if let Some(p) = t.project {
            self.project = Some(p);
        }
        if let Some(a) = t.allow {
            self.allow = a;
        }
        if let Some(g) = t.generation {
            self.generation = Some(g);
        }
        if let Some(r) = t.require_ai_provider {
            self.require_ai_provider = r;
        }
        if let Some(p) = t.protected_profiles {
            self.protected_profiles = p;
        }
        merge_rules(&mut self.rules, t.rules);
        for mut allow in t.scan.map(|s| s.allow).unwrap_or_default() {
            allow.base = base.to_path_buf();
            self.scan_allow.push(allow);
        }
        for (name, over) in t.profiles {
            let slot = self.profiles.entry(name).or_default();
            if over.required.is_some() {
                slot.required = over.required;
            }
            if over.require_ai_provider.is_some() {
                slot.require_ai_provider = over.require_ai_provider;
            }
            if over.validation.is_some() {
                slot.validation = over.validation;
            }
            if over.tenant_id.is_some() {
                slot.tenant_id = over.tenant_id;
            }
            if over.backend.is_some() {
                slot.backend = over.backend;
            }
            merge_rules(&mut slot.rules, over.rules);
        }
    }

    /// Whether `profile` is protected (strict by default; confirmations before remote writes).
    #[must_use]
    pub fn is_protected(&self, profile: &str) -> bool {
        self.protected_profiles
            .iter()
            .any(|p| glob_match(p, profile))
    }

    /// The remote of `profile` (no secrets.json is read to know it).
    #[must_use]
    pub fn backend_of(&self, profile: &str) -> RemoteBackend {
        self.profiles
            .get(profile)
            .and_then(|o| o.backend)
            .unwrap_or(self.backend)
    }

    /// The manifest's cloud tenant of `profile`, if it names one.
    #[must_use]
    pub fn tenant_of(&self, profile: &str) -> Option<String> {
        self.profiles.get(profile).and_then(|o| o.tenant_id.clone())
    }

    /// The settings for one profile of `generation`: the shared ones with the profile's overrides
    /// applied.
    #[must_use]
    pub fn for_profile(&self, profile: &str, generation: Detected) -> ProfileSettings {
        let over = self.profiles.get(profile);
        let mut rules = self.rules.clone();
        if let Some(o) = over {
            merge_rules(&mut rules, o.rules.clone());
        }
        let mut required = over
            .and_then(|o| o.required.clone())
            .or_else(|| self.required.clone())
            .unwrap_or_else(|| {
                generation
                    .generation
                    .required()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            });
        for (key, rule) in &rules {
            if rule.required == Some(true) && !required.contains(key) {
                required.push(key.clone());
            }
            if rule.required == Some(false) {
                required.retain(|k| k != key);
            }
        }
        ProfileSettings {
            generation,
            required,
            require_ai_provider: over
                .and_then(|o| o.require_ai_provider)
                .unwrap_or(self.require_ai_provider),
            rules,
            validation: over.and_then(|o| o.validation),
            protected: self.is_protected(profile),
            tenant_id: self.tenant_of(profile),
            backend: self.backend_of(profile),
            allow: self.allow.clone(),
            boot: crate::upstream::BootConditions::default(),
        }
    }
}

fn merge_rules(into: &mut BTreeMap<String, RuleConfig>, from: BTreeMap<String, RuleConfig>) {
    for (key, rule) in from {
        let slot = into.entry(key).or_default();
        macro_rules! take {
            ($($f:ident),*) => {$( if rule.$f.is_some() { slot.$f = rule.$f; } )*};
        }
        take!(prefix, min_length, pattern, required, severity, generate);
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

fn parse_table(
    source: TableSource<'_>,
    value: &serde_json::Value,
) -> Result<ManifestTable, ConfigError> {
    let table = format!("{}.{TABLE}", source.prefix);
    let at = |segments: &[&str]| segments.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    check_keys(source, &[], value, TOP_KEYS)?;
    if let Some(rules) = value.get("rules").and_then(|v| v.as_object()) {
        for (key, rule) in rules {
            check_keys(source, &at(&["rules", key]), rule, RULE_KEYS)?;
        }
    }
    if let Some(openbao) = value.get("openbao") {
        check_keys(source, &at(&["openbao"]), openbao, OPENBAO_KEYS)?;
    }
    if let Some(scan) = value.get("scan") {
        check_keys(source, &at(&["scan"]), scan, SCAN_KEYS)?;
        if let Some(allow) = scan.get("allow").and_then(|v| v.as_array()) {
            for (i, entry) in allow.iter().enumerate() {
                let i = i.to_string();
                check_keys(source, &at(&["scan", "allow", &i]), entry, SCAN_ALLOW_KEYS)?;
            }
        }
    }
    if let Some(profiles) = value.get("profiles").and_then(|v| v.as_object()) {
        for (name, over) in profiles {
            check_keys(source, &at(&["profiles", name]), over, PROFILE_KEYS)?;
            if let Some(rules) = over.get("rules").and_then(|v| v.as_object()) {
                for (key, rule) in rules {
                    check_keys(
                        source,
                        &at(&["profiles", name, "rules", key]),
                        rule,
                        RULE_KEYS,
                    )?;
                }
            }
        }
    }
    let parsed = deserialize(source, value)?;
    for (i, code) in parsed.allow.iter().flatten().enumerate() {
        if !crate::finding::ADVISORY.contains(&code.as_str()) {
            let (line, column) = position(source, &["allow".to_owned(), i.to_string()]);
            return Err(ConfigError::Invalid {
                manifest: source.manifest.to_path_buf(),
                line,
                column,
                key: Some("allow".to_owned()),
                table: table.clone(),
                message: format!(
                    "`allow` lists `{code}`, which is not advice that can be turned off; it may list {}",
                    crate::finding::ADVISORY.join(", ")
                ),
            });
        }
    }
    let rule_sets =
        std::iter::once(&parsed.rules).chain(parsed.profiles.values().map(|p| &p.rules));
    for rules in rule_sets {
        for (key, rule) in rules {
            let at = |field: &str| rule_position(source, value, key, field);
            if let Some(spec) = &rule.generate {
                crate::generate::Spec::parse(spec).map_err(|message| {
                    let (line, column) = at("generate");
                    ConfigError::Invalid {
                        manifest: source.manifest.to_path_buf(),
                        line,
                        column,
                        key: Some("generate".to_owned()),
                        table: format!("{table}.rules.{key}"),
                        message,
                    }
                })?;
            }
            if let Some(pattern) = &rule.pattern {
                regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                    let (line, column) = at("pattern");
                    ConfigError::Pattern {
                        manifest: source.manifest.to_path_buf(),
                        line,
                        column,
                        key: key.clone(),
                        message: e.to_string(),
                    }
                })?;
            }
        }
    }
    Ok(parsed)
}

/// The dotted name of the table at `path` below the metadata table (array indices left out).
fn table_name(source: TableSource<'_>, path: &[String]) -> String {
    let mut name = format!("{}.{TABLE}", source.prefix);
    for segment in path.iter().filter(|s| s.parse::<usize>().is_err()) {
        name.push('.');
        name.push_str(segment);
    }
    name
}

/// The table as typed configuration; a value of the wrong type is an error at its key's line.
fn deserialize(
    source: TableSource<'_>,
    value: &serde_json::Value,
) -> Result<ManifestTable, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let (line, column) = position(source, &path);
        let key = path
            .iter()
            .rev()
            .find(|s| s.parse::<usize>().is_err())
            .cloned();
        let table = table_name(
            source,
            path.split_last().map_or(&[][..], |(_, parents)| parents),
        );
        ConfigError::Invalid {
            manifest: source.manifest.to_path_buf(),
            line,
            column,
            key,
            table,
            message: e.into_inner().to_string(),
        }
    })
}

fn check_keys(
    source: TableSource<'_>,
    path: &[String],
    value: &serde_json::Value,
    valid: &[&'static str],
) -> Result<(), ConfigError> {
    let table = table_name(source, path);
    let Some(object) = value.as_object() else {
        let (line, column) = position(source, path);
        return Err(ConfigError::Invalid {
            manifest: source.manifest.to_path_buf(),
            line,
            column,
            key: path.last().cloned(),
            table,
            message: "expected a table".to_owned(),
        });
    };
    for key in object.keys() {
        if !valid.contains(&key.as_str()) {
            let mut at = path.to_vec();
            at.push(key.clone());
            let (line, column) = position(source, &at);
            return Err(ConfigError::UnknownKey {
                manifest: source.manifest.to_path_buf(),
                line,
                column,
                table,
                key: key.clone(),
                suggestion: suggest(key, valid).map(str::to_owned),
                valid: valid.to_vec(),
            });
        }
    }
    Ok(())
}

/// The valid key a mistyped one most likely means: the closest spelling (`requried`, `min_length`),
/// else the shortest key it abbreviates (`mnt` → `mount`, `req` → `required`).
fn suggest(key: &str, valid: &[&'static str]) -> Option<&'static str> {
    keys::closest(key, valid.iter().copied())
        .or_else(|| keys::closest(&key.replace('_', "-"), valid.iter().copied()))
        .or_else(|| {
            let lower = key.to_ascii_lowercase();
            let first = lower.chars().next()?;
            valid
                .iter()
                .copied()
                .filter(|v| lower.len() >= 2 && v.starts_with(first) && is_subsequence(&lower, v))
                .min_by_key(|v| v.len())
        })
}

fn is_subsequence(short: &str, long: &str) -> bool {
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// The largest manifest read for line numbers.
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

/// The 1-based line and column of the key at `path` below the metadata table in the manifest's
/// text (the deepest part of it that is found), read with the TOML parser's spans.
fn position(source: TableSource<'_>, path: &[String]) -> (Option<usize>, Option<usize>) {
    let Some(text) = crate::regular_file::read(source.manifest, MAX_MANIFEST)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return (None, None);
    };
    let Ok(doc) = toml::de::DeTable::parse(&text) else {
        return (None, None);
    };
    let mut segments: Vec<&str> = source.prefix.split('.').collect();
    segments.push(TABLE);
    segments.extend(path.iter().map(String::as_str));
    let mut span = None;
    let mut table = Some(doc.get_ref());
    let mut array: Option<&toml::de::DeArray<'_>> = None;
    for segment in segments {
        let value = if let Some(items) = array.take() {
            match segment.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(item) => {
                    span = Some(item.span());
                    item
                }
                None => break,
            }
        } else {
            let Some((k, v)) =
                table.and_then(|t| t.iter().find(|(k, _)| k.get_ref().as_ref() == segment))
            else {
                break;
            };
            span = Some(k.span());
            v
        };
        table = None;
        match value.get_ref() {
            toml::de::DeValue::Table(t) => table = Some(t),
            toml::de::DeValue::Array(items) => array = Some(items),
            _ => {}
        }
    }
    let Some(span) = span else {
        return (None, None);
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

/// The position of `field` of rule `key`: in the shared rules, else in a profile's.
fn rule_position(
    source: TableSource<'_>,
    value: &serde_json::Value,
    key: &str,
    field: &str,
) -> (Option<usize>, Option<usize>) {
    let shared = value
        .get("rules")
        .and_then(|r| r.get(key))
        .and_then(|r| r.get(field))
        .is_some();
    if shared {
        return position(source, &["rules".into(), key.into(), field.into()]);
    }
    let profile = value
        .get("profiles")
        .and_then(|p| p.as_object())
        .and_then(|p| {
            p.iter().find_map(|(name, over)| {
                over.get("rules")
                    .and_then(|r| r.get(key))
                    .and_then(|r| r.get(field))
                    .map(|_| name.clone())
            })
        });
    match profile {
        Some(name) => position(
            source,
            &[
                "profiles".into(),
                name,
                "rules".into(),
                key.into(),
                field.into(),
            ],
        ),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn src(path: &Path) -> TableSource<'_> {
        TableSource {
            manifest: path,
            prefix: "workspace.metadata",
        }
    }

    #[test]
    fn defaults_apply_without_tables() {
        let c = Config::from_tables(None, None).unwrap();
        assert_eq!(c.required, None);
        assert_eq!(c.generation, None);
        let old = c.for_profile("local", Detected::fixed(Generation::JwtSecret));
        assert_eq!(old.required, ["jwt_secret", "database_url"]);
        let new = c.for_profile("local", Detected::fixed(Generation::Pepper));
        assert_eq!(new.required, ["oauth_at_rest_pepper", "database_url"]);
        let v = json!({"generation": "jwt-secret"});
        let c = Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None).unwrap();
        assert_eq!(c.generation, Some(Generation::JwtSecret));
        assert!(c.require_ai_provider);
        assert!(c.is_protected("production"));
        assert!(c.is_protected("systemprompt-prod"));
        assert!(!c.is_protected("local"));
    }

    #[test]
    fn package_overrides_workspace_field_by_field() {
        let ws = Path::new("/ws/Cargo.toml");
        let pkg = Path::new("/ws/app/Cargo.toml");
        let w = json!({"required": ["jwt_secret"], "profiles-dir": "secrets", "rules": {"github": {"prefix": "ghp_", "min-length": 10}}});
        let p = json!({"require-ai-provider": false, "rules": {"github": {"min-length": 40}}, "profiles": {"ci": {"validation": "warn", "required": []}}});
        let c = Config::from_tables(
            Some((src(ws), &w)),
            Some((
                TableSource {
                    manifest: pkg,
                    prefix: "package.metadata",
                },
                &p,
            )),
        )
        .unwrap();
        assert_eq!(c.required.as_deref(), Some(&["jwt_secret".to_owned()][..]));
        assert!(!c.require_ai_provider);
        assert_eq!(c.profiles_dir.as_deref(), Some(Path::new("/ws/secrets")));
        assert_eq!(c.rules["github"].prefix.as_deref(), Some("ghp_"));
        assert_eq!(c.rules["github"].min_length, Some(40));
        let ci = c.for_profile("ci", Detected::fixed(Generation::JwtSecret));
        assert!(ci.required.is_empty());
        assert_eq!(ci.validation, Some(Mode::Warn));
    }

    #[test]
    fn rule_required_adds_to_required() {
        let v =
            json!({"rules": {"stripe": {"required": true}, "database_url": {"required": false}}});
        let c = Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None).unwrap();
        let s = c.for_profile("local", Detected::fixed(Generation::JwtSecret));
        assert_eq!(s.required, ["jwt_secret", "stripe"]);
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let v = json!({"requried": ["a"]});
        let e = Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None).unwrap_err();
        let text = format!("{e}\n{}", e.help().unwrap_or_default());
        assert!(text.contains("unknown key `requried`"), "{text}");
        assert!(text.contains("did you mean `required`?"), "{text}");
        let v = json!({"rules": {"x": {"min_length": 3}}});
        let e = Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None).unwrap_err();
        let text = format!("{e}\n{}", e.help().unwrap_or_default());
        assert!(text.contains("did you mean `min-length`?"), "{text}");
        // A key that starts with a character outside ASCII is named, not a panic.
        let v = json!({"émt": 1});
        let e = Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None).unwrap_err();
        assert!(e.to_string().contains("unknown key `émt`"), "{e}");
    }

    /// Errors point at the bad key's own line and column (not the table header), and an
    /// abbreviation gets a "did you mean".
    #[test]
    fn errors_point_at_the_key_and_suggest() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        let header = "[package]\nname = \"x\"\n\n[package.metadata.systemprompt-secrets]\nbackend = \"openbao\"\n\n[package.metadata.systemprompt-secrets.openbao]\naddress = \"http://127.0.0.1:8200\"\n";
        let parse = |toml_text: &str| {
            std::fs::write(&manifest, toml_text).unwrap();
            let doc: toml::Table = toml::from_str(toml_text).unwrap();
            let value = serde_json::to_value(&doc["package"]["metadata"][TABLE]).unwrap();
            let source = TableSource {
                manifest: &manifest,
                prefix: "package.metadata",
            };
            let e = Config::from_tables(None, Some((source, &value))).unwrap_err();
            format!("{e}\n{}", e.help().unwrap_or_default())
        };
        let text = parse(&format!("{header}  mnt = \"kv\"\n"));
        assert!(text.contains("Cargo.toml:9:3: unknown key `mnt`"), "{text}");
        assert!(text.contains("did you mean `mount`?"), "{text}");
        let text = parse(&format!("{header}\n[package.metadata.systemprompt-secrets.profiles.ci]\nvalidation = \"warn\"\nrequired = \"jwt_secret\"\n"));
        assert!(
            text.contains(
                "Cargo.toml:12:1: invalid [package.metadata.systemprompt-secrets.profiles.ci]"
            ),
            "{text}"
        );
        assert!(
            text.contains("`required` takes a list of key names"),
            "{text}"
        );
        let text = parse("[package]\nname = \"x\"\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = \"local\"\nbackend = \"cloud\"\n");
        assert!(text.contains("Cargo.toml:6:1"), "{text}");
        assert!(text.contains("`\"systemprompt\"` (the cloud)"), "{text}");
        let text = parse("[package]\nname = \"x\"\n\n[package.metadata.systemprompt-secrets.rules.stripe]\nprefix = \"sk_\"\npattern = \"(\"\n");
        assert!(
            text.contains("Cargo.toml:6:1: rule `stripe` has an invalid pattern"),
            "{text}"
        );
    }

    #[test]
    fn wrong_types_and_bad_patterns_are_errors() {
        let v = json!({"required": "jwt_secret"});
        assert!(matches!(
            Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None),
            Err(ConfigError::Invalid { .. })
        ));
        let v = json!({"rules": {"x": {"pattern": "("}}});
        assert!(matches!(
            Config::from_tables(Some((src(Path::new("/C.toml")), &v)), None),
            Err(ConfigError::Pattern { .. })
        ));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*prod*", "prod"));
        assert!(glob_match("*prod*", "my-production"));
        assert!(glob_match("prod-*", "prod-eu"));
        assert!(!glob_match("prod-*", "staging"));
        assert!(glob_match("staging", "staging"));
    }
}
