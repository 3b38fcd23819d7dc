//! The lowest layer: a profile's secrets.json cached in the OS keyring (`cache`), behind a trait
//! so the core library and its tests need no keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::SecretString;

/// Secrets cached for one project and profile.
#[derive(Debug)]
pub struct CachedSecrets {
    /// A description of where they are kept (service and account), never their content.
    pub entry: String,
    /// The cached keys and values.
    pub values: Vec<(String, SecretString)>,
}

/// Why the cache could not be read. A cache failure is a warning and a miss, never fatal.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CacheError {
    /// What went wrong, without any value.
    pub message: String,
}

/// A store of cached profile secrets.
pub trait SecretCache {
    /// The cached secrets of `profile` in `project`, or `None` on a miss. Called at most once per load.
    fn load(&self, project: &str, profile: &str) -> Result<Option<CachedSecrets>, CacheError>;
}

/// No cache: every lookup is a miss.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCache;

impl SecretCache for NoCache {
    fn load(&self, _: &str, _: &str) -> Result<Option<CachedSecrets>, CacheError> {
        Ok(None)
    }
}

type Pairs = Vec<(String, String)>;

/// An in-memory cache for tests; counts its reads.
#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<(String, String), Pairs>>,
    reads: Mutex<usize>,
}

impl MemoryCache {
    /// Stores plain pairs for a project and profile.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    pub fn insert(&self, project: &str, profile: &str, values: &[(&str, &str)]) {
        let pairs = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.entries
            .lock()
            .expect("cache lock")
            .insert((project.to_owned(), profile.to_owned()), pairs);
    }

    /// How many times [`SecretCache::load`] was called.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn reads(&self) -> usize {
        *self.reads.lock().expect("cache lock")
    }
}

impl SecretCache for MemoryCache {
    fn load(&self, project: &str, profile: &str) -> Result<Option<CachedSecrets>, CacheError> {
        *self.reads.lock().expect("cache lock") += 1;
        let entries = self.entries.lock().expect("cache lock");
        Ok(entries
            .get(&(project.to_owned(), profile.to_owned()))
            .map(|pairs| CachedSecrets {
                entry: format!("memory:{project}/{profile}"),
                values: pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), SecretString::from(v.as_str())))
                    .collect(),
            }))
    }
}
