//! `explain KEY`: every layer that was consulted for a key, which ones define it, and which wins.

use clap::Args;
use serde_json::json;

use super::{rel, Context};
use crate::cli::Format;
use crate::error::Error;
use crate::keys;
use crate::layers::{Definition, Resolved};
use crate::project::Project;
use crate::shell::Shell;

/// Show every layer that defines a key and which one wins
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets explain anthropic\n  cargo systemprompt-secrets explain JWT_SECRET --format json\n\nExit codes: 0 when the key is set, 1 when no layer sets it (as `get`)."
)]
pub struct ExplainArgs {
    /// The key (`anthropic`) or its env-style name (`ANTHROPIC_API_KEY`)
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::completions::keys))]
    pub key: String,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// One consulted layer: its name, where it looked, and the index of its definition, if any.
struct Layer {
    name: &'static str,
    place: String,
    definition: Option<usize>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ExplainArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let checked = ctx.check(shell, &project, profile, false);
    let resolved = checked.resolved_or_fail(shell)?;
    let key = resolved.key_for(&args.key);
    let env_name = keys::env_name(&key);
    let definitions: Vec<&Definition> = resolved
        .entries
        .get(&key)
        .map(|r| r.definitions().collect())
        .unwrap_or_default();
    let layers = consulted_layers(ctx, &project, resolved, &key, &definitions);
    let status = checked.key_status(&key);

    match args.format {
        Format::Json => {
            let rows: Vec<_> = layers
                .iter()
                .map(|l| {
                    json!({
                        "layer": l.name,
                        "place": l.place,
                        "defines": l.definition.is_some(),
                        "source": l.definition.map(|i| &definitions[i].source),
                        "wins": l.definition == Some(0),
                    })
                })
                .collect();
            shell.out(json!({"key": key, "env": env_name, "profile": checked.profile.name, "set": !definitions.is_empty(), "status": status, "layers": rows}));
        }
        Format::Human => {
            shell.out(format_args!(
                "{key} (env name {env_name}) in profile `{}`, highest layer first:",
                checked.profile.name
            ));
            let width = layers.iter().map(|l| l.name.len()).max().unwrap_or(0);
            for (i, l) in layers.iter().enumerate() {
                let state = match l.definition {
                    Some(d) => {
                        let at = definitions[d]
                            .source
                            .line()
                            .map(|n| format!(" on line {n}"))
                            .unwrap_or_default();
                        format!(
                            "defined{at}{}",
                            if d == 0 { "  <- wins" } else { "  (shadowed)" }
                        )
                    }
                    None => "not defined".to_owned(),
                };
                shell.out(format_args!(
                    "  {}. {:width$}  {}: {state}",
                    i + 1,
                    l.name,
                    l.place
                ));
            }
            if definitions.is_empty() {
                shell.out(format_args!("`{key}` is not set in any layer."));
                if let Some(near) = resolved.nearest_key(&args.key) {
                    shell.out(format_args!("did you mean `{near}`?"));
                }
            } else {
                shell.out(format_args!("status: {status}"));
            }
            // Which finding makes the status, in words.
            for f in checked
                .findings
                .iter()
                .filter(|f| f.key.as_deref() == Some(key.as_str()))
            {
                shell.out(format_args!("  {} [{}]: {}", f.severity, f.code, f.message));
            }
        }
    }
    if definitions.is_empty() {
        // Not set: exit 1, as `get` does; the table above already says so.
        return Err(Error::Exit {
            code: crate::exit_code::FAILURE,
            message: None,
            help: None,
        });
    }
    Ok(())
}

/// Every layer consulted for `key`, highest first.
fn consulted_layers(
    ctx: &Context,
    project: &Project,
    resolved: &Resolved,
    key: &str,
    definitions: &[&Definition],
) -> Vec<Layer> {
    let find = |layer: &str, path: Option<&std::path::Path>| {
        definitions
            .iter()
            .position(|d| d.source.layer() == layer && (path.is_none() || d.source.path() == path))
    };
    let env_name = keys::env_name(key);
    let mut layers = Vec::new();
    if ctx.global.no_env {
        layers.push(Layer {
            name: "env",
            place: format!("${env_name} (ignored: --no-env)"),
            definition: None,
        });
        layers.push(Layer {
            name: "dotenv",
            place: "(ignored: --no-env)".into(),
            definition: None,
        });
    } else {
        // The variable that set it (`KIMI_API_KEY` for `moonshot`), else every name read.
        let env_def = find("env", None);
        let place = match env_def.map(|i| &definitions[i].source) {
            Some(crate::source::Source::Env { var }) => format!("${var}"),
            _ => std::iter::once(env_name.clone())
                .chain(keys::aliases(key).map(str::to_owned))
                .map(|v| format!("${v}"))
                .collect::<Vec<_>>()
                .join(" or "),
        };
        layers.push(Layer {
            name: "env",
            place,
            definition: env_def,
        });
        for file in ctx.env_files(project).iter().rev() {
            let place = match std::fs::metadata(&file.path) {
                Ok(m) if m.is_file() => rel(&file.path),
                Ok(m) => format!(
                    "{} ({}: skipped)",
                    rel(&file.path),
                    crate::regular_file::kind_of(&m)
                ),
                Err(_) => format!("{} (no such file)", rel(&file.path)),
            };
            layers.push(Layer {
                name: "dotenv",
                place,
                definition: find("dotenv", Some(&file.path)),
            });
        }
    }
    let file_def = find("secrets.json", None);
    let place = if !resolved.secrets_file_found {
        format!("{} (no such file)", rel(&resolved.secrets_path))
    } else if file_def.is_none() && resolved.blanks.contains_key(key) {
        format!("{} (present but empty)", rel(&resolved.secrets_path))
    } else {
        rel(&resolved.secrets_path)
    };
    layers.push(Layer {
        name: "secrets.json",
        place,
        definition: file_def,
    });
    let keyring = find("keyring", None);
    let place = match keyring {
        Some(i) => definitions[i].source.to_string(),
        None => format!("profile cache ({})", ctx.cache.describe()),
    };
    layers.push(Layer {
        name: "keyring",
        place,
        definition: keyring,
    });
    layers
}
