//! `completions <shell>`: a completion script for `cargo-systemprompt-secrets`.

use clap::CommandFactory;

use crate::cli::CargoCli;
use crate::shell::Shell;

pub(crate) fn run(shell: &mut Shell, target: clap_complete::Shell) {
    let mut cmd = CargoCli::command();
    let mut buf = Vec::new();
    clap_complete::generate(target, &mut cmd, "cargo", &mut buf);
    shell.out_raw(String::from_utf8_lossy(&buf));
}
