//! `cleanup`: delete remote names that must not be there — `SYSTEMPROMPT_API_URL` and system-managed names.

use serde_json::json;

use super::cloud::{confirm, log_requests, plan_group};
use super::Context;
use crate::cli::{CleanupArgs, Format};
use crate::error::Error;
use crate::remote::needs_cleanup;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &CleanupArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let protected = project.config.is_protected(&profile.name);
    if project.config.for_profile(&profile.name).backend == crate::config::RemoteBackend::Openbao {
        return run_openbao(ctx, shell, &project, &profile, protected, args);
    }
    let cloud = ctx.cloud(shell, &project, &profile, &args.target)?;
    let targets: Vec<String> = cloud
        .client
        .list()?
        .into_iter()
        .filter(|n| needs_cleanup(n))
        .collect();
    if targets.is_empty() {
        shell.status("Clean", "No system-managed variables to clean up");
        log_requests(shell, &cloud.client);
        if args.target.format == Format::Json {
            shell.out(json!({"profile": profile.name, "tenant": cloud.tenant, "to_delete": [], "deleted": []}));
        }
        return Ok(());
    }
    shell.status(
        "Plan",
        format_args!("clean up tenant {} ({})", cloud.tenant, cloud.api_url),
    );
    plan_group(shell, "delete", &targets);
    let mut deleted = Vec::new();
    if confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Delete these names",
    )? {
        for (name, r) in targets
            .iter()
            .zip(cloud.client.delete_many(&targets, &|_| {}))
        {
            r?;
            deleted.push(name.clone());
        }
        shell.status(
            "Cleaned",
            format_args!(
                "{} name{} from tenant {}",
                deleted.len(),
                if deleted.len() == 1 { "" } else { "s" },
                cloud.tenant
            ),
        );
    }
    log_requests(shell, &cloud.client);
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "tenant": cloud.tenant, "to_delete": targets, "deleted": deleted}));
    }
    Ok(())
}

/// OpenBao: one check-and-set write without the names that must not be there.
fn run_openbao(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    protected: bool,
    args: &CleanupArgs,
) -> Result<(), Error> {
    let bao = ctx.openbao(shell, project, profile, &args.target)?;
    let targets: Vec<String> = bao
        .client
        .read(None)?
        .data
        .keys()
        .filter(|n| needs_cleanup(n))
        .cloned()
        .collect();
    let mut version = None;
    if targets.is_empty() {
        shell.status("Clean", "No system-managed variables to clean up");
    } else {
        shell.status("Plan", format_args!("clean up {}", bao.client.location()));
        plan_group(shell, "delete", &targets);
        if confirm(
            shell,
            &args.write,
            &profile.name,
            protected,
            "Delete these names",
        )? {
            version = bao.client.update(|map| {
                let before = map.len();
                map.retain(|k, _| !needs_cleanup(k));
                map.len() != before
            })?;
            shell.status(
                "Cleaned",
                format_args!("{} name(s) from {}", targets.len(), bao.client.location()),
            );
        }
    }
    super::cloud::log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "path": bao.client.location(), "to_delete": targets, "deleted": if version.is_some() { targets.clone() } else { Vec::new() }, "version": version}));
    }
    Ok(())
}
