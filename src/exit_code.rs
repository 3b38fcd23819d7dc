//! The process exit codes of `cargo systemprompt-secrets`. These are stable.

/// Success (validation may have printed warnings).
pub const OK: i32 = 0;
/// Findings that fail validation, an invalid secrets or dotenv file, or a failed operation.
pub const FAILURE: i32 = 1;
/// A usage or configuration error: bad flags, a bad manifest table, no such profile.
pub const USAGE: i32 = 2;
/// The user answered no at a prompt: nothing was changed.
pub const CANCELLED: i32 = 3;
/// `run`: the command exists but cannot be executed (as a shell says).
pub const NOT_EXECUTABLE: i32 = 126;
/// `run`: the command was not found (as a shell says).
pub const NOT_FOUND: i32 = 127;
/// Stopped by a signal: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as
/// a shell reports it. A write in progress was finished first.
pub const SIGNAL_BASE: i32 = 128;
