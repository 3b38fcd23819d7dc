//! `doctor`: one report on the setup — config, profile folders, file modes, git, keyring, tokens,
//! and on request the remotes (`--online`) and the database (`--connect`). Never a value.

use clap::Args;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anstyle::Style;
use clap_cargo::style::{ERROR, GOOD, WARN};
use serde_json::json;

use super::{rel, Context};
use crate::cli::{Format, RemoteArgs};
use crate::error::Error;
use crate::finding::Severity;
use crate::git::{self, GitState};
use crate::keyring::{self, KeyringChoice};
use crate::project::Project;
use crate::remote::{self, Level};
use crate::shell::Shell;

/// `doctor`.
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

const SECRETS_IGNORE: &str = include_str!("../../templates/gitignore");

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
        profiles(ctx, &mut quiet, project, &mut report);
        let files = secret_files(project);
        modes(project, &files, args.fix, &mut report);
        git_state(project, &files, args.fix, &mut report);
    }
    // Opened once: the Secret Service probe can take seconds, and the token checks need it too.
    let opened =
        (ctx.global.keyring != KeyringChoice::None).then(|| keyring::open(ctx.global.keyring));
    keyring_check(opened.as_ref(), &mut report);
    let store = opened.and_then(Result::ok).map(|o| o.store);
    tokens(project.as_ref(), store.as_ref(), &mut report);
    if let Some(project) = &project {
        if args.online {
            online(ctx, &mut quiet, project, args, &mut report);
        }
        if args.connect {
            connect(ctx, &mut quiet, project, args, &mut report);
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

fn profiles(ctx: &Context, shell: &mut Shell, project: &Project, report: &mut Report) {
    if !project.profiles.dir.is_dir() {
        report.fail(
            "profiles",
            format!("no profiles folder at {}", rel(&project.profiles.dir)),
            "run `cargo systemprompt-secrets init` to create the `local` profile",
        );
        return;
    }
    if project.profiles.names.is_empty() {
        report.fail(
            "profiles",
            format!("{} holds no profile folder", rel(&project.profiles.dir)),
            "run `cargo systemprompt-secrets init`",
        );
    }
    for name in &project.profiles.names {
        let profile = match project.profiles.open(name) {
            Ok(p) => p,
            Err(e) => {
                report.fail(
                    "profiles",
                    format!("profile `{name}`: {e}"),
                    e.help().as_deref().unwrap_or("fix profile.yaml"),
                );
                continue;
            }
        };
        let path = profile.secrets_path.clone();
        let checked = ctx.check(shell, project, profile, false);
        let relevant = |s: Severity| {
            checked
                .findings
                .iter()
                .filter(|f| f.severity == s && !f.is_advisory())
                .count()
        };
        let (errors, warnings) = (relevant(Severity::Error), relevant(Severity::Warning));
        match &checked.resolved {
            None => report.fail(
                "profiles",
                format!("profile `{name}`: {} cannot be read", rel(&path)),
                format!("run `cargo systemprompt-secrets validate --profile {name}` for the file, line and fix"),
            ),
            Some(r) if !r.secrets_file_found => report.warn(
                "profiles",
                format!("profile `{name}`: no {}", rel(&path)),
                format!("run `cargo systemprompt-secrets init --profile {name}`"),
            ),
            Some(r) if errors > 0 => report.fail(
                "profiles",
                format!("profile `{name}`: {} keys, {errors} validation error(s)", r.entries.len()),
                format!("run `cargo systemprompt-secrets validate --profile {name}`"),
            ),
            Some(r) if warnings > 0 => report.warn(
                "profiles",
                format!("profile `{name}`: {} keys, {warnings} warning(s)", r.entries.len()),
                format!("run `cargo systemprompt-secrets validate --profile {name}`"),
            ),
            Some(r) => report.pass(
                "profiles",
                format!("profile `{name}`: {} keys, valid", r.entries.len()),
            ),
        }
    }
}

/// Every secrets file of the project: each profile's secrets.json and the workspace `.env`.
fn secret_files(project: &Project) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = project
        .profiles
        .names
        .iter()
        .map(|n| project.profiles.dir.join(n).join("secrets.json"))
        .filter(|p| p.is_file())
        .collect();
    let env = project.workspace_root.join(".env");
    if env.is_file() {
        files.push(env);
    }
    files
}

fn modes(project: &Project, files: &[PathBuf], fix: bool, report: &mut Report) {
    let mut loose = 0;
    for file in files {
        let Some(mode) = crate::validate::loose_mode(file) else {
            continue;
        };
        loose += 1;
        if fix {
            match tighten(file) {
                Ok(()) => report.pass(
                    "modes",
                    format!("{}: mode {mode:04o} tightened to 0600", rel(file)),
                ),
                Err(e) => report.fail(
                    "modes",
                    format!("{}: cannot change mode {mode:04o}: {e}", rel(file)),
                    format!("run `chmod 600 {}` as the file's owner", rel(file)),
                ),
            }
        } else {
            report.warn(
                "modes",
                format!(
                    "{} can be read by group or others (mode {mode:04o})",
                    rel(file)
                ),
                format!(
                    "run `chmod 600 {}` or `cargo systemprompt-secrets doctor --fix`",
                    rel(file)
                ),
            );
        }
    }
    for name in &project.profiles.names {
        for stale in crate::atomic::stale_temp_files(&project.profiles.dir.join(name)) {
            loose += 1;
            if fix {
                match std::fs::remove_file(&stale) {
                    Ok(()) => report.pass(
                        "modes",
                        format!("{}: removed (left by a writer that died)", rel(&stale)),
                    ),
                    Err(e) => report.fail(
                        "modes",
                        format!("{}: cannot remove: {e}", rel(&stale)),
                        format!("remove it with `rm {}`", rel(&stale)),
                    ),
                }
            } else {
                report.warn(
                    "modes",
                    format!("{} was left by a writer that died and holds secrets (mode 0600)", rel(&stale)),
                    "run `cargo systemprompt-secrets doctor --fix`, or the next write in that folder removes it",
                );
            }
        }
    }
    if loose == 0 && !files.is_empty() {
        report.pass(
            "modes",
            format!(
                "{} secrets file(s), none readable by group or others",
                files.len()
            ),
        );
    }
}

#[cfg(unix)]
fn tighten(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn tighten(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

fn git_state(project: &Project, files: &[PathBuf], fix: bool, report: &mut Report) {
    // The report says what changed; no separate status lines.
    let mut shell = Shell::new(anstream::ColorChoice::Never, crate::shell::Verbosity::Quiet);
    let default = [project.profiles.dir.join("local").join("secrets.json")];
    let files = if files.is_empty() {
        &default[..]
    } else {
        files
    };
    let mut fine = 0;
    for file in files {
        match git::state(file) {
            GitState::NoRepository => {
                report.pass("git", "not inside a git repository");
                return;
            }
            GitState::Ignored => fine += 1,
            GitState::Tracked { root } => report.fail(
                "git",
                format!(
                    "{} is tracked by git: its values are in the repository",
                    rel(file)
                ),
                format!(
                    "run `{}`, commit, and rotate every value in it",
                    git::rm_cached_command(file, &root)
                ),
            ),
            GitState::NotIgnored if fix => {
                let (gitignore, lines) = ignore_file_for(project, file);
                match crate::git::ensure_ignored(&mut shell, &gitignore, lines, file) {
                    Ok(()) => report.pass(
                        "git",
                        format!("{} is now ignored ({} updated)", rel(file), rel(&gitignore)),
                    ),
                    Err(e) => report.fail(
                        "git",
                        format!("git does not ignore {}: {e}", rel(file)),
                        format!("add it to {}", rel(&gitignore)),
                    ),
                }
            }
            GitState::NotIgnored => report.warn(
                "git",
                format!("git does not ignore {}", rel(file)),
                format!(
                    "add it to {} (or run `cargo systemprompt-secrets doctor --fix`)",
                    rel(&ignore_file_for(project, file).0)
                ),
            ),
        }
    }
    if fine > 0 {
        report.pass(
            "git",
            format!("git ignores {fine} of {} secrets file(s)", files.len()),
        );
    }
}

/// The ignore file and lines that cover `file`: `.systemprompt/.gitignore` for secrets.json, the
/// workspace `.gitignore` for `.env`.
fn ignore_file_for(project: &Project, file: &Path) -> (PathBuf, &'static str) {
    if file.file_name().is_some_and(|n| n == ".env") {
        (project.workspace_root.join(".gitignore"), ".env\n")
    } else {
        let dir = project
            .profiles
            .dir
            .parent()
            .unwrap_or(&project.profiles.dir)
            .to_path_buf();
        (dir.join(".gitignore"), SECRETS_IGNORE)
    }
}

/// `opened` is `None` when the keyring is turned off.
fn keyring_check(
    opened: Option<&Result<keyring::Opened, keyring::NoKeyring>>,
    report: &mut Report,
) {
    let Some(opened) = opened else {
        report.warn(
            "keyring",
            "turned off (--keyring none or SYSTEMPROMPT_SECRETS_KEYRING=none)",
            "use `--keyring auto` to keep tokens in the OS keyring",
        );
        return;
    };
    match opened {
        Ok(opened) => report.pass("keyring", format!("{} works", opened.store.name())),
        Err(e) => {
            report.warn(
                "keyring",
                e.to_string().replace('\n', ";"),
                e.help().as_deref().unwrap_or("start an OS keyring"),
            );
        }
    }
}

fn tokens(
    project: Option<&Project>,
    store: Option<&std::sync::Arc<dyn keyring::CredentialStore>>,
    report: &mut Report,
) {
    for check in remote::token_checks(project, store) {
        match check.level {
            Level::Pass => report.pass("token", check.message),
            Level::Warn => report.warn("token", check.message, check.fix),
            Level::Fail => report.fail("token", check.message, check.fix),
        }
    }
}

/// Asks each configured remote a read-only question: the cloud for the tenant's names, OpenBao
/// for the profile path's metadata.
fn online(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    args: &DoctorArgs,
    report: &mut Report,
) {
    let mut asked = std::collections::BTreeSet::new();
    for name in &project.profiles.names {
        let Ok(profile) = project.profiles.open(name) else {
            continue;
        };
        let store = match ctx.remote(shell, project, &profile, &args.remote) {
            Ok(store) => store,
            // Missing configuration (no tenant, no address): nothing to ask.
            Err(e @ Error::Usage { .. }) => {
                report.warn(
                    "online",
                    format!("profile `{name}`: {e}, nothing to ask"),
                    e.hint().unwrap_or_default(),
                );
                continue;
            }
            Err(e) => {
                remote_failure(report, &format!("profile `{name}`"), &e);
                continue;
            }
        };
        let what = store.describe();
        if !asked.insert(what.clone()) {
            continue;
        }
        let started = Instant::now();
        match store.probe() {
            Ok(answer) => report.pass(
                "online",
                format!(
                    "{what}: answered in {} ms ({answer})",
                    started.elapsed().as_millis()
                ),
            ),
            Err(e) => remote_failure(report, &what, &e),
        }
    }
}

fn remote_failure(report: &mut Report, what: &str, e: &Error) {
    report.fail(
        "online",
        format!("{what}: {}", e.to_string().replace('\n', "; ")),
        e.hint()
            .as_deref()
            .unwrap_or("check the address, the network and the token"),
    );
}

/// Opens a real connection with the selected profile's `database_url`.
fn connect(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    args: &DoctorArgs,
    report: &mut Report,
) {
    let profile = match ctx.select(shell, project) {
        Ok(p) => p,
        Err(e) => {
            report.fail("database", e.to_string(), "choose a profile with --profile");
            return;
        }
    };
    let name = profile.name.clone();
    let Ok(resolved) = ctx.load(shell, project, &profile) else {
        report.fail(
            "database",
            format!("profile `{name}` cannot be read"),
            format!("run `cargo systemprompt-secrets validate --profile {name}`"),
        );
        return;
    };
    let Some(def) = resolved.get("database_url") else {
        report.fail(
            "database",
            format!("profile `{name}` has no database_url"),
            "add \"database_url\": \"postgres://user:password@host:5432/dbname\" to secrets.json",
        );
        return;
    };
    let timeout = Duration::from_secs(args.remote.connect_timeout.max(1));
    match crate::db_check::check(&def.value, timeout) {
        Ok(c) => report.pass(
            "database",
            format!(
                "profile `{name}`: connected to {} ({}) with database_url from {}",
                c.target, c.server, def.source
            ),
        ),
        Err(e) => report.fail(
            "database",
            format!("profile `{name}`: cannot connect to {e}"),
            "check that the server runs and that host, port, database, user and password in database_url are right",
        ),
    }
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
                shell.out(format_args!(
                    "{style}{label}{style:#}  {:<9} {}",
                    c.area, c.message
                ));
                if let Some(fix) = &c.fix {
                    shell.out(format_args!("                fix: {fix}"));
                }
            }
        }
    }
}
