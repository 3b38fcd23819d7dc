//! Command-line arguments (clap), as `cargo systemprompt-secrets …` or the binary run directly.
// Reason: doc comments here are the help text people read; backticks would show up in it.
#![allow(clippy::doc_markdown)]

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::keyring::KeyringChoice;

const ABOUT: &str = "Find, load and validate the secrets of a systemprompt project";

const EXAMPLES: &str = "\
Examples:
  cargo systemprompt-secrets validate                    Check the active profile
  cargo systemprompt-secrets validate --all-profiles     Check every profile
  cargo systemprompt-secrets list --profile production   Keys, sources and status (never values)
  cargo systemprompt-secrets explain anthropic           Which layer defines a key, and which wins
  cargo systemprompt-secrets init --profile local        Create a profile with a fresh jwt_secret

Layers, highest first: process environment, .env / --env-file, secrets.json, keyring cache.
Exit codes: 0 ok, 1 failing findings or invalid files, 2 usage or configuration error.";

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
        let CargoCli::SystempromptSecrets(cli) = Self::parse_from(normalize_args(args));
        cli
    }

    /// Like [`CargoCli::parse_from_args`] but returns the clap error.
    pub fn try_parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
        Self::try_parse_from(normalize_args(args)).map(|CargoCli::SystempromptSecrets(cli)| cli)
    }
}

/// Inserts `systemprompt-secrets` after the program name when the binary is run directly.
fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|a| a != "systemprompt-secrets") {
        args.insert(1.min(args.len()), "systemprompt-secrets".into());
    }
    args
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
pub struct GlobalArgs {
    /// Path to Cargo.toml
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Profile to use: a name, a profile folder or its profile.yaml [env: SYSTEMPROMPT_PROFILE]
    #[arg(long, global = true, value_name = "NAME|PATH")]
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

/// `--format` for `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ValidateFormat {
    /// For people (diagnostics on stderr).
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow annotations on stdout.
    Github,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a profile with a fresh jwt_secret and make sure git ignores secrets
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets init                        Create the `local` profile\n  cargo systemprompt-secrets init --profile staging      Create another profile\n  cargo systemprompt-secrets init --force                Replace an existing secrets.json"
    )]
    Init(InitArgs),
    /// Validate a profile's secrets and report every finding
    #[command(
        visible_alias = "check",
        after_help = "Examples:\n  cargo systemprompt-secrets validate\n  cargo systemprompt-secrets validate --strict --profile production\n  cargo systemprompt-secrets validate --all-profiles --format github\n\nExit codes: 0 clean (warnings allowed unless strict), 1 failing findings, 2 usage or configuration error."
    )]
    Validate(ValidateArgs),
    /// List keys with their source and status (never values); --remote compares with the remote
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  cargo systemprompt-secrets list\n  cargo systemprompt-secrets list --profile production --format json\n  cargo systemprompt-secrets list --remote --profile production"
    )]
    List(ListArgs),
    /// Show where a key comes from; print its value only with --reveal
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets get database_url            Source and status only\n  cargo systemprompt-secrets get DATABASE_URL --reveal   The value, for scripts\n  psql \"$(cargo systemprompt-secrets get database_url --reveal)\""
    )]
    Get(GetArgs),
    /// Show every layer that defines a key and which one wins
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets explain anthropic\n  cargo systemprompt-secrets explain JWT_SECRET --format json"
    )]
    Explain(ExplainArgs),
    /// List the profiles with their key count and validation status
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets profiles\n  cargo systemprompt-secrets profiles --format json"
    )]
    Profiles(FormatArgs),
    /// Push the profile's secrets.json to the remote in one request, after printing a plan
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets sync --profile production --dry-run\n  cargo systemprompt-secrets sync --profile production --yes\n  cargo systemprompt-secrets sync --prune                 Also delete remote-only names\n\nOnly secrets.json is pushed; the environment and .env only with --include-env."
    )]
    Sync(SyncArgs),
    /// Set remote secrets; values come from a hidden prompt, stdin, or KEY=VALUE
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets set ANTHROPIC_API_KEY             Prompt for the value (hidden)\n  printf %s \"$KEY\" | cargo systemprompt-secrets set OPENAI_API_KEY --stdin\n  cargo systemprompt-secrets set FEATURE_FLAG=on --local      Also write it to secrets.json\n\nNames are upper-cased. Values given as KEY=VALUE end up in shell history; prefer the prompt or --stdin."
    )]
    Set(SetArgs),
    /// Delete remote secrets (a name that was not set is not an error)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets unset OLD_API_KEY\n  cargo systemprompt-secrets unset A B C --profile production --yes"
    )]
    Unset(UnsetArgs),
    /// Delete remote names that must not be there (SYSTEMPROMPT_API_URL, system-managed names)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets cleanup --dry-run\n  cargo systemprompt-secrets cleanup --profile production --yes"
    )]
    Cleanup(CleanupArgs),
    /// Compare local and remote names: local-only, remote-only, both
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets diff --profile production\n  cargo systemprompt-secrets diff --format json\n\nThe cloud API never returns values, so only names are compared."
    )]
    Diff(DiffArgs),
    /// OpenBao: write the remote map into the profile's secrets.json (names of changes shown first)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets pull --profile staging --dry-run\n  cargo systemprompt-secrets pull --profile staging --yes\n\nOnly for profiles with backend = \"openbao\": the systemprompt cloud never returns values."
    )]
    Pull(PullArgs),
    /// OpenBao: list the KV v2 versions of the profile's secret, with times and deletion state
    #[command(after_help = "Examples:\n  cargo systemprompt-secrets versions --profile staging")]
    Versions(VersionsArgs),
    /// OpenBao: restore an earlier version as a new write
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets rollback --version 3 --profile staging"
    )]
    Rollback(RollbackArgs),
    /// Run a command with the profile's secrets in its environment (validated first)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets run -- cargo run --bin server\n  cargo systemprompt-secrets run --only JWT_SECRET,DATABASE_URL -- ./migrate.sh\n  cargo systemprompt-secrets run --no-inherit-env --profile production -- env\n\nSecrets go into the environment under their env-style names, never into argv. The exit code is the command's;\non Unix the command replaces this process (exec), so it receives signals directly. A missing command exits 127."
    )]
    Run(RunArgs),
    /// Edit the profile's secrets.json in $VISUAL/$EDITOR; validated before it replaces the file
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets edit\n  EDITOR=nano cargo systemprompt-secrets edit --profile staging\n\nThe editor works on a private temporary copy (0600) that is never left behind. The file is replaced\natomically, only when it changed and only if nobody changed it meanwhile."
    )]
    Edit,
    /// Print a fresh random value from the OS CSPRNG (for piping)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets generate                      48 bytes, base64 (like openssl rand -base64 48)\n  cargo systemprompt-secrets generate --bytes 32 --format hex\n  cargo systemprompt-secrets generate stripe_webhook        Uses the key's `generate` rule, if any"
    )]
    Generate(GenerateArgs),
    /// Replace a key's value with a fresh random one (the value is never printed)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets rotate jwt_secret\n  cargo systemprompt-secrets rotate session_key --bytes 32 --encoding hex --sync\n\njwt_secret has a built-in generator; other keys need --bytes or `generate = \"base64:48\"` in their rule."
    )]
    Rotate(RotateArgs),
    /// Import secrets from a dotenv file (or the environment) into secrets.json
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets import .env\n  cargo systemprompt-secrets import .env --overwrite --profile staging\n  cargo systemprompt-secrets import --from-env\n\nANTHROPIC_API_KEY becomes anthropic, FOO_BAR becomes foo_bar. Settings such as HTTP_PORT are left out unless --all."
    )]
    Import(ImportArgs),
    /// Write the profile's secrets as dotenv, JSON, shell or $GITHUB_ENV text
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets export --format dotenv -o .env.production\n  cargo systemprompt-secrets export --format github-env >> \"$GITHUB_ENV\"\n  cargo systemprompt-secrets export --format shell --reveal     To a terminal, on purpose"
    )]
    Export(ExportArgs),
    /// Copy keys from one local profile to another
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets copy --from local --to staging\n  cargo systemprompt-secrets copy --from local --to production jwt_secret --overwrite --yes"
    )]
    Copy(CopyArgs),
    /// Store the cloud API token (or an OpenBao token) in the OS keyring
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets login                         Prompt for the token (hidden)\n  printf %s \"$TOKEN\" | cargo systemprompt-secrets login --token-stdin\n  cargo systemprompt-secrets login --import --yes          Move upstream's credentials.json into the keyring\n  cargo systemprompt-secrets login --backend openbao --address https://bao.example:8200\n\nTokens are looked up in this order: SYSTEMPROMPT_API_TOKEN, the OS keyring, .systemprompt/credentials.json."
    )]
    Login(LoginArgs),
    /// Remove a stored token from the OS keyring
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets logout\n  cargo systemprompt-secrets logout --backend openbao --address https://bao.example:8200"
    )]
    Logout(LogoutArgs),
    /// Show the API URL, where the token comes from and when it expires (never the token)
    #[command(
        visible_alias = "whoami",
        after_help = "Examples:\n  cargo systemprompt-secrets status\n  cargo systemprompt-secrets whoami --format json"
    )]
    Status(StatusArgs),
    /// Validate a profile and cache its secrets.json in the OS keyring (the lowest layer)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets cache --profile local\n  cargo systemprompt-secrets cache --status\n  cargo systemprompt-secrets uncache --profile local"
    )]
    Cache(CacheArgs),
    /// Remove a profile's cached secrets from the OS keyring
    #[command(after_help = "Examples:\n  cargo systemprompt-secrets uncache --profile local")]
    Uncache,
    /// Check the whole setup: config, profiles, file modes, git, keyring, tokens, remotes, database
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets doctor\n  cargo systemprompt-secrets doctor --fix               Tighten file modes, add missing ignore lines\n  cargo systemprompt-secrets doctor --online --connect  Also ask each remote and open the database\n\nEach line is pass, warn or fail, with a fix. Exit codes: 0 no failure, 1 any failure."
    )]
    Doctor(DoctorArgs),
    /// Look through git-tracked files for secret values and key formats (never printing them)
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets scan                       Tracked files in the work tree\n  cargo systemprompt-secrets scan --staged              Only what is staged (the pre-commit hook)\n  cargo systemprompt-secrets scan --history --format sarif > scan.sarif\n  cargo systemprompt-secrets scan install-hook          Run `scan --staged` before each commit\n\nExit codes: 0 nothing found, 1 something found, 2 usage or configuration error."
    )]
    Scan(ScanArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  cargo systemprompt-secrets completions bash > ~/.local/share/bash-completion/completions/cargo-systemprompt-secrets\n  cargo systemprompt-secrets completions zsh > ~/.zfunc/_cargo-systemprompt-secrets"
    )]
    Completions(CompletionsArgs),
}

/// `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing secrets.json
    #[arg(long)]
    pub force: bool,
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ValidateFormat,
    /// Fail on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Validate every profile
    #[arg(long, conflicts_with = "profile")]
    pub all_profiles: bool,
}

/// Commands with only `--format`.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key (`anthropic`) or its env-style name (`ANTHROPIC_API_KEY`)
    pub key: String,
    /// Print the value itself on stdout
    #[arg(long)]
    pub reveal: bool,
    /// Output format (without --reveal)
    #[arg(long, value_enum, default_value_t, conflicts_with = "reveal")]
    pub format: Format,
}

/// `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The key (`anthropic`) or its env-style name (`ANTHROPIC_API_KEY`)
    pub key: String,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Compare with the remote's names instead (same as `diff`)
    #[arg(long)]
    pub remote: bool,
    /// Remote options (with --remote)
    #[command(flatten)]
    pub target: RemoteArgs,
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
    /// OpenBao/Vault address(es), comma-separated [default: `address` in the manifest, BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub address: Vec<String>,
    /// Seconds to wait for a connection
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds to wait for each request
    #[arg(long, value_name = "SECS", default_value_t = 30)]
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

/// `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Also push values from the environment and .env files (never by default)
    #[arg(long)]
    pub include_env: bool,
    /// Push even when validation finds errors
    #[arg(long)]
    pub force: bool,
    /// Also delete remote names that are not in the profile (never system-managed or deploy-owned ones)
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// NAME=VALUE, NAME (prompt for the value), or NAME=- (read it from stdin)
    #[arg(required = true, value_name = "NAME[=VALUE]")]
    pub pairs: Vec<String>,
    /// Read the value of the one NAME given from stdin
    #[arg(long)]
    pub stdin: bool,
    /// Also write the values into the profile's secrets.json (snake_case keys)
    #[arg(long)]
    pub local: bool,
    /// Set even when a value fails validation
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `unset`.
#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// Names to delete (upper-cased)
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `run`.
#[derive(Debug, Args)]
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
    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The key the value is for (its `generate` rule is used when it has one)
    pub key: Option<String>,
    /// Random bytes (characters for alnum) [default: 48]
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Encoding [default: base64]
    #[arg(long, value_enum)]
    pub format: Option<crate::generate::Format>,
}

/// `rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The key to rotate (`jwt_secret` or a key with a `generate` rule, or give --bytes)
    pub key: String,
    /// Random bytes (characters for alnum)
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Encoding of the new value [default: base64]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub encoding: Option<crate::generate::Format>,
    /// Also push the new value of this key to the profile's remote
    #[arg(long)]
    pub sync: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dotenv file to read
    #[arg(
        value_name = "FILE",
        required_unless_present = "from_env",
        conflicts_with = "from_env"
    )]
    pub file: Option<PathBuf>,
    /// Read the current environment instead (only names that look like secrets, unless --all)
    #[arg(long)]
    pub from_env: bool,
    /// Replace keys that already have a value
    #[arg(long)]
    pub overwrite: bool,
    /// Also take settings that do not look like secrets (HTTP_PORT, RUST_LOG, …)
    #[arg(long)]
    pub all: bool,
}

/// `--format` of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// `NAME="value"` lines.
    Dotenv,
    /// One JSON object.
    Json,
    /// `export NAME='value'` lines for a POSIX shell.
    Shell,
    /// `NAME<<DELIM` blocks for `$GITHUB_ENV`, after `::add-mask::` lines on stdout.
    GithubEnv,
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file (created 0600) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    /// Allow writing values to a terminal
    #[arg(long)]
    pub reveal: bool,
    /// Use the secrets.json names instead of env-style names
    #[arg(long)]
    pub keys: bool,
}

/// `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The source profile
    #[arg(long, value_name = "PROFILE")]
    pub from: String,
    /// The target profile (created if needed)
    #[arg(long, value_name = "PROFILE")]
    pub to: String,
    /// Only these keys (default: every key with a value)
    #[arg(value_name = "KEY")]
    pub keys: Vec<String>,
    /// Replace keys the target already has
    #[arg(long)]
    pub overwrite: bool,
    /// Do not ask before writing into a protected profile
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
}

/// `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The version to restore
    #[arg(long, value_name = "N")]
    pub version: u64,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

/// `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
}

pub use crate::config::RemoteBackend as Backend;

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL] [default: https://api.systemprompt.io]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Read the token from stdin instead of a hidden prompt
    #[arg(long)]
    pub token_stdin: bool,
    /// Move the token from upstream's plaintext .systemprompt/credentials.json into the keyring
    #[arg(long, conflicts_with = "token_stdin")]
    pub import: bool,
    /// With --import: delete the plaintext file without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Whose token this is
    #[arg(long, value_enum, default_value_t)]
    pub backend: Backend,
    /// OpenBao/Vault address [env: BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
}

/// `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Whose token to remove
    #[arg(long, value_enum, default_value_t)]
    pub backend: Backend,
    /// OpenBao/Vault address [env: BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
}

/// `doctor`.
#[derive(Debug, Args)]
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

/// `--format` for `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
    /// SARIF 2.1.0 on stdout, for code-scanning dashboards.
    Sarif,
}

/// `scan`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScanArgs {
    /// Scan only what is staged for the next commit
    #[arg(long, conflicts_with = "history")]
    pub staged: bool,
    /// Also scan every blob reachable from HEAD
    #[arg(long)]
    pub history: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ScanFormat,
    /// `install-hook`.
    #[command(subcommand)]
    pub action: Option<ScanAction>,
}

/// What `scan` can do besides scanning.
#[derive(Debug, Subcommand)]
pub enum ScanAction {
    /// Write a git pre-commit hook that runs `scan --staged` (never over someone else's hook)
    InstallHook,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Show what is cached for the profile instead of caching
    #[arg(long)]
    pub status: bool,
    /// Cache even when validation fails
    #[arg(long, conflicts_with = "status")]
    pub force: bool,
    /// Output format (with --status)
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

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
            Command::Validate(ValidateArgs { strict: true, .. })
        ));
    }
}
