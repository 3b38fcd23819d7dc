//! Everyday workflows through the binary: `edit` with a scripted `$EDITOR`, `generate`, `rotate`,
//! `import`, `export` and `copy`.

mod support;

use std::path::Path;

use support::{cmd, project, run, write, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const PROFILE_DIR: &str = ".systemprompt/profiles/local";

fn sp(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = cmd(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

/// An editor script: `body` runs with `$1` = the file being edited.
fn editor(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path.display().to_string()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(".secrets-"))
        .collect()
}

#[test]
fn edit_valid_invalid_unchanged_concurrent_and_killed() {
    let p = project(&[(SECRETS, GOOD)]);
    let secrets = p.path().join(SECRETS);
    let original = std::fs::read_to_string(&secrets).unwrap();

    // A valid edit: one key changed, one added; names only in the output.
    let valid = editor(p.path(), "valid.sh", "sed -i 's/postgres:\\/\\/app:pw@db/postgres:\\/\\/app:newpw@db/' \"$1\"\nsed -i 's/^}/  ,\"extra_key\": \"CANARY-added-value\"\\n}/' \"$1\"");
    let out = sp(p.path(), &["edit"], &[("EDITOR", &valid)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("added: extra_key") && out.stderr.contains("changed: database_url"),
        "{}",
        out.stderr
    );
    assert!(
        !out.all().contains("CANARY") && !out.all().contains("newpw"),
        "{out:?}"
    );
    assert!(std::fs::read_to_string(&secrets)
        .unwrap()
        .contains("CANARY-added-value"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(leftovers(&p.path().join(PROFILE_DIR)).is_empty());
    std::fs::write(&secrets, &original).unwrap();

    // An invalid edit without a terminal is discarded, non-zero, file untouched.
    let invalid = editor(
        p.path(),
        "invalid.sh",
        "printf '{\"jwt_secret\": ' > \"$1\"",
    );
    let out = sp(p.path(), &["edit"], &[("VISUAL", &invalid)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("invalid-json") && out.stderr.contains("discarded"),
        "{}",
        out.stderr
    );
    // The findings name the secrets file (at the edit's lines), never the private copy that is
    // gone once `edit` ends.
    assert!(
        out.stderr.contains("in your edit of")
            && out
                .stderr
                .contains("--> .systemprompt/profiles/local/secrets.json"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(".secrets-"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&secrets).unwrap(), original);
    assert!(leftovers(&p.path().join(PROFILE_DIR)).is_empty());

    // No change.
    let out = sp(p.path(), &["edit"], &[("EDITOR", "true")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("no changes"), "{}", out.stderr);

    // Someone changes the file while the editor is open: rejected, the edit is kept for the user.
    let concurrent = editor(
        p.path(),
        "concurrent.sh",
        &format!("printf '{{\"jwt_secret\": \"someone-else-changed-this-0123456789abcd\"}}' > '{}'\nsed -i 's/app:pw@db/app:mine@db/' \"$1\"", secrets.display()),
    );
    let out = sp(p.path(), &["edit"], &[("EDITOR", &concurrent)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("changed on disk while the editor was open"),
        "{}",
        out.stderr
    );
    let kept = leftovers(&p.path().join(PROFILE_DIR));
    assert_eq!(kept.len(), 1, "the user's work stays in the temp file");
    assert!(
        out.stderr.contains(&kept[0]),
        "the message names it: {}",
        out.stderr
    );
    assert!(std::fs::read_to_string(&secrets)
        .unwrap()
        .contains("someone-else"));
    std::fs::remove_file(p.path().join(PROFILE_DIR).join(&kept[0])).unwrap();
    std::fs::write(&secrets, &original).unwrap();

    // The editor is killed: nothing changes, nothing is left behind.
    let killed = editor(p.path(), "killed.sh", "echo '{}' > \"$1\"; kill -9 $$");
    let out = sp(p.path(), &["edit"], &[("EDITOR", &killed)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(std::fs::read_to_string(&secrets).unwrap(), original);
    assert!(leftovers(&p.path().join(PROFILE_DIR)).is_empty());
}

#[test]
fn generate_and_rotate() {
    let p = project(&[(SECRETS, GOOD)]);
    let a = sp(p.path(), &["generate"], &[]);
    let b = sp(p.path(), &["generate"], &[]);
    assert_eq!(a.stdout.trim().len(), 64, "48 bytes, base64");
    assert_ne!(a.stdout, b.stdout);
    let hex = sp(
        p.path(),
        &["generate", "--bytes", "16", "--encoding", "hex"],
        &[],
    );
    assert_eq!(hex.stdout.trim().len(), 32);

    let before = std::fs::read_to_string(p.path().join(SECRETS)).unwrap();
    let old: serde_json::Value = serde_json::from_str(&before).unwrap();
    let old_jwt = old["jwt_secret"].as_str().unwrap().to_owned();
    let mut seen = vec![old_jwt.clone()];
    for _ in 0..2 {
        let out = sp(p.path(), &["rotate", "jwt_secret", "--yes"], &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stderr.contains("Rotated") && out.stderr.contains("stops verifying"),
            "{}",
            out.stderr
        );
        let now: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap())
                .unwrap();
        let jwt = now["jwt_secret"].as_str().unwrap().to_owned();
        assert!(!seen.contains(&jwt), "a different value each time");
        for s in &seen {
            assert!(
                !out.all().contains(s.as_str()),
                "no old value in the output"
            );
        }
        assert!(!out.all().contains(&jwt), "nor the new one");
        seen.push(jwt);
        assert_eq!(
            now["database_url"], old["database_url"],
            "other keys untouched"
        );
    }
    assert_eq!(
        sp(p.path(), &["validate"], &[]).code,
        0,
        "the rotated value validates"
    );
    let out = sp(p.path(), &["rotate", "openai"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("`openai` is issued by its provider; `rotate` cannot make one"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["rotate", "session_key", "--bytes", "32"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn import_env_example_naming_and_settings() {
    let p = project(&[
        (SECRETS, "{\"jwt_secret\": \"existing-jwt-secret-value-0123456789abcdef\"}"),
        (
            ".env.example",
            "ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYzAA\nOPENAI_API_KEY=\nGEMINI_API_KEY=\nJWT_SECRET=imported-jwt-secret-value-0123456789abcdefgh\nDATABASE_URL=postgres://u:p@localhost:5432/app\nHTTP_PORT=8080\nSTRIPE_WEBHOOK_SECRET=whsec_CANARY\n",
        ),
    ]);
    let out = sp(p.path(), &["import", ".env.example"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("left out settings") && out.stderr.contains("HTTP_PORT"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("kept the existing values of jwt_secret"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("CANARY"), "{out:?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert!(v["anthropic"]
        .as_str()
        .unwrap()
        .starts_with("sk-ant-api03-"));
    assert_eq!(
        v["jwt_secret"], "existing-jwt-secret-value-0123456789abcdef",
        "never overwritten without --overwrite"
    );
    assert_eq!(v["stripe_webhook_secret"], "whsec_CANARY");
    assert!(v.get("http_port").is_none() && v.get("openai").is_none());

    let out = sp(
        p.path(),
        &["import", ".env.example", "--overwrite", "--all"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(
        v["jwt_secret"],
        "imported-jwt-secret-value-0123456789abcdefgh"
    );
    assert_eq!(v["http_port"], "8080");

    let out = sp(
        p.path(),
        &["import", "--from-env"],
        &[
            ("GEMINI_API_KEY", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
            ("UNRELATED_SETTING", "x"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(v["gemini"], "AIzaSyA-1234567890abcdefghijklmnopqrstu");
    assert!(v.get("unrelated_setting").is_none() && v.get("path").is_none());
}

#[test]
fn export_formats_terminal_guard_and_private_files() {
    let p = project(&[(SECRETS, GOOD)]);
    let out = sp(p.path(), &["export", "--format", "dotenv"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("JWT_SECRET='Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ'"),
        "{}",
        out.stdout
    );
    let json = sp(p.path(), &["export", "--format", "json", "--keys"], &[]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["database_url"], "postgres://app:pw@db:5432/app");
    let shell = sp(p.path(), &["export", "--format", "shell"], &[]);
    assert!(
        shell.stdout.contains("export OPENAI_API_KEY='sk-"),
        "{}",
        shell.stdout
    );

    let out = sp(
        p.path(),
        &["export", "--format", "dotenv", "-o", "out.env"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.all().contains("Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(p.path().join("out.env"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let again = sp(
        p.path(),
        &["export", "--format", "dotenv", "-o", "out.env"],
        &[],
    );
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(
        sp(
            p.path(),
            &["export", "--format", "dotenv", "-o", "out.env", "--force"],
            &[]
        )
        .code,
        0
    );

    // A terminal without --reveal is refused (stdout on a pseudo-terminal, through `script`).
    let tty = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} export --format dotenv", support::bin().display()),
            "/dev/null",
        ])
        .current_dir(p.path())
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&tty.stdout);
    assert!(
        text.contains("refusing to print secret values to a terminal"),
        "{text}"
    );
    assert!(
        !text.contains("Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        "{text}"
    );
}

#[test]
fn copy_between_profiles() {
    let p = project(&[
        (SECRETS, GOOD),
        (
            ".systemprompt/profiles/staging/secrets.json",
            "{\"jwt_secret\": \"staging-jwt-secret-value-0123456789abcdef\"}",
        ),
    ]);
    let out = sp(
        p.path(),
        &["copy", "--from", "local", "--to", "staging"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("copy: database_url, openai")
            && out.stderr.contains("keep (exists): jwt_secret"),
        "{}",
        out.stderr
    );
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.path().join(".systemprompt/profiles/staging/secrets.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["jwt_secret"], "staging-jwt-secret-value-0123456789abcdef");
    assert_eq!(v["database_url"], "postgres://app:pw@db:5432/app");

    write(p.path(), ".systemprompt/profiles/production/.keep", "");
    let out = sp(
        p.path(),
        &[
            "copy",
            "--from",
            "local",
            "--to",
            "production",
            "jwt_secret",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "a protected target needs a yes: {out:?}");
    assert!(!p
        .path()
        .join(".systemprompt/profiles/production/secrets.json")
        .exists());
    let out = sp(
        p.path(),
        &[
            "copy",
            "--from",
            "local",
            "--to",
            "production",
            "jwt_secret",
            "--yes",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("missing-required-key"),
        "the target is validated afterwards: {}",
        out.stderr
    );
}

#[test]
fn github_env_masks_reach_only_the_runner() {
    let p = project(&[(SECRETS, GOOD)]);
    // Outside GitHub Actions no ::add-mask:: line is printed (each holds a value).
    let gh = sp(p.path(), &["export", "--format", "github-env"], &[]);
    assert!(gh.stdout.contains("JWT_SECRET<<EOF_"), "{}", gh.stdout);
    assert!(!gh.all().contains("::add-mask::"), "{gh:?}");
    let gh = sp(
        p.path(),
        &["export", "--format", "github-env", "-o", "gh.env"],
        &[],
    );
    assert!(!gh.all().contains("::add-mask::"), "{gh:?}");
    // In Actions: to the runner on stderr when the body is on stdout (`>> "$GITHUB_ENV"` gets only
    // the body), on stdout when the body goes to a file.
    let actions = [("GITHUB_ACTIONS", "true")];
    let gh = sp(p.path(), &["export", "--format", "github-env"], &actions);
    assert!(!gh.stdout.contains("::add-mask::"), "{}", gh.stdout);
    assert!(
        gh.stderr
            .contains("::add-mask::Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        "{}",
        gh.stderr
    );
    let gh = sp(
        p.path(),
        &["export", "--format", "github-env", "-o", "gh2.env"],
        &actions,
    );
    assert!(
        gh.stdout
            .contains("::add-mask::Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        "{}",
        gh.stdout
    );
}

/// `edit` ended by SIGTERM or SIGHUP (a `kill`, a closed terminal) stops the editor, removes its
/// private copy and changes nothing; `doctor` reports a copy kept after a conflict.
#[test]
fn edit_stopped_by_a_signal_leaves_no_copy() {
    let p = project(&[(SECRETS, GOOD)]);
    let secrets = p.path().join(SECRETS);
    let slow = editor(p.path(), "slow.sh", "echo '{}' > \"$1\"; exec sleep 30");
    for signal in ["-TERM", "-HUP"] {
        let mut c = support::cmd(p.path());
        c.arg("edit")
            .env("EDITOR", &slow)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = c.spawn().unwrap();
        // Wait for the private copy to appear, then signal the edit process (not the editor).
        let dir = p.path().join(PROFILE_DIR);
        let started = std::time::Instant::now();
        while leftovers(&dir).is_empty() && started.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{signal}"
        );
        assert_eq!(out.status.code(), Some(143), "{signal}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("stopped by a signal"),
            "{out:?}"
        );
        assert_eq!(std::fs::read_to_string(&secrets).unwrap(), GOOD);
        assert!(
            leftovers(&dir).is_empty(),
            "{signal}: {:?}",
            leftovers(&dir)
        );
    }
    // A kept copy (as after a conflict) is reported by doctor.
    support::write(
        p.path(),
        &format!("{PROFILE_DIR}/.secrets-edit-kept.json"),
        GOOD,
    );
    let out = sp(p.path(), &["doctor"], &[]);
    assert!(
        out.stderr
            .contains(".secrets-edit-kept.json is a copy of an `edit`")
            || out
                .stdout
                .contains(".secrets-edit-kept.json is a copy of an `edit`"),
        "{out:?}"
    );
}
