//! What this machine last saw of the remote a profile syncs with: the version it last wrote or
//! read (so that a teammate's change is told from ours), and the custom names it last wrote into
//! `SYSTEMPROMPT_CUSTOM_SECRETS` (for a cloud server that does not list names).
//!
//! Kept in the user's state folder (`$XDG_STATE_HOME`, else `~/.local/state`, then
//! `cargo-systemprompt-secrets/remotes/`, or `SYSTEMPROMPT_SECRETS_STATE_DIR`), never in the
//! project, so never in git. Names and version numbers only, never a value. A record that is
//! missing, unreadable or not this user's private file counts as none: the commands then act as
//! on a first sync.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What is recorded for one (workspace, profile, remote).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The remote version last synced or pulled (a versioned store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The custom names last written into the tenant's list (a store with deploy naming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_names: Option<BTreeSet<String>>,
}

/// The largest record read (a list of names).
const LIMIT: u64 = 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Stored {
    key: String,
    #[serde(flatten)]
    record: Record,
}

/// Where one profile's record for one remote lives.
#[derive(Debug, Clone)]
pub struct Slot {
    key: String,
}

impl Slot {
    /// The slot of `profile` of the workspace at `root` for the remote `remote` (its address and
    /// path, or tenant and API URL).
    #[must_use]
    pub fn new(root: &Path, profile: &str, remote: &str) -> Self {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Self {
            key: format!("{}\n{profile}\n{remote}", root.display()),
        }
    }

    fn file(&self) -> Option<PathBuf> {
        dir().map(|d| {
            d.join(format!(
                "{:016x}.json",
                crate::metadata_cache::fnv64(self.key.as_bytes())
            ))
        })
    }

    /// The record, or an empty one when there is none to believe.
    #[must_use]
    pub fn load(&self) -> Record {
        let Some(file) = self.file() else {
            return Record::default();
        };
        let parent_ok = file
            .parent()
            .is_some_and(|d| crate::metadata_cache::private_and_own(d, true));
        if !parent_ok || !crate::metadata_cache::private_and_own(&file, false) {
            return Record::default();
        }
        crate::regular_file::read(&file, LIMIT)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| s.key == self.key)
            .map(|s| s.record)
            .unwrap_or_default()
    }

    /// Changes the record with `change` and stores it (atomically, 0600 in a 0700 folder); a
    /// record that `change` leaves as it was is not written again.
    ///
    /// # Errors
    /// When there is no state folder or it cannot be written; the message names the file.
    pub fn update(&self, change: impl FnOnce(&mut Record)) -> Result<(), String> {
        let file = self
            .file()
            .ok_or("no state folder: set HOME, XDG_STATE_HOME or SYSTEMPROMPT_SECRETS_STATE_DIR")?;
        let mut record = self.load();
        let before = record.clone();
        change(&mut record);
        if record == before {
            return Ok(());
        }
        if let Some(dir) = file.parent() {
            crate::atomic::create_private_dir(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let body = serde_json::to_vec_pretty(&Stored {
            key: self.key.clone(),
            record,
        })
        .map_err(|e| e.to_string())?;
        crate::atomic::write_private(&file, &body, true)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))
    }
}

/// The state folder.
fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SYSTEMPROMPT_SECRETS_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
        .map(|d| d.join("cargo-systemprompt-secrets").join("remotes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_per_profile_and_remote() {
        let state = tempfile::tempdir().unwrap();
        std::env::set_var("SYSTEMPROMPT_SECRETS_STATE_DIR", state.path().join("s"));
        let root = tempfile::tempdir().unwrap();
        let a = Slot::new(root.path(), "local", "OpenBao http://127.0.0.1:1 secret/p");
        let b = Slot::new(
            root.path(),
            "production",
            "OpenBao http://127.0.0.1:1 secret/p",
        );
        assert_eq!(a.load(), Record::default());
        a.update(|r| r.version = Some(7)).unwrap();
        assert_eq!(a.load().version, Some(7));
        assert_eq!(b.load(), Record::default(), "another profile has its own");
        a.update(|r| r.custom_names = Some(["X".to_owned()].into()))
            .unwrap();
        assert_eq!(
            a.load(),
            Record {
                version: Some(7),
                custom_names: Some(["X".to_owned()].into())
            }
        );
        // The same record again is not written again (no rename, no fsync).
        let file = a.file().unwrap();
        let written = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        a.update(|r| r.version = Some(7)).unwrap();
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            written
        );
        a.update(|r| r.version = Some(8)).unwrap();
        assert_eq!(a.load().version, Some(8));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = a.file().unwrap();
            assert_eq!(
                std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
                0o600
            );
            // A record others could have written is not believed.
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
            assert_eq!(a.load(), Record::default());
        }
        std::env::remove_var("SYSTEMPROMPT_SECRETS_STATE_DIR");
    }
}
