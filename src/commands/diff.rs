//! `diff` (and `list --remote`): local names against remote names — local-only, remote-only, both.

use std::collections::BTreeSet;

use serde_json::json;

use super::bao::{compare, names, Compare};
use super::cloud::log_requests;
use super::Context;
use crate::cache::NoCache;
use crate::cli::{Format, RemoteArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keys;
use crate::layers::{self, LoadOptions};
use crate::shell::Shell;

const NOTE: &str = "the cloud API never returns values, so values cannot be compared here";

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &RemoteArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let settings = project.config.for_profile(&profile.name);
    let opts = LoadOptions {
        env: &ProcessEnv,
        use_env: false,
        env_files: Vec::new(),
        cache: &NoCache,
        project_id: &project.id,
    };
    let resolved = layers::load(&profile.secrets_path, &settings, &profile.name, &opts)?;
    // Local names as `sync` would push them: never the system-managed or deploy-owned ones.
    if settings.backend == crate::config::RemoteBackend::Openbao {
        return run_openbao(ctx, shell, &project, &profile, resolved, args);
    }
    let local: BTreeSet<String> = resolved
        .entries
        .keys()
        .map(|k| keys::env_name(k))
        .filter(|n| crate::remote::protected_name(n).is_none())
        .collect();

    let cloud = ctx.cloud(shell, &project, &profile, args)?;
    let remote: BTreeSet<String> = cloud.client.list()?.into_iter().collect();
    log_requests(shell, &cloud.client);
    let local_only: Vec<&String> = local.difference(&remote).collect();
    let remote_only: Vec<&String> = remote.difference(&local).collect();
    let both: Vec<&String> = local.intersection(&remote).collect();

    match args.format {
        Format::Json => shell.out(json!({
            "profile": profile.name,
            "tenant": cloud.tenant,
            "local_only": local_only,
            "remote_only": remote_only,
            "both": both,
            "values_compared": false,
            "note": NOTE,
        })),
        Format::Human => {
            shell.status(
                "Comparing",
                format_args!(
                    "profile `{}` with tenant {} ({})",
                    profile.name, cloud.tenant, cloud.api_url
                ),
            );
            let width = 12;
            for (label, names) in [
                ("local-only", &local_only),
                ("remote-only", &remote_only),
                ("both", &both),
            ] {
                if names.is_empty() {
                    shell.out(format_args!("{label:width$}  -"));
                } else {
                    shell.out(format_args!(
                        "{label:width$}  {}",
                        names
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            shell.info(format_args!("note: {NOTE}"));
        }
    }
    Ok(())
}

/// OpenBao: values are compared by keyed hash, never shown.
fn run_openbao(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    resolved: crate::layers::Resolved,
    args: &RemoteArgs,
) -> Result<(), Error> {
    let bao = ctx.openbao(shell, project, profile, args)?;
    let local: std::collections::BTreeMap<String, secrecy::SecretString> = resolved
        .entries
        .into_iter()
        .filter(|(k, _)| crate::remote::protected_name(&keys::env_name(k)).is_none())
        .map(|(k, r)| {
            (
                bao.remote_name(&k),
                r.definitions
                    .into_iter()
                    .next()
                    .expect("a definition")
                    .value,
            )
        })
        .collect();
    let snapshot = bao.client.read(None)?;
    let cmp = compare(&local, &snapshot.data);
    super::cloud::log_bao(shell, &bao.client);
    match args.format {
        Format::Json => {
            let keys: Vec<_> = cmp
                .iter()
                .map(|(k, c)| json!({"key": k, "status": c}))
                .collect();
            shell.out(json!({"profile": profile.name, "path": bao.client.location(), "version": snapshot.version, "values_compared": true, "keys": keys}));
        }
        Format::Human => {
            shell.status(
                "Comparing",
                format_args!(
                    "profile `{}` with {} (version {})",
                    profile.name,
                    bao.client.location(),
                    snapshot.version
                ),
            );
            for (label, which) in [
                ("equal", Compare::Equal),
                ("changed", Compare::Changed),
                ("local-only", Compare::LocalOnly),
                ("remote-only", Compare::RemoteOnly),
            ] {
                let n = names(&cmp, which);
                shell.out(format_args!(
                    "{label:12}  {}",
                    if n.is_empty() {
                        "-".to_owned()
                    } else {
                        n.join(", ")
                    }
                ));
            }
            shell.info("note: values are compared by a keyed hash (HMAC-SHA256 with a key drawn for this run) and never shown");
        }
    }
    Ok(())
}
