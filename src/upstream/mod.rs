//! Upstream systemprompt's facts, as data, in one home: what each release reads from
//! `secrets.json`, what its boot refuses, what `cloud deploy` sends, and which keys a running
//! server pins. A new upstream release that changes any of this is a new row of [`RELEASES`].
//!
//! Sources (each fact checked in upstream's own crates; `../shared/reference/`):
//! - 0.10 and earlier: `jwt_secret` (`models/secrets.rs` at v0.10.0).
//! - 0.11: `oauth_at_rest_pepper` replaces it (`systemprompt-models@0.34.0/src/secrets.rs`).
//! - 0.43: `SYSTEMPROMPT_DEPLOYMENT_HOST` and `POD_NAME` become system-managed
//!   (`systemprompt-cloud@0.77.0/src/constants.rs`).
//! - 0.44: `manifest_signing_secret_seed` required at boot, `signing_key_pem` on cloud boots
//!   (`systemprompt-config@0.77.0/src/bootstrap/secrets/mod.rs`, `validate_identity`).
//! - 0.50: `secrets.source: vault`. 0.62: `encryption_master_key` required (64 hex characters).
//! - 0.63: `secrets.validation` no longer consulted; the session's profile name must be valid.
//! - 0.67: pinned keys (`reload.rs`, `PINNED_SECRET_KEYS`), `secrets.source: external`.
//! - 0.70: `database_session_url`. 0.73: layered profiles.
//! - 0.75: `licence_signing_secret` when `licence.multi_tenant`; a `local_` tenant id is no longer
//!   a local trial (`cloud.rs`).

pub mod generation;

use std::fmt;

pub use semver::Version;

use generation::{Generation, JWT_SECRET, PEPPER};

/// The key 0.44+ requires at boot (standard base64 of 32 bytes, trimmed).
pub const SEED: &str = "manifest_signing_secret_seed";
/// The key 0.62+ requires at boot (hex of 32 bytes, either case, trimmed).
pub const MASTER_KEY: &str = "encryption_master_key";
/// The key 0.44+ requires on cloud boots (base64 of a PEM).
pub const SIGNING_KEY: &str = "signing_key_pem";
/// The key 0.75+ requires when `licence.multi_tenant` is on.
pub const LICENCE_SECRET: &str = "licence_signing_secret";

/// Keys `Secrets` names up to 0.10.
const KEYS_JWT: &[&str] = &[
    JWT_SECRET,
    "database_url",
    "anthropic",
    "openai",
    "gemini",
    "github",
];
/// Keys `Secrets` names from 0.11 (`systemprompt-models@0.34.0/src/secrets.rs`).
const KEYS_PEPPER: &[&str] = &[
    PEPPER,
    SEED,
    SIGNING_KEY,
    "database_url",
    "database_write_url",
    "external_database_url",
    "internal_database_url",
    "gemini",
    "anthropic",
    "openai",
    "github",
    "moonshot",
    "qwen",
];
/// 0.62 reads the master key (a custom key upstream, read by name).
const KEYS_062: &[&str] = &[
    PEPPER,
    SEED,
    SIGNING_KEY,
    MASTER_KEY,
    "database_url",
    "database_write_url",
    "external_database_url",
    "internal_database_url",
    "gemini",
    "anthropic",
    "openai",
    "github",
    "moonshot",
    "qwen",
];
/// 0.70 adds `database_session_url`.
const KEYS_070: &[&str] = &[
    PEPPER,
    SEED,
    SIGNING_KEY,
    MASTER_KEY,
    "database_url",
    "database_write_url",
    "database_session_url",
    "external_database_url",
    "internal_database_url",
    "gemini",
    "anthropic",
    "openai",
    "github",
    "moonshot",
    "qwen",
];
/// 0.75 reads `licence_signing_secret` (multi-tenant licences).
const KEYS_075: &[&str] = &[
    PEPPER,
    SEED,
    SIGNING_KEY,
    MASTER_KEY,
    LICENCE_SECRET,
    "database_url",
    "database_write_url",
    "database_session_url",
    "external_database_url",
    "internal_database_url",
    "gemini",
    "anthropic",
    "openai",
    "github",
    "moonshot",
    "qwen",
];

const URLS_CHECKED: &[&str] = &["database_url", "database_write_url"];
const URLS_CHECKED_070: &[&str] = &["database_url", "database_write_url", "database_session_url"];

const MANAGED_OLD: &[&str] = &["FLY_APP_NAME", "FLY_MACHINE_ID"];
const MANAGED_043: &[&str] = &[
    "SYSTEMPROMPT_DEPLOYMENT_HOST",
    "FLY_APP_NAME",
    "FLY_MACHINE_ID",
    "POD_NAME",
];

const PINNED_067: &[&str] = &[
    MASTER_KEY,
    PEPPER,
    SEED,
    SIGNING_KEY,
    "database_url",
    "database_write_url",
    JWT_SECRET,
];
const PINNED_070: &[&str] = &[
    MASTER_KEY,
    PEPPER,
    SEED,
    SIGNING_KEY,
    "database_url",
    "database_write_url",
    "database_session_url",
    JWT_SECRET,
];

/// What one range of upstream releases does with secrets: from [`Release::since`] up to the next
/// row's.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// The first release these facts hold for (`major`, `minor`, `patch`).
    pub since: (u64, u64, u64),
    /// The layout of `secrets.json`.
    pub generation: Generation,
    /// The keys upstream's `Secrets` reads by name; any other key is a custom one.
    pub known_keys: &'static [&'static str],
    /// Keys the boot refuses to start without, besides the parse's own two.
    pub boot_required: &'static [&'static str],
    /// `signing_key_pem` is required on `target: cloud` (and deployment-host) boots.
    pub signing_key_on_cloud: bool,
    /// `licence_signing_secret` is required when `licence.multi_tenant` is on.
    pub licence_secret_multi_tenant: bool,
    /// The database URLs the boot requires to start `postgres://` or `postgresql://`.
    pub checked_database_urls: &'static [&'static str],
    /// Names `cloud deploy` never pushes (case-insensitive).
    pub system_managed: &'static [&'static str],
    /// Keys a running server will not reload: a new value needs a restart.
    pub pinned: &'static [&'static str],
    /// A tenant id starting `local_` is a local trial (nothing to push).
    pub local_tenant_prefix: bool,
    /// `secrets.validation` is read at all (it never made a bad file boot).
    pub validation_consulted: bool,
    /// `secrets.source: vault` exists.
    pub vault_source: bool,
    /// The session record's `active_profile_name` must be a valid profile name, or every CLI
    /// call fails (`systemprompt-identifiers@0.77.0/src/profile.rs`).
    pub session_name_checked: bool,
}

/// 0.10 and earlier: `jwt_secret`.
const R000: Release = Release {
    since: (0, 0, 0),
    generation: Generation::JwtSecret,
    known_keys: KEYS_JWT,
    boot_required: &[],
    signing_key_on_cloud: false,
    licence_secret_multi_tenant: false,
    checked_database_urls: &["database_url"],
    system_managed: MANAGED_OLD,
    pinned: &[],
    local_tenant_prefix: true,
    validation_consulted: true,
    vault_source: false,
    session_name_checked: false,
};
/// 0.11: the pepper replaces `jwt_secret`; the seed, signing key and more database URLs.
const R011: Release = Release {
    since: (0, 11, 0),
    generation: Generation::Pepper,
    known_keys: KEYS_PEPPER,
    checked_database_urls: URLS_CHECKED,
    ..R000
};
/// 0.43: deploy drops the deployment host and the pod name too.
const R043: Release = Release {
    since: (0, 43, 0),
    system_managed: MANAGED_043,
    ..R011
};
/// 0.44: the seed is required at boot, the signing key on cloud boots.
const R044: Release = Release {
    since: (0, 44, 0),
    boot_required: &[SEED],
    signing_key_on_cloud: true,
    ..R043
};
/// 0.50: `secrets.source: vault`.
const R050: Release = Release {
    since: (0, 50, 0),
    vault_source: true,
    ..R044
};
/// 0.62: the master key is required at boot.
const R062: Release = Release {
    since: (0, 62, 0),
    known_keys: KEYS_062,
    boot_required: &[SEED, MASTER_KEY],
    ..R050
};
/// 0.63: `secrets.validation` is not read; the session's profile name is checked.
const R063: Release = Release {
    since: (0, 63, 0),
    validation_consulted: false,
    session_name_checked: true,
    ..R062
};
/// 0.67: pinned keys.
const R067: Release = Release {
    since: (0, 67, 0),
    pinned: PINNED_067,
    ..R063
};
/// 0.70: `database_session_url`.
const R070: Release = Release {
    since: (0, 70, 0),
    known_keys: KEYS_070,
    checked_database_urls: URLS_CHECKED_070,
    pinned: PINNED_070,
    ..R067
};
/// 0.75: the licence secret; `cloud.provider` replaces the `local_` tenant prefix.
const R075: Release = Release {
    since: (0, 75, 0),
    known_keys: KEYS_075,
    licence_secret_multi_tenant: true,
    local_tenant_prefix: false,
    ..R070
};

/// Every boundary, oldest first: each row is the one before it with what its release changed.
/// The facts of a version are those of the last row at or before it.
pub const RELEASES: &[Release] = &[R000, R011, R043, R044, R050, R062, R063, R067, R070, R075];

impl Release {
    /// The facts for `version`.
    #[must_use]
    pub fn of(version: &Version) -> &'static Release {
        let v = (version.major, version.minor, version.patch);
        RELEASES
            .iter()
            .rev()
            .find(|r| r.since <= v)
            .unwrap_or(&RELEASES[0])
    }

    /// The facts assumed when the version is not known: the first release of `generation`, so
    /// that nothing a later release added is claimed (those become advice, see
    /// [`Release::latest`]).
    #[must_use]
    pub fn first_of(generation: Generation) -> &'static Release {
        RELEASES
            .iter()
            .find(|r| r.generation == generation)
            .unwrap_or(&RELEASES[0])
    }

    /// The newest release the table knows.
    #[must_use]
    pub fn latest() -> &'static Release {
        &RELEASES[RELEASES.len() - 1]
    }

    /// The key that holds the service's own secret, required by the parse with `database_url`.
    #[must_use]
    pub fn secret_key(&self) -> &'static str {
        self.generation.secret_key()
    }

    /// Whether upstream reads `key` by name.
    #[must_use]
    pub fn knows(&self, key: &str) -> bool {
        self.known_keys.contains(&key)
    }

    /// Whether `key` is one of the secrets file's typed fields, read under this exact spelling
    /// only: `Anthropic` is a custom key to upstream, not `anthropic`. The master key and the
    /// licence secret are custom keys read with `Secrets::get`, so their other case counts too.
    #[must_use]
    pub fn reads_exactly(&self, key: &str) -> bool {
        self.knows(key) && !matches!(key, MASTER_KEY | LICENCE_SECRET)
    }

    /// Whether `deploy` drops this name.
    #[must_use]
    pub fn is_system_managed(&self, name: &str) -> bool {
        self.system_managed
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    }

    /// Whether a running server pins `key` (a new value needs a restart).
    #[must_use]
    pub fn is_pinned(&self, key: &str) -> bool {
        self.pinned.contains(&key)
    }

    /// The first release of this row, as text (`0.44`).
    #[must_use]
    pub fn since_text(&self) -> String {
        format!("{}.{}", self.since.0, self.since.1)
    }

    /// The boot rules this release brings, for `validate -v`, `doctor` and `init`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "`{}` and `database_url` required",
            self.secret_key()
        )];
        if !self.boot_required.is_empty() {
            let since: Vec<String> = self
                .boot_required
                .iter()
                .map(|k| format!("{k} since {}", first_requiring(k)))
                .collect();
            parts.push(format!("required at boot: {}", since.join(", ")));
        }
        if self.signing_key_on_cloud {
            parts.push("signing_key_pem on `target: cloud`".to_owned());
        }
        if self.licence_secret_multi_tenant {
            parts.push("licence_signing_secret with `licence.multi_tenant`".to_owned());
        }
        if !self.pinned.is_empty() {
            parts.push(format!("{} keys pinned while running", self.pinned.len()));
        }
        parts.join("; ")
    }
}

/// The first release that requires `key` at boot, as text.
fn first_requiring(key: &str) -> String {
    RELEASES
        .iter()
        .find(|r| r.boot_required.contains(&key))
        .map_or_else(|| "?".to_owned(), Release::since_text)
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "systemprompt {}+: {}", self.since_text(), self.summary())
    }
}

/// What a profile says that changes upstream's boot requirements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootConditions {
    /// `target: cloud`: `signing_key_pem` is required (0.44+).
    pub cloud_target: bool,
    /// `licence.multi_tenant: true`: `licence_signing_secret` is required (0.75+).
    pub multi_tenant: bool,
}

impl Release {
    /// Every key this release's boot refuses to start without, for a profile with `conditions`:
    /// the parse's two, then the boot's, in upstream's order of checking.
    #[must_use]
    pub fn required_keys(&self, conditions: BootConditions) -> Vec<&'static str> {
        let mut keys = vec![self.secret_key(), "database_url"];
        keys.extend_from_slice(self.boot_required);
        if self.signing_key_on_cloud && conditions.cloud_target {
            keys.push(SIGNING_KEY);
        }
        if self.licence_secret_multi_tenant && conditions.multi_tenant {
            keys.push(LICENCE_SECRET);
        }
        keys
    }
}

/// One line naming the version the rules come from and what they bring, for `validate -v`,
/// `doctor` and `init`: "systemprompt 0.77.0 (Cargo.lock): … required at boot: …".
#[must_use]
pub fn describe(detected: &generation::Detected) -> String {
    let release = detected.release();
    match &detected.version {
        Some(v) if detected.version_known() => {
            format!("systemprompt {v} (Cargo.lock): {}", release.summary())
        }
        _ if detected.generation == generation::Generation::JwtSecret => format!(
            "systemprompt version unknown (no systemprompt crate in Cargo.lock): the rules of {} ({})",
            detected.generation.releases(),
            release.summary(),
        ),
        _ => format!(
            "systemprompt version unknown (no systemprompt crate in Cargo.lock): the rules of {} ({}); what {} and later require at boot is advice",
            detected.generation.releases(),
            release.summary(),
            RELEASES.iter().find(|r| !r.boot_required.is_empty()).map_or_else(String::new, Release::since_text)
        ),
    }
}

/// Parses a Cargo.lock version (`0.77.0`, `1.0.0-rc.1`).
#[must_use]
pub fn parse_version(text: &str) -> Option<Version> {
    Version::parse(text.trim()).ok()
}

/// Upstream's `Secrets::get` for a custom key: the exact name, else the name in the other case
/// (all lower when it has an upper-case letter, else all upper).
#[must_use]
pub fn custom_lookup_names(key: &str) -> [String; 2] {
    let other = if key.chars().any(char::is_uppercase) {
        key.to_lowercase()
    } else {
        key.to_uppercase()
    };
    [key.to_owned(), other]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(v: &str) -> &'static Release {
        Release::of(&parse_version(v).unwrap())
    }

    #[test]
    fn the_table_is_ordered_and_each_boundary_lands_on_its_row() {
        assert!(RELEASES.windows(2).all(|w| w[0].since < w[1].since));
        assert_eq!(at("0.10.9").generation, Generation::JwtSecret);
        assert_eq!(at("0.11.0").generation, Generation::Pepper);
        assert!(at("0.34.0").boot_required.is_empty());
        assert!(!at("0.42.9").is_system_managed("POD_NAME"));
        assert!(at("0.43.0").is_system_managed("pod_name"));
        assert_eq!(at("0.44.0").boot_required, &[SEED]);
        assert!(!at("0.49.0").vault_source && at("0.50.0").vault_source);
        assert_eq!(at("0.61.3").boot_required, &[SEED]);
        assert_eq!(at("0.62.0").boot_required, &[SEED, MASTER_KEY]);
        assert!(at("0.62.0").validation_consulted && !at("0.63.0").validation_consulted);
        assert!(!at("0.66.0").is_pinned(PEPPER) && at("0.67.0").is_pinned(PEPPER));
        assert!(!at("0.69.0").knows("database_session_url"));
        assert!(at("0.70.0")
            .checked_database_urls
            .contains(&"database_session_url"));
        assert!(at("0.74.0").local_tenant_prefix && !at("0.75.0").local_tenant_prefix);
        assert!(at("0.77.0").licence_secret_multi_tenant);
        assert!(std::ptr::eq(at("9.0.0"), Release::latest()));
        assert_eq!(Release::first_of(Generation::Pepper).since, (0, 11, 0));
    }

    #[test]
    fn the_summary_names_each_boot_rule_and_its_release() {
        let s = at("0.77.0").summary();
        assert!(
            s.contains("manifest_signing_secret_seed since 0.44")
                && s.contains("encryption_master_key since 0.62"),
            "{s}"
        );
        assert!(!at("0.34.0").summary().contains("required at boot"));
    }

    #[test]
    fn custom_keys_are_looked_up_in_the_other_case_too() {
        assert_eq!(
            custom_lookup_names("encryption_master_key")[1],
            "ENCRYPTION_MASTER_KEY"
        );
        assert_eq!(custom_lookup_names("Mixed_Key")[1], "mixed_key");
    }
}
