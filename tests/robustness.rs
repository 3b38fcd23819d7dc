//! Inputs that must get a clear error and change nothing (issue 25): key names too long to be a
//! key, writes that would leave a file the readers refuse, profile names with control
//! characters; and exports that other readers (python-dotenv, dotenvy, `PyYAML`) take as written.

mod support;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::{cmd, project, run, write, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

fn tool(root: &Path, args: &[&str]) -> Out {
    let mut c = cmd(root);
    c.arg("systemprompt-secrets").args(args);
    let out = run(c);
    assert!(!out.all().contains("panicked"), "{out:?}");
    out
}

#[test]
fn a_key_name_too_long_to_be_a_key_is_refused_not_a_panic() {
    let long = "k".repeat(70_000);
    let p = project(&[(
        SECRETS,
        &GOOD.replacen('{', &format!("{{\n  \"{long}\": \"v\","), 1),
    )]);
    for args in [&["list"][..], &["validate"], &["run", "--", "true"]] {
        let out = tool(p.path(), args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("invalid-key-name") && out.stderr.contains("70000 bytes long"),
            "{args:?}: {}",
            &out.stderr[..out.stderr.len().min(2000)]
        );
        assert!(out.stderr.len() < 4000, "the key is not printed whole");
    }
    // A writer does not write one either.
    let p = project(&[(SECRETS, GOOD)]);
    write(p.path(), "in.env", &format!("{}=value\n", "K".repeat(300)));
    let out = tool(p.path(), &["import", "in.env", "--all"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("300 bytes long") && out.stderr.contains("nothing was written"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
        GOOD
    );
}

#[test]
fn a_writer_refuses_to_leave_a_file_over_the_readers_limit() {
    // A compact file just under 1 MiB: written out again, two-space indented, it would be over.
    let mut doc = serde_json::Map::new();
    doc.insert(
        "jwt_secret".into(),
        "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ".into(),
    );
    doc.insert(
        "database_url".into(),
        "postgres://app:pw@db:5432/app".into(),
    );
    for i in 0..13_300 {
        doc.insert(
            format!("svc_{i:05}"),
            format!("value-{i:05}-{}", "x".repeat(50)).into(),
        );
    }
    let compact = serde_json::Value::Object(doc).to_string();
    assert!(
        compact.len() < 1024 * 1024 && compact.len() > 1_000_000,
        "{}",
        compact.len()
    );
    let p = project(&[(SECRETS, &compact)]);
    let out = tool(p.path(), &["rotate", "session_key", "--bytes", "24"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("over the 1048576 bytes (1 MiB) every reader accepts; nothing was written"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
        compact
    );

    // `edit`: an edit over the limit is not saved.
    let p = project(&[(SECRETS, GOOD)]);
    let editor = p.path().join("grow.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\npython3 -c \"import json,sys; d=json.load(open(sys.argv[1])); d['big']='x'*2000000; open(sys.argv[1],'w').write(json.dumps(d))\" \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = cmd(p.path());
    c.args(["systemprompt-secrets", "edit"])
        .env("EDITOR", &editor);
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("file-too-large") && !out.stderr.contains("Saved"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
        GOOD
    );
}

#[test]
fn profile_names_with_control_characters_are_refused() {
    let p = project(&[(SECRETS, GOOD)]);
    for name in ["bad\nname", "esc\u{1b}[31m", ".hidden", "a/b"] {
        let out = tool(p.path(), &["init", "--profile", name]);
        assert_eq!(out.code, 2, "{name:?}: {out:?}");
        assert!(out.stderr.contains("is not a profile name"), "{out:?}");
        assert!(!out.stderr.contains('\u{1b}'), "escaped: {out:?}");
        let out = tool(
            p.path(),
            &["copy", "--from", "local", "--to", name, "--create", "--yes"],
        );
        assert_eq!(out.code, 2, "{name:?}: {out:?}");
    }
    let folders: Vec<String> = std::fs::read_dir(p.path().join(".systemprompt/profiles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["local"], "nothing was created");
}

#[test]
fn a_dotenv_file_of_a_mebibyte_is_read_in_one_pass() {
    // 1 MiB of short lines (about 116,000): each entry's line used to be found by counting the
    // lines before it again, which took minutes. The bound only says "did not hang".
    let mut env = String::new();
    let mut i = 0;
    while env.len() < 1024 * 1024 - 20 {
        let _ = writeln!(env, "A{i}=1");
        i += 1;
    }
    env.push_str("BROKEN LINE\n");
    let p = project(&[(SECRETS, GOOD), (".env", &env)]);
    let started = std::time::Instant::now();
    let out = tool(p.path(), &["validate"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(".env:{}", i + 1)),
        "the bad line is named: {out:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}

/// Runs the command; fails (and kills it) if it has not finished within a minute: a hang.
fn finishes(mut c: std::process::Command) -> Out {
    let mut child = c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    let started = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("it hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().expect("output");
    Out {
        code: o.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn inputs_that_never_end_are_refused_not_read() {
    // A Cargo.lock that is a FIFO or a link to /dev/zero (git can commit a symlink), with a cold
    // manifest cache: the command finishes.
    for kind in ["fifo", "zero"] {
        let p = project(&[(SECRETS, GOOD)]);
        let lock = p.path().join("Cargo.lock");
        if kind == "fifo" {
            assert!(std::process::Command::new("mkfifo")
                .arg(&lock)
                .status()
                .unwrap()
                .success());
        } else {
            std::os::unix::fs::symlink("/dev/zero", &lock).unwrap();
        }
        let cache = tempfile::tempdir().unwrap();
        let mut c = cmd(p.path());
        c.args(["systemprompt-secrets", "validate"])
            .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache.path());
        let out = finishes(c);
        assert_eq!(out.code, 0, "{kind}: {out:?}");
    }
    // An editor that puts /dev/zero or a FIFO where the private copy was: nothing is saved.
    for swap in ["ln -sf /dev/zero \"$1\"", "rm -f \"$1\" && mkfifo \"$1\""] {
        let p = project(&[(SECRETS, GOOD)]);
        let editor = p.path().join("swap.sh");
        std::fs::write(&editor, format!("#!/bin/sh\n{swap}\n")).unwrap();
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = cmd(p.path());
        c.args(["systemprompt-secrets", "edit"])
            .env("EDITOR", &editor);
        let out = finishes(c);
        assert_eq!(out.code, 1, "{swap}: {out:?}");
        assert!(out.stderr.contains("not a regular file"), "{swap}: {out:?}");
        assert_eq!(
            std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
            GOOD
        );
    }
}

#[test]
fn modes_are_explicit_whatever_the_umask() {
    let p = project(&[]);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("fresh");
    let mut c = std::process::Command::new("sh");
    c.current_dir(p.path())
        .args(["-c", "umask 000; exec \"$0\" systemprompt-secrets init"])
        .arg(support::bin())
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", &cache_dir)
        .env("CARGO_TERM_COLOR", "never");
    let out = run(c);
    assert_eq!(out.code, 0, "{out:?}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dot = p.path().join(".systemprompt");
    for (path, want) in [
        (dot.join(".gitignore"), 0o644),
        (p.path().join(".gitignore"), 0o644),
        (dot.clone(), 0o700),
        (dot.join("profiles/local"), 0o700),
        (p.path().join(SECRETS), 0o600),
        (cache_dir.clone(), 0o700),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

/// Runs a Python reader on `file` and returns the map it read (python3 with python-dotenv and
/// `PyYAML`, which scripts/test.sh installs).
fn python_reads(script: &str, file: &Path) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python3 (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python3")
}

#[test]
fn dotenv_and_k8s_exports_mean_the_same_to_other_readers() {
    let values = [
        ("jwt_secret", "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        ("database_url", "postgres://app:pw@db:5432/app"),
        ("with_dollars", "pa$word$HOME$ ${not:closed $"),
        ("with_hash", "abc # not a comment"),
        ("with_quote", "it's \"quoted\""),
        ("multi_line", "line one\nline two"),
        ("backslashes", "C:\\path\\\\share\\x"),
        ("one_backslash", "a\\b\\tc"),
        ("unicode", "naïve–✓"),
        ("yaml_breaks", "a\u{85}b\u{2028}c\u{2029}d\u{7f}e\u{9f}f"),
        ("empty_ok", " leading and trailing "),
    ];
    let doc: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    let p = project(&[(
        SECRETS,
        &serde_json::to_string_pretty(&serde_json::Value::Object(doc.clone())).unwrap(),
    )]);
    for (format, file) in [
        ("json", "out.json"),
        ("dotenv", "out.env"),
        ("k8s-secret", "out.yaml"),
    ] {
        let mut args = vec!["export", "--format", format, "-o", file];
        if format == "k8s-secret" {
            args.push("--all-keys");
        }
        let out = tool(p.path(), &args);
        assert_eq!(out.code, 0, "{format}: {out:?}");
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(truth.as_object().unwrap().len(), values.len());

    // python-dotenv, with its default interpolation.
    let python = python_reads(
        "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))",
        &p.path().join("out.env"),
    );
    assert_eq!(
        python, truth,
        "python-dotenv reads the dotenv export as written"
    );
    // dotenvy, as Rust apps (and this tool's `import`) read it.
    let rust: serde_json::Map<String, serde_json::Value> =
        dotenvy::from_path_iter(p.path().join("out.env"))
            .unwrap()
            .map(|item| {
                let (k, v) = item.expect("dotenvy parses every line");
                (k, v.into())
            })
            .collect();
    assert_eq!(serde_json::Value::Object(rust), truth, "dotenvy");

    // PyYAML, a YAML 1.1 reader, takes the k8s Secret's values as written.
    let yaml = python_reads(
        "import yaml, json, sys; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))['stringData']))",
        &p.path().join("out.yaml"),
    );
    assert_eq!(yaml, serde_json::Value::Object(doc));

    // A value no dotenv spelling carries alike is refused, by name, and nothing is written.
    for (odd, why) in [
        ("it's $5", "holds a `$` and also a quote"),
        ("${HOME}", "holds `${…}`"),
        ("ends\\", "ends in a backslash"),
        ("a\rb", "holds a carriage return"),
    ] {
        let doc = serde_json::json!({"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "database_url": "postgres://app:pw@db:5432/app", "odd": odd});
        let p = project(&[(SECRETS, &doc.to_string())]);
        let out = tool(p.path(), &["export", "-o", "out.env"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains(&format!("the value of ODD {why}"))
                && out.stderr.contains("nothing was written"),
            "{odd:?}: {out:?}"
        );
        assert!(!p.path().join("out.env").exists());
    }
}
