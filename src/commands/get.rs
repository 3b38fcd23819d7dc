//! `get KEY`: the source and status of one key; the value itself only with `--reveal`.

use clap::Args;
use serde_json::json;

use super::{list::source_text, Context};
use crate::cli::Format;
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

/// Show where a key comes from; print its value only with --reveal
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets get database_url            Source and status only\n  cargo systemprompt-secrets get DATABASE_URL --reveal   The value, for scripts\n  psql \"$(cargo systemprompt-secrets get database_url --reveal)\""
)]
pub struct GetArgs {
    /// The key (`anthropic`) or its env-style name (`ANTHROPIC_API_KEY`)
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::completions::keys))]
    pub key: String,
    /// Print the value itself on stdout
    #[arg(long)]
    pub reveal: bool,
    /// Output format (without --reveal)
    #[arg(long, value_enum, default_value_t, conflicts_with = "reveal")]
    pub format: Format,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &GetArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let checked = ctx.check(shell, &project, profile, false);
    let resolved = checked.resolved_or_fail(shell)?;
    let key = resolved.key_for(&args.key);
    let Some(def) = resolved.get(&key) else {
        return Err(Error::failed(format!(
            "`{key}` is not set in profile `{}`",
            checked.profile.name
        ))
        .help(match resolved.nearest_key(&args.key) {
            Some(near) => format!("did you mean `{near}`?"),
            None if keys::is_snake_case(&key) => format!(
                "add it to {} or set {}; `cargo systemprompt-secrets explain {key}` shows every layer",
                super::rel(&resolved.secrets_path),
                keys::env_name(&key)
            ),
            None => "a key is letters, digits and `_` (`database_url`, or `DATABASE_URL` as an environment variable)".to_owned(),
        }));
    };
    if args.reveal {
        shell.reveal(&def.value);
        return Ok(());
    }
    let status = checked.key_status(&key);
    match args.format {
        Format::Json => shell.out(json!({"key": key, "profile": checked.profile.name, "set": true, "source": def.source, "status": status})),
        Format::Human => {
            shell.out(format_args!("{key}: set, from {} ({status})", source_text(&def.source)));
            shell.info("note: the value is hidden; pass --reveal to print it");
        }
    }
    Ok(())
}
