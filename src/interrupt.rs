//! Ctrl-C (SIGINT), SIGTERM and SIGHUP for the command line.
//!
//! - The handlers (and the thread that acts on a signal) are installed by the first write
//!   ([`writing`]) or the first [`Defer`] guard, not at start: until then there is nothing to
//!   finish or report, and the signal ends the process as it ends any program (the shell reports
//!   130, 143 or 129). A read-only run never starts the thread; starting it cost every run about
//!   a tenth of a millisecond, its memory set-up stalling the main thread's page faults.
//! - Once installed, a signal ends the process (exit 128 + the signal: 130, 143, 129), but never
//!   in the middle of a file write: a write in progress ([`writing`]) finishes first, so no temp
//!   file full of secrets stays behind.
//! - While a [`Defer`] guard lives, a signal is only recorded. A verb that makes many requests
//!   stops between two of them ([`received`]) and says what was done and what was not; a second
//!   signal ends it at once. `edit` takes a patient guard: Ctrl-C is the editor's, and SIGTERM
//!   or SIGHUP ([`terminated`]) stop the editor.
//!
//! SIGKILL cannot be caught: a write cut short by it leaves its temp file, which the next write in
//! that folder and `doctor --fix` remove ([`crate::atomic::stale_temp_files`]).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// SIGINT's number (the same on every Unix).
pub const SIGINT: i32 = 2;
/// SIGTERM's number (the same on every Unix).
pub const SIGTERM: i32 = 15;
/// SIGHUP's number (the same on every Unix).
pub const SIGHUP: i32 = 1;

/// The first signal received (0: none).
static FIRST: AtomicI32 = AtomicI32::new(0);
/// Live [`Defer`] guards, and the patient ones among them.
static DEFERRED: AtomicUsize = AtomicUsize::new(0);
static PATIENT: AtomicUsize = AtomicUsize::new(0);
/// Whether an error should be printed as JSON on stdout (`--format json`).
static JSON: AtomicBool = AtomicBool::new(false);
/// Held while a file is written; a signal waits for it.
static WRITING: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
/// One flag per handled signal, raised by the signal handler itself.
static IN_HANDLER: std::sync::OnceLock<[(i32, std::sync::Arc<AtomicBool>); 3]> =
    std::sync::OnceLock::new();
/// Set by the first thread that ends the process.
static EXITING: AtomicBool = AtomicBool::new(false);

/// How long a signal waits for a write in progress (a write is a few milliseconds; a hung disk
/// must not make the process unkillable by SIGTERM).
const WRITE_GRACE: Duration = Duration::from_secs(10);

/// Handles SIGINT, SIGTERM and SIGHUP from now on (once per process; later calls do nothing).
/// [`writing`] and [`Defer`] call it; build scripts never write through them.
pub fn install() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            // Set inside the handler itself, so that a write finishing on another thread sees
            // the signal at once, before the thread below has run.
            let flags = [SIGINT, SIGTERM, SIGHUP].map(|s| {
                let flag = std::sync::Arc::new(AtomicBool::new(false));
                let _ = signal_hook::flag::register(s, std::sync::Arc::clone(&flag));
                (s, flag)
            });
            let _ = IN_HANDLER.set(flags);
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        on_signal(signal);
                    }
                });
        }
    });
}

/// Errors printed by a signal go to stdout as JSON (`{"ok": false, "error": {…}}`) too.
pub fn set_json(json: bool) {
    JSON.store(json, Ordering::SeqCst);
}

fn on_signal(signal: i32) {
    let earlier = FIRST
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err();
    if PATIENT.load(Ordering::SeqCst) > 0 || DEFERRED.load(Ordering::SeqCst) > 0 && !earlier {
        return;
    }
    let started = Instant::now();
    loop {
        match WRITING.try_lock() {
            // Held until the process ends: no write starts after this.
            Ok(_writes) => exit_now(signal),
            Err(TryLockError::Poisoned(_writes)) => exit_now(signal),
            Err(TryLockError::WouldBlock) if started.elapsed() > WRITE_GRACE => exit_now(signal),
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn exit_now(signal: i32) -> ! {
    // The signal thread and a finished write may both get here: one prints and exits.
    if EXITING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    let message = format!(
        "interrupted by {}; nothing was left half-written",
        name(signal)
    );
    let code = exit_code(signal);
    // A shell of its own: the command's may be in use on the main thread.
    let mut shell =
        crate::shell::Shell::new(anstream::ColorChoice::Auto, crate::shell::Verbosity::Normal);
    if JSON.load(Ordering::SeqCst) {
        shell.out(serde_json::json!({"ok": false, "error": {"message": message, "help": null, "exit_code": code}}));
    }
    shell.error(message);
    shell.flush();
    std::process::exit(code)
}

/// The exit code for a process ended by `signal`, as a shell reports it: 128 + the signal.
#[must_use]
pub fn exit_code(signal: i32) -> i32 {
    crate::exit_code::SIGNAL_BASE + signal
}

/// `SIGINT`, `SIGTERM`, `SIGHUP` or `signal N`.
#[must_use]
pub fn name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".to_owned(),
        SIGTERM => "SIGTERM".to_owned(),
        SIGHUP => "SIGHUP".to_owned(),
        n => format!("signal {n}"),
    }
}

/// The first signal received, if any.
#[must_use]
pub fn received() -> Option<i32> {
    Some(FIRST.load(Ordering::SeqCst))
        .filter(|&s| s != 0)
        .or_else(|| raised().first().copied())
}

/// The signals whose handler has run, in the order SIGINT, SIGTERM, SIGHUP.
fn raised() -> Vec<i32> {
    IN_HANDLER.get().map_or_else(Vec::new, |flags| {
        flags
            .iter()
            .filter(|(_, f)| f.load(Ordering::SeqCst))
            .map(|(s, _)| *s)
            .collect()
    })
}

/// Whether SIGTERM or SIGHUP was received (for `edit`, where Ctrl-C is the editor's).
#[must_use]
pub fn terminated() -> bool {
    let raised = raised();
    raised.contains(&SIGTERM) || raised.contains(&SIGHUP)
}

/// While it lives, signals are recorded, not acted on. See the module's documentation.
#[must_use = "signals are deferred only while the guard lives"]
pub struct Defer {
    patient: bool,
}

impl Defer {
    /// For a verb that stops between requests: a second signal ends the process.
    pub fn between_requests() -> Self {
        install();
        DEFERRED.fetch_add(1, Ordering::SeqCst);
        Defer { patient: false }
    }

    /// For `edit`: every signal is only recorded; the verb acts on [`terminated`].
    pub fn patient() -> Self {
        install();
        PATIENT.fetch_add(1, Ordering::SeqCst);
        Defer { patient: true }
    }
}

impl Drop for Defer {
    fn drop(&mut self) {
        if self.patient {
            PATIENT.fetch_sub(1, Ordering::SeqCst);
        } else {
            DEFERRED.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Held while a file is written: a signal that arrives meanwhile waits for the write to finish,
/// and when the guard goes, the process ends as the signal asked (unless a [`Defer`] guard
/// lives).
pub fn writing() -> Writing {
    install();
    Writing(Some(WRITING.lock().unwrap_or_else(PoisonError::into_inner)))
}

/// See [`writing`].
pub struct Writing(Option<MutexGuard<'static, ()>>);

impl Drop for Writing {
    fn drop(&mut self) {
        drop(self.0.take());
        if let Some(signal) = received() {
            if PATIENT.load(Ordering::SeqCst) == 0 && DEFERRED.load(Ordering::SeqCst) == 0 {
                exit_now(signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_a_shells() {
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(exit_code(SIGHUP), 129);
        assert_eq!(name(SIGTERM), "SIGTERM");
        assert_eq!(name(9), "signal 9");
    }
}
