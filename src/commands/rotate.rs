//! `rotate KEY`: a fresh random value written into the profile atomically; only the key's name is
//! printed. `--sync` also pushes that one key to the profile's remote.

use clap::Args;
use secrecy::ExposeSecret;

use super::{rel, Context};
use crate::cli::{RemoteArgs, WriteArgs};
use crate::error::Error;
use crate::keys;
use crate::remote::Edit;
use crate::secret_map::SecretMap;
use crate::secrets_file::{read_entries, set_entry, write_entries};
use crate::shell::Shell;
use crate::source::Source;

/// Replace a key's value with a fresh random one (the value is never printed)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets rotate oauth_at_rest_pepper\n  cargo systemprompt-secrets rotate jwt_secret              (systemprompt 0.10 and earlier)\n  cargo systemprompt-secrets rotate session_key --bytes 32 --encoding hex --sync\n\noauth_at_rest_pepper (64 letters and digits, as upstream) and jwt_secret (48 bytes, base64) have built-in generators; other keys need --bytes or `generate = \"base64:48\"` in their rule."
)]
pub struct RotateArgs {
    /// The key to rotate (`oauth_at_rest_pepper`, `jwt_secret`, a key with a `generate` rule, or give --bytes)
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::completions::keys))]
    pub key: String,
    /// Random bytes (characters for alnum)
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Encoding of the new value [default: base64]
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub encoding: Option<crate::generate::Format>,
    /// Also push the new value of this key to the profile's remote
    #[arg(long)]
    pub sync: bool,
    /// Replace an existing `encryption_master_key` (everything sealed with the old one becomes unreadable)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: RemoteArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub write: WriteArgs,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &RotateArgs) -> Result<(), Error> {
    let key = keys::normalize(&args.key);
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    if keys::is_provider_key(&key) {
        return Err(super::generate::provider_key_error("rotate", &key));
    }
    let Some(spec) = super::generate::spec_for(ctx, shell, Some(&key), args.bytes, args.encoding)?
    else {
        return Err(Error::usage(format!("no generator for `{key}`: nothing says how its values are made")).help(format!("pass --bytes N (and --encoding), or set `generate = \"base64:48\"` in [workspace.metadata.systemprompt-secrets.rules.{key}]")));
    };
    let value = spec.generate().map_err(|e| {
        Error::io(
            "cannot read the OS random number generator",
            std::io::Error::other(e.to_string()),
        )
    })?;
    check_generated(
        shell,
        &ctx.settings(&project, &profile),
        &profile,
        &key,
        &spec,
        &value,
    )?;
    let json = args.target.format == crate::cli::Format::Json;
    let mut report = plan(shell, &profile, &key, &spec, args);
    // A key that is absent is added; one that is there and that a running server pins is replaced
    // only after its consequences are said and accepted (after the remote is settled, below).
    // (A file that cannot be read is reported below, where the write reads it.)
    let present = read_entries(&profile.secrets_path).is_ok_and(|entries| {
        entries
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(&key) && v.is_some())
    });
    if args.write.dry_run {
        if present {
            pinned_check(shell, &key, args)?;
        }
        shell.status("Dry run", "nothing was changed");
        if json {
            shell.out(report);
        }
        return Ok(());
    }
    if project.config.is_protected(&profile.name) {
        super::confirm(
            shell,
            &args.write,
            &profile.name,
            true,
            &format!("Rotate `{key}`"),
        )?;
    }

    // Everything the push needs (backend, tenant or address, token) is settled before the local
    // write, so that a missing login does not leave local and remote apart.
    let store = if args.sync {
        Some(ctx.remote(shell, &project, &profile, &args.target)?)
    } else {
        None
    };
    if present {
        pinned_check(shell, &key, args)?;
    }
    super::confirm_unread_file(shell, &profile, args.write.yes)?;
    // A fresh value in a file git tracks would be committed: stop, as `init` and `sync` do.
    crate::git::guard(shell, &profile.secrets_path)?;
    // Held from the read to the rename: a concurrent writer's update is read, not lost.
    let lock = crate::secrets_file::lock(&profile.secrets_path)?;
    let mut entries = read_entries(&profile.secrets_path)?;
    set_entry(&mut entries, &key, value.clone());
    write_entries(&profile.secrets_path, &entries, true)?;
    drop(entries);
    drop(lock);
    shell.status(
        "Rotated",
        format_args!(
            "`{key}` in {} ({spec}; the value is not shown)",
            rel(&profile.secrets_path)
        ),
    );
    super::warn_shadowed(ctx, shell, &project, &profile, std::slice::from_ref(&key));

    report["rotated"] = true.into();
    if let Some(store) = store {
        let pushed = push(shell, &project, &profile, store.as_ref(), &key, value);
        match pushed {
            Ok(synced) => report["synced"] = synced,
            Err(e) => {
                if json {
                    shell.out(report);
                }
                return Err(e);
            }
        }
    }
    if json {
        shell.out(report);
    }
    Ok(())
}

/// A generated value must pass the key's rules before it is written.
fn check_generated(
    shell: &mut Shell,
    settings: &crate::config::ProfileSettings,
    profile: &crate::profile::Profile,
    key: &str,
    spec: &crate::generate::Spec,
    value: &secrecy::SecretString,
) -> Result<(), Error> {
    let findings = crate::validate::validate_value(
        key,
        value.expose_secret(),
        &Source::SecretsFile {
            path: profile.secrets_path.clone(),
            line: None,
        },
        settings.rules.get(key),
        settings.generation.release(),
    );
    if findings
        .iter()
        .any(|f| f.severity == crate::finding::Severity::Error)
    {
        for f in &findings {
            super::validate::diagnostic(shell, f);
        }
        return Err(Error::failed(format!(
            "a {spec} value does not pass the rules for `{key}`; nothing was changed"
        ))
        .help("choose --bytes/--encoding to match the rule"));
    }
    Ok(())
}

/// Prints the plan and returns the JSON report as it stands before anything is done.
fn plan(
    shell: &mut Shell,
    profile: &crate::profile::Profile,
    key: &str,
    spec: &crate::generate::Spec,
    args: &RotateArgs,
) -> serde_json::Value {
    shell.status(
        "Plan",
        format_args!(
            "rotate `{key}` in {} ({spec}){}",
            rel(&profile.secrets_path),
            if args.sync {
                ", then push it to the profile's remote"
            } else {
                ""
            }
        ),
    );
    serde_json::json!({
        "profile": profile.name,
        "key": key,
        "secrets_file": profile.secrets_path,
        "generator": spec.to_string(),
        "dry_run": args.write.dry_run,
        "rotated": false,
        "synced": null,
    })
}

/// What replacing `key` breaks, for the keys a running systemprompt pins (0.67+ refuses to reload
/// them); `None` for the others.
fn breaks(key: &str) -> Option<&'static str> {
    Some(match key {
        crate::upstream::MASTER_KEY | "ENCRYPTION_MASTER_KEY" => "everything systemprompt sealed at rest with the old encryption_master_key (stored provider keys, OAuth client secrets, the gateway accounting journal) becomes unreadable: this is data loss, not a rotation",
        crate::generation::PEPPER => "the OAuth tokens and client secrets stored with the old pepper no longer match: every client signs in again",
        crate::generation::JWT_SECRET => "every token signed with the old jwt_secret stops verifying: every user signs in again",
        crate::upstream::SEED => "manifests signed with the old seed no longer verify, and every replica must get the new seed at the same time",
        crate::upstream::SIGNING_KEY => "tokens and manifests signed with the old key no longer verify, and every replica must get the new key at the same time",
        "database_url" | "database_write_url" | "database_session_url" => "the server connects to another database",
        _ => return None,
    })
}

/// Replacing a key a running server pins: the master key needs `--force`; the others say what
/// breaks and ask (on a terminal) or need `--yes`.
fn pinned_check(shell: &mut Shell, key: &str, args: &RotateArgs) -> Result<(), Error> {
    let Some(what) = breaks(key) else {
        return Ok(());
    };
    let restart = "a running systemprompt keeps the old value until it restarts (0.67 and later refuse to reload it)";
    if matches!(key, crate::upstream::MASTER_KEY | "ENCRYPTION_MASTER_KEY") {
        if !args.force {
            return Err(Error::usage(format!(
                "refusing to replace `{key}`: {what}; nothing was changed"
            ))
            .help("keep it (every replica and backup needs this same key); pass --force only for a fresh install with nothing sealed yet, then restart the server"));
        }
        shell.warn(format_args!(
            "replacing `{key}` (--force): {what}; {restart}"
        ));
        return Ok(());
    }
    shell.warn(format_args!("a new `{key}`: {what}; {restart}"));
    if args.write.yes || args.write.dry_run {
        return Ok(());
    }
    match shell.confirm(&format!("Replace `{key}`?"), false)? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::cancelled()),
        None => Err(Error::usage(format!(
            "replacing `{key}` needs a yes and this is not an interactive terminal; nothing was changed"
        ))
        .help("read what it breaks above, then pass --yes")),
    }
}

/// `--sync`: the one key (and, for deploy naming, the list of custom names) to the remote.
fn push(
    shell: &mut Shell,
    project: &crate::project::Project,
    profile: &crate::profile::Profile,
    store: &dyn crate::remote::RemoteStore,
    key: &str,
    value: secrecy::SecretString,
) -> Result<serde_json::Value, Error> {
    {
        let name = store.remote_name(key);
        let mut set = SecretMap::from_iter([(name.clone(), value)]);
        let failed = |shell: &mut Shell, e: Error| {
            super::log_requests(shell, store);
            Error::failed(format!(
                "`{key}` was rotated in {}, but pushing it to {} failed: {e}",
                rel(&profile.secrets_path),
                store.location()
            ))
            .help("push the new value without rotating again: `cargo systemprompt-secrets sync` (local and remote differ until then)")
        };
        let list = match super::add_custom_list(shell, project, profile, store, &mut set) {
            Ok(list) => list,
            Err(e) => return Err(failed(shell, e)),
        };
        let edit = Edit {
            set,
            ..Edit::default()
        };
        let applied = match store.apply(&edit, None, &|| {}) {
            Ok(applied) => applied,
            Err(e) => return Err(failed(shell, e)),
        };
        if let Some((list, slot)) = &list {
            super::record_write(shell, slot, Some(list), None);
        }
        let version = applied
            .version
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default();
        shell.status(
            "Synced",
            format_args!("`{name}` to {}{version}", store.location()),
        );
        super::log_requests(shell, store);
        Ok(super::with_target(
            store,
            serde_json::json!({ "name": name, "version": applied.version }),
        ))
    }
}
