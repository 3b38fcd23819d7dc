//! `rollback --version N` (OpenBao): restore version N as a new write, with check-and-set.

use serde_json::json;

use super::bao::{compare, names, Compare};
use super::cloud::{confirm, log_bao, plan_group};
use super::Context;
use crate::cli::{Format, RollbackArgs};
use crate::config::RemoteBackend;
use crate::error::Error;
use crate::remote::openbao::BaoError;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &RollbackArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    if project.config.for_profile(&profile.name).backend != RemoteBackend::Openbao {
        return Err(Error::usage(format!(
            "profile `{}` uses the systemprompt cloud, which keeps no versions",
            profile.name
        ))
        .help("`rollback` works with backend = \"openbao\""));
    }
    let bao = ctx.openbao(shell, &project, &profile, &args.target)?;
    let meta = bao
        .client
        .metadata()?
        .ok_or_else(|| Error::failed(format!("{} does not exist yet", bao.client.location())))?;
    let Some(info) = meta.versions.iter().find(|v| v.version == args.version) else {
        let known: Vec<String> = meta
            .versions
            .iter()
            .map(|v| v.version.to_string())
            .collect();
        return Err(BaoError::Version {
            version: args.version,
            path: bao.client.location(),
            why: format!("no such version (kept: {})", known.join(", ")),
        }
        .into());
    };
    if info.destroyed || info.deletion_time.is_some() {
        let why = if info.destroyed {
            "its data was destroyed"
        } else {
            "it was deleted (undelete it first with `bao kv undelete`)"
        };
        return Err(BaoError::Version {
            version: args.version,
            path: bao.client.location(),
            why: why.to_owned(),
        }
        .into());
    }
    let old = bao.client.read(Some(args.version))?;
    let current = bao.client.read(None)?;
    let cmp = compare(&old.data, &current.data);
    shell.status(
        "Plan",
        format_args!(
            "restore version {} of {} as a new version (current {})",
            args.version,
            bao.client.location(),
            current.version
        ),
    );
    plan_group(shell, "restore", &names(&cmp, Compare::LocalOnly));
    plan_group(shell, "change back", &names(&cmp, Compare::Changed));
    plan_group(shell, "remove", &names(&cmp, Compare::RemoteOnly));
    let mut written = None;
    if confirm(
        shell,
        &args.write,
        &profile.name,
        project.config.is_protected(&profile.name),
        "Restore this version",
    )? {
        let v = bao
            .client
            .write(&old.data, current.version)
            .map_err(|e| match e {
                BaoError::Conflict(_) => Error::failed(format!(
                    "{} changed while restoring (check-and-set conflict); nothing was written",
                    bao.client.location()
                ))
                .help("run `versions` and try again"),
                other => other.into(),
            })?;
        written = Some(v);
        shell.status(
            "Restored",
            format_args!(
                "version {} of {} as version {v}",
                args.version,
                bao.client.location()
            ),
        );
    }
    log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        shell.out(json!({"path": bao.client.location(), "restored": args.version, "new_version": written, "dry_run": args.write.dry_run}));
    }
    Ok(())
}
