//! Resolving a profile's secrets from the layers, highest first: env, dotenv files, secrets.json, keyring.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::cache_layer::SecretCache;
use crate::config::ProfileSettings;
use crate::dotenv::{self, DotEnvError};
use crate::env::Env;
use crate::keys;
use crate::secrets_file::{self, SecretsFileError};
use crate::source::Source;

/// One definition of a key in one layer.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Where it is defined.
    pub source: Source,
    /// The value (never blank).
    pub value: SecretString,
}

/// Every definition of one key: the one that wins, and the lower layers it shadows.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The snake_case key.
    pub key: String,
    /// The definition that wins (the highest layer that defines the key).
    pub winner: Definition,
    /// The definitions it shadows, highest first.
    pub shadowed: Vec<Definition>,
}

impl Resolution {
    /// A key defined in one layer only.
    #[must_use]
    pub fn single(key: String, definition: Definition) -> Self {
        Self {
            key,
            winner: definition,
            shadowed: Vec::new(),
        }
    }

    /// Every definition, the winner first.
    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        std::iter::once(&self.winner).chain(&self.shadowed)
    }

    /// Puts `definition` above the others: it wins, the old winner is shadowed first.
    fn put_on_top(&mut self, definition: Definition) {
        let below = std::mem::replace(&mut self.winner, definition);
        self.shadowed.insert(0, below);
    }
}

/// What to read.
pub struct LoadOptions<'a> {
    /// The environment to read (the process environment in the CLI).
    pub env: &'a dyn Env,
    /// `false` with `--no-env`: ignore the environment and dotenv files.
    pub use_env: bool,
    /// `false` with `validate --env-only`: neither the secrets file nor the keyring cache is read
    /// (a CI checkout, where the environment carries every secret).
    pub read_file: bool,
    /// Dotenv files, lowest precedence first (the workspace `.env`, then each `--env-file`).
    pub env_files: Vec<DotEnvFile>,
    /// The keyring cache.
    pub cache: &'a dyn SecretCache,
    /// The stable project id used as the cache key.
    pub project_id: &'a str,
}

/// A dotenv file to read, and whether it must exist.
#[derive(Debug, Clone)]
pub struct DotEnvFile {
    /// The path.
    pub path: PathBuf,
    /// `true` for `--env-file`: a missing file is an error. `false` for the default `.env`.
    pub required: bool,
}

/// A profile's secrets as resolved from every layer.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Resolved keys, sorted.
    pub entries: BTreeMap<String, Resolution>,
    /// Keys the secrets file lists with a null or blank value (absent), with their place.
    pub blanks: BTreeMap<String, Source>,
    /// The secrets file, and whether it existed.
    pub secrets_path: PathBuf,
    /// Whether the secrets file exists.
    pub secrets_file_found: bool,
    /// Every file that was read (for `rerun-if-changed`).
    pub files_read: Vec<PathBuf>,
    /// Env-style names of dotenv entries that matched no known key and were ignored.
    pub ignored_dotenv: Vec<String>,
    /// Non-fatal problems (such as an unreadable keyring cache).
    pub warnings: Vec<String>,
    /// Findings the reading itself made (a key the secrets file defines twice); validation
    /// reports them.
    pub notes: Vec<crate::finding::Finding>,
}

impl Resolved {
    /// The key a name typed by the user means, looked up as upstream does, without regard to case:
    /// `anthropic` or `ANTHROPIC_API_KEY` → `anthropic`; `mailgunkey` → `MailgunKey` when the
    /// file spells it so. A name that matches nothing comes back normalized.
    #[must_use]
    pub fn key_for(&self, given: &str) -> String {
        let given = given.trim();
        let normal = keys::normalize(given);
        let known = |k: &str| self.entries.contains_key(k) || self.blanks.contains_key(k);
        if known(&normal) {
            return normal;
        }
        if known(given) {
            return given.to_owned();
        }
        self.entries
            .keys()
            .chain(self.blanks.keys())
            .find(|k| k.eq_ignore_ascii_case(given) || k.eq_ignore_ascii_case(&normal))
            .cloned()
            .unwrap_or(normal)
    }

    /// For a name that matches no key ([`Resolved::key_for`]): the key it is likely a typo of.
    #[must_use]
    pub fn nearest_key(&self, given: &str) -> Option<&str> {
        let normal = keys::normalize(given.trim());
        keys::closest(
            &normal,
            self.entries
                .keys()
                .chain(self.blanks.keys())
                .map(String::as_str),
        )
    }

    /// The values by environment name. When two keys become the same name (`anthropic` and
    /// `anthropic_api_key`), the canonical one (`anthropic` for `ANTHROPIC_API_KEY`) wins, in every
    /// verb; `validate` reports the pair as an error.
    #[must_use]
    pub fn by_env_name(&self) -> BTreeMap<String, (&str, &SecretString)> {
        let mut out: BTreeMap<String, (&str, &SecretString)> = BTreeMap::new();
        for (key, r) in &self.entries {
            let name = keys::env_name(key);
            let canonical = keys::key_from_env(&name) == *key;
            match out.get(&name) {
                Some(_) if !canonical => {}
                _ => {
                    out.insert(name, (key.as_str(), &r.winner.value));
                }
            }
        }
        out
    }

    /// The winning definition of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Definition> {
        self.entries.get(key).map(|r| &r.winner)
    }
}

/// A secrets file's warnings (a key defined twice) as findings at their lines.
#[must_use]
pub fn file_notes(
    path: &Path,
    warnings: Vec<secrets_file::FileProblem>,
) -> Vec<crate::finding::Finding> {
    use crate::finding::{Finding, Location, Severity};
    warnings
        .into_iter()
        .map(|p| {
            Finding::new(
                p.code,
                Severity::Warning,
                p.key.as_deref(),
                p.message,
                p.hint,
            )
            .at(Some(Location::File {
                path: path.to_path_buf(),
                line: p.line,
                column: p.column,
            }))
        })
        .collect()
}

/// Why the layers could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The secrets file was rejected.
    #[error(transparent)]
    SecretsFile(#[from] SecretsFileError),
    /// A dotenv file was rejected.
    #[error(transparent)]
    DotEnv(#[from] DotEnvError),
}

impl LoadError {
    /// What to do about it. A secrets file's problems each carry their own fix in the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            LoadError::SecretsFile(_) => None,
            LoadError::DotEnv(e) => e.help(),
        }
    }

    /// The failure as findings (file, line, column and fix), so every output format reports it alike.
    #[must_use]
    pub fn into_findings(self) -> Vec<crate::finding::Finding> {
        use crate::finding::{Finding, Location, Severity};
        let e = self;
        match e {
            LoadError::SecretsFile(e) => e
                .problems
                .into_iter()
                .map(|p| {
                    let mut f =
                        Finding::new(p.code, Severity::Error, p.key.as_deref(), p.message, p.hint);
                    // Upstream cannot load what this reader refuses, but for two keys that
                    // differ only in case and a key no environment can carry, which are refused
                    // here for what every verb would do with them.
                    if !matches!(p.code, "case-duplicate-key" | "invalid-key-name") {
                        f = f.boot_refusal();
                    }
                    f.location = Some(Location::File {
                        path: e.path.clone(),
                        line: p.line,
                        column: p.column,
                    });
                    f
                })
                .collect(),
            LoadError::DotEnv(e) => {
                use crate::dotenv::DotEnvError;
                let (path, line, hint) = match &e {
                    DotEnvError::Syntax { path, line } => (
                        path.clone(),
                        Some(*line),
                        "fix the line: NAME=value, with quotes around values that hold spaces or `#`",
                    ),
                    DotEnvError::Utf8 { path, line } => {
                        (path.clone(), Some(*line), "save the file as UTF-8")
                    }
                    DotEnvError::Io { path, .. } => (
                        path.clone(),
                        None,
                        "check that the file exists and that you may read it",
                    ),
                };
                let message = e.problem();
                vec![
                    Finding::new("invalid-dotenv", Severity::Error, None, message, hint).at(Some(
                        Location::File {
                            path,
                            line,
                            column: None,
                        },
                    )),
                ]
            }
        }
    }
}

/// Loads one profile's secrets from every layer.
pub fn load(
    secrets_path: &Path,
    settings: &ProfileSettings,
    profile: &str,
    opts: &LoadOptions<'_>,
) -> Result<Resolved, LoadError> {
    let mut layers = Layers {
        resolved: Resolved {
            secrets_path: secrets_path.to_path_buf(),
            ..Resolved::default()
        },
    };
    // Lowest first; each layer's definitions go in front of the ones below it.
    if opts.read_file {
        layers.keyring_cache(opts, profile);
        layers.secrets_file(secrets_path)?;
    }
    if opts.use_env {
        let universe = layers.universe(settings);
        for file in &opts.env_files {
            layers.dotenv_file(file, &universe)?;
        }
        layers.environment(opts.env, &universe);
    }
    Ok(layers.resolved)
}

/// The definitions gathered so far (in `resolved.entries`, highest layer first), and what the
/// load found.
struct Layers {
    resolved: Resolved,
}

impl Layers {
    /// Puts `definition` above what lower layers defined for `key`.
    fn define(&mut self, key: String, definition: Definition) {
        use std::collections::btree_map::Entry;
        match self.resolved.entries.entry(key) {
            Entry::Occupied(mut e) => e.get_mut().put_on_top(definition),
            Entry::Vacant(e) => {
                let key = e.key().clone();
                e.insert(Resolution::single(key, definition));
            }
        }
    }

    /// The lowest layer: the profile's cached secrets.json in the OS keyring.
    fn keyring_cache(&mut self, opts: &LoadOptions<'_>, profile: &str) {
        match opts.cache.load(opts.project_id, profile) {
            Ok(Some(cached)) => {
                for (key, value) in cached.values {
                    let source = Source::Keyring {
                        entry: cached.entry.clone(),
                    };
                    self.define(key, Definition { source, value });
                }
            }
            Ok(None) => {}
            Err(e) => self
                .resolved
                .warnings
                .push(format!("keyring cache not used: {e}")),
        }
    }

    /// The profile's secrets.json; blank values are recorded apart.
    fn secrets_file(&mut self, path: &Path) -> Result<(), LoadError> {
        if !path.is_file() {
            if path.try_exists().unwrap_or(true) {
                // A folder, a special file or a symlink loop where the secrets file should be:
                // let the reader say why.
                secrets_file::read(path)?;
            }
            return Ok(());
        }
        self.resolved.secrets_file_found = true;
        self.resolved.files_read.push(path.to_path_buf());
        let file = secrets_file::read(path)?;
        self.resolved.notes = file_notes(path, file.warnings);
        let mut defined = Vec::with_capacity(file.entries.len());
        for entry in file.entries {
            let source = Source::SecretsFile {
                path: path.to_path_buf(),
                line: Some(entry.line),
            };
            match entry.value {
                Some(value) => defined.push((entry.key, Definition { source, value })),
                None => {
                    self.resolved.blanks.insert(entry.key, source);
                }
            }
        }
        if self.resolved.entries.is_empty() {
            // Nothing below (no keyring cache), and the file's keys are unique: one bulk build.
            self.resolved.entries = defined
                .into_iter()
                .map(|(key, d)| (key.clone(), Resolution::single(key, d)))
                .collect();
        } else {
            for (key, definition) in defined {
                self.define(key, definition);
            }
        }
        Ok(())
    }

    /// Every key the environment and dotenv files may supply: upstream's keys, the file's keys,
    /// and the keys the manifest requires or has rules for.
    fn universe(&self, settings: &ProfileSettings) -> BTreeSet<String> {
        let mut universe: BTreeSet<String> = settings
            .generation
            .release()
            .known_keys
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        // With no version in Cargo.lock, validation advises the keys later releases require
        // (`later-boot-key`): the environment may carry them, so they are read too.
        if settings.generation.version.is_none()
            && settings.generation.generation == crate::generation::Generation::Pepper
        {
            universe.extend(
                crate::upstream::Release::latest()
                    .known_keys
                    .iter()
                    .map(|k| (*k).to_owned()),
            );
        }
        universe.extend(self.resolved.entries.keys().cloned());
        universe.extend(self.resolved.blanks.keys().cloned());
        universe.extend(settings.required.iter().cloned());
        universe.extend(settings.rules.keys().cloned());
        universe
    }

    /// One dotenv file: a later file overrides an earlier one; within a file the last assignment
    /// wins.
    fn dotenv_file(
        &mut self,
        file: &DotEnvFile,
        universe: &BTreeSet<String>,
    ) -> Result<(), LoadError> {
        if skipped(file) {
            return Ok(());
        }
        self.resolved.files_read.push(file.path.clone());
        for entry in dotenv::read(&file.path)? {
            let key = keys::key_from_env(&entry.var);
            if is_blank(&entry.value) {
                continue;
            }
            if !universe.contains(&key) {
                self.resolved.ignored_dotenv.push(entry.var);
                continue;
            }
            let source = Source::DotEnv {
                path: file.path.clone(),
                line: entry.line,
                var: entry.var,
            };
            // Within one file the last assignment wins: an earlier one of this file is dropped.
            if let Some(r) = self.resolved.entries.get_mut(&key) {
                if r.winner.source.path() == Some(file.path.as_path()) {
                    r.winner = Definition {
                        source,
                        value: entry.value,
                    };
                    continue;
                }
            }
            self.define(
                key,
                Definition {
                    source,
                    value: entry.value,
                },
            );
        }
        Ok(())
    }

    /// The highest layer: the process environment, one variable per key of the universe.
    fn environment(&mut self, env: &dyn Env, universe: &BTreeSet<String>) {
        for key in universe {
            let main = keys::env_name(key);
            let found = std::iter::once(main)
                .chain(keys::aliases(key).map(str::to_owned))
                .find_map(|var| Some((env.var(&var).filter(|v| !v.trim().is_empty())?, var)));
            if let Some((value, var)) = found {
                let source = Source::Env { var };
                let value = SecretString::from(value);
                self.define(key.clone(), Definition { source, value });
            }
        }
    }
}

/// An optional `.env` that is absent (or a folder, such as a virtualenv) is skipped; one that
/// cannot be looked at (a symlink loop, a folder we may not search) or that is a FIFO or a device
/// is read, to say why.
fn skipped(file: &DotEnvFile) -> bool {
    !file.required
        && match std::fs::metadata(&file.path) {
            Ok(m) => m.is_dir(),
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        }
}

fn is_blank(value: &SecretString) -> bool {
    use secrecy::ExposeSecret;
    value.expose_secret().trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache_layer::{MemoryCache, NoCache};
    use crate::config::Config;
    use crate::env::MapEnv;
    use secrecy::ExposeSecret;

    fn opts<'a>(
        env: &'a MapEnv,
        cache: &'a dyn SecretCache,
        files: Vec<DotEnvFile>,
    ) -> LoadOptions<'a> {
        LoadOptions {
            env,
            use_env: true,
            read_file: true,
            env_files: files,
            cache,
            project_id: "p",
        }
    }

    #[test]
    fn user_names_find_keys_without_regard_to_case() {
        let d = tempfile::tempdir().unwrap();
        let secrets = d.path().join("secrets.json");
        std::fs::write(
            &secrets,
            r#"{"MailgunKey": "x", "anthropic": "y", "blank": ""}"#,
        )
        .unwrap();
        let env = MapEnv::default();
        let settings = Config::default().for_profile(
            "x",
            crate::generation::Detected::fixed(crate::generation::Generation::Pepper),
        );
        let r = load(&secrets, &settings, "x", &opts(&env, &NoCache, vec![])).unwrap();
        assert_eq!(r.key_for("mailgunkey"), "MailgunKey");
        assert_eq!(r.key_for("MAILGUNKEY"), "MailgunKey");
        assert_eq!(r.key_for("ANTHROPIC_API_KEY"), "anthropic");
        assert_eq!(r.key_for("BLANK"), "blank");
        assert_eq!(r.key_for("NOPE_X"), "nope_x");
    }

    #[test]
    fn layers_in_order_with_sources() {
        let d = tempfile::tempdir().unwrap();
        let secrets = d.path().join("secrets.json");
        std::fs::write(&secrets, "{\n\"jwt_secret\": \"file\",\n\"openai\": \"file\",\n\"gemini\": \"file\",\n\"github\": null\n}").unwrap();
        let dotenv = d.path().join(".env");
        std::fs::write(
            &dotenv,
            "OPENAI_API_KEY=dotenv\nGEMINI_API_KEY=dotenv\nHTTP_PORT=8080\n",
        )
        .unwrap();
        let env = MapEnv::from_pairs([("OPENAI_API_KEY", "env"), ("PATH", "/bin")]);
        let cache = MemoryCache::default();
        cache.insert(
            "p",
            "local",
            &[("database_url", "cache"), ("jwt_secret", "cache")],
        );
        let settings = Config::default().for_profile(
            "local",
            crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
        );
        let r = load(
            &secrets,
            &settings,
            "local",
            &opts(
                &env,
                &cache,
                vec![DotEnvFile {
                    path: dotenv.clone(),
                    required: false,
                }],
            ),
        )
        .unwrap();

        let winner = |k: &str| r.get(k).unwrap().value.expose_secret().to_owned();
        assert_eq!(winner("openai"), "env");
        assert_eq!(winner("gemini"), "dotenv");
        assert_eq!(winner("jwt_secret"), "file");
        assert_eq!(winner("database_url"), "cache");
        assert_eq!(r.entries["openai"].definitions().count(), 3);
        assert_eq!(r.entries["openai"].shadowed[0].source.layer(), "dotenv");
        assert_eq!(
            r.entries["jwt_secret"].shadowed[0].source.layer(),
            "keyring"
        );
        assert_eq!(r.get("jwt_secret").unwrap().source.line(), Some(2));
        assert!(r.blanks.contains_key("github"));
        assert!(!r.entries.contains_key("path"));
        assert_eq!(r.ignored_dotenv, ["HTTP_PORT"]);
        assert_eq!(cache.reads(), 1);
    }

    #[test]
    fn in_a_dotenv_file_the_last_assignment_wins_and_a_later_file_shadows_it() {
        let d = tempfile::tempdir().unwrap();
        let secrets = d.path().join("secrets.json");
        std::fs::write(&secrets, "{\"openai\": \"file\"}").unwrap();
        let first = d.path().join(".env");
        std::fs::write(&first, "OPENAI_API_KEY=one\nOPENAI_API_KEY=two\n").unwrap();
        let second = d.path().join("more.env");
        std::fs::write(&second, "OPENAI_API_KEY=three\n").unwrap();
        let files = [&first, &second]
            .into_iter()
            .map(|path| DotEnvFile {
                path: path.clone(),
                required: true,
            })
            .collect();
        let env = MapEnv::from_pairs([("PATH", "/bin")]);
        let settings = Config::default().for_profile(
            "x",
            crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
        );
        let r = load(&secrets, &settings, "x", &opts(&env, &NoCache, files)).unwrap();
        let values: Vec<(&str, Option<usize>)> = r.entries["openai"]
            .definitions()
            .map(|d| (d.value.expose_secret(), d.source.line()))
            .collect();
        assert_eq!(
            values,
            [("three", Some(1)), ("two", Some(2)), ("file", Some(1))]
        );
    }

    #[test]
    fn no_env_ignores_env_and_dotenv() {
        let d = tempfile::tempdir().unwrap();
        let secrets = d.path().join("secrets.json");
        std::fs::write(&secrets, "{\"openai\": \"file\"}").unwrap();
        let dotenv = d.path().join(".env");
        std::fs::write(&dotenv, "OPENAI_API_KEY=dotenv\nGEMINI_API_KEY=dotenv\n").unwrap();
        let env = MapEnv::from_pairs([("OPENAI_API_KEY", "env"), ("ANTHROPIC_API_KEY", "env")]);
        let files = vec![DotEnvFile {
            path: dotenv,
            required: true,
        }];
        let mut o = opts(&env, &NoCache, files);
        o.use_env = false;
        let r = load(
            &secrets,
            &Config::default().for_profile(
                "x",
                crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
            ),
            "x",
            &o,
        )
        .unwrap();
        assert_eq!(r.get("openai").unwrap().value.expose_secret(), "file");
        assert!(
            r.entries["openai"].shadowed.is_empty(),
            "no other layer was read"
        );
        assert!(r.get("gemini").is_none() && r.get("anthropic").is_none());
        assert_eq!(r.files_read, [secrets], "the dotenv file was not even read");
    }

    #[test]
    fn later_env_files_override_earlier_and_missing_required_file_errors() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.env");
        let b = d.path().join("b.env");
        std::fs::write(&a, "JWT_SECRET=a\n").unwrap();
        std::fs::write(&b, "JWT_SECRET=b\n").unwrap();
        let env = MapEnv::default();
        let files = vec![
            DotEnvFile {
                path: a,
                required: true,
            },
            DotEnvFile {
                path: b,
                required: true,
            },
        ];
        let r = load(
            &d.path().join("none.json"),
            &Config::default().for_profile(
                "x",
                crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret),
            ),
            "x",
            &opts(&env, &NoCache, files),
        )
        .unwrap();
        assert_eq!(r.get("jwt_secret").unwrap().value.expose_secret(), "b");
        assert!(!r.secrets_file_found);
        let files = vec![DotEnvFile {
            path: d.path().join("missing.env"),
            required: true,
        }];
        assert!(load(
            &d.path().join("none.json"),
            &Config::default().for_profile(
                "x",
                crate::generation::Detected::fixed(crate::generation::Generation::JwtSecret)
            ),
            "x",
            &opts(&env, &NoCache, files)
        )
        .is_err());
    }
}
