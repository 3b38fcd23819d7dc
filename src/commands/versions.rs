//! `versions` (OpenBao): the KV v2 versions of the profile's secret, with times and deletion state.

use serde_json::json;

use super::cloud::log_bao;
use super::Context;
use crate::cli::{Format, VersionsArgs};
use crate::config::RemoteBackend;
use crate::error::Error;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &VersionsArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    if project.config.for_profile(&profile.name).backend != RemoteBackend::Openbao {
        return Err(Error::usage(format!(
            "profile `{}` uses the systemprompt cloud, which keeps no versions",
            profile.name
        ))
        .help("`versions` works with backend = \"openbao\""));
    }
    let bao = ctx.openbao(shell, &project, &profile, &args.target)?;
    let meta = bao.client.metadata()?;
    log_bao(shell, &bao.client);
    let Some(meta) = meta else {
        return Err(Error::failed(format!(
            "{} does not exist yet; run `sync` first",
            bao.client.location()
        )));
    };
    match args.target.format {
        Format::Json => shell.out(json!({"path": bao.client.location(), "current_version": meta.current_version, "versions": meta.versions})),
        Format::Human => {
            shell.out(format_args!("{:>7}  {:<32}  STATE", "VERSION", "CREATED"));
            for v in &meta.versions {
                let state = if v.destroyed {
                    "destroyed".to_owned()
                } else if let Some(d) = &v.deletion_time {
                    format!("deleted {d}")
                } else {
                    "live".to_owned()
                };
                let current = if v.version == meta.current_version { " (current)" } else { "" };
                shell.out(format_args!("{:>7}  {:<32}  {state}{current}", v.version, v.created_time));
            }
        }
    }
    Ok(())
}
