//! `init`: create a profile from `templates/` with a fresh `oauth_at_rest_pepper` (or, on
//! systemprompt 0.10 and earlier, `jwt_secret`), and make sure git ignores secrets.

use clap::Args;

use secrecy::{ExposeSecret, SecretString};

use super::{rel, Context};
use crate::error::Error;
use crate::shell::Shell;

/// `init`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets init                        Create the `local` profile\n  cargo systemprompt-secrets init --profile staging      Create another profile\n  cargo systemprompt-secrets init --force                Replace an existing secrets.json"
)]
pub struct InitArgs {
    /// Replace an existing secrets.json
    #[arg(long)]
    pub force: bool,
}

const SECRETS_TEMPLATE: &str = include_str!("../../templates/secrets.json");
const GITIGNORE_TEMPLATE: &str = include_str!("../../templates/gitignore");

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &InitArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let name = ctx
        .global
        .profile
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    if name.contains('/') || name.contains('\\') || name.starts_with('.') || name.is_empty() {
        return Err(Error::usage(format!("`{name}` is not a profile name"))
            .help("`init` takes a plain name such as `local` or `production`"));
    }
    let dir = project.profiles.dir.join(&name);
    let secrets = dir.join("secrets.json");
    crate::atomic::create_private_dir(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", rel(&dir)), e))?;
    let _lock = crate::secrets_file::lock(&secrets)?;
    if secrets.exists() && !args.force {
        return Err(Error::failed(format!(
            "{} already exists; nothing was changed",
            rel(&secrets)
        ))
        .help("pass --force to replace it with a fresh template (the old values are lost)"));
    }
    if let crate::git::GitState::Tracked { root } = crate::git::state(&secrets) {
        return Err(crate::git::tracked_error(&secrets, &root));
    }
    crate::secrets_file::check_replaceable(&secrets)?;
    let profile = project.profiles.open(&name)?;
    let detected = project.generation(&profile);
    shell.verbose(format_args!("{detected}"));

    let secret_key = detected.generation.secret_key();
    let spec = crate::generate::builtin(secret_key).expect("both secrets have a generator");
    let secret = spec.generate().map_err(|e| {
        Error::io(
            "cannot read the OS random number generator",
            std::io::Error::other(e.to_string()),
        )
    })?;
    let body = SecretString::from(
        SECRETS_TEMPLATE
            .replace("{{secret_key}}", secret_key)
            .replace("{{secret}}", secret.expose_secret()),
    );
    crate::atomic::write_private(&secrets, body.expose_secret().as_bytes(), args.force)
        .map_err(|e| Error::io(format!("cannot write {}", rel(&secrets)), e))?;
    shell.status(
        "Created",
        format_args!("profile `{name}` at {}", rel(&secrets)),
    );
    shell.info(format_args!(
        "note: written for {} ({})",
        detected.generation, detected.reason
    ));

    let systemprompt_dir = project
        .profiles
        .dir
        .parent()
        .unwrap_or(&project.profiles.dir)
        .to_path_buf();
    crate::git::ensure_ignored(
        shell,
        &systemprompt_dir.join(".gitignore"),
        GITIGNORE_TEMPLATE,
        &secrets,
    )?;
    let env_file = project.workspace_root.join(".env");
    crate::git::ensure_ignored(
        shell,
        &project.workspace_root.join(".gitignore"),
        ".env\n",
        &env_file,
    )?;

    shell.info(format_args!(
        "\nNext steps:\n  1. Fill in database_url and at least one of {} in {}\n  2. cargo systemprompt-secrets validate --profile {name}\n  ({secret_key} holds a fresh random value ({spec}); it is never printed)",
        detected.generation.ai_providers().join(" / "),
        rel(&secrets)
    ));
    Ok(())
}
