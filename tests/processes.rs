//! Which processes the tool starts (issue 27), seen with `strace -f -e trace=execve`. A warm
//! `validate` starts none: the manifest cache answers for `cargo metadata`, and whether git
//! tracks the secrets file is cached against the index file's identity, which the cache follows
//! when it changes. `--all-profiles` asks git once; `run` execs its command once; `scan
//! --history` runs one `git log` for every finding. (Speed itself is measured by the benchmarks.)

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

/// Runs the binary with `args` and `env` under `strace -f -e trace=execve`: its output, and
/// every exec the process tree attempted (strace's lines).
fn traced(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, String) {
    let trace = tempfile::NamedTempFile::new().unwrap();
    let log = trace.path().to_string_lossy().into_owned();
    let mut c = support::through(
        root,
        "strace",
        &["-f", "-qq", "-e", "trace=execve", "-o", &log],
    );
    c.args(args).envs(env.iter().copied());
    let out = c.output().expect("strace (scripts/test.sh installs it)");
    (out, std::fs::read_to_string(trace.path()).unwrap())
}

/// The programs the binary executes with `args` and `env`, as `strace` sees them (the first is
/// the binary itself), once it succeeded.
fn execs(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let (out, trace) = traced(root, args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    trace
        .lines()
        .filter(|l| l.contains("execve(") && !l.contains("= -1"))
        .map(str::to_owned)
        .collect()
}

/// The programs `validate` executes (the first is the binary itself).
fn executed(root: &Path, cache: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    let cache = cache.to_string_lossy();
    execs(root, &all, &[("SYSTEMPROMPT_SECRETS_CACHE_DIR", &cache)])
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
    let execs = executed(p.path(), cache.path(), &[]);
    assert_eq!(execs.len(), 1, "only the binary itself: {execs:#?}");

    // Tracking the file rewrites the index: the next run asks git again and warns.
    git(p.path(), &["add", "-f", SECRETS]);
    let out = validate(p.path(), cache.path());
    assert!(out.all().contains("is tracked by git"), "{out:?}");
    git(p.path(), &["rm", "-q", "--cached", SECRETS]);
    let out = validate(p.path(), cache.path());
    assert!(!out.all().contains("is tracked by git"), "{out:?}");
}

#[test]
fn all_profiles_ask_git_once_for_every_profile() {
    let mut files = vec![(
        ".gitignore".to_owned(),
        "/target\nsecrets.json\n".to_owned(),
    )];
    for i in 0..40 {
        files.push((
            format!(".systemprompt/profiles/p{i:02}/secrets.json"),
            GOOD.to_owned(),
        ));
    }
    // One profile's file is tracked; a name with a pathspec character is taken literally.
    files.push((
        ".systemprompt/profiles/st*r/secrets.json".to_owned(),
        GOOD.to_owned(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = project(&refs);
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", ".gitignore", "Cargo.toml", "src"]);
    git(
        p.path(),
        &["add", "-f", ".systemprompt/profiles/p07/secrets.json"],
    );
    git(p.path(), &["commit", "-qm", "init"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let cache = tempfile::tempdir().unwrap();

    // Cold: one git process for all 41 profiles (before: one or two per profile).
    let execs = executed(p.path(), cache.path(), &["--all-profiles"]);
    let gits: Vec<&String> = execs.iter().filter(|l| l.contains("git")).collect();
    assert_eq!(gits.len(), 1, "{execs:#?}");
    // Warm: none.
    let execs = executed(p.path(), cache.path(), &["--all-profiles"]);
    assert_eq!(execs.len(), 1, "only the binary itself: {execs:#?}");

    let mut c = cmd(p.path());
    c.args(["validate", "--all-profiles"])
        .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache.path());
    let out = run(c);
    let all = out.all();
    let tracked: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("is tracked by git"))
        .collect();
    assert_eq!(tracked.len(), 1, "{out:?}");
    assert!(
        all.contains("git rm --cached -- .systemprompt/profiles/p07/secrets.json"),
        "{out:?}"
    );
}

#[test]
fn run_execs_its_command_once_not_once_per_path_entry() {
    // The kernel copies the whole environment on each exec attempt: a search along PATH by
    // exec made `run` cost (PATH entries) × (secrets). The command is found first, then run.
    let p = project(&[(SECRETS, GOOD)]);
    let path = format!(
        "/nonexistent/a:/nonexistent/b:/nonexistent/c:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let (out, text) = traced(p.path(), &["run", "--", "true"], &[("PATH", &path)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let attempts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("execve(") && l.contains("/true\", ["))
        .collect();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert!(!attempts[0].contains("= -1"), "{attempts:#?}");
    // The command still sees the name it was given as argv[0] (multi-call programs need it).
    assert!(attempts[0].contains("[\"true\"]"), "{attempts:#?}");
}

#[test]
fn scan_history_finds_a_secret_only_a_merge_brought_in_one_git_log() {
    // A value that no branch commit holds, only the merge commit (a conflict resolved by
    // hand): its introducing commit is the merge, found in the same single `git log` pass.
    let p = project(&[(SECRETS, GOOD), (".gitignore", "/target\nsecrets.json\n")]);
    let root = p.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "init"]);
    git(root, &["checkout", "-q", "-b", "side"]);
    support::write(root, "side.txt", "side\n");
    git(root, &["add", "side.txt"]);
    git(root, &["commit", "-qm", "side"]);
    git(root, &["checkout", "-q", "main"]);
    support::write(root, "main.txt", "main\n");
    git(root, &["add", "main.txt"]);
    git(root, &["commit", "-qm", "main"]);
    git(root, &["merge", "-q", "--no-commit", "side"]);
    let jwt = GOOD
        .split('"')
        .nth(3)
        .expect("GOOD's first value is jwt_secret's")
        .to_owned();
    support::write(root, "merged.txt", &format!("token {jwt}\n"));
    git(root, &["add", "merged.txt"]);
    git(root, &["commit", "-qm", "merge side"]);
    let merge = git(root, &["rev-parse", "HEAD"]).trim().to_owned();
    git(root, &["rm", "-q", "merged.txt"]);
    git(root, &["commit", "-qm", "remove"]);

    let (out, text) = traced(root, &["scan", "--history", "--format", "json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "merged.txt")
        .collect();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["commit"], merge.as_str(), "{v}");
    let logs = text
        .lines()
        .filter(|l| l.contains("execve(") && !l.contains("= -1") && l.contains("\"log\""))
        .count();
    assert_eq!(logs, 1, "one `git log` for every finding: {text}");
}

/// The programs a command executes besides the binary itself.
fn others(root: &Path, args: &[&str]) -> Vec<String> {
    execs(root, args, &[]).split_off(1)
}

#[test]
fn the_write_guard_asks_git_only_inside_a_repository() {
    // Outside a repository, a writer (`set`, `sync`, `pull`…) starts no git at all.
    let p = project(&[(SECRETS, GOOD)]);
    others(p.path(), &["set", "GUARDED=zero", "--local", "--yes"]); // the manifest cache, warmed
    let execs = others(p.path(), &["set", "GUARDED=one", "--local", "--yes"]);
    assert!(execs.is_empty(), "{execs:#?}");

    // Inside one, with the index settled: whether git tracks the file comes from the cached
    // answer, and one `check-ignore` judges the untracked file.
    std::fs::write(p.path().join(".gitignore"), "/target\nsecrets.json\n").unwrap();
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", ".gitignore", "Cargo.toml", "src"]);
    git(p.path(), &["commit", "-qm", "init"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    others(p.path(), &["set", "GUARDED=two", "--local", "--yes"]);
    let execs = others(p.path(), &["set", "GUARDED=three", "--local", "--yes"]);
    assert_eq!(execs.len(), 1, "{execs:#?}");
    assert!(execs[0].contains("check-ignore"), "{execs:#?}");

    // A tracked file still stops the writer, the index having changed.
    git(p.path(), &["add", "-f", SECRETS]);
    let mut c = cmd(p.path());
    c.args(["set", "GUARDED=four", "--local", "--yes"]);
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("is tracked by git"), "{out:?}");
}
