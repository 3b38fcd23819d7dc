//! Local writes through the binary: two writers of the same profile at once never lose an update
//! (the folder lock is held from the read to the rename), and a write never replaces anything but
//! a regular file, nor writes through a symlink to a file that is not a secrets file.
// Reason: the figures (runs, lost updates) are printed for the closing note of the issue.
#![allow(clippy::print_stderr)]

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{cmd, project, run, write};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const START: &str = r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
  "database_url": "postgres://app:pw@db:5432/app",
  "openai": "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
  "key_a": "old-a-0123456789abcdef",
  "key_b": "old-b-0123456789abcdef"
}
"#;
const RUNS: usize = 25;

fn spawn(root: &Path, args: &[&str]) -> Child {
    let mut c = cmd(root);
    c.args(args)
        .arg("-q")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c.spawn().expect("start a writer")
}

fn values(root: &Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(root.join(SECRETS)).expect("read");
    serde_json::from_str::<serde_json::Value>(&text)
        .expect("the file parses after every pair")
        .as_object()
        .cloned()
        .expect("an object")
}

/// Runs `a` and `b` at once, `RUNS` times from the same start; returns how many runs lost one of
/// the two updates, as judged by `landed`.
fn pairs(
    root: &Path,
    a: &[&str],
    b: &[&str],
    landed: impl Fn(&serde_json::Map<String, serde_json::Value>) -> (bool, bool),
) -> usize {
    let mut lost = 0;
    for _ in 0..RUNS {
        write(root, SECRETS, START);
        let (mut x, mut y) = (spawn(root, a), spawn(root, b));
        let (sx, sy) = (x.wait().unwrap(), y.wait().unwrap());
        let mut err = String::new();
        for child in [&mut x, &mut y] {
            use std::io::Read as _;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
        }
        assert!(
            sx.success() && sy.success(),
            "both writers succeed by taking turns: {err}"
        );
        let (ga, gb) = landed(&values(root));
        lost += usize::from(!(ga && gb));
    }
    lost
}

#[test]
fn concurrent_writers_of_one_profile_lose_no_update() {
    let p = project(&[(SECRETS, START)]);
    let root = p.path();

    let changed = |m: &serde_json::Map<String, serde_json::Value>, key: &str, old: &str| {
        m.get(key)
            .and_then(|v| v.as_str())
            .is_some_and(|v| v != old)
    };
    let lost_rotate = pairs(
        root,
        &["rotate", "key_a", "--bytes", "24"],
        &["rotate", "key_b", "--bytes", "24"],
        |m| {
            (
                changed(m, "key_a", "old-a-0123456789abcdef"),
                changed(m, "key_b", "old-b-0123456789abcdef"),
            )
        },
    );

    write(root, "a.env", "IMPORTED_A=value-a-0123456789\n");
    write(root, "b.env", "IMPORTED_B=value-b-0123456789\n");
    let lost_import = pairs(
        root,
        &["import", "a.env", "--all", "--no-env"],
        &["import", "b.env", "--all", "--no-env"],
        |m| (m.contains_key("imported_a"), m.contains_key("imported_b")),
    );

    let lost_mixed = pairs(
        root,
        &["rotate", "key_a", "--bytes", "24"],
        &["import", "b.env", "--all", "--no-env"],
        |m| {
            (
                changed(m, "key_a", "old-a-0123456789abcdef"),
                m.contains_key("imported_b"),
            )
        },
    );
    eprintln!(
        "concurrent writers: {RUNS} pairs each; lost updates: rotate+rotate {lost_rotate}, import+import {lost_import}, rotate+import {lost_mixed}"
    );
    assert_eq!((lost_rotate, lost_import, lost_mixed), (0, 0, 0));
    let leftovers: Vec<_> = std::fs::read_dir(root.join(".systemprompt/profiles/local"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers,
        ["secrets.json"],
        "no lock or temp file is left behind"
    );
}

#[test]
fn a_writer_waits_for_the_lock_and_then_gives_up_clearly() {
    let p = project(&[(SECRETS, START)]);
    let dir = p.path().join(".systemprompt/profiles/local");
    // Another process holds the folder's lock (as an `edit` about to save would).
    let holder = std::process::Command::new("flock")
        .arg(&dir)
        .args(["sleep", "30"])
        .spawn();
    let Ok(mut holder) = holder else {
        panic!("`flock` is required (util-linux)");
    };
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let mut c = cmd(p.path());
    c.args(["rotate", "key_a", "--bytes", "24"]);
    let out = run(c);
    let took = started.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("another writer has been changing")
            && out.stderr.contains("nothing was changed"),
        "{}",
        out.stderr
    );
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(60),
        "{took:?}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
        START
    );
}

#[test]
fn writes_never_replace_special_files_or_write_through_foreign_links() {
    use std::os::unix::fs::FileTypeExt;
    let p = project(&[(SECRETS, START)]);
    let root = p.path();
    let fifo = root.join("out.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for target in [fifo.to_str().unwrap(), "/dev/null"] {
        let started = Instant::now();
        let mut c = cmd(root);
        c.args(["export", "--format", "dotenv", "-o", target, "--force"]);
        let out = run(c);
        assert_eq!(out.code, 1, "{target}: {out:?}");
        assert!(
            out.stderr.contains("not a regular file")
                && out.stderr.contains(target.rsplit('/').next().unwrap()),
            "{}",
            out.stderr
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "refused, not blocked"
        );
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    // secrets.json a symlink to a file outside the project that is not a secrets file.
    let outside = tempfile::tempdir().unwrap();
    let foreign = outside.path().join("notes.txt");
    std::fs::write(&foreign, "my notes\n").unwrap();
    let secrets = root.join(SECRETS);
    std::fs::remove_file(&secrets).unwrap();
    std::os::unix::fs::symlink(&foreign, &secrets).unwrap();
    for args in [
        &["rotate", "key_a", "--bytes", "24"][..],
        &["init", "--force"],
        &["import", "--from-env", "--all"],
    ] {
        let mut c = cmd(root);
        c.args(args).env("SOME_KEY", "value-0123456789");
        let out = run(c);
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        assert!(!out.stderr.contains("panicked"), "{out:?}");
    }
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "my notes\n");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_ne!(
            std::fs::metadata(&foreign).unwrap().permissions().mode() & 0o777,
            0o600,
            "not chmod-ed either"
        );
    }
    let mut c = cmd(root);
    c.args(["init", "--force"]);
    let out = run(c);
    assert!(
        out.stderr.contains("is a symlink to") && out.stderr.contains("not a secrets file"),
        "{}",
        out.stderr
    );

    // A symlink to a real secrets file elsewhere is followed, and the link stays.
    let real = outside.path().join("secrets.json");
    std::fs::write(&real, START).unwrap();
    std::fs::remove_file(&secrets).unwrap();
    std::os::unix::fs::symlink(&real, &secrets).unwrap();
    let mut c = cmd(root);
    c.args(["rotate", "key_a", "--bytes", "24"]);
    assert_eq!(run(c).code, 0);
    assert!(std::fs::symlink_metadata(&secrets)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_ne!(std::fs::read_to_string(&real).unwrap(), START);

    // init --force over a plain text file: refused, the file kept.
    std::fs::remove_file(&secrets).unwrap();
    std::fs::write(&secrets, "not json at all\n").unwrap();
    let mut c = cmd(root);
    c.args(["init", "--force"]);
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("holds something else"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&secrets).unwrap(),
        "not json at all\n"
    );
}

#[test]
fn reads_refuse_special_files_at_once_and_name_them() {
    let p = project(&[(SECRETS, START)]);
    let root = p.path();
    let fifo = root.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let check = |args: &[&str], setup: &dyn Fn(), words: &[&str]| {
        setup();
        let started = Instant::now();
        let mut c = cmd(root);
        c.args(args);
        let out = run(c);
        let took = started.elapsed();
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        for w in words {
            assert!(out.stderr.contains(w), "{args:?}: `{w}` in {}", out.stderr);
        }
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        assert!(took < Duration::from_secs(60), "{args:?} took {took:?}");
    };
    let secrets = root.join(SECRETS);
    let yaml = root.join(".systemprompt/profiles/local/profile.yaml");
    // secrets.json pointed at /dev/zero by secrets_path: refused, not read forever.
    check(
        &["validate"],
        &|| std::fs::write(&yaml, "secrets:\n  secrets_path: /dev/zero\n").unwrap(),
        &[
            "a character device, not a regular file",
            "not-a-regular-file",
        ],
    );
    std::fs::remove_file(&yaml).unwrap();
    // secrets.json itself a FIFO: refused, not waited on.
    check(
        &["list"],
        &|| {
            std::fs::remove_file(&secrets).unwrap();
            std::os::unix::fs::symlink(&fifo, &secrets).unwrap();
        },
        &["a FIFO (named pipe), not a regular file"],
    );
    std::fs::remove_file(&secrets).unwrap();
    write(root, SECRETS, START);
    // profile.yaml a link to /dev/zero.
    check(
        &["validate"],
        &|| std::os::unix::fs::symlink("/dev/zero", &yaml).unwrap(),
        &["profile.yaml", "a character device"],
    );
    std::fs::remove_file(&yaml).unwrap();
    // --env-file and import of /dev/zero and of a FIFO.
    for bad in ["/dev/zero", fifo.to_str().unwrap()] {
        check(
            &["validate", "--env-file", bad],
            &|| {},
            &["not a regular file"],
        );
        check(&["import", bad], &|| {}, &["not a regular file"]);
    }
    // A workspace .env that is a FIFO is an error, not silently nothing; a folder (a virtualenv)
    // is skipped, and `explain` says which.
    let env = root.join(".env");
    check(
        &["validate"],
        &|| std::os::unix::fs::symlink(&fifo, &env).unwrap(),
        &[".env", "a FIFO (named pipe)"],
    );
    std::fs::remove_file(&env).unwrap();
    std::fs::create_dir(&env).unwrap();
    let mut c = cmd(root);
    c.args(["explain", "openai"]);
    let out = run(c);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(".env (a folder: skipped)"),
        "{}",
        out.stdout
    );
}
