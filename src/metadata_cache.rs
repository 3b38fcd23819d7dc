//! A cache of what `cargo metadata --no-deps` said, so commands such as `run` and `sync` do not pay
//! for a cargo process when no manifest changed. An entry is used only when it stamps every
//! manifest it depends on (the root, each member, the nearest `Cargo.toml` and the workspace's
//! `Cargo.lock`) and each still has the same length and content hash, and only when the folder
//! (0700) and the file (0600) are this user's and no one else may write them. It holds manifest facts only, never a secret. `SYSTEMPROMPT_SECRETS_NO_CACHE=1` turns it off;
//! `SYSTEMPROMPT_SECRETS_CACHE_DIR` moves it (default `$XDG_CACHE_HOME` or `~/.cache`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What this tool needs from `cargo metadata`: small, serializable, cacheable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFacts {
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// `[workspace.metadata.systemprompt-secrets]`, if present.
    pub workspace_table: Option<serde_json::Value>,
    /// The selected package: name, manifest and its `[package.metadata.systemprompt-secrets]`.
    pub package: Option<PackageFacts>,
    /// Every manifest the answer depends on (the root and each member).
    pub manifests: Vec<PathBuf>,
    /// The systemprompt crate in the workspace's `Cargo.lock`, if any (decides the generation).
    pub locked: Option<crate::generation::LockedCrate>,
    /// The name of the package whose manifest is the workspace root's, if it has one.
    #[serde(default)]
    pub root_package: Option<String>,
}

/// The selected package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageFacts {
    /// Its name.
    pub name: String,
    /// Its manifest.
    pub manifest: PathBuf,
    /// Its table, if present.
    pub table: Option<serde_json::Value>,
}

const FORMAT: u32 = 3;

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    stamps: Vec<Stamp>,
    facts: ManifestFacts,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Stamp {
    path: PathBuf,
    len: u64,
    hash: u64,
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
#[must_use]
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn dir() -> Option<PathBuf> {
    if std::env::var_os("SYSTEMPROMPT_SECRETS_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0")
    {
        return None;
    }
    if let Some(d) = std::env::var_os("SYSTEMPROMPT_SECRETS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("cargo-systemprompt-secrets").join("manifests"))
}

/// The manifest cargo would start from: the given one, else the nearest `Cargo.toml` up from `cwd`.
fn start_manifest(manifest: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
    match manifest {
        Some(m) => Some(m.to_path_buf()),
        None => cwd
            .ancestors()
            .map(|d| d.join("Cargo.toml"))
            .find(|p| p.is_file()),
    }
}

/// A file's length and hash; a file that does not exist has its own stamp, so that creating it
/// (a first `Cargo.lock`) invalidates the entry.
/// A FIFO, a device or a file over [`MAX_STAMPED`] has no stamp (nothing is cached against it).
fn stamp(path: &Path) -> Option<Stamp> {
    match crate::regular_file::read(path, MAX_STAMPED) {
        Ok(bytes) => Some(Stamp {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            hash: fnv64(&bytes),
        }),
        Err(e) if e.is_not_found() => Some(Stamp {
            path: path.to_path_buf(),
            len: u64::MAX,
            hash: 0,
        }),
        Err(_) => None,
    }
}

/// The largest manifest or lock file stamped (a real Cargo.lock is a few hundred kilobytes).
const MAX_STAMPED: u64 = 64 * 1024 * 1024;

fn key(manifest: Option<&Path>, cwd: &Path) -> Option<(String, PathBuf)> {
    let start = start_manifest(manifest, cwd)?;
    let key = format!("{}\n{}", start.display(), cwd.display());
    Some((key, start))
}

/// The cached facts, if the entry is this user's own and private, stamps every file it depends
/// on, and every one of them is unchanged. On any doubt, `None`: cargo is asked again.
#[must_use]
pub fn load(manifest: Option<&Path>, cwd: &Path) -> Option<ManifestFacts> {
    let dir = dir()?;
    let (key, start) = key(manifest, cwd)?;
    // What is cached here decides where commands send data: only a folder and a file that no
    // one else could have written count.
    if !private_and_own(&dir, true) {
        return None;
    }
    let file = dir.join(format!("{:016x}.json", fnv64(key.as_bytes())));
    if !private_and_own(&file, false) {
        return None;
    }
    let bytes = crate::regular_file::read(&file, MAX_STAMPED).ok()?;
    let entry: Entry = serde_json::from_slice(&bytes).ok()?;
    if entry.format != FORMAT || entry.key != key {
        return None;
    }
    // Every file the facts depend on must be stamped: the start manifest, the lock file and each
    // manifest named.
    let lock = entry.facts.workspace_root.join("Cargo.lock");
    let stamped = |p: &Path| entry.stamps.iter().any(|s| s.path == p);
    let complete =
        stamped(&start) && stamped(&lock) && entry.facts.manifests.iter().all(|m| stamped(m));
    (complete
        && entry
            .stamps
            .iter()
            .all(|s| stamp(&s.path).as_ref() == Some(s)))
    .then_some(entry.facts)
}

/// Whether `path` (not a symlink) is owned by this process's user, with no permission for group
/// or others: a folder (`dir`) or a regular file.
pub(crate) fn private_and_own(path: &Path, dir: bool) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    let kind_ok = if dir { meta.is_dir() } else { meta.is_file() };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // No permission bit for group or others (the low six bits of the mode).
        let private = meta.mode().trailing_zeros() >= 6;
        kind_ok && meta.uid() == rustix::process::geteuid().as_raw() && private
    }
    #[cfg(not(unix))]
    {
        kind_ok
    }
}

/// Stores the facts; failures are ignored (the cache is only an optimisation).
pub fn store(manifest: Option<&Path>, cwd: &Path, facts: &ManifestFacts) {
    let (Some(dir), Some((key, start))) = (dir(), key(manifest, cwd)) else {
        return;
    };
    let lock = facts.workspace_root.join("Cargo.lock");
    let mut paths: Vec<&Path> = facts.manifests.iter().map(PathBuf::as_path).collect();
    paths.push(&start);
    paths.push(&lock);
    let Some(stamps) = paths.into_iter().map(stamp).collect::<Option<Vec<_>>>() else {
        return;
    };
    let entry = Entry {
        format: FORMAT,
        key: key.clone(),
        stamps,
        facts: facts.clone(),
    };
    let Ok(json) = serde_json::to_vec(&entry) else {
        return;
    };
    write_entry(&dir, &format!("{:016x}.json", fnv64(key.as_bytes())), &json);
}

/// Writes one entry into the cache folder: 0700 whatever the umask (what is cached here decides
/// where commands send data); a folder of this user's that others may write is tightened, one of
/// another user is not written to. Failures are ignored.
fn write_entry(dir: &Path, name: &str, bytes: &[u8]) {
    if crate::atomic::create_private_dir(dir).is_err() {
        return;
    }
    if !private_and_own(dir, true) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let ours = std::fs::symlink_metadata(dir)
                .is_ok_and(|m| m.is_dir() && m.uid() == rustix::process::geteuid().as_raw());
            if !ours
                || std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).is_err()
            {
                return;
            }
        }
        #[cfg(not(unix))]
        return;
    }
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if tmp.write_all(bytes).is_ok() {
        let _ = tmp.persist(dir.join(name));
    }
}

/// A small answer cached under `key` (which must name everything the answer depends on), if
/// the entry is this user's own and private.
#[must_use]
pub fn recall(key: &str) -> Option<String> {
    let dir = dir()?;
    if !private_and_own(&dir, true) {
        return None;
    }
    let file = dir.join(format!("answer-{:016x}.json", fnv64(key.as_bytes())));
    if !private_and_own(&file, false) {
        return None;
    }
    let bytes = crate::regular_file::read(&file, 64 * 1024).ok()?;
    let (stored_key, answer): (String, String) = serde_json::from_slice(&bytes).ok()?;
    (stored_key == key).then_some(answer)
}

/// Caches a small answer under `key` ([`recall`]).
pub fn remember(key: &str, answer: &str) {
    let Some(dir) = dir() else {
        return;
    };
    let Ok(json) = serde_json::to_vec(&(key, answer)) else {
        return;
    };
    write_entry(
        &dir,
        &format!("answer-{:016x}.json", fnv64(key.as_bytes())),
        &json,
    );
}
