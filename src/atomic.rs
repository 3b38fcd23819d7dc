//! Atomic, private file writes: temp file in the same folder, fsync, rename, fsync of the folder, mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TEMP_PREFIX: &str = ".secrets-";
const TEMP_SUFFIX: &str = ".tmp";
/// A temp file this old was left by a writer that died (kill -9, power loss): no live write takes
/// this long.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Writes `bytes` to `path` atomically with mode 0600. With `overwrite = false` an existing file is an error
/// (`AlreadyExists`) and is left untouched. Only a regular file is ever replaced: a FIFO, a device, a
/// socket or a folder at `path` (or at the end of its symlink) is refused with `InvalidInput`, and
/// so is a symlink to nothing. A symlink to a regular file is followed: its target is replaced, the
/// link stays. Temp files left in the folder by writers that died are removed afterwards.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> std::io::Result<()> {
    write_with_mode(path, bytes, overwrite, &private())
}

/// [`write_private`] for a file that holds no secret and that others read (an ignore file):
/// mode 0644, whatever the umask (which may only narrow it).
pub fn write_shared(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o644)
    };
    #[cfg(not(unix))]
    let mode = private();
    write_with_mode(path, bytes, true, &mode)
}

fn write_with_mode(
    path: &Path,
    bytes: &[u8],
    overwrite: bool,
    mode: &std::fs::Permissions,
) -> std::io::Result<()> {
    let resolved = target(path)?;
    let path = resolved.as_deref().unwrap_or(path);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // A signal that arrives from here on waits for the write to finish (or to fail and remove
    // its temp file): Ctrl-C and SIGTERM never leave a temp file behind.
    let _writing = crate::interrupt::writing();
    let mut tmp = locked_temp_file(dir, mode)?;
    tmp.write_all(bytes)?;
    stop_at("written");
    tmp.as_file().sync_all()?;
    stop_at("synced");
    if overwrite {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    stop_at("renamed");
    sync_dir(dir)?;
    for stale in stale_temp_files(dir) {
        let _ = std::fs::remove_file(stale);
    }
    Ok(())
}

/// A new temp file in `dir`, locked (`flock`) for as long as it lives: a temp file nobody holds
/// a lock on was left by a writer that died ([`stale_temp_files`]). Between its creation and its
/// lock another writer may find it unlocked and remove it; then a new one is made.
fn locked_temp_file(
    dir: &Path,
    mode: &std::fs::Permissions,
) -> std::io::Result<tempfile::NamedTempFile> {
    loop {
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .permissions(mode.clone())
            .tempfile_in(dir)?;
        tmp.as_file().lock()?;
        if still_linked(tmp.as_file())? {
            return Ok(tmp);
        }
    }
}

#[cfg(unix)]
fn still_linked(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.nlink() > 0)
}

#[cfg(not(unix))]
fn still_linked(_: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}

/// The variable that makes a test build's writer stop itself at one stage of a write.
#[cfg(all(debug_assertions, unix))]
const STOP_AT: &str = "SYSTEMPROMPT_SECRETS_TEST_STOP_AT";

/// In a debug build only: when `SYSTEMPROMPT_SECRETS_TEST_STOP_AT` names `stage` (`written`,
/// `synced`, `renamed`), the writer stops itself (SIGSTOP) there, so that a test can kill it at
/// exactly that point whatever the machine's speed (`tests/kill_writer.rs`). Release builds have
/// no such hook.
#[cfg(all(debug_assertions, unix))]
fn stop_at(stage: &str) {
    if std::env::var_os(STOP_AT).is_some_and(|s| s == stage) {
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGSTOP);
    }
}

#[cfg(not(all(debug_assertions, unix)))]
fn stop_at(_: &str) {}

/// Where a write to `path` lands: `None` for `path` itself (absent, or a regular file), the
/// target of a symlink to a regular file, or an error for anything that is not a regular file.
pub fn target(path: &Path) -> std::io::Result<Option<PathBuf>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        let resolved = std::fs::canonicalize(path).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it is a symlink to nothing (or to a loop); nothing was written",
            )
        })?;
        let target_meta = std::fs::metadata(&resolved)?;
        if !target_meta.is_file() {
            return Err(not_regular(&target_meta, Some(&resolved)));
        }
        return Ok(Some(resolved));
    }
    if meta.is_file() {
        Ok(None)
    } else {
        Err(not_regular(&meta, None))
    }
}

fn not_regular(meta: &std::fs::Metadata, through: Option<&Path>) -> std::io::Error {
    let via = through.map_or(String::new(), |t| {
        format!(" (the symlink points at {})", t.display())
    });
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "it is {}{via}, not a regular file; only a regular file is ever replaced, so nothing was written",
            crate::regular_file::kind_of(meta)
        ),
    )
}

/// Temp files in `dir` left by writers that died mid-write (SIGKILL, power loss): no process
/// holds their lock. They hold secrets (mode 0600); `doctor` reports them and the next write in
/// the folder removes them. A file whose lock cannot be asked about counts as stale after a
/// minute, as no live write takes that long.
#[must_use]
pub fn stale_temp_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && abandoned(&e.path()))
        .map(|e| e.path())
        .collect()
}

/// Whether no writer holds the temp file at `path`.
fn abandoned(path: &Path) -> bool {
    let old = || {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER)
    };
    // Opened for reading only, never followed through a symlink (the entry is a regular file).
    let Ok(file) = std::fs::File::open(path) else {
        return old();
    };
    match file.try_lock() {
        Ok(()) => true,
        Err(std::fs::TryLockError::WouldBlock) => false,
        Err(std::fs::TryLockError::Error(_)) => old(),
    }
}

#[cfg(unix)]
fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private() -> std::fs::Permissions {
    let mut p = std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("metadata of .");
    p.set_readonly(false);
    p
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Creates `dir` and its missing parents with mode 0700 (only the owner may list or enter them).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn follows_symlinks_and_removes_stale_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        let link = d.path().join("secrets.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // Left by a killed writer a moment ago: nobody holds its lock, whatever its age.
        let stale = d.path().join(".secrets-dead.tmp");
        std::fs::write(&stale, "left by a killed writer").unwrap();
        // A write in progress holds the lock on its temp file, however old the file is.
        let fresh = d.path().join(".secrets-live.tmp");
        std::fs::write(&fresh, "a write in progress").unwrap();
        let live = std::fs::File::options().write(true).open(&fresh).unwrap();
        live.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        live.lock().unwrap();
        assert_eq!(stale_temp_files(d.path()), vec![stale.clone()]);

        write_private(&link, b"new", true).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link stays"
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert!(!stale.exists(), "the dead writer's temp file is gone");
        assert!(fresh.exists(), "a live writer's temp file is left alone");
    }

    #[cfg(unix)]
    #[test]
    fn never_replaces_what_is_not_a_regular_file() {
        use std::os::unix::fs::FileTypeExt;
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let folder = d.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        let to_fifo = d.path().join("to-fifo");
        std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
        let dangling = d.path().join("dangling");
        std::os::unix::fs::symlink(d.path().join("nothing"), &dangling).unwrap();
        let null = Path::new("/dev/null");
        for (path, words) in [
            (fifo.as_path(), "a FIFO"),
            (folder.as_path(), "a folder"),
            (to_fifo.as_path(), "the symlink points at"),
            (dangling.as_path(), "a symlink to nothing"),
            (null, "a character device"),
        ] {
            let e = write_private(path, b"secret", true).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{path:?}");
            assert!(e.to_string().contains(words), "{path:?}: {e}");
        }
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(std::fs::symlink_metadata(null)
            .unwrap()
            .file_type()
            .is_char_device());
        assert!(!d.path().join("nothing").exists());
    }

    #[test]
    fn writes_private_and_refuses_to_clobber() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secrets.json");
        write_private(&p, b"one", false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let e = write_private(&p, b"two", false).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_private(&p, b"two", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }
}
