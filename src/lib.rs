//! Find, load, validate (and later sync) the secrets of systemprompt projects.
//!
//! The library is what the `cargo systemprompt-secrets` command is built on. With
//! `default-features = false` it has no CLI, network or keyring dependencies, so build
//! scripts can use it.
#![warn(missing_docs)]

pub mod cache;
pub mod config;
pub mod dotenv;
pub mod env;
pub mod exit_code;
pub mod finding;
pub mod keys;
pub mod layers;
pub mod profile;
pub mod secrets_file;
pub mod source;
pub mod validate;

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
pub mod error;
#[cfg(feature = "cli")]
pub mod project;
#[cfg(feature = "cli")]
pub mod shell;
