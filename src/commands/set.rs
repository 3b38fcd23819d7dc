//! `set NAME[=VALUE]…`: upsert remote secrets in one PUT; values from a hidden prompt, stdin or
//! the command line; `--local` also writes them into secrets.json atomically.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::cloud::{confirm, log_requests, plan_group};
use super::{rel, Context};
use crate::cli::{Format, SetArgs};
use crate::error::Error;
use crate::finding::Severity;
use crate::keys;
use crate::remote::protected_name;
use crate::secrets_file;
use crate::shell::Shell;
use crate::source::Source;

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
    let settings = project.config.for_profile(&profile.name);
    let mut values: BTreeMap<String, SecretString> = BTreeMap::new();
    for (name, from) in kept {
        let value = match from {
            From::Inline(v) => v,
            From::Stdin => read_stdin()?,
            From::Prompt => prompt(&name)?,
        };
        if value.expose_secret().trim().is_empty() {
            return Err(
                Error::usage(format!("the value for {name} is empty; nothing was set"))
                    .help(format!("to delete it, use `unset {name}`")),
            );
        }
        values.insert(name, value);
    }

    check_values(shell, &values, &settings, args.force)?;

    if settings.backend == crate::config::RemoteBackend::Openbao {
        return run_openbao(ctx, shell, &project, &profile, &values, args);
    }
    let cloud = ctx.cloud(shell, &project, &profile, &args.target)?;
    let names: Vec<String> = values.keys().cloned().collect();
    shell.status(
        "Plan",
        format_args!(
            "set {} name{} on tenant {} ({})",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            cloud.tenant,
            cloud.api_url
        ),
    );
    plan_group(shell, "set", &names);
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
        settings.protected,
        "Set these names",
    )?;
    if go {
        let local = if args.local {
            Some(prepare_local(&profile.secrets_path, &values)?)
        } else {
            None
        };
        cloud.client.upsert(&values)?;
        shell.status(
            "Set",
            format_args!("{} on tenant {}", names.join(", "), cloud.tenant),
        );
        if let Some(local) = &local {
            write_local(shell, &profile.secrets_path, local)?;
        }
    }
    log_requests(shell, &cloud.client);
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "tenant": cloud.tenant, "dry_run": args.write.dry_run, "applied": go, "names": names, "local": args.local && go}));
    }
    Ok(())
}

/// Validates each value as its key; errors stop the command unless `--force`.
fn check_values(
    shell: &mut Shell,
    values: &BTreeMap<String, SecretString>,
    settings: &crate::config::ProfileSettings,
    force: bool,
) -> Result<(), Error> {
    let mut errors = 0;
    for (name, value) in values {
        let key = keys::key_from_env(name);
        let source = Source::Env { var: name.clone() };
        for f in crate::validate::validate_value(
            &key,
            value.expose_secret(),
            &source,
            settings.rules.get(&key),
        ) {
            errors += usize::from(f.severity == Severity::Error);
            super::validate::diagnostic(shell, &f);
        }
    }
    if errors > 0 && !force {
        return Err(Error::failed(format!(
            "{errors} value(s) failed validation; nothing was set"
        ))
        .help("fix them, or pass --force"));
    }
    Ok(())
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

fn read_stdin() -> Result<SecretString, Error> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| Error::io("cannot read the value from stdin", e))?;
    let trimmed = buf
        .strip_suffix('\n')
        .map_or(buf.as_str(), |s| s.strip_suffix('\r').unwrap_or(s));
    Ok(SecretString::from(trimmed.to_owned()))
}

fn prompt(name: &str) -> Result<SecretString, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(format!("no terminal to prompt for {name}"))
            .help(format!("pipe the value in with `set {name} --stdin`")));
    }
    rpassword::prompt_password(format!("{name} (input hidden): "))
        .map(SecretString::from)
        .map_err(|e| Error::io("cannot read the value from the terminal", e))
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
        .map(|(n, v)| (keys::key_from_env(n), SecretString::from(v.expose_secret())))
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
    super::local::write_entries(path, &local.entries, true)?;
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

/// OpenBao: one read-modify-write with check-and-set, retried after a re-read on a conflict, so
/// concurrent `set`s of different keys all land.
fn run_openbao(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    values: &BTreeMap<String, SecretString>,
    args: &SetArgs,
) -> Result<(), Error> {
    let bao = ctx.openbao(shell, project, profile, &args.target)?;
    let mapped: BTreeMap<String, SecretString> = values
        .iter()
        .map(|(n, v)| {
            (
                bao.remote_name(&keys::key_from_env(n)),
                SecretString::from(v.expose_secret()),
            )
        })
        .collect();
    let names: Vec<String> = mapped.keys().cloned().collect();
    shell.status(
        "Plan",
        format_args!("set {} in {}", names.join(", "), bao.client.location()),
    );
    if args.local {
        shell.info(format_args!(
            "{:>16}: {}",
            "also write",
            rel(&profile.secrets_path)
        ));
    }
    let protected = project.config.is_protected(&profile.name);
    let mut version = None;
    let go = confirm(
        shell,
        &args.write,
        &profile.name,
        protected,
        "Set these names",
    )?;
    if go {
        let local = if args.local {
            Some(prepare_local(&profile.secrets_path, values)?)
        } else {
            None
        };
        version = bao.client.update(|map| {
            let mut changed = false;
            for (k, v) in &mapped {
                if map
                    .get(k)
                    .is_none_or(|old| old.expose_secret() != v.expose_secret())
                {
                    map.insert(k.clone(), SecretString::from(v.expose_secret()));
                    changed = true;
                }
            }
            changed
        })?;
        match version {
            Some(v) => shell.status(
                "Set",
                format_args!(
                    "{} in {} (version {v})",
                    names.join(", "),
                    bao.client.location()
                ),
            ),
            None => shell.status("Fresh", "every value was already set; nothing was written"),
        }
        if let Some(local) = &local {
            write_local(shell, &profile.secrets_path, local)?;
        }
    }
    super::cloud::log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "path": bao.client.location(), "dry_run": args.write.dry_run, "applied": go, "names": names, "version": version}));
    }
    Ok(())
}
