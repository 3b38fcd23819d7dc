//! The naming rules every remote shares: names the platform or the deploy pipeline owns, and
//! the one name that must never be synced.

use std::fmt;

/// Names the platform manages itself; never pushed, removed by `cleanup`.
pub const SYSTEM_MANAGED: &[&str] = &["FLY_APP_NAME", "FLY_MACHINE_ID"];
/// Names the deploy pipeline owns; never pushed or pruned.
pub const DEPLOY_OWNED: &[&str] = &[
    "SYSTEMPROMPT_API_TOKEN",
    "SYSTEMPROMPT_USER_EMAIL",
    "SYSTEMPROMPT_CLI_REMOTE",
    "SYSTEMPROMPT_PROFILE",
];
/// A name that must never be synced: a stale value misdirects the deployed service.
pub const STALE_API_URL: &str = "SYSTEMPROMPT_API_URL";

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
    /// Null or blank locally.
    Empty,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::SystemManaged => "system-managed, set by the platform",
            Skip::DeployOwned => "owned by the deploy pipeline",
            Skip::ApiUrl => "must not be synced (a stale value misdirects the deployed service; `cleanup` removes it)",
            Skip::Empty => "empty locally",
        })
    }
}

/// Whether a remote name is protected from pushes, and why.
#[must_use]
pub fn protected_name(name: &str) -> Option<Skip> {
    if SYSTEM_MANAGED.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        Some(Skip::SystemManaged)
    } else if DEPLOY_OWNED.iter().any(|n| n.eq_ignore_ascii_case(name)) {
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
    }
}
