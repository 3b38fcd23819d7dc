//! What the OpenBao verbs share: addresses, mount, path, token, the name mapping and hashing.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::cloud::http_config;
use super::Context;
use crate::cli::RemoteArgs;
use crate::config::RemoteNames;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::http::{self, Http};
use crate::keys;
use crate::profile::Profile;
use crate::project::Project;
use crate::remote::openbao::{expand_path, BaoClient};
use crate::shell::Shell;
use crate::token;

/// The default KV v2 mount.
pub(crate) const DEFAULT_MOUNT: &str = "secret";
/// The default path template.
pub(crate) const DEFAULT_PATH: &str = "systemprompt/{project}/{profile}";

/// An OpenBao client for one profile, and how its names are spelled.
pub(crate) struct Bao {
    pub client: BaoClient,
    pub names: RemoteNames,
}

impl Bao {
    /// The remote name of a secrets.json key.
    pub fn remote_name(&self, key: &str) -> String {
        match self.names {
            RemoteNames::Keys => key.to_owned(),
            RemoteNames::Env => keys::env_name(key),
        }
    }

    /// The secrets.json key of a remote name.
    pub fn local_key(&self, name: &str) -> String {
        match self.names {
            RemoteNames::Keys => name.to_owned(),
            RemoteNames::Env => keys::key_from_env(name),
        }
    }
}

/// The `{project}` of the path template: the package's name, else the workspace folder's name.
pub(crate) fn project_name(project: &Project) -> String {
    project.package.clone().unwrap_or_else(|| {
        project
            .workspace_root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("project")
            .to_owned()
    })
}

impl Context {
    /// The OpenBao client for `profile`.
    pub(crate) fn openbao(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: &Profile,
        args: &RemoteArgs,
    ) -> Result<Bao, Error> {
        let table = &project.config.openbao;
        let addresses: Vec<String> = if args.address.is_empty() {
            table
                .address
                .as_ref()
                .map(crate::config::Addresses::to_vec)
                .or_else(|| {
                    std::env::var("BAO_ADDR")
                        .ok()
                        .filter(|a| !a.is_empty())
                        .map(|a| vec![a])
                })
                .or_else(|| {
                    std::env::var("VAULT_ADDR")
                        .ok()
                        .filter(|a| !a.is_empty())
                        .map(|a| vec![a])
                })
                .unwrap_or_default()
        } else {
            args.address.clone()
        };
        if addresses.is_empty() {
            return Err(Error::usage("no OpenBao address").help("set `address` in [workspace.metadata.systemprompt-secrets.openbao], BAO_ADDR, or pass --address URL"));
        }
        let urls = addresses
            .iter()
            .map(|a| http::parse_base_url(a))
            .collect::<Result<Vec<_>, _>>()?;
        let first = addresses[0].trim_end_matches('/').to_owned();
        let choice = self.global.keyring;
        let store = || crate::keyring::open(choice).ok().map(|o| o.store);
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let mut warnings = Vec::new();
        let token =
            token::resolve_openbao(&first, &ProcessEnv, store, home.as_deref(), &mut warnings)?;
        for w in warnings {
            shell.warn(w);
        }
        let mount = table
            .mount
            .clone()
            .unwrap_or_else(|| DEFAULT_MOUNT.to_owned());
        let path = expand_path(
            table.path.as_deref().unwrap_or(DEFAULT_PATH),
            &project_name(project),
            &profile.name,
        );
        shell.verbose(format_args!(
            "OpenBao {} at {mount}/{path}, token from {}",
            addresses.join(", "),
            token.source
        ));
        let mut config = http_config(args);
        config.ca_cert.clone_from(&table.ca_cert);
        config.tls = urls.iter().any(|u| u.scheme() == "https");
        config.redirect_origins = urls
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        let http = Http::new(config)?;
        let client = BaoClient::new(
            http,
            urls,
            &mount,
            &path,
            table.namespace.clone(),
            token.value,
        );
        Ok(Bao {
            client,
            names: table.remote_names.unwrap_or_default(),
        })
    }
}

/// Compares values by HMAC-SHA256 under a key drawn for this run, so no value is ever compared
/// or shown in the clear.
pub(crate) struct Hasher {
    key: [u8; 32],
}

impl Hasher {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        let _ = getrandom::fill(&mut key);
        Self { key }
    }

    fn digest(&self, value: &SecretString) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(value.expose_secret().as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn equal(&self, a: &SecretString, b: &SecretString) -> bool {
        self.digest(a) == self.digest(b)
    }
}

/// How one key compares between two maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Compare {
    Equal,
    Changed,
    LocalOnly,
    RemoteOnly,
}

/// Every key of both maps with its comparison, sorted.
pub(crate) fn compare(
    local: &BTreeMap<String, SecretString>,
    remote: &BTreeMap<String, SecretString>,
) -> Vec<(String, Compare)> {
    let h = Hasher::new();
    let mut all: Vec<&String> = local.keys().chain(remote.keys()).collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .map(|k| {
            let c = match (local.get(k), remote.get(k)) {
                (Some(a), Some(b)) if h.equal(a, b) => Compare::Equal,
                (Some(_), Some(_)) => Compare::Changed,
                (Some(_), None) => Compare::LocalOnly,
                _ => Compare::RemoteOnly,
            };
            (k.clone(), c)
        })
        .collect()
}

/// Names in `cmp` with status `which`.
pub(crate) fn names(cmp: &[(String, Compare)], which: Compare) -> Vec<String> {
    cmp.iter()
        .filter(|(_, c)| *c == which)
        .map(|(k, _)| k.clone())
        .collect()
}
