//! `cleanup`: delete remote names that must not be there — `SYSTEMPROMPT_API_URL` and system-managed names.

use clap::Args;
use serde_json::json;

use super::{confirm, log_requests, plan_group, with_target, Context};
use crate::cli::{Format, RemoteArgs, WriteArgs};
use crate::error::Error;
use crate::remote::{needs_cleanup, Edit};
use crate::shell::Shell;

/// Delete remote names that must not be there (SYSTEMPROMPT_API_URL, system-managed names)
#[allow(clippy::doc_markdown)] // Reason: this line is the command's help, where backticks show.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets cleanup --dry-run\n  cargo systemprompt-secrets cleanup --profile production --yes"
)]
pub struct CleanupArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &CleanupArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let protected = project.config.is_protected(&profile.name);
    let store = ctx.remote(shell, &project, &profile, &args.target)?;
    let remote = store.read()?;
    if remote.unlisted.is_some() {
        super::log_requests(shell, store.as_ref());
    }
    remote.listed("clean up")?;
    let targets: Vec<String> = remote
        .names()
        .filter(|n| needs_cleanup(n))
        .cloned()
        .collect();
    let mut applied = None;
    if targets.is_empty() {
        shell.status("Clean", "No system-managed variables to clean up");
    } else {
        shell.status("Plan", format_args!("clean up {}", store.location()));
        plan_group(shell, "delete", &targets);
        if confirm(
            shell,
            &args.write,
            &profile.name,
            protected,
            "Delete these names",
        )? {
            let edit = Edit {
                delete: targets.clone(),
                ..Edit::default()
            };
            let _signals = crate::interrupt::Defer::between_requests();
            let done = store.apply(&edit, None, &|| {})?;
            if let Some(stopped) = super::stopped_by_signal(
                done.removed.len() + done.was_not_set.len(),
                targets.len(),
                &done.not_attempted,
                "cleanup",
            ) {
                log_requests(shell, store.as_ref());
                if args.target.format == Format::Json {
                    shell.out(with_target(
                        store.as_ref(),
                        json!({"profile": profile.name, "to_delete": targets, "deleted": done.removed,
                               "not_deleted": done.not_attempted, "interrupted": crate::interrupt::received().map(crate::interrupt::name)}),
                    ));
                }
                return Err(stopped);
            }
            if let Some((_, e)) = done.failed.into_iter().next() {
                log_requests(shell, store.as_ref());
                return Err(e);
            }
            // A name that was gone by the time of its delete is cleaned up all the same.
            let mut deleted = done.removed;
            deleted.extend(done.was_not_set);
            deleted.sort();
            let n = deleted.len();
            shell.status(
                "Cleaned",
                format_args!(
                    "{n} name{} from {}",
                    if n == 1 { "" } else { "s" },
                    store.location()
                ),
            );
            applied = Some((deleted, done.version));
        }
    }
    log_requests(shell, store.as_ref());
    if args.target.format == Format::Json {
        let (deleted, version) = applied.unwrap_or_default();
        shell.out(with_target(
            store.as_ref(),
            json!({"profile": profile.name, "to_delete": targets, "deleted": deleted, "version": version}),
        ));
    }
    Ok(())
}
