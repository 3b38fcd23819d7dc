//! Planning a push, shared by every store: which local keys go out under which remote names (and
//! which are skipped, and why), and how they compare with what the remote holds.

use secrecy::SecretString;

use super::names::{self, protected_name_in, Skip};
use super::{Edit, Remote, RemoteStore};
use crate::keys;
use crate::layers::Resolved;
use crate::secret_map::{Compare, Comparison, SecretMap};

/// What the local side offers a remote.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// The values to push, under their remote names.
    pub push: SecretMap,
    /// Env-style names that are not pushed, with the reason.
    pub skipped: Vec<(String, Skip)>,
}

impl Outgoing {
    /// The resolved keys as `store` names them, without the names the platform (of `release`) or
    /// the deploy pipeline owns, nor blank ones. The values are moved, not copied.
    #[must_use]
    pub fn new(
        resolved: Resolved,
        store: &dyn RemoteStore,
        release: &crate::upstream::Release,
    ) -> Self {
        let mut out = Self::default();
        let deploy = store.deploy_naming();
        let internal = resolved.entries.contains_key("internal_database_url");
        let blank: Vec<String> = resolved
            .blanks
            .keys()
            .filter(|key| !resolved.entries.contains_key(*key))
            .map(|key| keys::env_name(key))
            .collect();
        // Gathered, then built at once (a later value under the same name wins, as on insert).
        let mut push = Vec::with_capacity(resolved.entries.len());
        for (key, resolution) in resolved.entries {
            // The names are compared without regard to case: the key stands for its env name.
            let env = keys::named_env(&key).unwrap_or(&key);
            if let Some(skip) = protected_name_in(env, release) {
                out.skipped.push((keys::env_name(&key), skip));
                continue;
            }
            let remote = if deploy {
                names::deploy_name(&key, internal)
            } else {
                Some(store.remote_name(&key))
            };
            match remote {
                Some(remote) => push.push((remote, resolution.winner.value)),
                None => out.skipped.push((keys::env_name(&key), Skip::Shadowed)),
            }
        }
        out.push = push.into_iter().collect();
        out.skipped
            .extend(blank.into_iter().map(|name| (name, Skip::Empty)));
        if deploy {
            out.list_custom();
        }
        out
    }

    /// Adds (or refreshes) [`names::CUSTOM_SECRETS`]: every custom name being pushed, so that the
    /// deployed service reads them.
    pub fn list_custom(&mut self) {
        self.push.remove(names::CUSTOM_SECRETS);
        if let Some(list) = names::custom_secrets(self.push.names()) {
            self.push
                .insert(names::CUSTOM_SECRETS.to_owned(), SecretString::from(list));
        }
    }
}

/// How the names a tenant's [`names::CUSTOM_SECRETS`] will hold were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListBasis {
    /// From the server's list of names.
    Listed,
    /// The server lists no names: from what this machine last wrote into the list.
    Recorded,
    /// The server lists no names and nothing is recorded: the local profile's custom names.
    LocalOnly,
}

/// The tenant's list of custom names after a write: every custom name it will hold.
#[derive(Debug, Clone)]
pub struct CustomList {
    /// The list before the write, as far as it is known (what this machine last wrote, else the
    /// custom names the server lists).
    pub before: Option<std::collections::BTreeSet<String>>,
    /// The list after the write.
    pub after: std::collections::BTreeSet<String>,
    /// Where the names came from.
    pub basis: ListBasis,
}

impl CustomList {
    /// The list once `pushing` is written and `deleting` is deleted on `remote`: the custom names
    /// the remote lists (or, on a server that lists none, those `recorded`, else those of the
    /// `local` profile), plus those pushed, minus those deleted.
    #[must_use]
    pub fn after_write<'a>(
        remote: &Remote,
        recorded: Option<&std::collections::BTreeSet<String>>,
        local: impl IntoIterator<Item = &'a String>,
        pushing: impl IntoIterator<Item = &'a String>,
        deleting: &[String],
    ) -> Self {
        let custom = |n: &&String| names::is_custom(n);
        let listed: Option<std::collections::BTreeSet<String>> = remote
            .unlisted
            .is_none()
            .then(|| remote.names().filter(custom).cloned().collect());
        let (mut after, basis) = match (&listed, recorded) {
            (Some(l), _) => (l.clone(), ListBasis::Listed),
            (None, Some(r)) => (r.clone(), ListBasis::Recorded),
            (None, None) => (
                local.into_iter().filter(custom).cloned().collect(),
                ListBasis::LocalOnly,
            ),
        };
        // What is pushed is listed as deploy lists it: every name but the standard ones.
        after.extend(
            pushing
                .into_iter()
                .filter(|n| {
                    !names::STANDARD_NAMES.contains(&n.as_str()) && *n != names::CUSTOM_SECRETS
                })
                .cloned(),
        );
        for gone in deleting {
            after.remove(gone);
        }
        Self {
            before: recorded.cloned().or(listed),
            after,
            basis,
        }
    }

    /// Names the write adds to the list (all of them when the list before is unknown).
    #[must_use]
    pub fn added(&self) -> Vec<String> {
        self.after
            .iter()
            .filter(|n| self.before.as_ref().is_none_or(|b| !b.contains(*n)))
            .cloned()
            .collect()
    }

    /// Names the write removes from the list.
    #[must_use]
    pub fn removed(&self) -> Vec<String> {
        self.before
            .iter()
            .flatten()
            .filter(|n| !self.after.contains(*n))
            .cloned()
            .collect()
    }

    /// The value to write, `None` when the list is empty.
    #[must_use]
    pub fn value(&self) -> Option<SecretString> {
        names::custom_secrets(self.after.iter()).map(SecretString::from)
    }
}

/// How `local` (remote names) compares with what the remote holds: by value (constant time) where the
/// store gives values back, by name otherwise.
#[must_use]
pub fn compare<'a>(local: &'a SecretMap, remote: &'a Remote) -> Comparison<'a> {
    match &remote.values {
        Some(values) => local.compare(values),
        None => Comparison::of_names(local.names(), remote.names()),
    }
}

/// A push of `local` onto a remote, by name.
#[derive(Debug, Clone, Default)]
pub struct SyncPlan {
    /// Not on the remote yet.
    pub new: Vec<String>,
    /// On the remote with another value.
    pub changed: Vec<String>,
    /// On the remote with the same value.
    pub unchanged: Vec<String>,
    /// On the remote; its value is unknown (a store that gives names only).
    pub existing: Vec<String>,
    /// Only on the remote.
    pub remote_only: Vec<String>,
    /// Remote-only names `--prune` deletes (never those the platform or deploy pipeline owns).
    pub prune: Vec<String>,
    /// Whether values were compared.
    pub values_compared: bool,
    /// Why remote names are unknown (the server does not list them): every name is pushed.
    pub unlisted: Option<String>,
}

impl SyncPlan {
    /// Plans pushing `local` (remote names) onto `remote`; with `prune`, remote-only names go.
    #[must_use]
    pub fn new(local: &SecretMap, remote: &Remote, prune: bool) -> Self {
        if let Some(why) = &remote.unlisted {
            return Self {
                new: local.names().cloned().collect(),
                unlisted: Some(why.clone()),
                ..Self::default()
            };
        }
        let cmp = compare(local, remote);
        let remote_only = cmp.names(Compare::RemoteOnly);
        Self {
            new: cmp.names(Compare::LocalOnly),
            changed: cmp.names(Compare::Changed),
            unchanged: cmp.names(Compare::Equal),
            existing: cmp.names(Compare::Both),
            prune: if prune {
                remote_only
                    .iter()
                    .filter(|n| !names::kept_on_delete(n))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            },
            remote_only,
            values_compared: remote.values.is_some(),
            unlisted: None,
        }
    }

    /// Whether the remote already holds exactly this (known only when values were compared).
    #[must_use]
    pub fn up_to_date(&self) -> bool {
        self.values_compared
            && self.new.is_empty()
            && self.changed.is_empty()
            && self.prune.is_empty()
    }

    /// The edit that carries the plan out: every local value, and the prunes.
    #[must_use]
    pub fn edit(&self, local: SecretMap) -> Edit {
        Edit {
            set: local,
            delete: self.prune.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::MemoryStore;

    #[test]
    fn names_only_plan_cannot_compare_values() {
        let remote = Remote::listing(["A".to_owned(), "OLD".to_owned(), "FLY_APP_NAME".to_owned()]);
        let plan = SyncPlan::new(&SecretMap::of(&[("A", "1"), ("B", "2")]), &remote, true);
        assert_eq!(plan.new, ["B"]);
        assert_eq!(plan.existing, ["A"]);
        assert!(plan.changed.is_empty() && plan.unchanged.is_empty());
        assert_eq!(plan.remote_only, ["A", "FLY_APP_NAME", "OLD"][1..]);
        assert_eq!(plan.prune, ["OLD"], "system-managed names are never pruned");
        assert!(
            !plan.up_to_date(),
            "without values nothing is known to be up to date"
        );
    }

    #[test]
    fn values_plan_tells_changed_from_unchanged() {
        let remote = Remote::values(SecretMap::of(&[("a", "1"), ("b", "old"), ("x", "9")]), 3);
        let plan = SyncPlan::new(&SecretMap::of(&[("a", "1"), ("b", "new")]), &remote, false);
        assert_eq!(plan.unchanged, ["a"]);
        assert_eq!(plan.changed, ["b"]);
        assert_eq!(plan.remote_only, ["x"]);
        assert!(plan.prune.is_empty() && !plan.up_to_date());
        let same = SyncPlan::new(&SecretMap::of(&[("a", "1"), ("b", "old")]), &remote, false);
        assert!(
            same.up_to_date(),
            "remote-only names are kept without --prune"
        );
    }

    #[test]
    fn applying_a_plan_to_a_versioned_store_checks_and_sets() {
        let store = MemoryStore::versioned(SecretMap::of(&[("a", "1"), ("x", "9")]));
        let read = store.read().unwrap();
        let local = SecretMap::of(&[("a", "2")]);
        let plan = SyncPlan::new(&local, &read, true);
        let applied = store
            .apply(&plan.edit(local.clone()), Some(&read), &|| {})
            .unwrap();
        assert_eq!(
            (applied.version, applied.removed.as_slice()),
            (Some(2), &["x".to_owned()][..])
        );
        assert!(store.current().same_as(&local));

        // Someone else writes between our read and our write: nothing of ours lands.
        let read = store.read().unwrap();
        store.intrude("y", "theirs");
        let plan = SyncPlan::new(&SecretMap::of(&[("a", "3")]), &read, false);
        assert!(store
            .apply(
                &plan.edit(SecretMap::of(&[("a", "3")])),
                Some(&read),
                &|| {}
            )
            .is_err());
        assert!(store.current().contains("y"));
        assert_eq!(
            store
                .current()
                .get("a")
                .map(secrecy::ExposeSecret::expose_secret),
            Some("2")
        );
    }

    #[test]
    fn outgoing_skips_owned_and_blank_names_and_uses_remote_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(
            &path,
            r#"{"anthropic": "sk-ant-x", "fly_app_name": "app", "github": null}"#,
        )
        .unwrap();
        let opts = crate::layers::LoadOptions {
            env: &crate::env::MapEnv::default(),
            use_env: false,
            read_file: true,
            env_files: vec![],
            cache: &crate::cache_layer::NoCache,
            project_id: "p",
        };
        let settings = crate::config::Config::default().for_profile(
            "local",
            crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
        );
        let resolved = || crate::layers::load(&path, &settings, "local", &opts).unwrap();
        let cloud_like = MemoryStore::names_only(SecretMap::new());
        let out = Outgoing::new(resolved(), &cloud_like, crate::upstream::Release::latest());
        assert_eq!(out.push.names().collect::<Vec<_>>(), ["ANTHROPIC_API_KEY"]);
        assert_eq!(
            out.skipped,
            [
                ("FLY_APP_NAME".to_owned(), Skip::SystemManaged),
                ("GITHUB_TOKEN".to_owned(), Skip::Empty)
            ]
        );
        let bao_like = MemoryStore::versioned(SecretMap::new());
        let out = Outgoing::new(resolved(), &bao_like, crate::upstream::Release::latest());
        assert_eq!(out.push.names().collect::<Vec<_>>(), ["anthropic"]);
    }
}
