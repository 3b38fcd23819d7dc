//! Remote stores behind one trait: the systemprompt cloud API and OpenBao / Vault KV v2, plus an
//! in-memory store for tests. Verbs ask a [`RemoteStore`] for what they need; what only some stores
//! can do (read values back, keep versions) is a [`Capability`] the verb asks for first.

mod memory;
pub mod names;
mod open;
pub mod openbao;
pub mod plan;
mod redirect;
pub mod since;
pub mod systemprompt;
mod vault_login;

use std::collections::BTreeSet;

pub use memory::MemoryStore;
pub use names::{
    kept_on_delete, needs_cleanup, protected_name, Skip, CUSTOM_SECRETS, DEPLOY_OWNED,
    STALE_API_URL, SYSTEM_MANAGED,
};
pub use open::{
    check_openbao_token, check_url, has_remote, openbao_addresses, require, tenant, token_account,
    token_checks, Health, Level, RemoteFlags, TokenAccount,
};
pub use open::{kv_location, open, KvLocation, Opened};
pub use openbao::{Metadata, VersionInfo};

use crate::error::Error;
use crate::http::RequestRecord;
use crate::secret_map::SecretMap;

/// What a store can do beyond names and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// It gives values back (`pull`, value comparison).
    Values,
    /// It keeps versions and writes with check-and-set (`versions`, `rollback`).
    Versions,
}

/// What a store read: its names, and where the store gives them back, its values and version.
#[derive(Debug, Clone, Default)]
pub struct Remote {
    /// Every remote name of a store that gives names only (with values, the names are theirs:
    /// [`Remote::names`]).
    listed: BTreeSet<String>,
    /// The values, by remote name, for a store with [`Capability::Values`].
    pub values: Option<SecretMap>,
    /// The version read (0: nothing stored yet), for a store with [`Capability::Versions`].
    pub version: Option<u64>,
    /// Why the names are unknown, when the server does not list them (a 404 or 405 to the list
    /// call of systemprompt 0.32 and later); `names` is then empty.
    pub unlisted: Option<String>,
    /// Keys the app reads from a field of another document (`secrets.vault.keys`) that is not
    /// there, with why: upstream stops the boot on each.
    pub unserved: Vec<(String, String)>,
}

impl Remote {
    /// A read of names only.
    #[must_use]
    pub fn listing(names: impl IntoIterator<Item = String>) -> Self {
        Self {
            listed: names.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Every remote name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.values
            .iter()
            .flat_map(SecretMap::names)
            .chain(&self.listed)
    }

    /// Whether the remote holds `name`.
    #[must_use]
    pub fn has_name(&self, name: &str) -> bool {
        self.listed.contains(name) || self.values.as_ref().is_some_and(|v| v.contains(name))
    }

    /// A read that learnt no names: the server does not list them, for the reason given.
    #[must_use]
    pub fn unlisted(why: String) -> Self {
        Self {
            unlisted: Some(why),
            ..Self::default()
        }
    }

    /// Nothing when the names are known, or an error for `verb` when the server does not list
    /// them.
    pub fn listed(&self, verb: &str) -> Result<(), Error> {
        match &self.unlisted {
            None => Ok(()),
            Some(why) => Err(Error::failed(format!(
                "cannot {verb}: the server does not list remote names ({why}); nothing was changed"
            ))
            .help("systemprompt 0.32 and later removed listing and deleting secrets; `sync` (without --prune) still pushes, and `cloud deploy` upstream sets the rest")),
        }
    }

    /// A read of values at a version.
    #[must_use]
    pub fn values(values: SecretMap, version: u64) -> Self {
        Self {
            listed: BTreeSet::new(),
            values: Some(values),
            version: Some(version),
            unlisted: None,
            unserved: Vec::new(),
        }
    }
}

/// A change to the remote: names to set and names to delete (remote names).
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// Set these (upsert).
    pub set: SecretMap,
    /// Delete these.
    pub delete: Vec<String>,
}

/// What applying an [`Edit`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Whether anything was written (a store that reads values first writes nothing when the
    /// edit changes nothing).
    pub wrote: bool,
    /// The version written, for a store that keeps versions.
    pub version: Option<u64>,
    /// Names deleted.
    pub removed: Vec<String>,
    /// Names to delete that were not set.
    pub was_not_set: Vec<String>,
    /// Names whose deletion failed, with why (a store that deletes name by name).
    pub failed: Vec<(String, Error)>,
    /// Names not deleted because a signal stopped the deletes (a store that deletes name by
    /// name finishes the requests in flight and starts no more).
    pub not_attempted: Vec<String>,
}

/// A remote store for one profile.
pub trait RemoteStore: Send + Sync {
    /// Where it is, for messages: `tenant t-1 (https://…)` or `secret/systemprompt/app/local`.
    fn location(&self) -> String;

    /// How `doctor` names it: `cloud https://… tenant t-1` or `OpenBao secret/…`.
    fn describe(&self) -> String;

    /// Everything that tells this remote from another (server, namespace, path or tenant): the
    /// key of what this machine records about it ([`crate::sync_state`]).
    fn identity(&self) -> String {
        self.describe()
    }

    /// The field that names it in JSON output: `("tenant", "t-1")` or `("path", "secret/…")`.
    fn target(&self) -> (&'static str, String);

    /// The remote name of a secrets.json key.
    fn remote_name(&self, key: &str) -> String;

    /// The secrets.json key of a remote name.
    fn local_key(&self, name: &str) -> String;

    /// Whether a push names keys as upstream's `cloud deploy` does for the whole file (the
    /// `internal_database_url` rule and [`CUSTOM_SECRETS`]), not key by key.
    fn deploy_naming(&self) -> bool {
        false
    }

    /// What `-v` should know about how the store talked to its server (a fallback taken).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The remote name of a name typed on the command line (a key or an env-style name).
    fn remote_name_of(&self, given: &str) -> String {
        self.remote_name(&crate::keys::key_from_env(given.trim()))
    }

    /// Whether it can do `capability`.
    fn has(&self, capability: Capability) -> bool;

    /// Reads the names (and, with [`Capability::Values`], the values and version).
    fn read(&self) -> Result<Remote, Error>;

    /// Applies `edit`. With `base` (an earlier [`RemoteStore::read`]) a store with versions
    /// writes with check-and-set against that read and fails on a conflict; without it, it reads
    /// afresh and retries on conflicts. `progress` is called after each request of a store that
    /// works name by name.
    fn apply(
        &self,
        edit: &Edit,
        base: Option<&Remote>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Applied, Error>;

    /// A read-only question for `doctor --online`, answered in a few words.
    fn probe(&self) -> Result<String, Error>;

    /// What the token may do on each document the app reads (API path, capabilities), for
    /// `doctor`; empty for a store that cannot tell.
    fn access(&self) -> Result<Vec<(String, Vec<String>)>, Error> {
        Ok(Vec::new())
    }

    /// The versions kept ([`Capability::Versions`]); `None` when nothing is stored yet.
    fn versions(&self) -> Result<Option<Metadata>, Error> {
        Err(self.lacks(Capability::Versions))
    }

    /// Reads one earlier version ([`Capability::Versions`]).
    fn read_version(&self, version: u64) -> Result<Remote, Error> {
        let _ = version;
        Err(self.lacks(Capability::Versions))
    }

    /// The requests made so far (method, URL, status, attempts, time).
    fn requests(&self) -> Vec<RequestRecord>;

    /// The error for a verb that needs `capability` of a store without it.
    fn lacks(&self, capability: Capability) -> Error {
        Error::usage(format!("{} cannot {}", self.location(), capability.verb()))
    }
}

impl Capability {
    fn verb(self) -> &'static str {
        match self {
            Capability::Values => "give values back",
            Capability::Versions => "keep versions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_values_or_the_listing() {
        let read = Remote::values(
            SecretMap::from_iter([("b".to_owned(), "2".into()), ("a".to_owned(), "1".into())]),
            3,
        );
        assert_eq!(read.names().collect::<Vec<_>>(), ["a", "b"]);
        assert!(read.has_name("a") && !read.has_name("c"));
        let listing = Remote::listing(["Y".to_owned(), "X".to_owned()]);
        assert_eq!(listing.names().collect::<Vec<_>>(), ["X", "Y"]);
        assert!(listing.has_name("Y") && !listing.has_name("a"));
        assert!(listing.listed("prune").is_ok());
        let unlisted = Remote::unlisted("a 404".to_owned());
        assert_eq!(unlisted.names().count(), 0);
        let err = unlisted.listed("prune").unwrap_err().to_string();
        assert!(
            err.contains("cannot prune") && err.contains("a 404"),
            "{err}"
        );
    }
}
