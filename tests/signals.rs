//! Signals in the middle of work (issue 25): Ctrl-C and SIGTERM never leave a temp file full of
//! secrets; a temp file left by SIGKILL is removed by the next writer and by `doctor --fix`; the
//! lines `init` writes make git ignore such files wherever they are made; and a verb that makes
//! many requests says, when stopped, what it did and what it did not.
//!
//! A debug build's writer stops itself at an exact stage of a write
//! (`SYSTEMPROMPT_SECRETS_TEST_STOP_AT`), so each signal lands mid-write whatever the machine's
//! speed.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cloud_server::CloudServer;
use support::{cmd, git, project, signal, wait_stopped, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const BUDGET: Duration = Duration::from_secs(300);

/// Every file under `root` whose name marks it as one of this tool's temp files.
fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if entry.file_name().to_string_lossy().starts_with(".secrets-") {
                found.push(path);
            }
        }
    }
    found
}

/// Starts the tool, stopped by its own hook once the temp file is written.
fn spawn_stopped(root: &Path, args: &[&str]) -> Child {
    let mut c = cmd(root);
    c.args(args)
        .env("SYSTEMPROMPT_SECRETS_TEST_STOP_AT", "written")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("start the tool");
    assert!(
        wait_stopped(&mut child, BUDGET, "written"),
        "{args:?} exited before its write: {:?}",
        child.wait_with_output()
    );
    child
}

#[test]
fn ctrl_c_or_sigterm_mid_write_finishes_the_write_and_leaves_no_temp_file() {
    let cases: [(&[&str], &str, i32, &str); 3] = [
        (&["export", "-o", "out/app.env"], "INT", 130, "out/app.env"),
        (&["rotate", "jwt_secret", "--yes"], "TERM", 143, SECRETS),
        (&["rotate", "jwt_secret", "--yes"], "HUP", 129, SECRETS),
    ];
    for (args, sig, code, written) in cases {
        let p = project(&[(SECRETS, GOOD)]);
        std::fs::create_dir_all(p.path().join("out")).unwrap();
        let child = spawn_stopped(p.path(), args);
        assert_eq!(
            temp_files(p.path()).len(),
            1,
            "{args:?}: the temp file exists"
        );
        // The signal waits while the writer is stopped, then arrives as it goes on.
        signal(child.id(), sig);
        signal(child.id(), "CONT");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Handled, never the default (which ends the process at once and leaves the temp
        // file): the write finishes, then the process stops with 128 + the signal. The signal
        // is raised in its handler as the writer resumes; on a busy machine the handler may run
        // only after the command has also finished, and then it ends normally.
        match out.status.code() {
            Some(c) if c == code => assert!(
                stderr.contains(&format!("interrupted by SIG{sig}")),
                "{args:?}: {stderr}"
            ),
            Some(0) => {}
            other => panic!("{args:?} {sig}: exit {other:?}: {stderr}"),
        }
        assert_eq!(
            temp_files(p.path()),
            Vec::<PathBuf>::new(),
            "{args:?} {sig}: no temp file is left"
        );
        // The write in progress was finished: the file is whole and new.
        let text = std::fs::read_to_string(p.path().join(written)).unwrap();
        if written == SECRETS {
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let before: serde_json::Value = serde_json::from_str(GOOD).unwrap();
            assert_ne!(doc["jwt_secret"], before["jwt_secret"], "rotated");
        } else {
            assert!(text.contains("JWT_SECRET="), "{text}");
        }
    }
}

#[test]
fn a_temp_file_left_by_sigkill_goes_with_the_next_write_and_with_doctor_fix() {
    let p = project(&[(SECRETS, GOOD)]);
    let kill_mid_write = || {
        let mut child = spawn_stopped(p.path(), &["rotate", "jwt_secret", "--yes"]);
        child.kill().unwrap();
        child.wait().unwrap();
        let left = temp_files(p.path());
        assert_eq!(left.len(), 1, "SIGKILL cannot be caught: {left:?}");
        left
    };

    // `doctor` reports it at once (no live writer holds it), and `--fix` removes it.
    let left = kill_mid_write();
    let out = support::sp(p.path(), &["doctor"]);
    let name = left[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        out.all().contains(&name) && out.all().contains("left by a writer that died"),
        "{out:?}"
    );
    let out = support::sp(p.path(), &["doctor", "--fix"]);
    assert!(out.all().contains(&format!("{name}: removed")), "{out:?}");
    assert_eq!(temp_files(p.path()), Vec::<PathBuf>::new());

    // The next write of the same file removes it too.
    kill_mid_write();
    let out = support::sp(p.path(), &["rotate", "jwt_secret", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(temp_files(p.path()), Vec::<PathBuf>::new());
}

#[test]
fn init_makes_git_ignore_temp_files_wherever_they_are_made() {
    // The project ignores secrets.json by a rule of its own already.
    let p = project(&[(".gitignore", "/target\nsecrets.json\n")]);
    git(p.path(), &["init", "-q"]);
    let out = support::sp(p.path(), &["init", "--profile", "local"]);
    assert_eq!(out.code, 0, "{out:?}");
    for probe in [
        ".secrets-a1b2c3.tmp",
        "out/.secrets-a1b2c3.tmp",
        "deploy/k8s/.secrets-XyZ.tmp",
        ".systemprompt/profiles/local/.secrets-a1b2c3.tmp",
        ".systemprompt/profiles/local/.secrets-edit-a1b2c3.json",
    ] {
        let ignored = support::git_command(p.path())
            .args(["check-ignore", "-q", "--no-index", probe])
            .status()
            .unwrap();
        assert!(ignored.success(), "git does not ignore {probe}");
    }
}

#[test]
fn an_interrupted_unset_says_what_was_deleted_and_what_was_not() {
    const TOKEN: &str = "sp-test-token-7f2c";
    const TENANT: &str = "t-123";
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let server = CloudServer::start(TOKEN, &[TENANT]);
        let p = project(&[
            (SECRETS, GOOD),
            (
                ".systemprompt/profiles/local/profile.yaml",
                &format!("cloud:\n  tenant_id: {TENANT}\n"),
            ),
        ]);
        let names: Vec<String> = (0..60).map(|i| format!("K{i:02}")).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        server.set_remote(TENANT, &pairs);
        // Slow answers: the signal comes while most deletes are still to be made.
        server.set_latency(Duration::from_millis(300));
        let mut c = cmd(p.path());
        c.args(["unset", "--yes", "--format", "json"])
            .args(&names)
            .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
            .env("SYSTEMPROMPT_API_URL", &server.url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = c.spawn().unwrap();
        let started = Instant::now();
        while server.count("DELETE") == 0 {
            assert!(started.elapsed() < BUDGET, "no DELETE was made");
            std::thread::sleep(Duration::from_millis(5));
        }
        signal(child.id(), sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{sig}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted by SIG{sig} after"))
                && stderr.contains("not deleted: ")
                && stderr.contains("run the same `unset` again"),
            "{stderr}"
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["interrupted"], format!("SIG{sig}"));
        let list = |key: &str| -> BTreeSet<String> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect()
        };
        let (removed, not_deleted) = (list("removed"), list("not_deleted"));
        assert!(!removed.is_empty() && !not_deleted.is_empty(), "{v}");
        assert_eq!(
            removed.len() + not_deleted.len(),
            60,
            "every name is either deleted or named as not deleted: {v}"
        );
        // What it says is what the server holds.
        let left: BTreeSet<String> = server.remote(TENANT).into_keys().collect();
        assert_eq!(left, not_deleted, "{sig}");
    }
}
