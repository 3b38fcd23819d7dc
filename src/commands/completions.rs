//! `completions <shell>`: completion for `cargo-systemprompt-secrets …` and for
//! `cargo systemprompt-secrets …`, beside cargo's own completion (never replacing it).
//!
//! The scripts ask the binary what to offer (the dynamic engine of `clap_complete`, through
//! [`COMPLETE_VAR`]), so `--profile <TAB>` offers the project's profiles and `get <TAB>` the
//! profile's key names (names only, never values). For `cargo systemprompt-secrets`, bash gets a
//! wrapper around cargo's own completion function that hands only that subcommand to the binary;
//! zsh gets `_cargo-systemprompt-secrets`, which cargo's `_cargo` calls for this subcommand.

use std::ffi::OsStr;

use clap::{Args, CommandFactory as _};
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter as _;

use crate::env::ProcessEnv;
use crate::shell::Shell;

/// The binary's name, as completion scripts call it.
pub const BIN: &str = "cargo-systemprompt-secrets";
/// The environment variable under which the binary answers a completion request.
pub const COMPLETE_VAR: &str = "CARGO_SYSTEMPROMPT_SECRETS_COMPLETE";

/// Print a shell completion script
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets completions bash > ~/.local/share/bash-completion/completions/cargo-systemprompt-secrets\n  echo '. ~/.local/share/bash-completion/completions/cargo-systemprompt-secrets' >> ~/.bash_completion   (bash-completion loads files by command name: `cargo` would not load it)\n  echo 'source <(cargo systemprompt-secrets completions zsh)' >> ~/.zshrc     (after compinit)\n\nbash and zsh complete both `cargo systemprompt-secrets …` and `cargo-systemprompt-secrets …`, and leave cargo's completion of its other subcommands alone; the other shells complete `cargo-systemprompt-secrets …`. The binary must be on PATH (`cargo install` puts it there)."
)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The command as the completion engine sees it: the binary run directly.
#[must_use]
pub fn command() -> clap::Command {
    let cargo = crate::cli::CargoCli::command();
    let inner = cargo
        .find_subcommand("systemprompt-secrets")
        .cloned()
        .unwrap_or_else(|| clap::Command::new(BIN));
    inner.name(BIN).bin_name(BIN)
}

/// Answers a completion request when [`COMPLETE_VAR`] is set (and exits); otherwise returns.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(command)
        .var(COMPLETE_VAR)
        .bin(BIN)
        .completer(BIN)
        .complete();
}

pub(crate) fn run(
    shell: &mut Shell,
    target: clap_complete::Shell,
) -> Result<(), crate::error::Error> {
    let mut buf = Vec::new();
    let written = match target {
        clap_complete::Shell::Bash => clap_complete::env::Bash
            .write_registration(COMPLETE_VAR, BIN, BIN, BIN, &mut buf)
            .map(|()| buf.extend_from_slice(BASH_CARGO.as_bytes())),
        clap_complete::Shell::Zsh => {
            let mut clap_part = Vec::new();
            clap_complete::env::Zsh
                .write_registration(COMPLETE_VAR, BIN, BIN, BIN, &mut clap_part)
                .map(|()| {
                    // The engine's own `compdef` line is replaced: one function serves both forms.
                    let text = String::from_utf8_lossy(&clap_part);
                    let kept: Vec<&str> = text
                        .lines()
                        .filter(|l| !l.starts_with("compdef "))
                        .collect();
                    buf.extend_from_slice(kept.join("\n").as_bytes());
                    buf.extend_from_slice(ZSH_CARGO.as_bytes());
                })
        }
        clap_complete::Shell::Fish => {
            clap_complete::env::Fish.write_registration(COMPLETE_VAR, BIN, BIN, BIN, &mut buf)
        }
        clap_complete::Shell::Elvish => {
            clap_complete::env::Elvish.write_registration(COMPLETE_VAR, BIN, BIN, BIN, &mut buf)
        }
        clap_complete::Shell::PowerShell => {
            clap_complete::env::Powershell.write_registration(COMPLETE_VAR, BIN, BIN, BIN, &mut buf)
        }
        other => {
            return Err(
                crate::error::Error::usage(format!("no completion script for {other} yet"))
                    .help("use bash, zsh, fish, elvish or powershell"),
            )
        }
    };
    written.map_err(|e| crate::error::Error::io("cannot write the completion script", e))?;
    shell.out_raw(String::from_utf8_lossy(&buf));
    Ok(())
}

/// bash: `cargo systemprompt-secrets …` goes to the binary's completion; every other `cargo …`
/// to cargo's own function, found (and loaded through bash-completion) when this is sourced.
const BASH_CARGO: &str = r#"
# `cargo systemprompt-secrets …`: wrap cargo's own completion, never replace it.
if ! complete -p cargo >/dev/null 2>&1 && declare -F _completion_loader >/dev/null 2>&1; then
    _completion_loader cargo >/dev/null 2>&1
fi
_cargo_systemprompt_secrets_cargo_fn="$(complete -p cargo 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')"
if [[ $_cargo_systemprompt_secrets_cargo_fn == _cargo_systemprompt_secrets_cargo ]]; then
    _cargo_systemprompt_secrets_cargo_fn="${_cargo_systemprompt_secrets_cargo_prev-}"
fi
_cargo_systemprompt_secrets_cargo_prev="$_cargo_systemprompt_secrets_cargo_fn"
_cargo_systemprompt_secrets_cargo() {
    if [[ ${COMP_CWORD} -ge 2 && ${COMP_WORDS[1]} == systemprompt-secrets ]]; then
        local COMP_WORDS=(cargo-systemprompt-secrets "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$((COMP_CWORD - 1))
        _clap_complete_cargo_systemprompt_secrets cargo-systemprompt-secrets "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    elif [[ -n $_cargo_systemprompt_secrets_cargo_fn ]]; then
        "$_cargo_systemprompt_secrets_cargo_fn" "$@"
    else
        compopt -o default 2>/dev/null
        COMPREPLY=()
    fi
}
complete -o bashdefault -o default -F _cargo_systemprompt_secrets_cargo cargo
"#;

/// zsh: cargo's `_cargo` calls `_cargo-<subcommand>` for a subcommand it does not know, with
/// `words` starting at the subcommand.
const ZSH_CARGO: &str = r#"

# `cargo systemprompt-secrets …` (called by cargo's own _cargo) and `cargo-systemprompt-secrets …`.
function _cargo-systemprompt-secrets() {
    if [[ ${words[1]} == systemprompt-secrets ]]; then
        words[1]=cargo-systemprompt-secrets
    fi
    _clap_dynamic_completer_cargo_systemprompt_secrets "$@"
}
compdef _cargo-systemprompt-secrets cargo-systemprompt-secrets
"#;

/// `--profile`: the project's profile names (found from the current directory).
#[must_use]
pub fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    crate::project::discover(None, None)
        .map(|p| p.profiles.names)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// A key argument: the names in the chosen profile's secrets.json, then the generation's known
/// keys. Names only; no value is read out.
#[must_use]
pub fn keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let Ok(project) = crate::project::discover(None, None) else {
        return Vec::new();
    };
    let Ok((profile, _)) =
        project
            .profiles
            .select(None, &ProcessEnv, project.config.default_profile.as_deref())
    else {
        return Vec::new();
    };
    // secrets.json is read once: its keys are the names offered and decide the generation.
    let mut names = crate::generation::file_keys(&profile.secrets_path);
    let generation = crate::generation::detect(
        project.config.generation,
        project.locked.as_ref(),
        names.iter().map(String::as_str),
    )
    .generation;
    for known in generation.known_keys() {
        if !names.iter().any(|n| n == known) {
            names.push((*known).to_owned());
        }
    }
    names
        .into_iter()
        .filter(|n| n.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
