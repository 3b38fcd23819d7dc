//! `init`: create a profile's secrets.json with what that systemprompt version's `admin setup`
//! generates (the pepper or `jwt_secret`; from 0.44 the seed and the signing key, from 0.62 the
//! master key), or with `--add-missing` add only the generated keys an existing file lacks; and
//! make sure git ignores secrets.

use clap::Args;

use secrecy::SecretString;

use super::{rel, Context};
use crate::error::Error;
use crate::generation::Detected;
use crate::secrets_file::{read_entries, set_entry, write_entries, Entries};
use crate::shell::Shell;

/// Create a profile with freshly generated secrets (what this systemprompt version's setup makes) and make sure git ignores secrets
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets init                        Create the `local` profile\n  cargo systemprompt-secrets init --profile staging      Create another profile\n  cargo systemprompt-secrets init --add-missing          Add the keys a newer systemprompt needs (e.g. after an upgrade to 0.77)\n  cargo systemprompt-secrets init --force                Replace an existing secrets.json\n\nWhat is generated follows the systemprompt version in Cargo.lock: the pepper (or jwt_secret on 0.10 and earlier); from 0.44 manifest_signing_secret_seed and signing_key_pem; from 0.62 encryption_master_key."
)]
pub struct InitArgs {
    /// Replace an existing secrets.json
    #[arg(long, conflicts_with = "add_missing")]
    pub force: bool,
    /// Generate only the keys this systemprompt version needs that secrets.json lacks; never touch a value that is there
    #[arg(long)]
    pub add_missing: bool,
}

/// Stops before a fresh generated secret would shadow one the profile's keyring cache holds (a
/// new pepper or `jwt_secret` signs everyone out where the database is shared).
fn refuse_to_shadow_cache(
    ctx: &Context,
    project_id: &str,
    profile: &str,
    detected: &Detected,
    secrets: &std::path::Path,
) -> Result<(), Error> {
    use crate::cache_layer::SecretCache;
    let Ok(Some(cached)) = ctx.cache.load(project_id, profile) else {
        return Ok(());
    };
    // Every generation's generated keys: without the file, the generation is guessed anew, and
    // the cache of a `jwt_secret` project would get a pepper file over it.
    let generated = ["jwt_secret", "oauth_at_rest_pepper"]
        .into_iter()
        .chain(detected.setup_keys());
    let mut held: Vec<&str> = generated
        .filter(|k| cached.values.iter().any(|(c, _)| c == k))
        .collect();
    held.sort_unstable();
    held.dedup();
    if held.is_empty() {
        return Ok(());
    }
    Err(Error::failed(format!(
        "the keyring cache of profile `{profile}` ({}) holds {}; a new secrets.json with freshly generated values would shadow {}; nothing was written",
        cached.entry,
        held.join(", "),
        if held.len() == 1 { "it" } else { "them" }
    ))
    .help(format!(
        "write the cached values into the file instead: `cargo systemprompt-secrets export --profile {} --format json --keys -o {}`; or pass --force to generate new ones (a new pepper or jwt_secret signs everyone out)",
        crate::git::shell_quote(profile),
        crate::git::shell_quote(&rel(secrets))
    )))
}

const GITIGNORE_TEMPLATE: &str = include_str!("../../templates/gitignore");
/// The workspace root's ignore lines for this tool's temp files (at any depth).
const TEMP_FILES_IGNORE: &str = ".secrets-*.tmp\n.secrets-edit-*.json\n";
/// Keys a new profile lists empty, for the user to fill in.
const TO_FILL: &[&str] = &["database_url", "anthropic", "openai", "gemini", "github"];

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &InitArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let name = ctx
        .global
        .profile
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    if !crate::profile::is_new_profile_name(&name) {
        return Err(Error::usage(format!(
            "`{}` is not a profile name",
            crate::source::escape_controls(&name)
        ))
        .help("`init` takes a plain name such as `local` or `production`: no `/`, no leading `.`, no control characters"));
    }
    let dir = project.profiles.dir.join(&name);
    let secrets = dir.join("secrets.json");
    crate::atomic::create_private_dir(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", rel(&dir)), e))?;
    let _lock = crate::secrets_file::lock(&secrets)?;
    let exists = secrets.exists();
    if exists && !args.force && !args.add_missing {
        return Err(Error::failed(format!(
            "{} already exists; nothing was changed",
            rel(&secrets)
        ))
        .help("pass --add-missing to add only the keys it lacks, or --force to replace it with a fresh one (the old values are lost)"));
    }
    if let crate::git::GitState::Tracked { root } = crate::git::state(&secrets) {
        return Err(crate::git::tracked_error(&secrets, &root));
    }
    crate::secrets_file::check_replaceable(&secrets)?;
    let profile = project.profiles.open(&name)?;
    let detected = project.generation(&profile);
    shell.verbose(format_args!("{detected}"));
    shell.verbose(crate::upstream::describe(&detected));

    if args.add_missing && exists {
        add_missing(shell, &secrets, &detected)?;
    } else {
        if !args.force {
            refuse_to_shadow_cache(ctx, &project.id, &name, &detected, &secrets)?;
        }
        let mut entries: Entries = Vec::new();
        for key in detected.setup_keys() {
            entries.push((key.to_owned(), Some(generate(key)?)));
        }
        entries.extend(TO_FILL.iter().map(|k| ((*k).to_owned(), None)));
        write_entries(&secrets, &entries, args.force)?;
        shell.status(
            "Created",
            format_args!("profile `{name}` at {}", rel(&secrets)),
        );
        shell.info(format_args!(
            "note: written for {} ({}); generated: {}",
            version_words(&detected),
            detected.reason,
            detected.setup_keys().join(", ")
        ));
    }

    super::make_counted(shell, &project.profiles, &name)?;

    let systemprompt_dir = project
        .profiles
        .dir
        .parent()
        .unwrap_or(&project.profiles.dir)
        .to_path_buf();
    crate::git::ensure_ignored(
        shell,
        &systemprompt_dir.join(".gitignore"),
        GITIGNORE_TEMPLATE,
        &secrets,
    )?;
    let root_ignore = project.workspace_root.join(".gitignore");
    let env_file = project.workspace_root.join(".env");
    crate::git::ensure_ignored(shell, &root_ignore, ".env\n", &env_file)?;
    // Temp files of a write cut short, and kept `edit` copies, hold secrets: ignored wherever
    // they are made (an `export -o` writes outside `.systemprompt/`), even when the project
    // already ignores secrets.json by rules of its own.
    for probe in [".secrets-0.tmp", ".secrets-edit-0.json"] {
        crate::git::ensure_ignored(
            shell,
            &root_ignore,
            TEMP_FILES_IGNORE,
            &project.workspace_root.join(probe),
        )?;
    }

    if !(args.add_missing && exists) {
        shell.info(format_args!(
            "\nNext steps:\n  1. Fill in database_url and at least one of {} in {}\n  2. cargo systemprompt-secrets validate --profile {}\n  (the generated keys hold fresh random values; they are never printed)",
            detected.generation.ai_providers().join(" / "),
            rel(&secrets),
            crate::git::shell_quote(&name)
        ));
    }
    Ok(())
}

/// "systemprompt 0.77.0" or "the `oauth_at_rest_pepper` generation (…)".
fn version_words(detected: &Detected) -> String {
    match &detected.version {
        Some(v) if detected.version_known() => format!("systemprompt {v}"),
        _ => detected.generation.to_string(),
    }
}

/// A fresh value for a key with a built-in generator.
fn generate(key: &str) -> Result<SecretString, Error> {
    let spec = crate::generate::builtin(key)
        .ok_or_else(|| Error::failed(format!("no built-in generator for `{key}`")))?;
    spec.generate().map_err(|e| {
        Error::io(
            format!("cannot generate `{key}`"),
            std::io::Error::other(e.to_string()),
        )
    })
}

/// Adds the generated keys the file lacks (looked up without regard to case, as upstream finds
/// the master key), leaving every value that is there as it is.
fn add_missing(
    shell: &mut Shell,
    secrets: &std::path::Path,
    detected: &Detected,
) -> Result<(), Error> {
    let mut entries = read_entries(secrets)?;
    let missing: Vec<&str> = detected
        .setup_keys()
        .into_iter()
        .filter(|key| {
            !entries
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.is_some())
        })
        .collect();
    if missing.is_empty() {
        shell.status(
            "Fresh",
            format_args!(
                "{} has every key {} generates; nothing was changed",
                rel(secrets),
                version_words(detected)
            ),
        );
        return Ok(());
    }
    for key in &missing {
        set_entry(&mut entries, key, generate(key)?);
    }
    write_entries(secrets, &entries, true)?;
    shell.status(
        "Added",
        format_args!(
            "{} to {} (fresh values, not shown; nothing else changed)",
            missing.join(", "),
            rel(secrets)
        ),
    );
    Ok(())
}
