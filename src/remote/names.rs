//! The naming rules every remote shares: names the platform or the deploy pipeline owns, and
//! the one name that must never be synced.

use std::fmt;

/// Names the platform manages itself in the newest release (each release's own list is
/// [`crate::upstream::Release::system_managed`]); never set by hand, removed by `cleanup`.
pub const SYSTEM_MANAGED: &[&str] =
    crate::upstream::RELEASES[crate::upstream::RELEASES.len() - 1].system_managed;
/// Names the deploy pipeline owns; never pushed or pruned.
pub const DEPLOY_OWNED: &[&str] = &[
    "SYSTEMPROMPT_API_TOKEN",
    "SYSTEMPROMPT_USER_EMAIL",
    "SYSTEMPROMPT_CLI_REMOTE",
    "SYSTEMPROMPT_PROFILE",
];
/// A name that must never be synced: a stale value misdirects the deployed service.
pub const STALE_API_URL: &str = "SYSTEMPROMPT_API_URL";
/// The comma list of custom names the runtime reads (`cloud/secrets_env.rs`); without it the
/// deployed service never sees a custom secret.
pub const CUSTOM_SECRETS: &str = "SYSTEMPROMPT_CUSTOM_SECRETS";
/// Names deploy writes that a tenant breaks without: never deleted by `--prune`, `cleanup`, or
/// `unset` without `--force`.
pub const DEPLOY_KEPT: &[&str] = &["SIGNING_KEY_PEM", CUSTOM_SECRETS];
/// The names deploy does not list in [`CUSTOM_SECRETS`] (`is_standard_env_var`).
pub const STANDARD_NAMES: &[&str] = &[
    "OAUTH_AT_REST_PEPPER",
    "DATABASE_URL",
    "GEMINI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GITHUB_TOKEN",
];

/// The tenant name deploy gives a secrets.json key (`to_env_var_name`): the three providers get
/// `*_API_KEY`, `internal_database_url` becomes `DATABASE_URL` (and then `database_url` is not
/// sent: `None`), every other key is upper-cased.
#[must_use]
pub fn deploy_name(key: &str, has_internal_database_url: bool) -> Option<String> {
    Some(match key {
        "gemini" => "GEMINI_API_KEY".to_owned(),
        "anthropic" => "ANTHROPIC_API_KEY".to_owned(),
        "openai" => "OPENAI_API_KEY".to_owned(),
        "internal_database_url" => "DATABASE_URL".to_owned(),
        "database_url" if has_internal_database_url => return None,
        other => other.to_uppercase(),
    })
}

/// The value of [`CUSTOM_SECRETS`] for a push of `names`: every name that is not standard, sorted
/// and comma-separated; `None` when there is none.
#[must_use]
pub fn custom_secrets<'a>(names: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let custom: std::collections::BTreeSet<&str> = names
        .into_iter()
        .map(String::as_str)
        .filter(|n| !STANDARD_NAMES.contains(n) && *n != CUSTOM_SECRETS)
        .collect();
    (!custom.is_empty()).then(|| custom.into_iter().collect::<Vec<_>>().join(","))
}

/// The [`CUSTOM_SECRETS`] value an environment of the app (`run`, `export --format docker-env`)
/// needs for `names`, as deploy sets it: the service's own secret of `release` is not custom, and
/// a list already among `names` is kept (`None` then, as when nothing is custom).
#[must_use]
pub fn env_custom_list<'a>(
    names: impl IntoIterator<Item = &'a String> + Clone,
    release: &crate::upstream::Release,
) -> Option<String> {
    if names.clone().into_iter().any(|n| n == CUSTOM_SECRETS) {
        return None;
    }
    let own = crate::keys::env_name(release.secret_key());
    custom_secrets(names.into_iter().filter(|n| **n != own))
}

/// Whether a tenant name belongs in [`CUSTOM_SECRETS`]: not one of the standard names, nor one
/// the platform or deploy owns (deploy lists only the names it maps from secrets.json).
#[must_use]
pub fn is_custom(name: &str) -> bool {
    !STANDARD_NAMES.contains(&name)
        && protected_name(name).is_none()
        && !DEPLOY_KEPT.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether a remote name must survive `--prune`, `cleanup` and a plain `unset`.
#[must_use]
pub fn kept_on_delete(name: &str) -> bool {
    protected_name(name).is_some() || DEPLOY_KEPT.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Why a name is not pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    /// Managed by the platform.
    SystemManaged,
    /// Owned by the deploy pipeline.
    DeployOwned,
    /// `SYSTEMPROMPT_API_URL`.
    ApiUrl,
    /// Null, empty or only whitespace locally.
    Empty,
    /// `database_url` when `internal_database_url` is there: deploy sends that one as
    /// `DATABASE_URL`.
    Shadowed,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::SystemManaged => "system-managed, set by the platform",
            Skip::DeployOwned => "owned by the deploy pipeline",
            Skip::ApiUrl => "must not be synced (a stale value misdirects the deployed service; `cleanup` removes it)",
            Skip::Empty => "empty or only whitespace locally: systemprompt reads it as absent (`cloud deploy` would push the spaces)",
            Skip::Shadowed => "internal_database_url is sent as DATABASE_URL instead, as `cloud deploy` does",
        })
    }
}

/// Whether a remote name is protected from pushes, and why (the newest release's
/// system-managed names).
#[must_use]
pub fn protected_name(name: &str) -> Option<Skip> {
    protected_name_in(name, crate::upstream::Release::latest())
}

/// Whether a remote name is protected from a push to a project on `release`, and why: that
/// release's system-managed names (what its `cloud deploy` drops), the deploy pipeline's own.
#[must_use]
pub fn protected_name_in(name: &str, release: &crate::upstream::Release) -> Option<Skip> {
    if release.is_system_managed(name) {
        Some(Skip::SystemManaged)
    } else if DEPLOY_OWNED.iter().any(|n| n.eq_ignore_ascii_case(name))
        || name.eq_ignore_ascii_case(CUSTOM_SECRETS)
    {
        Some(Skip::DeployOwned)
    } else if name.eq_ignore_ascii_case(STALE_API_URL) {
        Some(Skip::ApiUrl)
    } else {
        None
    }
}

/// Whether `cleanup` removes this remote name.
#[must_use]
pub fn needs_cleanup(name: &str) -> bool {
    matches!(
        protected_name(name),
        Some(Skip::SystemManaged | Skip::ApiUrl)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_are_case_insensitive() {
        assert_eq!(protected_name("fly_app_name"), Some(Skip::SystemManaged));
        assert_eq!(
            protected_name("SYSTEMPROMPT_PROFILE"),
            Some(Skip::DeployOwned)
        );
        assert_eq!(protected_name("SYSTEMPROMPT_API_URL"), Some(Skip::ApiUrl));
        assert_eq!(protected_name("ANTHROPIC_API_KEY"), None);
        assert!(needs_cleanup("FLY_MACHINE_ID") && needs_cleanup("systemprompt_api_url"));
        assert!(!needs_cleanup("SYSTEMPROMPT_API_TOKEN"));
        for kept in [
            "SIGNING_KEY_PEM",
            "systemprompt_custom_secrets",
            "FLY_APP_NAME",
        ] {
            assert!(kept_on_delete(kept), "{kept}");
            assert!(!needs_cleanup(kept) || kept == "FLY_APP_NAME");
        }
        assert!(!kept_on_delete("OLD_KEY"));
    }

    /// The table of upstream's `map_secrets_to_env_vars` (`cloud/secrets_env.rs`), key by key.
    #[test]
    fn deploy_mapping_follows_upstream() {
        let table: &[(&str, bool, Option<&str>)] = &[
            ("gemini", false, Some("GEMINI_API_KEY")),
            ("anthropic", false, Some("ANTHROPIC_API_KEY")),
            ("openai", false, Some("OPENAI_API_KEY")),
            ("oauth_at_rest_pepper", false, Some("OAUTH_AT_REST_PEPPER")),
            ("database_url", false, Some("DATABASE_URL")),
            ("database_url", true, None),
            ("internal_database_url", true, Some("DATABASE_URL")),
            (
                "external_database_url",
                false,
                Some("EXTERNAL_DATABASE_URL"),
            ),
            ("database_write_url", false, Some("DATABASE_WRITE_URL")),
            ("github", false, Some("GITHUB")),
            ("moonshot", false, Some("MOONSHOT")),
            ("qwen", false, Some("QWEN")),
            ("signing_key_pem", false, Some("SIGNING_KEY_PEM")),
            (
                "manifest_signing_secret_seed",
                false,
                Some("MANIFEST_SIGNING_SECRET_SEED"),
            ),
            ("moltbook_builder", false, Some("MOLTBOOK_BUILDER")),
            ("MixedCase", false, Some("MIXEDCASE")),
            ("jwt_secret", false, Some("JWT_SECRET")),
        ];
        for (key, internal, want) in table {
            assert_eq!(
                deploy_name(key, *internal).as_deref(),
                *want,
                "{key} {internal}"
            );
        }
        let names: Vec<String> = [
            "OAUTH_AT_REST_PEPPER",
            "DATABASE_URL",
            "GITHUB",
            "ANTHROPIC_API_KEY",
            "MOLTBOOK_BUILDER",
            "GITHUB_TOKEN",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            custom_secrets(&names).as_deref(),
            Some("GITHUB,MOLTBOOK_BUILDER")
        );
        assert_eq!(custom_secrets(&names[..2]), None);
    }
}
