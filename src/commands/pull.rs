//! `pull`: write the remote map into the profile's secrets.json, atomically and 0600, after
//! showing which keys would be added, changed or removed — names only. Needs a remote that gives
//! values back (OpenBao).

use clap::Args;
use serde_json::json;

use super::{log_requests, plan_group, rel, Context};
use crate::cli::{BaoArgs, Format, WriteArgs};
use crate::error::Error;
use crate::remote::{self, Capability, RemoteStore};
use crate::secret_map::SecretMap;
use crate::secrets_file::{read_entries, write_entries};
use crate::shell::Shell;

/// OpenBao: write the remote map into the profile's secrets.json (names of changes shown first)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets pull --profile staging --dry-run\n  cargo systemprompt-secrets pull --profile staging --yes\n\nOnly for profiles with backend = \"openbao\": the systemprompt cloud never returns values."
)]
pub struct PullArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: BaoArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &PullArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    remote::require(&project, &profile, Capability::Values, "pull")?;
    crate::git::guard(shell, &profile.secrets_path)?;
    let store = ctx.remote(shell, &project, &profile, &args.target.remote())?;
    // The lock is held from the local read to the rename: a concurrent writer's update is read,
    // not lost.
    let (local, read) = super::read_beside(store.as_ref(), || {
        let lock = crate::secrets_file::lock(&profile.secrets_path)?;
        Ok::<_, Error>((lock, read_entries(&profile.secrets_path)?))
    });
    let read = read?;
    let version = read.version.unwrap_or_default();
    // Two remote names that become one key (`ANTHROPIC` and `ANTHROPIC_API_KEY` with
    // `remote-names = "env"`): which value wins is not for `pull` to pick.
    let remote: SecretMap = read
        .values
        .ok_or_else(|| store.lacks(Capability::Values))?
        .renamed_unique(|n| store.local_key(n))
        .map_err(|(first, second, key)| {
            let (first, second, key) = (
                crate::source::escape_controls(&first),
                crate::source::escape_controls(&second),
                crate::source::escape_controls(&key),
            );
            Error::failed(format!(
                "{}: the remote names `{first}` and `{second}` both become the key `{key}` in secrets.json; nothing was written",
                store.location()
            ))
            .help("keep one of them in OpenBao (`diff` shows each with its own state), then pull again")
        })?;
    check_remote(store.as_ref(), version, &remote)?;
    let (_lock, existing) = local?;
    let changes = remote.changes_from(
        existing
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_ref()?))),
    );

    shell.status(
        "Plan",
        format_args!(
            "pull {} (version {version}) into {}",
            store.location(),
            rel(&profile.secrets_path)
        ),
    );
    plan_group(shell, "add", &changes.added);
    plan_group(shell, "change", &changes.changed);
    plan_group(shell, "remove", &changes.removed);
    let nothing =
        changes.added.is_empty() && changes.changed.is_empty() && changes.removed.is_empty();
    let mut written = false;
    if nothing {
        shell.status(
            "Fresh",
            format_args!("{} already matches the remote", rel(&profile.secrets_path)),
        );
    } else if args.write.dry_run {
        shell.status("Dry run", "nothing was changed");
    } else {
        let overwrites = !changes.changed.is_empty() || !changes.removed.is_empty();
        if overwrites && !args.write.yes {
            ask(shell, &profile.secrets_path)?;
        }
        // Keep the local order for keys that stay; new keys go at the end, sorted.
        let mut remote = remote;
        let mut entries: Vec<_> = existing
            .into_iter()
            .filter_map(|(k, _)| remote.remove(&k).map(|v| (k, Some(v))))
            .collect();
        entries.extend(remote.into_iter().map(|(k, v)| (k, Some(v))));
        write_entries(&profile.secrets_path, &entries, true)?;
        written = true;
        shell.status(
            "Pulled",
            format_args!(
                "{} keys into {} (version {version})",
                entries.len(),
                rel(&profile.secrets_path),
            ),
        );
    }
    if nothing || written {
        let slot =
            crate::sync_state::Slot::new(&project.workspace_root, &profile.name, &store.identity());
        super::record_write(shell, &slot, None, read.version);
    }
    log_requests(shell, store.as_ref());
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "version": version, "added": changes.added, "changed": changes.changed, "removed": changes.removed, "written": written}));
    }
    Ok(())
}

/// There must be something to pull, and remote keys must be snake_case to go into secrets.json.
fn check_remote(store: &dyn RemoteStore, version: u64, remote: &SecretMap) -> Result<(), Error> {
    if version == 0 && remote.is_empty() {
        return Err(Error::failed(format!(
            "{} holds no secrets yet; nothing to pull",
            store.location()
        )));
    }
    let unfit: Vec<&str> = remote
        .names()
        .filter(|k| !crate::keys::is_snake_case(k))
        .map(String::as_str)
        .collect();
    if let Some(first) = unfit.first() {
        return Err(Error::failed(format!(
            "{}: the remote key{} `{}` cannot go into secrets.json (its keys match ^[a-z][a-z0-9_]*$); nothing was written",
            store.location(),
            if unfit.len() == 1 { "" } else { "s" },
            unfit.join("`, `"),
        ))
        .help(format!(
            "rename {} in OpenBao (e.g. `{first}` to `{}`), or set `remote-names = \"env\"` in [workspace.metadata.systemprompt-secrets.openbao] if the remote uses ANTHROPIC_API_KEY-style names",
            if unfit.len() == 1 { "it" } else { "them" },
            crate::keys::to_snake_case(first)
        )));
    }
    Ok(())
}

/// Asks before local values are overwritten or removed; without a terminal, stops.
fn ask(shell: &mut Shell, path: &std::path::Path) -> Result<(), Error> {
    match shell.confirm(&format!("Overwrite local values in {}?", rel(path)), false)? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::cancelled()),
        None => Err(Error::usage(format!(
            "pulling would overwrite or remove values in {}; nothing was changed",
            rel(path)
        ))
        .help("review the plan above, then pass --yes")),
    }
}
