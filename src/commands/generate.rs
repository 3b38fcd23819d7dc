//! `generate [KEY]`: a fresh random value from the OS CSPRNG on stdout, for piping.

use super::Context;
use crate::cli::GenerateArgs;
use crate::error::Error;
use crate::generate::{Format, Spec, DEFAULT};
use crate::keys;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &GenerateArgs) -> Result<(), Error> {
    let spec =
        spec_for(ctx, shell, args.key.as_deref(), args.bytes, args.format)?.unwrap_or(DEFAULT);
    let value = spec.generate().map_err(|e| {
        Error::io(
            "cannot read the OS random number generator",
            std::io::Error::other(e.to_string()),
        )
    })?;
    shell.reveal(&value);
    Ok(())
}

/// The generator: `--bytes`/`--format`, else the key's `generate` rule (when a project is found),
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
        if let Some(rule) = project
            .config
            .for_profile(&profile)
            .rules
            .get(&key)
            .and_then(|r| r.generate.clone())
        {
            return Spec::parse(&rule).map(Some).map_err(Error::usage);
        }
    }
    Ok((key == "jwt_secret").then_some(DEFAULT))
}
