//! `trust`: let this project's files decide where its secrets and credentials go (as `direnv
//! allow`). Shows the settings, asks (or takes `--yes`), and records their fingerprint in the
//! user's config folder; `--status` says where the project stands, `--revoke` forgets it.

use clap::Args;
use serde_json::json;

use super::Context;
use crate::cli::Format;
use crate::error::Error;
use crate::shell::Shell;
use crate::trust::{self, State};

/// Let this project's files decide where its secrets go (addresses, tenants, paths outside)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets trust            Show the settings, then ask\n  cargo systemprompt-secrets trust --yes\n  cargo systemprompt-secrets trust --status\n  cargo systemprompt-secrets trust --revoke\n\nUntil a project is trusted, a verb that would send data where its files say (an OpenBao address,\na tenant, an API URL, a profile outside the workspace) stops before any request. A change to\nthose settings needs trust again. In CI, set SYSTEMPROMPT_SECRETS_TRUST_PROJECT=1 instead."
)]
pub struct TrustArgs {
    /// Only say whether the project is trusted, and with which settings
    #[arg(long, conflicts_with = "revoke")]
    pub status: bool,
    /// Forget this project: its files route nothing until it is trusted again
    #[arg(long)]
    pub revoke: bool,
    /// Trust without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &TrustArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let settings = trust::settings(&project);
    let state = trust::state(&project, &settings);
    if args.revoke {
        let was = trust::revoke(&project)?;
        shell.status(
            if was { "Revoked" } else { "Untrusted" },
            format_args!(
                "{}: its files route nothing until it is trusted again",
                project.workspace_root.display()
            ),
        );
        report(shell, args, &settings, "untrusted");
        return Ok(());
    }
    let words = match state {
        State::NothingToTrust => "nothing to trust: its files route nothing",
        State::Trusted => "trusted with these settings",
        State::Changed => "the settings changed since you trusted it",
        State::Untrusted => "not trusted",
        State::ByEnvironment => "trusted for this run by SYSTEMPROMPT_SECRETS_TRUST_PROJECT=1",
    };
    if args.format == Format::Human {
        shell.status(
            "Project",
            format_args!("{}: {words}", project.workspace_root.display()),
        );
        for s in &settings {
            shell.info(format_args!("    {s}"));
        }
    }
    let status_word = match state {
        State::NothingToTrust => "nothing-to-trust",
        State::Trusted | State::ByEnvironment => "trusted",
        State::Changed => "changed",
        State::Untrusted => "untrusted",
    };
    if args.status || matches!(state, State::Trusted | State::NothingToTrust) {
        report(shell, args, &settings, status_word);
        return Ok(());
    }
    if !args.yes {
        match shell.confirm("Trust these settings for this project?", false)? {
            Some(true) => {}
            Some(false) => return Err(Error::cancelled()),
            None => {
                return Err(Error::usage("not trusted: nobody can answer here")
                    .help("review the settings above, then pass --yes"))
            }
        }
    }
    let path = trust::trust(&project, &settings)?;
    shell.status(
        "Trusted",
        format_args!(
            "{} setting{} (recorded in {})",
            settings.len(),
            if settings.len() == 1 { "" } else { "s" },
            path.display()
        ),
    );
    report(shell, args, &settings, "trusted");
    Ok(())
}

fn report(shell: &mut Shell, args: &TrustArgs, settings: &[trust::Setting], status: &str) {
    if args.format == Format::Json {
        shell.out(json!({"status": status, "settings": settings, "fingerprint": trust::fingerprint(settings)}));
    }
}
