//! `logout`: remove a stored token from the OS keyring.

use super::Context;
use crate::cli::Backend;
use crate::error::Error;
use crate::shell::Shell;
use clap::Args;

/// Remove a stored token from the OS keyring
// Reason: doc comments are the help text people read; backticks would show up in it.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets logout\n  cargo systemprompt-secrets logout --backend openbao --address https://bao.example:8200"
)]
pub struct LogoutArgs {
    /// Cloud API URL [env: SYSTEMPROMPT_API_URL]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Whose token to remove [default: the manifest's `backend`, else systemprompt]
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// OpenBao/Vault address [default: `address` in the manifest, BAO_ADDR, VAULT_ADDR]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &LogoutArgs) -> Result<(), Error> {
    let target = ctx.token_target(
        args.backend,
        args.api_url.as_deref(),
        args.address.as_deref(),
    )?;
    let (account, what) = (&target.account, &target.what);
    let opened = ctx.keyring(shell)?;
    if opened.store.delete(account)? {
        shell.status(
            "Removed",
            format_args!("{what} from the OS keyring ({})", opened.store.name()),
        );
    } else {
        shell.status(
            "Nothing",
            format_args!(
                "to remove: no {what} in the OS keyring ({})",
                opened.store.name()
            ),
        );
    }
    for var in target.env_first {
        if std::env::var_os(var).is_some() {
            shell.warn(format_args!(
                "{var} is still set in this environment and is used first"
            ));
        }
    }
    Ok(())
}
