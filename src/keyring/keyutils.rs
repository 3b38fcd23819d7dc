//! Linux kernel keyutils: the session keyring when this process may use it, else the user keyring;
//! a link into the persistent keyring when allowed. Reads, `status`, `logout` and `uncache` also
//! search the persistent keyring, so an entry stored from another terminal is seen and removed.
//! Keys live in kernel memory and are lost at reboot.

use linux_keyutils::{Key, KeyError, KeyRing, KeyRingIdentifier};
use secrecy::{ExposeSecret, SecretString};

use super::{CredentialStore, StoreError, SERVICE};

/// The largest payload of a kernel `user` key.
const USER_KEY_MAX: usize = 32_767;

pub(super) struct KeyutilsStore {
    /// Where new keys go: the session keyring if usable, else the user keyring.
    home: KeyRing,
    home_name: &'static str,
    /// Every keyring searched, in order.
    search: Vec<KeyRing>,
    /// Whether the last key stored was also linked into the persistent keyring (then other
    /// sessions of this user can read it too).
    linked: std::sync::atomic::AtomicBool,
}

impl KeyutilsStore {
    /// Opens keyutils, probing whether the session keyring can hold and give back a key.
    pub(super) fn open() -> Result<Self, StoreError> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, false).map_err(|e| {
            StoreError::Unavailable(format!(
                "the user keyring is not available: {}",
                describe(e)
            ))
        })?;
        let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false).ok();
        if let Some(session) = session.filter(|s| probe(*s)) {
            let mut search = vec![session, user];
            // Entries stored from another terminal (another session keyring) are reached
            // through the persistent keyring they were linked into.
            search.extend(KeyRing::get_persistent(KeyRingIdentifier::Session).ok());
            return Ok(Self {
                home: session,
                home_name: "session",
                search,
                linked: std::sync::atomic::AtomicBool::new(false),
            });
        }
        if !probe(user) {
            return Err(StoreError::Unavailable(
                "the kernel refused to store and read back a key (AccessDenied; a container's seccomp profile may block keyctl)".to_owned(),
            ));
        }
        let mut search = vec![user];
        search.extend(session);
        search.extend(KeyRing::get_persistent(KeyRingIdentifier::User).ok());
        Ok(Self {
            home: user,
            home_name: "user",
            search,
            linked: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn description(account: &str) -> String {
        format!("{SERVICE}:{account}")
    }

    fn find(&self, account: &str) -> Result<Option<Key>, StoreError> {
        let desc = Self::description(account);
        for ring in &self.search {
            match ring.search(&desc) {
                Ok(key) => return Ok(Some(key)),
                // Not there, or in a keyring this process may not search: look in the next one.
                Err(
                    KeyError::KeyDoesNotExist
                    | KeyError::KeyExpired
                    | KeyError::KeyRevoked
                    | KeyError::AccessDenied,
                ) => {}
                Err(e) => return Err(StoreError::Platform(describe(e))),
            }
        }
        Ok(None)
    }
}

/// Whether a test key can be added to `ring`, found again and read back.
fn probe(ring: KeyRing) -> bool {
    let desc = format!("{SERVICE}:probe:{}", std::process::id());
    let Ok(key) = ring.add_key(&desc, b"probe") else {
        return false;
    };
    let ok = ring
        .search(&desc)
        .is_ok_and(|found| found.read_to_vec().is_ok_and(|v| v == b"probe"));
    let _ = key.invalidate();
    ok
}

fn describe(e: KeyError) -> String {
    format!("{e:?}")
}

impl CredentialStore for KeyutilsStore {
    fn name(&self) -> &'static str {
        "keyutils"
    }

    fn get(&self, account: &str) -> Result<Option<SecretString>, StoreError> {
        let Some(key) = self.find(account)? else {
            return Ok(None);
        };
        let bytes = key
            .read_to_vec()
            .map_err(|e| StoreError::Locked(describe(e)))?;
        String::from_utf8(bytes)
            .map(|s| Some(SecretString::from(s)))
            .map_err(|_| StoreError::Corrupt("the stored value is not UTF-8".to_owned()))
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<Vec<String>, StoreError> {
        let size = value.expose_secret().len();
        if size > USER_KEY_MAX {
            return Err(StoreError::TooLarge {
                store: "keyutils",
                size,
                limit: USER_KEY_MAX,
            });
        }
        let desc = Self::description(account);
        // Remove copies elsewhere (e.g. in the user keyring when the session one is now usable).
        for ring in &self.search {
            if let Ok(old) = ring.search(&desc) {
                let _ = old.invalidate();
            }
        }
        let key = self
            .home
            .add_key(&desc, value.expose_secret().as_bytes())
            .map_err(|e| StoreError::Locked(describe(e)))?;
        let mut warnings = Vec::new();
        let persistent = KeyRing::get_persistent(if self.home_name == "session" {
            KeyRingIdentifier::Session
        } else {
            KeyRingIdentifier::User
        })
        .and_then(|p| p.link_key(key));
        if let Err(e) = persistent {
            warnings.push(format!(
                "keyutils: stored in the {} keyring; linking it into the persistent keyring was refused ({}), \
                 so it will not survive logging out; kernel keys never survive a reboot",
                self.home_name,
                describe(e)
            ));
        } else {
            self.linked
                .store(true, std::sync::atomic::Ordering::Relaxed);
            warnings.push(format!(
                "keyutils: stored in the {} keyring and linked into your persistent keyring, so other sessions of this user can read it too until it is removed (`uncache`, `logout`) or unused for the persistent keyring's expiry; kernel keys never survive a reboot",
                self.home_name
            ));
        }
        Ok(warnings)
    }

    /// Invalidating a key removes it from every keyring it is linked into (the session, the user
    /// and the persistent keyring alike).
    fn delete(&self, account: &str) -> Result<bool, StoreError> {
        let mut deleted = false;
        // A key may be linked from several keyrings; invalidate until none is found.
        for _ in 0..8 {
            match self.find(account)? {
                Some(key) => {
                    key.invalidate()
                        .map_err(|e| StoreError::Locked(describe(e)))?;
                    deleted = true;
                }
                None => break,
            }
        }
        Ok(deleted)
    }

    fn max_value_len(&self) -> usize {
        USER_KEY_MAX
    }

    fn describe(&self, account: &str) -> String {
        format!(
            "keyutils `user` key \"{}\" in the {} keyring{}",
            Self::description(account),
            self.home_name,
            if self.linked.load(std::sync::atomic::Ordering::Relaxed) {
                " (linked into the persistent keyring)"
            } else {
                ""
            }
        )
    }
}
