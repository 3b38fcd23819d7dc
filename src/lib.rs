//! Find, load, validate and sync the secrets of systemprompt projects.
//!
//! The library is what the `cargo systemprompt-secrets` command is built on. With
//! `default-features = false` it has no CLI, network or keyring dependencies, so build
//! scripts can use it.
//!
//! ```
//! use systemprompt_secrets::cache_layer::NoCache;
//! use systemprompt_secrets::config::Config;
//! use systemprompt_secrets::env::MapEnv;
//! use systemprompt_secrets::{load, validate::validate, ExposeSecret, LoadOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("secrets.json");
//! std::fs::write(&path, r#"{"jwt_secret": "short", "database_url": "postgres://u:p@db/app"}"#)?;
//!
//! let settings = Config::default().for_profile("local", systemprompt_secrets::generation::Detected::fixed(systemprompt_secrets::generation::Generation::JwtSecret));
//! let env = MapEnv::from_pairs([("OPENAI_API_KEY", "sk-ant-oops")]);
//! let opts = LoadOptions { env: &env, use_env: true, read_file: true, env_files: vec![], cache: &NoCache, project_id: "demo" };
//! let resolved = load(&path, &settings, "local", &opts)?;
//! assert_eq!(resolved.get("openai").unwrap().source.layer(), "env");
//!
//! // Problems with values, plus advice about the file when others can read it, in the order of
//! // the layers: the environment's first, then the file's, line by line.
//! let codes: Vec<_> = validate(&resolved, &settings)
//!     .into_iter()
//!     .filter(|f| !f.is_advisory())
//!     .map(|f| f.code)
//!     .collect();
//! assert_eq!(codes, ["openai-prefix", "jwt-secret-too-short"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod build;
pub mod cache_layer;
pub mod canon;
pub mod config;
pub mod dotenv;
pub mod env;
pub mod exit_code;
pub mod finding;
pub mod generate;
pub mod upstream;
/// The two layouts of `secrets.json` (kept at this path for build scripts that name it).
pub use upstream::generation;
pub mod key_formats;
pub mod keys;
pub mod layers;
pub mod profile;
pub mod regular_file;
pub mod secrets_file;
pub mod source;
pub mod validate;
pub mod zeroized;

pub use finding::{Finding, Location, Mode, Severity};
pub use layers::{load, LoadOptions, Resolved};
pub use secrecy::{ExposeSecret, SecretString};

#[cfg(feature = "cli")]
pub mod atomic;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod commands;
#[cfg(feature = "cli")]
pub mod db_check;
#[cfg(feature = "cli")]
pub mod error;
#[cfg(feature = "cli")]
pub mod external_secret;
#[cfg(feature = "cli")]
pub mod git;
#[cfg(feature = "cli")]
pub mod harden;
#[cfg(feature = "cli")]
pub mod http;
#[cfg(feature = "cli")]
pub mod interrupt;
#[cfg(feature = "cli")]
pub mod keyring;
#[cfg(feature = "cli")]
pub mod metadata_cache;
#[cfg(feature = "cli")]
pub mod project;
#[cfg(feature = "cli")]
pub mod remote;
#[cfg(feature = "cli")]
pub mod scan;
#[cfg(feature = "cli")]
pub mod scrub;
#[cfg(feature = "cli")]
pub mod secret_map;
#[cfg(feature = "cli")]
pub mod shell;
#[cfg(feature = "cli")]
pub mod sync_state;
#[cfg(feature = "cli")]
pub mod token;
#[cfg(feature = "cli")]
pub mod trust;
