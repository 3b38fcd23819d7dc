//! The build-script API: validate the active profile before compiling, without `cargo metadata`,
//! clap, HTTP or keyring in the build graph, and without ever putting a value into the artifact.
//!
//! ```no_run
//! // In build.rs, inside `fn main()`:
//! systemprompt_secrets::build::check().run();
//! ```
//!
//! The check can also be evaluated without printing, for tests:
//!
//! ```
//! use systemprompt_secrets::env::MapEnv;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"app\"\nversion = \"0.1.0\"\n")?;
//! std::fs::create_dir_all(dir.path().join(".systemprompt/profiles/local"))?;
//! std::fs::write(dir.path().join(".systemprompt/profiles/local/secrets.json"), r#"{"jwt_secret": "short"}"#)?;
//!
//! let report = systemprompt_secrets::build::check().manifest_dir(dir.path()).evaluate(&MapEnv::default()).unwrap();
//! assert!(report.failed);
//! assert!(report.directives.iter().any(|d| d == "cargo::rerun-if-env-changed=SYSTEMPROMPT_PROFILE"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It finds the project from `CARGO_MANIFEST_DIR` by reading the manifests with `toml` up to the
//! workspace root, applies the same configuration, profile choice and layering as the CLI (the
//! keyring cache layer is not read here), and prints:
//! - `cargo::rerun-if-changed=` for every file it read (the manifests, profile folder, `.env`);
//! - `cargo::rerun-if-env-changed=` for every variable it consulted, `SYSTEMPROMPT_PROFILE` included;
//! - `cargo::warning=` for each finding (code, key, place, hint — never a value).
//!
//! Errors fail the build with the list of findings, unless `.warn_only()`. It does nothing when
//! `SYSTEMPROMPT_SECRETS_SKIP=1` or on docs.rs (`DOCS_RS`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cache_layer::NoCache;
use crate::config::{Config, ConfigError, TableSource, TABLE};
use crate::env::{Env, ProcessEnv, RecordingEnv};
use crate::finding::{Finding, Mode, Severity};
use crate::generation;
use crate::layers::{self, DotEnvFile, LoadOptions};
use crate::profile::{self, ProfileError, ProfileSet};

/// Starts a check of the active profile.
#[must_use]
pub fn check() -> Check {
    Check::default()
}

/// A configured build-time check.
#[derive(Debug, Clone, Default)]
pub struct Check {
    warn_only: bool,
    manifest_dir: Option<PathBuf>,
    profile: Option<String>,
}

/// What a check found, and the lines a build script prints.
#[derive(Debug)]
pub struct Report {
    /// The profile checked (`None` when skipped).
    pub profile: Option<String>,
    /// `cargo::…` lines, in order.
    pub directives: Vec<String>,
    /// Every finding.
    pub findings: Vec<Finding>,
    /// Whether the build should fail.
    pub failed: bool,
}

/// Why the check could not run at all (these fail the build too).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A manifest could not be read or parsed.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `CARGO_MANIFEST_DIR` is not set (not running in a build script).
    #[error(
        "CARGO_MANIFEST_DIR is not set: call this from a build script, or use `.manifest_dir(…)`"
    )]
    NoManifestDir,
    /// The configuration table is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No profile could be chosen.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

impl BuildError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            BuildError::Config(e) => e.help(),
            BuildError::Profile(e) => e.help(),
            BuildError::Manifest { .. } | BuildError::NoManifestDir => None,
        }
    }
}

impl Check {
    /// Report errors as warnings; never fail the build.
    #[must_use]
    pub fn warn_only(mut self) -> Self {
        self.warn_only = true;
        self
    }

    /// Check this package folder instead of `CARGO_MANIFEST_DIR` (for tests).
    #[must_use]
    pub fn manifest_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.manifest_dir = Some(dir.into());
        self
    }

    /// Check this profile, whatever `SYSTEMPROMPT_PROFILE` and the manifest say.
    #[must_use]
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Runs the check and prints the directives; exits with status 1 when the build must fail.
    pub fn run(self) {
        let report = match self.evaluate(&ProcessEnv) {
            Ok(r) => r,
            Err((e, directives)) => {
                print_lines(&directives);
                let help = e
                    .help()
                    .map(|h| format!("\n    help: {h}"))
                    .unwrap_or_default();
                fail(&format!("systemprompt-secrets: {e}{help}"));
            }
        };
        print_lines(&report.directives);
        if report.failed {
            let mut text = format!(
                "systemprompt-secrets: profile `{}` has secrets that fail validation:",
                report.profile.as_deref().unwrap_or("?")
            );
            for f in report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
            {
                let _ = write!(text, "\n  {}", describe(f, Mode::Default));
                let _ = write!(text, "\n      help: {}", f.hint);
            }
            text.push_str("\n  (fix them, run `cargo systemprompt-secrets validate` for details, or set SYSTEMPROMPT_SECRETS_SKIP=1)");
            fail(&text);
        }
    }

    /// Runs the check against `env` without printing; on error also returns the directives
    /// gathered so far (so that fixing the problem re-runs the build script).
    pub fn evaluate(&self, env: &dyn Env) -> Result<Report, (BuildError, Vec<String>)> {
        let env = RecordingEnv::new(EnvRef(env));
        let mut files: Vec<PathBuf> = Vec::new();
        let skip = env
            .var("SYSTEMPROMPT_SECRETS_SKIP")
            .is_some_and(|v| !v.is_empty() && v != "0")
            || env.var("DOCS_RS").is_some();
        let result = if skip {
            Ok(None)
        } else {
            self.evaluate_inner(&env, &mut files).map(Some)
        };
        let mut directives: Vec<String> = files
            .iter()
            .map(|f| format!("cargo::rerun-if-changed={}", f.display()))
            .collect();
        directives.extend(
            env.consulted()
                .into_iter()
                .map(|v| format!("cargo::rerun-if-env-changed={v}")),
        );
        match result {
            Ok(None) => Ok(Report {
                profile: None,
                directives,
                findings: Vec::new(),
                failed: false,
            }),
            Ok(Some((profile, findings, mode))) => {
                let failed = !self.warn_only && findings.iter().any(|f| mode.fails_on(f));
                for f in &findings {
                    directives.push(format!("cargo::warning={}", describe(f, mode)));
                }
                Ok(Report {
                    profile: Some(profile),
                    directives,
                    findings,
                    failed,
                })
            }
            Err(e) => Err((e, directives)),
        }
    }

    fn evaluate_inner(
        &self,
        env: &dyn Env,
        files: &mut Vec<PathBuf>,
    ) -> Result<(String, Vec<Finding>, Mode), BuildError> {
        let dir = match &self.manifest_dir {
            Some(d) => d.clone(),
            None => env
                .var("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoManifestDir)?,
        };
        let manifests = find_manifests(&dir)?;
        files.push(manifests.package_manifest.clone());
        if manifests.root_manifest != manifests.package_manifest {
            files.push(manifests.root_manifest.clone());
        }
        let ws = manifests.workspace_table.as_ref().map(|v| {
            (
                TableSource {
                    manifest: &manifests.root_manifest,
                    prefix: "workspace.metadata",
                },
                v,
            )
        });
        let pkg = manifests.package_table.as_ref().map(|v| {
            (
                TableSource {
                    manifest: &manifests.package_manifest,
                    prefix: "package.metadata",
                },
                v,
            )
        });
        let config = Config::from_tables(ws, pkg)?;
        let profiles_dir =
            profile::profiles_dir(config.profiles_dir.as_deref(), &dir, &manifests.root);
        let set = ProfileSet::read(&profiles_dir)?;
        let (profile, _) = set.select(
            self.profile.as_deref(),
            env,
            config.default_profile.as_deref(),
        )?;
        // The profile folder: a new or changed secrets.json or profile.yaml re-runs the check.
        files.push(profile.dir.clone());
        if !profile.secrets_path.starts_with(&profile.dir) {
            files.push(profile.secrets_path.clone());
        }
        let locked = generation::read_lock(&manifests.root);
        let lock = manifests.root.join("Cargo.lock");
        if lock.is_file() {
            files.push(lock);
        }
        let keys = generation::marker_keys(&profile.secrets_path);
        let detected = generation::detect(config.generation, locked.as_ref(), keys);
        let mut settings = config.for_profile(&profile.name, detected);
        settings.boot = profile.yaml.boot_conditions();
        let dotenv = manifests.root.join(".env");
        if dotenv.is_file() {
            files.push(dotenv.clone());
        }
        let opts = LoadOptions {
            env,
            use_env: true,
            read_file: true,
            env_files: vec![DotEnvFile {
                path: dotenv,
                required: false,
            }],
            cache: &NoCache,
            project_id: "",
        };
        let mode = settings.mode(profile.yaml.validation());
        let findings = match layers::load(&profile.secrets_path, &settings, &profile.name, &opts) {
            Ok(resolved) => crate::validate::validate_profile(&resolved, &settings, &profile, mode),
            Err(e) => e.into_findings(),
        };
        Ok((profile.name, findings, mode))
    }
}

/// One line per finding: `error[code] key: message (at place)`. Never a value.
fn describe(f: &Finding, mode: Mode) -> String {
    let mut s = format!("{}[{}]", f.shown_severity(mode), f.code);
    if let Some(key) = &f.key {
        let _ = write!(s, " {key}");
    }
    let _ = write!(s, ": {}", f.message.replace('\n', " "));
    if let Some(loc) = &f.location {
        let _ = write!(s, " (at {loc})");
    }
    if f.severity == Severity::Warning || mode == Mode::Warn {
        let _ = write!(s, " — {}", f.hint);
    }
    if f.severity == Severity::Error && mode == Mode::Warn && !f.refuses_boot {
        s.push_str(" (an error, reported as a warning: validation is warn)");
    }
    s
}

#[allow(clippy::print_stdout)] // Reason: build scripts talk to cargo on stdout.
fn print_lines(lines: &[String]) {
    for l in lines {
        println!("{l}");
    }
}

#[allow(clippy::print_stderr)] // Reason: cargo shows a failing build script's stderr.
fn fail(text: &str) -> ! {
    eprintln!("{text}");
    std::process::exit(1)
}

struct EnvRef<'a>(&'a dyn Env);

impl Env for EnvRef<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }
}

/// The package's manifest, the workspace root and both metadata tables, read with `toml`.
struct Manifests {
    package_manifest: PathBuf,
    package_table: Option<serde_json::Value>,
    root: PathBuf,
    root_manifest: PathBuf,
    workspace_table: Option<serde_json::Value>,
}

fn read_toml(path: &Path) -> Result<toml::Table, BuildError> {
    let bytes =
        crate::regular_file::read(path, 16 * 1024 * 1024).map_err(|e| BuildError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| BuildError::Manifest {
        path: path.to_path_buf(),
        message: "the file is not valid UTF-8".to_owned(),
    })?;
    toml::from_str(&text).map_err(|e| BuildError::Manifest {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn table_at(t: &toml::Table, section: &str) -> Option<serde_json::Value> {
    let v = t.get(section)?.get("metadata")?.get(TABLE)?;
    serde_json::to_value(v).ok()
}

/// Finds the workspace the package belongs to: the nearest ancestor manifest with `[workspace]`
/// that does not `exclude` the package (the package's own `[workspace]` first).
fn find_manifests(dir: &Path) -> Result<Manifests, BuildError> {
    let package_manifest = dir.join("Cargo.toml");
    let own = read_toml(&package_manifest)?;
    let package_table = table_at(&own, "package");
    if own.contains_key("workspace") {
        return Ok(Manifests {
            workspace_table: table_at(&own, "workspace"),
            package_manifest: package_manifest.clone(),
            package_table,
            root: dir.to_path_buf(),
            root_manifest: package_manifest,
        });
    }
    for ancestor in dir.ancestors().skip(1) {
        let candidate = ancestor.join("Cargo.toml");
        if !candidate.is_file() {
            continue;
        }
        let Ok(t) = read_toml(&candidate) else {
            continue;
        };
        let Some(ws) = t.get("workspace").and_then(toml::Value::as_table) else {
            continue;
        };
        let excluded = ws
            .get("exclude")
            .and_then(toml::Value::as_array)
            .is_some_and(|list| {
                list.iter()
                    .filter_map(toml::Value::as_str)
                    .any(|e| dir.starts_with(ancestor.join(e)))
            });
        if excluded {
            break;
        }
        return Ok(Manifests {
            workspace_table: table_at(&t, "workspace"),
            package_manifest,
            package_table,
            root: ancestor.to_path_buf(),
            root_manifest: candidate,
        });
    }
    Ok(Manifests {
        workspace_table: None,
        package_manifest: package_manifest.clone(),
        package_table,
        root: dir.to_path_buf(),
        root_manifest: package_manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    fn write(root: &Path, p: &str, c: &str) {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }

    #[test]
    fn workspace_member_reads_both_tables_and_reports_directives() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "Cargo.toml", "[workspace]\nmembers = [\"app\"]\n\n[workspace.metadata.systemprompt-secrets]\nrequire-ai-provider = false\n");
        write(d.path(), "app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = \"local\"\n");
        write(
            d.path(),
            ".systemprompt/profiles/local/secrets.json",
            "{\"jwt_secret\": \"short-CANARY\", \"database_url\": \"postgres://a:b@h/d\"}",
        );
        let env = MapEnv::default();
        let report = check()
            .manifest_dir(d.path().join("app"))
            .evaluate(&env)
            .unwrap();
        assert!(report.failed);
        assert_eq!(report.profile.as_deref(), Some("local"));
        let text = report.directives.join("\n");
        assert!(
            text.contains("cargo::rerun-if-changed=") && text.contains("app/Cargo.toml"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "cargo::rerun-if-changed={}",
                d.path().join("Cargo.toml").display()
            )),
            "{text}"
        );
        assert!(text.contains(".systemprompt/profiles/local"), "{text}");
        assert!(
            text.contains("cargo::rerun-if-env-changed=SYSTEMPROMPT_PROFILE"),
            "{text}"
        );
        assert!(
            text.contains("cargo::rerun-if-env-changed=JWT_SECRET"),
            "{text}"
        );
        assert!(
            text.contains("cargo::warning=error[jwt-secret-too-short] jwt_secret"),
            "{text}"
        );
        assert!(!text.contains("CANARY"));
        let relaxed = check()
            .manifest_dir(d.path().join("app"))
            .warn_only()
            .evaluate(&env)
            .unwrap();
        assert!(!relaxed.failed);
        let skipped = check()
            .manifest_dir(d.path().join("app"))
            .evaluate(&MapEnv::from_pairs([("SYSTEMPROMPT_SECRETS_SKIP", "1")]))
            .unwrap();
        assert!(skipped.profile.is_none() && !skipped.failed);
    }

    #[test]
    fn excluded_package_is_its_own_root() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "Cargo.toml", "[workspace]\nexclude = [\"tool\"]\n\n[workspace.metadata.systemprompt-secrets]\nrequired = []\n");
        write(
            d.path(),
            "tool/Cargo.toml",
            "[package]\nname = \"tool\"\nversion = \"0.1.0\"\n",
        );
        let m = find_manifests(&d.path().join("tool")).unwrap();
        assert_eq!(m.root, d.path().join("tool"));
        assert!(m.workspace_table.is_none());
    }
}
