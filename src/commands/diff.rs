//! `diff` (and `list --remote`): local keys against the remote — values compared in constant time where the remote
//! gives values back, by name where it does not.

use clap::Args;
use serde_json::json;

use super::{log_requests, with_target, Context};
use crate::cache_layer::NoCache;
use crate::cli::{Format, RemoteArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::layers::{self, LoadOptions};
use crate::remote::plan::{compare, Outgoing};
use crate::remote::since::{Side, Since};
use crate::secret_map::Compare;
use crate::shell::Shell;

/// Compare local and remote: values in constant time where the remote returns them (OpenBao), names otherwise
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets diff --profile production\n  cargo systemprompt-secrets diff --format json\n  cargo systemprompt-secrets diff --exit-code              Exit 1 when local and remote differ, as `git diff --exit-code`\n\nOpenBao gives values back, so they are compared too (in constant time; never shown): equal, changed, local-only, remote-only. The cloud API never returns values, so there only names are compared."
)]
pub struct DiffArgs {
    /// Exit with 1 when there are differences (0 when none), as `git diff --exit-code`
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
}

const NAMES_NOTE: &str = "the cloud API never returns values, so values cannot be compared here";
const VALUES_NOTE: &str = "values are compared in constant time and never shown";

pub(crate) fn run(
    ctx: &Context,
    shell: &mut Shell,
    args: &RemoteArgs,
    exit_code: bool,
) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let store = ctx.remote(shell, &project, &profile, args)?;
    let (local, remote) = super::read_beside(store.as_ref(), || {
        let settings = ctx.settings(&project, &profile);
        let opts = LoadOptions {
            env: &ProcessEnv,
            use_env: false,
            read_file: true,
            env_files: Vec::new(),
            cache: &NoCache,
            project_id: &project.id,
        };
        let resolved = layers::load(&profile.secrets_path, &settings, &profile.name, &opts)?;
        super::remember(&resolved);
        // Local names as `sync` would push them: never the system-managed or deploy-owned ones.
        Ok::<_, Error>(Outgoing::new(resolved, store.as_ref(), settings.generation.release()).push)
    });
    let (local, remote) = (local?, remote?);
    log_requests(shell, store.as_ref());
    remote.listed("compare with the remote")?;
    let cmp = compare(&local, &remote);
    let values_compared = remote.values.is_some();
    let slot =
        crate::sync_state::Slot::new(&project.workspace_root, &profile.name, &store.identity());
    let since = Since::read(store.as_ref(), &remote, slot.load().version);
    let sides = remote
        .values
        .as_ref()
        .and_then(|values| since.sides(&local, values, Some(&cmp)));
    let side = |key: &str| sides.as_ref().and_then(|s| s.side(key));
    let rows: &[(&str, Compare)] = if values_compared {
        &[
            ("equal", Compare::Equal),
            ("changed", Compare::Changed),
            ("local-only", Compare::LocalOnly),
            ("remote-only", Compare::RemoteOnly),
        ]
    } else {
        &[
            ("local-only", Compare::LocalOnly),
            ("remote-only", Compare::RemoteOnly),
            ("both", Compare::Both),
        ]
    };
    match args.format {
        Format::Json => {
            let keys: Vec<_> = cmp
                .iter()
                .map(|(k, c)| json!({"key": k, "status": c, "changed_by": side(k)}))
                .collect();
            shell.out(with_target(
                store.as_ref(),
                json!({
                    "profile": profile.name,
                    "version": remote.version,
                    "values_compared": values_compared,
                    "local_only": cmp.names(Compare::LocalOnly),
                    "remote_only": cmp.names(Compare::RemoteOnly),
                    "both": cmp.names(Compare::Both),
                    "keys": keys,
                    "note": if values_compared { VALUES_NOTE } else { NAMES_NOTE },
                }),
            ));
        }
        Format::Human => {
            let version = remote
                .version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            shell.status(
                "Comparing",
                format_args!(
                    "profile `{}` with {}{version}",
                    profile.name,
                    store.location()
                ),
            );
            print_rows(shell, rows, &cmp, &side);
            if let (Since::Unknown(why), true) = (&since, differs(&cmp) && values_compared) {
                shell.info(format_args!("note: which side changed is unknown: {why}"));
            }
            shell.info(format_args!(
                "note: {}",
                if values_compared {
                    VALUES_NOTE
                } else {
                    NAMES_NOTE
                }
            ));
        }
    }
    if exit_code && differs(&cmp) {
        return Err(Error::Exit {
            code: crate::exit_code::FAILURE,
            message: None,
            help: None,
        });
    }
    Ok(())
}

/// One line per status, each name with the side that changed it where that is known.
fn print_rows(
    shell: &mut Shell,
    rows: &[(&str, Compare)],
    cmp: &crate::secret_map::Comparison<'_>,
    side: &dyn Fn(&str) -> Option<Side>,
) {
    for (label, which) in rows {
        let mut names = String::new();
        for (name, _) in cmp.iter().filter(|(_, c)| c == which) {
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(name);
            names.push_str(match side(name) {
                Some(Side::Local) => " (changed here)",
                Some(Side::Remote) => " (changed on the remote)",
                Some(Side::Both) => " (changed on both sides)",
                None => "",
            });
        }
        if names.is_empty() {
            names.push('-');
        }
        shell.out(format_args!("{label:12}  {names}"));
    }
}

/// Whether local and remote differ: a changed, local-only or remote-only key.
fn differs(cmp: &crate::secret_map::Comparison<'_>) -> bool {
    cmp.iter().any(|(_, c)| {
        matches!(
            c,
            Compare::Changed | Compare::LocalOnly | Compare::RemoteOnly
        )
    })
}
