//! `secrets.vault.keys` (systemprompt 0.50+): a key the app reads from a field of another KV v2
//! document under the same mount, instead of from the profile's own document. Upstream reads the
//! profile's document, then for each redirected key that document's field, which wins; a missing
//! document or field stops the boot.
//!
//! The tool reads the same way (the remote view is what the app reads), writes a redirected key's
//! value into its field (the rest of that document untouched, check-and-set), and never into the
//! profile's own document. What it cannot write there safely it refuses before any write.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

use super::openbao::{BaoClient, BaoError, CAS_RETRIES};
use super::{Edit, Remote, RemoteStore};
use crate::error::Error;
use crate::secret_map::SecretMap;

/// One `secrets.vault.keys` entry: the app reads `key` from `field` of the document at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The secrets.json key.
    pub key: String,
    /// The document's path under the profile's mount.
    pub path: String,
    /// The field of that document.
    pub field: String,
}

impl Redirect {
    /// `mount/path#field`, for messages.
    #[must_use]
    pub fn place(&self, mount_and_path: &str) -> String {
        format!("{mount_and_path} (field `{}`)", self.field)
    }

    /// Whether it points into the profile's own document under another name: the field would
    /// then be a key the app reads as well.
    fn points_into_own_document(&self, own: &str) -> bool {
        self.path.trim_matches('/') == own && self.field != self.key
    }
}

/// Reads each redirected key where the app reads it and puts it into `remote` (it wins over the
/// document's own field of that name, as upstream merges). A missing document or field goes to
/// [`Remote::unserved`], with why.
pub(super) fn serve(client: &BaoClient, remote: &mut Remote) -> Result<(), Error> {
    let mut by_path: BTreeMap<&str, Vec<&Redirect>> = BTreeMap::new();
    for r in client.redirects() {
        by_path.entry(r.path.trim_matches('/')).or_default().push(r);
    }
    for (path, redirects) in by_path {
        let other = client.sibling(path);
        let (version, data) = if path == client.path() {
            let own = remote.values.clone().unwrap_or_default();
            (remote.version.unwrap_or_default(), own)
        } else {
            let s = other.read(None)?;
            (s.version, s.data)
        };
        for r in redirects {
            let name = client.remote_name(&r.key);
            if let Some(value) = data.get(&r.field) {
                remote
                    .values
                    .get_or_insert_with(SecretMap::new)
                    .insert(name, value.clone());
            } else {
                if let Some(values) = remote.values.as_mut() {
                    values.remove(&name);
                }
                let why = if version == 0 {
                    format!("{} does not exist", other.location())
                } else {
                    format!("{} has no field `{}`", other.location(), r.field)
                };
                remote.unserved.push((r.key.clone(), why));
            }
        }
    }
    Ok(())
}

/// One field to write: the redirect, the value, and (with a base read) the value the field held
/// then, which it must still hold.
pub(super) struct FieldWrite {
    redirect: Redirect,
    value: SecretString,
    /// Whether a base read was given: the field must then still hold `held`.
    checked: bool,
    held: Option<SecretString>,
}

/// An edit split into what goes to the profile's own document and what goes to other documents.
pub(super) struct Routed {
    /// For the profile's own document.
    pub main: Edit,
    /// For the fields of other documents.
    pub fields: Vec<FieldWrite>,
}

/// Splits `edit`; refuses (before any write) a delete of a redirected key, a redirect into the
/// profile's own document under another name, and two keys redirected to one field with
/// different values.
pub(super) fn route(
    client: &BaoClient,
    edit: &Edit,
    base: Option<&Remote>,
) -> Result<Routed, Error> {
    let redirect_of = |name: &str| {
        client
            .redirects()
            .iter()
            .find(|r| client.remote_name(&r.key) == name)
    };
    if let Some(r) = edit.delete.iter().find_map(|n| redirect_of(n)) {
        return Err(Error::usage(format!(
            "`{}` is served from {}, which other profiles may share; the tool does not delete it there, and nothing was changed",
            r.key,
            r.place(&client.sibling(&r.path).location())
        ))
        .help("remove the key's `secrets.vault.keys` entry from profile.yaml first, or delete the field with `bao kv patch`"));
    }
    let mut main = Edit {
        set: SecretMap::new(),
        delete: edit.delete.clone(),
    };
    let mut fields: Vec<FieldWrite> = Vec::new();
    for (name, value) in edit.set.iter() {
        let Some(r) = redirect_of(name) else {
            main.set.insert(name.clone(), value.clone());
            continue;
        };
        if r.path.trim_matches('/') == client.path() && r.field == r.key {
            // A redirect to itself is the plain document.
            main.set.insert(name.clone(), value.clone());
            continue;
        }
        let place = r.place(&client.sibling(&r.path).location());
        if r.points_into_own_document(client.path()) {
            return Err(Error::usage(format!(
                "`{}` is redirected to {place}, a field of the profile's own document, which the app would read as a key of its own too; nothing was written",
                r.key
            ))
            .help(format!(
                "point `secrets.vault.keys.{}` at another path, or remove it so the key is kept under its own name",
                r.key
            )));
        }
        if let Some(other) = fields.iter().find(|f| {
            f.redirect.path.trim_matches('/') == r.path.trim_matches('/')
                && f.redirect.field == r.field
                && f.value.expose_secret() != value.expose_secret()
        }) {
            return Err(Error::usage(format!(
                "`{}` and `{}` are both redirected to {place} with different values; nothing was written",
                other.redirect.key, r.key
            ))
            .help("give them the same value, or point one of them at another field"));
        }
        fields.push(FieldWrite {
            redirect: r.clone(),
            value: value.clone(),
            checked: base.is_some(),
            held: base.and_then(|b| b.values.as_ref()?.get(name).cloned()),
        });
    }
    Ok(Routed { main, fields })
}

/// The profile's own document as stored, for a check-and-set write against `base`: the base
/// view has the redirected keys merged in, which must not be written back. A version other than
/// the base's is a conflict.
pub(super) fn own_document(client: &BaoClient, base: &Remote) -> Result<SecretMap, Error> {
    let s = client.read(None)?;
    let expected = base.version.unwrap_or_default();
    if s.version != expected {
        return Err(Error::Conflict {
            location: client.location(),
            detail: format!("version {expected} is no longer the current one"),
        });
    }
    Ok(s.data)
}

/// Writes each field (check-and-set on its document, other fields untouched). With a base read,
/// a field that changed since is a conflict. Returns whether anything was written.
pub(super) fn write_fields(client: &BaoClient, fields: &[FieldWrite]) -> Result<bool, Error> {
    let mut wrote = false;
    for f in fields {
        let doc = client.sibling(&f.redirect.path);
        let mut attempt = 0;
        loop {
            let mut s = doc.read(None)?;
            let current = s.data.get(&f.redirect.field);
            let same = match (current, &f.held) {
                (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
                (None, None) => true,
                _ => false,
            };
            if f.checked && !same {
                return Err(Error::Conflict {
                    location: f.redirect.place(&doc.location()),
                    detail: format!("`{}` changed there since it was read", f.redirect.key),
                });
            }
            if current.is_some_and(|c| c.expose_secret() == f.value.expose_secret()) {
                break;
            }
            s.data.insert(f.redirect.field.clone(), f.value.clone());
            match doc.write(&s.data, s.version) {
                Ok(_) => {
                    wrote = true;
                    break;
                }
                Err(BaoError::Conflict(_)) if attempt + 1 < CAS_RETRIES => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(wrote)
}
