//! The two layouts of systemprompt's `secrets.json`, and which one a project is on (the finer
//! version boundaries are rows of [`super::RELEASES`]).
//!
//! - systemprompt 0.10 and earlier: `jwt_secret` and `database_url` are required
//!   (systemprompt-cloud.md).
//! - systemprompt 0.11 and later (0.34 today): `oauth_at_rest_pepper` and `database_url`
//!   (`models/secrets.rs` upstream).
//!
//! The choice, first that answers: the manifest's `generation` key, the version of the
//! `systemprompt` crates in the workspace's `Cargo.lock`, the keys of the profile's
//! `secrets.json`, else the current generation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One generation of the `secrets.json` layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generation {
    /// systemprompt 0.10 and earlier: `jwt_secret`.
    JwtSecret,
    /// systemprompt 0.11 and later: `oauth_at_rest_pepper`.
    Pepper,
}

/// The key holding the service's own secret in the older generation.
pub const JWT_SECRET: &str = "jwt_secret";
/// The key holding the service's own secret in the current generation.
pub const PEPPER: &str = "oauth_at_rest_pepper";

impl Generation {
    /// The key that holds the service's own secret: `jwt_secret` or `oauth_at_rest_pepper`.
    #[must_use]
    pub fn secret_key(self) -> &'static str {
        match self {
            Self::JwtSecret => JWT_SECRET,
            Self::Pepper => PEPPER,
        }
    }

    /// The keys required when the manifest does not say otherwise.
    #[must_use]
    pub fn required(self) -> [&'static str; 2] {
        [self.secret_key(), "database_url"]
    }

    /// The keys upstream knows in this generation's first release.
    #[must_use]
    pub fn known_keys(self) -> &'static [&'static str] {
        super::Release::first_of(self).known_keys
    }

    /// Whether upstream reads `key` in this generation.
    #[must_use]
    pub fn knows(self, key: &str) -> bool {
        self.known_keys().contains(&key)
    }

    /// The AI provider keys, one of which a project is expected to have (`has_ai_provider`).
    #[must_use]
    pub fn ai_providers(self) -> &'static [&'static str] {
        match self {
            Self::JwtSecret => &["anthropic", "openai", "gemini"],
            Self::Pepper => &["anthropic", "openai", "gemini", "moonshot", "qwen"],
        }
    }

    /// The systemprompt releases of this generation, for messages.
    #[must_use]
    pub fn releases(self) -> &'static str {
        match self {
            Self::JwtSecret => "systemprompt 0.10 and earlier",
            Self::Pepper => "systemprompt 0.11 and later",
        }
    }

    /// The generation of a systemprompt release `major.minor[.patch]`.
    #[must_use]
    pub fn of_version(version: &str) -> Option<Self> {
        let mut parts = version.trim().split(['.', '-', '+']);
        let major: u64 = parts.next()?.parse().ok()?;
        let minor: u64 = parts.next()?.parse().ok()?;
        Some(if major == 0 && minor <= 10 {
            Self::JwtSecret
        } else {
            Self::Pepper
        })
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the `{}` generation ({})",
            self.secret_key(),
            self.releases()
        )
    }
}

/// What decided the generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Reason {
    /// The manifest's `generation` key.
    Manifest,
    /// The `systemprompt` crate version in `Cargo.lock`.
    Lockfile {
        /// The crate.
        package: String,
        /// Its version.
        version: String,
    },
    /// A key of the profile's `secrets.json`.
    SecretsFile {
        /// The key that decided.
        key: String,
    },
    /// A key of the profile's secrets cached in the OS keyring (when there is no secrets.json).
    KeyringCache {
        /// The key that decided.
        key: String,
    },
    /// Nothing said otherwise: the current generation.
    Default,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manifest => f.write_str("`generation` in the manifest"),
            Self::Lockfile { package, version } => {
                write!(f, "Cargo.lock has {package} {version}")
            }
            Self::SecretsFile { key } => write!(f, "secrets.json has `{key}`"),
            Self::KeyringCache { key } => {
                write!(f, "there is no secrets.json, and its keyring cache has `{key}`")
            }
            Self::Default => f.write_str(
                "no systemprompt crate in Cargo.lock and no `jwt_secret` or `oauth_at_rest_pepper` in secrets.json: the current generation",
            ),
        }
    }
}

/// A generation and why, with the exact systemprompt version when `Cargo.lock` names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    /// The generation.
    pub generation: Generation,
    /// Why.
    #[serde(flatten)]
    pub reason: Reason,
    /// The systemprompt version in `Cargo.lock`, which picks upstream's rules
    /// ([`super::Release::of`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<super::Version>,
}

impl Detected {
    /// A generation fixed by the caller (tests, the build-script library's defaults).
    #[must_use]
    pub fn fixed(generation: Generation) -> Self {
        Self {
            generation,
            reason: Reason::Manifest,
            version: None,
        }
    }

    /// The same, on an exact systemprompt release (tests, the build-script library).
    #[must_use]
    pub fn at_version(version: &str) -> Self {
        let version = super::parse_version(version);
        let generation = version
            .as_ref()
            .map_or(Generation::Pepper, |v| super::Release::of(v).generation);
        Self {
            generation,
            reason: Reason::Manifest,
            version,
        }
    }

    /// Upstream's facts for this project: those of the exact version when `Cargo.lock` names one
    /// of this generation, else those of the generation's first release (nothing later is
    /// claimed; see [`Detected::version_known`]).
    #[must_use]
    pub fn release(&self) -> &'static super::Release {
        match &self.version {
            Some(v) if super::Release::of(v).generation == self.generation => super::Release::of(v),
            _ => super::Release::first_of(self.generation),
        }
    }

    /// The keys `init` generates, as this release's `admin setup` does, in its order: the service's
    /// secret, then (0.62+) the master key, (0.44+) the seed and the signing key. Without a known
    /// version, the pepper generation gets the newest release's set: every release loads it.
    #[must_use]
    pub fn setup_keys(&self) -> Vec<&'static str> {
        let release = if self.version_known() || self.generation == Generation::JwtSecret {
            self.release()
        } else {
            super::Release::latest()
        };
        let mut keys = vec![release.secret_key()];
        for key in [super::MASTER_KEY, super::SEED] {
            if release.boot_required.contains(&key) {
                keys.push(key);
            }
        }
        if release.signing_key_on_cloud {
            keys.push(super::SIGNING_KEY);
        }
        keys
    }

    /// Whether the rules come from an exact version.
    #[must_use]
    pub fn version_known(&self) -> bool {
        self.version
            .as_ref()
            .is_some_and(|v| super::Release::of(v).generation == self.generation)
    }
}

impl fmt::Display for Detected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.generation, self.reason)
    }
}

/// A systemprompt crate found in a `Cargo.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedCrate {
    /// The package name (`systemprompt` or `systemprompt-…`).
    pub package: String,
    /// Its version.
    pub version: String,
}

/// The systemprompt crate that decides a lock file's generation: `systemprompt` itself, else the
/// highest version of an upstream `systemprompt-*` crate from a registry or git (workspace members
/// named `systemprompt-…` have no `source` and do not count).
#[must_use]
pub fn locked_crate(lock: &str) -> Option<LockedCrate> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
        version: String,
        source: Option<String>,
    }
    let lock: Lock = toml::from_str(lock).ok()?;
    let key = |v: &str| -> Vec<u64> {
        v.split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let upstream = |p: &&Package| p.source.is_some() && p.name.starts_with("systemprompt");
    let best = lock
        .package
        .iter()
        .filter(upstream)
        .filter(|p| p.name == "systemprompt")
        .max_by_key(|p| key(&p.version))
        .or_else(|| {
            lock.package
                .iter()
                .filter(upstream)
                .filter(|p| p.name.starts_with("systemprompt-"))
                .max_by_key(|p| key(&p.version))
        })?;
    Some(LockedCrate {
        package: best.name.clone(),
        version: best.version.clone(),
    })
}

/// The keys of a secrets file, for [`detect`]; nothing when it cannot be read (the real load
/// reports why). Only the names are read: the values are skipped unparsed and never held.
#[must_use]
// A map of ignored values is how serde reads an object's keys alone.
#[allow(clippy::zero_sized_map_values)]
pub fn file_keys(path: &std::path::Path) -> Vec<String> {
    let Ok(bytes) = crate::regular_file::read(path, crate::secrets_file::MAX_SIZE) else {
        return Vec::new();
    };
    let bytes = secrecy::zeroize::Zeroizing::new(bytes);
    serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(&bytes)
        .map(|keys| keys.into_keys().collect())
        .unwrap_or_default()
}

/// The keys of a secrets file that tell the generation ([`PEPPER`] and [`JWT_SECRET`], in any
/// case), for [`detect`]; nothing when it cannot be read (the real load reports why). The other
/// names are looked at and let go; values are skipped unparsed.
#[must_use]
pub fn marker_keys(path: &std::path::Path) -> Vec<&'static str> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

    /// One name of the file: a marker, or `None`.
    struct Marker(Option<&'static str>);
    impl<'de> Deserialize<'de> for Marker {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Marker;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a key")
                }
                fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Marker, E> {
                    Ok(Marker(
                        [PEPPER, JWT_SECRET]
                            .into_iter()
                            .find(|m| key.eq_ignore_ascii_case(m)),
                    ))
                }
            }
            d.deserialize_str(V)
        }
    }
    struct Markers;
    impl<'de> Visitor<'de> for Markers {
        type Value = Vec<&'static str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = Vec::new();
            while let Some(Marker(marker)) = map.next_key()? {
                map.next_value::<IgnoredAny>()?;
                found.extend(marker.filter(|m| !found.contains(m)));
            }
            Ok(found)
        }
    }
    let Ok(bytes) = crate::regular_file::read(path, crate::secrets_file::MAX_SIZE) else {
        return Vec::new();
    };
    // The bytes hold the values too: wiped when dropped.
    let bytes = secrecy::zeroize::Zeroizing::new(bytes);
    serde_json::Deserializer::from_slice(&bytes)
        .deserialize_map(Markers)
        .unwrap_or_default()
}

/// The systemprompt crate in `<workspace_root>/Cargo.lock`, if any.
#[must_use]
pub fn read_lock(workspace_root: &std::path::Path) -> Option<LockedCrate> {
    let bytes =
        crate::regular_file::read(&workspace_root.join("Cargo.lock"), 64 * 1024 * 1024).ok()?;
    locked_crate(std::str::from_utf8(&bytes).ok()?)
}

/// Decides the generation: the manifest's pin, the lock file's crate, the secrets file's keys
/// (`oauth_at_rest_pepper` wins over `jwt_secret` when both are there), else the current one.
#[must_use]
pub fn detect<'a>(
    pinned: Option<Generation>,
    locked: Option<&LockedCrate>,
    file_keys: impl IntoIterator<Item = &'a str>,
) -> Detected {
    let version = locked.and_then(|c| super::parse_version(&c.version));
    if let Some(generation) = pinned {
        return Detected {
            generation,
            reason: Reason::Manifest,
            version,
        };
    }
    if let Some(c) = locked {
        if let Some(generation) = Generation::of_version(&c.version) {
            return Detected {
                generation,
                reason: Reason::Lockfile {
                    package: c.package.clone(),
                    version: c.version.clone(),
                },
                version,
            };
        }
    }
    let mut jwt = false;
    for key in file_keys {
        if key.eq_ignore_ascii_case(PEPPER) {
            return Detected {
                generation: Generation::Pepper,
                reason: Reason::SecretsFile {
                    key: PEPPER.to_owned(),
                },
                version,
            };
        }
        jwt |= key.eq_ignore_ascii_case(JWT_SECRET);
    }
    if jwt {
        Detected {
            generation: Generation::JwtSecret,
            reason: Reason::SecretsFile {
                key: JWT_SECRET.to_owned(),
            },
            version,
        }
    } else {
        Detected {
            generation: Generation::Pepper,
            reason: Reason::Default,
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_keys_are_found_in_any_case_and_the_rest_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            marker_keys(&path)
        };
        assert_eq!(
            read(r#"{"a": "1", "JWT_Secret": {"nested": [1, 2]}, "b\u0022": null}"#),
            [JWT_SECRET]
        );
        assert_eq!(
            read(r#"{"jwt_secret": "x", "OAUTH_AT_REST_PEPPER": "y", "jwt_secret": "z"}"#),
            [JWT_SECRET, PEPPER]
        );
        assert!(read(r#"{"anthropic": "sk"}"#).is_empty());
        assert!(
            read(r#"{"jwt_secret": "x", "#).is_empty(),
            "not JSON: the load says why"
        );
        assert!(read("[1]").is_empty());
        assert!(marker_keys(&dir.path().join("missing.json")).is_empty());
    }

    const LOCK: &str = r#"
version = 4

[[package]]
name = "systemprompt"
version = "0.34.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "systemprompt-models"
version = "0.34.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "systemprompt-web-extension"
version = "9.0.0"
"#;

    #[test]
    fn versions_map_to_generations() {
        for (v, g) in [
            ("0.10.0", Generation::JwtSecret),
            ("0.10.9", Generation::JwtSecret),
            ("0.1.2", Generation::JwtSecret),
            ("0.11.0", Generation::Pepper),
            ("0.34.0", Generation::Pepper),
            ("1.0.0-rc.1", Generation::Pepper),
        ] {
            assert_eq!(Generation::of_version(v), Some(g), "{v}");
        }
        assert_eq!(Generation::of_version("x"), None);
    }

    #[test]
    fn lock_file_names_the_upstream_crate_not_a_member() {
        let c = locked_crate(LOCK).unwrap();
        assert_eq!(
            (c.package.as_str(), c.version.as_str()),
            ("systemprompt", "0.34.0")
        );
        let members_only = LOCK.replace("name = \"systemprompt\"\n", "name = \"other\"\n");
        let c = locked_crate(&members_only).unwrap();
        assert_eq!(
            c.package, "systemprompt-models",
            "a member without source does not count"
        );
        assert_eq!(locked_crate("version = 4\n"), None);
        assert_eq!(locked_crate("not toml ["), None);
    }

    #[test]
    fn detection_order() {
        let old = LockedCrate {
            package: "systemprompt".into(),
            version: "0.10.2".into(),
        };
        let d = detect(Some(Generation::Pepper), Some(&old), ["jwt_secret"]);
        assert_eq!(
            (d.generation, d.reason),
            (Generation::Pepper, Reason::Manifest)
        );
        let d = detect(None, Some(&old), ["oauth_at_rest_pepper"]);
        assert_eq!(d.generation, Generation::JwtSecret);
        assert!(
            d.to_string().contains("Cargo.lock has systemprompt 0.10.2"),
            "{d}"
        );
        let d = detect(None, None, ["jwt_secret", "oauth_at_rest_pepper"]);
        assert_eq!(d.generation, Generation::Pepper);
        let d = detect(None, None, ["database_url", "jwt_secret"]);
        assert_eq!(d.generation, Generation::JwtSecret);
        let d = detect(None, None, ["database_url"]);
        assert_eq!(
            (d.generation, d.reason),
            (Generation::Pepper, Reason::Default)
        );
    }
}
