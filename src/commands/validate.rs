//! `validate` (alias `check`): every finding at once, as diagnostics, JSON or GitHub annotations.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{profile_error_finding, rel, Checked, Context};
use crate::error::Error;
use crate::finding::{Finding, Location, Mode, Severity};
use crate::shell::{style, Shell};

/// Validate a profile's secrets and report every finding
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets validate\n  cargo systemprompt-secrets validate --strict --profile production\n  cargo systemprompt-secrets validate --all-profiles --format github\n  cargo systemprompt-secrets validate --env-only --strict --profile production   In CI\n\nExit codes: 0 clean (warnings allowed unless strict), 1 failing findings, 2 usage or configuration error."
)]
pub struct ValidateArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ValidateFormat,
    /// Fail on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Validate every profile
    #[arg(long, conflicts_with = "profile")]
    pub all_profiles: bool,
    /// Read the profile from the environment (and .env) alone, as in CI where no secrets file is
    /// checked out: the secrets file and the keyring cache are not read, and a missing file is
    /// no finding
    #[arg(long)]
    pub env_only: bool,
}

/// `--format` for `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ValidateFormat {
    /// For people (diagnostics on stderr).
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow annotations on stdout.
    Github,
}

/// The profile to check. With `--env-only`, a profile named (`--profile`, `SYSTEMPROMPT_PROFILE`,
/// `default-profile`) need not have a folder: a CI checkout has none.
fn select(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    args: &ValidateArgs,
) -> Result<crate::profile::Profile, Error> {
    match ctx.select(shell, project) {
        Err(Error::Profile(crate::profile::ProfileError::NotFound { name, .. }))
            if args.env_only && crate::profile::is_new_profile_name(&name) =>
        {
            shell.verbose(format_args!(
                "profile `{name}` has no folder here; --env-only reads it from the environment"
            ));
            Ok(project.profiles.open(&name)?)
        }
        other => other,
    }
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ValidateArgs) -> Result<(), Error> {
    if args.env_only && ctx.global.no_env {
        return Err(
            Error::usage("--env-only reads the environment, which --no-env turns off")
                .help("drop one of the two"),
        );
    }
    ctx.env_only.set(args.env_only);
    let project = ctx.project(shell)?;
    let mut checked = Vec::new();
    if args.all_profiles {
        if project.profiles.names.is_empty() {
            return Err(crate::profile::ProfileError::Empty {
                dir: project.profiles.dir.clone(),
            }
            .into());
        }
        for name in &project.profiles.names {
            match project.profiles.open(name) {
                Ok(profile) => checked.push(ctx.check(shell, &project, profile, args.strict)),
                Err(e) => {
                    let profile = crate::profile::Profile {
                        name: name.clone(),
                        dir: project.profiles.dir.join(name),
                        secrets_path: project.profiles.dir.join(name).join("secrets.json"),
                        yaml_path: None,
                        yaml: crate::profile::ProfileYaml::default(),
                    };
                    checked.push(Checked {
                        settings: project.settings(&profile),
                        profile,
                        mode: Mode::Strict,
                        protected: project.config.is_protected(name),
                        resolved: None,
                        findings: vec![profile_error_finding(&e)],
                    });
                }
            }
        }
    } else {
        let profile = select(ctx, shell, &project, args)?;
        checked.push(ctx.check(shell, &project, profile, args.strict));
    }
    // A profile that boots from Vault is checked where the app reads it: the remote document.
    if !args.env_only {
        for c in &mut checked {
            if c.profile.yaml.source() == crate::profile::SecretSource::Vault
                && c.mode != Mode::Skip
            {
                check_vault_document(ctx, shell, &project, c)?;
            }
        }
    }

    // One question to git for every profile at once.
    let asked: Vec<&mut Checked> = checked
        .iter_mut()
        .filter(|c| c.mode != Mode::Skip && !c.settings.allows(crate::finding::SECRETS_TRACKED))
        .collect();
    let files: Vec<PathBuf> = asked
        .iter()
        .map(|c| c.profile.secrets_path.clone())
        .collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    for (c, root) in asked.into_iter().zip(crate::git::tracked_roots(&paths)) {
        if let Some(root) = root {
            c.findings
                .push(crate::git::tracked_finding(&c.profile.secrets_path, &root));
        }
    }

    match args.format {
        ValidateFormat::Human => {
            for c in &checked {
                human(shell, c);
            }
        }
        ValidateFormat::Json => shell.out(to_json(&checked)),
        ValidateFormat::Github => {
            for c in &checked {
                for f in &c.findings {
                    shell.out(github(f, c.mode));
                }
            }
        }
    }

    let failed: Vec<String> = checked
        .iter()
        .filter(|c| c.fails())
        .map(|c| format!("`{}`", c.profile.name))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::failed(format!(
            "validation failed for profile{} {}",
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        )))
    }
}

fn human(shell: &mut Shell, c: &Checked) {
    shell.status(
        "Validating",
        format_args!(
            "profile `{}` ({}, mode {}{})",
            c.profile.name,
            rel(&c.profile.secrets_path),
            c.mode,
            if c.protected { ", protected" } else { "" }
        ),
    );
    if c.mode == Mode::Skip && c.findings.is_empty() {
        shell.status(
            "Skipped",
            "the tool's own checks (secrets.validation = skip); upstream's found nothing",
        );
        return;
    }
    if shell.verbosity() > crate::shell::Verbosity::Quiet || c.fails() {
        for f in &c.findings {
            diagnostic_in(shell, f, c.mode);
        }
    }
    let (errors, warnings) = (c.count(Severity::Error), c.count(Severity::Warning));
    let summary = format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if !c.fails() {
        let note = if c.mode == Mode::Warn && errors > 0 {
            " (mode warn: errors reported as warnings, not failing)"
        } else {
            ""
        };
        shell.status(
            "Finished",
            format_args!("profile `{}`: {summary}{note}", c.profile.name),
        );
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Prints one finding as a Cargo-style diagnostic on stderr.
pub(crate) fn diagnostic(shell: &mut Shell, f: &Finding) {
    diagnostic_in(shell, f, Mode::Default);
}

/// Prints one finding as a diagnostic of a profile in `mode`: in warn mode an error is shown as a
/// warning, as it fails nothing.
pub(crate) fn diagnostic_in(shell: &mut Shell, f: &Finding, mode: Mode) {
    let severity = f.shown_severity(mode);
    let st = match severity {
        Severity::Error => style::ERROR,
        Severity::Warning => style::WARN,
    };
    shell.err_styled(st, format_args!("{severity}[{}]", f.code));
    shell.err_raw(format_args!(": {}\n", f.message));
    if let Some(loc) = &f.location {
        shell.err_styled(style::NOTE, "  --> ");
        shell.err_raw(format_args!("{}\n", location_text(loc)));
    }
    shell.err_styled(style::NOTE, "   = help");
    shell.err_raw(format_args!(": {}\n", f.hint));
}

/// A location with paths relative to the current directory.
pub(crate) fn location_text(loc: &Location) -> String {
    match (loc.path(), loc.line(), loc.column()) {
        (Some(p), Some(l), Some(c)) => format!("{}:{l}:{c}", rel(p)),
        (Some(p), Some(l), None) => format!("{}:{l}", rel(p)),
        (Some(p), None, _) => rel(p),
        (None, ..) => loc.to_string(),
    }
}

fn to_json(checked: &[Checked]) -> serde_json::Value {
    let profiles: Vec<_> = checked
        .iter()
        .map(|c| {
            json!({
                "profile": c.profile.name,
                "secrets_file": c.profile.secrets_path,
                "mode": c.mode,
                "protected": c.protected,
                "ok": !c.fails(),
                "errors": c.count(Severity::Error),
                "warnings": c.count(Severity::Warning),
                "findings": c.findings,
            })
        })
        .collect();
    json!({ "ok": checked.iter().all(|c| !c.fails()), "profiles": profiles })
}

/// One GitHub Actions workflow command: `::error file=…,line=…,title=…::message`.
fn github(f: &Finding, mode: Mode) -> String {
    let level = match (f.shown_severity(mode), mode) {
        (Severity::Warning, Mode::Strict) | (Severity::Error, _) => "error",
        (Severity::Warning, _) => "warning",
    };
    let mut props = Vec::new();
    if let Some(loc) = &f.location {
        if let Some(path) = loc.path() {
            props.push(format!("file={}", escape_property(&rel(path))));
        }
        if let Some(line) = loc.line() {
            props.push(format!("line={line}"));
        }
        if let Some(col) = loc.column() {
            props.push(format!("col={col}"));
        }
    }
    let title = match &f.key {
        Some(key) => format!("{} ({key})", f.code),
        None => f.code.clone(),
    };
    props.push(format!("title={}", escape_property(&title)));
    format!(
        "::{level} {}::{}",
        props.join(","),
        escape_data(&format!("{} (help: {})", f.message, f.hint))
    )
}

/// Escapes a GitHub workflow command's message (`%`, CR, LF).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Validates what a `source: vault` profile's app reads: the document at its `secrets.vault`
/// path, read once and never written, with every rule of the local check. The local
/// secrets.json is not what the app reads, and is said to be so.
fn check_vault_document(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    checked: &mut Checked,
) -> Result<(), Error> {
    let args = crate::cli::RemoteArgs::default();
    let store = match ctx.remote(shell, project, &checked.profile, &args) {
        Err(Error::Token(crate::token::TokenError::NoOpenBaoToken { address })) => {
            let own = checked
                .profile
                .yaml
                .secrets
                .as_ref()
                .and_then(|s| s.vault.as_ref())
                .and_then(|v| v.auth.as_ref())
                .map_or_else(
                    || vec!["VAULT_TOKEN".to_owned()],
                    crate::profile::YamlVaultAuth::env_names,
                );
            let own: Vec<String> = own.iter().map(|n| format!("${n}")).collect();
            return Err(Error::usage(format!(
                "profile `{}` boots from Vault at {address}, and validate reads what the app reads there, but no token is at hand",
                checked.profile.name
            ))
            .help(format!(
                "set {} as the app has it (or BAO_TOKEN), or run `cargo systemprompt-secrets login --backend openbao --address {address}`; `validate --env-only` checks the environment instead",
                own.join(" and ")
            )));
        }
        other => other?,
    };
    let remote = store.read()?;
    let place = format!("OpenBao {}", store.location());
    let version = remote
        .version
        .filter(|v| *v > 0)
        .map_or_else(|| "no version yet".to_owned(), |v| format!("version {v}"));
    shell.status(
        "Checking",
        format_args!(
            "{place} ({version}): what profile `{}` boots from; {} is not read by the app",
            checked.profile.name,
            crate::source::rel(&checked.profile.secrets_path)
        ),
    );
    // The local file's own findings do not apply: the app reads the document.
    let (resolved, findings) = remote_findings(
        store.as_ref(),
        &remote,
        &checked.profile,
        &checked.settings,
        checked.mode,
    );
    checked.findings = findings;
    checked.resolved = Some(resolved);
    Ok(())
}

/// What the rules say of a remote document the app boots from (`validate`, `doctor --online`):
/// the document as the layers would resolve it, and its findings, including each key the app
/// reads from another document that is not there.
pub(crate) fn remote_findings(
    store: &dyn crate::remote::RemoteStore,
    remote: &crate::remote::Remote,
    profile: &crate::profile::Profile,
    settings: &crate::config::ProfileSettings,
    mode: Mode,
) -> (crate::layers::Resolved, Vec<Finding>) {
    let resolved = remote_resolved(store, remote, &profile.secrets_path);
    let place = format!("OpenBao {}", store.location());
    let findings = crate::validate::validate_profile(&resolved, settings, profile, mode)
        .into_iter()
        .filter(|f| f.code != crate::finding::SECRETS_SOURCE)
        .chain(unserved_findings(remote, &place))
        .collect();
    (resolved, findings)
}

/// One error for each key the app reads from a field of another document (`secrets.vault.keys`)
/// that is not there: upstream stops the boot on it.
fn unserved_findings(remote: &crate::remote::Remote, place: &str) -> Vec<crate::finding::Finding> {
    remote
        .unserved
        .iter()
        .map(|(key, why)| {
            crate::finding::Finding::new(
                crate::finding::VAULT_KEY_UNSERVED,
                crate::finding::Severity::Error,
                Some(key),
                format!("the app reads `{key}` from another document (`secrets.vault.keys`), and {why}: it would not boot"),
                "run `cargo systemprompt-secrets sync` to write it there, or remove the key's `secrets.vault.keys` entry",
            )
            .boot_refusal()
            .at(Some(crate::finding::Location::Source(crate::source::Source::Remote {
                place: place.to_owned(),
            })))
        })
        .collect()
}

/// A remote document as the layers would resolve it, each key defined by the remote
/// ([`crate::source::Source::Remote`]), for the rules of the local check.
fn remote_resolved(
    store: &dyn crate::remote::RemoteStore,
    remote: &crate::remote::Remote,
    secrets_path: &Path,
) -> crate::layers::Resolved {
    let source = crate::source::Source::Remote {
        place: format!("OpenBao {}", store.location()),
    };
    let mut resolved = crate::layers::Resolved {
        secrets_path: secrets_path.to_path_buf(),
        secrets_file_found: true,
        ..Default::default()
    };
    for (key, value) in remote
        .values
        .iter()
        .flat_map(crate::secret_map::SecretMap::iter)
    {
        let key = store.local_key(key);
        if secrecy::ExposeSecret::expose_secret(value)
            .trim()
            .is_empty()
        {
            resolved.blanks.insert(key, source.clone());
        } else {
            resolved.entries.insert(
                key.clone(),
                crate::layers::Resolution::single(
                    key,
                    crate::layers::Definition {
                        source: source.clone(),
                        value: value.clone(),
                    },
                ),
            );
        }
    }
    resolved
}
