//! `copy --from A --to B [KEY…]`: copy keys between local profiles; names-only plan, a question
//! before writing into a protected profile, and the target validated afterwards.

use secrecy::{ExposeSecret, SecretString};

use super::local::{read_entries, values, write_entries};
use super::{rel, Context};
use crate::cli::CopyArgs;
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &CopyArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    if args.from == args.to {
        return Err(Error::usage("--from and --to name the same profile").help(
            "name two different profiles; `cargo systemprompt-secrets profiles` lists them",
        ));
    }
    let from = project.profiles.open(&args.from)?;
    if !from.secrets_path.is_file() {
        return Err(Error::failed(format!(
            "profile `{}` has no secrets file at {}",
            args.from,
            rel(&from.secrets_path)
        )));
    }
    if args.to.contains('/') || args.to.starts_with('.') || args.to.is_empty() {
        return Err(Error::usage(format!("`{}` is not a profile name", args.to)));
    }
    let to = project.profiles.open(&args.to)?;
    let source = values(&read_entries(&from.secrets_path)?);
    let mut target = read_entries(&to.secrets_path)?;
    let existing = values(&target);

    let wanted: Vec<String> = if args.keys.is_empty() {
        source.keys().cloned().collect()
    } else {
        args.keys.iter().map(|k| keys::normalize(k)).collect()
    };
    if let Some(missing) = wanted.iter().find(|k| !source.contains_key(*k)) {
        return Err(Error::failed(format!(
            "`{missing}` has no value in profile `{}`",
            args.from
        )));
    }
    let mut copy = Vec::new();
    let mut overwrite = Vec::new();
    let mut skip = Vec::new();
    for key in &wanted {
        match existing.get(key) {
            None => copy.push(key.clone()),
            Some(v) if v.expose_secret() == source[key].expose_secret() => {}
            Some(_) if args.overwrite => overwrite.push(key.clone()),
            Some(_) => skip.push(key.clone()),
        }
    }
    shell.status(
        "Plan",
        format_args!(
            "copy from `{}` to `{}` ({})",
            args.from,
            args.to,
            rel(&to.secrets_path)
        ),
    );
    super::cloud::plan_group(shell, "copy", &copy);
    super::cloud::plan_group(shell, "overwrite", &overwrite);
    super::cloud::plan_group(shell, "keep (exists)", &skip);
    if copy.is_empty() && overwrite.is_empty() {
        shell.status("Nothing", "to copy");
        return Ok(());
    }
    let write = crate::cli::WriteArgs {
        dry_run: false,
        yes: args.yes,
    };
    super::cloud::confirm(
        shell,
        &write,
        &args.to,
        project.config.is_protected(&args.to),
        "Write into it",
    )?;
    for key in copy.iter().chain(&overwrite) {
        let value = SecretString::from(source[key].expose_secret());
        match target.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = Some(value),
            None => target.push((key.clone(), Some(value))),
        }
    }
    write_entries(&to.secrets_path, &target, true)?;
    shell.status(
        "Copied",
        format_args!(
            "{} key(s) into profile `{}`",
            copy.len() + overwrite.len(),
            args.to
        ),
    );

    let checked = ctx.check(shell, &project, to, false);
    for f in &checked.findings {
        super::validate::diagnostic(shell, f);
    }
    if checked.fails() {
        shell.warn(format_args!(
            "profile `{}` does not validate yet; see the findings above",
            args.to
        ));
    }
    Ok(())
}
