//! `rollback --version N`: restore version N as a new write, with check-and-set (a remote that
//! keeps versions: OpenBao).

use clap::Args;
use serde_json::json;

use super::{confirm, log_requests, plan_group, Context};
use crate::cli::{BaoArgs, Format, WriteArgs};
use crate::error::Error;
use crate::remote::{self, Capability, Edit};
use crate::secret_map::{Compare, SecretMap};
use crate::shell::Shell;

/// OpenBao: restore an earlier version as a new write
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets rollback --version 3 --profile staging"
)]
pub struct RollbackArgs {
    /// The version to restore
    #[arg(long, value_name = "N")]
    pub version: u64,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: BaoArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &RollbackArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    remote::require(&project, &profile, Capability::Versions, "rollback")?;
    let store = ctx.remote(shell, &project, &profile, &args.target.remote())?;
    let location = store.location();
    let cannot = |why: String| {
        Error::failed(format!(
            "version {} of {location} cannot be restored: {why}",
            args.version
        ))
    };
    let meta = store
        .versions()?
        .ok_or_else(|| Error::failed(format!("{location} does not exist yet")))?;
    let Some(info) = meta.versions.iter().find(|v| v.version == args.version) else {
        let known: Vec<String> = meta
            .versions
            .iter()
            .map(|v| v.version.to_string())
            .collect();
        return Err(cannot(format!(
            "no such version (kept: {})",
            known.join(", ")
        )));
    };
    if info.destroyed {
        return Err(cannot("its data was destroyed".to_owned()));
    }
    if info.deletion_time.is_some() {
        return Err(cannot(
            "it was deleted (undelete it first with `bao kv undelete`)".to_owned(),
        ));
    }
    let old = store.read_version(args.version)?.values.unwrap_or_default();
    // A current version that holds a value that is not a string is exactly when a rollback is
    // needed: its version is enough for the check-and-set, and the restore replaces it all.
    let current = match store.read() {
        Err(Error::OpenBao(crate::remote::openbao::BaoError::NotAString {
            key, version, ..
        })) => {
            shell.warn(format_args!(
                "the current version {version} holds a value of `{key}` that is not a string; the restore replaces the whole map"
            ));
            crate::remote::Remote::values(crate::secret_map::SecretMap::new(), version)
        }
        other => other?,
    };
    let now = current.values.clone().unwrap_or_default();
    let cmp = old.compare(&now);
    shell.status(
        "Plan",
        format_args!(
            "restore version {} of {location} as a new version (current {})",
            args.version,
            current.version.unwrap_or_default()
        ),
    );
    plan_group(shell, "restore", &cmp.names(Compare::LocalOnly));
    plan_group(shell, "change back", &cmp.names(Compare::Changed));
    plan_group(shell, "remove", &cmp.names(Compare::RemoteOnly));
    let mut written = None;
    if confirm(
        shell,
        &args.write,
        &profile.name,
        project.config.is_protected(&profile.name),
        "Restore this version",
    )? {
        let edit = restore(old, &now);
        let applied = store
            .apply(&edit, Some(&current), &|| {})
            .map_err(|e| match e {
                Error::Conflict { .. } => Error::failed(format!(
                "{location} changed while restoring (check-and-set conflict); nothing was written"
            ))
                .help("run `versions` and try again"),
                other => other,
            })?;
        written = applied.version;
        shell.status(
            "Restored",
            format_args!(
                "version {} of {location} as version {}",
                args.version,
                written.unwrap_or(current.version.unwrap_or_default())
            ),
        );
    }
    log_requests(shell, store.as_ref());
    if args.target.format == Format::Json {
        shell.out(json!({"path": location, "restored": args.version, "new_version": written, "dry_run": args.write.dry_run}));
    }
    Ok(())
}

/// The edit that turns `now` back into `old`.
fn restore(old: SecretMap, now: &SecretMap) -> Edit {
    Edit {
        delete: now.names().filter(|n| !old.contains(n)).cloned().collect(),
        set: old,
    }
}
