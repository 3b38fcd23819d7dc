//! The write side of a secrets file, for the verbs that change it: its entries in order, and an
//! atomic 0600 write of them (temp file, fsync, rename) that keeps the order.

use std::path::Path;

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

/// Writes entries atomically with mode 0600, creating the folder if needed.
pub fn write_entries(
    path: &Path,
    entries: &[(String, Option<SecretString>)],
    overwrite: bool,
) -> Result<(), Error> {
    let body = super::render(entries);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", rel(dir)), e))?;
    }
    crate::atomic::write_private(path, body.expose_secret().as_bytes(), overwrite)
        .map_err(|e| Error::io(format!("cannot write {}", rel(path)), e))
}

/// The non-blank values by key.
#[must_use]
pub fn values(entries: &[(String, Option<SecretString>)]) -> SecretMap {
    entries
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
        .collect()
}

/// Sets `key` to `value`, in place when it is there, at the end otherwise.
pub fn set_entry(entries: &mut Entries, key: &str, value: SecretString) {
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = Some(value),
        None => entries.push((key.to_owned(), Some(value))),
    }
}
