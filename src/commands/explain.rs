//! `explain KEY`: every layer that was consulted for a key, which ones define it, and which wins.

use serde_json::json;

use super::{rel, Context};
use crate::cli::{ExplainArgs, Format};
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ExplainArgs) -> Result<(), Error> {
    let key = keys::normalize(&args.key);
    let env_name = keys::env_name(&key);
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let checked = ctx.check(shell, &project, profile, false);
    let Some(resolved) = &checked.resolved else {
        for f in &checked.findings {
            super::validate::diagnostic(shell, f);
        }
        return Err(Error::Failed(format!(
            "cannot read profile `{}`",
            checked.profile.name
        )));
    };
    let definitions = resolved
        .entries
        .get(&key)
        .map(|r| r.definitions.as_slice())
        .unwrap_or_default();

    // Every layer consulted, highest first, with the definition it holds, if any.
    let mut layers: Vec<(String, String, Option<usize>)> = Vec::new();
    let find = |layer: &str, path: Option<&std::path::Path>| {
        definitions
            .iter()
            .position(|d| d.source.layer() == layer && (path.is_none() || d.source.path() == path))
    };
    if ctx.global.no_env {
        layers.push((
            "env".into(),
            format!("${env_name} (ignored: --no-env)"),
            None,
        ));
        layers.push(("dotenv".into(), "(ignored: --no-env)".into(), None));
    } else {
        layers.push(("env".into(), format!("${env_name}"), find("env", None)));
        for file in ctx.env_files(&project).iter().rev() {
            let exists = file.path.is_file();
            let label = if exists {
                rel(&file.path)
            } else {
                format!("{} (no such file)", rel(&file.path))
            };
            layers.push(("dotenv".into(), label, find("dotenv", Some(&file.path))));
        }
    }
    let secrets_label = match resolved.blanks.get(&key) {
        Some(_) if find("secrets.json", None).is_none() => {
            format!("{} (present but empty)", rel(&resolved.secrets_path))
        }
        _ if !resolved.secrets_file_found => {
            format!("{} (no such file)", rel(&resolved.secrets_path))
        }
        _ => rel(&resolved.secrets_path),
    };
    layers.push((
        "secrets.json".into(),
        secrets_label,
        find("secrets.json", None),
    ));
    layers.push((
        "keyring".into(),
        "cache (not configured)".into(),
        find("keyring", None),
    ));

    match args.format {
        Format::Json => {
            let rows: Vec<_> = layers
                .iter()
                .map(|(layer, label, def)| {
                    json!({
                        "layer": layer,
                        "place": label,
                        "defines": def.is_some(),
                        "source": def.map(|i| &definitions[i].source),
                        "wins": *def == Some(0),
                    })
                })
                .collect();
            shell.out(json!({"key": key, "env": env_name, "profile": checked.profile.name, "set": !definitions.is_empty(), "status": checked.key_status(&key), "layers": rows}));
        }
        Format::Human => {
            shell.out(format_args!(
                "{key} (env name {env_name}) in profile `{}`, highest layer first:",
                checked.profile.name
            ));
            let width = layers.iter().map(|l| l.0.len()).max().unwrap_or(0);
            for (i, (layer, label, def)) in layers.iter().enumerate() {
                let state = match def {
                    Some(d) => {
                        let at = definitions[*d]
                            .source
                            .line()
                            .map(|l| format!(" on line {l}"))
                            .unwrap_or_default();
                        format!(
                            "defined{at}{}",
                            if *d == 0 { "  <- wins" } else { "  (shadowed)" }
                        )
                    }
                    None => "not defined".to_owned(),
                };
                shell.out(format_args!(
                    "  {}. {layer:width$}  {label}: {state}",
                    i + 1
                ));
            }
            if definitions.is_empty() {
                shell.out(format_args!("`{key}` is not set in any layer."));
            } else {
                shell.out(format_args!("status: {}", checked.key_status(&key)));
            }
        }
    }
    Ok(())
}
