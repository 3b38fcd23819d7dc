//! `sync`: push the profile's secrets.json to its remote in one write, after a plan of names.

use clap::Args;
use serde_json::json;

use super::{confirm, log_requests, plan_group, rel, with_target, Context};
use crate::cache_layer::NoCache;
use crate::cli::{Format, RemoteArgs, WriteArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::layers::{self, LoadOptions};
use crate::profile::Profile;
use crate::project::Project;
use crate::remote::plan::{CustomList, Outgoing, SyncPlan};
use crate::remote::since::Since;
use crate::remote::{Applied, Remote, RemoteStore, Skip};
use crate::secret_map::Compare;
use crate::shell::Shell;

/// Push the profile's secrets.json to the remote in one request, after printing a plan
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets sync --profile production --dry-run\n  cargo systemprompt-secrets sync --profile production --yes\n  cargo systemprompt-secrets sync --prune                 Also delete remote-only names\n\nOnly secrets.json is pushed; the environment and .env only with --include-env."
)]
pub struct SyncArgs {
    /// Also push values from the environment and .env files (never by default)
    #[arg(long)]
    pub include_env: bool,
    /// Push even when validation finds errors, or when someone else changed a key on the remote
    /// since this machine last synced or pulled
    #[arg(long)]
    pub force: bool,
    /// Also delete remote names that are not in the profile (never system-managed or deploy-owned ones)
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// The skipped names with their reasons, for `--format json`.
fn skipped_json(skipped: &[(String, Skip)]) -> Vec<serde_json::Value> {
    skipped
        .iter()
        .map(|(n, w)| json!({"name": n, "reason": w}))
        .collect()
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &SyncArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    crate::git::guard(shell, &profile.secrets_path)?;
    let store = ctx.remote(shell, &project, &profile, &args.target)?;
    // The remote read runs while the local file is loaded and validated.
    let (local, remote) = super::read_beside(store.as_ref(), || {
        collect(ctx, shell, &project, &profile, store.as_ref(), args)
    });
    let (mut local, remote) = (local?, remote?);
    if args.prune {
        if let Err(e) = remote.listed("prune") {
            log_requests(shell, store.as_ref());
            return Err(e);
        }
    }
    let slot =
        crate::sync_state::Slot::new(&project.workspace_root, &profile.name, &store.identity());
    let record = slot.load();
    let (plan, list) = plan_with_list(store.as_ref(), &remote, &record, &mut local, args.prune);
    print_plan(shell, store.as_ref(), &profile, &local, &remote, &plan);
    if let Some(list) = &list {
        super::print_custom_list(shell, list);
    }
    if let Err(e) = check_remote_changes(
        shell,
        store.as_ref(),
        &profile.name,
        &remote,
        record.version,
        &local.push,
        &plan,
        args.force,
    ) {
        log_requests(shell, store.as_ref());
        return Err(e);
    }

    let mut applied = None;
    if plan.up_to_date() {
        shell.status(
            "Fresh",
            format_args!("{} is up to date; nothing was written", store.location()),
        );
        if !args.write.dry_run {
            super::record_write(shell, &slot, None, remote.version);
        }
    } else if confirm(
        shell,
        &args.write,
        &profile.name,
        project.config.is_protected(&profile.name),
        "Push these names",
    )? {
        let count = local.push.len();
        // Ctrl-C or SIGTERM during `--prune`'s deletes: those in flight finish, no more start.
        let _signals = crate::interrupt::Defer::between_requests();
        let done = store
            .apply(&plan.edit(local.push.clone()), Some(&remote), &|| {})
            .map_err(|e| explain_conflict(store.as_ref(), &remote, e))?;
        if let Some(stopped) = super::stopped_by_signal(
            done.removed.len() + done.was_not_set.len(),
            plan.prune.len(),
            &done.not_attempted,
            "sync --prune",
        ) {
            log_requests(shell, store.as_ref());
            return Err(stopped);
        }
        report(shell, store.as_ref(), count, &plan, &done)?;
        super::record_write(shell, &slot, list.as_ref(), done.version);
        applied = Some(done);
    }
    log_requests(shell, store.as_ref());
    if args.target.format == Format::Json {
        let body = report_json(
            &profile,
            args,
            &remote,
            &plan,
            &local,
            list.as_ref(),
            applied.as_ref(),
        );
        shell.out(with_target(store.as_ref(), body));
    }
    Ok(())
}

/// `--format json`'s report.
fn report_json(
    profile: &Profile,
    args: &SyncArgs,
    remote: &Remote,
    plan: &SyncPlan,
    local: &Outgoing,
    list: Option<&CustomList>,
    applied: Option<&Applied>,
) -> serde_json::Value {
    json!({
        "profile": profile.name,
        "dry_run": args.write.dry_run,
        "applied": applied.is_some(),
        "values_compared": plan.values_compared,
        "read_version": remote.version,
        "written_version": applied.and_then(|a| a.version),
        "new": plan.new,
        "changed": plan.changed,
        "unchanged": plan.unchanged,
        "existing": plan.existing,
        "remote_only": plan.remote_only,
        "pruned": applied.map(|a| a.removed.clone()).unwrap_or_default(),
        "would_prune": plan.prune,
        "remote_names_known": plan.unlisted.is_none(),
        "skipped": skipped_json(&local.skipped),
        "custom_list": list.map(super::custom_list_json),
    })
}

/// Stops (without `--force`) on keys someone else changed on the remote since this machine last
/// synced or pulled; with `--force` names them as overwritten.
#[allow(clippy::too_many_arguments)]
fn check_remote_changes(
    shell: &mut Shell,
    store: &dyn RemoteStore,
    profile: &str,
    remote: &Remote,
    recorded: Option<u64>,
    local: &crate::secret_map::SecretMap,
    plan: &SyncPlan,
    force: bool,
) -> Result<(), Error> {
    let since = Since::read(store, remote, recorded);
    let conflicts = since.conflicts(local, remote, plan);
    if conflicts.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(remote_changed(store, profile, remote, &since, &conflicts));
    }
    plan_group(shell, "overwrite", &conflicts);
    shell.warn("--force: these remote changes are overwritten");
    Ok(())
}

/// Why `sync` stops: keys someone else changed on the remote since this machine last synced or
/// pulled (or, with nothing recorded, keys whose remote value differs).
fn remote_changed(
    store: &dyn RemoteStore,
    profile: &str,
    remote: &Remote,
    since: &Since,
    keys: &[String],
) -> Error {
    let n = keys.len();
    let (s, them) = if n == 1 { ("", "it") } else { ("s", "them") };
    let why = match since {
        Since::Known { version, .. } => format!(
            "changed on the remote since this machine last synced or pulled profile `{profile}` (version {version}; now {})",
            remote.version.unwrap_or_default()
        ),
        Since::Unknown(why) => format!(
            "hold{} other values on the remote, and whose change is newer is unknown: {why}",
            if n == 1 { "s" } else { "" }
        ),
        Since::Unversioned | Since::Unchanged(_) => String::new(),
    };
    Error::failed(format!(
        "{}: {n} key{s} {why}: {}. Syncing would overwrite {them}; nothing was written",
        store.location(),
        keys.join(", ")
    ))
    .help("compare with `cargo systemprompt-secrets diff`; take the remote values with `pull`, or overwrite them with `sync --force`")
}

/// The plan; for a store with deploy naming, after the push carries the tenant's whole list of
/// custom names (those it holds and keeps, those pushed; not those pruned).
fn plan_with_list(
    store: &dyn RemoteStore,
    remote: &Remote,
    record: &crate::sync_state::Record,
    local: &mut Outgoing,
    prune: bool,
) -> (SyncPlan, Option<CustomList>) {
    let plan = SyncPlan::new(&local.push, remote, prune);
    if !store.deploy_naming() {
        return (plan, None);
    }
    let list = CustomList::after_write(
        remote,
        record.custom_names.as_ref(),
        local.push.names(),
        local.push.names(),
        &plan.prune,
    );
    local.push.remove(crate::remote::CUSTOM_SECRETS);
    if let Some(value) = list.value() {
        local
            .push
            .insert(crate::remote::CUSTOM_SECRETS.to_owned(), value);
    }
    (SyncPlan::new(&local.push, remote, prune), Some(list))
}

fn print_plan(
    shell: &mut Shell,
    store: &dyn RemoteStore,
    profile: &Profile,
    local: &Outgoing,
    remote: &Remote,
    plan: &SyncPlan,
) {
    let version = remote
        .version
        .map(|v| format!(" (version {v})"))
        .unwrap_or_default();
    shell.status(
        "Plan",
        format_args!(
            "sync profile `{}` to {}{version}: {} names in one write",
            profile.name,
            store.location(),
            local.push.len()
        ),
    );
    plan_group(
        shell,
        if plan.unlisted.is_some() {
            "push"
        } else {
            "new"
        },
        &plan.new,
    );
    plan_group(shell, "changed", &plan.changed);
    plan_group(shell, "unchanged", &plan.unchanged);
    plan_group(shell, "already remote", &plan.existing);
    let kept: Vec<String> = plan
        .remote_only
        .iter()
        .filter(|n| !plan.prune.contains(n))
        .cloned()
        .collect();
    plan_group(shell, "remote-only kept", &kept);
    plan_group(shell, "delete (--prune)", &plan.prune);
    if !plan.existing.is_empty() {
        shell.info("note: this remote never returns values, so names already remote are overwritten without comparing");
    }
    if let Some(why) = &plan.unlisted {
        shell.info(format_args!(
            "note: remote names are unknown ({why}); every name is pushed, and nothing is deleted"
        ));
    }
}

/// Says what landed. A failed delete after the push says that the push itself landed.
fn report(
    shell: &mut Shell,
    store: &dyn RemoteStore,
    count: usize,
    plan: &SyncPlan,
    applied: &Applied,
) -> Result<(), Error> {
    let version = applied
        .version
        .map(|v| format!(" (version {v})"))
        .unwrap_or_default();
    if let Some((_, first)) = applied.failed.first() {
        shell.status(
            "Pushed",
            format_args!(
                "{count} names to {}{version}; pruned {} of {}",
                store.location(),
                applied.removed.len(),
                plan.prune.len()
            ),
        );
        log_requests(shell, store);
        let names: Vec<&str> = applied.failed.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Error::failed(format!(
            "could not delete {} (--prune): {first}",
            names.join(", ")
        ))
        .help("the push itself was applied; run `cargo systemprompt-secrets sync --prune` again, or `unset` the names"));
    }
    let pruned = if applied.removed.is_empty() {
        String::new()
    } else {
        format!("; deleted {}", applied.removed.len())
    };
    shell.status(
        "Synced",
        format_args!("{count} names to {}{version}{pruned}", store.location()),
    );
    Ok(())
}

/// A check-and-set conflict, explained: what changed since our read, by name. Nothing was written.
fn explain_conflict(store: &dyn RemoteStore, read: &Remote, e: Error) -> Error {
    let Error::Conflict { location, .. } = &e else {
        return e;
    };
    let detail = match (store.read(), &read.values) {
        (Ok(now), Some(before)) => {
            let changed: Vec<String> = before
                .compare(
                    now.values
                        .as_ref()
                        .unwrap_or(&crate::secret_map::SecretMap::new()),
                )
                .iter()
                .filter(|(_, c)| *c != Compare::Equal)
                .map(|(k, _)| k.to_owned())
                .collect();
            format!(
                "someone else wrote version {} after this sync read version {}; keys that changed in between: {}",
                now.version.unwrap_or_default(),
                read.version.unwrap_or_default(),
                if changed.is_empty() { "none (only the version moved)".to_owned() } else { changed.join(", ") }
            )
        }
        _ => format!(
            "someone else wrote after this sync read version {}",
            read.version.unwrap_or_default()
        ),
    };
    Error::failed(format!("{location}: check-and-set conflict: {detail}. Nothing was written"))
        .help("run `cargo systemprompt-secrets diff` to compare, or `pull` to take the remote, then sync again")
}

/// Loads (secrets.json only, unless `--include-env`), validates, maps names and applies the skips.
fn collect(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    store: &dyn RemoteStore,
    args: &SyncArgs,
) -> Result<Outgoing, Error> {
    let settings = ctx.settings(project, profile);
    let opts = LoadOptions {
        env: &ProcessEnv,
        use_env: args.include_env,
        read_file: true,
        env_files: if args.include_env {
            ctx.env_files(project)
        } else {
            Vec::new()
        },
        cache: &NoCache,
        project_id: &project.id,
    };
    let resolved = layers::load(&profile.secrets_path, &settings, &profile.name, &opts)?;
    super::remember(&resolved);
    if !resolved.secrets_file_found && !args.include_env {
        return Err(Error::failed(format!(
            "{} does not exist; there is nothing to sync",
            rel(&profile.secrets_path)
        ))
        .help(format!(
            "create it with `cargo systemprompt-secrets init --profile {}`",
            crate::git::shell_quote(&profile.name)
        )));
    }
    let findings = crate::validate::validate(&resolved, &settings);
    let mode = settings.mode(profile.yaml.validation());
    super::gate(shell, &findings, mode, args.force, &profile.name, "synced")?;

    let local = Outgoing::new(resolved, store, settings.generation.release());
    for (name, why) in &local.skipped {
        shell.info(format_args!("note: skipped {name}: {why}"));
    }
    if local.push.is_empty() {
        return Err(Error::failed(format!(
            "profile `{}` has nothing to push",
            profile.name
        )));
    }
    Ok(local)
}
