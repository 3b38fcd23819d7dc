//! `copy --from A --to B [KEY…]`: copy keys between local profiles; names-only plan, a question
//! before writing into a protected profile, and the target validated afterwards.

use super::{rel, Context};
use crate::error::Error;
use crate::keys;
use crate::secret_map::Compare;
use crate::secrets_file::{read_entries, set_entry, values, write_entries};
use crate::shell::Shell;
use clap::Args;

/// Copy keys from one local profile to another
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets copy --from local --to staging --create\n  cargo systemprompt-secrets copy --from local --to production jwt_secret --overwrite --yes"
)]
pub struct CopyArgs {
    /// The source profile
    #[arg(long, value_name = "PROFILE")]
    pub from: String,
    /// The target profile
    #[arg(long, value_name = "PROFILE")]
    pub to: String,
    /// Create the target profile when it does not exist (else asked on a terminal)
    #[arg(long)]
    pub create: bool,
    /// Only these keys (default: every key with a value)
    #[arg(value_name = "KEY", add = clap_complete::engine::ArgValueCompleter::new(super::completions::keys))]
    pub keys: Vec<String>,
    /// Replace keys the target already has
    #[arg(long)]
    pub overwrite: bool,
    /// Do not ask before writing into a protected profile
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the plan and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The two profiles: the source must have a secrets file, the target a plain name.
fn open_both(
    project: &crate::project::Project,
    args: &CopyArgs,
) -> Result<(crate::profile::Profile, crate::profile::Profile), Error> {
    let from = project.profiles.open(&args.from)?;
    if !from.secrets_path.is_file() {
        return Err(Error::failed(format!(
            "profile `{}` has no secrets file at {}",
            args.from,
            rel(&from.secrets_path)
        )));
    }
    if !crate::profile::is_new_profile_name(&args.to) {
        return Err(Error::usage(format!(
            "`{}` is not a profile name",
            crate::source::escape_controls(&args.to)
        ))
        .help("name the profile with letters, digits, `-` or `_`: no `/`, no leading `.`, no control characters"));
    }
    Ok((from, project.profiles.open(&args.to)?))
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &CopyArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    if args.from == args.to {
        return Err(Error::usage("--from and --to name the same profile").help(
            "name two different profiles; `cargo systemprompt-secrets profiles` lists them",
        ));
    }
    let (from, to) = open_both(&project, args)?;
    super::confirm_unread_file(shell, &to, args.yes)?;
    let create = !to.dir.is_dir();
    if create && !args.create {
        ask_to_create(shell, &project.profiles, &args.to)?;
    }
    let source = values(&read_entries(&from.secrets_path)?);
    crate::git::guard(shell, &to.secrets_path)?;
    // Held from the read to the rename: a concurrent writer's update is read, not lost. A new
    // profile's folder is made (and locked) only after the answers, so a "no" leaves nothing.
    let mut lock = if create {
        None
    } else {
        Some(crate::secrets_file::lock(&to.secrets_path)?)
    };
    let mut target = if create {
        Vec::new()
    } else {
        read_entries(&to.secrets_path)?
    };
    let existing = values(&target);

    let wanted: Vec<String> = if args.keys.is_empty() {
        source.names().cloned().collect()
    } else {
        args.keys.iter().map(|k| keys::normalize(k)).collect()
    };
    if let Some(missing) = wanted.iter().find(|k| !source.contains(k)) {
        return Err(Error::failed(format!(
            "`{missing}` has no value in profile `{}`",
            args.from
        )));
    }
    let (copy, overwrite, skip) = classify(&source, &existing, &wanted, args.overwrite);
    shell.status(
        "Plan",
        format_args!(
            "copy from `{}` to `{}` ({})",
            args.from,
            args.to,
            rel(&to.secrets_path)
        ),
    );
    super::plan_group(shell, "copy", &copy);
    super::plan_group(shell, "overwrite", &overwrite);
    super::plan_group(shell, "keep (exists)", &skip);
    let protected = project.config.is_protected(&args.to);
    if protected && !project.config.is_protected(&args.from) {
        warn_shared_secrets(shell, args, copy.iter().chain(&overwrite));
    }
    if copy.is_empty() && overwrite.is_empty() {
        shell.status("Nothing", "to copy");
        return Ok(());
    }
    let write = crate::cli::WriteArgs {
        dry_run: args.dry_run,
        yes: args.yes,
    };
    if !super::confirm(shell, &write, &args.to, protected, "Write into it")? {
        return Ok(());
    }
    if create {
        crate::atomic::create_private_dir(&to.dir)
            .map_err(|e| Error::io(format!("cannot create {}", rel(&to.dir)), e))?;
        shell.status(
            "Created",
            format_args!("profile `{}` ({})", args.to, rel(&to.dir)),
        );
        super::make_counted(shell, &project.profiles, &args.to)?;
        lock = Some(crate::secrets_file::lock(&to.secrets_path)?);
        // Someone may have written it since the plan: their keys stay unless --overwrite.
        target = read_entries(&to.secrets_path)?;
    }
    apply(
        &mut target,
        &source,
        copy.iter().chain(&overwrite),
        args.overwrite,
    );
    write_entries(&to.secrets_path, &target, true)?;
    drop(lock);
    shell.status(
        "Copied",
        format_args!(
            "{} key(s) into profile `{}`",
            copy.len() + overwrite.len(),
            args.to
        ),
    );

    let written: Vec<String> = copy.iter().chain(&overwrite).cloned().collect();
    super::warn_shadowed(ctx, shell, &project, &to, &written);
    validate_target(ctx, shell, &project, to);
    Ok(())
}

/// Sets `keys` from `source` in `target`; a key `target` already has a value for is kept unless
/// `overwrite` (someone may have written it since the plan).
fn apply<'a>(
    target: &mut Vec<(String, Option<secrecy::SecretString>)>,
    source: &crate::secret_map::SecretMap,
    keys_to_set: impl Iterator<Item = &'a String>,
    overwrite: bool,
) {
    for key in keys_to_set {
        let taken = target
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.is_some());
        if taken && !overwrite {
            continue;
        }
        if let Some(value) = source.get(key) {
            set_entry(target, key, value.clone());
        }
    }
}

/// The target's findings after the copy, as `validate` shows them.
fn validate_target(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    to: crate::profile::Profile,
) {
    let name = to.name.clone();
    let checked = ctx.check(shell, project, to, false);
    for f in &checked.findings {
        super::validate::diagnostic(shell, f);
    }
    if checked.fails() {
        shell.warn(format_args!(
            "profile `{name}` does not validate yet; see the findings above"
        ));
    }
}

/// The wanted keys split into those to copy (the target lacks them), to overwrite (different there,
/// and `--overwrite`) and to keep (different there).
fn classify(
    source: &crate::secret_map::SecretMap,
    existing: &crate::secret_map::SecretMap,
    wanted: &[String],
    overwrite_allowed: bool,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut copy, mut overwrite, mut skip) = (Vec::new(), Vec::new(), Vec::new());
    let comparison = source.compare(existing);
    let cmp: std::collections::BTreeMap<&str, Compare> = comparison.iter().collect();
    for key in wanted {
        match cmp.get(key.as_str()) {
            Some(Compare::LocalOnly) => copy.push(key.clone()),
            Some(Compare::Changed) if overwrite_allowed => overwrite.push(key.clone()),
            Some(Compare::Changed) => skip.push(key.clone()),
            _ => {}
        }
    }
    (copy, overwrite, skip)
}

/// Copying a generated secret (`jwt_secret`, the pepper, …) from an unprotected profile into a
/// protected one makes them share it: a warning for each, with the `rotate` that undoes it.
fn warn_shared_secrets<'a>(
    shell: &mut Shell,
    args: &CopyArgs,
    keys_copied: impl Iterator<Item = &'a String>,
) {
    for key in keys_copied.filter(|k| keys::is_generated_secret(k)) {
        shell.warn_help(
            format_args!(
                "this copies the `{key}` of `{}` into protected profile `{}`: the two would share one secret",
                args.from, args.to
            ),
            format_args!(
                "give `{}` its own afterwards: `cargo systemprompt-secrets rotate {key} --profile {}`",
                args.to,
                crate::git::shell_quote(&args.to)
            ),
        );
    }
}

/// A target profile that does not exist: asked on a terminal, else an error naming `--create` and
/// the closest existing profile (a typo in `--to` must not make a new profile).
fn ask_to_create(
    shell: &mut Shell,
    profiles: &crate::profile::ProfileSet,
    name: &str,
) -> Result<(), Error> {
    let existing = if profiles.names.is_empty() {
        "none".to_owned()
    } else {
        profiles.names.join(", ")
    };
    let question = format!("Profile `{name}` does not exist (profiles: {existing}). Create it?");
    match shell.confirm(&question, false)? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::cancelled()),
        None => {
            let hint = keys::closest(name, profiles.names.iter().map(String::as_str)).map_or_else(
                || format!("pass --create to make it (profiles: {existing})"),
                |near| format!("did you mean `--to {near}`? Pass --create to make `{name}`"),
            );
            Err(Error::usage(format!(
                "profile `{name}` does not exist; nothing was changed"
            ))
            .help(hint))
        }
    }
}
