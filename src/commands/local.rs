//! Reading and rewriting a profile's secrets.json for the verbs that change it locally: strict read,
//! order-preserving render, atomic 0600 write, and a names-only summary of what changed.

use std::collections::BTreeMap;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::rel;
use crate::error::Error;
use crate::secrets_file;
use crate::shell::Shell;

/// The entries of a secrets file in order (empty when it does not exist). A bad file is an error.
pub(crate) fn read_entries(path: &Path) -> Result<Vec<(String, Option<SecretString>)>, Error> {
    if !path.try_exists().unwrap_or(true) {
        return Ok(Vec::new());
    }
    let file = secrets_file::read(path).map_err(crate::layers::LoadError::from)?;
    Ok(file.entries.into_iter().map(|e| (e.key, e.value)).collect())
}

/// Writes entries atomically with mode 0600, creating the folder if needed.
pub(crate) fn write_entries(
    path: &Path,
    entries: &[(String, Option<SecretString>)],
    overwrite: bool,
) -> Result<(), Error> {
    let body = secrets_file::render(entries);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", rel(dir)), e))?;
    }
    crate::atomic::write_private(path, body.expose_secret().as_bytes(), overwrite)
        .map_err(|e| Error::io(format!("cannot write {}", rel(path)), e))
}

/// Non-blank values by key.
pub(crate) fn values(entries: &[(String, Option<SecretString>)]) -> BTreeMap<String, SecretString> {
    entries
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| (k.clone(), SecretString::from(v.expose_secret())))
        })
        .collect()
}

/// Added / changed / removed keys between two sets of values (names only).
pub(crate) fn changes(
    before: &BTreeMap<String, SecretString>,
    after: &BTreeMap<String, SecretString>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let added = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let changed = after
        .iter()
        .filter(|(k, v)| {
            before
                .get(*k)
                .is_some_and(|old| old.expose_secret() != v.expose_secret())
        })
        .map(|(k, _)| k.clone())
        .collect();
    (added, changed, removed)
}

/// Prints the names that changed.
pub(crate) fn report_changes(
    shell: &mut Shell,
    added: &[String],
    changed: &[String],
    removed: &[String],
) {
    for (label, names) in [("added", added), ("changed", changed), ("removed", removed)] {
        if !names.is_empty() {
            shell.info(format_args!("{label:>16}: {}", names.join(", ")));
        }
    }
}
