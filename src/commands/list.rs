//! `list` (alias `ls`): every key with its source and status, never its value.

use clap::Args;
use std::fmt::Write as _;

use serde_json::json;

use super::{rel, Context};
use crate::cli::{Format, RemoteArgs};
use crate::error::Error;
use crate::shell::Shell;
use crate::source::Source;

/// List keys with their source and status (never values); --remote compares with the remote
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets list\n  cargo systemprompt-secrets list --profile production --format json\n  cargo systemprompt-secrets list --remote --profile production"
)]
pub struct ListArgs {
    /// Compare with the remote's names instead (same as `diff`)
    #[arg(long)]
    pub remote: bool,
    /// Remote options (with --remote)
    #[command(flatten)]
    pub target: RemoteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, format: Format) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let checked = ctx.check(shell, &project, profile, false);
    let resolved = checked.resolved_or_fail(shell)?;

    // Linear in the number of keys: the statuses are worked out once, and the keys already listed
    // are looked up in a set.
    let statuses = checked.key_statuses();
    let mut rows = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for (key, r) in &resolved.entries {
        listed.insert(key.as_str());
        rows.push((
            key.clone(),
            Some(&r.winner.source),
            statuses
                .get(key.as_str())
                .copied()
                .unwrap_or("ok")
                .to_owned(),
        ));
    }
    for key in checked
        .settings
        .required
        .iter()
        .chain(resolved.blanks.keys())
    {
        if listed.insert(key.as_str()) {
            let status = if checked.settings.required.contains(key) {
                "missing (required)"
            } else {
                "empty"
            };
            rows.push((key.clone(), None, status.to_owned()));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));

    match format {
        Format::Json => {
            let keys: Vec<_> = rows
                .iter()
                .map(|(key, source, status)| json!({"key": key, "env": crate::keys::env_name(key), "source": source, "status": status}))
                .collect();
            shell.out(json!({"profile": checked.profile.name, "keys": keys}));
        }
        Format::Human => {
            shell.status(
                "Listing",
                format_args!("profile `{}`", checked.profile.name),
            );
            let text: Vec<(String, String, String)> = rows
                .iter()
                .map(|(k, s, st)| {
                    (
                        k.clone(),
                        s.map_or_else(|| "-".to_owned(), source_text),
                        st.clone(),
                    )
                })
                .collect();
            let w0 = text.iter().map(|r| r.0.len()).max().unwrap_or(0).max(3);
            let w1 = text.iter().map(|r| r.1.len()).max().unwrap_or(0).max(6);
            shell.out(format_args!("{:w0$}  {:w1$}  STATUS", "KEY", "SOURCE"));
            for (k, s, st) in text {
                shell.out(format_args!("{k:w0$}  {s:w1$}  {st}"));
            }
            // The keyring entry is long: named once, below the table, rather than on every row.
            let entry = rows.iter().find_map(|(_, s, _)| match s {
                Some(Source::Keyring { entry }) => Some(entry.clone()),
                _ => None,
            });
            if let Some(entry) = entry {
                shell.info(format_args!("note: keyring cache = {entry}"));
            }
        }
    }
    Ok(())
}

/// A source with its path relative to the current directory.
pub(crate) fn source_text(source: &Source) -> String {
    match source {
        Source::SecretsFile { path, line } | Source::DotEnv { path, line, .. } => {
            let mut s = rel(path);
            if let Some(l) = line {
                let _ = write!(s, ":{l}");
            }
            if let Source::DotEnv { var, .. } = source {
                let _ = write!(s, " ({var})");
            }
            s
        }
        Source::Keyring { .. } => "keyring cache".to_owned(),
        other => other.to_string(),
    }
}
