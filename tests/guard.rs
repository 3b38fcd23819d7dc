//! The guard rails, through the binary: git guard before init/sync/pull, file-mode warnings,
//! `doctor` (and `--fix`), and `scan` (work tree, `--staged`, `--history`, formats, hook).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::{cmd, git, git_command, project, run, sp, write, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
/// The `jwt_secret` of `GOOD`: a value that must never be printed.
const JWT: &str = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn snapshot(path: &Path) -> (Vec<u8>, u32) {
    (std::fs::read(path).unwrap(), mode(path))
}

#[test]
fn tracked_secrets_stop_init_sync_and_pull() {
    let dir = project(&[(SECRETS, GOOD)]);
    let root = dir.path();
    git(root, &["init", "-q"]);
    git(root, &["add", "-f", SECRETS]);
    let file = root.join(SECRETS);
    let before = snapshot(&file);

    let init = sp(root, &["init", "--force"]);
    assert_eq!(init.code, 1, "{init:?}");
    assert!(init.stderr.contains("is tracked by git"), "{}", init.stderr);
    assert!(
        init.stderr
            .contains("rm --cached -- .systemprompt/profiles/local/secrets.json"),
        "{}",
        init.stderr
    );
    assert_eq!(
        snapshot(&file),
        before,
        "init must not touch a tracked file"
    );

    let mut c = cmd(root);
    c.args(["sync", "--tenant", "t1", "--yes"])
        .env("SYSTEMPROMPT_API_URL", "http://127.0.0.1:9")
        .env("SYSTEMPROMPT_API_TOKEN", "tok");
    let sync = run(c);
    assert_eq!(sync.code, 1, "{sync:?}");
    assert!(sync.stderr.contains("git rm --cached"), "{}", sync.stderr);
    assert!(
        !sync.stderr.contains("127.0.0.1:9"),
        "guard runs before any request"
    );

    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"tmp-project\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\nbackend = \"openbao\"\nopenbao = { address = \"http://127.0.0.1:9\" }\n",
    );
    let mut c = cmd(root);
    c.args(["pull", "--yes"]).env("BAO_TOKEN", "tok");
    let pull = run(c);
    assert_eq!(pull.code, 1, "{pull:?}");
    assert!(pull.stderr.contains("git rm --cached"), "{}", pull.stderr);
    assert_eq!(snapshot(&file), before);
    for out in [&init, &sync, &pull] {
        assert!(!out.all().contains(JWT));
    }

    // Untracked but not ignored: a warning, and the command goes on (here to a refused connection).
    git(root, &["rm", "-q", "--cached", SECRETS]);
    let mut c = cmd(root);
    c.args(["sync", "--tenant", "t1", "--yes", "--connect-timeout", "1"])
        .env("SYSTEMPROMPT_API_URL", "http://127.0.0.1:9")
        .env("SYSTEMPROMPT_API_TOKEN", "tok");
    let sync = run(c);
    assert!(
        sync.stderr
            .contains("warning: git does not ignore .systemprompt/profiles/local/secrets.json"),
        "{}",
        sync.stderr
    );
    assert!(sync.stderr.contains("127.0.0.1:9"), "{}", sync.stderr);
}

#[test]
fn init_adds_the_ignore_line_and_no_repository_is_fine() {
    let dir = project(&[]);
    let root = dir.path();
    let out = sp(root, &["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stderr.contains("git does not ignore"),
        "{}",
        out.stderr
    );

    let dir = project(&[]);
    let root = dir.path();
    git(root, &["init", "-q"]);
    let out = sp(root, &["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    let status = git(root, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains("secrets.json"), "{status}");
    assert_eq!(mode(&root.join(SECRETS)), 0o600);
}

#[test]
fn loose_modes_warn_and_doctor_fix_tightens_them() {
    let dir = project(&[
        (SECRETS, GOOD),
        (
            ".env",
            "OPENAI_API_KEY=sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789\n",
        ),
    ]);
    let root = dir.path();
    for f in [root.join(SECRETS), root.join(".env")] {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = sp(root, &["validate"]);
    assert_eq!(
        out.code, 0,
        "a warning does not fail the default mode: {out:?}"
    );
    assert!(
        out.stderr
            .contains("secrets.json can be read or written by group or others (mode 0644)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(".env can be read or written by group or others"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("chmod 600 .systemprompt/profiles/local/secrets.json"),
        "{}",
        out.stderr
    );
    let strict = sp(root, &["validate", "--strict"]);
    assert_eq!(
        strict.code, 0,
        "an advisory: shown even in strict mode, never failing: {strict:?}"
    );
    assert!(
        strict.stderr.contains("file-permissions"),
        "{}",
        strict.stderr
    );

    // A temp file left by a writer killed mid-write (an hour ago) holds secrets.
    let stale = root.join(".systemprompt/profiles/local/.secrets-dead1.tmp");
    std::fs::write(&stale, GOOD).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    let doctor = sp(root, &["doctor"]);
    assert!(doctor.stdout.contains("warn  modes"), "{}", doctor.stdout);
    assert!(
        doctor
            .stdout
            .contains(".secrets-dead1.tmp was left by a writer that died"),
        "{}",
        doctor.stdout
    );
    assert_eq!(
        mode(&root.join(SECRETS)),
        0o644,
        "doctor without --fix changes nothing"
    );

    let fixed = sp(root, &["doctor", "--fix", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&fixed.stdout).expect("JSON");
    let modes: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["area"] == "modes")
        .collect();
    assert_eq!(modes.len(), 3, "{v}");
    assert!(modes.iter().all(|c| c["status"] == "pass"), "{v}");
    assert_eq!(
        modes
            .iter()
            .filter(|c| c["message"].as_str().unwrap().contains("tightened to 0600"))
            .count(),
        2,
        "{v}"
    );
    assert!(
        !stale.exists(),
        "doctor --fix removed the dead writer's temp file"
    );
    assert_eq!(mode(&root.join(SECRETS)), 0o600);
    assert_eq!(mode(&root.join(".env")), 0o600);
    let again = sp(root, &["validate"]);
    assert!(
        !again.stderr.contains("group or others"),
        "{}",
        again.stderr
    );
    for out in [&out, &strict, &doctor, &fixed, &again] {
        assert!(!out.all().contains(JWT), "{out:?}");
    }
}

#[test]
fn doctor_reports_pass_warn_fail_with_fixes() {
    let dir = project(&[(SECRETS, GOOD)]);
    let root = dir.path();
    git(root, &["init", "-q"]);
    let out = sp(root, &["doctor"]);
    assert_eq!(out.code, 0, "warnings only: {out:?}");
    for line in [
        "pass  config",
        "pass  profiles  profile `local`: 3 keys, valid",
        "pass  modes",
        "warn  git       git does not ignore .systemprompt/profiles/local/secrets.json",
        "warn  keyring   turned off",
        "warn  token     no cloud token",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    assert!(out.stdout.contains("fix: "), "{}", out.stdout);

    // --fix adds the ignore line; a tracked file is a failure with the exact command.
    let fixed = sp(root, &["doctor", "--fix"]);
    assert!(fixed.stdout.contains("is now ignored"), "{}", fixed.stdout);
    assert!(
        std::fs::read_to_string(root.join(".systemprompt/.gitignore"))
            .unwrap()
            .contains("**/secrets.json")
    );
    git(root, &["add", "-f", SECRETS]);
    let tracked = sp(root, &["doctor"]);
    assert_eq!(tracked.code, 1, "{tracked:?}");
    assert!(tracked.stdout.contains("fail  git"), "{}", tracked.stdout);
    assert!(
        tracked
            .stdout
            .contains("rm --cached -- .systemprompt/profiles/local/secrets.json"),
        "{}",
        tracked.stdout
    );
    assert!(
        tracked.stderr.contains("doctor found 1 problem(s) to fix"),
        "{}",
        tracked.stderr
    );

    // A broken profile and an expired token are failures too.
    write(
        root,
        ".systemprompt/profiles/staging/secrets.json",
        "{\"jwt_secret\": \"x\",\n\"jwt_secret\": \"y\"}\n",
    );
    let expired = format!(
        "e30.{}.sig",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"exp":1000}"#
        )
    );
    let mut c = cmd(root);
    c.args(["doctor", "--format", "json"])
        .env("SYSTEMPROMPT_API_TOKEN", &expired);
    let bad = run(c);
    assert_eq!(bad.code, 1);
    let v: serde_json::Value = serde_json::from_str(&bad.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    let fails: Vec<String> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{} {}", c["area"], c["message"]))
        .collect();
    assert!(
        fails.iter().any(|f| f.contains("profile `staging`")),
        "{fails:?}"
    );
    assert!(
        fails.iter().any(|f| f.starts_with("\"token\"")),
        "{fails:?}"
    );
    assert!(!bad.all().contains(&expired), "the token is never printed");
    assert!(!bad.all().contains(JWT));
}

fn scan_repo() -> tempfile::TempDir {
    let dir = project(&[
        (SECRETS, GOOD),
        (".systemprompt/.gitignore", "**/secrets.json\n"),
        (
            "README.md",
            "# demo\n\nUse postgres://user:password@host:5432/db in docs.\n",
        ),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

fn scan(root: &Path, args: &[&str]) -> support::Out {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    let out = sp(root, &all);
    assert!(!out.all().contains(JWT), "a value was printed: {out:?}");
    assert!(
        !out.all()
            .contains("AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        "{out:?}"
    );
    assert!(!out.all().contains("panicked"), "{out:?}");
    out
}

#[test]
fn scan_finds_values_and_formats_by_file_and_line() {
    let dir = scan_repo();
    let root = dir.path();
    let clean = scan(root, &[]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(
        clean.stderr.contains("0 finding(s), 1 allowed"),
        "{}",
        clean.stderr
    );

    write(
        root,
        "config/app.env",
        &format!("# copied by mistake\nJWT_SECRET={JWT}\n"),
    );
    write(root, "src/client.rs", "// test\nconst KEY: &str = \"AIzaSyA1234567890abcdefghijklmnopqrstuv\";\nconst FAKE: &str = \"ghp_DEMOFAKEnotREAL0000000000000000000000\";\n");
    git(root, &["add", "config/app.env", "src/client.rs"]);
    let found = scan(root, &[]);
    assert_eq!(found.code, 1, "{found:?}");
    assert!(
        found.stderr.contains(
            "the value of `jwt_secret` (profile local) in 1 place (1 file): config/app.env:2"
        ),
        "{}",
        found.stderr
    );
    assert!(
        found
            .stderr
            .contains("a Google API key (gemini-api-key) in 1 place (1 file): src/client.rs:2"),
        "{}",
        found.stderr
    );
    assert!(
        !found.stderr.contains("client.rs:3"),
        "the FAKE key is allowed: {}",
        found.stderr
    );

    let json = scan(root, &["--format", "json"]);
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(v["findings"].as_array().unwrap().len(), 2, "{v}");
    assert!(
        v["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["allowed"].as_str().unwrap().contains("made up by hand")),
        "{v}"
    );

    let sarif = scan(root, &["--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().any(|r| r["ruleId"] == "secret-value"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "config/app.env"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 2));

    // Allow-listed by the manifest, with a reason.
    write(root, "Cargo.toml", "[package]\nname = \"tmp-project\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets.scan]\nallow = [{ path = \"src/**\", reason = \"made-up test keys\" }]\n");
    let allowed = scan(root, &["-v"]);
    assert_eq!(allowed.code, 1, "the jwt value is still found");
    assert!(
        allowed.stderr.contains("made-up test keys"),
        "{}",
        allowed.stderr
    );
    assert!(
        !allowed.stderr.contains("error: a Google API key"),
        "{}",
        allowed.stderr
    );
}

#[test]
fn scan_staged_and_history() {
    let dir = scan_repo();
    let root = dir.path();
    // Staged: only the index counts, not later edits in the work tree.
    write(root, "notes.txt", &format!("jwt {JWT}\n"));
    git(root, &["add", "notes.txt"]);
    write(root, "notes.txt", "clean now\n");
    let staged = scan(root, &["--staged"]);
    assert_eq!(staged.code, 1, "{staged:?}");
    assert!(
        staged
            .stderr
            .contains("the value of `jwt_secret` (profile local) in 1 place (1 file): notes.txt:1"),
        "{}",
        staged.stderr
    );
    let tree = scan(root, &[]);
    assert_eq!(tree.code, 0, "the work tree is clean: {tree:?}");

    // History: committed, then removed — only --history finds it, with the commit.
    write(root, "notes.txt", &format!("jwt {JWT}\n"));
    git(root, &["add", "notes.txt"]);
    git(root, &["commit", "-q", "-m", "oops"]);
    let oops = git(root, &["rev-parse", "HEAD"]).trim().to_owned();
    git(root, &["rm", "-q", "notes.txt"]);
    git(root, &["commit", "-q", "-m", "remove"]);
    assert_eq!(scan(root, &[]).code, 0);
    let history = scan(root, &["--history"]);
    assert_eq!(history.code, 1, "{history:?}");
    assert!(
        history
            .stderr
            .contains(&format!("notes.txt:1 (commit {})", &oops[..12])),
        "{}",
        history.stderr
    );
    let json = scan(root, &["--history", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["findings"][0]["commit"], oops.as_str());
}

#[test]
fn scan_outside_git_is_a_usage_error() {
    let dir = project(&[(SECRETS, GOOD)]);
    let out = scan(dir.path(), &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("not inside a git repository"),
        "{}",
        out.stderr
    );
}

#[test]
fn install_hook_blocks_a_commit_and_refuses_a_foreign_hook() {
    let dir = scan_repo();
    let root = dir.path();
    let out = scan(root, &["install-hook"]);
    assert_eq!(out.code, 0, "{out:?}");
    let hook = root.join(".git/hooks/pre-commit");
    assert_eq!(mode(&hook), 0o755);
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(
        script.contains("scan --staged --manifest-path Cargo.toml"),
        "{script}"
    );
    assert_eq!(
        scan(root, &["install-hook"]).code,
        0,
        "reinstalling our own hook is fine"
    );

    // The hook runs the real `cargo systemprompt-secrets` and stops a commit with a value.
    let bin_dir = support::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    write(root, "leak.txt", &format!("{JWT}\n"));
    git(root, &["add", "leak.txt"]);
    let commit = |msg: &str| {
        git_command(root)
            .args(["commit", "-q", "-m", msg])
            .env("PATH", &path)
            .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
            .output()
            .unwrap()
    };
    let blocked = commit("leak");
    assert!(!blocked.status.success(), "the hook must stop the commit");
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(
        stderr
            .contains("the value of `jwt_secret` (profile local) in 1 place (1 file): leak.txt:1"),
        "{stderr}"
    );
    assert!(!stderr.contains(JWT));
    git(root, &["rm", "-q", "--cached", "leak.txt"]);
    write(root, "fine.txt", "nothing secret\n");
    git(root, &["add", "fine.txt"]);
    assert!(
        commit("fine").status.success(),
        "a clean commit goes through"
    );

    // Someone else's hook is never overwritten.
    std::fs::write(&hook, "#!/bin/sh\nexec lint-staged\n").unwrap();
    let refused = scan(root, &["install-hook"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("was not written by cargo-systemprompt-secrets; nothing was changed"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nexec lint-staged\n"
    );
}

/// A tracked file larger than a scan piece (27 MB here) is read in pieces, not skipped: the value in
/// it is found, with the file's own line number.
#[test]
fn scan_reads_large_tracked_files_in_pieces() {
    let dir = scan_repo();
    let root = dir.path();
    let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit 0123456789\n";
    let lines = 27 * 1024 * 1024 / filler.len();
    let text = format!(
        "{}the jwt is {JWT} here\n{}",
        filler.repeat(lines),
        filler.repeat(100)
    );
    std::fs::write(root.join("big.txt"), &text).unwrap();
    git(root, &["add", "big.txt"]);
    git(root, &["commit", "-q", "-m", "big"]);
    let out = scan(root, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("(1 file): big.txt:{}\n", lines + 1)),
        "{}",
        out.stderr
    );
}

/// `rotate`, `import`, `copy` and `set --local` write fresh values: into a file git tracks they stop,
/// as `init` and `sync` do. A profile folder others may write to, and a secrets file of another
/// user, are pointed out by `validate`.
#[test]
fn writers_stop_on_tracked_files_and_loose_folders_are_pointed_out() {
    let dir = project(&[(SECRETS, GOOD), ("in.env", "NEW_KEY=value-0123456789\n")]);
    let root = dir.path();
    git(root, &["init", "-q"]);
    git(root, &["add", "-f", SECRETS]);
    let file = root.join(SECRETS);
    let before = snapshot(&file);
    for args in [
        &["rotate", "jwt_secret", "--yes"][..],
        &["import", "in.env", "--all"],
        &[
            "copy", "--from", "local", "--to", "local2", "--create", "--yes",
        ],
    ] {
        let out = sp(root, args);
        if args[0] == "copy" {
            // The target is a new, untracked file: copy goes ahead.
            assert_eq!(out.code, 0, "{args:?}: {out:?}");
            continue;
        }
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("is tracked by git"), "{}", out.stderr);
        assert_eq!(
            snapshot(&file),
            before,
            "{args:?} must not touch a tracked file"
        );
    }

    let loose = project(&[(SECRETS, GOOD)]);
    let folder = loose.path().join(".systemprompt/profiles/local");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = sp(loose.path(), &["validate"]);
    assert_eq!(out.code, 0, "an advisory: {out:?}");
    assert!(
        out.stderr.contains(
            "the folder .systemprompt/profiles/local can be written by group or others (mode 0777)"
        ),
        "{}",
        out.stderr
    );
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = sp(loose.path(), &["validate"]);
    assert!(
        !out.stderr.contains("can be written by group"),
        "{}",
        out.stderr
    );
}
