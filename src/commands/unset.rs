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
