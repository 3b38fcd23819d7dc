//! `profiles`: every profile with its key count and validation status.

use clap::Args;
use serde_json::json;

use super::{profile_error_finding, Context};
use crate::cli::Format;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::finding::Severity;
use crate::shell::Shell;

/// List the profiles with their key count and validation status
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets profiles\n  cargo systemprompt-secrets profiles --format json"
)]
pub struct ProfilesArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, format: Format) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    if !project.profiles.dir.is_dir() {
        return Err(crate::profile::ProfileError::NoProfilesDir {
            dir: project.profiles.dir.clone(),
        }
        .into());
    }
    let active = project
        .profiles
        .select(
            ctx.global.profile.as_deref(),
            &ProcessEnv,
            project.config.default_profile.as_deref(),
        )
        .ok()
        .map(|(p, _)| p.name);
    let mut rows = Vec::new();
    for name in &project.profiles.names {
        let (keys, status, errors, warnings) = match project.profiles.open(name) {
            Ok(profile) => {
                let c = ctx.check(shell, &project, profile, false);
                let keys = c.resolved.as_ref().map_or(0, |r| r.entries.len());
                let (e, w) = (c.count(Severity::Error), c.count(Severity::Warning));
                let status = if c.resolved.is_none() {
                    "invalid file".to_owned()
                } else if c.fails() {
                    "failing".to_owned()
                } else if c.mode == crate::finding::Mode::Skip {
                    "skipped".to_owned()
                } else {
                    "ok".to_owned()
                };
                (keys, status, e, w)
            }
            Err(e) => {
                shell.warn(profile_error_finding(&e).message);
                (0, "invalid profile.yaml".to_owned(), 1, 0)
            }
        };
        let protected = project.config.is_protected(name);
        rows.push((
            name.clone(),
            keys,
            status,
            errors,
            warnings,
            protected,
            active.as_deref() == Some(name),
        ));
    }
    match format {
        Format::Json => {
            let list: Vec<_> = rows
                .iter()
                .map(|(name, keys, status, e, w, protected, active)| {
                    json!({"profile": name, "keys": keys, "status": status, "errors": e, "warnings": w, "protected": protected, "active": active})
                })
                .collect();
            shell.out(json!({"profiles_dir": project.profiles.dir, "profiles": list}));
        }
        Format::Human => {
            let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(7);
            shell.out(format_args!("{:w$}  KEYS  STATUS", "PROFILE"));
            for (name, keys, status, e, warn, protected, active) in rows {
                let mut extra = Vec::new();
                if e + warn > 0 {
                    extra.push(format!(
                        "{e} error{}, {warn} warning{}",
                        if e == 1 { "" } else { "s" },
                        if warn == 1 { "" } else { "s" }
                    ));
                }
                if protected {
                    extra.push("protected".to_owned());
                }
                if active {
                    extra.push("active".to_owned());
                }
                let extra = if extra.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", extra.join(", "))
                };
                shell.out(format_args!("{name:w$}  {keys:>4}  {status}{extra}"));
            }
        }
    }
    Ok(())
}
