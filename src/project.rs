//! The project: the Cargo workspace read through `cargo metadata --no-deps` (cached per manifest
//! set, see [`crate::metadata_cache`]), its configuration and its profiles.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand};

use crate::config::{Config, ConfigError, ProfileSettings, TableSource, TABLE};
use crate::generation::{self, Detected, LockedCrate};
pub use crate::metadata_cache::{ManifestFacts, PackageFacts};
use crate::profile::{self, Profile, ProfileSet};

/// A systemprompt project as seen from one manifest.
#[derive(Debug, Clone)]
pub struct Project {
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// The directory of the selected package's manifest, or the workspace root.
    pub manifest_dir: PathBuf,
    /// The selected package, if any.
    pub package: Option<String>,
    /// The project's one name, wherever a command runs: the manifest's `project`, else the root
    /// package's name, else the workspace folder's name (`{project}` in the OpenBao path).
    pub name: String,
    /// The merged configuration (before command-line overrides).
    pub config: Config,
    /// The profiles folder and its profiles.
    pub profiles: ProfileSet,
    /// A stable id for the workspace (for keyring entries).
    pub id: String,
    /// The systemprompt crate in the workspace's `Cargo.lock`, if any.
    pub locked: Option<LockedCrate>,
}

impl Project {
    /// The secrets.json generation of `profile`, and why: the manifest's pin, `Cargo.lock`, the
    /// profile's secrets.json keys, else the current generation.
    #[must_use]
    pub fn generation(&self, profile: &Profile) -> Detected {
        let keys = if self.config.generation.is_none() && self.locked.is_none() {
            generation::marker_keys(&profile.secrets_path)
        } else {
            Vec::new()
        };
        generation::detect(self.config.generation, self.locked.as_ref(), keys)
    }

    /// The settings of `profile`: the manifest's, for the profile's generation.
    #[must_use]
    pub fn settings(&self, profile: &Profile) -> ProfileSettings {
        let mut settings = self
            .config
            .for_profile(&profile.name, self.generation(profile));
        settings.boot = profile.yaml.boot_conditions();
        settings.backend = self.backend(profile);
        settings
    }

    /// The remote `profile` syncs to: OpenBao for a profile that boots from Vault (`secrets.source:
    /// vault`, its own address and path), else what the manifest says.
    #[must_use]
    pub fn backend(&self, profile: &Profile) -> crate::config::RemoteBackend {
        if profile.yaml.source() == crate::profile::SecretSource::Vault {
            crate::config::RemoteBackend::Openbao
        } else {
            self.config.backend_of(&profile.name)
        }
    }
}

/// Why the project could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// `cargo metadata` failed.
    #[error("cannot read the Cargo manifest{}: {message}", manifest.as_ref().map(|m| format!(" {}", m.display())).unwrap_or_default())]
    Metadata {
        /// The manifest given, if any.
        manifest: Option<PathBuf>,
        /// What cargo said.
        message: String,
    },
    /// The metadata table is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The profiles folder could not be listed.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
}

impl ProjectError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Metadata { message, .. } if message.contains("manifest path") && message.contains("does not exist") => Some("check the path given to `--manifest-path`: it must name an existing Cargo.toml".to_owned()),
            Self::Metadata { message, .. } if is_no_manifest(message) => Some("run this inside a Cargo project (a folder with a Cargo.toml, or below one), or pass `--manifest-path path/to/Cargo.toml`".to_owned()),
            Self::Metadata { .. } => Some("fix the manifest as cargo says above; or pass `--manifest-path path/to/Cargo.toml` of another project".to_owned()),
            Self::Config(e) => e.help(),
            Self::Profile(e) => e.help(),
        }
    }
}

/// Whether cargo's message says there is no manifest at all (as opposed to a broken one).
fn is_no_manifest(message: &str) -> bool {
    message.contains("could not find `Cargo.toml`")
}

/// Reads the project from `manifest_path` or the current directory: from the manifest cache when
/// every manifest it depends on is unchanged, else with `cargo metadata --no-deps`.
pub fn discover(
    manifest_path: Option<&Path>,
    profiles_dir_flag: Option<&Path>,
) -> Result<Project, ProjectError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let anchor = manifest_path.map(|m| absolute(m, &cwd));
    let facts = if let Some(facts) = crate::metadata_cache::load(anchor.as_deref(), &cwd) {
        facts
    } else {
        let facts =
            facts_from_metadata(&run_cargo_metadata(manifest_path)?, anchor.as_deref(), &cwd);
        crate::metadata_cache::store(anchor.as_deref(), &cwd, &facts);
        facts
    };
    from_facts(&facts, &cwd, profiles_dir_flag)
}

fn run_cargo_metadata(manifest_path: Option<&Path>) -> Result<Metadata, ProjectError> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(m) = manifest_path {
        cmd.manifest_path(m);
    }
    cmd.exec().map_err(|e| ProjectError::Metadata {
        manifest: manifest_path.map(Path::to_path_buf),
        message: match e {
            cargo_metadata::Error::CargoMetadata { stderr } => stderr
                .lines()
                .take_while(|l| !l.contains("Stack backtrace"))
                .filter(|l| !matches!(l.trim(), "" | "|" | "Caused by:"))
                .take(4)
                .map(|l| l.trim().trim_start_matches("error: ").to_owned())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        },
    })
}

/// Picks what this tool needs out of `cargo metadata`'s answer. The package is the one whose
/// folder holds the given manifest (or the current directory), the deepest if several do.
#[must_use]
pub fn facts_from_metadata(
    metadata: &Metadata,
    manifest_path: Option<&Path>,
    cwd: &Path,
) -> ManifestFacts {
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let anchor = manifest_path
        .and_then(Path::parent)
        .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
    let members = metadata.workspace_packages();
    let package = members
        .iter()
        .filter(|p| {
            p.manifest_path
                .parent()
                .is_some_and(|d| anchor.starts_with(d.as_std_path()))
        })
        .max_by_key(|p| p.manifest_path.as_str().len())
        .map(|p| PackageFacts {
            name: p.name.to_string(),
            manifest: p.manifest_path.clone().into_std_path_buf(),
            table: p.metadata.get(TABLE).cloned(),
        });
    let mut manifests: Vec<PathBuf> = std::iter::once(workspace_root.join("Cargo.toml"))
        .chain(
            members
                .iter()
                .map(|p| p.manifest_path.clone().into_std_path_buf()),
        )
        .collect();
    manifests.sort();
    manifests.dedup();
    let locked = crate::generation::read_lock(&workspace_root);
    let root_manifest = workspace_root.join("Cargo.toml");
    let root_package = members
        .iter()
        .find(|p| p.manifest_path.as_std_path() == root_manifest)
        .map(|p| p.name.to_string());
    ManifestFacts {
        root_package,
        workspace_table: metadata.workspace_metadata.get(TABLE).cloned(),
        locked,
        workspace_root,
        package,
        manifests,
    }
}

/// Builds the project from the facts: configuration, profiles folder, profiles.
pub fn from_facts(
    facts: &ManifestFacts,
    cwd: &Path,
    profiles_dir_flag: Option<&Path>,
) -> Result<Project, ProjectError> {
    let root_manifest = facts.workspace_root.join("Cargo.toml");
    let ws = facts.workspace_table.as_ref().map(|v| {
        (
            TableSource {
                manifest: &root_manifest,
                prefix: "workspace.metadata",
            },
            v,
        )
    });
    let pkg = facts.package.as_ref().and_then(|p| {
        p.table.as_ref().map(|v| {
            (
                TableSource {
                    manifest: &p.manifest,
                    prefix: "package.metadata",
                },
                v,
            )
        })
    });
    let mut config = Config::from_tables(ws, pkg)?;
    if let Some(p) = facts
        .package
        .as_ref()
        .filter(|p| p.manifest != root_manifest)
    {
        if p.table.as_ref().is_some_and(|t| t.get("project").is_some()) {
            return Err(ConfigError::Invalid {
                manifest: p.manifest.clone(),
                line: None,
                column: None,
                key: Some("project".to_owned()),
                table: format!("package.metadata.{TABLE}"),
                message: "`project` names the whole workspace, so a member cannot set it"
                    .to_owned(),
            }
            .into());
        }
    }
    let name = config
        .project
        .clone()
        .or_else(|| facts.root_package.clone())
        .unwrap_or_else(|| {
            facts
                .workspace_root
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("project")
                .to_owned()
        });
    if let Some(dir) = profiles_dir_flag {
        config.profiles_dir = Some(absolute(dir, cwd));
    }
    let manifest_dir = facts
        .package
        .as_ref()
        .and_then(|p| p.manifest.parent())
        .map_or_else(|| facts.workspace_root.clone(), Path::to_path_buf);
    let dir = profile::profiles_dir(
        config.profiles_dir.as_deref(),
        &manifest_dir,
        &facts.workspace_root,
    );
    let mut profiles = ProfileSet::read(&dir)?;
    if let Some(version) = facts
        .locked
        .as_ref()
        .and_then(|c| crate::upstream::parse_version(&c.version))
    {
        profiles.drop_unloadable(&version);
    }
    Ok(Project {
        id: project_id(&facts.workspace_root),
        workspace_root: facts.workspace_root.clone(),
        manifest_dir,
        package: facts.package.as_ref().map(|p| p.name.clone()),
        name,
        config,
        profiles,
        locked: facts.locked.clone(),
    })
}

fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// `<folder name>-<16 hex digits of a stable hash of the canonical workspace root>`.
#[must_use]
pub fn project_id(workspace_root: &Path) -> String {
    let canonical = crate::canon::canonical(workspace_root);
    let hash = crate::metadata_cache::fnv64(canonical.to_string_lossy().as_bytes());
    let name = canonical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("project");
    format!("{name}-{hash:016x}")
}
