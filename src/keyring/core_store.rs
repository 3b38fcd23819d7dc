//! Stores from the `keyring-core` ecosystem: Secret Service (pure Rust), macOS Keychain, Windows
//! Credential Manager, behind our [`CredentialStore`] trait.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{CredentialStore, StoreError, SERVICE};

/// A `keyring-core` store.
pub(super) struct CoreStore {
    inner: Arc<keyring_core::CredentialStore>,
    name: &'static str,
    limit: usize,
}

impl CoreStore {
    fn entry(&self, account: &str) -> Result<keyring_core::Entry, StoreError> {
        keyring_core::Entry::new_in_store(&self.inner, SERVICE, account).map_err(map_err)
    }
}

impl CredentialStore for CoreStore {
    fn name(&self) -> &'static str {
        self.name
    }

    fn get(&self, account: &str) -> Result<Option<SecretString>, StoreError> {
        match self.entry(account)?.get_password() {
            Ok(v) => Ok(Some(SecretString::from(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<Vec<String>, StoreError> {
        let size = value.expose_secret().len();
        if size > self.limit {
            return Err(StoreError::TooLarge {
                store: self.name,
                size,
                limit: self.limit,
            });
        }
        self.entry(account)?
            .set_password(value.expose_secret())
            .map_err(map_err)?;
        Ok(Vec::new())
    }

    fn delete(&self, account: &str) -> Result<bool, StoreError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        }
    }

    fn max_value_len(&self) -> usize {
        self.limit
    }
}

/// Maps a `keyring-core` error without ever formatting the raw bytes some variants carry.
fn map_err(e: keyring_core::Error) -> StoreError {
    use keyring_core::Error as E;
    match e {
        E::NoStorageAccess(p) => StoreError::Locked(p.to_string()),
        E::PlatformFailure(p) => StoreError::Platform(p.to_string()),
        E::BadEncoding(_) => StoreError::Corrupt("the stored value is not UTF-8".to_owned()),
        E::BadDataFormat(..) => {
            StoreError::Corrupt("the stored value is not in the store's format".to_owned())
        }
        E::BadStoreFormat(why) => StoreError::Platform(format!("the store is damaged: {why}")),
        E::TooLong(attr, limit) => StoreError::Platform(format!(
            "`{attr}` is longer than the store allows ({limit})"
        )),
        E::Invalid(what, why) => StoreError::Platform(format!("invalid {what}: {why}")),
        E::Ambiguous(entries) => StoreError::Platform(format!(
            "{} entries match; remove the duplicates with your keyring tool",
            entries.len()
        )),
        E::NoDefaultStore => StoreError::Unavailable("no default store".to_owned()),
        E::NotSupportedByStore(why) => StoreError::Platform(why),
        E::NoEntry => StoreError::Platform("no entry".to_owned()),
        _ => StoreError::Platform("unknown keyring error".to_owned()),
    }
}

/// Secret Service over D-Bus, probed with a lookup that must answer within `timeout`.
#[cfg(target_os = "linux")]
pub(super) fn secret_service(timeout: Duration) -> Result<Arc<dyn CredentialStore>, StoreError> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        let runtime_bus =
            std::env::var_os("XDG_RUNTIME_DIR").map(|d| std::path::Path::new(&d).join("bus"));
        if !runtime_bus.is_some_and(|b| b.exists()) {
            return Err(StoreError::Unavailable(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_owned(),
            ));
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = zbus_secret_service_keyring_store::Store::new()
            .map_err(map_err)
            .and_then(|inner| {
                let store = CoreStore {
                    inner,
                    name: "secret-service",
                    limit: 1024 * 1024,
                };
                store.get("probe:availability")?;
                Ok(store)
            });
        let _ = tx.send(result);
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(store)) => Ok(Arc::new(store)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(StoreError::Unavailable(format!(
            "the Secret Service did not answer within {} s (is the collection locked?)",
            timeout.as_secs()
        ))),
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn secret_service(_: Duration) -> Result<Arc<dyn CredentialStore>, StoreError> {
    Err(StoreError::Unavailable(
        "the Secret Service is used on Linux only".to_owned(),
    ))
}

/// The platform's own store where there is one (macOS, Windows); `None` elsewhere.
pub(super) fn platform_native() -> Option<Result<Arc<dyn CredentialStore>, StoreError>> {
    #[cfg(target_os = "macos")]
    {
        return Some(
            apple_native_keyring_store::keychain::Store::new()
                .map(|inner| {
                    Arc::new(CoreStore {
                        inner,
                        name: "macos-keychain",
                        limit: 64 * 1024,
                    }) as Arc<dyn CredentialStore>
                })
                .map_err(map_err),
        );
    }
    #[cfg(windows)]
    {
        return Some(
            windows_native_keyring_store::Store::new()
                .map(|inner| {
                    Arc::new(CoreStore {
                        inner,
                        name: "windows-credential-manager",
                        limit: 1280,
                    }) as Arc<dyn CredentialStore>
                })
                .map_err(map_err),
        );
    }
    #[allow(unreachable_code)]
    None
}
