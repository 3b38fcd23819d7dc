//! The OS keyring: one trait over Secret Service, kernel keyutils, macOS Keychain and Windows
//! Credential Manager, chosen with `--keyring`; never a silent mock.

mod core_store;
#[cfg(target_os = "linux")]
mod keyutils;
mod memory;
pub mod profile_cache;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

pub use memory::MemoryStore;

/// The service name of every entry this tool writes.
pub const SERVICE: &str = "cargo-systemprompt-secrets";
/// The env variable that chooses the keyring backend.
pub const KEYRING_ENV: &str = "SYSTEMPROMPT_SECRETS_KEYRING";

/// A store of named secrets. Entries are addressed by an account name under [`SERVICE`].
pub trait CredentialStore: Send + Sync {
    /// A short name: `secret-service`, `keyutils`, `macos-keychain`, `windows-credential-manager`, `memory`.
    fn name(&self) -> &'static str;
    /// The entry's value, or `None` when there is no such entry.
    fn get(&self, account: &str) -> Result<Option<SecretString>, StoreError>;
    /// Stores the value, replacing any previous one. Returns warnings (e.g. "lost at reboot").
    fn set(&self, account: &str, value: &SecretString) -> Result<Vec<String>, StoreError>;
    /// Deletes the entry; `false` when there was none.
    fn delete(&self, account: &str) -> Result<bool, StoreError>;
    /// The largest value one entry holds, in bytes.
    fn max_value_len(&self) -> usize;
    /// Where entries live, for messages (never a value).
    fn describe(&self, account: &str) -> String {
        format!("{} entry service={SERVICE} account={account}", self.name())
    }
}

/// A keyring failure. Never carries a value or raw entry bytes.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached (no session bus, keyutils denied, …).
    #[error("{0}")]
    Unavailable(String),
    /// The store or the entry is locked or access was refused.
    #[error("access refused: {0}")]
    Locked(String),
    /// The entry exists but cannot be decoded.
    #[error("the entry is unreadable: {0}")]
    Corrupt(String),
    /// The value is larger than one entry may hold.
    #[error("the value is {size} bytes; one {store} entry holds at most {limit} bytes")]
    TooLarge {
        /// The store.
        store: &'static str,
        /// The value's size.
        size: usize,
        /// The store's limit.
        limit: usize,
    },
    /// Anything else the platform reported.
    #[error("{0}")]
    Platform(String),
}

/// `--keyring`: `auto` is the platform's store (on Linux, Secret Service when it answers and
/// unlocks, else kernel keyutils); `secret-service` is D-Bus (GNOME Keyring, `KWallet`,
/// `KeePassXC`); `keyutils` is the Linux kernel keyring; `none` turns the keyring off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[allow(missing_docs)] // Reason: documented above; variant docs would turn the one-line help into a long list.
pub enum KeyringChoice {
    #[default]
    Auto,
    SecretService,
    Keyutils,
    None,
}

impl fmt::Display for KeyringChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyringChoice::Auto => "auto",
            KeyringChoice::SecretService => "secret-service",
            KeyringChoice::Keyutils => "keyutils",
            KeyringChoice::None => "none",
        })
    }
}

/// Why no keyring could be opened: every backend tried, and why each failed.
#[derive(Debug, thiserror::Error)]
pub struct NoKeyring {
    /// The choice that was made.
    pub choice: KeyringChoice,
    /// `(backend, reason)` for each backend tried.
    pub attempts: Vec<(&'static str, String)>,
}

impl fmt::Display for NoKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for (backend, why) in &self.attempts {
            write!(f, "\n  tried {backend}: {why}")?;
        }
        Ok(())
    }
}

impl NoKeyring {
    /// The first line of the message: that no keyring could be opened, without the reasons.
    #[must_use]
    pub fn summary(&self) -> String {
        if self.choice == KeyringChoice::None {
            format!("no keyring: `--keyring none` (or {KEYRING_ENV}=none) turns it off")
        } else {
            format!("no OS keyring is available (--keyring {})", self.choice)
        }
    }

    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        Some(if self.choice == KeyringChoice::None {
            "choose `--keyring auto`, or use SYSTEMPROMPT_API_TOKEN for the cloud token in CI"
                .to_owned()
        } else {
            "start GNOME Keyring (`gnome-keyring-daemon --unlock --components=secrets` in a D-Bus session), \
             give the shell a kernel session keyring with `keyctl session -`, \
             or in CI pass the token in SYSTEMPROMPT_API_TOKEN"
                .to_owned()
        })
    }
}

/// The selected store, plus notes worth printing with `-v`.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn CredentialStore>,
    /// How it was chosen.
    pub notes: Vec<String>,
}

/// Opens the store for `choice`. `Auto` tries the platform's stores in order and never falls back to a mock.
pub fn open(choice: KeyringChoice) -> Result<Opened, NoKeyring> {
    let mut attempts = Vec::new();
    let mut notes = Vec::new();
    let order: &[KeyringChoice] = match choice {
        KeyringChoice::None => return Err(NoKeyring { choice, attempts }),
        KeyringChoice::Auto => &[KeyringChoice::SecretService, KeyringChoice::Keyutils],
        KeyringChoice::SecretService => &[KeyringChoice::SecretService],
        KeyringChoice::Keyutils => &[KeyringChoice::Keyutils],
    };
    if choice == KeyringChoice::Auto {
        if let Some(store) = core_store::platform_native() {
            match store {
                Ok(store) => return Ok(Opened { store, notes }),
                Err(e) => attempts.push(("platform keychain", e.to_string())),
            }
        }
    }
    for backend in order {
        let result = match backend {
            KeyringChoice::SecretService => core_store::secret_service(Duration::from_secs(5)),
            KeyringChoice::Keyutils => open_keyutils(),
            _ => unreachable!("only real backends are listed"),
        };
        match result {
            Ok(store) => {
                if !attempts.is_empty() {
                    notes.push(format!(
                        "using {} ({})",
                        store.name(),
                        attempts
                            .iter()
                            .map(|(b, w)| format!("{b}: {w}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                return Ok(Opened { store, notes });
            }
            Err(e) => attempts.push((backend_name(*backend), e.to_string())),
        }
    }
    Err(NoKeyring { choice, attempts })
}

fn backend_name(choice: KeyringChoice) -> &'static str {
    match choice {
        KeyringChoice::SecretService => "secret-service",
        KeyringChoice::Keyutils => "keyutils",
        KeyringChoice::Auto => "auto",
        KeyringChoice::None => "none",
    }
}

#[cfg(target_os = "linux")]
fn open_keyutils() -> Result<Arc<dyn CredentialStore>, StoreError> {
    keyutils::KeyutilsStore::open().map(|s| Arc::new(s) as Arc<dyn CredentialStore>)
}

#[cfg(not(target_os = "linux"))]
fn open_keyutils() -> Result<Arc<dyn CredentialStore>, StoreError> {
    Err(StoreError::Unavailable(
        "kernel keyutils exist only on Linux".to_owned(),
    ))
}

/// The account of the cloud API token for `api_url`.
#[must_use]
pub fn api_token_account(api_url: &str) -> String {
    format!("api-token:{}", api_url.trim_end_matches('/'))
}

/// The account of an OpenBao/Vault token for `address`.
#[must_use]
pub fn openbao_token_account(address: &str) -> String {
    format!("openbao-token:{}", address.trim_end_matches('/'))
}

/// The account of a profile's cached secrets.
#[must_use]
pub fn profile_account(project_id: &str, profile: &str) -> String {
    format!("profile:{project_id}:{profile}")
}
