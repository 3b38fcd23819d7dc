//! `completions <shell>`: a completion script for `cargo-systemprompt-secrets`.

use clap::Args;
use clap::CommandFactory;

use crate::cli::CargoCli;
use crate::shell::Shell;

/// `completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets completions bash > ~/.local/share/bash-completion/completions/cargo-systemprompt-secrets\n  cargo systemprompt-secrets completions zsh > ~/.zfunc/_cargo-systemprompt-secrets"
)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub(crate) fn run(shell: &mut Shell, target: clap_complete::Shell) {
    let mut cmd = CargoCli::command();
    let mut buf = Vec::new();
    clap_complete::generate(target, &mut cmd, "cargo", &mut buf);
    shell.out_raw(String::from_utf8_lossy(&buf));
}
