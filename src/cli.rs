//! Command-line arguments (clap), as `cargo systemprompt-secrets …` or the binary run directly.
// Reason: doc comments here are the help text people read; backticks would show up in it.
#![allow(clippy::doc_markdown)]

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{
    cache, cleanup, completions, copy, diff, doctor, explain, export, generate, get, import, init,
    list, login, logout, profiles, pull, rollback, rotate, run, scan, set, status, sync, unset,
    validate, versions,
};
use crate::keyring::KeyringChoice;

const ABOUT: &str = "Find, load and validate the secrets of a systemprompt project";

const EXAMPLES: &str = "\
Examples:
  cargo systemprompt-secrets validate                    Check the active profile
  cargo systemprompt-secrets validate --all-profiles     Check every profile
  cargo systemprompt-secrets list --profile production   Keys, sources and status (never values)
  cargo systemprompt-secrets explain anthropic           Which layer defines a key, and which wins
  cargo systemprompt-secrets init --profile local        Create a profile, its secrets generated

Layers, highest first: process environment, .env / --env-file, secrets.json, keyring cache.
Exit codes: 0 ok, 1 failing findings, invalid files or a failed request, 2 usage or
configuration error, 3 cancelled at a prompt, 126/127 `run`'s command cannot run or is not
found, 128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM).";

/// `cargo` passes the subcommand name as the first argument.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo::style::CLAP_STYLING)]
pub enum CargoCli {
    /// Find, load and validate the secrets of a systemprompt project.
    #[command(name = "systemprompt-secrets")]
    SystempromptSecrets(Cli),
}

impl CargoCli {
    /// Parses the process arguments, accepting both `cargo systemprompt-secrets …` and the binary run directly.
    #[must_use]
    pub fn parse_args() -> Cli {
        Self::parse_from_args(std::env::args_os())
    }

    /// Parses these arguments (see [`CargoCli::parse_args`]).
    pub fn parse_from_args(args: impl IntoIterator<Item = OsString>) -> Cli {
        Self::try_parse_args(args).unwrap_or_else(|e| e.exit())
    }

    /// Like [`CargoCli::parse_from_args`] but returns the clap error.
    pub fn try_parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let args = normalize_args(args);
        let mut command = Self::command();
        if let Some(only) = command_for_verb(&command, &args) {
            command = only;
        }
        let matches = command.try_get_matches_from(args)?;
        let (_, ours) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        Cli::from_arg_matches(ours)
    }
}

/// The command line with only the verb `args` name (its options and the global ones): clap copies
/// every global option into every command when it builds one, so parsing with the whole tree
/// costs a few hundred KiB and as many page faults on each start. `None` (parse with the whole
/// tree) when the verb is not plain: no verb, an unknown one, `help`, or `--help`/`--version`
/// before it, so that help, suggestions and errors come from the whole tree.
fn command_for_verb(full: &clap::Command, args: &[OsString]) -> Option<clap::Command> {
    let ours = full.find_subcommand("systemprompt-secrets")?;
    let takes_value = |name: &str| {
        ours.get_arguments().any(|a| {
            a.get_action().takes_values()
                && (a.get_long() == name.strip_prefix("--")
                    || a.get_short().is_some_and(|c| name == format!("-{c}")))
        })
    };
    let mut rest = args.iter().skip(2);
    let verb = loop {
        let arg = rest.next()?.to_str()?;
        if arg == "--" || matches!(arg, "-h" | "--help" | "-V" | "--version" | "help") {
            return None;
        }
        if !arg.starts_with('-') || arg == "-" {
            break arg;
        }
        if !arg.contains('=') && takes_value(arg) {
            rest.next()?;
        }
    };
    let verb = ours.find_subcommand(verb)?.clone();
    let trimmed = <GlobalArgs as Args>::augment_args(clap::Command::new("systemprompt-secrets"))
        .subcommand(verb)
        .subcommand_required(true);
    Some(
        clap::Command::new("cargo")
            .bin_name("cargo")
            .styles(clap_cargo::style::CLAP_STYLING)
            .subcommand(trimmed)
            .subcommand_required(true),
    )
}

/// Inserts `systemprompt-secrets` after the program name when the binary is run directly.
fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|a| a != "systemprompt-secrets") {
        args.insert(1.min(args.len()), "systemprompt-secrets".into());
    }
    playbook_alias(&mut args);
    args
}

/// The verbs upstream's playbooks spell `cloud secrets VERB` (the CLI before 0.32).
const PLAYBOOK_VERBS: &[&str] = &["sync", "set", "unset", "cleanup"];

/// Set when the command line used the playbook's `cloud secrets VERB`: the verb it ran.
pub static PLAYBOOK_ALIAS: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// `cloud secrets sync|set|unset|cleanup …` (a hidden alias, for playbook users) becomes the
/// verb itself, when it comes before anything else that is not an option.
fn playbook_alias(args: &mut Vec<OsString>) {
    let Some(at) = args
        .iter()
        .skip(2)
        .position(|a| a == "cloud" || a == "--")
        .map(|i| i + 2)
    else {
        return;
    };
    if args[at] != "cloud" || args.get(at + 1).is_none_or(|a| a != "secrets") {
        return;
    }
    let Some(verb) = args
        .get(at + 2)
        .and_then(|a| PLAYBOOK_VERBS.iter().find(|v| a == **v))
    else {
        return;
    };
    let _ = PLAYBOOK_ALIAS.set(verb);
    args.splice(at..at + 3, [OsString::from(*verb)]);
}

/// The command line.
#[derive(Debug, Args)]
#[command(version, about = ABOUT, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Path to Cargo.toml
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Profile to use: a name, a profile folder or its profile.yaml [env: SYSTEMPROMPT_PROFILE]
    #[arg(long, global = true, value_name = "NAME|PATH", add = clap_complete::engine::ArgValueCompleter::new(crate::commands::completions::profiles))]
    pub profile: Option<String>,
    /// Folder holding one folder per profile (overrides `profiles-dir` in the manifest)
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Extra dotenv file, above the workspace `.env` (repeatable; later files win)
    #[arg(long = "env-file", global = true, value_name = "PATH")]
    pub env_files: Vec<PathBuf>,
    /// Ignore the process environment and dotenv files
    #[arg(long, global = true)]
    pub no_env: bool,
    /// OS keyring backend [env: SYSTEMPROMPT_SECRETS_KEYRING]
    #[arg(long, global = true, value_enum, value_name = "BACKEND", env = "SYSTEMPROMPT_SECRETS_KEYRING", hide_env = true, default_value_t = KeyringChoice::Auto)]
    pub keyring: KeyringChoice,
    /// Coloring
    #[arg(long, global = true, value_enum, value_name = "WHEN", env = "CARGO_TERM_COLOR", hide_env_values = true, default_value_t = Color::Auto)]
    pub color: Color,
    /// Use verbose output (-vv very verbose)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Do not print status messages
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// `--color`: `auto` colours when writing to a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(missing_docs)] // Reason: variant docs would turn the one-line help into a long list.
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `--format` for commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// The commands. `defer`: a command's own arguments are built only when it runs (or for help and
/// completions), not for every start.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a profile with freshly generated secrets (what this systemprompt version's setup makes) and make sure git ignores secrets
    Init(init::InitArgs),
    /// Validate a profile's secrets and report every finding
    #[command(visible_alias = "check")]
    Validate(validate::ValidateArgs),
    /// List keys with their source and status (never values); --remote compares with the remote
    #[command(visible_alias = "ls")]
    List(list::ListArgs),
    /// Show where a key comes from; print its value only with --reveal
    Get(get::GetArgs),
    /// Show every layer that defines a key and which one wins
    Explain(explain::ExplainArgs),
    /// List the profiles with their key count and validation status
    Profiles(profiles::ProfilesArgs),
    /// Push the profile's secrets.json to the remote in one request, after printing a plan
    Sync(sync::SyncArgs),
    /// Set remote secrets; values come from a hidden prompt, stdin, or KEY=VALUE
    Set(set::SetArgs),
    /// Delete remote secrets (a name that was not set is not an error)
    Unset(unset::UnsetArgs),
    /// Delete remote names that must not be there (SYSTEMPROMPT_API_URL, system-managed names)
    Cleanup(cleanup::CleanupArgs),
    /// Compare local and remote: values in constant time where the remote returns them (OpenBao), names otherwise
    Diff(diff::DiffArgs),
    /// OpenBao: write the remote map into the profile's secrets.json (names of changes shown first)
    Pull(pull::PullArgs),
    /// OpenBao: list the KV v2 versions of the profile's secret, with times and deletion state
    Versions(versions::VersionsArgs),
    /// OpenBao: restore an earlier version as a new write
    Rollback(rollback::RollbackArgs),
    /// Run a command with the profile's secrets in its environment (validated first)
    Run(run::RunArgs),
    /// Edit the profile's secrets.json in $VISUAL/$EDITOR; validated before it replaces the file
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets edit\n  EDITOR=nano cargo systemprompt-secrets edit --profile staging\n\nThe editor works on a private temporary copy (0600) that is never left behind. The file is replaced\natomically, only when it changed and only if nobody changed it meanwhile."
    )]
    Edit(crate::commands::edit::EditArgs),
    /// Print a fresh random value from the OS CSPRNG (for piping)
    Generate(generate::GenerateArgs),
    /// Replace a key's value with a fresh random one (the value is never printed)
    Rotate(rotate::RotateArgs),
    /// Import secrets from a dotenv file (or the environment) into secrets.json
    Import(import::ImportArgs),
    /// Write the profile's secrets as dotenv, docker env, JSON, shell, $GITHUB_ENV or a Kubernetes Secret
    Export(export::ExportArgs),
    /// Copy keys from one local profile to another
    Copy(copy::CopyArgs),
    /// Store the cloud API token (or an OpenBao token) in the OS keyring
    Login(login::LoginArgs),
    /// Remove a stored token from the OS keyring
    Logout(logout::LogoutArgs),
    /// Show the API URL, where the token comes from and when it expires (never the token)
    #[command(visible_alias = "whoami")]
    Status(status::StatusArgs),
    /// Validate a profile and cache its secrets.json in the OS keyring (the lowest layer)
    Cache(cache::CacheArgs),
    /// Remove a profile's cached secrets from the OS keyring
    #[command(after_help = "Examples:\n  cargo systemprompt-secrets uncache --profile local")]
    Uncache,
    /// Check the whole setup: config, profiles, file modes, git, keyring, tokens, remotes, database
    Doctor(doctor::DoctorArgs),
    /// Look through git-tracked files for secret values and key formats (never printing them)
    Scan(scan::ScanArgs),
    /// Let this project's files decide where its secrets go (addresses, tenants, paths outside)
    Trust(crate::commands::trust::TrustArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
}

/// Options of every verb that talks to a remote.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    /// Cloud tenant [default: `tenant-id` in the manifest, then `cloud.tenant_id` in profile.yaml]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL] [default: https://api.systemprompt.io]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Where OpenBao answers, and how long to wait.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Options of the verbs only OpenBao answers (`pull`, `versions`, `rollback`: the cloud keeps
/// no values and no versions), so they offer no cloud flags.
#[derive(Debug, Args, Clone)]
pub struct BaoArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Where OpenBao answers, and how long to wait.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl ConnectionArgs {
    /// `--connect-timeout`'s default, in seconds.
    pub const CONNECT_TIMEOUT: u64 = 10;
    /// `--timeout`'s default, in seconds.
    pub const TIMEOUT: u64 = 30;
}

impl Default for RemoteArgs {
    /// What a verb without remote flags uses: no flag given, every default as on the command line.
    fn default() -> Self {
        Self {
            tenant: None,
            api_url: None,
            format: Format::default(),
            connection: ConnectionArgs {
                address: Vec::new(),
                connect_timeout: ConnectionArgs::CONNECT_TIMEOUT,
                timeout: ConnectionArgs::TIMEOUT,
            },
        }
    }
}

impl BaoArgs {
    /// The same options as every remote verb takes, with no cloud flag given.
    #[must_use]
    pub fn remote(&self) -> RemoteArgs {
        RemoteArgs {
            tenant: None,
            api_url: None,
            format: self.format,
            connection: self.connection.clone(),
        }
    }
}

/// Where an OpenBao remote answers, and how long to wait for it.
#[derive(Debug, Args, Clone)]
pub struct ConnectionArgs {
    /// OpenBao/Vault address(es), comma-separated [default: `address` in the manifest, BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub address: Vec<String>,
    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECS", default_value_t = ConnectionArgs::CONNECT_TIMEOUT)]
    pub connect_timeout: u64,
    /// Seconds to wait for each request
    #[arg(long, value_name = "SECS", default_value_t = ConnectionArgs::TIMEOUT)]
    pub timeout: u64,
}

/// Options of every verb that writes to a remote.
#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    /// Show the plan; send no write request
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation on protected profiles
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub use crate::config::RemoteBackend as Backend;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        CargoCli::command().debug_assert();
    }

    #[test]
    fn accepts_cargo_and_direct_invocation() {
        let via_cargo = CargoCli::try_parse_args(
            [
                "cargo-systemprompt-secrets",
                "systemprompt-secrets",
                "validate",
            ]
            .map(OsString::from),
        )
        .unwrap();
        let direct = CargoCli::try_parse_args(
            ["cargo-systemprompt-secrets", "validate", "--strict"].map(OsString::from),
        )
        .unwrap();
        assert!(matches!(via_cargo.command, Command::Validate(_)));
        assert!(matches!(
            direct.command,
            Command::Validate(validate::ValidateArgs { strict: true, .. })
        ));
    }
}
