//! `status` (alias `whoami`): the API URL, where the token comes from and when it expires — never the token.

use clap::Args;
use serde_json::json;

use super::Context;
use crate::cli::Format;
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keyring;
use crate::shell::Shell;
use crate::token::{self, format_time, TokenError};

/// Show the API URL, where the token comes from and when it expires (never the token)
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets status\n  cargo systemprompt-secrets whoami --format json\n  cargo systemprompt-secrets status --backend openbao      Asks the server about the token (lookup-self)"
)]
pub struct StatusArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Whose token [default: the manifest's `backend`, else systemprompt]
    #[arg(long, value_enum)]
    pub backend: Option<crate::cli::Backend>,
    /// OpenBao/Vault address [default: `address` in the manifest, BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &StatusArgs) -> Result<(), Error> {
    let target = ctx.token_target(
        args.backend,
        args.api_url.as_deref(),
        args.address.as_deref(),
    )?;
    if let Some(address) = &target.address {
        return openbao(ctx, shell, args, &target, address);
    }
    let url = token::api_url(
        args.api_url.as_deref(),
        &ProcessEnv,
        &std::env::current_dir().unwrap_or_default(),
    );
    let opened = keyring::open(ctx.global.keyring);
    let (store, keyring_text) = match &opened {
        Ok(o) => (
            Some(std::sync::Arc::clone(&o.store)),
            o.store.name().to_owned(),
        ),
        Err(e) => (
            None,
            format!(
                "unavailable: {}",
                e.attempts
                    .iter()
                    .map(|(backend, why)| format!("tried {backend}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut warnings = Vec::new();
    let resolved = token::resolve(&url, &ProcessEnv, || store, &cwd, &mut warnings);
    for w in warnings {
        shell.warn(w);
    }
    let (logged_in, source, expiry_text, expires_at) = match &resolved {
        Ok(t) => (
            true,
            Some(t.source.to_string()),
            t.expires_at
                .map_or_else(|| "unknown (not a JWT)".to_owned(), format_time),
            t.expires_at,
        ),
        Err(TokenError::Expired { from, expired_at }) => (
            false,
            Some(from.to_string()),
            format!("EXPIRED at {}", format_time(*expired_at)),
            Some(*expired_at),
        ),
        Err(_) => (false, None, "-".to_owned(), None),
    };
    match args.format {
        Format::Json => shell.out(json!({
            "api_url": crate::http::shown_text(&url),
            "logged_in": logged_in,
            "token_source": resolved.as_ref().ok().map(|t| &t.source),
            "expires_at": expires_at,
            "keyring": keyring_text,
        })),
        Format::Human => {
            shell.out(format_args!("API URL:  {}", crate::http::shown_text(&url)));
            shell.out(format_args!(
                "Token:    {}",
                source.as_deref().unwrap_or("none")
            ));
            shell.out(format_args!("Expires:  {expiry_text}"));
            shell.out(format_args!("Keyring:  {keyring_text}"));
        }
    }
    match resolved {
        Ok(_) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `status --backend openbao`: the address, where the token comes from, and what the server says
/// about it (`lookup-self`: valid and until when, or rejected).
fn openbao(
    ctx: &Context,
    shell: &mut Shell,
    args: &StatusArgs,
    target: &crate::remote::TokenAccount,
    address: &str,
) -> Result<(), Error> {
    let opened = keyring::open(ctx.global.keyring);
    let keyring_text = match &opened {
        Ok(o) => o.store.name().to_owned(),
        Err(_) => "unavailable".to_owned(),
    };
    let store = opened.ok().map(|o| o.store);
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let mut warnings = Vec::new();
    let resolved = token::resolve_openbao(
        address,
        &ProcessEnv,
        || store,
        home.as_deref(),
        &mut warnings,
    );
    for w in warnings {
        shell.warn(w);
    }
    let shown = crate::http::shown_text(address);
    let (source, checked) = match &resolved {
        Ok(t) => {
            crate::trust::require_for_token(
                target.project.as_ref(),
                address,
                args.address.is_some(),
                "check the token",
            )?;
            let checked = crate::remote::check_openbao_token(
                target.project.as_ref(),
                address,
                &t.value,
                &t.source.to_string(),
            );
            (Some(t.source.to_string()), Some(checked))
        }
        Err(_) => (None, None),
    };
    let state = match &checked {
        None => "none".to_owned(),
        Some(Ok(())) => "valid (lookup-self)".to_owned(),
        Some(Err(e)) => format!("not usable: {e}"),
    };
    match args.format {
        Format::Json => shell.out(json!({
            "backend": "openbao",
            "address": shown,
            "logged_in": matches!(checked, Some(Ok(()))),
            "token_source": source,
            "token": state,
            "keyring": keyring_text,
        })),
        Format::Human => {
            shell.out(format_args!("Address:  {shown}"));
            shell.out(format_args!(
                "Token:    {}",
                source.as_deref().unwrap_or("none")
            ));
            shell.out(format_args!("Server:   {state}"));
            shell.out(format_args!("Keyring:  {keyring_text}"));
        }
    }
    match (resolved, checked) {
        (Err(e), _) => Err(e.into()),
        (Ok(_), Some(Err(e))) => Err(e),
        _ => Ok(()),
    }
}
