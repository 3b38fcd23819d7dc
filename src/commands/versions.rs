//! `versions`: the versions of the profile's remote secret, with times and deletion state
//! (a remote that keeps versions: OpenBao).

use clap::Args;
use serde_json::json;

use super::{log_requests, Context};
use crate::cli::{Format, RemoteArgs};
use crate::error::Error;
use crate::remote::{self, Capability};
use crate::shell::Shell;

/// `versions`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  cargo systemprompt-secrets versions --profile staging")]
pub struct VersionsArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &VersionsArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    remote::require(&project, &profile, Capability::Versions, "versions")?;
    let store = ctx.remote(shell, &project, &profile, &args.target)?;
    let meta = store.versions()?;
    log_requests(shell, store.as_ref());
    let Some(meta) = meta else {
        return Err(Error::failed(format!(
            "{} does not exist yet; run `sync` first",
            store.location()
        )));
    };
    match args.target.format {
        Format::Json => shell.out(json!({"path": store.location(), "current_version": meta.current_version, "versions": meta.versions})),
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
