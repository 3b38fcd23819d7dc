//! Trust, as `direnv allow` does it: a cloned repository must not choose where secrets and
//! credentials go. Settings read from the repository's files that route data — a remote address,
//! mount, path or namespace, a CA certificate, a backend, a tenant, an API URL, the list of
//! protected profiles, and a profiles folder, secrets file or session-record profile outside the
//! workspace — take effect only once the user has trusted the project with exactly those
//! settings (`trust`). A change to any of them needs trust again. Settings that do not come from
//! the repository (flags, the environment, the default API URL, the keyring) are the user's own.
//!
//! The trusted settings are kept as a SHA-256 per workspace in the user's config folder (0700,
//! the file 0600, owner checked), never in the repository. In CI, where nobody can answer,
//! `SYSTEMPROMPT_SECRETS_TRUST_PROJECT=1` in the process environment (not in a `.env` file) trusts
//! the checkout for that run.

use crate::canon::canonical;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::profile::Profile;
use crate::project::Project;

/// The variable that trusts the checkout for one run (CI). Read from the process environment
/// only: a `.env` file is the repository's.
pub const OPT_IN_ENV: &str = "SYSTEMPROMPT_SECRETS_TRUST_PROJECT";

/// One setting from a repository file that decides where data or credentials go.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Setting {
    /// What it is: `openbao.address`, `profile local: cloud.tenant_id`.
    pub name: String,
    /// Its value, as read.
    pub value: String,
    /// The file it was read from.
    pub file: String,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {} ({})", self.name, self.value, self.file)
    }
}

/// Every routing setting the project's files hold, sorted.
#[must_use]
pub fn settings(project: &Project) -> Vec<Setting> {
    let mut out = Vec::new();
    let manifests = project
        .config
        .manifests
        .iter()
        .map(|m| crate::source::rel(m))
        .collect::<Vec<_>>()
        .join(", ");
    let mut manifest = |name: &str, value: String| {
        out.push(Setting {
            name: name.to_owned(),
            value,
            file: manifests.clone(),
        });
    };
    let c = &project.config;
    if c.backend == crate::config::RemoteBackend::Openbao {
        manifest("backend", "openbao".to_owned());
    }
    let bao = &c.openbao;
    if let Some(a) = &bao.address {
        manifest("openbao.address", a.to_vec().join(", "));
    }
    for (name, value) in [
        ("openbao.mount", &bao.mount),
        ("openbao.path", &bao.path),
        ("openbao.namespace", &bao.namespace),
    ] {
        if let Some(v) = value {
            manifest(name, v.clone());
        }
    }
    if let Some(ca) = &bao.ca_cert {
        manifest("openbao.ca-cert", ca.display().to_string());
    }
    let default_protected: Vec<String> = crate::config::DEFAULT_PROTECTED
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if c.protected_profiles != default_protected {
        manifest("protected-profiles", c.protected_profiles.join(", "));
    }
    for (profile, over) in &c.profiles {
        if let Some(t) = &over.tenant_id {
            manifest(&format!("profiles.{profile}.tenant-id"), t.clone());
        }
        if let Some(b) = over.backend {
            manifest(
                &format!("profiles.{profile}.backend"),
                format!("{b:?}").to_lowercase(),
            );
        }
    }
    let root = canonical(&project.workspace_root);
    if !inside(&project.profiles.dir, &root) {
        manifest(
            "profiles-dir (outside the workspace)",
            project.profiles.dir.display().to_string(),
        );
    }
    for name in &project.profiles.names {
        if let Ok(profile) = project.profiles.open(name) {
            out.extend(profile_settings(&profile, &root));
        }
    }
    // The profile upstream's session record names by a path, which may lie elsewhere.
    if let Some(profile) = project.profiles.session_profile() {
        out.extend(profile_settings(&profile, &root));
    }
    if let Some(file) =
        crate::token::find_credentials_file(&project.workspace_root).filter(|f| inside(f, &root))
    {
        if let Some(url) = crate::token::read_credentials(&file)
            .ok()
            .and_then(|c| c.api_url)
        {
            out.push(Setting {
                name: "api_url".to_owned(),
                value: url,
                file: crate::source::rel(&file),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A profile's routing settings: its `profile.yaml` tenant and Vault source, and a profile
/// folder or secrets file outside the workspace.
#[must_use]
pub fn profile_settings(profile: &Profile, root: &Path) -> Vec<Setting> {
    let mut out = Vec::new();
    let yaml = profile
        .yaml_path
        .as_deref()
        .map(crate::source::rel)
        .unwrap_or_default();
    let mut push = |name: &str, value: String, file: String| {
        out.push(Setting {
            name: format!("profile {}: {name}", profile.name),
            value,
            file,
        });
    };
    if let Some(t) = profile
        .yaml
        .cloud
        .as_ref()
        .and_then(|c| c.tenant_id.clone())
    {
        push("cloud.tenant_id", t, yaml.clone());
    }
    if let Some(v) = profile.yaml.secrets.as_ref().and_then(|s| s.vault.as_ref()) {
        for (name, value) in [
            ("secrets.vault.address", &v.address),
            ("secrets.vault.mount", &v.mount),
            ("secrets.vault.path", &v.path),
        ] {
            if let Some(value) = value {
                push(name, value.clone(), yaml.clone());
            }
        }
    }
    if !inside(&profile.dir, root) {
        push(
            "folder (outside the workspace)",
            profile.dir.display().to_string(),
            "the session record or --profile".to_owned(),
        );
    } else if !inside(&profile.secrets_path, root) {
        push(
            "secrets_path (outside the workspace)",
            profile.secrets_path.display().to_string(),
            yaml,
        );
    }
    out
}

/// Whether `path` lies inside `root` (both after symlinks; a path that does not exist yet is
/// judged by its nearest existing ancestor).
fn inside(path: &Path, root: &Path) -> bool {
    canonical(path).starts_with(root)
}

/// The fingerprint of a set of settings.
#[must_use]
pub fn fingerprint(settings: &[Setting]) -> String {
    let doc = serde_json::to_vec(settings).unwrap_or_default();
    Sha256::digest(&doc)
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[derive(Default, Serialize, Deserialize)]
struct Store {
    /// Canonical workspace root → the fingerprint of the settings trusted.
    projects: BTreeMap<String, Trusted>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Trusted {
    fingerprint: String,
    /// The names trusted, for `trust --status`.
    settings: Vec<String>,
}

/// The trust file: `$XDG_CONFIG_HOME` (else `~/.config`)`/cargo-systemprompt-secrets/trusted.json`,
/// or `SYSTEMPROMPT_SECRETS_CONFIG_DIR`.
fn store_path() -> Option<PathBuf> {
    let dir = std::env::var_os("SYSTEMPROMPT_SECRETS_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("cargo-systemprompt-secrets"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config/cargo-systemprompt-secrets"))
        })?;
    Some(dir.join("trusted.json"))
}

/// The trust file, when it is this user's own and private; an empty store when there is none.
fn load() -> Result<Store, String> {
    let Some(path) = store_path() else {
        return Ok(Store::default());
    };
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::default()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                if !meta.is_file()
                    || meta.uid() != rustix::process::geteuid().as_raw()
                    || meta.mode().trailing_zeros() < 6
                {
                    return Err(format!(
                        "{} is not a private file of yours (mode 0600, owned by you); it is not believed",
                        path.display()
                    ));
                }
            }
            #[cfg(not(unix))]
            let _ = meta;
        }
    }
    let bytes = crate::regular_file::read(&path, 4 * 1024 * 1024)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{} is not valid: {e}", path.display()))
}

fn save(store: &Store) -> Result<PathBuf, Error> {
    let path = store_path()
        .ok_or_else(|| Error::failed("no config folder: set HOME or XDG_CONFIG_HOME"))?;
    if let Some(dir) = path.parent() {
        crate::atomic::create_private_dir(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let body = serde_json::to_vec_pretty(store).unwrap_or_default();
    crate::atomic::write_private(&path, &body, true)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    Ok(path)
}

fn key(project: &Project) -> String {
    canonical(&project.workspace_root).display().to_string()
}

/// What the user decided about this project's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The project's files route nothing.
    NothingToTrust,
    /// Trusted with exactly these settings.
    Trusted,
    /// Trusted, but the settings changed since.
    Changed,
    /// Never trusted.
    Untrusted,
    /// Trusted for this run by the environment (CI).
    ByEnvironment,
}

/// Where the project stands.
#[must_use]
pub fn state(project: &Project, settings: &[Setting]) -> State {
    if settings.is_empty() {
        return State::NothingToTrust;
    }
    if std::env::var(OPT_IN_ENV).is_ok_and(|v| v.trim() == "1") {
        return State::ByEnvironment;
    }
    match load()
        .ok()
        .and_then(|s| s.projects.get(&key(project)).cloned())
    {
        Some(t) if t.fingerprint == fingerprint(settings) => State::Trusted,
        Some(_) => State::Changed,
        None => State::Untrusted,
    }
}

/// Stops a verb that would act on `used` (the routing settings it takes from the repository,
/// out of `all`, the project's) in a project whose settings are not trusted. Nothing has been
/// sent when it stops.
fn require(
    project: &Project,
    mut all: Vec<Setting>,
    used: &[Setting],
    verb: &str,
) -> Result<(), Error> {
    if used.is_empty() {
        return Ok(());
    }
    all.extend(used.iter().cloned());
    all.sort();
    all.dedup();
    let why = match state(project, &all) {
        State::Trusted | State::ByEnvironment | State::NothingToTrust => return Ok(()),
        State::Changed => "changed since you trusted this project",
        State::Untrusted => "come from this project's files, which you have not trusted",
    };
    let list = used.iter().fold(String::new(), |mut out, s| {
        let _ = write!(out, "\n    {s}");
        out
    });
    Err(Error::usage(format!(
        "`{verb}` would send data where these settings say, and they {why}; nothing was sent:{list}"
    ))
    .help(format!(
        "review them, then run `cargo systemprompt-secrets trust`; or give the destination yourself (--address, --tenant, --api-url); in CI set {OPT_IN_ENV}=1"
    )))
}

/// Records that the user trusts the project's current settings; returns the file written.
pub fn trust(project: &Project, settings: &[Setting]) -> Result<PathBuf, Error> {
    let mut store = load().unwrap_or_default();
    store.projects.insert(
        key(project),
        Trusted {
            fingerprint: fingerprint(settings),
            settings: settings.iter().map(ToString::to_string).collect(),
        },
    );
    save(&store)
}

/// Forgets the project; returns whether it was trusted.
pub fn revoke(project: &Project) -> Result<bool, Error> {
    let mut store = load().map_err(Error::failed)?;
    let was = store.projects.remove(&key(project)).is_some();
    if was {
        save(&store)?;
    }
    Ok(was)
}

/// Stops opening `profile`'s remote when it would act on untrusted settings: those of its
/// backend and of this profile, less those the user's flags or environment replace (a backend
/// alone routes nothing: the address does).
pub fn require_remote(
    project: &Project,
    profile: &Profile,
    flags: &crate::remote::RemoteFlags,
) -> Result<(), Error> {
    let openbao = project.backend(profile) == crate::config::RemoteBackend::Openbao;
    let own = format!("profile {}: ", profile.name);
    let own_table = format!("profiles.{}.", profile.name);
    let env_api_url = std::env::var(crate::token::API_URL_ENV).is_ok_and(|v| !v.trim().is_empty());
    let all = settings(project);
    let used: Vec<Setting> = all
        .iter()
        .filter(|s| {
            let n = s.name.as_str();
            let other_profile = (n.starts_with("profile ") && !n.starts_with(&own))
                || (n.starts_with("profiles.") && !n.starts_with(&own_table));
            if other_profile || n.ends_with("backend") {
                false
            } else if n == "openbao.address" || n.ends_with("secrets.vault.address") {
                openbao && flags.addresses.is_empty()
            } else if n.starts_with("openbao.") || n.contains("secrets.vault.") {
                openbao
            } else if n.ends_with("tenant-id") || n.ends_with("cloud.tenant_id") {
                !openbao && flags.tenant.is_none()
            } else if n == "api_url" {
                !openbao && flags.api_url.is_none() && !env_api_url
            } else {
                true
            }
        })
        .cloned()
        .collect();
    require(project, all, &used, "open the remote")
}

/// Stops reading `profile` at all when it lies outside the workspace (a profiles folder, a
/// profile folder or a secrets file) and the project is not trusted with that.
pub fn require_reading(project: &Project, profile: &Profile) -> Result<(), Error> {
    let root = canonical(&project.workspace_root);
    let outside_dir = !inside(&project.profiles.dir, &root)
        && inside(&profile.dir, &canonical(&project.profiles.dir));
    let mut used: Vec<Setting> = profile_settings(profile, &root)
        .into_iter()
        .filter(|s| s.name.contains("outside the workspace"))
        .collect();
    if used.is_empty() && !outside_dir {
        return Ok(());
    }
    let all = settings(project);
    if outside_dir {
        used.extend(
            all.iter()
                .filter(|s| s.name.starts_with("profiles-dir"))
                .cloned(),
        );
    }
    require(project, all, &used, "read this profile")
}

/// Stops sending a token to an OpenBao `address` that the project's manifest chose (no
/// `--address`), unless the project is trusted.
pub fn require_for_token(
    project: Option<&Project>,
    address: &str,
    address_flag: bool,
    verb: &str,
) -> Result<(), Error> {
    let Some(project) = project else {
        return Ok(());
    };
    if address_flag {
        return Ok(());
    }
    let from_manifest = project.config.openbao.address.as_ref().is_some_and(|a| {
        a.to_vec()
            .iter()
            .any(|x| x.trim().trim_end_matches('/') == address)
    });
    if !from_manifest {
        return Ok(());
    }
    let all = settings(project);
    let used: Vec<Setting> = all
        .iter()
        .filter(|s| s.name == "openbao.address")
        .cloned()
        .collect();
    require(project, all, &used, verb)
}
