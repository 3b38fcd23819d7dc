//! What the end-to-end tests share: the built binary run in a clean environment, throwaway
//! projects, git, and the real or contract servers they talk to.
// Reason: each test file uses a part of this module.
#![allow(dead_code)]

pub mod cloud_server;
pub mod fault_proxy;
pub mod http_server;
pub mod openbao;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Env names that would leak the developer's own secrets or settings into a test.
pub const SCRUB: &[&str] = &[
    "JWT_SECRET",
    "DATABASE_URL",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GITHUB_TOKEN",
    "SENDGRID",
    "STRIPE",
    "MOLTBOOK_BUILDER",
    "SYSTEMPROMPT_PROFILE",
    "CARGO_TERM_COLOR",
    "RUST_LOG",
    "EDITOR",
    "VISUAL",
    "SYSTEMPROMPT_API_TOKEN",
    "SYSTEMPROMPT_API_URL",
    "BAO_ADDR",
    "VAULT_ADDR",
];

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-systemprompt-secrets"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// The binary, run in `dir` with a scrubbed environment and no colour.
pub fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    // The OS keyring is off unless a test turns it on (tests/keyring.rs).
    c.current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .env("COLUMNS", "100")
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        // The tests' projects are trusted, as CI trusts its checkout (`tests/trust.rs` turns
        // this off to test the trust itself).
        .env("SYSTEMPROMPT_SECRETS_TRUST_PROJECT", "1")
        .env(
            "SYSTEMPROMPT_SECRETS_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/manifest-cache"),
        )
        // Records of what was synced are keyed by the (temporary) project's path.
        .env(
            "SYSTEMPROMPT_SECRETS_STATE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/sync-state"),
        );
    for name in SCRUB {
        if *name != "CARGO_TERM_COLOR" {
            c.env_remove(name);
        }
    }
    c
}

/// The binary as [`cmd`] sets it up (environment and folder), started through `program` with
/// `args` before it (`setpriv …`, `strace …`, `sh -c '… "$0"'`).
pub fn through(dir: &Path, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
    let base = cmd(dir);
    let mut c = Command::new(program);
    c.args(args).arg(base.get_program()).current_dir(dir);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn run(mut c: Command) -> Out {
    let o = c.output().expect("run the binary");
    Out {
        code: o.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `c` and checks what every run must hold: no panic, and neither the canary (`CANARY`) nor
/// any of `forbidden` (tokens, values) in its output.
pub fn checked(c: Command, forbidden: &[&str]) -> Out {
    let out = run(c);
    let all = out.all();
    assert!(!all.contains("CANARY"), "a value leaked: {out:?}");
    for f in forbidden {
        assert!(!all.contains(f), "a secret leaked: {out:?}");
    }
    assert!(!all.contains("panicked"), "{out:?}");
    out
}

/// Runs the binary in `dir` with these arguments and this environment, checked as [`checked`].
pub fn sp_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = cmd(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    checked(c, &[])
}

/// Runs the binary in `dir` with these arguments.
pub fn sp(dir: &Path, args: &[&str]) -> Out {
    let mut c = cmd(dir);
    c.args(args);
    run(c)
}

/// A throwaway project: a manifest, a target, and the given files (path, content).
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let has_manifest = files.iter().any(|(p, _)| *p == "Cargo.toml");
    if !has_manifest {
        write(dir.path(), "Cargo.toml", "[package]\nname = \"tmp-project\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n");
    }
    write(dir.path(), "src/lib.rs", "");
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    dir
}

pub fn write(root: &Path, path: &str, content: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, content).expect("write");
    // Secrets files are private, as `init` makes them; tests of the mode warning loosen them.
    let name = p.file_name().unwrap_or_default().to_string_lossy();
    if name == "secrets.json" || name.starts_with(".env") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    }
}

/// A valid local profile's secrets.json.
pub const GOOD: &str = r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
  "database_url": "postgres://app:pw@db:5432/app",
  "openai": "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789"
}
"#;

/// Gives every secrets.json and .env below `dir` mode 0600, as real ones have: git checks fixtures
/// out with the umask's mode (usually 0644), which `validate` rightly warns about.
pub fn private_modes(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && entry.file_name() != "target" && entry.file_name() != ".git" {
            private_modes(&path);
        } else if kind.is_file()
            && (entry.file_name() == "secrets.json"
                || entry.file_name().to_string_lossy().starts_with(".env"))
        {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .expect("chmod 600");
        }
    }
}

/// `git -C dir` with a fixed author and committer, so commits work on a machine with no git identity.
pub fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com");
    c
}

/// Runs git in `dir`, asserts that it succeeded, and returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir)
        .args(args)
        .output()
        .expect("git is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until `child` has stopped itself (state `T` in /proc: a debug build's writer at
/// `SYSTEMPROMPT_SECRETS_TEST_STOP_AT`); false if it exited first. Panics after `budget`.
pub fn wait_stopped(
    child: &mut std::process::Child,
    budget: std::time::Duration,
    stage: &str,
) -> bool {
    let stat = format!("/proc/{}/stat", child.id());
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        let text = std::fs::read_to_string(&stat).unwrap_or_default();
        // The state follows the command name, which is in parentheses.
        if text
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        {
            return true;
        }
        assert!(
            started.elapsed() < budget,
            "the writer did not reach the `{stage}` stage in {} s",
            budget.as_secs()
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Sends `signal` (`TERM`, `INT`, `KILL`, `CONT`…) to the process `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill(1)")
        .success();
    assert!(ok, "kill -{signal} {pid}");
}
