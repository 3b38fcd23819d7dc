//! `doctor`'s checks of the keyring, the tokens and (with `--online`) each remote.

use std::time::Instant;

use super::{DoctorArgs, Report};
use crate::commands::Context;
use crate::error::Error;
use crate::keyring;
use crate::project::Project;
use crate::remote::Level;
use crate::shell::Shell;

/// `opened` is `None` when the keyring is turned off.
pub(super) fn keyring_check(
    opened: Option<&Result<keyring::Opened, keyring::NoKeyring>>,
    report: &mut Report,
) {
    let Some(opened) = opened else {
        report.warn(
            "keyring",
            "turned off (--keyring none or SYSTEMPROMPT_SECRETS_KEYRING=none)",
            "use `--keyring auto` to keep tokens in the OS keyring",
        );
        return;
    };
    match opened {
        Ok(opened) => report.pass("keyring", format!("{} works", opened.store.name())),
        Err(e) => {
            report.warn(
                "keyring",
                e.to_string().replace('\n', ";"),
                e.help().as_deref().unwrap_or("start an OS keyring"),
            );
        }
    }
}

pub(super) fn tokens(
    project: Option<&Project>,
    store: Option<&std::sync::Arc<dyn keyring::CredentialStore>>,
    report: &mut Report,
) {
    for check in crate::remote::token_checks(project, store) {
        match check.level {
            Level::Pass => report.pass("token", check.message),
            Level::Warn => report.warn("token", check.message, check.fix),
            Level::Fail => report.fail("token", check.message, check.fix),
        }
    }
}

/// Asks each configured remote a read-only question: the cloud for the tenant's names, OpenBao
/// for the profile path's metadata.
pub(super) fn online(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    args: &DoctorArgs,
    report: &mut Report,
) {
    let mut asked = std::collections::BTreeSet::new();
    for name in &project.profiles.names {
        let Ok(profile) = project.profiles.open(name) else {
            continue;
        };
        let store = match ctx.remote(shell, project, &profile, &args.remote) {
            Ok(store) => store,
            // Missing configuration (no tenant, no address): nothing to ask.
            Err(e @ Error::Usage { .. }) => {
                report.warn(
                    "online",
                    format!("profile `{name}`: {e}, nothing to ask"),
                    e.hint().unwrap_or_default(),
                );
                continue;
            }
            Err(e) => {
                remote_failure(report, &format!("profile `{name}`"), &e);
                continue;
            }
        };
        let what = store.describe();
        if !asked.insert(what.clone()) {
            continue;
        }
        let started = Instant::now();
        let answered = match store.probe() {
            Ok(answer) => {
                report.pass(
                    "online",
                    format!(
                        "{what}: answered in {} ms ({answer})",
                        started.elapsed().as_millis()
                    ),
                );
                true
            }
            Err(e) => {
                remote_failure(report, &what, &e);
                false
            }
        };
        if profile.yaml.source() == crate::profile::SecretSource::Vault {
            // What the app's own login may do, even when the probe was refused.
            access(&profile, store.as_ref(), report);
            if answered {
                boot_document(project, &profile, store.as_ref(), report);
            }
        }
    }
}

/// For a profile that boots from Vault: whether the token (the app's own login, which opening the
/// store just did) may read each document the app reads (`sys/capabilities-self`).
fn access(
    profile: &crate::profile::Profile,
    store: &dyn crate::remote::RemoteStore,
    report: &mut Report,
) {
    let paths = match store.access() {
        Ok(paths) => paths,
        Err(e) => {
            remote_failure(report, &format!("profile `{}`", profile.name), &e);
            return;
        }
    };
    for (path, caps) in paths {
        let may_read = caps.iter().any(|c| c == "read" || c == "root");
        let shown = if caps.is_empty() {
            "none".to_owned()
        } else {
            caps.join(", ")
        };
        if may_read {
            report.pass(
                "online",
                format!(
                    "profile `{}`: the token may read {path} ({shown})",
                    profile.name
                ),
            );
        } else {
            report.fail(
                "online",
                format!(
                    "profile `{}`: the token may not read {path} (capabilities: {shown}); the app could not boot",
                    profile.name
                ),
                format!("grant `read` on {path} to the policy of the app's login"),
            );
        }
    }
}

/// For a profile that boots from Vault: whether the document there has what the app refuses to
/// boot without (names only; values are never shown).
fn boot_document(
    project: &Project,
    profile: &crate::profile::Profile,
    store: &dyn crate::remote::RemoteStore,
    report: &mut Report,
) {
    let remote = match store.read() {
        Ok(r) => r,
        Err(e) => {
            remote_failure(report, &format!("profile `{}`", profile.name), &e);
            return;
        }
    };
    let (_, findings) = crate::commands::validate::remote_findings(
        store,
        &remote,
        profile,
        &project.settings(profile),
        crate::finding::Mode::Strict,
    );
    let refusals: Vec<String> = findings
        .into_iter()
        .filter(|f| f.refuses_boot)
        .map(|f| f.key.unwrap_or(f.code))
        .collect();
    if refusals.is_empty() {
        report.pass(
            "online",
            format!(
                "profile `{}`: the document at {} has everything the app boots with",
                profile.name,
                store.location()
            ),
        );
    } else {
        report.fail(
            "online",
            format!(
                "profile `{}`: the app would refuse to boot from {}: {}",
                profile.name,
                store.location(),
                refusals.join(", ")
            ),
            format!(
                "run `cargo systemprompt-secrets validate --profile {}` for each finding, then `sync`",
                crate::git::shell_quote(&profile.name)
            ),
        );
    }
}

pub(super) fn remote_failure(report: &mut Report, what: &str, e: &Error) {
    report.fail(
        "online",
        format!("{what}: {}", e.to_string().replace('\n', "; ")),
        e.hint()
            .as_deref()
            .unwrap_or("check the address, the network and the token"),
    );
}
