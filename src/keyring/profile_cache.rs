//! A profile's secrets cached in the OS keyring as one entry: the lowest layer of [`crate::layers`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{open, profile_account, CredentialStore, KeyringChoice, StoreError};
use crate::cache_layer::{CacheError, CachedSecrets, SecretCache};

/// The payload format version.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Payload {
    format: u32,
    project: String,
    profile: String,
    cached_at: u64,
    secrets: BTreeMap<String, String>,
}

/// What `cache --status` reports about one entry (never values).
#[derive(Debug, Serialize)]
pub struct CacheStatus {
    /// The store holding it.
    pub store: String,
    /// The entry.
    pub entry: String,
    /// Cached key names.
    pub keys: Vec<String>,
    /// Seconds since the Unix epoch.
    pub cached_at: u64,
}

/// The keyring cache layer: opens the store lazily, once, and never fails a command that only reads.
pub struct KeyringCache {
    choice: KeyringChoice,
    store: OnceLock<Option<Arc<dyn CredentialStore>>>,
    notes: Mutex<Vec<String>>,
}

impl KeyringCache {
    /// A cache over the keyring chosen by `choice` (`None` disables it).
    #[must_use]
    pub fn new(choice: KeyringChoice) -> Self {
        Self {
            choice,
            store: OnceLock::new(),
            notes: Mutex::default(),
        }
    }

    /// A cache over a given store (tests).
    #[must_use]
    pub fn with_store(store: Arc<dyn CredentialStore>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Some(store));
        Self {
            choice: KeyringChoice::Auto,
            store: cell,
            notes: Mutex::default(),
        }
    }

    fn store(&self) -> Option<&Arc<dyn CredentialStore>> {
        self.store
            .get_or_init(|| {
                if self.choice == KeyringChoice::None {
                    return None;
                }
                match open(self.choice) {
                    Ok(opened) => {
                        self.notes.lock().expect("lock").extend(opened.notes);
                        Some(opened.store)
                    }
                    Err(e) => {
                        self.notes
                            .lock()
                            .expect("lock")
                            .push(format!("keyring cache not read: {}", e.summary()));
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The state of the cache for messages: the store's name, or why there is none.
    #[must_use]
    pub fn describe(&self) -> String {
        match self.store() {
            Some(store) => store.name().to_owned(),
            None if self.choice == KeyringChoice::None => "off (--keyring none)".to_owned(),
            None => "no OS keyring available".to_owned(),
        }
    }

    /// Notes for `-v` (which store, or why none).
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("lock").clone()
    }
}

impl SecretCache for KeyringCache {
    fn load(&self, project: &str, profile: &str) -> Result<Option<CachedSecrets>, CacheError> {
        let Some(store) = self.store() else {
            return Ok(None);
        };
        read(store.as_ref(), project, profile)
    }
}

fn read(
    store: &dyn CredentialStore,
    project: &str,
    profile: &str,
) -> Result<Option<CachedSecrets>, CacheError> {
    let Some((entry, payload)) = fetch(store, project, profile, true)? else {
        return Ok(None);
    };
    let values = payload
        .secrets
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect();
    Ok(Some(CachedSecrets { entry, values }))
}

/// The entry's description and decoded payload, or `None` when there is no entry.
fn fetch(
    store: &dyn CredentialStore,
    project: &str,
    profile: &str,
    with_fix: bool,
) -> Result<Option<(String, Payload)>, CacheError> {
    let account = profile_account(project, profile);
    let entry = store.describe(&account);
    let raw = match store.get(&account) {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(CacheError {
                message: format!("{entry}: {e}"),
            })
        }
    };
    let fix = if with_fix {
        format!("; run `cargo systemprompt-secrets cache --profile {profile}` to rewrite it, or `uncache` to remove it")
    } else {
        String::new()
    };
    let payload = decode(&raw, project, profile).map_err(|why| CacheError {
        message: format!("{entry} is not a valid cache entry ({why}){fix}"),
    })?;
    Ok(Some((entry, payload)))
}

/// How far in the future a `cached_at` may lie (clocks drift).
const MAX_CLOCK_DRIFT: u64 = 300;

/// Parses a payload and checks it as strictly as a secrets.json: it must be this project's and this
/// profile's, written in the past (give or take a clock's drift), and every key must be a name that
/// can become an environment variable. The reason never quotes the payload.
fn decode(raw: &SecretString, project: &str, profile: &str) -> Result<Payload, String> {
    let payload: Payload = serde_json::from_str(raw.expose_secret()).map_err(|e| {
        format!(
            "not the expected JSON at line {} column {}",
            e.line(),
            e.column()
        )
    })?;
    if payload.format != FORMAT {
        return Err(format!(
            "format {} is not supported (expected {FORMAT})",
            payload.format
        ));
    }
    if payload.project != project || payload.profile != profile {
        return Err(format!(
            "it belongs to project `{}` profile `{}`, not to this one",
            crate::source::escape_controls(&payload.project),
            crate::source::escape_controls(&payload.profile)
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if payload.cached_at > now + MAX_CLOCK_DRIFT {
        return Err("it says it was written in the future".to_owned());
    }
    if let Some(bad) = payload
        .secrets
        .keys()
        .find(|k| !crate::keys::is_env_name(&crate::keys::env_name(k)))
    {
        return Err(format!(
            "its key `{}` cannot be an environment variable's name",
            crate::source::escape_controls(bad)
        ));
    }
    Ok(payload)
}

/// Writes a profile's secrets as one entry. Returns the store's warnings.
pub fn write(
    store: &dyn CredentialStore,
    project: &str,
    profile: &str,
    secrets: impl IntoIterator<Item = (String, SecretString)>,
) -> Result<Vec<String>, StoreError> {
    let payload = Payload {
        format: FORMAT,
        project: project.to_owned(),
        profile: profile.to_owned(),
        cached_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        secrets: secrets
            .into_iter()
            .map(|(k, v)| (k, v.expose_secret().to_owned()))
            .collect(),
    };
    let body = SecretString::from(
        serde_json::to_string(&payload).map_err(|e| StoreError::Platform(e.to_string()))?,
    );
    drop(payload);
    let size = body.expose_secret().len();
    if size > store.max_value_len() {
        return Err(StoreError::TooLarge {
            store: store.name(),
            size,
            limit: store.max_value_len(),
        });
    }
    store.set(&profile_account(project, profile), &body)
}

/// Removes a profile's entry; `false` when there was none.
pub fn remove(
    store: &dyn CredentialStore,
    project: &str,
    profile: &str,
) -> Result<bool, StoreError> {
    store.delete(&profile_account(project, profile))
}

/// What is cached for a profile, without values.
pub fn status(
    store: &dyn CredentialStore,
    project: &str,
    profile: &str,
) -> Result<Option<CacheStatus>, CacheError> {
    let Some((entry, payload)) = fetch(store, project, profile, false)? else {
        return Ok(None);
    };
    Ok(Some(CacheStatus {
        store: store.name().to_owned(),
        entry,
        keys: payload.secrets.keys().cloned().collect(),
        cached_at: payload.cached_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::MemoryStore;

    #[test]
    fn round_trip_one_read_and_corrupt_entries_are_misses_with_reasons() {
        let store = Arc::new(MemoryStore::default());
        let pairs = vec![(
            "jwt_secret".to_owned(),
            SecretString::from("CANARY-cache-1"),
        )];
        write(store.as_ref(), "p", "local", pairs).unwrap();
        let cache = KeyringCache::with_store(store.clone());
        let got = cache.load("p", "local").unwrap().unwrap();
        assert_eq!(got.values[0].1.expose_secret(), "CANARY-cache-1");
        assert_eq!(store.reads(), 1);
        assert!(cache.load("p", "other").unwrap().is_none());

        store
            .set(
                &profile_account("p", "bad"),
                &SecretString::from("{\"secrets\": \"CANARY-raw\""),
            )
            .unwrap();
        let err = cache.load("p", "bad").unwrap_err().to_string();
        assert!(err.contains("not a valid cache entry"), "{err}");
        assert!(!err.contains("CANARY"), "{err}");
    }

    #[test]
    fn too_large_is_refused_with_sizes() {
        let store = MemoryStore::with_limit(100);
        let pairs = vec![("k".to_owned(), SecretString::from("x".repeat(200)))];
        let err = write(&store, "p", "local", pairs).unwrap_err().to_string();
        assert!(err.contains("holds at most 100 bytes"), "{err}");
    }
}
