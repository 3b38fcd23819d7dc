//! The project: the Cargo workspace read through `cargo metadata --no-deps`, its config and profiles.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand};

use crate::config::{Config, ConfigError, TableSource, TABLE};
use crate::profile::{self, ProfileSet};

/// A systemprompt project as seen from one manifest.
#[derive(Debug, Clone)]
pub struct Project {
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// The directory of the selected package's manifest, or the workspace root.
    pub manifest_dir: PathBuf,
    /// The selected package, if any.
    pub package: Option<String>,
    /// The merged configuration (before command-line overrides).
    pub config: Config,
    /// The profiles folder and its profiles.
    pub profiles: ProfileSet,
    /// A stable id for the workspace (for keyring entries).
    pub id: String,
}

/// Why the project could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// `cargo metadata` failed.
    #[error("cannot read the Cargo manifest{}: {message}\n    help: run this inside a Cargo project or pass `--manifest-path path/to/Cargo.toml`", manifest.as_ref().map(|m| format!(" {}", m.display())).unwrap_or_default())]
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

/// Reads the project with `cargo metadata --no-deps`, from `manifest_path` or the current directory.
pub fn discover(
    manifest_path: Option<&Path>,
    profiles_dir_flag: Option<&Path>,
) -> Result<Project, ProjectError> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(m) = manifest_path {
        cmd.manifest_path(m);
    }
    let metadata = cmd.exec().map_err(|e| ProjectError::Metadata {
        manifest: manifest_path.map(Path::to_path_buf),
        message: match e {
            cargo_metadata::Error::CargoMetadata { stderr } => stderr
                .lines()
                .take_while(|l| !l.contains("Stack backtrace"))
                .filter(|l| !l.trim().is_empty())
                .take(4)
                .map(|l| l.trim().trim_start_matches("error: ").to_owned())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        },
    })?;
    let cwd = std::env::current_dir().unwrap_or_default();
    from_metadata(&metadata, manifest_path, &cwd, profiles_dir_flag)
}

/// Builds the project from already-read metadata (the cacheable step).
pub fn from_metadata(
    metadata: &Metadata,
    manifest_path: Option<&Path>,
    cwd: &Path,
    profiles_dir_flag: Option<&Path>,
) -> Result<Project, ProjectError> {
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let root_manifest = workspace_root.join("Cargo.toml");
    let anchor = manifest_path
        .map(|m| absolute(m, cwd))
        .and_then(|m| m.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.to_path_buf());
    let package = metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| {
            p.manifest_path
                .parent()
                .is_some_and(|d| anchor.starts_with(d.as_std_path()))
        })
        .max_by_key(|p| p.manifest_path.as_str().len());

    let ws_value = metadata.workspace_metadata.get(TABLE);
    let pkg_value = package.and_then(|p| p.metadata.get(TABLE));
    let pkg_manifest = package.map(|p| p.manifest_path.clone().into_std_path_buf());
    let mut config = Config::from_tables(
        ws_value.map(|v| {
            (
                TableSource {
                    manifest: &root_manifest,
                    prefix: "workspace.metadata",
                },
                v,
            )
        }),
        pkg_value.zip(pkg_manifest.as_deref()).map(|(v, m)| {
            (
                TableSource {
                    manifest: m,
                    prefix: "package.metadata",
                },
                v,
            )
        }),
    )?;
    if let Some(dir) = profiles_dir_flag {
        config.profiles_dir = Some(absolute(dir, cwd));
    }
    let manifest_dir = pkg_manifest
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| workspace_root.clone(), Path::to_path_buf);
    let dir = profile::profiles_dir(
        config.profiles_dir.as_deref(),
        &manifest_dir,
        &workspace_root,
    );
    let profiles = ProfileSet::read(&dir)?;
    Ok(Project {
        id: project_id(&workspace_root),
        workspace_root,
        manifest_dir,
        package: package.map(|p| p.name.to_string()),
        config,
        profiles,
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
    let canonical = workspace_root
        .canonicalize()
        .unwrap_or_else(|_| workspace_root.to_path_buf());
    // FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
    let hash = canonical
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let name = canonical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("project");
    format!("{name}-{hash:016x}")
}
