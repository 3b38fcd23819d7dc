//! `cache` / `uncache`: a profile's validated secrets.json as one OS-keyring entry, the lowest layer.

use clap::Args;
use serde_json::json;

use super::{rel, Context};
use crate::cache_layer::NoCache;
use crate::cli::Format;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keyring::profile_cache;
use crate::layers::{self, LoadOptions};
use crate::shell::Shell;
use crate::token::format_time;

/// Validate a profile and cache its secrets.json in the OS keyring (the lowest layer)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets cache --profile local\n  cargo systemprompt-secrets cache --status\n  cargo systemprompt-secrets uncache --profile local"
)]
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

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &CacheArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let opened = ctx.keyring(shell)?;
    let store = opened.store.as_ref();

    if args.status {
        let status = profile_cache::status(store, &project.id, &profile.name)
            .map_err(|e| Error::failed(e.message))?;
        match (args.format, status) {
            (Format::Json, s) => {
                shell.out(json!({"profile": profile.name, "cached": s.is_some(), "entry": s}));
            }
            (Format::Human, Some(s)) => {
                shell.out(format_args!(
                    "profile `{}` is cached in {}",
                    profile.name, s.entry
                ));
                shell.out(format_args!(
                    "cached at {}; {} keys: {}",
                    format_time(s.cached_at),
                    s.keys.len(),
                    s.keys.join(", ")
                ));
            }
            (Format::Human, None) => shell.out(format_args!(
                "profile `{}` is not cached ({})",
                profile.name,
                store.name()
            )),
        }
        return Ok(());
    }

    // Only the profile's own file is cached: a developer's shell or .env never is.
    let settings = ctx.settings(&project, &profile);
    let opts = LoadOptions {
        env: &ProcessEnv,
        use_env: false,
        read_file: true,
        env_files: vec![],
        cache: &NoCache,
        project_id: &project.id,
    };
    let resolved = layers::load(&profile.secrets_path, &settings, &profile.name, &opts)?;
    super::remember(&resolved);
    if !resolved.secrets_file_found {
        return Err(Error::failed(format!(
            "{} does not exist; there is nothing to cache",
            rel(&profile.secrets_path)
        ))
        .help("create it with `cargo systemprompt-secrets init`"));
    }
    let findings = crate::validate::validate(&resolved, &settings);
    let mode = settings.mode(profile.yaml.validation());
    super::gate(shell, &findings, mode, args.force, &profile.name, "cached")?;
    let count = resolved.entries.len();
    let pairs = resolved
        .entries
        .into_values()
        .map(|r| (r.key, r.winner.value));
    let warnings = profile_cache::write(store, &project.id, &profile.name, pairs).map_err(|e| match e {
        crate::keyring::StoreError::TooLarge { .. } => Error::failed(format!("cannot cache profile `{}`: {e}", profile.name)).help("the keyring cannot hold this profile in one entry; keep using secrets.json, or use a store with larger entries (Secret Service)"),
        other => other.into(),
    })?;
    for w in warnings {
        shell.warn(w);
    }
    shell.status(
        "Cached",
        format_args!(
            "{count} keys of profile `{}` in {}",
            profile.name,
            store.describe(&crate::keyring::profile_account(&project.id, &profile.name))
        ),
    );
    Ok(())
}

pub(crate) fn uncache(ctx: &Context, shell: &mut Shell) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let opened = ctx.keyring(shell)?;
    if profile_cache::remove(opened.store.as_ref(), &project.id, &profile.name)? {
        shell.status(
            "Removed",
            format_args!(
                "the cached secrets of profile `{}` ({})",
                profile.name,
                opened.store.name()
            ),
        );
    } else {
        shell.status(
            "Nothing",
            format_args!(
                "to remove: profile `{}` is not cached ({})",
                profile.name,
                opened.store.name()
            ),
        );
    }
    Ok(())
}
