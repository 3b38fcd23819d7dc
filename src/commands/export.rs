//! `export --format dotenv|json|shell|github-env [-o FILE]`: the profile's secrets as text for other
//! tools. Never to a terminal without `--reveal`; files are created 0600.

use clap::{Args, ValueEnum};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::{rel, Context};
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

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
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets export --format dotenv -o .env.production\n  cargo systemprompt-secrets export --format github-env >> \"$GITHUB_ENV\"\n  cargo systemprompt-secrets export --format shell --reveal     To a terminal, on purpose"
)]
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

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ExportArgs) -> Result<(), Error> {
    if args.output.is_none() && !args.reveal && std::io::stdout().is_terminal() {
        return Err(
            Error::usage("refusing to print secret values to a terminal")
                .help("pipe the output, write it with -o FILE, or pass --reveal"),
        );
    }
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let resolved = ctx.load(shell, &project, &profile)?;
    let pairs: Vec<(String, SecretString)> = resolved
        .entries
        .into_iter()
        .map(|(key, r)| {
            let name = if args.keys { key } else { keys::env_name(&key) };
            (name, r.winner.value)
        })
        .collect();

    let (masks, body) = render(args.format, &pairs);
    if !masks.expose_secret().is_empty() {
        // Workflow commands must reach the runner's stdout even when the body goes to a file.
        shell.out_raw(masks.expose_secret());
    }
    match &args.output {
        Some(path) => {
            crate::atomic::write_private(path, body.expose_secret().as_bytes(), args.force)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Error::failed(format!("{} already exists; nothing was written", rel(path)))
                            .help("pass --force to replace it")
                    } else {
                        Error::io(format!("cannot write {}", rel(path)), e)
                    }
                })?;
            shell.status(
                "Exported",
                format_args!("{} secret(s) to {} (mode 0600)", pairs.len(), rel(path)),
            );
        }
        None => shell.out_raw(body.expose_secret()),
    }
    Ok(())
}

/// The `::add-mask::` lines (github-env only) and the body.
fn render(format: ExportFormat, pairs: &[(String, SecretString)]) -> (SecretString, SecretString) {
    let mut masks = String::new();
    let mut out = String::new();
    match format {
        ExportFormat::Dotenv => {
            for (name, value) in pairs {
                let v = value
                    .expose_secret()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
                    .replace('$', "\\$");
                let _ = writeln!(out, "{name}=\"{v}\"");
            }
        }
        ExportFormat::Shell => {
            for (name, value) in pairs {
                let v = value.expose_secret().replace('\'', "'\\''");
                let _ = writeln!(out, "export {name}='{v}'");
            }
        }
        ExportFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::Value::String(v.expose_secret().to_owned()),
                    )
                })
                .collect();
            out = serde_json::to_string_pretty(&map).unwrap_or_default();
            out.push('\n');
        }
        ExportFormat::GithubEnv => {
            for (name, value) in pairs {
                for line in value.expose_secret().lines() {
                    let _ = writeln!(masks, "::add-mask::{line}");
                }
                let delimiter = delimiter_for(value.expose_secret());
                let _ = writeln!(
                    out,
                    "{name}<<{delimiter}\n{}\n{delimiter}",
                    value.expose_secret()
                );
            }
        }
    }
    (SecretString::from(masks), SecretString::from(out))
}

/// A heredoc delimiter that does not occur in the value.
fn delimiter_for(value: &str) -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let mut d: String = std::iter::once("EOF_".to_owned())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect();
    while value.contains(&d) {
        d.push('_');
    }
    d
}
