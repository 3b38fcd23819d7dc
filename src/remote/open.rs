//! Opening the remote of a profile, the one place that resolves the backend, the address(es) or
//! tenant, the token and the HTTP settings; and the token questions `login` and `doctor` ask.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::openbao::{expand_path, BaoClient};
use super::systemprompt::CloudClient;
use super::{Capability, RemoteStore};
use crate::config::{OpenBaoTable, RemoteBackend};
use crate::env::{Env, ProcessEnv};
use crate::error::Error;
use crate::http::{self, Http, HttpConfig};
use crate::keyring::KeyringChoice;
use crate::keyring::{self, api_token_account, openbao_token_account, CredentialStore};
use crate::profile::Profile;
use crate::project::Project;
use crate::source::rel;
use crate::token::{self, format_time, TokenError};
use secrecy::SecretString;

/// The default KV v2 mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// The default path template.
pub const DEFAULT_PATH: &str = "systemprompt/{project}/{profile}";

/// What the command line says about the remote.
#[derive(Debug, Clone, Default)]
pub struct RemoteFlags {
    /// `--tenant`.
    pub tenant: Option<String>,
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--address` (one or more).
    pub addresses: Vec<String>,
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--keyring`.
    pub keyring: KeyringChoice,
}

/// An opened remote, with what to tell the user about how it was found.
pub struct Opened {
    /// The store.
    pub store: Box<dyn RemoteStore>,
    /// For `-v`: where it is and where the token came from.
    pub notes: Vec<String>,
    /// For everyone (such as a token read from a plaintext file).
    pub warnings: Vec<String>,
}

/// Opens the remote that `profile` syncs to.
pub fn open(project: &Project, profile: &Profile, flags: &RemoteFlags) -> Result<Opened, Error> {
    match project.backend(profile) {
        RemoteBackend::Systemprompt => open_cloud(project, profile, flags),
        RemoteBackend::Openbao => open_openbao(project, profile, flags),
    }
}

/// Stops a verb that needs `capability` on a profile whose remote lacks it, before anything is
/// opened or asked.
pub fn require(
    project: &Project,
    profile: &Profile,
    capability: Capability,
    verb: &str,
) -> Result<(), Error> {
    if project.backend(profile) == RemoteBackend::Openbao {
        return Ok(());
    }
    let message = match capability {
        Capability::Values => format!(
            "profile `{}` syncs to the systemprompt cloud, whose API never returns values, so there is nothing to {verb}",
            profile.name
        ),
        Capability::Versions => format!(
            "profile `{}` uses the systemprompt cloud, which keeps no versions",
            profile.name
        ),
    };
    Err(Error::usage(message).help(format!("`{verb}` works with backend = \"openbao\"")))
}

/// The tenant: `--tenant`, then the manifest's `tenant-id`, then profile.yaml `cloud.tenant_id`.
pub fn tenant(project: &Project, profile: &Profile, flag: Option<&str>) -> Result<String, Error> {
    flag.map(str::to_owned)
        .or_else(|| project.config.tenant_of(&profile.name))
        .or_else(|| profile.yaml.cloud.as_ref().and_then(|c| c.tenant_id.clone()))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Error::usage(format!("no tenant for profile `{}`", profile.name)).help(format!(
                "pass --tenant ID, or set `tenant-id` in [workspace.metadata.systemprompt-secrets.profiles.{}], or `cloud.tenant_id` in {}",
                profile.name,
                rel(&profile.dir.join("profile.yaml"))
            ))
        })
}

/// Whether `profile` has a remote to push to at all: OpenBao configured, or a deployable cloud
/// profile with a tenant (`set --local` without one writes only secrets.json).
#[must_use]
pub fn has_remote(project: &Project, profile: &Profile, tenant_flag: Option<&str>) -> bool {
    match project.backend(profile) {
        RemoteBackend::Openbao => true,
        RemoteBackend::Systemprompt => {
            not_deployed(project, profile).is_none()
                && tenant(project, profile, tenant_flag).is_ok_and(|t| {
                    !(is_local_tenant(&t)
                        && project.generation(profile).release().local_tenant_prefix)
                })
        }
    }
}

/// Whether a tenant id names a local trial tenant (`local_…`, `models/profile/cloud.rs`).
#[must_use]
pub fn is_local_tenant(tenant: &str) -> bool {
    tenant.starts_with("local_")
}

/// The OpenBao addresses: `--address`, then `address` in the manifest, then `BAO_ADDR`, then
/// `VAULT_ADDR`. Empty when none is set.
#[must_use]
pub fn openbao_addresses(
    flags: &[String],
    table: Option<&OpenBaoTable>,
    env: &dyn Env,
) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    table
        .and_then(|t| t.address.as_ref())
        .map(crate::config::Addresses::to_vec)
        .or_else(|| {
            ["BAO_ADDR", "VAULT_ADDR"]
                .iter()
                .find_map(|v| env.var(v).filter(|a| !a.trim().is_empty()))
                .map(|a| vec![a])
        })
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.trim().trim_end_matches('/').to_owned())
        .collect()
}

fn no_address() -> Error {
    Error::usage("no OpenBao address").help(
        "set `address` in [workspace.metadata.systemprompt-secrets.openbao], BAO_ADDR, or pass --address URL",
    )
}

/// Where `login` stores a token and `logout` removes it.
#[derive(Debug, Clone)]
pub struct TokenAccount {
    /// The keyring account.
    pub account: String,
    /// How to name it: `API token for https://…`.
    pub what: String,
    /// Environment variables that are used before the keyring.
    pub env_first: &'static [&'static str],
    /// The OpenBao address, for the OpenBao backend.
    pub address: Option<String>,
    /// The project found, if one was looked for and found (its OpenBao CA and namespace).
    pub project: Option<Project>,
}

/// The keyring account of the token for `backend` (default: the manifest's `backend`, else the
/// cloud). The OpenBao address is the first of `--address`, the manifest's `address`, `BAO_ADDR`,
/// `VAULT_ADDR`. The project is looked for only when one of those needs it.
pub fn token_account(
    backend: Option<RemoteBackend>,
    flags: &RemoteFlags,
    project: impl FnOnce() -> Option<Project>,
) -> Result<TokenAccount, Error> {
    let needs_project = backend.is_none()
        || (backend == Some(RemoteBackend::Openbao) && flags.addresses.is_empty());
    let project = if needs_project { project() } else { None };
    let backend = backend
        .or_else(|| project.as_ref().map(|p| p.config.backend))
        .unwrap_or_default();
    match backend {
        RemoteBackend::Systemprompt => {
            let url = token::api_url(
                flags.api_url.as_deref(),
                &ProcessEnv,
                &std::env::current_dir().unwrap_or_default(),
            );
            check_url(&url)?;
            Ok(TokenAccount {
                account: api_token_account(&url),
                what: format!("API token for {}", crate::http::shown_text(&url)),
                env_first: &[token::TOKEN_ENV],
                address: None,
                project,
            })
        }
        RemoteBackend::Openbao => {
            let table = project.as_ref().map(|p| &p.config.openbao);
            let address = openbao_addresses(&flags.addresses, table, &ProcessEnv)
                .into_iter()
                .next()
                .ok_or_else(no_address)?;
            check_url(&address)?;
            Ok(TokenAccount {
                account: openbao_token_account(&address),
                what: format!("OpenBao token for {}", crate::http::shown_text(&address)),
                env_first: &["BAO_TOKEN", "VAULT_TOKEN"],
                address: Some(address),
                project,
            })
        }
    }
}

/// Whether `url` is an http(s) URL with a host.
pub fn check_url(url: &str) -> Result<(), Error> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(Error::usage(format!("`{url}` is not an http(s) URL"))
            .help("for example https://api.systemprompt.io")),
    }
}

fn http_config(flags: &RemoteFlags) -> HttpConfig {
    HttpConfig {
        connect_timeout: flags.connect_timeout.max(Duration::from_secs(1)),
        timeout: flags.timeout.max(Duration::from_secs(1)),
        ..HttpConfig::default()
    }
}

fn store_opener(choice: KeyringChoice) -> impl FnOnce() -> Option<Arc<dyn CredentialStore>> {
    move || keyring::open(choice).ok().map(|o| o.store)
}

/// What `cloud deploy` of this release does with a profile that does not deploy to the
/// systemprompt cloud: a cluster provider (`kubernetes`, `gke`) gets its secrets from the cluster,
/// and a local trial (`docker_local`, or `cloud.validation: warn|skip`, 0.75+) is not deployable.
fn not_deployed(project: &Project, profile: &Profile) -> Option<Error> {
    let release = project.generation(profile).release();
    if release.local_tenant_prefix {
        return None;
    }
    let cloud = profile.yaml.cloud.as_ref()?;
    let provider = cloud.provider.as_deref().unwrap_or("systemprompt");
    if matches!(provider, "kubernetes" | "gke") {
        let names = deploy_names(profile, release);
        return Some(
            Error::usage(format!(
                "profile `{}` deploys to {provider}: the cluster provides its secrets, so `cloud deploy` pushes nothing and neither does this tool; nothing was sent",
                profile.name
            ))
            .help(if names.is_empty() {
                "put the secrets in the cluster (for example `cargo systemprompt-secrets export --format k8s-secret`)".to_owned()
            } else {
                format!("the cluster must provide these names (as deploy reports them): {}", names.join(", "))
            }),
        );
    }
    let trial_by_validation = matches!(cloud.validation.as_deref(), Some("warn" | "skip"));
    if provider == "docker_local" || trial_by_validation {
        return Some(
            Error::usage(format!(
                "profile `{}` is a local trial ({}), which is not deployable; nothing was sent",
                profile.name,
                if provider == "docker_local" { "cloud.provider: docker_local" } else { "cloud.validation: warn|skip" }
            ))
            .help("keep its secrets in secrets.json; to deploy, set `cloud.provider: systemprompt` and a cloud `tenant_id`"),
        );
    }
    None
}

/// The names deploy reports for a profile's secrets.json (`map_secrets_to_env_vars`), sorted.
fn deploy_names(profile: &Profile, release: &crate::upstream::Release) -> Vec<String> {
    let Ok(entries) = crate::secrets_file::read_entries(&profile.secrets_path) else {
        return Vec::new();
    };
    let internal = entries
        .iter()
        .any(|(k, v)| k == "internal_database_url" && v.is_some());
    let mut names: Vec<String> = entries
        .iter()
        .filter(|(_, v)| v.is_some())
        .filter_map(|(k, _)| crate::remote::names::deploy_name(k, internal))
        .filter(|n| !release.is_system_managed(n))
        .collect();
    if crate::remote::names::custom_secrets(names.iter()).is_some() {
        names.push(crate::remote::names::CUSTOM_SECRETS.to_owned());
    }
    names.sort();
    names.dedup();
    names
}

fn open_cloud(project: &Project, profile: &Profile, flags: &RemoteFlags) -> Result<Opened, Error> {
    if let Some(e) = not_deployed(project, profile) {
        return Err(e);
    }
    let tenant = tenant(project, profile, flags.tenant.as_deref())?;
    // Before 0.75 a `local_` tenant id is a local trial; from 0.75 only `cloud.provider` says so.
    if is_local_tenant(&tenant) && project.generation(profile).release().local_tenant_prefix {
        return Err(Error::usage(format!(
            "tenant `{tenant}` of profile `{}` is a local trial tenant, not a cloud one; nothing was sent",
            profile.name
        ))
        .help("a `local_` tenant lives on this machine only: keep its secrets in secrets.json, or choose a cloud tenant with --tenant or `cloud.tenant_id`"));
    }
    let api_url = token::api_url(
        flags.api_url.as_deref(),
        &ProcessEnv,
        &std::env::current_dir().unwrap_or_default(),
    );
    let base = http::parse_base_url(&api_url)?;
    let mut warnings = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    let token = token::resolve(
        &api_url,
        &ProcessEnv,
        store_opener(flags.keyring),
        &cwd,
        &mut warnings,
    )?;
    let mut notes = vec![format!(
        "API {}, tenant {tenant}, token from {}",
        http::shown_text(&api_url),
        token.source
    )];
    let mut config = http_config(flags);
    config.tls = base.scheme() == "https";
    let generation = project.generation(profile);
    let http = Http::new(config)?;
    notes.extend(proxy_note(&http));
    let client = CloudClient::new(http, base, &tenant, token.value, generation.generation);
    Ok(Opened {
        store: Box::new(client),
        notes,
        warnings,
    })
}

/// Where a `secrets.source: vault` profile boots from, as its `secrets.vault` block says: the
/// remote is exactly that document, under the secrets.json names.
struct VaultSource {
    /// Its address, mount, path, namespace and `keys`, under the secrets.json names.
    location: KvLocation,
    ca_cert: Option<PathBuf>,
    /// `secrets.vault.auth` (only a verb that logs in needs it understood).
    auth: crate::profile::YamlVaultAuth,
}

/// The profile's own Vault settings, when it boots from Vault. A manifest or command-line setting
/// that says otherwise is an error naming both: the tool writes where the app reads, or nowhere.
fn vault_source(
    project: &Project,
    profile: &Profile,
    flags: &RemoteFlags,
) -> Result<Option<VaultSource>, Error> {
    if profile.yaml.source() != crate::profile::SecretSource::Vault {
        return Ok(None);
    }
    let yaml = rel(&profile.dir.join("profile.yaml"));
    let vault = profile
        .yaml
        .secrets
        .as_ref()
        .and_then(|s| s.vault.clone())
        .unwrap_or_default();
    let missing = |field: &str| {
        Error::usage(format!(
            "profile `{}` boots from Vault (`secrets.source: vault`) but {yaml} has no `secrets.vault.{field}`",
            profile.name
        ))
        .help(format!("add `{field}` under `secrets.vault` in {yaml}, as systemprompt needs it too"))
    };
    let address = vault
        .address
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| missing("address"))?;
    let path = vault
        .path
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| missing("path"))?;
    let mount = vault.mount.unwrap_or_else(|| DEFAULT_MOUNT.to_owned());
    let table = &project.config.openbao;
    let conflict = |what: &str, theirs: &str, place: &str, ours: &str| {
        Error::usage(format!(
            "{place} sets the OpenBao {what} to `{theirs}`, but profile `{}` boots from `{ours}` ({yaml}, `secrets.vault`)",
            profile.name
        ))
        .help(format!(
            "remove the {what} from {place}: for a `source: vault` profile the tool writes where the app reads"
        ))
    };
    let manifest = "[…systemprompt-secrets.openbao] in the Cargo manifest";
    let trimmed = |a: &str| a.trim_end_matches('/').to_owned();
    if let Some(flag) = flags
        .addresses
        .iter()
        .find(|a| trimmed(a) != trimmed(&address))
    {
        return Err(conflict("address", flag, "--address", &address));
    }
    let manifest_addresses: Vec<String> = table
        .address
        .as_ref()
        .map(crate::config::Addresses::to_vec)
        .unwrap_or_default();
    if let Some(other) = manifest_addresses
        .iter()
        .find(|a| trimmed(a) != trimmed(&address))
    {
        return Err(conflict("address", other, manifest, &address));
    }
    if let Some(other) = table.mount.as_ref().filter(|m| **m != mount) {
        return Err(conflict("mount", other, manifest, &mount));
    }
    if let Some(other) = table.path.as_ref().filter(|p| **p != path) {
        return Err(conflict("path", other, manifest, &path));
    }
    if let Some(other) = table
        .namespace
        .as_ref()
        .filter(|n| Some(*n) != vault.namespace.as_ref())
    {
        let ours = vault.namespace.as_deref().unwrap_or("no namespace");
        return Err(conflict("namespace", other, manifest, ours));
    }
    if table.remote_names == Some(crate::config::RemoteNames::Env) {
        return Err(conflict("names", "env", manifest, "the secrets.json names"));
    }
    let mut redirects = Vec::new();
    for (key, place) in vault.keys {
        let (Some(path), Some(field)) = (
            place
                .path
                .filter(|p| !p.trim_matches('/').trim().is_empty()),
            place.field.filter(|f| !f.trim().is_empty()),
        ) else {
            return Err(missing(&format!("keys.{key}.path` and `field")));
        };
        redirects.push(super::openbao::Redirect { key, path, field });
    }
    Ok(Some(VaultSource {
        location: KvLocation {
            address,
            mount,
            path,
            namespace: vault.namespace,
            names: crate::config::RemoteNames::Keys,
            redirects,
        },
        ca_cert: vault.ca_cert_path.map(|c| project.workspace_root.join(c)),
        auth: vault.auth.unwrap_or_default(),
    }))
}

/// Where a profile's KV v2 document lives, without opening it (no token): for a `source: vault`
/// profile its own `secrets.vault`, else the manifest's OpenBao settings.
#[derive(Debug, Clone)]
pub struct KvLocation {
    /// The server.
    pub address: String,
    /// The KV v2 mount.
    pub mount: String,
    /// The document's path under the mount.
    pub path: String,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// How the document names its keys.
    pub names: crate::config::RemoteNames,
    /// `secrets.vault.keys`: keys kept in a field of another document.
    pub redirects: Vec<super::openbao::Redirect>,
}

/// The KV v2 document `profile` syncs to, as [`KvLocation`]; an error naming what is missing.
pub fn kv_location(project: &Project, profile: &Profile) -> Result<KvLocation, Error> {
    if let Some(v) = vault_source(project, profile, &RemoteFlags::default())? {
        return Ok(v.location);
    }
    let address = openbao_addresses(&[], Some(&project.config.openbao), &ProcessEnv)
        .into_iter()
        .next()
        .ok_or_else(no_address)?;
    Ok(manifest_location(project, profile, address))
}

/// The document the manifest's `[…openbao]` table names for `profile`, on `address`.
fn manifest_location(project: &Project, profile: &Profile, address: String) -> KvLocation {
    let table = &project.config.openbao;
    KvLocation {
        address,
        mount: table
            .mount
            .clone()
            .unwrap_or_else(|| DEFAULT_MOUNT.to_owned()),
        path: expand_path(
            table.path.as_deref().unwrap_or(DEFAULT_PATH),
            &project.name,
            &profile.name,
        ),
        namespace: table.namespace.clone(),
        names: table.remote_names.unwrap_or_default(),
        redirects: Vec::new(),
    }
}

/// The token for an OpenBao run: a vault profile's own login first (its token variable or
/// file, an `AppRole` or a Kubernetes login), else the usual chain for `address` (as configured:
/// it keys the keyring entry).
fn token_for_openbao(
    project: &Project,
    profile: &Profile,
    source: Option<&VaultSource>,
    server: &super::vault_login::Server<'_>,
    flags: &RemoteFlags,
    warnings: &mut Vec<String>,
) -> Result<token::Token, Error> {
    use super::vault_login::Own;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    // A vault profile's own login comes first: the token the app itself would use.
    let instead = match source {
        None => None,
        Some(v) => match super::vault_login::own_token(project, profile, &v.auth, server)? {
            Own::Token(t) => return Ok(t),
            Own::Chain { instead } => instead,
        },
    };
    token::resolve_openbao(
        server.address,
        &ProcessEnv,
        store_opener(flags.keyring),
        home.as_deref(),
        warnings,
    )
    .map_err(|e| instead.unwrap_or_else(|| e.into()))
}

fn open_openbao(
    project: &Project,
    profile: &Profile,
    flags: &RemoteFlags,
) -> Result<Opened, Error> {
    let table = &project.config.openbao;
    let source = vault_source(project, profile, flags)?;
    let addresses = match &source {
        Some(v) => vec![v.location.address.clone()],
        None => openbao_addresses(&flags.addresses, Some(table), &ProcessEnv),
    };
    let Some(first) = addresses.first() else {
        return Err(no_address());
    };
    let urls = addresses
        .iter()
        .map(|a| http::parse_base_url(a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut warnings = Vec::new();
    let mut config = http_config(flags);
    config.ca_cert = match &source {
        Some(v) => v.ca_cert.clone(),
        None => table.ca_cert.clone(),
    };
    config.tls = urls.iter().any(|u| u.scheme() == "https");
    config.redirect_origins = urls
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    let http = Http::new(config)?;
    let server = super::vault_login::Server {
        http: &http,
        base: &urls[0],
        namespace: source
            .as_ref()
            .and_then(|v| v.location.namespace.as_deref()),
        address: first,
    };
    let token = token_for_openbao(
        project,
        profile,
        source.as_ref(),
        &server,
        flags,
        &mut warnings,
    )?;
    let own = if source.is_some() {
        " (the profile's own `secrets.vault`)"
    } else {
        ""
    };
    let location = match source {
        Some(v) => v.location,
        None => manifest_location(project, profile, first.clone()),
    };
    let (mount, path) = (&location.mount, &location.path);
    let mut notes = vec![format!(
        "OpenBao {} at {mount}/{path}{own}, token from {}",
        addresses.join(", "),
        token.source
    )];
    notes.extend(proxy_note(&http));
    for r in &location.redirects {
        notes.push(format!(
            "`{}` is read and written at {mount}/{} (field `{}`), as `secrets.vault.keys` says",
            r.key,
            r.path.trim_matches('/'),
            r.field
        ));
    }
    let client = BaoClient::new(http, urls, mount, path, location.namespace, token.value)
        .with_token_source(token.source.to_string())
        .with_remote_names(location.names)
        .with_redirects(location.redirects);
    Ok(Opened {
        store: Box::new(client),
        notes,
        warnings,
    })
}

/// Asks OpenBao at `address` whether `token` is valid (`lookup-self`), with the manifest's CA and
/// namespace when a project is at hand: `login` stores no token the server rejects.
pub fn check_openbao_token(
    project: Option<&Project>,
    address: &str,
    token: &SecretString,
    source: &str,
) -> Result<(), Error> {
    let url = http::parse_base_url(address)?;
    let table = project.map(|p| &p.config.openbao);
    let mut config = http_config(&RemoteFlags::default());
    config.ca_cert = table.and_then(|t| t.ca_cert.clone());
    config.tls = url.scheme() == "https";
    config.redirect_origins = vec![url.origin().ascii_serialization()];
    let client = BaoClient::new(
        Http::new(config)?,
        vec![url],
        "secret",
        "",
        table.and_then(|t| t.namespace.clone()),
        token.clone(),
    )
    .with_token_source(source);
    client.check_token().map_err(Error::from)
}

/// How healthy one thing is, for `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fine.
    Pass,
    /// Worth a look.
    Warn,
    /// Broken.
    Fail,
}

/// One line of `doctor`: a level, what was seen, and what to do.
#[derive(Debug, Clone)]
pub struct Health {
    /// How healthy.
    pub level: Level,
    /// What was seen.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl Health {
    fn new(level: Level, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// The tokens the project's remotes need (every backend when there is no project): where each
/// comes from, and whether it has expired or soon will.
#[must_use]
pub fn token_checks(
    project: Option<&Project>,
    store: Option<&Arc<dyn CredentialStore>>,
) -> Vec<Health> {
    let uses = |backend: RemoteBackend| {
        project.is_none_or(|p| {
            p.config.backend == backend
                || p.profiles
                    .names
                    .iter()
                    .any(|n| p.config.backend_of(n) == backend)
        })
    };
    let mut checks = Vec::new();
    if uses(RemoteBackend::Systemprompt) {
        cloud_token(store, &mut checks);
    }
    if uses(RemoteBackend::Openbao) {
        openbao_token(project, store, &mut checks);
    }
    checks
}

fn cloud_token(store: Option<&Arc<dyn CredentialStore>>, checks: &mut Vec<Health>) {
    let url = token::api_url(
        None,
        &ProcessEnv,
        &std::env::current_dir().unwrap_or_default(),
    );
    let login = "run `cargo systemprompt-secrets login`";
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut warnings = Vec::new();
    match token::resolve(&url, &ProcessEnv, || store.cloned(), &cwd, &mut warnings) {
        Ok(t) => {
            let left = t.expires_at.map(|exp| exp.saturating_sub(token::now()));
            let expires = format_time(t.expires_at.unwrap_or_default());
            checks.push(match left {
                Some(secs) if secs < 24 * 3600 => Health::new(
                    Level::Warn,
                    format!(
                        "cloud token from {} expires within a day ({expires})",
                        t.source
                    ),
                    "run `cargo systemprompt-secrets login` for a fresh one",
                ),
                Some(_) => Health::new(
                    Level::Pass,
                    format!("cloud token from {}, expires {expires}", t.source),
                    "",
                ),
                None => Health::new(
                    Level::Pass,
                    format!("cloud token from {} (not a JWT: expiry unknown)", t.source),
                    "",
                ),
            });
            for w in warnings {
                checks.push(Health::new(Level::Warn, w, "see the message"));
            }
        }
        Err(TokenError::NotLoggedIn) => checks.push(Health::new(
            Level::Warn,
            format!("no cloud token for {}", crate::http::shown_text(&url)),
            "run `cargo systemprompt-secrets login` before sync, set or diff",
        )),
        Err(e @ TokenError::Expired { .. }) => {
            checks.push(Health::new(Level::Fail, e.to_string(), login));
        }
        Err(e) => checks.push(Health::new(Level::Warn, e.to_string(), login)),
    }
}

fn openbao_token(
    project: Option<&Project>,
    store: Option<&Arc<dyn CredentialStore>>,
    checks: &mut Vec<Health>,
) {
    let table = project.map(|p| &p.config.openbao);
    let Some(address) = openbao_addresses(&[], table, &ProcessEnv)
        .into_iter()
        .next()
    else {
        checks.push(Health::new(
            Level::Fail,
            "profiles use OpenBao, but no address is configured",
            "set `address` in [workspace.metadata.systemprompt-secrets.openbao] or BAO_ADDR",
        ));
        return;
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut warnings = Vec::new();
    match token::resolve_openbao(
        &address,
        &ProcessEnv,
        || store.cloned(),
        home.as_deref(),
        &mut warnings,
    ) {
        Ok(t) => checks.push(Health::new(
            Level::Pass,
            format!("OpenBao token for {} from {}", crate::http::shown_text(&address), t.source),
            "",
        )),
        Err(e) => checks.push(Health::new(
            Level::Warn,
            e.to_string(),
            format!("run `cargo systemprompt-secrets login --backend openbao --address {address}` or set BAO_TOKEN"),
        )),
    }
    for w in warnings {
        checks.push(Health::new(Level::Warn, w, "see the message"));
    }
}

/// For `-v`: the proxy HTTPS requests go through, if the environment names one.
fn proxy_note(http: &Http) -> Option<String> {
    http.proxy().map(|p| {
        format!("HTTPS requests go through the proxy {p}; plain http on loopback goes direct")
    })
}
