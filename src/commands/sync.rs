//! `sync`: push the profile's secrets.json to the remote in one PUT, after a plan of names.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::SecretString;
use serde_json::json;

use super::bao::{compare, names, Bao, Compare};
use super::cloud::{confirm, log_requests, plan_group};
use super::{rel, Context};
use crate::cache::NoCache;
use crate::cli::{Format, SyncArgs};
use crate::config::RemoteBackend;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keys;
use crate::layers::{self, LoadOptions};
use crate::profile::Profile;
use crate::project::Project;
use crate::remote::openbao::BaoError;
use crate::remote::{protected_name, Skip};
use crate::shell::Shell;
use secrecy::ExposeSecret;

/// What the local side offers: keys to push, and env-style names skipped with the reason.
struct Local {
    push: BTreeMap<String, SecretString>,
    skipped: Vec<(String, Skip)>,
}

/// The skipped names with their reasons, for `--format json`.
fn skipped_json(skipped: &[(String, Skip)]) -> Vec<serde_json::Value> {
    skipped
        .iter()
        .map(|(n, w)| json!({"name": n, "reason": w}))
        .collect()
}

/// The plan against the remote names.
struct Plan {
    new: Vec<String>,
    existing: Vec<String>,
    remote_only: Vec<String>,
    prune: Vec<String>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &SyncArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    crate::git::guard(shell, &profile.secrets_path)?;
    if project.config.for_profile(&profile.name).backend == RemoteBackend::Openbao {
        return sync_openbao(ctx, shell, &project, &profile, args);
    }
    let mut local = collect(ctx, shell, &project, &profile, args)?;
    local.push = local
        .push
        .into_iter()
        .map(|(k, v)| (keys::env_name(&k), v))
        .collect();
    let cloud = ctx.cloud(shell, &project, &profile, &args.target)?;
    let remote: BTreeSet<String> = cloud.client.list()?.into_iter().collect();
    let plan = plan(&local.push, &remote, args.prune);

    shell.status(
        "Plan",
        format_args!(
            "sync profile `{}` to tenant {} ({}): {} names in one request",
            profile.name,
            cloud.tenant,
            cloud.api_url,
            local.push.len()
        ),
    );
    plan_group(shell, "new", &plan.new);
    plan_group(shell, "already remote", &plan.existing);
    plan_group(
        shell,
        if args.prune {
            "remote-only"
        } else {
            "remote-only kept"
        },
        &plan.remote_only,
    );
    plan_group(shell, "delete (--prune)", &plan.prune);
    if !plan.existing.is_empty() {
        shell.info("note: the API never returns values, so names already remote are overwritten without comparing");
    }

    let protected = project.config.is_protected(&profile.name);
    let go = confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Push these names",
    )?;
    let mut deleted = Vec::new();
    if go {
        deleted = push_and_prune(shell, &cloud, &local.push, &plan.prune)?;
        let pruned = if deleted.is_empty() {
            String::new()
        } else {
            format!("; deleted {}", deleted.len())
        };
        shell.status(
            "Synced",
            format_args!(
                "{} names to tenant {}{pruned}",
                local.push.len(),
                cloud.tenant
            ),
        );
    }
    log_requests(shell, &cloud.client);
    if args.target.format == Format::Json {
        let skipped = skipped_json(&local.skipped);
        shell.out(json!({
            "profile": profile.name,
            "tenant": cloud.tenant,
            "dry_run": args.write.dry_run,
            "applied": go,
            "new": plan.new,
            "existing": plan.existing,
            "remote_only": plan.remote_only,
            "pruned": deleted,
            "would_prune": plan.prune,
            "skipped": skipped,
        }));
    }
    Ok(())
}

/// One PUT, then the prune DELETEs. A failed delete after the push says that the push landed.
fn push_and_prune(
    shell: &mut Shell,
    cloud: &super::cloud::Cloud,
    push: &BTreeMap<String, SecretString>,
    prune: &[String],
) -> Result<Vec<String>, Error> {
    let mut deleted = Vec::new();
    cloud.client.upsert(push)?;
    let mut failed = Vec::new();
    for (name, r) in prune.iter().zip(cloud.client.delete_many(prune, &|_| {})) {
        match r {
            Ok(_) => deleted.push(name.clone()),
            Err(e) => failed.push((name.clone(), e)),
        }
    }
    if let Some((_, first)) = failed.first() {
        // The push landed; say so before the error, so nobody thinks nothing changed.
        shell.status(
            "Pushed",
            format_args!(
                "{} names to tenant {}; pruned {} of {}",
                push.len(),
                cloud.tenant,
                deleted.len(),
                prune.len()
            ),
        );
        log_requests(shell, &cloud.client);
        return Err(Error::failed(format!("could not delete {} (--prune): {first}", failed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))).help("the push itself was applied; run `cargo systemprompt-secrets sync --prune` again, or `unset` the names"));
    }
    Ok(deleted)
}

/// Loads (secrets.json only, unless `--include-env`), validates, maps names and applies the skips.
fn collect(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    args: &SyncArgs,
) -> Result<Local, Error> {
    let settings = project.config.for_profile(&profile.name);
    let opts = LoadOptions {
        env: &ProcessEnv,
        use_env: args.include_env,
        env_files: if args.include_env {
            ctx.env_files(project)
        } else {
            Vec::new()
        },
        cache: &NoCache,
        project_id: &project.id,
    };
    let resolved = layers::load(&profile.secrets_path, &settings, &profile.name, &opts)?;
    if !resolved.secrets_file_found && !args.include_env {
        return Err(Error::failed(format!(
            "{} does not exist; there is nothing to sync",
            rel(&profile.secrets_path)
        ))
        .help(format!(
            "create it with `cargo systemprompt-secrets init --profile {}`",
            profile.name
        )));
    }
    let findings = crate::validate::validate(&resolved, &settings);
    super::gate(shell, &findings, args.force, &profile.name, "synced")?;

    let mut local = Local {
        push: BTreeMap::new(),
        skipped: Vec::new(),
    };
    for (key, resolution) in resolved.entries {
        let name = keys::env_name(&key);
        if let Some(skip) = protected_name(&name) {
            local.skipped.push((name, skip));
        } else {
            let value = resolution
                .definitions
                .into_iter()
                .next()
                .expect("a resolution has a definition")
                .value;
            local.push.insert(key, value);
        }
    }
    for key in resolved.blanks.keys() {
        if !local.push.contains_key(key) {
            local.skipped.push((keys::env_name(key), Skip::Empty));
        }
    }
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

fn plan(push: &BTreeMap<String, SecretString>, remote: &BTreeSet<String>, prune: bool) -> Plan {
    let remote_only: Vec<String> = remote
        .iter()
        .filter(|n| !push.contains_key(*n))
        .cloned()
        .collect();
    Plan {
        new: push
            .keys()
            .filter(|n| !remote.contains(*n))
            .cloned()
            .collect(),
        existing: push
            .keys()
            .filter(|n| remote.contains(*n))
            .cloned()
            .collect(),
        prune: if prune {
            remote_only
                .iter()
                .filter(|n| protected_name(n).is_none())
                .cloned()
                .collect()
        } else {
            Vec::new()
        },
        remote_only,
    }
}

/// OpenBao: read the current version, write the whole map with `cas` = that version (2 requests).
/// OpenBao: the remote read runs while the local file is loaded and validated.
fn sync_openbao(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    args: &SyncArgs,
) -> Result<(), Error> {
    let bao = ctx.openbao(shell, project, profile, &args.target)?;
    let (local, snapshot) = std::thread::scope(|s| {
        let remote = s.spawn(|| bao.client.read(None));
        let local = collect(ctx, shell, project, profile, args);
        (
            local,
            remote.join().expect("the remote read does not panic"),
        )
    });
    run_openbao(shell, project, profile, &bao, local?, &snapshot?, args)
}

fn run_openbao(
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    bao: &Bao,
    local: Local,
    snapshot: &crate::remote::openbao::Snapshot,
    args: &SyncArgs,
) -> Result<(), Error> {
    let push: BTreeMap<String, SecretString> = local
        .push
        .into_iter()
        .map(|(k, v)| (bao.remote_name(&k), v))
        .collect();
    let cmp = compare(&push, &snapshot.data);
    let (new, changed, equal, remote_only) = (
        names(&cmp, Compare::LocalOnly),
        names(&cmp, Compare::Changed),
        names(&cmp, Compare::Equal),
        names(&cmp, Compare::RemoteOnly),
    );
    let mut target: BTreeMap<String, SecretString> = if args.prune {
        BTreeMap::new()
    } else {
        snapshot
            .data
            .iter()
            .map(|(k, v)| (k.clone(), SecretString::from(v.expose_secret())))
            .collect()
    };
    let count = push.len();
    target.extend(push);

    shell.status(
        "Plan",
        format_args!(
            "sync profile `{}` to {} (version {}): {count} keys, one write",
            profile.name,
            bao.client.location(),
            snapshot.version
        ),
    );
    plan_group(shell, "new", &new);
    plan_group(shell, "changed", &changed);
    plan_group(shell, "unchanged", &equal);
    plan_group(
        shell,
        if args.prune {
            "delete (--prune)"
        } else {
            "remote-only kept"
        },
        &remote_only,
    );
    let up_to_date =
        new.is_empty() && changed.is_empty() && (!args.prune || remote_only.is_empty());
    let mut version = None;
    if up_to_date {
        shell.status(
            "Fresh",
            format_args!(
                "{} is up to date; nothing was written",
                bao.client.location()
            ),
        );
    } else if confirm(
        shell,
        &args.write,
        &profile.name,
        project.config.is_protected(&profile.name),
        "Write this map",
    )? {
        match bao.client.write(&target, snapshot.version) {
            Ok(v) => {
                version = Some(v);
                shell.status(
                    "Synced",
                    format_args!("{count} keys to {} (version {v})", bao.client.location()),
                );
            }
            Err(BaoError::Conflict(_)) => return Err(conflict(bao, snapshot)),
            Err(e) => return Err(e.into()),
        }
    }
    super::cloud::log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        let skipped = skipped_json(&local.skipped);
        shell.out(json!({
            "profile": profile.name,
            "path": bao.client.location(),
            "dry_run": args.write.dry_run,
            "read_version": snapshot.version,
            "written_version": version,
            "new": new,
            "changed": changed,
            "unchanged": equal,
            "remote_only": remote_only,
            "pruned": if args.prune && version.is_some() { remote_only.clone() } else { Vec::new() },
            "skipped": skipped,
        }));
    }
    Ok(())
}

/// Explains a CAS conflict: what changed since our read, by name. Nothing was written.
fn conflict(bao: &Bao, read: &crate::remote::openbao::Snapshot) -> Error {
    let detail = match bao.client.read(None) {
        Ok(now) => {
            let cmp = compare(&read.data, &now.data);
            let changed: Vec<String> = cmp
                .iter()
                .filter(|(_, c)| *c != Compare::Equal)
                .map(|(k, _)| k.clone())
                .collect();
            format!(
                "someone else wrote version {} after this sync read version {}; keys that changed in between: {}",
                now.version,
                read.version,
                if changed.is_empty() { "none (only the version moved)".to_owned() } else { changed.join(", ") }
            )
        }
        Err(_) => format!(
            "someone else wrote after this sync read version {}",
            read.version
        ),
    };
    Error::failed(format!("{}: check-and-set conflict: {detail}. Nothing was written", bao.client.location())).help("run `cargo systemprompt-secrets diff` to compare, or `pull` to take the remote, then sync again")
}
