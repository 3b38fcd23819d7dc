//! `doctor`: one report on the setup — config, profile folders, file modes, git, keyring, tokens,
//! and on request the remotes (`--online`) and the database (`--connect`). Never a value.

mod database;
mod files;
mod remotes;

use clap::Args;

use anstyle::Style;
use clap_cargo::style::{ERROR, GOOD, WARN};
use serde_json::json;

use super::{rel, Context};
use crate::cli::{Format, RemoteArgs};
use crate::error::Error;
use crate::keyring::{self, KeyringChoice};
use crate::shell::Shell;

/// Check the whole setup: config, profiles, file modes, git, keyring, tokens, remotes, database
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets doctor\n  cargo systemprompt-secrets doctor --fix               Tighten file modes, add missing ignore lines\n  cargo systemprompt-secrets doctor --online --connect  Also ask each remote and open the database\n\nEach line is pass, warn or fail, with a fix. Exit codes: 0 no failure, 1 any failure."
)]
pub struct DoctorArgs {
    /// Repair what is safe to repair: file modes to 0600, missing git-ignore lines
    #[arg(long)]
    pub fix: bool,
    /// Also ask each configured remote a read-only question
    #[arg(long)]
    pub online: bool,
    /// Also open a PostgreSQL connection with the profile's database_url
    #[arg(long)]
    pub connect: bool,
    /// Remote options and the output format.
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, serde::Serialize)]
struct Check {
    status: Status,
    area: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn pass(&mut self, area: &'static str, message: impl Into<String>) {
        self.push(Status::Pass, area, message.into(), None);
    }
    fn warn(&mut self, area: &'static str, message: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Warn, area, message.into(), Some(fix.into()));
    }
    fn fail(&mut self, area: &'static str, message: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Fail, area, message.into(), Some(fix.into()));
    }
    fn push(&mut self, status: Status, area: &'static str, message: String, fix: Option<String>) {
        self.checks.push(Check {
            status,
            area,
            message,
            fix,
        });
    }
}

const SECRETS_IGNORE: &str = include_str!("../../../templates/gitignore");

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &DoctorArgs) -> Result<(), Error> {
    let mut report = Report::default();
    // Problems found while loading are part of the report, not separate warnings.
    let mut quiet = Shell::new(anstream::ColorChoice::Never, crate::shell::Verbosity::Quiet);

    let project = match ctx.project(shell) {
        Ok(p) => {
            let from = if p.config.manifests.is_empty() {
                "no [metadata.systemprompt-secrets] table; defaults apply".to_owned()
            } else {
                format!(
                    "[metadata.systemprompt-secrets] read from {}",
                    p.config
                        .manifests
                        .iter()
                        .map(|m| rel(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            report.pass("config", from);
            Some(p)
        }
        Err(e) => {
            let fix = e.hint();
            report.fail(
                "config",
                e.to_string(),
                fix.as_deref()
                    .unwrap_or("fix the manifest, then run doctor again"),
            );
            None
        }
    };

    if let Some(project) = &project {
        files::profiles(ctx, &mut quiet, project, &mut report);
        let files = files::secret_files(project);
        files::modes(project, &files, args.fix, &mut report);
        files::git_state(project, &files, args.fix, &mut report);
    }
    match crate::harden::state() {
        Ok(held) => report.pass("process", format!("no core dump can hold a secret ({held})")),
        Err(missing) => report.warn(
            "process",
            format!("a core dump of this tool could hold secrets: {missing}"),
            "the kernel refused `prctl(PR_SET_DUMPABLE)` or `setrlimit(RLIMIT_CORE)`; run outside the sandbox that forbids them",
        ),
    }
    // Opened once: the Secret Service probe can take seconds, and the token checks need it too.
    let opened =
        (ctx.global.keyring != KeyringChoice::None).then(|| keyring::open(ctx.global.keyring));
    remotes::keyring_check(opened.as_ref(), &mut report);
    let store = opened.and_then(Result::ok).map(|o| o.store);
    remotes::tokens(project.as_ref(), store.as_ref(), &mut report);
    if let Some(project) = &project {
        if args.online {
            remotes::online(ctx, &mut quiet, project, args, &mut report);
        }
        if args.connect {
            database::connect(ctx, &mut quiet, project, args, &mut report);
        }
    }

    print(shell, &report, args.remote.format);
    let fails = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    if fails > 0 {
        return Err(Error::exit_with(
            crate::exit_code::FAILURE,
            format!("doctor found {fails} problem(s) to fix"),
        ));
    }
    Ok(())
}

fn print(shell: &mut Shell, report: &Report, format: Format) {
    match format {
        Format::Json => shell.out(json!({
            "ok": report.checks.iter().all(|c| c.status != Status::Fail),
            "checks": report.checks,
        })),
        Format::Human => {
            for c in &report.checks {
                let (style, label): (Style, &str) = match c.status {
                    Status::Pass => (GOOD, "pass"),
                    Status::Warn => (WARN, "warn"),
                    Status::Fail => (ERROR, "fail"),
                };
                shell.out_labelled(style, label, format_args!("  {:<9} {}", c.area, c.message));
                if let Some(fix) = &c.fix {
                    shell.out(format_args!("                fix: {fix}"));
                }
            }
        }
    }
}
