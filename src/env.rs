//! Read-only access to environment variables, injectable for tests and recorded for build scripts.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// A read-only view of environment variables. Nothing in this crate mutates the real environment.
pub trait Env {
    /// The value of `name`, if set and valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests and for `--no-env`-style isolation.
#[derive(Debug, Default, Clone)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    /// A map environment from `(name, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Wraps another [`Env`] and remembers every name that was looked up (for `rerun-if-env-changed`).
#[derive(Debug, Default)]
pub struct RecordingEnv<E> {
    inner: E,
    consulted: RefCell<BTreeSet<String>>,
}

impl<E: Env> RecordingEnv<E> {
    /// Records the lookups made through `inner`.
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            consulted: RefCell::default(),
        }
    }

    /// Every name looked up so far, sorted.
    pub fn consulted(&self) -> Vec<String> {
        self.consulted.borrow().iter().cloned().collect()
    }
}

impl<E: Env> Env for RecordingEnv<E> {
    fn var(&self, name: &str) -> Option<String> {
        self.consulted.borrow_mut().insert(name.to_owned());
        self.inner.var(name)
    }
}
