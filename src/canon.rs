//! Canonical paths (symlinks resolved), each folder resolved once per process: a path below a
//! folder already known costs one `lstat` per new component, where `canonicalize` reads every
//! component of the whole path again (`validate` asked for about 35 of them on each run).
//!
//! A path that does not exist yet is judged by its nearest existing ancestor, with the rest
//! appended as given.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};

static KNOWN: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);

/// `path` with every symlink resolved, made absolute against the current directory.
#[must_use]
pub fn canonical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return path.to_path_buf(),
        }
    };
    // `..` after a symlink means the symlink's parent: leave such paths to the system.
    if absolute
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return whole(&absolute);
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    let known = known.get_or_insert_with(HashMap::new);
    resolve(&absolute, known)
}

fn resolve(path: &Path, known: &mut HashMap<PathBuf, PathBuf>) -> PathBuf {
    if let Some(c) = known.get(path) {
        return c.clone();
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return path.to_path_buf();
    };
    let parent = resolve(parent, known);
    let resolved = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => whole(path),
        // Not there (yet): the rest is appended as given, and not remembered.
        Err(_) => return parent.join(name),
        Ok(_) => parent.join(name),
    };
    known.insert(path.to_path_buf(), resolved.clone());
    resolved
}

/// `canonicalize` of the nearest existing ancestor, the rest appended.
fn whole(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut at = path;
    loop {
        if let Ok(c) = std::fs::canonicalize(at) {
            return missing.iter().rev().fold(c, |acc, part| acc.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                at = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_as_canonicalize_does_through_links_and_missing_tails() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere/c")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("a/link")).unwrap();
        for p in ["a/b", "a/link/c", "a/link", "a"] {
            assert_eq!(
                canonical(&tmp.path().join(p)),
                std::fs::canonicalize(tmp.path().join(p)).unwrap(),
                "{p}"
            );
        }
        // Not there yet: the nearest existing ancestor, the rest as given.
        assert_eq!(
            canonical(&tmp.path().join("a/link/new/file.json")),
            root.join("elsewhere/new/file.json")
        );
        assert_eq!(
            canonical(&tmp.path().join("a/b/../link/c")),
            root.join("elsewhere/c")
        );
    }
}
