//! An in-memory remote store for unit tests: either names-only (like the cloud) or with values
//! and versions (like OpenBao), with the same planning and apply semantics as the real ones.

use std::sync::Mutex;

use super::{Applied, Capability, Edit, Metadata, Remote, RemoteStore, VersionInfo};
use crate::error::Error;
use crate::http::RequestRecord;
use crate::keys;
use crate::secret_map::SecretMap;

/// A remote held in memory. Every call is recorded as a request (`GET`, `PUT`, `DELETE`, `POST`).
#[derive(Debug)]
pub struct MemoryStore {
    values: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Every version written, oldest first; the last is current.
    history: Vec<SecretMap>,
    requests: Vec<RequestRecord>,
    /// A write of someone else to make just before the next write of ours.
    intruder: Option<(String, secrecy::SecretString)>,
}

impl MemoryStore {
    /// A store that gives names only, as the cloud does; remote names are env-style.
    #[must_use]
    pub fn names_only(initial: SecretMap) -> Self {
        Self::new(false, initial)
    }

    /// A store with values, versions and check-and-set, as OpenBao is; remote names are keys.
    #[must_use]
    pub fn versioned(initial: SecretMap) -> Self {
        Self::new(true, initial)
    }

    fn new(values: bool, initial: SecretMap) -> Self {
        let history = if initial.is_empty() {
            Vec::new()
        } else {
            vec![initial]
        };
        Self {
            values,
            state: Mutex::new(State {
                history,
                ..State::default()
            }),
        }
    }

    /// The current map.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn current(&self) -> SecretMap {
        self.lock().history.last().cloned().unwrap_or_default()
    }

    /// Someone else sets `name` just before our next write (a check-and-set conflict).
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    pub fn intrude(&self, name: &str, value: &str) {
        self.lock().intruder = Some((name.to_owned(), value.into()));
    }

    /// How many requests of `method` were made.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn count(&self, method: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method)
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }
}

impl State {
    fn record(&mut self, method: &'static str) {
        self.requests.push(RequestRecord {
            method,
            url: "memory".to_owned(),
            status: 200,
            attempts: 1,
            millis: 0,
            waits: Vec::new(),
        });
    }

    fn version(&self) -> u64 {
        self.history.len() as u64
    }

    fn current(&self) -> SecretMap {
        self.history.last().cloned().unwrap_or_default()
    }
}

impl RemoteStore for MemoryStore {
    fn location(&self) -> String {
        "memory".to_owned()
    }

    fn describe(&self) -> String {
        "memory store".to_owned()
    }

    fn target(&self) -> (&'static str, String) {
        ("path", "memory".to_owned())
    }

    fn remote_name(&self, key: &str) -> String {
        if self.values {
            key.to_owned()
        } else {
            keys::env_name(key)
        }
    }

    fn local_key(&self, name: &str) -> String {
        if self.values {
            name.to_owned()
        } else {
            keys::key_from_env(name)
        }
    }

    fn has(&self, _: Capability) -> bool {
        self.values
    }

    fn read(&self) -> Result<Remote, Error> {
        let mut state = self.lock();
        state.record("GET");
        let current = state.current();
        Ok(if self.values {
            Remote::values(current, state.version())
        } else {
            Remote::listing(current.names().cloned())
        })
    }

    fn apply(
        &self,
        edit: &Edit,
        base: Option<&Remote>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Applied, Error> {
        let mut state = self.lock();
        if let Some((name, value)) = state.intruder.take() {
            let mut map = state.current();
            map.insert(name, value);
            state.history.push(map);
        }
        let mut applied = Applied::default();
        let mut map = state.current();
        if self.values {
            if let Some(cas) = base.and_then(|b| b.version) {
                if cas != state.version() {
                    state.record("POST");
                    return Err(Error::Conflict {
                        location: self.location(),
                        detail: format!("version {cas} is no longer the current one"),
                    });
                }
            }
        }
        for name in &edit.delete {
            if crate::interrupt::received().is_some() {
                applied.not_attempted.push(name.clone());
                continue;
            }
            state.record("DELETE");
            progress();
            if map.remove(name).is_some() {
                applied.removed.push(name.clone());
            } else {
                applied.was_not_set.push(name.clone());
            }
        }
        let set = map.set_all(&edit.set);
        if !edit.set.is_empty() {
            state.record(if self.values { "POST" } else { "PUT" });
        }
        if set || !applied.removed.is_empty() || (!self.values && !edit.set.is_empty()) {
            state.history.push(map);
            applied.wrote = true;
            applied.version = self.values.then(|| state.version());
        }
        Ok(applied)
    }

    fn probe(&self) -> Result<String, Error> {
        Ok(format!("{} names", self.current().len()))
    }

    fn versions(&self) -> Result<Option<Metadata>, Error> {
        if !self.values {
            return Err(self.lacks(Capability::Versions));
        }
        let state = self.lock();
        if state.history.is_empty() {
            return Ok(None);
        }
        Ok(Some(Metadata {
            current_version: state.version(),
            versions: (1..=state.version())
                .map(|version| VersionInfo {
                    version,
                    created_time: String::new(),
                    deletion_time: None,
                    destroyed: false,
                })
                .collect(),
        }))
    }

    fn read_version(&self, version: u64) -> Result<Remote, Error> {
        if !self.values {
            return Err(self.lacks(Capability::Versions));
        }
        let state = self.lock();
        let index = usize::try_from(version).unwrap_or(usize::MAX);
        let map = index
            .checked_sub(1)
            .and_then(|i| state.history.get(i))
            .cloned()
            .ok_or_else(|| Error::failed(format!("memory: no version {version}")))?;
        Ok(Remote::values(map, version))
    }

    fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::needs_cleanup;

    fn edit(set: &[(&str, &str)], delete: &[&str]) -> Edit {
        Edit {
            set: SecretMap::of(set),
            delete: delete.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn names_only_store_upserts_and_deletes_name_by_name() {
        let store = MemoryStore::names_only(SecretMap::of(&[("OLD", "x")]));
        assert!(!store.has(Capability::Values) && !store.has(Capability::Versions));
        assert_eq!(store.remote_name("anthropic"), "ANTHROPIC_API_KEY");
        let steps = std::sync::atomic::AtomicUsize::new(0);
        let applied = store
            .apply(&edit(&[("A", "1")], &["OLD", "GONE"]), None, &|| {
                steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        assert!(applied.wrote && applied.version.is_none());
        assert_eq!(
            (applied.removed, applied.was_not_set),
            (vec!["OLD".to_owned()], vec!["GONE".to_owned()])
        );
        assert_eq!(steps.into_inner(), 2, "progress after each delete");
        assert!(store.read().unwrap().values.is_none(), "names only");
        assert!(store.versions().is_err(), "no versions to list");
    }

    #[test]
    fn versioned_store_writes_nothing_when_nothing_changes() {
        let store = MemoryStore::versioned(SecretMap::of(&[("a", "1")]));
        let applied = store
            .apply(&edit(&[("a", "1")], &[]), None, &|| {})
            .unwrap();
        assert!(!applied.wrote && applied.version.is_none());
        let applied = store
            .apply(&edit(&[("b", "2")], &[]), None, &|| {})
            .unwrap();
        assert_eq!(applied.version, Some(2));
        let v1 = store.read_version(1).unwrap().values.unwrap();
        assert!(v1.same_as(&SecretMap::of(&[("a", "1")])));
        assert_eq!(store.versions().unwrap().unwrap().current_version, 2);
    }

    #[test]
    fn cleanup_removes_only_names_that_must_not_be_there() {
        let store = MemoryStore::names_only(SecretMap::of(&[
            ("FLY_APP_NAME", "a"),
            ("SYSTEMPROMPT_API_URL", "u"),
            ("SYSTEMPROMPT_API_TOKEN", "t"),
            ("KEEP", "k"),
        ]));
        let read = store.read().unwrap();
        let targets: Vec<String> = read.names().filter(|n| needs_cleanup(n)).cloned().collect();
        assert_eq!(targets, ["FLY_APP_NAME", "SYSTEMPROMPT_API_URL"]);
        let applied = store
            .apply(
                &Edit {
                    delete: targets,
                    ..Edit::default()
                },
                None,
                &|| {},
            )
            .unwrap();
        assert_eq!(applied.removed.len(), 2);
        let left: Vec<String> = store.current().names().cloned().collect();
        assert_eq!(
            left,
            ["KEEP", "SYSTEMPROMPT_API_TOKEN"],
            "deploy-owned names stay"
        );
        assert_eq!(store.count("DELETE"), 2);
    }
}
