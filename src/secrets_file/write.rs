//! The write side of a secrets file, for the verbs that change it: its entries in order, and an
//! atomic 0600 write of them (temp file, fsync, rename) that keeps the order.

use std::path::Path;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
use crate::secret_map::SecretMap;
use crate::source::rel;

/// A secrets file's entries in order; `None` is a null or blank value.
pub type Entries = Vec<(String, Option<SecretString>)>;

/// The entries of a secrets file in order (empty when it does not exist). A bad file is an error.
pub fn read_entries(path: &Path) -> Result<Entries, Error> {
    if !path.try_exists().unwrap_or(true) {
        return Ok(Vec::new());
    }
    let file = super::read(path).map_err(crate::layers::LoadError::from)?;
    Ok(file.entries.into_iter().map(|e| (e.key, e.value)).collect())
}

/// Writes entries atomically with mode 0600, creating the folder if needed. What is at `path` must
/// be replaceable ([`check_replaceable`]).
pub fn write_entries(
    path: &Path,
    entries: &[(String, Option<SecretString>)],
    overwrite: bool,
) -> Result<(), Error> {
    // A writer never leaves what a reader would refuse.
    if let Some(problem) = entries.iter().find_map(|(k, _)| super::key_problem(k)) {
        return Err(
            Error::failed(format!("{problem}; nothing was written to {}", rel(path)))
                .help("rename the key to letters, digits and underscores"),
        );
    }
    // Untouched `null`s stay `null` (and blank strings blank).
    let nulls: std::collections::BTreeSet<String> = super::read(path)
        .map(|f| {
            f.entries
                .into_iter()
                .filter(|e| e.null)
                .map(|e| e.key)
                .collect()
        })
        .unwrap_or_default();
    let body = super::render_keeping(entries, &nulls);
    let size = body.expose_secret().len() as u64;
    if size > super::MAX_SIZE {
        return Err(Error::failed(format!(
            "the new {} would be {size} bytes, over the {} bytes (1 MiB) every reader accepts; nothing was written",
            rel(path),
            super::MAX_SIZE
        ))
        .help("remove keys that are no longer needed, or keep large values elsewhere"));
    }
    if let Some(dir) = path.parent() {
        crate::atomic::create_private_dir(dir)
            .map_err(|e| Error::io(format!("cannot create {}", rel(dir)), e))?;
    }
    check_replaceable(path)?;
    crate::atomic::write_private(path, body.expose_secret().as_bytes(), overwrite)
        .map_err(|e| Error::io(format!("cannot write {}", rel(path)), e))
}

/// Whether a secrets file may be written at `path`: nothing is there, or a regular file that looks
/// like a secrets file (it starts with `{`), or a symlink to a regular file that is one (a JSON
/// object of strings). A FIFO, a device, a folder, a dangling link, a link to another kind of file
/// or a file of another kind (a README a `secrets_path` points at by mistake) is refused, and
/// nothing is written.
pub fn check_replaceable(path: &Path) -> Result<(), Error> {
    let target = crate::atomic::target(path).map_err(|e| not_writable(path, &e))?;
    let real = target.as_deref().unwrap_or(path);
    if !real.is_file() {
        return Ok(());
    }
    let not_secrets = |what: String| {
        Error::failed(format!("{what}, which is not a secrets file (a JSON object of strings); nothing was written"))
            .help("if it should hold the secrets, fix it first (`cargo systemprompt-secrets validate` says where); otherwise move it away, or replace the link with a real file")
    };
    if target.is_some() {
        if super::read(real).is_err() {
            return Err(not_secrets(format!(
                "{} is a symlink to {}",
                rel(path),
                real.display()
            )));
        }
        return Ok(());
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(real)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| Error::io(format!("cannot read {}", rel(path)), e))?;
    let head = head[..n]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[..n]);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        None | Some(b'{') => Ok(()),
        Some(_) => Err(not_secrets(format!("{} holds something else", rel(path)))),
    }
}

/// What is at `path` cannot be written (a FIFO, a device, a folder, a dangling link or a loop).
fn not_writable(path: &Path, e: &std::io::Error) -> Error {
    Error::failed(format!("cannot write {}: {e}", rel(path))).help(
        "put a regular file (or a symlink to a secrets file) there, or point `secrets.secrets_path` elsewhere",
    )
}

/// How long a writer waits for another one to finish with the same secrets file.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// An exclusive advisory lock on the folder of a secrets file, held by a read-modify-write from the
/// read to the rename, so that two writers take turns and the second one works on what the first
/// wrote. Released when dropped.
#[must_use = "the lock is held only while this value lives"]
#[derive(Debug)]
pub struct WriteLock {
    _held: std::fs::File,
}

/// Takes the [`WriteLock`] of the secrets file at `path` (the folder of its symlink's target),
/// waiting up to [`LOCK_WAIT`] for another writer.
pub fn lock(path: &Path) -> Result<WriteLock, Error> {
    let target = crate::atomic::target(path).map_err(|e| not_writable(path, &e))?;
    let file = target.as_deref().unwrap_or(path);
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::atomic::create_private_dir(dir)
        .map_err(|e| Error::io(format!("cannot create {}", rel(dir)), e))?;
    let held = open_lock(dir).map_err(|e| Error::io(format!("cannot lock {}", rel(dir)), e))?;
    let started = Instant::now();
    loop {
        match held.try_lock() {
            Ok(()) => return Ok(WriteLock { _held: held }),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(15));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::failed(format!(
                    "another writer has been changing {} for {} s; nothing was changed",
                    rel(file),
                    LOCK_WAIT.as_secs()
                ))
                .help("wait for the other cargo-systemprompt-secrets (an open `edit`, a question waiting for an answer) to finish, then run this again"));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", rel(dir)), e));
            }
        }
    }
}

/// The folder itself on Unix (no lock file is left behind); a lock file elsewhere.
#[cfg(unix)]
fn open_lock(dir: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(dir)
}

#[cfg(not(unix))]
fn open_lock(dir: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".secrets.lock"))
}

/// The non-blank values by key.
#[must_use]
pub fn values(entries: &[(String, Option<SecretString>)]) -> SecretMap {
    entries
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect()
}

/// Sets `key` to `value`, in place when it is there (found without regard to case, the file's
/// spelling kept), at the end otherwise.
pub fn set_entry(entries: &mut Entries, key: &str, value: SecretString) {
    match entries
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
    {
        Some(slot) => slot.1 = Some(value),
        None => entries.push((key.to_owned(), Some(value))),
    }
}
