//! A warm `validate` starts no process (issue 27): the manifest cache answers for `cargo
//! metadata`, and whether git tracks the secrets file is cached against the index file's
//! identity. Checked with `strace -f -e trace=execve`; the cache follows the index when it
//! changes. (Speed itself is measured by the benchmarks, not here.)

mod support;

use std::path::Path;

use support::{cmd, git, project, run, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

fn validate(root: &Path, cache: &Path) -> Out {
    let mut c = cmd(root);
    c.args(["validate"])
        .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache);
    run(c)
}

/// The programs `validate` executes, as `strace` sees them (the first is the binary itself).
fn executed(root: &Path, cache: &Path) -> Vec<String> {
    let trace = tempfile::NamedTempFile::new().unwrap();
    let log = trace.path().to_string_lossy().into_owned();
    let mut c = support::through(
        root,
        "strace",
        &["-f", "-qq", "-e", "trace=execve", "-o", &log],
    );
    c.arg("validate")
        .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache);
    let out = c.output().expect("strace (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(trace.path())
        .unwrap()
        .lines()
        .filter(|l| l.contains("execve(") && !l.contains("= -1"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_warm_validate_starts_no_process_and_follows_the_index() {
    let p = project(&[(SECRETS, GOOD), (".gitignore", "/target\nsecrets.json\n")]);
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", ".gitignore", "Cargo.toml", "src"]);
    git(p.path(), &["commit", "-qm", "init"]);
    let cache = tempfile::tempdir().unwrap();
    // The index must be older than git's racy window before its answer is cached.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(validate(p.path(), cache.path()).code, 0);
    let execs = executed(p.path(), cache.path());
    assert_eq!(execs.len(), 1, "only the binary itself: {execs:#?}");

    // Tracking the file rewrites the index: the next run asks git again and warns.
    git(p.path(), &["add", "-f", SECRETS]);
    let out = validate(p.path(), cache.path());
    assert!(out.all().contains("is tracked by git"), "{out:?}");
    git(p.path(), &["rm", "-q", "--cached", SECRETS]);
    let out = validate(p.path(), cache.path());
    assert!(!out.all().contains("is tracked by git"), "{out:?}");
}
