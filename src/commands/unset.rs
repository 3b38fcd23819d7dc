//! `unset NAME…`: delete remote secrets; a name that was not set is not an error.

use clap::Args;
use serde_json::json;

use super::{confirm, log_requests, plan_group, stopped_by_signal, with_target, Context};
use crate::cli::{Format, RemoteArgs, WriteArgs};
use crate::error::Error;
use crate::remote::plan::CustomList;
use crate::remote::{kept_on_delete, Edit, CUSTOM_SECRETS};
use crate::shell::Shell;

/// Delete remote secrets (a name that was not set is not an error)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets unset OLD_API_KEY\n  cargo systemprompt-secrets unset A B C --profile production --yes"
)]
pub struct UnsetArgs {
    /// Names to delete (upper-cased)
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    /// Also delete names that the platform or upstream's deploy owns (the signing key, the list
    /// of custom names, the profile name): the deployed service may break
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// A progress bar is shown on a terminal from this many names up.
const PROGRESS_FROM: usize = 6;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &UnsetArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let protected = project.config.is_protected(&profile.name);
    check_names(&args.names)?;
    let store = ctx.remote(shell, &project, &profile, &args.target)?;
    let mut names: Vec<String> = args.names.iter().map(|n| store.remote_name_of(n)).collect();
    names.sort();
    names.dedup();
    if !args.force {
        names = without_owned(shell, names)?;
    }
    shell.status(
        "Plan",
        format_args!(
            "delete {} name{} from {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            store.location()
        ),
    );
    plan_group(shell, "delete", &names);
    // A store with deploy naming lists the custom names it holds: deleted ones leave the list.
    let listing = listing(shell, &project, &profile.name, store.as_ref(), &names)?;
    let mut applied = None;
    if confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Delete these names",
    )? {
        let edit = Edit {
            delete: names.clone(),
            ..Edit::default()
        };
        // Ctrl-C or SIGTERM: the deletes in flight finish, no more start, and the report says
        // which names were not deleted.
        let _signals = crate::interrupt::Defer::between_requests();
        let bar = shell.progress(names.len(), PROGRESS_FROM, "deleting");
        let result = store.apply(&edit, listing.as_ref().map(|(r, _)| r), &|| bar.inc());
        bar.finish();
        let mut done = result?;
        if !done.was_not_set.is_empty() {
            shell.info(format_args!(
                "note: was not set: {}",
                done.was_not_set.join(", ")
            ));
        }
        for (name, e) in &done.failed {
            shell.error(format_args!("{name}: {e}"));
        }
        shell.status(
            "Deleted",
            format_args!(
                "{} of {} name{} from {}",
                done.removed.len(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                store.location()
            ),
        );
        log_requests(shell, store.as_ref());
        let stopped = stopped_by_signal(
            done.removed.len() + done.was_not_set.len(),
            names.len(),
            &done.not_attempted,
            "unset",
        );
        if let Some(stopped) = stopped {
            if args.target.format == Format::Json {
                shell.out(with_target(
                    store.as_ref(),
                    interrupted_json(&profile.name, &done),
                ));
            }
            return Err(stopped);
        }
        if let Some((remote, slot)) = &listing {
            let gone: Vec<String> = done
                .removed
                .iter()
                .chain(&done.was_not_set)
                .cloned()
                .collect();
            relist(shell, store.as_ref(), remote, slot, &gone)?;
        }
        if !done.failed.is_empty() {
            return Err(done.failed.swap_remove(0).1);
        }
        applied = Some(done);
    } else {
        log_requests(shell, store.as_ref());
    }
    if args.target.format == Format::Json {
        let (removed, not_set, version) = applied
            .map(|a| (a.removed, a.was_not_set, a.version))
            .unwrap_or_default();
        shell.out(with_target(
            store.as_ref(),
            json!({"profile": profile.name, "dry_run": args.write.dry_run, "removed": removed, "was_not_set": not_set, "version": version}),
        ));
    }
    Ok(())
}

/// For a store with deploy naming: what it holds (read once, for the list of custom names and
/// as the base of the deletes) and where the list is recorded; the plan's list lines.
fn listing(
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &str,
    store: &dyn crate::remote::RemoteStore,
    names: &[String],
) -> Result<Option<(crate::remote::Remote, crate::sync_state::Slot)>, Error> {
    if !store.deploy_naming() {
        return Ok(None);
    }
    let remote = store.read()?;
    let slot = crate::sync_state::Slot::new(&project.workspace_root, profile, &store.identity());
    super::print_custom_list(shell, &list_after(&remote, &slot, names));
    Ok(Some((remote, slot)))
}

/// The tenant's list of custom names once `gone` are deleted.
fn list_after(
    remote: &crate::remote::Remote,
    slot: &crate::sync_state::Slot,
    gone: &[String],
) -> CustomList {
    let recorded = slot.load().custom_names;
    CustomList::after_write(remote, recorded.as_ref(), [], [], gone)
}

/// After the deletes: the list of custom names without the deleted ones (written after the
/// deletes, so that an interrupted run leaves a name listed, which the runtime skips, rather
/// than a name unlisted, which it never reads).
fn relist(
    shell: &mut Shell,
    store: &dyn crate::remote::RemoteStore,
    remote: &crate::remote::Remote,
    slot: &crate::sync_state::Slot,
    gone: &[String],
) -> Result<(), Error> {
    if !gone.iter().any(|n| crate::remote::names::is_custom(n)) {
        return Ok(());
    }
    let list = list_after(remote, slot, gone);
    let edit = match list.value() {
        Some(value) => Edit {
            set: crate::secret_map::SecretMap::from_iter([(CUSTOM_SECRETS.to_owned(), value)]),
            ..Edit::default()
        },
        None if remote.has_name(CUSTOM_SECRETS) => Edit {
            delete: vec![CUSTOM_SECRETS.to_owned()],
            ..Edit::default()
        },
        None => return Ok(()),
    };
    let done = store.apply(&edit, Some(remote), &|| {}).map_err(|e| {
        Error::failed(format!(
            "the names were deleted, but updating {CUSTOM_SECRETS} failed: {e}"
        ))
        .help("the deleted names stay listed there, which the service skips; run `cargo systemprompt-secrets sync` to write the list again")
    })?;
    if let Some((_, e)) = done.failed.first() {
        return Err(Error::failed(format!(
            "the names were deleted, but removing the empty {CUSTOM_SECRETS} failed: {e}"
        )));
    }
    shell.status(
        "Listed",
        format_args!(
            "{} custom name{} in {CUSTOM_SECRETS}",
            list.after.len(),
            if list.after.len() == 1 { "" } else { "s" }
        ),
    );
    super::record_write(shell, slot, Some(&list), None);
    Ok(())
}

/// The JSON report of deletes a signal stopped: what was done, and what was not.
fn interrupted_json(profile: &str, done: &crate::remote::Applied) -> serde_json::Value {
    json!({
        "profile": profile,
        "dry_run": false,
        "removed": done.removed,
        "was_not_set": done.was_not_set,
        "failed": done.failed.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "not_deleted": done.not_attempted,
        "interrupted": crate::interrupt::received().map(crate::interrupt::name),
        "version": done.version,
    })
}

/// The same names `set` accepts: a `../../x` never reaches a URL path.
fn check_names(names: &[String]) -> Result<(), Error> {
    if let Some(bad) = names.iter().find(|n| {
        n.trim().is_empty()
            || !n
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) {
        return Err(Error::usage(format!(
            "`{}` is not a valid secret name (letters, digits and _); nothing was deleted",
            bad.escape_debug()
        ))
        .help("names are spelled as `set` accepts them, e.g. OLD_API_KEY"));
    }
    Ok(())
}

/// `names` without those the platform or upstream's deploy owns (each named in a warning).
fn without_owned(shell: &mut Shell, names: Vec<String>) -> Result<Vec<String>, Error> {
    let (kept, rest): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| kept_on_delete(n));
    for name in &kept {
        shell.warn(format_args!(
            "kept {name}: the platform or upstream's deploy owns it, and the deployed service needs it (pass --force to delete it anyway)"
        ));
    }
    if rest.is_empty() {
        return Err(Error::failed(
            "every name given is owned by the platform or the deploy pipeline; nothing was deleted",
        )
        .help("pass --force to delete such names anyway"));
    }
    Ok(rest)
}
