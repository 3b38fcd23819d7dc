//! `unset NAME…`: DELETE remote secrets, 8 in flight over pooled connections; 404 means "was not set".

use std::io::IsTerminal;

use serde_json::json;

use super::cloud::{confirm, log_requests, plan_group};
use super::Context;
use crate::cli::{Format, UnsetArgs};
use crate::error::Error;
use crate::remote::systemprompt::Deleted;
use crate::shell::Shell;

/// A progress bar is shown on a terminal from this many names up.
const PROGRESS_FROM: usize = 6;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &UnsetArgs) -> Result<(), Error> {
    let mut names: Vec<String> = args
        .names
        .iter()
        .map(|n| n.trim().to_ascii_uppercase())
        .collect();
    names.sort();
    names.dedup();
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let protected = project.config.is_protected(&profile.name);
    if project.config.for_profile(&profile.name).backend == crate::config::RemoteBackend::Openbao {
        return run_openbao(ctx, shell, &project, &profile, protected, &names, args);
    }
    let cloud = ctx.cloud(shell, &project, &profile, &args.target)?;
    shell.status(
        "Plan",
        format_args!(
            "delete {} name{} from tenant {} ({})",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            cloud.tenant,
            cloud.api_url
        ),
    );
    plan_group(shell, "delete", &names);
    let mut removed = Vec::new();
    let mut not_set = Vec::new();
    if confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Delete these names",
    )? {
        let bar = (names.len() >= PROGRESS_FROM
            && std::io::stderr().is_terminal()
            && shell.verbosity() > crate::shell::Verbosity::Quiet)
            .then(|| indicatif::ProgressBar::new(names.len() as u64).with_message("deleting"));
        let results = cloud.client.delete_many(&names, &|_| {
            if let Some(b) = &bar {
                b.inc(1);
            }
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let mut first_error = None;
        for (name, r) in names.iter().zip(results) {
            match r {
                Ok(Deleted::Removed) => removed.push(name.clone()),
                Ok(Deleted::WasNotSet) => not_set.push(name.clone()),
                Err(e) => {
                    shell.error(format_args!("{name}: {e}"));
                    first_error.get_or_insert(e);
                }
            }
        }
        if !not_set.is_empty() {
            shell.info(format_args!("note: was not set: {}", not_set.join(", ")));
        }
        shell.status(
            "Deleted",
            format_args!(
                "{} of {} name{} from tenant {}",
                removed.len(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                cloud.tenant
            ),
        );
        log_requests(shell, &cloud.client);
        if let Some(e) = first_error {
            return Err(e.into());
        }
    }
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "tenant": cloud.tenant, "dry_run": args.write.dry_run, "removed": removed, "was_not_set": not_set}));
    }
    Ok(())
}

/// OpenBao: one read-modify-write with check-and-set (retried on a conflict).
fn run_openbao(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    protected: bool,
    names: &[String],
    args: &UnsetArgs,
) -> Result<(), Error> {
    let bao = ctx.openbao(shell, project, profile, &args.target)?;
    let remote_names: Vec<String> = names
        .iter()
        .map(|n| bao.remote_name(&crate::keys::key_from_env(n)))
        .collect();
    shell.status(
        "Plan",
        format_args!(
            "delete {} from {}",
            remote_names.join(", "),
            bao.client.location()
        ),
    );
    let mut removed = Vec::new();
    let mut version = None;
    if confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Delete these names",
    )? {
        version = bao.client.update(|map| {
            removed = remote_names
                .iter()
                .filter(|n| map.remove(n.as_str()).is_some())
                .cloned()
                .collect();
            !removed.is_empty()
        })?;
        let not_set: Vec<&String> = remote_names
            .iter()
            .filter(|n| !removed.contains(n))
            .collect();
        if !not_set.is_empty() {
            shell.info(format_args!(
                "note: was not set: {}",
                not_set
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        shell.status(
            "Deleted",
            format_args!(
                "{} of {} from {}",
                removed.len(),
                remote_names.len(),
                bao.client.location()
            ),
        );
    }
    super::cloud::log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        let not_set: Vec<&String> = remote_names
            .iter()
            .filter(|n| !removed.contains(n))
            .collect();
        shell.out(json!({"profile": profile.name, "path": bao.client.location(), "dry_run": args.write.dry_run, "removed": removed, "was_not_set": if version.is_some() || !removed.is_empty() || !args.write.dry_run { not_set } else { Vec::new() }, "version": version}));
    }
    Ok(())
}
