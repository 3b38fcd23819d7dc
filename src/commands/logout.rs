//! `logout`: remove a stored token from the OS keyring.

use super::Context;
use crate::cli::LogoutArgs;
use crate::error::Error;
use crate::shell::Shell;

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
