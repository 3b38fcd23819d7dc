//! Which side changed a key: what a versioned remote held when this machine last synced or
//! pulled the profile (the version recorded in [`crate::sync_state`]) against what it holds now
//! and what the local side holds. A teammate's newer value is told from a stale local one, so
//! that `sync` never overwrites it unasked.

use std::collections::BTreeSet;

use super::plan::SyncPlan;
use super::{Remote, RemoteStore};
use crate::secret_map::{Compare, SecretMap};

/// Which side changed a key since the last sync or pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Only the local side.
    Local,
    /// Only the remote (someone else wrote it).
    Remote,
    /// Both sides, differently.
    Both,
}

/// What the remote held at the last sync or pull, as far as it can be known.
#[derive(Debug)]
pub enum Since {
    /// The remote keeps no versions (the cloud): nothing is recorded or compared.
    Unversioned,
    /// The remote is at the version recorded: only the local side can have changed.
    Unchanged(u64),
    /// The version recorded and what it held.
    Known {
        /// The version.
        version: u64,
        /// Its keys and values.
        held: SecretMap,
    },
    /// Nothing to compare against, and why.
    Unknown(String),
}

impl Since {
    /// What `remote` (just read) held at `recorded`: read from the store when the remote moved
    /// on since (one request), from `remote` itself when it did not.
    #[must_use]
    pub fn read(store: &dyn RemoteStore, remote: &Remote, recorded: Option<u64>) -> Self {
        let (Some(now), Some(_)) = (remote.version, &remote.values) else {
            return Self::Unversioned;
        };
        match recorded {
            _ if now == 0 => Self::Unchanged(0),
            Some(v) if v == now => Self::Unchanged(v),
            Some(v) if v < now => match store.read_version(v) {
                Ok(then) => Self::Known {
                    version: v,
                    held: then.values.unwrap_or_default(),
                },
                Err(e) => Self::Unknown(format!(
                    "version {v}, last synced or pulled here, cannot be read ({e})"
                )),
            },
            Some(v) => Self::Unknown(format!(
                "the remote is at version {now}, below version {v} last synced or pulled here: it was deleted and written anew"
            )),
            None => Self::Unknown(
                "no sync or pull of this profile is recorded on this machine".to_owned(),
            ),
        }
    }

    /// Which side changed each key that differs between `local` and `remote` (remote names);
    /// `None` when that cannot be known. `compared`, when the caller has it, is `local` compared
    /// with `remote`: it is not compared again.
    #[must_use]
    pub fn sides(
        &self,
        local: &SecretMap,
        remote: &SecretMap,
        compared: Option<&crate::secret_map::Comparison<'_>>,
    ) -> Option<Sides> {
        let moved = |from: &SecretMap, to: &SecretMap| -> BTreeSet<String> {
            from.compare(to)
                .iter()
                .filter(|(_, c)| *c != Compare::Equal)
                .map(|(k, _)| k.to_owned())
                .collect()
        };
        match self {
            // What the remote holds is what was recorded: every difference is local.
            Self::Unchanged(_) => Some(Sides {
                local: compared.map_or_else(
                    || moved(remote, local),
                    |c| {
                        c.iter()
                            .filter(|(_, c)| *c != Compare::Equal)
                            .map(|(k, _)| k.to_owned())
                            .collect()
                    },
                ),
                remote: BTreeSet::new(),
            }),
            Self::Known { held, .. } => Some(Sides {
                local: moved(held, local),
                remote: moved(held, remote),
            }),
            Self::Unversioned | Self::Unknown(_) => None,
        }
    }

    /// The keys a push of `local` after `plan` would overwrite although someone else changed
    /// them on the remote since the last sync or pull (or, when that is unknown, every key whose
    /// remote value differs).
    #[must_use]
    pub fn conflicts(&self, local: &SecretMap, remote: &Remote, plan: &SyncPlan) -> Vec<String> {
        if matches!(self, Self::Unversioned | Self::Unchanged(_)) {
            return Vec::new();
        }
        let empty = SecretMap::new();
        match self.sides(local, remote.values.as_ref().unwrap_or(&empty), None) {
            Some(sides) => plan
                .changed
                .iter()
                .chain(&plan.new)
                .chain(&plan.prune)
                .filter(|k| sides.remote.contains(*k))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            None => plan.changed.clone(),
        }
    }
}

/// The keys each side changed since the last sync or pull.
#[derive(Debug, Default)]
pub struct Sides {
    local: BTreeSet<String>,
    remote: BTreeSet<String>,
}

impl Sides {
    /// Which side changed `key` (`None`: neither).
    #[must_use]
    pub fn side(&self, key: &str) -> Option<Side> {
        match (self.local.contains(key), self.remote.contains(key)) {
            (true, true) => Some(Side::Both),
            (true, false) => Some(Side::Local),
            (false, true) => Some(Side::Remote),
            (false, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::MemoryStore;

    #[test]
    fn a_teammates_change_since_the_last_sync_is_a_conflict() {
        let store = MemoryStore::versioned(SecretMap::of(&[("a", "1"), ("b", "1"), ("c", "1")]));
        let synced = store.read().unwrap().version;
        // A teammate changes `a` and adds `d`; here `b` changed.
        let theirs = crate::remote::Edit {
            set: SecretMap::of(&[("a", "theirs"), ("d", "new")]),
            ..crate::remote::Edit::default()
        };
        store.apply(&theirs, None, &|| {}).unwrap();
        let remote = store.read().unwrap();
        let local = SecretMap::of(&[("a", "1"), ("b", "2"), ("c", "1")]);
        let since = Since::read(&store, &remote, synced);
        let sides = since
            .sides(&local, remote.values.as_ref().unwrap(), None)
            .unwrap();
        assert_eq!(sides.side("a"), Some(Side::Remote));
        assert_eq!(sides.side("b"), Some(Side::Local));
        assert_eq!(sides.side("c"), None);
        assert_eq!(sides.side("d"), Some(Side::Remote));
        let plan = SyncPlan::new(&local, &remote, true);
        assert_eq!(since.conflicts(&local, &remote, &plan), ["a", "d"]);

        // Nothing recorded: every differing value is a conflict, direction unknown.
        let unknown = Since::read(&store, &remote, None);
        assert!(unknown.sides(&local, &local, None).is_none());
        assert_eq!(unknown.conflicts(&local, &remote, &plan), ["a", "b"]);

        // Recorded at the current version: only local changes.
        let now = Since::read(&store, &remote, remote.version);
        assert!(now.conflicts(&local, &remote, &plan).is_empty());
    }
}
