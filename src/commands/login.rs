//! `login`: store the cloud API token (or an OpenBao token) in the OS keyring; `--import` moves
//! upstream's plaintext token file into it.

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use super::{rel, Context};
use crate::cli::Backend;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keyring::{api_token_account, Opened};
use crate::shell::Shell;
use crate::token::{self, format_time, jwt_expiry};

/// Store the cloud API token (or an OpenBao token) in the OS keyring
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets login                         Prompt for the token (hidden)\n  printf %s \"$TOKEN\" | cargo systemprompt-secrets login --token-stdin\n  cargo systemprompt-secrets login --import --yes          Move upstream's credentials.json into the keyring\n  cargo systemprompt-secrets login --backend openbao --address https://bao.example:8200\n\nTokens are looked up in this order: SYSTEMPROMPT_API_TOKEN, the OS keyring, .systemprompt/credentials.json."
)]
pub struct LoginArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL] [default: https://api.systemprompt.io]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Read the token from stdin instead of a hidden prompt
    #[arg(long)]
    pub token_stdin: bool,
    /// Move the token from upstream's plaintext .systemprompt/credentials.json into the keyring
    #[arg(long, conflicts_with = "token_stdin")]
    pub import: bool,
    /// With --import: delete the plaintext file without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Whose token this is [default: the manifest's `backend`, else systemprompt]
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// OpenBao/Vault address [default: `address` in the manifest, BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
    /// Store an OpenBao token without asking the server whether it is valid (lookup-self)
    #[arg(long)]
    pub no_verify: bool,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &LoginArgs) -> Result<(), Error> {
    if args.import {
        return import(ctx, shell, args);
    }
    let target = ctx.token_target(
        args.backend,
        args.api_url.as_deref(),
        args.address.as_deref(),
    )?;
    // Open the keyring first: never ask for a token that cannot be stored.
    let opened = ctx.keyring(shell)?;
    let token = read_token(shell, args.token_stdin, &target.what)?;
    if let (Some(address), false) = (&target.address, args.no_verify) {
        crate::trust::require_for_token(
            target.project.as_ref(),
            address,
            args.address.is_some(),
            "check the token",
        )?;
        crate::remote::check_openbao_token(
            target.project.as_ref(),
            address,
            &token,
            "the token given to `login`",
        )
        .map_err(|e| {
            let help = e
                .hint()
                .map(|h| format!("{h}; or pass --no-verify to store it unchecked"));
            let e = Error::failed(format!("{e}; nothing was stored"));
            match help {
                Some(h) => e.help(h),
                None => e,
            }
        })?;
        shell.status(
            "Checked",
            format_args!(
                "the token with {} (lookup-self)",
                crate::http::shown_text(address)
            ),
        );
    }
    store(shell, &opened, &target.account, &target.what, &token)
}

fn read_token(shell: &mut Shell, from_stdin: bool, what: &str) -> Result<SecretString, Error> {
    let raw = if from_stdin {
        super::read_stdin_secret("the token")?
    } else if let Some(typed) = shell.hidden_input(what)? {
        typed
    } else {
        return Err(Error::usage(
            "stdin is not a terminal, so there is nowhere to prompt for the token",
        )
        .help("pipe it in with --token-stdin"));
    };
    let token = raw.expose_secret().trim();
    if token.is_empty() {
        return Err(Error::usage("the token is empty; nothing was stored"));
    }
    if token.chars().any(char::is_whitespace) {
        return Err(Error::usage(
            "the token contains whitespace; check what was pasted. Nothing was stored",
        ));
    }
    if token.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(Error::usage(
            "the token contains a control character (such as an escape) or a character outside ASCII, which no HTTP header can carry; check what was pasted. Nothing was stored",
        ));
    }
    Ok(SecretString::from(token.to_owned()))
}

fn store(
    shell: &mut Shell,
    opened: &Opened,
    account: &str,
    what: &str,
    token: &SecretString,
) -> Result<(), Error> {
    let expiry = jwt_expiry(token);
    if let Some(exp) = expiry.filter(|e| *e <= token::now()) {
        return Err(Error::failed(format!(
            "the token expired at {}; nothing was stored",
            format_time(exp)
        ))
        .help("create a new token and run `cargo systemprompt-secrets login` again"));
    }
    for warning in opened.store.set(account, token)? {
        shell.warn(warning);
    }
    let expires = expiry
        .map(|e| format!(", expires {}", format_time(e)))
        .unwrap_or_default();
    shell.status(
        "Stored",
        format_args!(
            "{what} in the OS keyring ({}{expires})",
            opened.store.name()
        ),
    );
    Ok(())
}

fn import(ctx: &Context, shell: &mut Shell, args: &LoginArgs) -> Result<(), Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = token::find_credentials_file(&cwd).ok_or_else(|| {
        Error::failed(
            "no .systemprompt/credentials.json here or in any parent folder; nothing to import"
                .to_owned(),
        )
    })?;
    let creds = token::read_credentials(&path).map_err(Error::failed)?;
    let opened = ctx.keyring(shell)?;
    let url = token::api_url(
        args.api_url.as_deref().or(creds.api_url.as_deref()),
        &ProcessEnv,
        &cwd,
    );
    crate::remote::check_url(&url)?;
    store(
        shell,
        &opened,
        &api_token_account(&url),
        &format!("API token for {}", crate::http::shown_text(&url)),
        &creds.api_token,
    )?;

    shell.info(format_args!(
        "note: the upstream `systemprompt` CLI reads {} for `cloud deploy`; once it is deleted, run `systemprompt cloud auth login` again before deploying",
        rel(&path)
    ));
    let delete = args.yes
        || shell
            .confirm(
                &format!(
                    "Delete the plaintext file {} (answer no to keep it for the upstream CLI)?",
                    rel(&path)
                ),
                false,
            )?
            .unwrap_or(false);
    if delete {
        std::fs::remove_file(&path)
            .map_err(|e| Error::io(format!("cannot delete {}", rel(&path)), e))?;
        shell.status(
            "Deleted",
            format_args!("{} (the keyring now holds the token)", rel(&path)),
        );
    } else {
        shell.warn(format_args!(
            "{} still holds the token in plaintext; delete it, or run `login --import --yes`",
            rel(&path)
        ));
    }
    Ok(())
}
