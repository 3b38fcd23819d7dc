//! The build-script API end to end: a real crate whose `build.rs` calls
//! `systemprompt_secrets::build::check().run()`, built with the real `cargo`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{repo, write};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

struct Built {
    code: i32,
    stderr: String,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() == "target" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn cargo_build(dir: &Path, target: &Path, env: &[(&str, &str)]) -> Built {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(dir)
        .args(["build", "--offline", "-v"])
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never");
    for name in support::SCRUB {
        c.env_remove(name);
    }
    c.env_remove("SYSTEMPROMPT_SECRETS_SKIP");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    Built {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                hits.push(p);
            }
        }
    }
    hits
}

#[test]
fn build_script_fails_on_bad_secrets_reruns_on_changes_and_embeds_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("crate");
    std::fs::create_dir_all(&dir).unwrap();
    copy_dir(&repo().join("examples/build-check"), &dir);
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../..\"",
            &format!("path = {:?}", repo().display().to_string()),
        );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let target = work.path().join("target");
    // Built at run time so that the literal is in no file of this repository's target/.
    let canary = format!("CANARY-{}-build", std::process::id());

    // 0. The example as a fresh clone has it (git checks files out 0644) builds without a word.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(SECRETS), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    let fresh = cargo_build(&dir, &target, &[]);
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert!(
        !fresh.stderr.contains("warning:") && !fresh.stderr.contains("warning["),
        "{}",
        fresh.stderr
    );

    // 1. An invalid secret fails the build, and cargo shows the finding (never the value).
    write(
        &dir,
        SECRETS,
        &format!("{{\"jwt_secret\": \"{canary}\", \"database_url\": \"postgres://a:b@h:5432/d\"}}"),
    );
    let first = cargo_build(&dir, &target, &[]);
    assert_ne!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("jwt-secret-too-short"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("jwt_secret"), "{}", first.stderr);
    assert!(!first.stderr.contains(&canary), "{}", first.stderr);

    // 2. Fixing the file re-runs the script and the build succeeds.
    let good = format!(
        "{{\"jwt_secret\": \"example-FAKE-jwt-secret-not-for-real-use-5c1d8e2b\", \"database_url\": \"postgres://a:b@h:5432/d\", \"canary_key\": \"{canary}\"}}"
    );
    write(&dir, SECRETS, &good);
    let fixed = cargo_build(&dir, &target, &[]);
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert!(
        fixed.stderr.contains("Running `") && fixed.stderr.contains("build-script-build"),
        "the script ran again: {}",
        fixed.stderr
    );

    // 3. A no-op rebuild does not run it.
    let noop = cargo_build(&dir, &target, &[]);
    assert_eq!(noop.code, 0, "{}", noop.stderr);
    assert!(
        noop.stderr.contains("Fresh build-check-example"),
        "{}",
        noop.stderr
    );

    // 4. Changing SYSTEMPROMPT_PROFILE re-runs it (here: to a profile that fails).
    write(
        &dir,
        ".systemprompt/profiles/broken/secrets.json",
        "{\"jwt_secret\": \"short\"}",
    );
    let other = cargo_build(&dir, &target, &[("SYSTEMPROMPT_PROFILE", "broken")]);
    assert_ne!(other.code, 0, "{}", other.stderr);
    assert!(
        other.stderr.contains("profile `broken`"),
        "{}",
        other.stderr
    );
    let back = cargo_build(&dir, &target, &[]);
    assert_eq!(back.code, 0, "{}", back.stderr);

    // 5. No value anywhere in the build output.
    let hits = files_containing(&target, canary.as_bytes());
    assert!(hits.is_empty(), "the canary was found in {hits:?}");
}
