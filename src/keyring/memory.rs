//! An in-memory [`CredentialStore`] for unit tests: the same trait, no OS.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::{CredentialStore, StoreError};

/// Entries in a map; counts reads. For tests only: never selected by [`super::open`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, SecretString>>,
    reads: Mutex<usize>,
    limit: Option<usize>,
}

impl MemoryStore {
    /// A store whose entries hold at most `limit` bytes (to test size handling).
    #[must_use]
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// How many `get` calls were made.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn reads(&self) -> usize {
        *self.reads.lock().expect("lock")
    }
}

impl CredentialStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get(&self, account: &str) -> Result<Option<SecretString>, StoreError> {
        *self.reads.lock().expect("lock") += 1;
        Ok(self.entries.lock().expect("lock").get(account).cloned())
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<Vec<String>, StoreError> {
        let size = value.expose_secret().len();
        if size > self.max_value_len() {
            return Err(StoreError::TooLarge {
                store: "memory",
                size,
                limit: self.max_value_len(),
            });
        }
        self.entries
            .lock()
            .expect("lock")
            .insert(account.to_owned(), value.clone());
        Ok(Vec::new())
    }

    fn delete(&self, account: &str) -> Result<bool, StoreError> {
        Ok(self.entries.lock().expect("lock").remove(account).is_some())
    }

    fn max_value_len(&self) -> usize {
        self.limit.unwrap_or(usize::MAX)
    }
}
