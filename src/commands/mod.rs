//! One file per subcommand, plus the context they share (project, profile, layers, checks).

pub mod cache;
pub mod cleanup;
pub mod completions;
pub mod copy;
pub mod diff;
pub mod doctor;
pub mod edit;
pub mod explain;
pub mod export;
pub mod generate;
pub mod get;
pub mod import;
pub mod init;
pub mod list;
pub mod login;
pub mod logout;
pub mod profiles;
pub mod pull;
pub mod rollback;
pub mod rotate;
pub mod run;
pub mod scan;
pub mod set;
pub mod status;
pub mod sync;
pub mod trust;
pub mod unset;
pub mod validate;
pub mod versions;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use anstream::ColorChoice;
use secrecy::SecretString;

use crate::cli::{Cli, Color, Command, GlobalArgs, RemoteArgs, WriteArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::finding::{Finding, Location, Mode, Severity};
use crate::keyring::profile_cache::KeyringCache;
use crate::keyring::{self, Opened};
use crate::layers::{self, DotEnvFile, LoadError, LoadOptions, Resolved};
use crate::profile::{Profile, ProfileError, Selection};
use crate::project::{self, Project};
use crate::remote::{self, RemoteFlags, RemoteStore};
use crate::shell::{Shell, Verbosity};

/// Runs a parsed command line. Returns the error to report; the caller maps it to an exit code.
pub fn run(cli: Cli, shell: &mut Shell) -> Result<(), Error> {
    let ctx = Context::new(cli.global);
    if let Some(verb) = crate::cli::PLAYBOOK_ALIAS.get() {
        shell.info(format_args!(
            "note: `cloud secrets {verb}` (the playbook's spelling) runs `cargo systemprompt-secrets {verb}`"
        ));
    }
    let machine = machine_format(&cli.command);
    crate::interrupt::set_json(machine == Some(Machine::Json));
    let result = dispatch(&ctx, cli.command, shell);
    if let (Err(e), Some(format)) = (&result, machine) {
        // A program reading stdout gets the error too, when the command printed nothing there.
        if !shell.wrote_stdout() && !matches!(e, Error::Exit { message: None, .. }) {
            report_for_machines(shell, e, format);
        }
    }
    result
}

/// An output format read by programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Machine {
    Json,
    Github,
}

/// The machine-read format the command line asks for, if any.
fn machine_format(command: &Command) -> Option<Machine> {
    use crate::cli::Format;
    let format = match command {
        Command::Validate(a) => {
            return match a.format {
                validate::ValidateFormat::Json => Some(Machine::Json),
                validate::ValidateFormat::Github => Some(Machine::Github),
                validate::ValidateFormat::Human => None,
            }
        }
        Command::Scan(a) => {
            return (a.format == scan::ScanFormat::Json).then_some(Machine::Json);
        }
        Command::Export(a) => {
            return (a.format == export::ExportFormat::Json).then_some(Machine::Json);
        }
        Command::List(a) => a.target.format,
        Command::Sync(a) => a.target.format,
        Command::Set(a) => a.target.format,
        Command::Unset(a) => a.target.format,
        Command::Cleanup(a) => a.target.format,
        Command::Diff(a) => a.target.format,
        Command::Pull(a) => a.target.format,
        Command::Versions(a) => a.target.format,
        Command::Rollback(a) => a.target.format,
        Command::Rotate(a) => a.target.format,
        Command::Get(a) => a.format,
        Command::Explain(a) => a.format,
        Command::Profiles(a) => a.format,
        Command::Status(a) => a.format,
        Command::Cache(a) => a.format,
        Command::Doctor(a) => a.remote.format,
        Command::Trust(a) => a.format,
        _ => return None,
    };
    (format == Format::Json).then_some(Machine::Json)
}

/// The error as a JSON object on stdout (`{"ok": false, "error": {…}}`) or a GitHub `::error::`
/// line, scrubbed of every known value as the stderr line is.
fn report_for_machines(shell: &mut Shell, e: &Error, format: Machine) {
    let scrub = crate::scrub::global();
    let message = scrub.redact(&e.to_string());
    let help = e.hint().map(|h| scrub.redact(&h));
    match format {
        Machine::Json => shell.out(serde_json::json!({
            "ok": false,
            "error": {
                "message": message,
                "help": help,
                "exit_code": e.exit_code(),
            },
        })),
        Machine::Github => {
            let text = match &help {
                Some(h) => format!("{message} (help: {h})"),
                None => message,
            };
            shell.out(format_args!(
                "::error title=cargo systemprompt-secrets::{}",
                validate::escape_data(&text)
            ));
        }
    }
}

fn dispatch(ctx: &Context, command: Command, shell: &mut Shell) -> Result<(), Error> {
    match command {
        Command::Init(args) => init::run(ctx, shell, &args),
        Command::Validate(args) => validate::run(ctx, shell, &args),
        Command::List(args) if args.remote => diff::run(ctx, shell, &args.target, false),
        Command::List(args) => list::run(ctx, shell, args.target.format),
        Command::Sync(args) => sync::run(ctx, shell, &args),
        Command::Set(args) => set::run(ctx, shell, &args),
        Command::Unset(args) => unset::run(ctx, shell, &args),
        Command::Cleanup(args) => cleanup::run(ctx, shell, &args),
        Command::Diff(args) => diff::run(ctx, shell, &args.target, args.exit_code),
        Command::Pull(args) => pull::run(ctx, shell, &args),
        Command::Run(args) => run::run(ctx, shell, &args),
        Command::Edit(args) => edit::run(ctx, shell, &args),
        Command::Generate(args) => generate::run(ctx, shell, &args),
        Command::Rotate(args) => rotate::run(ctx, shell, &args),
        Command::Import(args) => import::run(ctx, shell, &args),
        Command::Export(args) => export::run(ctx, shell, &args),
        Command::Copy(args) => copy::run(ctx, shell, &args),
        Command::Versions(args) => versions::run(ctx, shell, &args),
        Command::Rollback(args) => rollback::run(ctx, shell, &args),
        Command::Get(args) => get::run(ctx, shell, &args),
        Command::Explain(args) => explain::run(ctx, shell, &args),
        Command::Profiles(args) => profiles::run(ctx, shell, args.format),
        Command::Login(args) => login::run(ctx, shell, &args),
        Command::Logout(args) => logout::run(ctx, shell, &args),
        Command::Trust(args) => trust::run(ctx, shell, &args),
        Command::Status(args) => status::run(ctx, shell, &args),
        Command::Cache(args) => cache::run(ctx, shell, &args),
        Command::Uncache => cache::uncache(ctx, shell),
        Command::Doctor(args) => doctor::run(ctx, shell, &args),
        Command::Scan(args) => scan::run(ctx, shell, &args),
        Command::Completions(args) => completions::run(shell, args.shell),
    }
}

/// The shell for these global options.
#[must_use]
pub fn shell_for(global: &GlobalArgs) -> Shell {
    let color = match global.color {
        Color::Auto => ColorChoice::Auto,
        Color::Always => ColorChoice::Always,
        Color::Never => ColorChoice::Never,
    };
    let verbosity = if global.quiet {
        Verbosity::Quiet
    } else if global.verbose > 0 {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    Shell::new(color, verbosity)
}

/// What every command needs: the global options, and from them the project and profile.
pub(crate) struct Context {
    pub global: GlobalArgs,
    /// The keyring cache layer, opened at most once per command.
    pub cache: KeyringCache,
    /// The remote every profile uses instead of its configured one (unit tests).
    store: Option<Arc<dyn RemoteStore>>,
    /// `validate --env-only`: profiles are read from the environment and dotenv files alone.
    pub env_only: std::cell::Cell<bool>,
}

/// One profile, loaded and checked.
pub(crate) struct Checked {
    pub profile: Profile,
    pub mode: Mode,
    pub protected: bool,
    /// `None` when loading failed (the failure is in `findings`).
    pub resolved: Option<Resolved>,
    pub findings: Vec<Finding>,
    /// The settings it was checked with.
    pub settings: crate::config::ProfileSettings,
}

impl Checked {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Whether the findings fail validation in this profile's mode.
    pub fn fails(&self) -> bool {
        self.resolved.is_none() || self.findings.iter().any(|f| self.mode.fails_on(f))
    }

    /// The resolved secrets; when the profile could not be read, prints why and fails.
    pub fn resolved_or_fail(&self, shell: &mut Shell) -> Result<&Resolved, Error> {
        self.resolved.as_ref().ok_or_else(|| {
            for f in &self.findings {
                validate::diagnostic(shell, f);
            }
            Error::failed(format!("cannot read profile `{}`", self.profile.name))
        })
    }

    /// The worst status of every key with a finding (`error` or `warning`), in one pass.
    pub fn key_statuses(&self) -> std::collections::HashMap<&str, &'static str> {
        let mut out = std::collections::HashMap::new();
        for f in &self.findings {
            if let Some(key) = f.key.as_deref() {
                let status = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let slot = out.entry(key).or_insert(status);
                if status == "error" {
                    *slot = "error";
                }
            }
        }
        out
    }

    /// The worst status of one key: `error`, `warning` or `ok`.
    pub fn key_status(&self, key: &str) -> &'static str {
        let mut status = "ok";
        for f in self
            .findings
            .iter()
            .filter(|f| f.key.as_deref() == Some(key))
        {
            match f.severity {
                Severity::Error => return "error",
                Severity::Warning => status = "warning",
            }
        }
        status
    }
}

impl Context {
    fn new(global: GlobalArgs) -> Self {
        Self {
            cache: KeyringCache::new(global.keyring),
            global,
            store: None,
            env_only: std::cell::Cell::new(false),
        }
    }

    pub fn project(&self, shell: &mut Shell) -> Result<Project, Error> {
        let project = project::discover(
            self.global.manifest_path.as_deref(),
            self.global.profiles_dir.as_deref(),
        )?;
        shell.verbose(format_args!(
            "workspace root {}",
            project.workspace_root.display()
        ));
        for m in &project.config.manifests {
            shell.verbose(format_args!(
                "read [metadata.systemprompt-secrets] from {}",
                m.display()
            ));
        }
        shell.verbose(format_args!(
            "profiles folder {}",
            project.profiles.dir.display()
        ));
        for (name, why) in &project.profiles.skipped {
            shell.info(format_args!(
                "note: profile `{}` is not counted: {why}; run `{}`",
                crate::source::escape_controls(name),
                crate::profile::MIGRATE_COMMAND
            ));
        }
        Ok(project)
    }

    pub fn select(&self, shell: &mut Shell, project: &Project) -> Result<Profile, Error> {
        if let Some(version) = project
            .locked
            .as_ref()
            .and_then(|c| crate::upstream::parse_version(&c.version))
            .filter(|v| crate::upstream::Release::of(v).session_name_checked)
        {
            if let Some(name) = project.profiles.invalid_session_name() {
                shell.warn(format_args!(
                    "the session record (.systemprompt/sessions/index.json) names `{name}` as the active profile, which is not a valid profile name (letters, digits, `-`, `_`): systemprompt {version} fails every CLI call until it is fixed: put a profile name there, or remove `active_profile_name` from the file"
                ));
            }
        }
        let (profile, by) = project.profiles.select(
            self.global.profile.as_deref(),
            &ProcessEnv,
            project.config.default_profile.as_deref(),
        )?;
        if by == Selection::Local {
            shell.info(format_args!(
                "note: using profile `{}`, the development profile: {} profiles exist and nothing chose one (choose with --profile, SYSTEMPROMPT_PROFILE or `default-profile`)",
                profile.name,
                project.profiles.names.len()
            ));
        } else if by != Selection::Flag {
            shell.verbose(format_args!("profile `{}` chosen by {by}", profile.name));
        }
        // A profile outside the workspace (a `profiles-dir`, a `secrets_path` or a session
        // record pointing elsewhere) is read only for a trusted project.
        crate::trust::require_reading(project, &profile)?;
        Ok(profile)
    }

    /// The settings of `profile` ([`Project::settings`]); when nothing but the default decided
    /// the generation and there is no secrets.json, the keys of its keyring cache decide.
    pub fn settings(&self, project: &Project, profile: &Profile) -> crate::config::ProfileSettings {
        use crate::cache_layer::SecretCache as _;
        use crate::generation::{self, Detected, Reason};
        let settings = project.settings(profile);
        if settings.generation.reason != Reason::Default
            || profile.secrets_path.try_exists().unwrap_or(true)
        {
            return settings;
        }
        let Ok(Some(cached)) = self.cache.load(&project.id, &profile.name) else {
            return settings;
        };
        let found = generation::detect(None, None, cached.values.iter().map(|(k, _)| k.as_str()));
        match found.reason {
            Reason::SecretsFile { key } => {
                let mut from_cache = project.config.for_profile(
                    &profile.name,
                    Detected {
                        generation: found.generation,
                        reason: Reason::KeyringCache { key },
                        version: None,
                    },
                );
                from_cache.boot = settings.boot;
                from_cache
            }
            _ => settings,
        }
    }

    /// Opens the OS keyring for a command that must write to or read from it.
    pub fn keyring(&self, shell: &mut Shell) -> Result<Opened, Error> {
        let opened = keyring::open(self.global.keyring)?;
        for note in &opened.notes {
            shell.verbose(note);
        }
        Ok(opened)
    }

    /// Opens the remote `profile` syncs to (the backend, address or tenant, token and HTTP
    /// settings, resolved once); `-v` says where it is and where the token came from.
    pub fn remote(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: &Profile,
        args: &RemoteArgs,
    ) -> Result<Arc<dyn RemoteStore>, Error> {
        if let Some(store) = &self.store {
            return Ok(Arc::clone(store));
        }
        let flags = self.remote_flags(args);
        // Nothing is sent where the repository says before the user trusted it with that.
        crate::trust::require_remote(project, profile, &flags)?;
        let opened = remote::open(project, profile, &flags)?;
        for w in &opened.warnings {
            shell.warn(w);
        }
        for n in &opened.notes {
            shell.verbose(n);
        }
        Ok(Arc::from(opened.store))
    }

    /// The keyring account of the token for `backend`, with the manifest's OpenBao address when
    /// run inside a project.
    pub fn token_target(
        &self,
        backend: Option<crate::config::RemoteBackend>,
        api_url: Option<&str>,
        address: Option<&str>,
    ) -> Result<remote::TokenAccount, Error> {
        let flags = RemoteFlags {
            api_url: api_url.map(str::to_owned),
            addresses: address.map(str::to_owned).into_iter().collect(),
            ..RemoteFlags::default()
        };
        remote::token_account(backend, &flags, || {
            project::discover(
                self.global.manifest_path.as_deref(),
                self.global.profiles_dir.as_deref(),
            )
            .ok()
        })
    }

    /// The remote options of the command line.
    pub fn remote_flags(&self, args: &RemoteArgs) -> RemoteFlags {
        RemoteFlags {
            tenant: args.tenant.clone(),
            api_url: args.api_url.clone(),
            addresses: args.connection.address.clone(),
            connect_timeout: std::time::Duration::from_secs(args.connection.connect_timeout),
            timeout: std::time::Duration::from_secs(args.connection.timeout),
            keyring: self.global.keyring,
        }
    }

    pub fn env_files(&self, project: &Project) -> Vec<DotEnvFile> {
        let mut files = vec![DotEnvFile {
            path: project.workspace_root.join(".env"),
            required: false,
        }];
        let cwd = std::env::current_dir().unwrap_or_default();
        files.extend(self.global.env_files.iter().map(|p| DotEnvFile {
            path: cwd.join(p),
            required: true,
        }));
        files
    }

    pub fn load(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: &Profile,
    ) -> Result<Resolved, LoadError> {
        let settings = self.settings(project, profile);
        self.load_with(shell, project, profile, &settings)
    }

    /// [`Context::load`] with the profile's settings already worked out (the generation look-up
    /// may read secrets.json: once per command is enough).
    fn load_with(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: &Profile,
        settings: &crate::config::ProfileSettings,
    ) -> Result<Resolved, LoadError> {
        let opts = LoadOptions {
            env: &ProcessEnv,
            use_env: !self.global.no_env,
            read_file: !self.env_only.get(),
            env_files: self.env_files(project),
            cache: &self.cache,
            project_id: &project.id,
        };
        let resolved = layers::load(&profile.secrets_path, settings, &profile.name, &opts)?;
        remember(&resolved);
        for note in self.cache.notes() {
            shell.verbose(note);
        }
        for f in &resolved.files_read {
            shell.verbose(format_args!("read {}", f.display()));
        }
        if !resolved.ignored_dotenv.is_empty() {
            shell.verbose(format_args!(
                "ignored dotenv variables that name no known key: {}",
                resolved.ignored_dotenv.join(", ")
            ));
        }
        for w in &resolved.warnings {
            shell.warn(w);
        }
        Ok(resolved)
    }

    /// Loads and validates a profile; load failures become findings.
    pub fn check(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: Profile,
        strict: bool,
    ) -> Checked {
        let settings = self.settings(project, &profile);
        shell.verbose(format_args!(
            "profile `{}`: {} — {}",
            profile.name, settings.generation.generation, settings.generation.reason
        ));
        shell.verbose(crate::upstream::describe(&settings.generation));
        if !settings.allow.is_empty() {
            shell.verbose(format_args!(
                "not reported, as the manifest's `allow` says: {}",
                settings.allow.join(", ")
            ));
        }
        let mode = if strict {
            Mode::Strict
        } else {
            settings.mode(profile.yaml.validation())
        };
        let (resolved, findings) = match self.load_with(shell, project, &profile, &settings) {
            Ok(resolved) => {
                let mut findings =
                    crate::validate::validate_profile(&resolved, &settings, &profile, mode);
                if mode != Mode::Skip && !resolved.secrets_file_found && !self.env_only.get() {
                    findings.insert(0, missing_file_finding(&resolved));
                }
                (Some(resolved), findings)
            }
            Err(e) => (None, e.into_findings()),
        };
        Checked {
            profile,
            mode,
            protected: settings.protected,
            resolved,
            findings,
            settings,
        }
    }
}

/// The secrets file is missing. When the keyring cache supplies keys, the hint says so and does
/// not point to `init`, whose fresh generated secrets would shadow the cached ones (a new pepper
/// signs everyone out of a shared database).
fn missing_file_finding(resolved: &Resolved) -> Finding {
    let cached: Vec<&str> = resolved
        .entries
        .values()
        .filter(|r| matches!(r.winner.source, crate::source::Source::Keyring { .. }))
        .map(|r| r.key.as_str())
        .collect();
    let path = &resolved.secrets_path;
    let hint = if cached.is_empty() {
        "create it with `cargo systemprompt-secrets init`".to_owned()
    } else {
        format!(
            "the keyring cache supplies {} key{} ({}), so the profile works as it is; to have the file again, write the values in use into it with `cargo systemprompt-secrets export --format json --keys -o {}` (not `init`: its new generated secrets would replace the cached ones)",
            cached.len(),
            if cached.len() == 1 { "" } else { "s" },
            cached.join(", "),
            rel(path)
        )
    };
    Finding::new(
        "missing-secrets-file",
        Severity::Warning,
        None,
        "the secrets file does not exist; only the environment, dotenv files and the keyring were read",
        hint,
    )
    .at(Some(Location::File { path: path.clone(), line: None, column: None }))
}

/// A profile that could not be opened (bad profile.yaml), as a finding for `--all-profiles`.
pub(crate) fn profile_error_finding(e: &ProfileError) -> Finding {
    let location = match e {
        ProfileError::Yaml { path, line, .. } => Some(Location::File {
            path: path.clone(),
            line: *line,
            column: None,
        }),
        ProfileError::Unreadable { path, .. } => Some(Location::File {
            path: path.clone(),
            line: None,
            column: None,
        }),
        _ => None,
    };
    let hint = e.help().unwrap_or_default();
    Finding::new(
        "invalid-profile",
        Severity::Error,
        None,
        e.to_string(),
        hint,
    )
    .at(location)
}

/// Validation before a write: prints the findings when there are errors, and stops unless `force`.
/// `what` completes "nothing was …" (e.g. "synced").
/// The verdict is `validate`'s: a finding stops the write exactly when it fails `mode`.
pub(crate) fn gate(
    shell: &mut Shell,
    findings: &[Finding],
    mode: Mode,
    force: bool,
    profile: &str,
    what: &str,
) -> Result<(), Error> {
    let errors = findings.iter().filter(|f| mode.fails_on(f)).count();
    if errors == 0 {
        return Ok(());
    }
    for f in findings {
        validate::diagnostic_in(shell, f, mode);
    }
    if !force {
        return Err(Error::failed(format!(
            "profile `{profile}` has {errors} validation error(s); nothing was {what}"
        ))
        .help("fix them, or pass --force"));
    }
    shell.warn(format_args!(
        "going ahead despite {errors} validation error(s) (--force)"
    ));
    Ok(())
}

pub(crate) use crate::source::rel;

/// Reads a whole value from stdin into memory that is wiped when dropped; one trailing newline
/// (`\n` or `\r\n`) is removed.
pub(crate) fn read_stdin_secret(what: &str) -> Result<SecretString, Error> {
    let context = || format!("cannot read {what} from stdin");
    let bytes = crate::zeroized::read_to_end(std::io::stdin(), u64::MAX)
        .map_err(|e| Error::io(context(), e))?;
    let buf = std::str::from_utf8(&bytes).map_err(|_| {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        );
        Error::io(context(), e)
    })?;
    let trimmed = buf
        .strip_suffix('\n')
        .map_or(buf, |s| s.strip_suffix('\r').unwrap_or(s));
    Ok(SecretString::from(trimmed))
}

/// A partial push (`set`, `rotate --sync`) to a store with deploy naming also carries the list
/// of custom names: every custom name the tenant will hold ([`remote::plan::CustomList`]), from
/// the server's names, else from what this machine last wrote, else from the profile's
/// secrets.json. Prints the change to the list; returns it, for [`record_write`].
pub(crate) fn add_custom_list(
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    store: &dyn RemoteStore,
    pushing: &mut crate::secret_map::SecretMap,
) -> Result<Option<(remote::plan::CustomList, crate::sync_state::Slot)>, Error> {
    if !store.deploy_naming() {
        return Ok(None);
    }
    let remote = store.read()?;
    let slot =
        crate::sync_state::Slot::new(&project.workspace_root, &profile.name, &store.identity());
    let recorded = slot.load().custom_names;
    let local = if remote.unlisted.is_some() && recorded.is_none() {
        let opts = LoadOptions {
            env: &ProcessEnv,
            use_env: false,
            read_file: true,
            env_files: Vec::new(),
            cache: &crate::cache_layer::NoCache,
            project_id: &project.id,
        };
        let settings = project.settings(profile);
        layers::load(&profile.secrets_path, &settings, &profile.name, &opts)
            .ok()
            .map(|r| remote::plan::Outgoing::new(r, store, settings.generation.release()))
    } else {
        None
    };
    pushing.remove(remote::CUSTOM_SECRETS);
    let list = remote::plan::CustomList::after_write(
        &remote,
        recorded.as_ref(),
        local.iter().flat_map(|o| o.push.names()),
        pushing.names(),
        &[],
    );
    if let Some(value) = list.value() {
        pushing.insert(remote::CUSTOM_SECRETS.to_owned(), value);
    }
    print_custom_list(shell, &list);
    Ok(Some((list, slot)))
}

/// The plan's lines for the tenant's list of custom names: what the write adds and removes, and
/// how the names were found when the server does not list them.
pub(crate) fn print_custom_list(shell: &mut Shell, list: &remote::plan::CustomList) {
    let (added, removed) = (list.added(), list.removed());
    if added.is_empty() && removed.is_empty() {
        return;
    }
    let list_name = remote::CUSTOM_SECRETS;
    plan_group(shell, "custom list +", &added);
    plan_group(shell, "custom list -", &removed);
    match list.basis {
        remote::plan::ListBasis::Listed => {}
        remote::plan::ListBasis::Recorded => shell.info(format!(
            "note: this server does not list names; {list_name} keeps the custom names this machine pushed before"
        )),
        remote::plan::ListBasis::LocalOnly => shell.warn(format!(
            "this server does not list names and no earlier push from this machine is recorded: {list_name} will hold only this profile's custom names; names pushed from elsewhere drop out of it until pushed again"
        )),
    }
}

/// `--format json`'s view of a change to the list of custom names.
pub(crate) fn custom_list_json(list: &remote::plan::CustomList) -> serde_json::Value {
    serde_json::json!({
        "names": list.after,
        "added": list.added(),
        "removed": list.removed(),
        "basis": list.basis,
    })
}

/// Records, after a write landed, the list of custom names written and the version reached
/// ([`crate::sync_state`]); a record that cannot be written is a warning.
pub(crate) fn record_write(
    shell: &mut Shell,
    slot: &crate::sync_state::Slot,
    list: Option<&remote::plan::CustomList>,
    version: Option<u64>,
) {
    if list.is_none() && version.is_none() {
        return;
    }
    if let Err(e) = slot.update(|r| {
        if let Some(list) = list {
            r.custom_names = Some(list.after.clone());
        }
        if version.is_some() {
            r.version = version;
        }
    }) {
        shell.warn(format!("could not record this write: {e}"));
    }
}

/// Makes a profile folder this tool just created count, as upstream counts profiles: when the
/// other profiles hold a `profile.yaml` (so a folder without one is not a profile), writes a
/// minimal one into `name`'s folder, reading its secrets from `secrets.json` there (unless
/// `profiles/base.yaml` supplies the `secrets:` block), and says so.
pub(crate) fn make_counted(
    shell: &mut Shell,
    profiles: &crate::profile::ProfileSet,
    name: &str,
) -> Result<(), Error> {
    // The folder exists now: counted by the set's own rule, or not.
    let counted = crate::profile::ProfileSet::read(&profiles.dir)?.names;
    if counted.iter().any(|n| n == name) {
        return Ok(());
    }
    let dir = profiles.dir.join(name);
    let mut body = format!(
        "# Written by `cargo systemprompt-secrets` so that this folder counts as a profile (a\n\
         # folder without profile.yaml does not, here or in systemprompt). Complete it for\n\
         # systemprompt from another profile's profile.yaml.\nname: {}\n",
        serde_json::Value::String(name.to_owned())
    );
    if !profiles.dir.join("base.yaml").is_file() {
        body.push_str(
            "secrets:\n  source: file\n  secrets_path: ./secrets.json\n  validation: warn\n",
        );
    }
    let path = dir.join("profile.yaml");
    crate::atomic::write_shared(&path, body.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", rel(&path)), e))?;
    shell.status(
        "Created",
        format_args!(
            "{} (the other profiles have one, and a folder without it is not a profile)",
            rel(&path)
        ),
    );
    Ok(())
}

/// After a write into `profile`'s secrets.json: a warning for each key `written` that a higher
/// layer (the environment, `.env`, an `--env-file`) also sets, since `run`, the build-script
/// check and `validate` read that value instead of the one just written.
pub(crate) fn warn_shadowed(
    ctx: &Context,
    shell: &mut Shell,
    project: &Project,
    profile: &Profile,
    written: &[String],
) {
    if written.is_empty() {
        return;
    }
    let opts = LoadOptions {
        env: &ProcessEnv,
        use_env: true,
        read_file: true,
        env_files: ctx.env_files(project),
        cache: &crate::cache_layer::NoCache,
        project_id: &project.id,
    };
    let settings = project.settings(profile);
    let Ok(resolved) = layers::load(&profile.secrets_path, &settings, &profile.name, &opts) else {
        return;
    };
    for key in written {
        let Some(winner) = resolved.get(key) else {
            continue;
        };
        let how = match &winner.source {
            crate::source::Source::Env { var } => format!(
                "the environment variable ${var} sets it too and wins: unset it (or pass --no-env)"
            ),
            crate::source::Source::DotEnv { .. } => format!(
                "{} sets it too and wins: remove it there (or pass --no-env)",
                rel_source(&winner.source)
            ),
            _ => continue,
        };
        shell.warn(format_args!(
            "`{key}` was written to {}, but {how}; `run`, the build-script check and `validate` use that value",
            rel(&profile.secrets_path)
        ));
    }
}

/// A dotenv source with its path relative to the working folder.
fn rel_source(source: &crate::source::Source) -> String {
    match source {
        crate::source::Source::DotEnv { path, line, var } => format!(
            "{}{} ({var})",
            rel(path),
            line.map(|l| format!(":{l}")).unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// Tells the scrubber of server messages every value of `resolved` (each layer's).
pub(crate) fn remember(resolved: &Resolved) {
    crate::scrub::global().know_all(
        resolved
            .entries
            .values()
            .flat_map(|r| r.definitions().map(|d| &d.value)),
    );
}

/// Runs `local` while the remote is read on another thread, so that the request's round trip and
/// the server's work overlap the local load (`sync`, `diff`, `pull`). Both are waited for.
pub(crate) fn read_beside<T>(
    store: &dyn RemoteStore,
    local: impl FnOnce() -> T,
) -> (T, Result<remote::Remote, Error>) {
    std::thread::scope(|s| {
        let remote = s.spawn(|| store.read());
        let local = local();
        (
            local,
            remote.join().expect("the remote read does not panic"),
        )
    })
}

/// Prints every request a store made (method, URL, status, attempts, time) with `-v`.
pub(crate) fn log_requests(shell: &mut Shell, store: &dyn RemoteStore) {
    for note in store.notes() {
        shell.verbose(note);
    }
    for r in store.requests() {
        let waits: Vec<String> = r
            .waits
            .iter()
            .map(|(d, asked)| {
                format!(
                    "{} ms{}",
                    d.as_millis(),
                    if *asked { " (Retry-After)" } else { "" }
                )
            })
            .collect();
        shell.verbose(format_args!(
            "{} {} -> {} ({} attempt{}, {} ms{})",
            r.method,
            r.url,
            r.status,
            r.attempts,
            if r.attempts == 1 { "" } else { "s" },
            r.millis,
            if waits.is_empty() {
                String::new()
            } else {
                format!("; waited {}", waits.join(", "))
            }
        ));
    }
}

/// When a signal stopped a verb that deletes name by name: the error that says what was not
/// done and how to finish (exit 130, 143 or 129). `None` when no signal came.
pub(crate) fn stopped_by_signal(
    done: usize,
    total: usize,
    not_done: &[String],
    again: &str,
) -> Option<Error> {
    let signal = crate::interrupt::received()?;
    let list = if not_done.is_empty() {
        "every request had been made".to_owned()
    } else {
        format!("not deleted: {}", not_done.join(", "))
    };
    Some(
        Error::exit_with(
            crate::interrupt::exit_code(signal),
            format!(
                "interrupted by {} after {done} of {total} deletes (the requests in flight were finished); {list}",
                crate::interrupt::name(signal)
            ),
        )
        .help(format!(
            "run the same `{again}` again to finish: a name already gone is not an error"
        )),
    )
}

/// One group of a plan: a label and names (nothing when there are none).
pub(crate) fn plan_group(shell: &mut Shell, label: &str, names: &[String]) {
    if !names.is_empty() {
        shell.info(format_args!("{label:>16}: {}", names.join(", ")));
    }
}

/// Whether to go ahead with the writes: never on `--dry-run`; on a protected profile only after a
/// yes (asked on a terminal, or `--yes`).
pub(crate) fn confirm(
    shell: &mut Shell,
    write: &WriteArgs,
    profile: &str,
    protected: bool,
    what: &str,
) -> Result<bool, Error> {
    if write.dry_run {
        shell.status("Dry run", "nothing was changed");
        return Ok(false);
    }
    if !protected || write.yes {
        return Ok(true);
    }
    match shell.confirm(&format!("Profile `{profile}` is protected. {what}?"), false)? {
        Some(true) => Ok(true),
        Some(false) => Err(Error::cancelled()),
        None => Err(Error::usage(format!(
            "profile `{profile}` is protected and this is not an interactive terminal; nothing was changed"
        ))
        .help("review the plan above (or run with --dry-run), then pass --yes")),
    }
}

/// Before a verb writes a profile's secrets.json: when systemprompt reads that profile's secrets
/// elsewhere (`secrets.source: vault | external`), say so, and go on only after a yes (asked on a
/// terminal, or `yes`).
pub(crate) fn confirm_unread_file(
    shell: &mut Shell,
    profile: &Profile,
    yes: bool,
) -> Result<(), Error> {
    if profile.yaml.source().reads_file() {
        return Ok(());
    }
    shell.warn(format_args!(
        "systemprompt reads profile `{}`'s secrets from {}: it will not read {}",
        profile.name,
        profile.yaml.source_place(),
        rel(&profile.secrets_path)
    ));
    if yes {
        return Ok(());
    }
    match shell.confirm(&format!("Write {} anyway?", rel(&profile.secrets_path)), false)? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::cancelled()),
        None => Err(Error::usage(format!(
            "profile `{}` takes its secrets from `secrets.source: {}`, and this is not an interactive terminal; nothing was changed",
            profile.name,
            profile.yaml.source()
        ))
        .help("change the secrets where the app reads them; to write the file anyway, pass --yes")),
    }
}

/// `doc` with the field that names the store's target (`"tenant": …` or `"path": …`).
pub(crate) fn with_target(
    store: &dyn RemoteStore,
    mut doc: serde_json::Value,
) -> serde_json::Value {
    let (key, value) = store.target();
    doc[key] = value.into();
    doc
}

/// Prints the names that changed.
pub(crate) fn report_changes(shell: &mut Shell, changes: &crate::secret_map::Changes) {
    for (label, names) in [
        ("added", &changes.added),
        ("changed", &changes.changed),
        ("removed", &changes.removed),
    ] {
        plan_group(shell, label, names);
    }
}
