//! Finding the profiles folder, choosing the active profile and reading its `profile.yaml`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::Env;
use crate::finding::Mode;

/// The env variable that selects a profile (a name or a path).
pub const PROFILE_ENV: &str = "SYSTEMPROMPT_PROFILE";

/// The profiles folder and the profiles in it.
#[derive(Debug, Clone)]
pub struct ProfileSet {
    /// The folder that holds one folder per profile.
    pub dir: PathBuf,
    /// The profile names, sorted. When some folders hold a `profile.yaml`, only those count, as
    /// upstream; otherwise every folder.
    pub names: Vec<String>,
    /// Profiles not counted because the project's systemprompt does not load them, with why.
    pub skipped: Vec<(String, String)>,
}

/// The largest session record read (upstream's is a few kilobytes).
const MAX_SESSION_RECORD: u64 = 1024 * 1024;

/// `~` or `~/…` with the home folder (`HOME`), as upstream expands profile inputs and
/// `secrets.secrets_path`; anything else unchanged.
#[must_use]
pub fn expand_home(path: &str) -> PathBuf {
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    if path == "~" {
        if let Some(h) = home() {
            return h;
        }
    } else if let Some(rest) = path.strip_prefix("~/") {
        if let Some(h) = home() {
            return h.join(rest);
        }
    }
    PathBuf::from(path)
}

/// How the active profile was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `--profile`.
    Flag,
    /// `SYSTEMPROMPT_PROFILE`.
    Env,
    /// Upstream's session record, `.systemprompt/sessions/index.json`.
    Session,
    /// The manifest's `default-profile`.
    Default,
    /// The only profile there is.
    Only,
    /// `local`, the development profile: several profiles exist and nothing chose one.
    Local,
}

/// The profile used when several exist and nothing chooses one: the development profile that
/// upstream's playbooks create.
pub const DEVELOPMENT_PROFILE: &str = "local";

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Selection::Flag => "--profile",
            Selection::Env => PROFILE_ENV,
            Selection::Session => "the session record .systemprompt/sessions/index.json",
            Selection::Default => "default-profile",
            Selection::Only => "the only profile",
            Selection::Local => "being the development profile (several profiles, none chosen)",
        })
    }
}

/// One profile folder.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile name (the folder name).
    pub name: String,
    /// The profile folder.
    pub dir: PathBuf,
    /// The secrets file (`secrets.json`, or `secrets.secrets_path` from profile.yaml).
    pub secrets_path: PathBuf,
    /// `profile.yaml`, when present.
    pub yaml_path: Option<PathBuf>,
    /// What profile.yaml says (defaults when absent).
    pub yaml: ProfileYaml,
}

/// The parts of `profile.yaml` this tool reads. Unknown fields are ignored: the file is upstream's.
/// From 0.73 a profile is `profiles/base.yaml` deep-merged under `<name>/profile.yaml`, each with
/// `${VAR}` and `${VAR:-default}` interpolated; this reads them the same way.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileYaml {
    /// `secrets:`
    #[serde(default)]
    pub secrets: Option<YamlSecrets>,
    /// `cloud:`
    #[serde(default)]
    pub cloud: Option<YamlCloud>,
    /// `target: local | cloud` (0.44+ requires `signing_key_pem` on a cloud target).
    #[serde(default)]
    pub target: Option<String>,
    /// `licence:` (0.75+ requires `licence_signing_secret` when `multi_tenant` is on).
    #[serde(default)]
    pub licence: Option<YamlLicence>,
    /// Fields of an older shape that later releases refuse (found in the merged document).
    #[serde(skip)]
    pub old_shape: Vec<OldShape>,
    /// Whether `profiles/base.yaml` was merged under this profile.
    #[serde(skip)]
    pub layered: bool,
}

/// A field of an older profile shape that a later release refuses to load
/// (`systemprompt-manifest@0.77.0/src/profile/legacy.rs`, `derived.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldShape {
    /// The field, dotted (`providers`, `server.api_server_url`).
    pub field: String,
    /// The first release that refuses it.
    pub refused_since: (u64, u64, u64),
    /// Where it lives now.
    pub instead: &'static str,
}

/// What upstream says to run for an old-shape profile.
pub const MIGRATE_COMMAND: &str = "systemprompt admin config migrate --profiles <profiles dir>";

/// Top-level keys 0.44 moved out of profile.yaml, and where they went.
const LEGACY_TOP_LEVEL: &[(&str, &str)] = &[
    (
        "providers",
        "the provider catalog lives in services/ai/providers.yaml",
    ),
    ("gateway", "gateway routes live in services/ai/gateway.yaml"),
    ("evaluation", "the section is named `judge`"),
];

/// Fields 0.73 derives and refuses to read stated.
const DERIVED_FIELDS: &[(&[&str], &str)] = &[
    (
        &["server", "api_server_url"],
        "derived from server.external_url",
    ),
    (
        &["server", "api_external_url"],
        "derived from server.external_url",
    ),
    (&["server", "use_https"], "derived from server.external_url"),
    (
        &["server", "cors_allowed_origins"],
        "derived from server.external_url",
    ),
    (
        &["security", "jwt_issuer"],
        "derived from server.external_url",
    ),
    (
        &["server", "api_internal_url"],
        "derived from server.host and server.port",
    ),
    (
        &["governance", "authz", "hook", "url"],
        "derived from server.host and server.port",
    ),
];

/// The old-shape fields of a merged profile document.
fn old_shape(doc: &serde_norway::Value) -> Vec<OldShape> {
    let mut out = Vec::new();
    for (key, instead) in LEGACY_TOP_LEVEL {
        if doc.get(*key).is_some() {
            out.push(OldShape {
                field: (*key).to_owned(),
                refused_since: (0, 44, 0),
                instead,
            });
        }
    }
    for (path, instead) in DERIVED_FIELDS {
        let mut at = Some(doc);
        for part in *path {
            at = at.and_then(|v| v.get(*part));
        }
        if at.is_some() {
            out.push(OldShape {
                field: path.join("."),
                refused_since: (0, 73, 0),
                instead,
            });
        }
    }
    out
}

/// `profile.yaml` `licence:`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlLicence {
    /// `multi_tenant: true` turns the licence block on.
    #[serde(default)]
    pub multi_tenant: bool,
}

/// `profile.yaml` `secrets:`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlSecrets {
    /// `strict | warn | skip`.
    pub validation: Option<Mode>,
    /// Path of the secrets file, relative to the profile folder.
    pub secrets_path: Option<PathBuf>,
    /// `file | env | vault | external` (0.50+; `file` when absent).
    #[serde(default)]
    pub source: Option<String>,
    /// `secrets.vault:` (0.50+), for `source: vault`.
    #[serde(default)]
    pub vault: Option<YamlVault>,
    /// `secrets.external:` (0.67+), for `source: external`.
    #[serde(default)]
    pub external: Option<serde_norway::Value>,
}

/// `profile.yaml` `secrets.vault:`: where a `source: vault` profile's secrets live.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlVault {
    /// The server, after `${VAR}` interpolation.
    pub address: Option<String>,
    /// The KV v2 mount (upstream's default: `secret`).
    pub mount: Option<String>,
    /// The document's path under the mount.
    pub path: Option<String>,
    /// The Vault Enterprise / OpenBao namespace (`X-Vault-Namespace`), if any.
    #[serde(default)]
    pub namespace: Option<String>,
    /// A CA certificate (PEM) for the server, relative to the profile's folder when not absolute.
    #[serde(default)]
    pub ca_cert_path: Option<PathBuf>,
    /// `auth:`: how the app logs in.
    #[serde(default)]
    pub auth: Option<YamlVaultAuth>,
    /// `keys:`: keys the app reads from a field of another document under the same mount.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, YamlVaultKey>,
}

/// `profile.yaml` `secrets.vault.keys.<KEY>:`: where the app reads that key instead.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlVaultKey {
    /// The document's path under the profile's mount.
    pub path: Option<String>,
    /// The field of that document.
    pub field: Option<String>,
}

/// `profile.yaml` `secrets.vault.auth:` (`method: token | approle | kubernetes`), with upstream's
/// defaults for the variables it reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlVaultAuth {
    /// `token` (upstream's default when absent), `approle` or `kubernetes`.
    pub method: Option<String>,
    /// `token`: the variable holding the token (default `VAULT_TOKEN`).
    pub token_env: Option<String>,
    /// `token`: a file holding the token, read when the variable is not set.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// `approle`: the variable holding the role id (default `VAULT_ROLE_ID`).
    pub role_id_env: Option<String>,
    /// `approle`: the variable holding the secret id (default `VAULT_SECRET_ID`).
    pub secret_id_env: Option<String>,
    /// `approle`, `kubernetes`: the auth mount (defaults `approle`, `kubernetes`).
    #[serde(default)]
    pub mount: Option<String>,
    /// `kubernetes`: the Vault role.
    #[serde(default)]
    pub role: Option<String>,
    /// `kubernetes`: the service-account token file (default
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`).
    #[serde(default)]
    pub jwt_path: Option<PathBuf>,
}

/// Upstream's default service-account token file (`secrets.vault.auth.jwt_path`).
pub const DEFAULT_JWT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Each field with upstream's default (`systemprompt-manifest` 0.77 `profile/vault.rs`).
impl YamlVaultAuth {
    /// `token` (the default), `approle` or `kubernetes`; another name is returned as written.
    #[must_use]
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("token")
    }

    /// `token`: the variable holding the token.
    #[must_use]
    pub fn token_env(&self) -> &str {
        self.token_env.as_deref().unwrap_or("VAULT_TOKEN")
    }

    /// `approle`: the variable holding the role id.
    #[must_use]
    pub fn role_id_env(&self) -> &str {
        self.role_id_env.as_deref().unwrap_or("VAULT_ROLE_ID")
    }

    /// `approle`: the variable holding the secret id.
    #[must_use]
    pub fn secret_id_env(&self) -> &str {
        self.secret_id_env.as_deref().unwrap_or("VAULT_SECRET_ID")
    }

    /// The auth mount: `approle` or `kubernetes` after the method.
    #[must_use]
    pub fn mount(&self) -> &str {
        self.mount.as_deref().unwrap_or(match self.method() {
            "kubernetes" => "kubernetes",
            _ => "approle",
        })
    }

    /// `kubernetes`: the service-account token file, as written.
    #[must_use]
    pub fn jwt_path(&self) -> &Path {
        self.jwt_path
            .as_deref()
            .unwrap_or_else(|| Path::new(DEFAULT_JWT_PATH))
    }

    /// The environment variables the app reads to log in.
    #[must_use]
    pub fn env_names(&self) -> Vec<String> {
        match self.method() {
            "token" => vec![self.token_env().to_owned()],
            "approle" => vec![
                self.role_id_env().to_owned(),
                self.secret_id_env().to_owned(),
            ],
            _ => Vec::new(),
        }
    }
}

/// `profile.yaml` `cloud:`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YamlCloud {
    /// The cloud tenant.
    pub tenant_id: Option<String>,
    /// `systemprompt | kubernetes | gke | docker_local` (0.75+).
    #[serde(default)]
    pub provider: Option<String>,
    /// `strict | warn | skip` (0.75+): `warn` and `skip` make a local trial.
    #[serde(default)]
    pub validation: Option<String>,
}

/// Where systemprompt reads a profile's secrets from at boot (`secrets.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    /// `file` (the default): secrets.json.
    File,
    /// `env`: the environment (locally, secrets.json when it exists).
    Env,
    /// `vault`: a Vault/OpenBao KV v2 document; secrets.json is not read.
    Vault,
    /// `external`: an extension's secret manager; secrets.json is not read.
    External,
}

impl SecretSource {
    /// Whether systemprompt reads secrets.json at boot.
    #[must_use]
    pub fn reads_file(self) -> bool {
        matches!(self, Self::File | Self::Env)
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::File => "file",
            Self::Env => "env",
            Self::Vault => "vault",
            Self::External => "external",
        })
    }
}

impl ProfileYaml {
    /// `secrets.source` (an unknown value reads as `file`, which upstream would refuse to load).
    #[must_use]
    pub fn source(&self) -> SecretSource {
        match self.secrets.as_ref().and_then(|s| s.source.as_deref()) {
            Some("vault") => SecretSource::Vault,
            Some("external") => SecretSource::External,
            Some("env") => SecretSource::Env,
            _ => SecretSource::File,
        }
    }

    /// Where a vault or external profile's secrets live, in words (`Vault at https://…, secret/app`).
    #[must_use]
    pub fn source_place(&self) -> String {
        let secrets = self.secrets.as_ref();
        match self.source() {
            SecretSource::Vault => {
                let v = secrets.and_then(|s| s.vault.clone()).unwrap_or_default();
                format!(
                    "Vault/OpenBao at {}, KV v2 mount `{}`, path `{}` (secrets.vault)",
                    v.address.as_deref().unwrap_or("(no address)"),
                    v.mount.as_deref().unwrap_or("secret"),
                    v.path.as_deref().unwrap_or("(no path)")
                )
            }
            SecretSource::External => {
                let kind = secrets
                    .and_then(|s| s.external.as_ref())
                    .and_then(|e| e.get("kind"))
                    .and_then(serde_norway::Value::as_str)
                    .map_or_else(String::new, |k| format!(" `{k}`"));
                format!("the extension-provided secret manager{kind} (secrets.external)")
            }
            SecretSource::Env => {
                "the environment (locally: secrets.json when it exists)".to_owned()
            }
            SecretSource::File => "secrets.json".to_owned(),
        }
    }

    /// `cloud.provider`, if set.
    #[must_use]
    pub fn cloud_provider(&self) -> Option<&str> {
        self.cloud.as_ref().and_then(|c| c.provider.as_deref())
    }

    /// What upstream's boot checks depend on in this profile.
    #[must_use]
    pub fn boot_conditions(&self) -> crate::upstream::BootConditions {
        crate::upstream::BootConditions {
            cloud_target: self.target.as_deref() == Some("cloud"),
            multi_tenant: self.licence.as_ref().is_some_and(|l| l.multi_tenant),
        }
    }

    /// `secrets.validation`, if set.
    #[must_use]
    pub fn validation(&self) -> Option<Mode> {
        self.secrets.as_ref().and_then(|s| s.validation)
    }
}

/// Why no profile could be chosen or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The profiles folder does not exist.
    #[error("no profiles folder at {}", dir.display())]
    NoProfilesDir {
        /// The folder looked for.
        dir: PathBuf,
    },
    /// The named profile does not exist.
    #[error("profile `{name}` not found in {} (chosen by {by})", dir.display())]
    NotFound {
        /// The name asked for.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
        /// How it was chosen.
        by: Selection,
        /// The profiles there are.
        available: Vec<String>,
    },
    /// A profile path that does not exist.
    #[error("profile path {} does not exist (chosen by {by})", path.display())]
    PathNotFound {
        /// The path.
        path: PathBuf,
        /// How it was chosen.
        by: Selection,
    },
    /// Several profiles and nothing chooses one.
    #[error("{} profiles in {} and none chosen: {}", available.len(), dir.display(), available.join(", "))]
    Ambiguous {
        /// The folder.
        dir: PathBuf,
        /// The profiles there are.
        available: Vec<String>,
    },
    /// The profiles folder has no profile.
    #[error("no profiles in {}", dir.display())]
    Empty {
        /// The folder.
        dir: PathBuf,
    },
    /// profile.yaml could not be read or parsed.
    #[error("{}{}: invalid profile.yaml: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// The profiles folder could not be listed.
    #[error("cannot list {}: {source}", dir.display())]
    Io {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `profile.yaml` that is there but cannot be read (no permission, a folder, a symlink loop).
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl ProfileError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::NoProfilesDir { .. } => Some("run `cargo systemprompt-secrets init` to create one, or set `profiles-dir` in [workspace.metadata.systemprompt-secrets]".to_owned()),
            Self::NotFound { name, available, .. } => Some(
                match crate::keys::closest(name, available.iter().map(String::as_str)) {
                    Some(near) => format!("did you mean `{near}`? {}", available_hint(available)),
                    None => available_hint(available),
                },
            ),
            Self::PathNotFound { .. } => Some("give a profile name, a profile folder, or the path of its profile.yaml".to_owned()),
            Self::Ambiguous { .. } => Some("pass `--profile NAME`, set SYSTEMPROMPT_PROFILE, or set `default-profile` in the manifest".to_owned()),
            Self::Empty { .. } => Some("run `cargo systemprompt-secrets init --profile local`".to_owned()),
            Self::Yaml { .. } => Some("fix the YAML there; `secrets.validation` is one of strict, default, warn, skip, `secrets.secrets_path` is a path and `cloud.tenant_id` a string".to_owned()),
            Self::Io { .. } => Some("check that the folder exists and that you may read it, or choose another with `profiles-dir` in the manifest or --profiles-dir".to_owned()),
            Self::Unreadable { .. } => Some("check that the file exists and that you may read it (profile.yaml is optional: remove it if it is not needed)".to_owned()),
        }
    }
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        "there are no profiles yet: run `cargo systemprompt-secrets init --profile NAME`".to_owned()
    } else {
        format!("available profiles: {}", available.join(", "))
    }
}

/// The profiles folder: the configured one, else the nearest `.systemprompt/profiles` walking up
/// from `start`, else `<workspace_root>/.systemprompt/profiles`.
#[must_use]
pub fn profiles_dir(configured: Option<&Path>, start: &Path, workspace_root: &Path) -> PathBuf {
    if let Some(dir) = configured {
        return dir.to_path_buf();
    }
    start
        .ancestors()
        .map(|a| a.join(".systemprompt").join("profiles"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| workspace_root.join(".systemprompt").join("profiles"))
}

impl ProfileSet {
    /// Lists the profile folders in `dir`. A missing folder gives an empty set.
    pub fn read(dir: &Path) -> Result<Self, ProfileError> {
        let mut names = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|source| ProfileError::Io {
                        dir: dir.to_path_buf(),
                        source,
                    })?;
                    if entry.path().is_dir() {
                        if let Some(name) = entry.file_name().to_str() {
                            // A name with a control character (a line break, an escape) could
                            // forge a line of a log wherever it is printed: not a profile.
                            if !name.starts_with('.') && !name.chars().any(char::is_control) {
                                names.push(name.to_owned());
                            }
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ProfileError::Io {
                    dir: dir.to_path_buf(),
                    source,
                })
            }
        }
        names.sort();
        let has_yaml = |n: &String| {
            ["profile.yaml", "profile.yml"]
                .iter()
                .any(|f| dir.join(n).join(f).is_file())
        };
        if names.iter().any(has_yaml) {
            names.retain(has_yaml);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            names,
            skipped: Vec::new(),
        })
    }

    /// Stops counting the profiles systemprompt `version` would not load (an old shape it refuses),
    /// as upstream's discovery skips them; each is kept in [`ProfileSet::skipped`] with why. A
    /// profile named explicitly still opens.
    pub fn drop_unloadable(&mut self, version: &semver::Version) {
        let at = (version.major, version.minor, version.patch);
        let dir = self.dir.clone();
        let mut skipped = Vec::new();
        self.names.retain(|name| {
            let Ok(profile) = Profile::open(name.clone(), dir.join(name)) else {
                return true;
            };
            let refused: Vec<&str> = profile
                .yaml
                .old_shape
                .iter()
                .filter(|s| s.refused_since <= at)
                .map(|s| s.field.as_str())
                .collect();
            if refused.is_empty() {
                return true;
            }
            skipped.push((
                name.clone(),
                format!(
                    "systemprompt {version} does not load it (it states {}, an older shape)",
                    refused
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            false
        });
        self.skipped = skipped;
    }

    /// The session record's `active_profile_name` when it is not a valid profile name (letters and
    /// digits of any script, `-`, `_`), escaped for a terminal.
    #[must_use]
    pub fn invalid_session_name(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Record {
            active_profile_name: Option<String>,
        }
        let path = self.dir.parent()?.join("sessions").join("index.json");
        let bytes = crate::regular_file::read(&path, MAX_SESSION_RECORD).ok()?;
        let name = serde_json::from_slice::<Record>(&bytes)
            .ok()?
            .active_profile_name?;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        (!valid).then(|| crate::source::escape_controls(&name))
    }

    /// The profile upstream's session record makes active: `active_profile_name` when that
    /// profile exists, else the active session's `profile_path` when it exists.
    fn session_choice(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Record {
            active_key: Option<String>,
            active_profile_name: Option<String>,
            #[serde(default)]
            sessions: std::collections::HashMap<String, Session>,
        }
        #[derive(Deserialize)]
        struct Session {
            profile_path: Option<PathBuf>,
        }
        let path = self.dir.parent()?.join("sessions").join("index.json");
        let bytes = crate::regular_file::read(&path, MAX_SESSION_RECORD).ok()?;
        let record: Record = serde_json::from_slice(&bytes).ok()?;
        if let Some(name) = record
            .active_profile_name
            .filter(|n| self.dir.join(n).is_dir())
        {
            return Some(name);
        }
        let session = record.sessions.get(record.active_key.as_deref()?)?;
        let path = session.profile_path.as_ref().filter(|p| p.exists())?;
        Some(path.to_string_lossy().into_owned())
    }

    /// Chooses the active profile: `flag`, then `SYSTEMPROMPT_PROFILE`, then upstream's session
    /// record, then `default`, then the only one.
    pub fn select(
        &self,
        flag: Option<&str>,
        env: &dyn Env,
        default: Option<&str>,
    ) -> Result<(Profile, Selection), ProfileError> {
        let env_choice = env.var(PROFILE_ENV).filter(|v| !v.trim().is_empty());
        let (choice, by) = if let Some(f) = flag {
            (f.to_owned(), Selection::Flag)
        } else if let Some(e) = env_choice {
            (e, Selection::Env)
        } else if let Some(s) = self.session_choice() {
            (s, Selection::Session)
        } else if let Some(d) = default {
            (d.to_owned(), Selection::Default)
        } else {
            return match self.names.as_slice() {
                [only] => Ok((self.open(only)?, Selection::Only)),
                [] if !self.dir.is_dir() => Err(ProfileError::NoProfilesDir {
                    dir: self.dir.clone(),
                }),
                [] => Err(ProfileError::Empty {
                    dir: self.dir.clone(),
                }),
                many if many.iter().any(|n| n == DEVELOPMENT_PROFILE) => {
                    Ok((self.open(DEVELOPMENT_PROFILE)?, Selection::Local))
                }
                many => Err(ProfileError::Ambiguous {
                    dir: self.dir.clone(),
                    available: many.to_vec(),
                }),
            };
        };
        if looks_like_path(&choice) {
            return Ok((open_path(&choice, by)?, by));
        }
        if !self.names.contains(&choice) && !self.dir.join(&choice).is_dir() {
            return Err(ProfileError::NotFound {
                name: choice,
                dir: self.dir.clone(),
                by,
                available: self.names.clone(),
            });
        }
        Ok((self.open(&choice)?, by))
    }

    /// The profile upstream's session record names by a path (`profile_path`), if it does.
    #[cfg(feature = "cli")]
    pub(crate) fn session_profile(&self) -> Option<Profile> {
        self.session_choice()
            .filter(|c| looks_like_path(c))
            .and_then(|c| open_path(&c, Selection::Session).ok())
    }

    /// Opens the named profile of this set.
    pub fn open(&self, name: &str) -> Result<Profile, ProfileError> {
        Profile::open(name.to_owned(), self.dir.join(name))
    }
}

/// Whether `name` can name a new profile folder: not empty, no path separator, no leading `.`, no
/// control character (such a folder would be hidden by every listing, as it could forge a line of
/// output).
#[must_use]
pub fn is_new_profile_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && !name.contains('\\')
        && !name.starts_with('.')
        && !name.chars().any(char::is_control)
}

/// Opens the profile a path names: its folder, or the folder of the `profile.yaml` it names.
fn open_path(choice: &str, by: Selection) -> Result<Profile, ProfileError> {
    let path = expand_home(choice);
    let dir = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.clone()
    };
    if !dir.is_dir() {
        return Err(ProfileError::PathNotFound { path, by });
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("profile")
        .to_owned();
    Profile::open(name, dir)
}

/// Upstream's rule (`is_path_input`): a `/`, a `.yaml`/`.yml` ending, or a leading `.` or `~`.
fn looks_like_path(choice: &str) -> bool {
    choice.contains('/')
        || choice.contains(std::path::MAIN_SEPARATOR)
        || Path::new(choice)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        || choice.starts_with('.')
        || choice.starts_with('~')
}

impl Profile {
    /// Opens a profile folder and reads its profile.yaml, if any. The folder need not exist yet.
    pub fn open(name: String, dir: PathBuf) -> Result<Self, ProfileError> {
        let yaml_path = ["profile.yaml", "profile.yml"]
            .iter()
            .map(|f| dir.join(f))
            // Anything there but a dangling link counts, so that a folder or a symlink loop is an
            // error rather than silently no profile.yaml.
            .find(|p| !matches!(p.try_exists(), Ok(false)));
        let yaml = match &yaml_path {
            Some(p) => read_yaml(p)?,
            None => ProfileYaml::default(),
        };
        let secrets_path = yaml
            .secrets
            .as_ref()
            .and_then(|s| s.secrets_path.as_ref())
            .map_or_else(
                || dir.join("secrets.json"),
                |p| normalize(&dir.join(expand_home(&p.to_string_lossy()))),
            );
        Ok(Self {
            name,
            dir,
            secrets_path,
            yaml_path,
            yaml,
        })
    }
}

/// Removes `.` components and folds `..` lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The largest `profile.yaml` read (upstream's are a few kilobytes).
const MAX_PROFILE_YAML: u64 = 1024 * 1024;

fn read_yaml(path: &Path) -> Result<ProfileYaml, ProfileError> {
    let (text, overlay) = read_layer(path)?;
    // 0.73+: `profiles/base.yaml` under `<name>/profile.yaml` (maps merge; the rest is replaced).
    let base_path = path
        .parent()
        .and_then(Path::parent)
        .map(|profiles| profiles.join("base.yaml"))
        .filter(|p| p.is_file() && path.file_name().is_some_and(|n| n == "profile.yaml"));
    let yaml_error = |e: serde_norway::Error| ProfileError::Yaml {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    };
    let yaml: ProfileYaml = match &base_path {
        Some(base) => {
            let doc = merge_yaml(read_layer(base)?.1, overlay);
            let shape = old_shape(&doc);
            let mut yaml: ProfileYaml = if doc.is_null() {
                ProfileYaml::default()
            } else {
                serde_norway::from_value(doc).map_err(yaml_error)?
            };
            yaml.old_shape = shape;
            yaml.layered = true;
            yaml
        }
        None if overlay.is_null() => ProfileYaml::default(),
        // From the text, so that an error names its line.
        None => {
            let mut yaml: ProfileYaml = serde_norway::from_str(&text).map_err(yaml_error)?;
            yaml.old_shape = old_shape(&overlay);
            yaml
        }
    };
    Ok(yaml)
}

/// One layer of a profile: read within the limit, `${VAR}` and `${VAR:-default}` interpolated
/// from the environment (as upstream's `interpolate`: an unset or empty variable takes the
/// default, or stays as written), parsed as YAML (empty is an empty document).
fn read_layer(path: &Path) -> Result<(String, serde_norway::Value), ProfileError> {
    let bytes = crate::regular_file::read(path, MAX_PROFILE_YAML).map_err(|e| match e {
        crate::regular_file::ReadError::Io(source) => ProfileError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
        other => ProfileError::Unreadable {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ProfileError::Yaml {
        path: path.to_path_buf(),
        line: None,
        message: "the file is not valid UTF-8".to_owned(),
    })?;
    if text.trim().is_empty() {
        return Ok((String::new(), serde_norway::Value::Null));
    }
    let text = interpolate(&text, &crate::env::ProcessEnv);
    let value = serde_norway::from_str(&text).map_err(|e| ProfileError::Yaml {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    })?;
    Ok((text, value))
}

/// `${VAR}` and `${VAR:-default}` in `text`, as upstream interpolates profile files: a set,
/// non-empty variable gives its value, else the default, else the text stays as written.
#[must_use]
pub fn interpolate(text: &str, env: &dyn Env) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        let valid = !name.is_empty() && !name.contains(':');
        match env.var(name).filter(|v| valid && !v.is_empty()) {
            Some(value) => out.push_str(&value),
            None => match default.filter(|_| valid) {
                Some(default) => out.push_str(default),
                None => out.push_str(&rest[start..=start + 2 + end]),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Upstream's layering: maps merge key by key, anything else in `overlay` replaces `base`.
fn merge_yaml(base: serde_norway::Value, overlay: serde_norway::Value) -> serde_norway::Value {
    use serde_norway::Value;
    match (base, overlay) {
        (Value::Mapping(mut base), Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                let merged = match base.remove(&key) {
                    Some(below) => merge_yaml(below, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Mapping(base)
        }
        (base, Value::Null) => base,
        (_, overlay) => overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    #[test]
    fn profile_files_interpolate_as_upstream_does() {
        let env = MapEnv::from_pairs([("HOST", "db.internal"), ("EMPTY", "")]);
        assert_eq!(interpolate("a ${HOST} b", &env), "a db.internal b");
        assert_eq!(interpolate("${MISSING:-fallback}", &env), "fallback");
        assert_eq!(
            interpolate("${EMPTY:-fallback}", &env),
            "fallback",
            "empty counts as unset"
        );
        assert_eq!(
            interpolate("${MISSING}", &env),
            "${MISSING}",
            "left as written"
        );
        assert_eq!(interpolate("${A:B}", &env), "${A:B}");
        assert_eq!(interpolate("tail ${HOST", &env), "tail ${HOST");
        assert_eq!(
            interpolate("${HOST:-x}:${HOST}", &env),
            "db.internal:db.internal"
        );
    }

    #[test]
    fn base_yaml_is_merged_under_the_profile_and_old_shapes_are_found() {
        let d = tempfile::tempdir().unwrap();
        let profiles = d.path().join("profiles");
        std::fs::create_dir_all(profiles.join("prod")).unwrap();
        std::fs::write(
            profiles.join("base.yaml"),
            "target: cloud\nsecrets:\n  source: vault\n  vault:\n    address: ${BAO_TEST_ADDR_UNSET:-https://bao.example:8200}\n    path: app/base\nlicence:\n  multi_tenant: true\n",
        )
        .unwrap();
        std::fs::write(
            profiles.join("prod/profile.yaml"),
            "secrets:\n  vault:\n    path: app/prod\nserver:\n  api_server_url: https://x\nproviders: {}\n",
        )
        .unwrap();
        let p = Profile::open("prod".into(), profiles.join("prod")).unwrap();
        assert!(p.yaml.layered);
        assert_eq!(p.yaml.source(), SecretSource::Vault);
        let vault = p.yaml.secrets.as_ref().unwrap().vault.clone().unwrap();
        assert_eq!(vault.address.as_deref(), Some("https://bao.example:8200"));
        assert_eq!(
            vault.path.as_deref(),
            Some("app/prod"),
            "maps merge, the profile wins"
        );
        assert_eq!(
            p.yaml.boot_conditions(),
            crate::upstream::BootConditions {
                cloud_target: true,
                multi_tenant: true
            }
        );
        let fields: Vec<(&str, (u64, u64, u64))> = p
            .yaml
            .old_shape
            .iter()
            .map(|s| (s.field.as_str(), s.refused_since))
            .collect();
        assert_eq!(
            fields,
            [
                ("providers", (0, 44, 0)),
                ("server.api_server_url", (0, 73, 0))
            ]
        );

        let mut set = ProfileSet::read(&profiles).unwrap();
        set.drop_unloadable(&semver::Version::new(0, 43, 0));
        assert_eq!(set.names, ["prod"], "0.43 still loads it");
        set.drop_unloadable(&semver::Version::new(0, 77, 0));
        assert!(
            set.names.is_empty() && set.skipped[0].1.contains("`providers`"),
            "{:?}",
            set.skipped
        );
    }

    fn set(names: &[&str]) -> (tempfile::TempDir, ProfileSet) {
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::create_dir_all(dir.path().join(n)).unwrap();
        }
        let set = ProfileSet::read(dir.path()).unwrap();
        (dir, set)
    }

    #[test]
    fn selection_order() {
        let (_d, s) = set(&["local", "prod"]);
        let env = MapEnv::from_pairs([(PROFILE_ENV, "prod")]);
        let none = MapEnv::default();
        assert_eq!(s.select(Some("local"), &env, None).unwrap().0.name, "local");
        assert_eq!(
            s.select(None, &env, Some("local")).unwrap().1,
            Selection::Env
        );
        assert_eq!(
            s.select(None, &none, Some("local")).unwrap().1,
            Selection::Default
        );
        // Several profiles and no choice: `local`, the development profile, when there is one.
        let (p, by) = s.select(None, &none, None).unwrap();
        assert_eq!((p.name.as_str(), by), ("local", Selection::Local));
        let (_d2, without_local) = set(&["prod", "staging"]);
        let err = without_local
            .select(None, &none, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("prod, staging"), "{err}");
        let err = s.select(Some("stage"), &none, None).unwrap_err();
        let help = err.help().unwrap_or_default();
        assert!(
            help.contains("available profiles: local, prod"),
            "{err}: {help}"
        );
    }

    #[test]
    fn only_profile_and_paths() {
        let (d, s) = set(&["local"]);
        let none = MapEnv::default();
        assert_eq!(s.select(None, &none, None).unwrap().1, Selection::Only);
        let yaml = d.path().join("local/profile.yaml");
        std::fs::write(&yaml, "secrets:\n  validation: strict\n  secrets_path: ./s.json\ncloud:\n  tenant_id: t1\nother: 1\n").unwrap();
        let env = MapEnv::from_pairs([(PROFILE_ENV, yaml.to_str().unwrap())]);
        let (p, by) = s.select(None, &env, None).unwrap();
        assert_eq!((p.name.as_str(), by), ("local", Selection::Env));
        assert_eq!(p.yaml.validation(), Some(Mode::Strict));
        assert!(p.secrets_path.ends_with("s.json"));
    }

    #[test]
    fn only_folders_with_profile_yaml_count_when_some_have_one() {
        let (d, s) = set(&["local", "scratch"]);
        assert_eq!(
            s.names,
            ["local", "scratch"],
            "no profile.yaml anywhere: every folder"
        );
        std::fs::write(d.path().join("local/profile.yaml"), "").unwrap();
        let s = ProfileSet::read(d.path()).unwrap();
        assert_eq!(s.names, ["local"]);
        let none = MapEnv::default();
        assert_eq!(s.select(None, &none, None).unwrap().1, Selection::Only);
        assert_eq!(
            s.select(Some("scratch"), &none, None).unwrap().0.name,
            "scratch",
            "a folder named explicitly still opens"
        );
    }

    #[test]
    fn session_record_comes_after_env_and_before_default() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("profiles");
        for n in ["local", "prod", "staging"] {
            std::fs::create_dir_all(dir.join(n)).unwrap();
            std::fs::write(dir.join(n).join("profile.yaml"), "").unwrap();
        }
        let sessions = root.path().join("sessions");
        std::fs::create_dir_all(&sessions).unwrap();
        let record = sessions.join("index.json");
        std::fs::write(&record, r#"{"version": 1, "sessions": {}, "active_key": "local", "active_profile_name": "prod"}"#).unwrap();
        let s = ProfileSet::read(&dir).unwrap();
        let none = MapEnv::default();
        let (p, by) = s.select(None, &none, Some("staging")).unwrap();
        assert_eq!((p.name.as_str(), by), ("prod", Selection::Session));
        let env = MapEnv::from_pairs([(PROFILE_ENV, "local")]);
        assert_eq!(s.select(None, &env, None).unwrap().1, Selection::Env);
        // No active name: the active session's profile path.
        let path = dir.join("staging/profile.yaml");
        std::fs::write(&record, serde_json::json!({"active_key": "tenant_t1", "sessions": {"tenant_t1": {"profile_name": "staging", "profile_path": path}}}).to_string()).unwrap();
        let (p, by) = s.select(None, &none, None).unwrap();
        assert_eq!((p.name.as_str(), by), ("staging", Selection::Session));
        // A broken record is no choice at all.
        std::fs::write(&record, "{").unwrap();
        assert_eq!(
            s.select(None, &none, Some("local")).unwrap().1,
            Selection::Default
        );
    }

    #[test]
    fn tilde_is_expanded_and_a_leading_dot_is_a_path() {
        let home = std::env::var("HOME").unwrap_or_default();
        if !home.is_empty() {
            assert_eq!(expand_home("~/x/p.yaml"), Path::new(&home).join("x/p.yaml"));
        }
        assert_eq!(expand_home("a/~/b"), Path::new("a/~/b"));
        assert!(looks_like_path("~/p") && looks_like_path("./p") && looks_like_path(".p"));
        assert!(!looks_like_path("local"));
    }

    #[test]
    fn bad_yaml_names_file_and_line() {
        let (d, s) = set(&["local"]);
        std::fs::write(
            d.path().join("local/profile.yaml"),
            "secrets:\n  validation: sometimes\n",
        )
        .unwrap();
        let err = s.open("local").unwrap_err().to_string();
        assert!(err.contains("profile.yaml:2"), "{err}");
    }

    #[test]
    fn profiles_dir_walks_up() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(d.path().join("a/.systemprompt/profiles")).unwrap();
        assert_eq!(
            profiles_dir(None, &deep, d.path()),
            d.path().join("a/.systemprompt/profiles")
        );
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            profiles_dir(None, other.path(), other.path()),
            other.path().join(".systemprompt/profiles")
        );
    }
}
