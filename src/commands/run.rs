//! `run -- CMD ARGS…`: validate, then run the command with the secrets in its environment under
//! their env-style names. On Unix the command replaces this process (exec): its exit code and the
//! signals it receives are its own. Values never go into argv.

use clap::Args;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use secrecy::ExposeSecret;

use super::Context;
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

/// Run a command with the profile's secrets in its environment (validated first)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets run -- cargo run --bin server\n  cargo systemprompt-secrets run --only JWT_SECRET,DATABASE_URL -- ./migrate.sh\n  cargo systemprompt-secrets run --no-inherit-env --profile production -- env\n\nSecrets go into the environment under their env-style names, never into argv. The exit code is the command's;\non Unix the command replaces this process (exec), so it receives signals directly. A missing command exits 127."
)]
pub struct RunArgs {
    /// Only these secrets (keys or env-style names, comma-separated)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Do not pass this process's environment on: the command sees the secrets only
    #[arg(long)]
    pub no_inherit_env: bool,
    /// Do not validate first
    #[arg(long)]
    pub no_validate: bool,
    /// Pass on this credential of the tool's own (`SYSTEMPROMPT_API_TOKEN`, `BAO_TOKEN`,
    /// `VAULT_TOKEN`), which the command does not get otherwise (repeatable)
    #[arg(long, value_name = "NAME")]
    pub keep_env: Vec<String>,
    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &RunArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let checked = ctx.check(shell, &project, profile, false);
    if !args.no_validate && checked.fails() {
        for f in &checked.findings {
            super::validate::diagnostic(shell, f);
        }
        return Err(Error::failed(format!(
            "profile `{}` fails validation; the command was not run",
            checked.profile.name
        ))
        .help("fix the findings, or pass --no-validate"));
    }
    // Nothing failed, yet errors can remain (warn mode): each is shown, as a warning (`-q` hides them).
    let errors = checked.count(crate::finding::Severity::Error);
    if !args.no_validate && errors > 0 && shell.verbosity() > crate::shell::Verbosity::Quiet {
        for f in checked
            .findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
        {
            super::validate::diagnostic_in(shell, f, checked.mode);
        }
        shell.warn_help(
            format_args!(
                "profile `{}` has {errors} error{} (mode {}); the command runs anyway",
                checked.profile.name,
                if errors == 1 { "" } else { "s" },
                checked.mode
            ),
            "fix them (`cargo systemprompt-secrets validate` lists them), or hide this with -q",
        );
    }
    let Some(resolved) = checked.resolved else {
        for f in &checked.findings {
            super::validate::diagnostic(shell, f);
        }
        return Err(Error::failed(format!(
            "cannot read profile `{}`",
            checked.profile.name
        )));
    };

    let only: Vec<String> = args.only.iter().map(|n| resolved.key_for(n)).collect();
    if let Some(missing) = only.iter().find(|k| !resolved.entries.contains_key(*k)) {
        return Err(not_set(&resolved, missing, &checked.profile.name));
    }
    // By environment name, as every verb resolves it: `--only` names a variable.
    let wanted: Vec<String> = only.iter().map(|k| keys::env_name(k)).collect();
    let mut env: BTreeMap<String, secrecy::SecretString> = BTreeMap::new();
    for (name, (key, value)) in resolved.by_env_name() {
        if !wanted.is_empty() && !wanted.contains(&name) {
            continue;
        }
        if !keys::is_env_name(&name) {
            return Err(Error::failed(format!(
                "`{}` (from `{}`) is not a valid environment variable name; nothing was run",
                crate::source::escape_controls(&name),
                crate::source::escape_controls(key)
            ))
            .help("rename the key in secrets.json to letters, digits and underscores"));
        }
        if value.expose_secret().contains('\0') {
            return Err(Error::failed(format!(
                "the value of `{key}` holds a NUL byte, which no environment can carry; nothing was run"
            ))
            .help(format!("copy the value of `{key}` again (`validate` points at its place)")));
        }
        env.insert(name, value.clone());
    }
    shell.verbose(format_args!(
        "running with {} secret{} from profile `{}`: {}",
        env.len(),
        if env.len() == 1 { "" } else { "s" },
        checked.profile.name,
        env.keys().cloned().collect::<Vec<_>>().join(", ")
    ));
    add_custom_list(shell, &mut env, checked.settings.generation.release());

    let program = &args.command[0];
    // Found here, once: the kernel copies the whole environment on every exec attempt, so a
    // search by exec along PATH costs (PATH entries) × (environment size). A secret named PATH
    // is the child's PATH.
    let search_path = env
        .get("PATH")
        .map(|p| OsString::from(p.expose_secret()))
        .or_else(|| std::env::var_os("PATH"));
    let resolved_program = find_in_path(program, search_path.as_deref());
    let mut cmd = Command::new(&resolved_program);
    // argv[0] stays the name as given (multi-call programs such as busybox read it).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::arg0(&mut cmd, program);
    cmd.args(&args.command[1..]);
    if args.no_inherit_env {
        cmd.env_clear();
    } else {
        withhold_credentials(shell, &mut cmd, args, &checked.profile, &env);
    }
    for (name, value) in &env {
        cmd.env(name, value.expose_secret());
    }
    drop(env);
    shell.flush();
    exec(cmd, program)
}

/// Removes this tool's own credentials from the child's environment, except those the app's
/// profile reads (`secrets.vault.auth`), those asked for with `--keep-env`, and those the profile's
/// secrets set. `-v` names those withheld that were set.
fn withhold_credentials(
    shell: &mut Shell,
    cmd: &mut Command,
    args: &RunArgs,
    profile: &crate::profile::Profile,
    env: &BTreeMap<String, secrecy::SecretString>,
) {
    let app_reads: Vec<String> = profile
        .yaml
        .secrets
        .as_ref()
        .and_then(|s| s.vault.as_ref())
        .filter(|_| profile.yaml.source() == crate::profile::SecretSource::Vault)
        .map(|v| v.auth.clone().unwrap_or_default().env_names())
        .unwrap_or_default();
    let mut withheld = Vec::new();
    for name in crate::token::CREDENTIAL_ENV {
        let kept = app_reads.iter().any(|n| n == name)
            || args.keep_env.iter().any(|n| n == name)
            || env.contains_key(*name);
        if !kept {
            cmd.env_remove(name);
            if std::env::var_os(name).is_some() {
                withheld.push(*name);
            }
        }
    }
    if !withheld.is_empty() {
        shell.verbose(format_args!(
            "not passed on: {} (this tool's own credentials; `--keep-env NAME` passes one on)",
            withheld.join(", ")
        ));
    }
}

/// `--only` names a key the profile does not set (with the key it is likely a typo of).
fn not_set(resolved: &crate::layers::Resolved, missing: &str, profile: &str) -> Error {
    let err = Error::failed(format!(
        "--only names `{missing}`, which is not set in profile `{profile}`"
    ));
    match resolved.nearest_key(missing) {
        Some(near) => err.help(format!("did you mean `{near}`?")),
        None => err,
    }
}

/// As `cloud deploy` does: the app reads custom keys from the environment only through
/// `SYSTEMPROMPT_CUSTOM_SECRETS` (a `source: env` profile reads nothing else). The service's own
/// secret is not custom; a list the profile sets itself is kept.
fn add_custom_list(
    shell: &mut Shell,
    env: &mut BTreeMap<String, secrecy::SecretString>,
    release: &crate::upstream::Release,
) {
    if let Some(list) = crate::remote::names::env_custom_list(env.keys(), release) {
        shell.verbose(format_args!(
            "and {} = {list}, as deploy sets it",
            crate::remote::CUSTOM_SECRETS
        ));
        env.insert(
            crate::remote::CUSTOM_SECRETS.to_owned(),
            secrecy::SecretString::from(list),
        );
    }
}

/// `program` as found on `search` (this process's PATH, also for `--no-inherit-env`, where the
/// child has none), or as given when it names a path or is found nowhere (exec then reports it).
fn find_in_path(program: &OsString, search: Option<&std::ffi::OsStr>) -> PathBuf {
    let path = PathBuf::from(program);
    if path.components().count() > 1 || program.is_empty() {
        return path;
    }
    search
        .into_iter()
        .flat_map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .unwrap_or(path)
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &std::path::Path) -> bool {
    p.is_file()
}

fn launch_error(program: &OsString, e: &std::io::Error) -> Error {
    let name = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::exit_with(
            crate::exit_code::NOT_FOUND,
            format!("command not found: `{name}`"),
        )
        .help("check the name and your PATH"),
        std::io::ErrorKind::ArgumentListTooLong => Error::exit_with(
            crate::exit_code::NOT_EXECUTABLE,
            format!("cannot run `{name}`: its arguments and environment are larger than the system accepts"),
        )
        .help("one variable may hold at most 128 KiB and all of them together about a quarter of the stack limit (`ulimit -s`); pass fewer secrets with `--only NAME,…`, or start from an empty environment with `--no-inherit-env`"),
        std::io::ErrorKind::PermissionDenied => Error::exit_with(
            crate::exit_code::NOT_EXECUTABLE,
            format!("`{name}` cannot be executed (permission denied)"),
        ),
        _ => Error::exit_with(
            crate::exit_code::NOT_EXECUTABLE,
            format!("cannot run `{name}`: {e}"),
        ),
    }
}

/// Replaces this process with the command: exit code and signals are the command's own.
#[cfg(unix)]
fn exec(mut cmd: Command, program: &OsString) -> Result<(), Error> {
    use std::os::unix::process::CommandExt;
    // The command gets the core-file limit the user had; this process keeps none until exec.
    crate::harden::restore_for_child();
    let e = cmd.exec();
    crate::harden::no_core_dumps();
    Err(launch_error(program, &e))
}

/// Runs the command and passes its exit code on.
#[cfg(not(unix))]
fn exec(mut cmd: Command, program: &OsString) -> Result<(), Error> {
    let status = cmd.status().map_err(|e| launch_error(program, &e))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Error::exit(code)),
        None => Err(Error::exit(crate::exit_code::FAILURE)),
    }
}
