//! `pull` (OpenBao): write the remote map into the profile's secrets.json, atomically and 0600,
//! after showing which keys would be added, changed or removed — names only.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::bao::{compare, names, Compare};
use super::cloud::{log_bao, plan_group};
use super::{rel, Context};
use crate::cli::{Format, PullArgs};
use crate::config::RemoteBackend;
use crate::error::Error;
use crate::secrets_file;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &PullArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    if project.config.for_profile(&profile.name).backend != RemoteBackend::Openbao {
        return Err(Error::usage(format!("profile `{}` syncs to the systemprompt cloud, whose API never returns values, so there is nothing to pull", profile.name)).help("`pull` works with backend = \"openbao\""));
    }
    crate::git::guard(shell, &profile.secrets_path)?;
    let bao = ctx.openbao(shell, &project, &profile, &args.target)?;
    let snapshot = bao.client.read(None)?;
    let remote: BTreeMap<String, SecretString> = snapshot
        .data
        .into_iter()
        .map(|(k, v)| (bao.local_key(&k), v))
        .collect();
    check_remote(&bao, snapshot.version, &remote)?;

    let existing = if profile.secrets_path.try_exists().unwrap_or(true) {
        Some(secrets_file::read(&profile.secrets_path).map_err(crate::layers::LoadError::from)?)
    } else {
        None
    };
    let local: BTreeMap<String, SecretString> = existing
        .iter()
        .flat_map(|f| f.entries.iter())
        .filter_map(|e| {
            e.value
                .as_ref()
                .map(|v| (e.key.clone(), SecretString::from(v.expose_secret())))
        })
        .collect();
    let cmp = compare(&remote, &local);
    let (added, changed, removed) = (
        names(&cmp, Compare::LocalOnly),
        names(&cmp, Compare::Changed),
        names(&cmp, Compare::RemoteOnly),
    );

    shell.status(
        "Plan",
        format_args!(
            "pull {} (version {}) into {}",
            bao.client.location(),
            snapshot.version,
            rel(&profile.secrets_path)
        ),
    );
    plan_group(shell, "add", &added);
    plan_group(shell, "change", &changed);
    plan_group(shell, "remove", &removed);
    let nothing = added.is_empty() && changed.is_empty() && removed.is_empty();
    let mut written = false;
    if nothing {
        shell.status(
            "Fresh",
            format_args!("{} already matches the remote", rel(&profile.secrets_path)),
        );
    } else if args.write.dry_run {
        shell.status("Dry run", "nothing was changed");
    } else {
        let overwrites = !changed.is_empty() || !removed.is_empty();
        if overwrites && !args.write.yes {
            ask(&profile.secrets_path)?;
        }
        // Keep the local order for keys that stay; new keys go at the end, sorted.
        let order: Vec<String> = existing
            .map(|f| f.entries.into_iter().map(|e| e.key).collect())
            .unwrap_or_default();
        let mut remote = remote;
        let mut entries: Vec<(String, Option<SecretString>)> = order
            .into_iter()
            .filter_map(|k| remote.remove(&k).map(|v| (k, Some(v))))
            .collect();
        entries.extend(remote.into_iter().map(|(k, v)| (k, Some(v))));
        super::local::write_entries(&profile.secrets_path, &entries, true)?;
        written = true;
        shell.status(
            "Pulled",
            format_args!(
                "{} keys into {} (version {})",
                entries.len(),
                rel(&profile.secrets_path),
                snapshot.version
            ),
        );
    }
    log_bao(shell, &bao.client);
    if args.target.format == Format::Json {
        shell.out(json!({"profile": profile.name, "version": snapshot.version, "added": added, "changed": changed, "removed": removed, "written": written}));
    }
    Ok(())
}

/// There must be something to pull, and remote keys must be snake_case to go into secrets.json.
fn check_remote(
    bao: &super::bao::Bao,
    version: u64,
    remote: &BTreeMap<String, SecretString>,
) -> Result<(), Error> {
    if version == 0 && remote.is_empty() {
        return Err(Error::failed(format!(
            "{} holds no secrets yet; nothing to pull",
            bao.client.location()
        )));
    }
    let unfit: Vec<&str> = remote
        .keys()
        .filter(|k| !crate::keys::is_snake_case(k))
        .map(String::as_str)
        .collect();
    if let Some(first) = unfit.first() {
        return Err(Error::failed(format!("{}: the remote key{} `{}` cannot go into secrets.json (its keys match ^[a-z][a-z0-9_]*$); nothing was written", bao.client.location(), if unfit.len() == 1 { "" } else { "s" }, unfit.join("`, `"))).help(format!("rename {} in OpenBao (e.g. `{first}` to `{}`), or set `remote-names = \"env\"` in [workspace.metadata.systemprompt-secrets.openbao] if the remote uses ANTHROPIC_API_KEY-style names", if unfit.len() == 1 { "it" } else { "them" }, crate::keys::to_snake_case(first))));
    }

    Ok(())
}

/// Asks before local values are overwritten or removed; without a terminal, stops.
fn ask(path: &std::path::Path) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::usage(format!(
            "pulling would overwrite or remove values in {}; nothing was changed",
            rel(path)
        ))
        .help("review the plan above, then pass --yes"));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(format!("Overwrite local values in {}?", rel(path)))
        .default(false)
        .interact()
        .map_err(|e| {
            Error::io(
                "cannot read the answer",
                std::io::Error::other(e.to_string()),
            )
        })?;
    if ok {
        Ok(())
    } else {
        Err(Error::failed("cancelled; nothing was changed"))
    }
}
