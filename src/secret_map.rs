//! A map of names to secret values with the operations the verbs need: compare in constant time,
//! rename for a remote, and serialize for a request body (the one place values are exposed).

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::layers::Resolved;

/// Names (secrets.json keys, or a remote's names) to values, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct SecretMap(BTreeMap<String, SecretString>);

/// How one name compares between two maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// On both sides with the same value.
    Equal,
    /// On both sides with different values.
    Changed,
    /// On both sides; the other side's value is unknown (the cloud never returns values).
    Both,
    /// Only on this side.
    LocalOnly,
    /// Only on the other side.
    RemoteOnly,
}

/// What changed between two maps, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Names only in the new map.
    pub added: Vec<String>,
    /// Names with another value.
    pub changed: Vec<String>,
    /// Names only in the old map.
    pub removed: Vec<String>,
}

/// Every name of two maps with how it compares, sorted.
#[derive(Debug, Clone, Default)]
pub struct Comparison(Vec<(String, Compare)>);

impl Comparison {
    /// Compares names only: a name on both sides is [`Compare::Both`].
    #[must_use]
    pub fn of_names<'a>(
        local: impl IntoIterator<Item = &'a String>,
        remote: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let local: std::collections::BTreeSet<&String> = local.into_iter().collect();
        let remote: std::collections::BTreeSet<&String> = remote.into_iter().collect();
        Self(
            local
                .union(&remote)
                .map(|k| {
                    let c = match (local.contains(k), remote.contains(k)) {
                        (true, true) => Compare::Both,
                        (true, false) => Compare::LocalOnly,
                        _ => Compare::RemoteOnly,
                    };
                    ((*k).clone(), c)
                })
                .collect(),
        )
    }

    /// The names with status `which`.
    #[must_use]
    pub fn names(&self, which: Compare) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, c)| *c == which)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every name with its status.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Compare)> {
        self.0.iter().map(|(k, c)| (k.as_str(), *c))
    }

    /// Whether every name is [`Compare::Equal`].
    #[must_use]
    pub fn all_equal(&self) -> bool {
        self.0.iter().all(|(_, c)| *c == Compare::Equal)
    }
}

impl SecretMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The winning value of every resolved key.
    #[must_use]
    pub fn from_resolved(resolved: &Resolved) -> Self {
        resolved
            .entries
            .iter()
            .map(|(k, r)| (k.clone(), r.winner.value.clone()))
            .collect()
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    /// Sets `name`; returns the old value.
    pub fn insert(&mut self, name: String, value: SecretString) -> Option<SecretString> {
        self.0.insert(name, value)
    }

    /// Removes `name`; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<SecretString> {
        self.0.remove(name)
    }

    /// Whether `name` is set.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// Names and values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &SecretString)> {
        self.0.iter()
    }

    /// How many names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps the names for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|k, _| keep(k));
    }

    /// The same values under other names (`rename` maps each name).
    #[must_use]
    pub fn renamed(self, rename: impl Fn(&str) -> String) -> Self {
        self.0.into_iter().map(|(k, v)| (rename(&k), v)).collect()
    }

    /// [`SecretMap::renamed`], refusing two names that `rename` maps to one: the error names
    /// both and the name they share (`(first, second, shared)`, in this map's order).
    pub fn renamed_unique(
        self,
        rename: impl Fn(&str) -> String,
    ) -> Result<Self, (String, String, String)> {
        let mut from: BTreeMap<String, String> = BTreeMap::new();
        let mut out = SecretMap::default();
        for (k, v) in self.0 {
            let new = rename(&k);
            if let Some(first) = from.get(&new) {
                return Err((first.clone(), k, new));
            }
            from.insert(new.clone(), k);
            out.insert(new, v);
        }
        Ok(out)
    }

    /// Sets every name of `other`; returns whether any value was new or different.
    pub fn set_all(&mut self, other: &SecretMap) -> bool {
        let mut changed = false;
        for (k, v) in other.iter() {
            if self.get(k).is_none_or(|old| !same_value(old, v)) {
                self.insert(k.clone(), v.clone());
                changed = true;
            }
        }
        changed
    }

    /// Compares this map (the local side) with `other` in constant time: no value is compared or
    /// shown in the clear.
    #[must_use]
    pub fn compare(&self, other: &SecretMap) -> Comparison {
        let mut all: Vec<&String> = self.0.keys().chain(other.0.keys()).collect();
        all.sort();
        all.dedup();
        Comparison(
            all.into_iter()
                .map(|k| {
                    let c = match (self.get(k), other.get(k)) {
                        (Some(a), Some(b)) if same_value(a, b) => Compare::Equal,
                        (Some(_), Some(_)) => Compare::Changed,
                        (Some(_), None) => Compare::LocalOnly,
                        _ => Compare::RemoteOnly,
                    };
                    (k.clone(), c)
                })
                .collect(),
        )
    }

    /// The names added, changed and removed from this map to `after` (in constant time).
    #[must_use]
    pub fn changes_to(&self, after: &SecretMap) -> Changes {
        let cmp = self.compare(after);
        Changes {
            added: cmp.names(Compare::RemoteOnly),
            changed: cmp.names(Compare::Changed),
            removed: cmp.names(Compare::LocalOnly),
        }
    }

    /// Whether both maps hold the same names with the same values (in constant time).
    #[must_use]
    pub fn same_as(&self, other: &SecretMap) -> bool {
        self.len() == other.len() && self.compare(other).all_equal()
    }

    /// `{NAME: value, …}` for a request body: the one place that exposes the values.
    #[must_use]
    pub fn exposed(&self) -> Exposed<'_> {
        Exposed(self)
    }
}

#[cfg(test)]
impl SecretMap {
    /// A map of these names and values (tests).
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Self {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
            .collect()
    }
}

impl FromIterator<(String, SecretString)> for SecretMap {
    fn from_iter<I: IntoIterator<Item = (String, SecretString)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for SecretMap {
    type Item = (String, SecretString);
    type IntoIter = std::collections::btree_map::IntoIter<String, SecretString>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<(String, SecretString)> for SecretMap {
    fn extend<I: IntoIterator<Item = (String, SecretString)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// A [`SecretMap`] serialized as a JSON object of its values (see [`SecretMap::exposed`]).
pub struct Exposed<'a>(&'a SecretMap);

impl serde::Serialize for Exposed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            m.serialize_entry(k, v.expose_secret())?;
        }
        m.end()
    }
}

/// Whether two values are the same, in time that depends on their lengths only (never a
/// byte-by-byte comparison that stops at the first difference). Before, each side was hashed
/// with a per-run HMAC key: the same answer, at about 2 µs a value.
fn same_value(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_sorts_every_name_with_its_status() {
        let local = SecretMap::of(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let remote = SecretMap::of(&[("b", "2"), ("c", "x"), ("d", "4")]);
        let cmp = local.compare(&remote);
        let all: Vec<(&str, Compare)> = cmp.iter().collect();
        assert_eq!(
            all,
            [
                ("a", Compare::LocalOnly),
                ("b", Compare::Equal),
                ("c", Compare::Changed),
                ("d", Compare::RemoteOnly)
            ]
        );
        assert!(!local.same_as(&remote));
        assert!(local.same_as(&local.clone()));
    }

    #[test]
    fn set_all_reports_whether_anything_changed() {
        let mut m = SecretMap::of(&[("a", "1")]);
        assert!(!m.set_all(&SecretMap::of(&[("a", "1")])));
        assert!(m.set_all(&SecretMap::of(&[("a", "2"), ("b", "3")])));
        assert_eq!(m.get("a").map(ExposeSecret::expose_secret), Some("2"));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn exposed_serializes_the_values_and_debug_does_not() {
        let m = SecretMap::of(&[("B", "two"), ("A", "one")]);
        assert_eq!(
            serde_json::to_string(&m.exposed()).unwrap(),
            r#"{"A":"one","B":"two"}"#
        );
        let renamed = m.renamed(str::to_ascii_lowercase);
        assert_eq!(renamed.names().collect::<Vec<_>>(), ["a", "b"]);
        assert!(!format!("{renamed:?}").contains("one"));
    }

    #[test]
    fn a_rename_that_merges_two_names_is_refused() {
        let m = SecretMap::of(&[("ANTHROPIC", "one"), ("ANTHROPIC_API_KEY", "two")]);
        let err = m
            .renamed_unique(crate::keys::key_from_env)
            .expect_err("two names, one key");
        assert_eq!(
            err,
            (
                "ANTHROPIC".to_owned(),
                "ANTHROPIC_API_KEY".to_owned(),
                "anthropic".to_owned()
            )
        );
        let fine = SecretMap::of(&[("A", "1"), ("B", "2")]).renamed_unique(str::to_ascii_lowercase);
        assert_eq!(fine.unwrap().len(), 2);
    }
}
