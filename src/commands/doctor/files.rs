//! `doctor`'s checks of the files: the profiles, file modes and leftovers, and git's view of them.

use std::path::{Path, PathBuf};

use super::{Report, SECRETS_IGNORE};
use crate::commands::{rel, Context};
use crate::finding::Severity;
use crate::git::{self, GitState};
use crate::project::Project;
use crate::shell::Shell;

pub(super) fn profiles(ctx: &Context, shell: &mut Shell, project: &Project, report: &mut Report) {
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
    for (name, why) in &project.profiles.skipped {
        report.warn(
            "profiles",
            format!(
                "profile `{}` is not counted: {why}",
                crate::source::escape_controls(name)
            ),
            format!("run `{}`", crate::profile::MIGRATE_COMMAND),
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
        let detected = project.generation(&profile);
        report.pass(
            "generation",
            format!(
                "profile `{name}`: {} — {}; {}",
                detected.generation,
                detected.reason,
                crate::upstream::describe(&detected)
            ),
        );
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

/// The private copies `edit` keeps after a conflict (`.secrets-edit-*.json`) in `dir`.
/// Where this tool's writes make temp files: the workspace root (`.env`, exports), the
/// `.systemprompt` folder and each profile's folder.
fn temp_file_folders(project: &Project) -> Vec<PathBuf> {
    let mut dirs = vec![project.workspace_root.clone()];
    if let Some(dot) = project.profiles.dir.parent() {
        dirs.push(dot.to_path_buf());
    }
    dirs.push(project.profiles.dir.clone());
    dirs.extend(
        project
            .profiles
            .names
            .iter()
            .map(|n| project.profiles.dir.join(n)),
    );
    dirs.dedup();
    dirs
}

fn edit_copies(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with(".secrets-edit-") && name.ends_with(".json")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Every secrets file of the project: each profile's secrets.json, upstream's credential files
/// (`credentials.json`, and the self-managed tenants' `operator_credentials.json`), and the
/// workspace `.env`.
pub(super) fn secret_files(project: &Project) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = project
        .profiles
        .names
        .iter()
        .map(|n| project.profiles.dir.join(n).join("secrets.json"))
        .filter(|p| p.is_file())
        .collect();
    if let Some(dot) = project.profiles.dir.parent() {
        files.extend(
            ["credentials.json", "operator_credentials.json"]
                .iter()
                .map(|f| dot.join(f))
                .filter(|p| p.is_file()),
        );
    }
    let env = project.workspace_root.join(".env");
    if env.is_file() {
        files.push(env);
    }
    files
}

pub(super) fn modes(project: &Project, files: &[PathBuf], fix: bool, report: &mut Report) {
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
    for stale in temp_file_folders(project)
        .iter()
        .flat_map(|d| crate::atomic::stale_temp_files(d))
    {
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
    for name in &project.profiles.names {
        for copy in edit_copies(&project.profiles.dir.join(name)) {
            loose += 1;
            report.warn(
                "modes",
                format!(
                    "{} is a copy of an `edit` that was kept (a conflict) or cut short; it holds secrets",
                    rel(&copy)
                ),
                format!(
                    "compare it with secrets.json and remove it (`rm {}`); git ignores it when .gitignore has the lines `init` writes",
                    rel(&copy)
                ),
            );
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
pub(super) fn tighten(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub(super) fn tighten(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

pub(super) fn git_state(project: &Project, files: &[PathBuf], fix: bool, report: &mut Report) {
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
pub(super) fn ignore_file_for(project: &Project, file: &Path) -> (PathBuf, &'static str) {
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
