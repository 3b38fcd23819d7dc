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

/// Every name of two maps with how it compares, sorted (the names borrowed from the maps).
#[derive(Debug, Clone, Default)]
pub struct Comparison<'a>(Vec<(&'a str, Compare)>);

impl<'a> Comparison<'a> {
    /// Compares names only: a name on both sides is [`Compare::Both`].
    #[must_use]
    pub fn of_names(
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
                    (k.as_str(), c)
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
            .map(|(k, _)| (*k).to_owned())
            .collect()
    }

    /// Every name with its status.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Compare)> + '_ {
        self.0.iter().copied()
    }

    /// What changed from this side to the other, by name.
    fn changes(&self) -> Changes {
        Changes {
            added: self.names(Compare::RemoteOnly),
            changed: self.names(Compare::Changed),
            removed: self.names(Compare::LocalOnly),
        }
    }

    /// Whether every name is [`Compare::Equal`].
    #[must_use]
    pub fn all_equal(&self) -> bool {
        self.0.iter().all(|(_, c)| *c == Compare::Equal)
    }
}

/// Every name of two sequences sorted by name, with how it compares: one merge, without a lookup.
fn merge<'a>(
    mine: impl Iterator<Item = (&'a str, &'a SecretString)>,
    theirs: impl Iterator<Item = (&'a str, &'a SecretString)>,
) -> Comparison<'a> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let mut out = Vec::with_capacity(mine.size_hint().0.max(theirs.size_hint().0));
    let (mut mine, mut theirs) = (mine.peekable(), theirs.peekable());
    loop {
        let order = match (mine.peek(), theirs.peek()) {
            (Some((a, _)), Some((b, _))) => a.cmp(b),
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (None, None) => break,
        };
        let row = match order {
            Less => mine.next().map(|(k, _)| (k, Compare::LocalOnly)),
            Greater => theirs.next().map(|(k, _)| (k, Compare::RemoteOnly)),
            Equal => mine.next().zip(theirs.next()).map(|((k, a), (_, b))| {
                let same = same_value(a, b);
                (
                    k,
                    if same {
                        Compare::Equal
                    } else {
                        Compare::Changed
                    },
                )
            }),
        };
        out.extend(row);
    }
    Comparison(out)
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
        let names: Vec<String> = self.0.keys().map(|k| rename(k)).collect();
        if names.iter().eq(self.0.keys()) {
            // Every name is its own (the usual case): the map stays as it is.
            return Ok(self);
        }
        // Sorted by the new name (stably: two that share one stay in this map's order), so that
        // a shared name shows as two neighbours.
        let mut renamed: Vec<(String, String, SecretString)> = names
            .into_iter()
            .zip(self.0)
            .map(|(new, (k, v))| (new, k, v))
            .collect();
        renamed.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = renamed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err((pair[0].1.clone(), pair[1].1.clone(), pair[0].0.clone()));
        }
        Ok(Self(
            renamed
                .into_iter()
                .map(|(name, _, value)| (name, value))
                .collect(),
        ))
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
    pub fn compare<'a>(&'a self, other: &'a SecretMap) -> Comparison<'a> {
        merge(
            self.iter().map(|(k, v)| (k.as_str(), v)),
            other.iter().map(|(k, v)| (k.as_str(), v)),
        )
    }

    /// The names added, changed and removed from `before` (names and values in any order, each
    /// name once, such as a secrets file's entries) to this map, in constant time.
    #[must_use]
    pub fn changes_from<'a>(
        &self,
        before: impl IntoIterator<Item = (&'a str, &'a SecretString)>,
    ) -> Changes {
        let mut before: Vec<(&str, &SecretString)> = before.into_iter().collect();
        before.sort_unstable_by(|a, b| a.0.cmp(b.0));
        merge(
            before.into_iter(),
            self.iter().map(|(k, v)| (k.as_str(), v)),
        )
        .changes()
    }

    /// The names added, changed and removed from this map to `after` (in constant time).
    #[must_use]
    pub fn changes_to(&self, after: &SecretMap) -> Changes {
        self.compare(after).changes()
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
    fn compare_runs_out_either_side_first() {
        let a = SecretMap::of(&[("a", "1"), ("x", "2"), ("y", "3")]);
        let b = SecretMap::of(&[("b", "1"), ("c", "2")]);
        let statuses = |m: &SecretMap, n: &SecretMap| -> Vec<(String, Compare)> {
            m.compare(n)
                .iter()
                .map(|(k, c)| (k.to_owned(), c))
                .collect()
        };
        let names =
            |all: &[(String, Compare)]| all.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(&statuses(&a, &b)), ["a", "b", "c", "x", "y"]);
        assert_eq!(statuses(&a, &b)[4], ("y".to_owned(), Compare::LocalOnly));
        assert_eq!(statuses(&b, &a)[4], ("y".to_owned(), Compare::RemoteOnly));
        assert!(statuses(&SecretMap::new(), &SecretMap::new()).is_empty());
        assert!(statuses(&SecretMap::new(), &a)
            .iter()
            .all(|(_, c)| *c == Compare::RemoteOnly));
    }

    #[test]
    fn changes_from_entries_in_file_order() {
        let after = SecretMap::of(&[("a", "1"), ("b", "new"), ("d", "4")]);
        let (one, old, three) = (
            SecretString::from("1"),
            SecretString::from("old"),
            SecretString::from("3"),
        );
        let before = [("c", &three), ("b", &old), ("a", &one)];
        assert_eq!(
            after.changes_from(before),
            Changes {
                added: vec!["d".to_owned()],
                changed: vec!["b".to_owned()],
                removed: vec!["c".to_owned()],
            }
        );
        let same = [("a", &one)];
        assert_eq!(
            SecretMap::of(&[("a", "1")]).changes_from(same),
            Changes::default()
        );
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
        assert_eq!(fine.unwrap().names().collect::<Vec<_>>(), ["a", "b"]);
        let same = SecretMap::of(&[("a", "1"), ("b", "2")]).renamed_unique(str::to_owned);
        assert_eq!(
            same.unwrap().get("b").map(ExposeSecret::expose_secret),
            Some("2")
        );
        // Renamed into another order: the new names are sorted.
        let flipped = SecretMap::of(&[("a", "1"), ("b", "2")])
            .renamed_unique(|n| {
                if n == "a" {
                    "z".to_owned()
                } else {
                    n.to_owned()
                }
            })
            .unwrap();
        assert_eq!(flipped.names().collect::<Vec<_>>(), ["b", "z"]);
    }
}
