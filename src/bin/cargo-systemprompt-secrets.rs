//! `cargo systemprompt-secrets`: parse the arguments, run the command, map the error to an exit code.

use systemprompt_secrets::cli::CargoCli;
use systemprompt_secrets::{commands, exit_code, harden};

fn main() {
    // Before any secret is read: no core dump, no reading of this process's memory by others.
    harden::no_core_dumps();
    // Ctrl-C, SIGTERM and SIGHUP are handled from the first write or guard on (see `interrupt`).
    // A completion script asking what to offer: answered here, then the process exits.
    commands::completions::answer_if_asked();
    let cli = CargoCli::parse_args();
    let mut shell = commands::shell_for(&cli.global);
    let code = match commands::run(cli, &mut shell) {
        Ok(()) => exit_code::OK,
        Err(e) => {
            if !matches!(
                e,
                systemprompt_secrets::error::Error::Exit { message: None, .. }
            ) {
                shell.report(&e);
            }
            e.exit_code()
        }
    };
    shell.flush();
    std::process::exit(code);
}
