//! `versions`: the versions of the profile's remote secret, with times and deletion state
//! (a remote that keeps versions: OpenBao).

use clap::Args;
use serde_json::json;

use super::{log_requests, Context};
use crate::cli::{BaoArgs, Format};
use crate::error::Error;
use crate::remote::{self, Capability};
use crate::shell::Shell;

/// OpenBao: list the KV v2 versions of the profile's secret, with times and deletion state
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  cargo systemprompt-secrets versions --profile staging")]
pub struct VersionsArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: BaoArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &VersionsArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    remote::require(&project, &profile, Capability::Versions, "versions")?;
    let store = ctx.remote(shell, &project, &profile, &args.target.remote())?;
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
            shell.out(format_args!("{:>7}  {:<23}  STATE", "VERSION", "CREATED"));
            for v in &meta.versions {
                let state = if v.destroyed {
                    "destroyed".to_owned()
                } else if let Some(d) = &v.deletion_time {
                    format!("deleted {}", short_time(d))
                } else {
                    "live".to_owned()
                };
                let current = if v.version == meta.current_version { " (current)" } else { "" };
                shell.out(format_args!("{:>7}  {:<23}  {state}{current}", v.version, short_time(&v.created_time)));
            }
        }
    }
    Ok(())
}

/// An RFC 3339 time as people read it, to the second: `2026-12-02T03:24:29.123456789Z` becomes
/// `2026-12-02 03:24:29 UTC` (the JSON output keeps the server's text). Other text is kept as is.
fn short_time(rfc3339: &str) -> String {
    let Some((date, rest)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let seconds = clock.split('.').next().unwrap_or(clock);
    if date.len() != 10 || seconds.len() != 8 {
        return rfc3339.to_owned();
    }
    let zone = match zone {
        "Z" | "z" | "" => "UTC".to_owned(),
        other => other.to_owned(),
    };
    format!("{date} {seconds} {zone}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_to_the_second() {
        assert_eq!(
            super::short_time("2026-12-02T03:24:29.123456789Z"),
            "2026-12-02 03:24:29 UTC"
        );
        assert_eq!(
            super::short_time("2026-12-02T03:24:29Z"),
            "2026-12-02 03:24:29 UTC"
        );
        assert_eq!(
            super::short_time("2026-12-02T03:24:29.5+01:00"),
            "2026-12-02 03:24:29 +01:00"
        );
        assert_eq!(super::short_time("odd"), "odd");
    }
}
