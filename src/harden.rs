//! The process holds secrets: no core dump may carry them. Called first thing by the command
//! line, before any secret is read.
//!
//! - Linux: the process is marked not dumpable (`PR_SET_DUMPABLE` 0): no core file, and other
//!   processes of the same user cannot read its memory or `/proc/<pid>/environ` without
//!   `CAP_SYS_PTRACE`.
//! - Unix: the soft core-file limit is 0. Only the soft limit: the hard one stays, so that `run`
//!   can give the command it starts the limit it had ([`restore_for_child`]).

#[cfg(unix)]
static ORIGINAL_CORE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();

/// Makes the process not dumpable and its core-file limit 0. Errors are ignored: the tool works
/// on, as it did before (a kernel without `prctl`, a sandbox that forbids it).
pub fn no_core_dumps() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Core);
        let _ = ORIGINAL_CORE.set(limit.current);
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: limit.maximum,
            },
        );
    }
}

/// Gives back the core-file limit the process started with, just before `run` replaces it with
/// the user's command (which holds only what it was asked to hold). Not dumpable is reset by
/// the kernel at `exec`.
pub fn restore_for_child() {
    #[cfg(unix)]
    if let Some(original) = ORIGINAL_CORE.get() {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let maximum = getrlimit(Resource::Core).maximum;
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: *original,
                maximum,
            },
        );
    }
}

/// What protects this process now, in words for `doctor`: `Ok` when no core dump can carry its
/// secrets, `Err` with what is missing.
pub fn state() -> Result<String, String> {
    let mut held = Vec::new();
    let mut missing = Vec::new();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    match rustix::process::dumpable_behavior() {
        Ok(rustix::process::DumpableBehavior::NotDumpable) => held.push("not dumpable"),
        _ => missing.push("the process is dumpable"),
    }
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        if limit.current == Some(0) {
            held.push("core-file limit 0");
        } else {
            missing.push("the core-file limit is not 0");
        }
    }
    if missing.is_empty() {
        Ok(held.join(", "))
    } else {
        Err(missing.join("; "))
    }
}
