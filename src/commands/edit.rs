//! `edit`: the profile's secrets.json in `$VISUAL` / `$EDITOR` (else `vi`), on a private 0600 copy
//! in the profile folder that is never left behind. The result is parsed and validated; the file is
//! replaced atomically only when it changed, and not if someone else changed it meanwhile.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::Command;

use secrecy::{ExposeSecret, SecretString};

use super::report_changes;
use super::{rel, Context};
use crate::error::Error;
use crate::secret_map::SecretMap;
use crate::secrets_file;
use crate::secrets_file::values;
use crate::shell::Shell;

enum Next {
    Edit,
    Keep,
    Discard,
}

/// Edit the profile's secrets.json in $VISUAL/$EDITOR; validated before it replaces the file
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// Edit even when systemprompt reads this profile's secrets elsewhere (`secrets.source`)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &EditArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    super::confirm_unread_file(shell, &profile, args.yes)?;
    let path = profile.secrets_path.clone();
    if !path.is_file() {
        return Err(
            Error::failed(format!("{} does not exist", rel(&path))).help(format!(
                "create it with `cargo systemprompt-secrets init --profile {}`",
                crate::git::shell_quote(&profile.name)
            )),
        );
    }
    let configured = ["VISUAL", "EDITOR"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|e| !e.trim().is_empty()));
    if !configured && !std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "no terminal for an editor, and neither $VISUAL nor $EDITOR is set",
        )
        .help("run it in a terminal, or set EDITOR to a command that edits the file it is given"));
    }
    let original =
        crate::regular_file::read(&path, crate::secrets_file::MAX_SIZE).map_err(|e| {
            Error::failed(format!("cannot read {}: {e}", rel(&path)))
                .help("`edit` opens the profile's secrets.json, a regular file of at most 1 MiB")
        })?;
    let original_text = SecretString::from(String::from_utf8_lossy(&original).into_owned());
    // Ctrl-C goes to the editor; this process stays alive to remove the copy. SIGTERM and SIGHUP
    // (a closed terminal, a `kill`) end the edit: the editor is stopped and the copy removed.
    // Registered before the copy exists, so that no signal finds a copy and no handler.
    let _signals = crate::interrupt::Defer::patient();
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".secrets-edit-")
        .suffix(".json")
        .permissions(private())
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("cannot create a private copy in {}", rel(dir)), e))?;
    tmp.write_all(&original)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("cannot write the private copy", e))?;

    let settings = ctx.settings(&project, &profile);
    loop {
        let status = run_editor(tmp.path())?;
        let Some(status) = status else {
            // Stopped by SIGTERM or SIGHUP: `tmp` is removed when dropped.
            drop(tmp);
            return Err(Error::exit_with(
                143,
                format!(
                    "stopped by a signal; {} was not changed and the private copy was removed",
                    rel(&path)
                ),
            ));
        };
        if !status.success() {
            return Err(Error::failed(format!(
                "the editor did not finish cleanly ({status}); {} was not changed",
                rel(&path)
            )));
        }
        // The editor may have put anything there (a FIFO, a link to /dev/zero): read as any file
        // this tool is pointed at, at most one byte over the limit (the size check names it).
        let edited = crate::regular_file::read(tmp.path(), crate::secrets_file::MAX_SIZE + 1)
            .map_err(|e| match e {
                crate::regular_file::ReadError::TooLarge { .. } => Error::failed(format!(
                    "your edit is over {} bytes (1 MiB), the most any reader accepts [file-too-large]; {} was not changed",
                    crate::secrets_file::MAX_SIZE,
                    rel(&path)
                ))
                .help("keep large values out of the secrets file, then edit it again"),
                other => Error::failed(format!("cannot read the edited copy: {other}"))
                    .help(format!("{} was not changed; edit it again", rel(&path))),
            })?;
        if edited == original {
            shell.status("Unchanged", format_args!("no changes to {}", rel(&path)));
            return Ok(());
        }
        let mode = settings.mode(profile.yaml.validation());
        let errors = report_findings(shell, &profile, &edited, &settings, mode);
        let next = if errors == 0 {
            Next::Keep
        } else {
            ask(shell, errors)?
        };
        match next {
            Next::Edit => {}
            Next::Discard => {
                return Err(Error::failed(format!(
                    "{errors} error(s) in the edit; it was discarded and {} was not changed",
                    rel(&path)
                )));
            }
            Next::Keep => {
                let changes = save(shell, &path, tmp, &original, &original_text, &edited)?;
                let written: Vec<String> =
                    changes.added.into_iter().chain(changes.changed).collect();
                super::warn_shadowed(ctx, shell, &project, &profile, &written);
                return Ok(());
            }
        }
    }
}

fn parse_values(path: &Path, bytes: &[u8]) -> SecretMap {
    secrets_file::parse(path, bytes)
        .map(|f| {
            values(
                &f.entries
                    .into_iter()
                    .map(|e| (e.key, e.value))
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default()
}

/// Parses and validates the edited bytes as `validate` would, prints the findings (at the lines of
/// the edit, under the secrets file's own name: the private copy is removed when `edit` ends), and
/// returns the number that fail the profile's `mode`: `validate`'s verdict.
fn report_findings(
    shell: &mut Shell,
    profile: &crate::profile::Profile,
    edited: &[u8],
    settings: &crate::config::ProfileSettings,
    mode: crate::finding::Mode,
) -> usize {
    let path = profile.secrets_path.as_path();
    let findings = match secrets_file::parse(path, edited) {
        Ok(file) => {
            crate::validate::validate_profile(&file_only(path, file), settings, profile, mode)
        }
        Err(e) => crate::layers::LoadError::SecretsFile(e).into_findings(),
    };
    if !findings.is_empty() {
        shell.info(format_args!(
            "note: in your edit of {} (not saved yet); the lines are those of the edit",
            rel(path)
        ));
    }
    for f in &findings {
        super::validate::diagnostic_in(shell, f, mode);
    }
    findings.iter().filter(|f| mode.fails_on(f)).count()
}

/// The file's own values as a resolution (no environment), for validation.
fn file_only(path: &Path, file: secrets_file::SecretsFile) -> crate::layers::Resolved {
    let mut resolved = crate::layers::Resolved {
        secrets_path: path.to_path_buf(),
        secrets_file_found: true,
        notes: crate::layers::file_notes(path, file.warnings),
        ..Default::default()
    };
    for e in file.entries {
        let source = crate::source::Source::SecretsFile {
            path: path.to_path_buf(),
            line: Some(e.line),
        };
        match e.value {
            Some(value) => {
                resolved.entries.insert(
                    e.key.clone(),
                    crate::layers::Resolution::single(
                        e.key,
                        crate::layers::Definition { source, value },
                    ),
                );
            }
            None => {
                resolved.blanks.insert(e.key, source);
            }
        }
    }
    resolved
}

/// Re-edit, keep anyway, or discard; without a terminal, discard.
fn ask(shell: &mut Shell, errors: usize) -> Result<Next, Error> {
    let items = ["Edit again", "Keep it anyway", "Discard it"];
    Ok(
        match shell.select(&format!("The edit has {errors} error(s)"), &items, 0)? {
            Some(0) => Next::Edit,
            Some(1) => Next::Keep,
            _ => Next::Discard,
        },
    )
}

/// `$VISUAL`, `$EDITOR` or `vi`, run through the shell as git does (so `code --wait` works).
/// Saves the edit, unless secrets.json changed on disk meanwhile: then the edit is kept in its
/// private copy and named.
fn save(
    shell: &mut Shell,
    path: &Path,
    tmp: tempfile::NamedTempFile,
    original: &[u8],
    original_text: &SecretString,
    edited: &[u8],
) -> Result<crate::secret_map::Changes, Error> {
    // Held from the comparison to the rename: a writer that comes in between waits.
    let _lock = crate::secrets_file::lock(path)?;
    let now = crate::regular_file::read(path, crate::secrets_file::MAX_SIZE).unwrap_or_default();
    if now != original {
        let kept = tmp
            .keep()
            .map_err(|e| Error::io("cannot keep the edited copy", e.error))?
            .1;
        return Err(Error::failed(format!(
            "{} changed on disk while the editor was open; it was not replaced",
            rel(path)
        ))
        .help(format!(
            "your edit is kept in {}; compare the two and edit again",
            rel(&kept)
        )));
    }
    crate::atomic::write_private(path, edited, true)
        .map_err(|e| Error::io(format!("cannot write {}", rel(path)), e))?;
    let before = parse_values(path, original_text.expose_secret().as_bytes());
    let after = parse_values(path, edited);
    shell.status("Saved", format_args!("{}", rel(path)));
    let changes = before.changes_to(&after);
    report_changes(shell, &changes);
    Ok(changes)
}

/// Runs the editor until it exits (`Some(status)`) or SIGTERM or SIGHUP arrives (`None`: the
/// editor was stopped). Ctrl-C is the editor's.
fn run_editor(file: &Path) -> Result<Option<std::process::ExitStatus>, Error> {
    let mut child = editor_command(file)
        .spawn()
        .map_err(|e| Error::io("cannot start the editor ($VISUAL, $EDITOR or vi)", e))?;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("cannot wait for the editor", e))?
        {
            return Ok(Some(status));
        }
        if crate::interrupt::terminated() {
            // SIGTERM first, so that the editor can clean up after itself; then SIGKILL.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            for _ in 0..40 {
                if child.try_wait().ok().flatten().is_some() {
                    return Ok(None);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn editor_command(file: &Path) -> Command {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_owned());
    let mut c = Command::new("sh");
    // `exec`: the shell becomes the editor, so a signal meant for the editor reaches it.
    c.arg("-c")
        .arg(format!("exec {editor} \"$1\""))
        .arg("editor")
        .arg(file);
    c
}

#[cfg(unix)]
fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private() -> std::fs::Permissions {
    std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("metadata of .")
}
