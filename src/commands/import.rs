//! `import FILE` / `import --from-env`: env-style names into secrets.json keys, never overwriting
//! without `--overwrite`; settings that do not look like secrets are left out unless `--all`.

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

use super::report_changes;
use super::{rel, Context};
use crate::error::Error;
use crate::keys;
use crate::secrets_file::{read_entries, values, write_entries};
use crate::shell::Shell;

/// Import secrets from a dotenv file (or the environment) into secrets.json
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets import .env\n  cargo systemprompt-secrets import .env --overwrite --profile staging\n  cargo systemprompt-secrets import --from-env\n  printf 'MY_API_KEY=%s\\n' \"$KEY\" | cargo systemprompt-secrets import -\n\nANTHROPIC_API_KEY becomes anthropic, FOO_BAR becomes foo_bar. Settings such as HTTP_PORT, PG_PORT and the compose file's POSTGRES_PASSWORD are left out unless --all."
)]
pub struct ImportArgs {
    /// The dotenv file to read (`-` for stdin)
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
    /// Also take settings that are not the app's secrets (HTTP_PORT, PG_PORT, POSTGRES_PASSWORD, RUST_LOG, …)
    #[arg(long)]
    pub all: bool,
    /// Write even when systemprompt reads this profile's secrets elsewhere (`secrets.source`)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Names of common settings that are not secrets of the app. Compose and database-server settings
/// (`POSTGRES_PASSWORD` sets the password of a compose file's own PostgreSQL container) belong to
/// the deployment, not to secrets.json, which takes `database_url`.
const SETTINGS: &[&str] = &[
    "POSTGRES_PASSWORD",
    "POSTGRES_USER",
    "POSTGRES_DB",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "PGPASSWORD",
    "PGUSER",
    "PGHOST",
    "PGPORT",
    "PGDATABASE",
    "PG_PORT",
    "COMPOSE_PROJECT_NAME",
    "HTTP_PORT",
    "PORT",
    "HOST",
    "HTTP_HOST",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "LOG_LEVEL",
    "NODE_ENV",
    "SYSTEMPROMPT_PROFILE",
    "SYSTEMPROMPT_API_URL",
    "SYSTEMPROMPT_SECRETS_KEYRING",
    "TZ",
    "LANG",
];

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ImportArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    super::confirm_unread_file(shell, &profile, args.yes)?;
    let settings = ctx.settings(&project, &profile);
    let known: Vec<String> = settings
        .required
        .iter()
        .chain(settings.rules.keys())
        .cloned()
        .chain(
            settings
                .generation
                .generation
                .known_keys()
                .iter()
                .map(|k| (*k).to_owned()),
        )
        .collect();

    let incoming = incoming(args)?;
    let (updates, mut left_out) = classify(shell, args, incoming, &known);
    if !left_out.is_empty() && args.file.is_some() {
        shell.info(format_args!(
            "note: left out settings that are not the app's secrets (ports, hosts, compose and database-server settings such as POSTGRES_PASSWORD): {} (--all takes them)",
            left_out.join(", ")
        ));
    } else if !left_out.is_empty() {
        // The environment holds much that is not a secret: the names only at -v.
        left_out.sort();
        shell.verbose(format_args!(
            "left out {} environment variables that do not look like the app's secrets: {}",
            left_out.len(),
            left_out.join(", ")
        ));
    }
    if updates.is_empty() {
        let (why, help) = nothing_to_import(args, left_out.len());
        shell.status("Nothing", "to import");
        shell.warn_help(why, help);
        return Ok(());
    }

    // Values in a file git tracks would be committed: stop, as `init` and `sync` do.
    crate::git::guard(shell, &profile.secrets_path)?;
    // Held from the read to the rename: a concurrent writer's update is read, not lost.
    let _lock = crate::secrets_file::lock(&profile.secrets_path)?;
    let mut entries = read_entries(&profile.secrets_path)?;
    let before = values(&entries);
    let mut kept = Vec::new();
    for (key, value) in updates {
        match entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(slot) if slot.1.is_some() && !args.overwrite => kept.push(key),
            Some(slot) => slot.1 = Some(value),
            None => entries.push((key, Some(value))),
        }
    }
    let after = values(&entries);
    let changes = before.changes_to(&after);
    if !kept.is_empty() {
        shell.info(format_args!(
            "note: kept the existing values of {} (--overwrite replaces them)",
            kept.join(", ")
        ));
    }
    if changes.added.is_empty() && changes.changed.is_empty() {
        shell.status("Nothing", "to import");
        return Ok(());
    }
    write_entries(&profile.secrets_path, &entries, true)?;
    shell.status(
        "Imported",
        format_args!(
            "{} key(s) into {}",
            changes.added.len() + changes.changed.len(),
            rel(&profile.secrets_path)
        ),
    );
    report_changes(shell, &changes);
    let written: Vec<String> = changes
        .added
        .iter()
        .chain(&changes.changed)
        .cloned()
        .collect();
    super::warn_shadowed(ctx, shell, &project, &profile, &written);

    // Report the result as `validate` would.
    let checked = ctx.check(shell, &project, profile, false);
    for f in &checked.findings {
        super::validate::diagnostic(shell, f);
    }
    if checked.fails() {
        shell.warn(format_args!(
            "profile `{}` does not validate yet; see the findings above",
            checked.profile.name
        ));
    }
    Ok(())
}

/// The variables to import, with their lines: the file's (refused when it names one key twice
/// over), or the environment's.
fn incoming(args: &ImportArgs) -> Result<Vec<(String, SecretString, Option<usize>)>, Error> {
    let Some(file) = &args.file else {
        return Ok(std::env::vars()
            .map(|(k, v)| (k, SecretString::from(v), None))
            .collect());
    };
    let entries = if is_stdin(file) {
        read_stdin()?
    } else {
        crate::dotenv::read(file).map_err(crate::layers::LoadError::from)?
    };
    let incoming: Vec<_> = entries
        .into_iter()
        .map(|e| (e.var, e.value, e.line))
        .collect();
    refuse_two_spellings(&incoming, file)?;
    Ok(incoming)
}

/// The variables that go in (as keys), and the names left out as not the app's secrets.
type Classified = (Vec<(String, SecretString)>, Vec<String>);

fn classify(
    shell: &mut Shell,
    args: &ImportArgs,
    incoming: Vec<(String, SecretString, Option<usize>)>,
    known: &[String],
) -> Classified {
    let mut left_out = Vec::new();
    let mut updates: Vec<(String, SecretString)> = Vec::new();
    for (var, value, _) in incoming {
        let key = keys::key_from_env(&var);
        if value.expose_secret().trim().is_empty() {
            continue;
        }
        if !args.all && !looks_secret(&var, &key, known) {
            left_out.push(var);
            continue;
        }
        if !keys::is_snake_case(&key) {
            shell.warn(format_args!(
                "skipped {var}: `{key}` is not a valid key name"
            ));
            continue;
        }
        updates.push((key, value));
    }
    (updates, left_out)
}

/// Why nothing is imported, and what to do.
fn nothing_to_import(args: &ImportArgs, left_out: usize) -> (String, &'static str) {
    let from = match &args.file {
        None => "the environment".to_owned(),
        Some(f) if is_stdin(f) => "stdin".to_owned(),
        Some(f) => rel(f),
    };
    let known = "a known key (ANTHROPIC_API_KEY, DATABASE_URL, …), or a name ending in _KEY, _SECRET, _TOKEN, _PASSWORD, _URL or _DSN";
    let why = format!(
        "nothing to import from {from}: {}",
        if left_out == 0 {
            "it names no variable with a value".to_owned()
        } else {
            format!("{left_out} variable(s) with values do not look like the app's secrets (taken: {known})")
        }
    );
    let help = if args.file.is_none() {
        "`-v` names the variables left out; `--all` takes them all; to add one value, `printf 'NAME=%s\\n' \"$VALUE\" | cargo systemprompt-secrets import -`"
    } else {
        "`--all` takes every variable"
    };
    (why, help)
}

/// `-` (and `/dev/stdin`, which is no regular file) is the standard input.
fn is_stdin(file: &std::path::Path) -> bool {
    file.as_os_str() == "-" || file == std::path::Path::new("/dev/stdin")
}

/// A dotenv text from the standard input, at most [`crate::dotenv::MAX_SIZE`] bytes.
fn read_stdin() -> Result<Vec<crate::dotenv::DotEnvEntry>, Error> {
    let bytes = crate::zeroized::read_to_end(std::io::stdin(), crate::dotenv::MAX_SIZE)
        .map_err(|e| Error::io("cannot read stdin", e))?;
    if bytes.len() as u64 > crate::dotenv::MAX_SIZE {
        return Err(Error::failed(
            "stdin holds over 1 MiB, the most a dotenv text may be; nothing was imported",
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::failed("stdin is not UTF-8 text; nothing was imported")
            .help("give `NAME=value` lines, one per line")
    })?;
    Ok(crate::dotenv::parse(std::path::Path::new("<stdin>"), text)
        .map_err(crate::layers::LoadError::from)?)
}

/// Two different names of one key (`ANTHROPIC_API_KEY` and `ANTHROPIC`) in what is imported: which
/// one should win is not knowable, so nothing is imported and both places are named.
fn refuse_two_spellings(
    incoming: &[(String, SecretString, Option<usize>)],
    file: &std::path::Path,
) -> Result<(), Error> {
    let mut seen: std::collections::BTreeMap<String, (&str, Option<usize>)> =
        std::collections::BTreeMap::new();
    for (var, value, line) in incoming {
        if value.expose_secret().trim().is_empty() {
            continue;
        }
        let key = keys::key_from_env(var);
        match seen.get(&key) {
            Some((first, first_line)) if *first != var.as_str() => {
                let at = |l: &Option<usize>| l.map_or_else(String::new, |l| format!(" (line {l})"));
                return Err(Error::failed(format!(
                    "{first}{} and {var}{} in {} both name the key `{key}`; nothing was imported",
                    at(first_line),
                    at(line),
                    rel(file)
                ))
                .help("keep one of the two, then import again"));
            }
            Some(_) => {}
            None => {
                seen.insert(key, (var.as_str(), *line));
            }
        }
    }
    Ok(())
}

/// Whether a variable looks like a secret: a known key, a configured key, or a secret-ish name.
fn looks_secret(var: &str, key: &str, known: &[String]) -> bool {
    let upper = var.to_ascii_uppercase();
    if SETTINGS.iter().any(|s| s.eq_ignore_ascii_case(var))
        || upper.ends_with("_PORT")
        || upper.starts_with("SERVICE_PORT_")
    {
        return false;
    }
    known.iter().any(|k| k == key)
        || key.starts_with("moltbook_")
        || [
            "_KEY",
            "_SECRET",
            "_TOKEN",
            "_PASSWORD",
            "_PASS",
            "_DSN",
            "_URL",
            "_CREDENTIALS",
        ]
        .iter()
        .any(|suffix| var.to_ascii_uppercase().ends_with(suffix))
}
