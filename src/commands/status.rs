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

/// `status`.
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets status\n  cargo systemprompt-secrets whoami --format json"
)]
pub struct StatusArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &StatusArgs) -> Result<(), Error> {
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
