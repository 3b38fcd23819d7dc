//! `set NAME[=VALUE]…`: upsert remote secrets in one PUT; values from a hidden prompt, stdin or
//! the command line; `--local` also writes them into secrets.json atomically.

use clap::Args;
use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{confirm, log_requests, plan_group, rel, with_target, Context};
use crate::cli::{Format, RemoteArgs, WriteArgs};
use crate::error::Error;
use crate::finding::Severity;
use crate::keys;
use crate::remote::{protected_name, Edit};
use crate::secret_map::SecretMap;
use crate::secrets_file;
use crate::shell::Shell;
use crate::source::Source;

/// Set remote secrets; values come from a hidden prompt, stdin, or KEY=VALUE
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets set ANTHROPIC_API_KEY             Prompt for the value (hidden)\n  printf %s \"$KEY\" | cargo systemprompt-secrets set OPENAI_API_KEY --stdin\n  cargo systemprompt-secrets set FEATURE_FLAG=on --local      Also write it to secrets.json\n\nNames are upper-cased. Values given as KEY=VALUE end up in shell history; prefer the prompt or --stdin."
)]
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

enum From {
    Inline(SecretString),
    Stdin,
    Prompt,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &SetArgs) -> Result<(), Error> {
    let wanted = parse_pairs(args)?;
    let mut kept = Vec::new();
    for (name, from) in wanted {
        match protected_name(&name) {
            Some(why) => shell.warn(format_args!("skipped {name}: {why}")),
            None => kept.push((name, from)),
        }
    }
    if kept.is_empty() {
        return Err(Error::failed(
            "every name given is system-managed or owned by the deploy pipeline; nothing was set"
                .to_owned(),
        ));
    }
    if kept.iter().any(|(_, f)| matches!(f, From::Inline(_))) {
        shell.warn("values given as NAME=VALUE are kept in shell history and visible to `ps`; prefer `set NAME` (hidden prompt) or `--stdin`");
    }

    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let settings = ctx.settings(&project, &profile);
    // Everything the push needs (backend, tenant or address, token) is settled before a value is
    // asked for or anything is written.
    let remote =
        !args.local || crate::remote::has_remote(&project, &profile, args.target.tenant.as_deref());
    let store = if remote {
        Some(ctx.remote(shell, &project, &profile, &args.target)?)
    } else {
        shell.info(format_args!(
            "note: profile `{}` has no remote (no cloud tenant, no OpenBao): only {} is written",
            profile.name,
            rel(&profile.secrets_path)
        ));
        None
    };
    if args.local {
        super::confirm_unread_file(shell, &profile, args.write.yes)?;
    }
    let mut values: BTreeMap<String, SecretString> = BTreeMap::new();
    let mut errors = 0;
    for (name, from) in kept {
        let (value, how) = match from {
            From::Inline(v) => (v, "the command line"),
            From::Stdin => (super::read_stdin_secret("the value")?, "stdin"),
            From::Prompt => (prompt(shell, &name)?, "the prompt"),
        };
        if value.expose_secret().trim().is_empty() {
            return Err(
                Error::usage(format!("the value for {name} is empty; nothing was set"))
                    .help(format!("to delete it, use `unset {name}`")),
            );
        }
        errors += check_value(shell, &name, &value, how, &settings);
        values.insert(name, value);
    }
    if errors > 0 && !args.force {
        return Err(Error::failed(format!(
            "{errors} value(s) failed validation; nothing was set"
        ))
        .help("fix them, or pass --force"));
    }
    match store {
        Some(store) => push(shell, &project, &profile, store.as_ref(), &values, args)?,
        None => write_only_local(shell, &profile, &values, args)?,
    }
    if args.local && !args.write.dry_run {
        let written: Vec<String> = values.keys().map(|n| keys::key_from_env(n)).collect();
        super::warn_shadowed(ctx, shell, &project, &profile, &written);
    }
    Ok(())
}

/// `set --local` for a profile without a remote: secrets.json only, after the same plan and
/// confirmation.
fn write_only_local(
    shell: &mut Shell,
    profile: &crate::profile::Profile,
    values: &BTreeMap<String, SecretString>,
    args: &SetArgs,
) -> Result<(), Error> {
    let keys: Vec<String> = values.keys().map(|n| keys::key_from_env(n)).collect();
    shell.status(
        "Plan",
        format_args!("set {} in {}", keys.join(", "), rel(&profile.secrets_path)),
    );
    if !confirm(shell, &args.write, &profile.name, false, "Write these keys")? {
        return Ok(());
    }
    crate::git::guard(shell, &profile.secrets_path)?;
    // Held from the read to the rename: a concurrent writer's update is read, not lost.
    let lock = crate::secrets_file::lock(&profile.secrets_path)?;
    let local = prepare_local(&profile.secrets_path, values)?;
    write_local(shell, &profile.secrets_path, &local)?;
    drop(lock);
    if args.target.format == Format::Json {
        shell
            .out(json!({"profile": profile.name, "dry_run": false, "local": keys, "remote": null}));
    }
    Ok(())
}

/// Sets the values on the profile's remote (and, with `--local`, in secrets.json).
fn push(
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    store: &dyn crate::remote::RemoteStore,
    values: &BTreeMap<String, SecretString>,
    args: &SetArgs,
) -> Result<(), Error> {
    let protected = project.config.is_protected(&profile.name);
    let mut mapped: SecretMap = values
        .iter()
        .map(|(n, v)| (store.remote_name_of(n), v.clone()))
        .collect();
    let names: Vec<String> = mapped.names().cloned().collect();
    let list = super::add_custom_list(shell, project, profile, store, &mut mapped)?;
    shell.status(
        "Plan",
        format_args!(
            "set {} name{} in {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            store.location()
        ),
    );
    plan_group(shell, "set", &names);
    if mapped.contains(crate::remote::CUSTOM_SECRETS) {
        shell.info(format_args!(
            "{:>16}: {} (the custom names, so that the deployed service reads them)",
            "also set",
            crate::remote::CUSTOM_SECRETS
        ));
    }
    if args.local {
        shell.info(format_args!(
            "{:>16}: {}",
            "also write",
            rel(&profile.secrets_path)
        ));
    }
    let go = confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Set these names",
    )?;
    let mut version = None;
    if go {
        // With --local, held from the read of secrets.json to its rename (after the push).
        let lock = if args.local {
            crate::git::guard(shell, &profile.secrets_path)?;
            Some(crate::secrets_file::lock(&profile.secrets_path)?)
        } else {
            None
        };
        let local = if args.local {
            Some(prepare_local(&profile.secrets_path, values)?)
        } else {
            None
        };
        let edit = Edit {
            set: mapped,
            ..Edit::default()
        };
        let applied = store.apply(&edit, None, &|| {})?;
        version = applied.version;
        if let Some((list, slot)) = &list {
            super::record_write(shell, slot, Some(list), None);
        }
        if applied.wrote {
            let at = version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            shell.status(
                "Set",
                format_args!("{} in {}{at}", names.join(", "), store.location()),
            );
        } else {
            shell.status("Fresh", "every value was already set; nothing was written");
        }
        if let Some(local) = &local {
            write_local(shell, &profile.secrets_path, local).map_err(|e| {
                let again: Vec<String> = values.keys().map(|n| format!("{n}=-")).collect();
                Error::failed(format!(
                    "{} {} set in {}, but writing {} failed: {e}",
                    names.join(", "),
                    if names.len() == 1 { "was" } else { "were" },
                    store.location(),
                    rel(&profile.secrets_path)
                ))
                .help(format!(
                    "local and remote differ until you finish: fix the cause, then run `cargo systemprompt-secrets pull` (brings the remote values into secrets.json) or `cargo systemprompt-secrets set {} --local` again",
                    again.join(" ")
                ))
            })?;
        }
        drop(lock);
    }
    log_requests(shell, store);
    if args.target.format == Format::Json {
        shell.out(with_target(
            store,
            json!({"profile": profile.name, "dry_run": args.write.dry_run, "applied": go, "names": names, "local": args.local && go, "version": version}),
        ));
    }
    Ok(())
}

/// Validates one value as its key, named as it was given (`NAME from stdin`); prints the findings
/// and returns the number of errors.
fn check_value(
    shell: &mut Shell,
    name: &str,
    value: &SecretString,
    how: &'static str,
    settings: &crate::config::ProfileSettings,
) -> usize {
    let key = keys::key_from_env(name);
    let source = Source::Given {
        var: name.to_owned(),
        how,
    };
    let findings = crate::validate::validate_value(
        &key,
        value.expose_secret(),
        &source,
        settings.rules.get(&key),
        settings.generation.release(),
    );
    for f in &findings {
        super::validate::diagnostic(shell, f);
    }
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count()
}

/// `NAME=VALUE`, `NAME=-` (stdin) or `NAME` (prompt, or stdin with `--stdin`); names upper-cased.
fn parse_pairs(args: &SetArgs) -> Result<Vec<(String, From)>, Error> {
    let mut wanted: Vec<(String, From)> = Vec::new();
    for pair in &args.pairs {
        let (name, from) = match pair.split_once('=') {
            Some((name, "-")) => (name, From::Stdin),
            Some((name, value)) => (name, From::Inline(SecretString::from(value.to_owned()))),
            None if args.stdin => (pair.as_str(), From::Stdin),
            None => (pair.as_str(), From::Prompt),
        };
        let name = name.trim().to_ascii_uppercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::usage(format!(
                "`{name}` is not a valid secret name (letters, digits and _)"
            ))
            .help(format!(
                "spell it with letters, digits and underscores, e.g. `{}`",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            )));
        }
        wanted.push((name, from));
    }
    if wanted
        .iter()
        .filter(|(_, f)| matches!(f, From::Stdin))
        .count()
        > 1
    {
        return Err(Error::usage("only one value can come from stdin")
            .help("set the others separately, or use the prompt"));
    }
    Ok(wanted)
}

fn prompt(shell: &mut Shell, name: &str) -> Result<SecretString, Error> {
    shell.hidden_input(name)?.ok_or_else(|| {
        Error::usage(format!("no terminal to prompt for {name}"))
            .help(format!("pipe the value in with `set {name} --stdin`"))
    })
}

/// The new secrets.json, prepared before anything remote changes: a broken local file stops the
/// command while the remote is still untouched.
struct LocalWrite {
    entries: Vec<(String, Option<SecretString>)>,
    added: usize,
    updated: usize,
}

/// Reads secrets.json and merges the values under their snake_case keys (nothing written yet).
fn prepare_local(
    path: &std::path::Path,
    values: &BTreeMap<String, SecretString>,
) -> Result<LocalWrite, Error> {
    let existing = if path.try_exists().unwrap_or(true) {
        Some(secrets_file::read(path).map_err(crate::layers::LoadError::from)?)
    } else {
        None
    };
    let updates = values
        .iter()
        .map(|(n, v)| (keys::key_from_env(n), v.clone()))
        .collect();
    let (entries, added) = secrets_file::merge(existing, updates);
    Ok(LocalWrite {
        added: added.len(),
        updated: values.len() - added.len(),
        entries,
    })
}

/// Writes the prepared secrets.json atomically, mode 0600.
fn write_local(shell: &mut Shell, path: &std::path::Path, local: &LocalWrite) -> Result<(), Error> {
    crate::secrets_file::write_entries(path, &local.entries, true)?;
    shell.status(
        "Wrote",
        format_args!(
            "{} ({} added, {} updated)",
            rel(path),
            local.added,
            local.updated
        ),
    );
    Ok(())
}
