//! `logout`: remove a stored token from the OS keyring.

use super::{login::openbao_address, Context};
use crate::cli::{Backend, LogoutArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::keyring::{api_token_account, openbao_token_account};
use crate::shell::Shell;
use crate::token;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &LogoutArgs) -> Result<(), Error> {
    let (account, what) = match args.backend {
        Backend::Systemprompt => {
            let url = token::api_url(args.api_url.as_deref(), &ProcessEnv);
            (api_token_account(&url), format!("API token for {url}"))
        }
        Backend::Openbao => {
            let address = openbao_address(args.address.as_deref())?;
            (
                openbao_token_account(&address),
                format!("OpenBao token for {address}"),
            )
        }
    };
    let opened = ctx.keyring(shell)?;
    if opened.store.delete(&account)? {
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
    if std::env::var_os(token::TOKEN_ENV).is_some() && args.backend == Backend::Systemprompt {
        shell.warn(format_args!(
            "{} is still set in this environment and is used first",
            token::TOKEN_ENV
        ));
    }
    Ok(())
}
