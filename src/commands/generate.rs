//! `generate [KEY]`: a fresh random value from the OS CSPRNG on stdout, for piping.

use super::Context;
use crate::error::Error;
use crate::generate::{Format, Spec, DEFAULT};
use crate::keys;
use crate::shell::Shell;
use clap::Args;

/// Print a fresh random value from the OS CSPRNG (for piping)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets generate                      48 bytes, base64 (like openssl rand -base64 48)\n  cargo systemprompt-secrets generate --bytes 32 --encoding hex\n  cargo systemprompt-secrets generate stripe_webhook        Uses the key's `generate` rule, if any"
)]
pub struct GenerateArgs {
    /// The key the value is for (its `generate` rule is used when it has one)
    pub key: Option<String>,
    /// Random bytes (characters for alnum) [default: 48]
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Encoding of the value [default: base64]
    #[arg(long, value_enum, value_name = "ENCODING", alias = "format")]
    pub encoding: Option<crate::generate::Format>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &GenerateArgs) -> Result<(), Error> {
    if let Some(key) = args.key.as_deref().map(keys::normalize) {
        if keys::is_provider_key(&key) {
            return Err(provider_key_error("generate", &key));
        }
    }
    let spec =
        spec_for(ctx, shell, args.key.as_deref(), args.bytes, args.encoding)?.unwrap_or(DEFAULT);
    let value = spec.generate().map_err(|e| {
        Error::io(
            "cannot read the OS random number generator",
            std::io::Error::other(e.to_string()),
        )
    })?;
    shell.reveal(&value);
    Ok(())
}

/// The error for generating or rotating a provider's key: what to do instead.
#[must_use]
pub(crate) fn provider_key_error(verb: &str, key: &str) -> Error {
    Error::usage(format!(
        "`{key}` is issued by its provider; `{verb}` cannot make one from random bytes"
    ))
    .help(format!(
        "create a new key in the provider's console, then store it with `cargo systemprompt-secrets set {} --local` (it prompts for the value; --local writes secrets.json, and pushes too where the profile has a remote), and revoke the old one there",
        crate::keys::env_name(key)
    ))
}

/// The generator: `--bytes`/`--encoding`, else the key's `generate` rule (when a project is found),
/// else `jwt_secret`'s built-in one; `None` when nothing says how.
pub(crate) fn spec_for(
    ctx: &Context,
    shell: &mut Shell,
    key: Option<&str>,
    bytes: Option<usize>,
    format: Option<Format>,
) -> Result<Option<Spec>, Error> {
    if bytes.is_some() || format.is_some() {
        let spec = Spec {
            format: format.unwrap_or(Format::Base64),
            size: bytes.unwrap_or(DEFAULT.size),
        };
        return Spec::parse(&spec.to_string()).map(Some).map_err(|e| {
            Error::usage(format!("--bytes {}: {e}", spec.size))
                .help("pass --bytes between 16 and 4096")
        });
    }
    let Some(key) = key.map(keys::normalize) else {
        return Ok(None);
    };
    if let Ok(project) = ctx.project(shell) {
        let profile = ctx
            .global
            .profile
            .clone()
            .or_else(|| project.config.default_profile.clone())
            .unwrap_or_default();
        let rule = project
            .profiles
            .open(&profile)
            .ok()
            .map(|p| project.settings(&p))
            .and_then(|s| s.rules.get(&key).and_then(|r| r.generate.clone()));
        if let Some(rule) = rule {
            return Spec::parse(&rule).map(Some).map_err(Error::usage);
        }
    }
    Ok(crate::generate::builtin(&key))
}
