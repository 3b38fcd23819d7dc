//! One canary in every layer — secrets.json, `.env`, the process environment, the OS-keyring cache
//! (real kernel keyutils), the cloud contract server and a real OpenBao — then every command, with
//! `-v`, `-vv`, `RUST_LOG=trace`, `--format json|github|sarif`, `--dry-run` and every error path
//! (bad token, server down, CAS conflict, invalid file, failing child). The canary must be in no
//! byte of stdout or stderr (except `get --reveal`), and in no file left behind except the secrets
//! files themselves (0600) and an explicit `export -o`.
//!
//! The test re-runs itself inside `keyctl session -`, so every command it starts shares one fresh
//! kernel session keyring: the keyring cache layer is real, and private to this test.

// Reason: the test reports how many runs it checked.
#![allow(clippy::print_stdout)]

mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::cloud_server::CloudServer;
use support::openbao::{DevServer, IntrudingProxy};
use support::{cmd, run, write, Out};

const INNER: &str = "SYSTEMPROMPT_SECRETS_CANARY_INNER";
const TENANT: &str = "t-canary";

/// The canary: unique per run, and part of every planted value.
fn canary() -> String {
    format!("CANARY{}zz", std::process::id())
}

#[test]
fn canary_in_every_layer_never_reaches_output_or_stray_files() {
    if std::env::var_os(INNER).is_some() {
        inner();
        return;
    }
    let keyctl = Command::new("sh")
        .args(["-c", "command -v keyctl"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(keyctl, "`keyctl` is required (apt-get install keyutils); the canary test runs in a kernel session keyring");
    let out = Command::new("keyctl")
        .args(["session", "-"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "canary_in_every_layer_never_reaches_output_or_stray_files",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER, "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .output()
        .expect("run the test inside `keyctl session -`");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner run failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the inner test did not run:\n{text}"
    );
    for line in text
        .lines()
        .filter_map(|l| l.find("canary: ").map(|at| &l[at..]))
    {
        println!("{line}");
    }
}

/// Everything the commands need, and the canary to look for.
struct World {
    c: String,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    cache: tempfile::TempDir,
    cloud: CloudServer,
    /// A current-generation cloud (token exchange, no list or delete).
    current: CloudServer,
    bao: DevServer,
    bao_token: String,
    runs: usize,
}

impl World {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with the shared environment: token, API URL, keyutils, a canary in the env layer.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = cmd(self.root());
        c.env("HOME", self.home.path())
            .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", self.cache.path())
            .env("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils")
            .env("SYSTEMPROMPT_API_URL", &self.cloud.url)
            .env("SYSTEMPROMPT_API_TOKEN", format!("tok-{}", self.c))
            .env("BAO_TOKEN", &self.bao_token)
            .env("OPENAI_API_KEY", format!("sk-{}env", self.c))
            .stdin(Stdio::null())
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    /// Runs and checks: no canary, no panic. Returns the output for further checks.
    fn check(&mut self, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.runs += 1;
        let out = run(self.command(args, env));
        assert!(
            !out.all().contains(&self.c),
            "{args:?} {env:?} leaked the canary (exit {}):\n{}",
            out.code,
            out.all()
        );
        assert!(
            !out.all()
                .contains(support::cloud_server::ACCESS_TOKEN_PREFIX),
            "{args:?} leaked an exchanged access token:\n{}",
            out.all()
        );
        assert!(!out.all().contains("panicked"), "{args:?}: {}", out.all());
        assert_ne!(out.code, 101, "{args:?}: {}", out.all());
        out
    }

    /// `check` in each verbosity: plain, `-v`, and `-vv` with `RUST_LOG=trace`.
    fn each_verbosity(&mut self, args: &[&str]) {
        self.each_verbosity_with(args, &[]);
    }

    /// [`World::each_verbosity`] with extra environment.
    fn each_verbosity_with(&mut self, args: &[&str], env: &[(&str, &str)]) {
        self.check(args, env);
        let mut v = args.to_vec();
        v.push("-v");
        self.check(&v, env);
        let mut vv = args.to_vec();
        vv.push("-vv");
        let mut trace = env.to_vec();
        trace.push(("RUST_LOG", "trace"));
        self.check(&vv, &trace);
    }
}

fn secrets(c: &str, extra: &str) -> String {
    format!(
        "{{\n  \"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ{c}f\",\n  \"database_url\": \"postgres://app:{c}db@127.0.0.1:9/app?sslmode=disable\",\n  \"anthropic\": \"sk-ant-api03-{c}\",\n  \"foo_bar\": \"{c}-file\"{extra}\n}}\n"
    )
}

fn setup() -> World {
    let c = canary();
    let cloud = CloudServer::start(&format!("tok-{c}"), &[TENANT]);
    cloud.set_remote(TENANT, &[("REMOTE_ONLY", &format!("{c}-cloud"))]);
    let current = CloudServer::start_current(&format!("tok-{c}"), &[TENANT]);
    let bao = DevServer::start();
    // A token whose id is itself a canary, and a remote map holding canaries.
    let bao_token = format!("tok-{c}-bao");
    let o = bao.bao(&[
        "token",
        "create",
        &format!("-id={bao_token}"),
        "-policy=root",
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = bao.bao(&[
        "kv",
        "put",
        "-mount=secret",
        "systemprompt/canary/vault",
        &format!("remote_only={c}-bao"),
        &format!("jwt_secret=Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ{c}remote"),
    ]);
    assert!(o.status.success(), "{o:?}");

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"canary\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [package.metadata.systemprompt-secrets]\ndefault-profile = \"local\"\n\n\
             [package.metadata.systemprompt-secrets.openbao]\naddress = \"{}\"\n\n\
             [package.metadata.systemprompt-secrets.profiles.vault]\nbackend = \"openbao\"\nrequire-ai-provider = false\n",
            bao.addr
        ),
    );
    write(root, "src/lib.rs", "");
    write(
        root,
        ".systemprompt/profiles/local/profile.yaml",
        &format!("cloud:\n  tenant_id: {TENANT}\n"),
    );
    // The keyring cache layer gets a key that no other layer has.
    write(
        root,
        ".systemprompt/profiles/local/secrets.json",
        &secrets(&c, &format!(",\n  \"cached_only\": \"{c}-cache\"")),
    );
    write(
        root,
        ".systemprompt/profiles/vault/secrets.json",
        &secrets(&c, ""),
    );
    write(
        root,
        ".systemprompt/profiles/broken/secrets.json",
        &format!("{{\"a\": \"{c}\", \"a\": \"{c}\", \"B\": 1, \"c\": \"{c}"),
    );
    write(
        root,
        ".env",
        &format!("GITHUB_TOKEN=ghp_{c}dotenv\nUNKNOWN={c}\n"),
    );
    write(root, "bad.env", &format!("JWT_SECRET={c}\n{c} {c}\n"));
    write(root, "import.env", &format!("IMPORTED_KEY={c}-imported\n"));

    let mut world = World {
        c,
        dir,
        home: tempfile::tempdir().unwrap(),
        cache: tempfile::tempdir().unwrap(),
        cloud,
        current,
        bao,
        bao_token,
        runs: 0,
    };
    let cached = world.check(&["cache", "--force"], &[]);
    assert_eq!(cached.code, 0, "{cached:?}");
    write(
        world.root(),
        ".systemprompt/profiles/local/secrets.json",
        &secrets(&world.c, ""),
    );
    let explain = world.check(&["explain", "cached_only"], &[]);
    assert!(
        explain.stdout.contains("keyring"),
        "the keyring cache layer is live: {explain:?}"
    );

    commit_a_leak(&world);
    world
}

/// A git repository with a committed value, for `scan`.
fn commit_a_leak(world: &World) {
    let git = |args: &[&str]| {
        support::git(world.root(), args);
    };
    write(world.root(), ".gitignore", "secrets.json\n.env\n*.env\n");
    write(
        world.root(),
        "leak.txt",
        &format!("oops {}-file\n", world.c),
    );
    git(&["init", "-q"]);
    git(&["add", "Cargo.toml", "src/lib.rs", "leak.txt", ".gitignore"]);
    git(&["commit", "-q", "-m", "leak"]);
}

fn inner() {
    let mut w = setup();
    read_only(&mut w);
    writes(&mut w);
    current_cloud(&mut w);
    values_on_stdin_and_argv(&mut w);
    error_paths(&mut w);
    exceptions(&mut w);
    stray_files(&w);
    println!("canary: {} runs, no leak", w.runs);
}

/// Read-only commands, in every verbosity and format.
fn read_only(w: &mut World) {
    for args in [
        &["validate"][..],
        &["validate", "--strict"],
        &["validate", "--format", "json"],
        &["validate", "--format", "github"],
        &["validate", "--all-profiles", "--format", "json"],
        &["validate", "--all-profiles", "--format", "github"],
        &["validate", "--env-file", "bad.env"],
        &["validate", "--profile", "broken"],
        &["list"],
        &["list", "--format", "json"],
        &["list", "--remote"],
        &["list", "--remote", "--profile", "vault", "--format", "json"],
        &["get", "jwt_secret"],
        &["get", "cached_only", "--format", "json"],
        &["explain", "github"],
        &["explain", "openai", "--format", "json"],
        &["profiles"],
        &["profiles", "--format", "json"],
        &["status"],
        &["status", "--format", "json"],
        &["status", "--backend", "openbao"],
        &["status", "--backend", "openbao", "--format", "json"],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["cache", "--status"],
        &["doctor"],
        &["doctor", "--online", "--connect", "--connect-timeout", "2"],
        &["doctor", "--online", "--format", "json"],
        &["scan"],
        &["scan", "--history", "--format", "json"],
        &["scan", "--format", "sarif"],
        &["scan", "--staged"],
        &["diff"],
        &["diff", "--profile", "vault"],
        &["diff", "--profile", "vault", "--format", "json"],
        &["diff", "--profile", "vault", "--exit-code"],
        &["versions", "--profile", "vault"],
        &["run", "--", "true"],
        &["run", "--", "sh", "-c", "exit 3"],
        &[
            "run",
            "--only",
            "jwt_secret",
            "--",
            "no-such-command-canary",
        ],
        &["run", "--profile", "broken", "--", "true"],
        &["export", "--format", "dotenv", "--profile", "broken"],
        &["edit"],
    ] {
        w.each_verbosity(args);
    }
    // A completion request from the shell: key and profile names only, never a value.
    for words in [
        &["get", ""][..],
        &["--profile", ""],
        &["copy", "--from", "local", "--to", "x", ""],
    ] {
        let mut args = vec!["--", "cargo-systemprompt-secrets"];
        args.extend_from_slice(words);
        let index = (args.len() - 2).to_string();
        let out = w.check(
            &args,
            &[
                ("CARGO_SYSTEMPROMPT_SECRETS_COMPLETE", "bash"),
                ("_CLAP_COMPLETE_INDEX", &index),
                ("_CLAP_IFS", "\n"),
            ],
        );
        assert_eq!(out.code, 0, "{words:?}: {out:?}");
        assert!(
            out.stdout.contains("jwt_secret") || out.stdout.contains("local"),
            "{words:?}: {out:?}"
        );
    }
    let scan = w.check(&["scan"], &[]);
    assert_eq!(scan.code, 1, "the committed value is found: {scan:?}");
    assert!(
        scan.stderr
            .contains("the value of `foo_bar` (profile local) in 1 place (1 file): leak.txt:1"),
        "{}",
        scan.stderr
    );
    let failing = w.check(&["run", "--", "sh", "-c", "exit 3"], &[]);
    assert_eq!(failing.code, 3, "the child's exit code is passed on");
}

/// Writes: dry runs first, then for real, on both remotes.
fn writes(w: &mut World) {
    for args in [
        &["sync", "--dry-run"][..],
        &["sync", "--yes"],
        &["sync", "--yes", "--format", "json"],
        &["set", "NEW_ONE=-", "--dry-run"],
        &["unset", "REMOTE_ONLY", "--dry-run"],
        &["unset", "REMOTE_ONLY", "--yes"],
        &["cleanup", "--dry-run"],
        &["cleanup", "--yes"],
        &["sync", "--profile", "vault", "--dry-run"],
        &["sync", "--profile", "vault", "--yes"],
        &["sync", "--profile", "vault", "--yes", "--format", "json"],
        &["pull", "--profile", "vault", "--dry-run"],
        &["pull", "--profile", "vault"],
        &[
            "rollback",
            "--profile",
            "vault",
            "--version",
            "1",
            "--dry-run",
        ],
        &["rollback", "--profile", "vault", "--version", "1", "--yes"],
        &["unset", "remote_only", "--profile", "vault", "--yes"],
        &[
            "copy", "--from", "local", "--to", "copied", "--create", "--yes",
        ],
        &["import", "import.env"],
        &["rotate", "rotated_key", "--bytes", "24"],
        &["init", "--profile", "fresh"],
        &["init", "--profile", "fresh", "--add-missing", "-v"],
        &[
            "rotate",
            "oauth_at_rest_pepper",
            "--profile",
            "fresh",
            "--yes",
            "-v",
        ],
        &["rotate", "signing_key_pem", "--profile", "fresh", "--yes"],
        &[
            "export",
            "--format",
            "k8s-secret",
            "--all-keys",
            "-o",
            "k8s.yaml",
            "--force",
        ],
        &[
            "export",
            "--format",
            "docker-env",
            "-o",
            "docker.env",
            "--force",
        ],
    ] {
        w.each_verbosity(args);
    }
}

/// The cloud verbs against a current-generation server: the exchanged token never shows, and
/// neither do the values, on success or on the refusals of list and delete.
fn current_cloud(w: &mut World) {
    let url = w.current.url.clone();
    let env = [("SYSTEMPROMPT_API_URL", url.as_str())];
    for args in [
        &["sync", "--dry-run"][..],
        &["sync", "--yes"],
        &["sync", "--yes", "--prune"],
        &["diff"],
        &["list", "--remote", "--format", "json"],
        &["set", "ARGV_CURRENT=x", "--yes"],
        &["rotate", "rotated_key", "--bytes", "24", "--sync", "--yes"],
        &["unset", "REMOTE_ONLY", "--yes"],
        &["cleanup", "--yes"],
        &["doctor", "--online"],
    ] {
        w.each_verbosity_with(args, &env);
    }
    assert!(w.current.exchanges() > 0);
}

fn values_on_stdin_and_argv(w: &mut World) {
    let c = w.c.clone();
    // Values on stdin and on the command line (a warning, never an echo).
    for args in [
        &["set", "PIPED", "--stdin", "--yes"][..],
        &["set", "PIPED_LOCAL", "--stdin", "--local", "--yes"],
        &["set", "PIPED", "--stdin", "--profile", "vault", "--yes"],
    ] {
        let mut command = w.command(args, &[("RUST_LOG", "trace")]);
        command
            .arg("-vv")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            format!("{c}-stdin").as_bytes(),
        )
        .unwrap();
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!text.contains(&c), "{args:?} leaked: {text}");
        assert!(o.status.success(), "{args:?}: {text}");
    }
    let argv = format!("ARGV_KEY={c}-argv");
    w.each_verbosity(&["set", &argv, "--yes"]);
    w.each_verbosity(&["set", &argv, "--profile", "vault", "--yes"]);
}

fn error_paths(w: &mut World) {
    let c = w.c.clone();
    // Error paths: bad tokens, servers down, a CAS conflict, invalid files.
    let closed = format!("http://127.0.0.1:{}", support::openbao::free_port());
    let bad_cloud = [("SYSTEMPROMPT_API_TOKEN", "wrong-token")];
    for args in [&["sync", "--yes"][..], &["diff"], &["unset", "X", "--yes"]] {
        let out = w.check(args, &bad_cloud);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        w.check(args, &[("SYSTEMPROMPT_API_URL", closed.as_str())]);
    }
    let bad_bao = [("BAO_TOKEN", "wrong-token")];
    for args in [
        &["sync", "--profile", "vault", "--yes"][..],
        &["pull", "--profile", "vault", "--yes"],
        &["diff", "--profile", "vault"],
        &["set", "K=-", "--profile", "vault", "--yes"],
    ] {
        let out = w.check(args, &bad_bao);
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        let mut down = args.to_vec();
        down.extend(["--address", closed.as_str(), "-vv"]);
        let out = w.check(&down, &[("RUST_LOG", "trace")]);
        assert_ne!(out.code, 0, "{down:?}: {out:?}");
    }
    // An expired cloud token.
    let expired = format!(
        "e30.{}.sig",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"exp":1000}"#
        )
    );
    let out = w.check(
        &["sync", "--yes", "-vv"],
        &[("SYSTEMPROMPT_API_TOKEN", expired.as_str())],
    );
    assert_eq!(out.code, 1);
    // A check-and-set conflict: someone writes a canary between our read and our write.
    let (addr, token, intruder) = (
        w.bao.addr.clone(),
        w.bao_token.clone(),
        format!("{c}-intruder"),
    );
    let proxy = IntrudingProxy::start(&w.bao.addr, move || {
        let o = support::openbao::bao(
            &addr,
            &token,
            &[
                "kv",
                "patch",
                "-mount=secret",
                "systemprompt/canary/vault",
                &format!("intruder={intruder}"),
            ],
        );
        assert!(o.status.success(), "{o:?}");
    });
    write(
        w.root(),
        ".systemprompt/profiles/vault/secrets.json",
        &secrets(&c, &format!(",\n  \"changed\": \"{c}-changed\"")),
    );
    proxy.arm();
    let conflict = w.check(
        &[
            "sync",
            "--profile",
            "vault",
            "--yes",
            // Past the check for remote changes since the last sync (this address was never
            // synced with), to the write the intruder races.
            "--force",
            "--address",
            &proxy.addr,
            "-vv",
        ],
        &[("RUST_LOG", "trace")],
    );
    assert_eq!(conflict.code, 1, "{conflict:?}");
    assert!(
        conflict.stderr.contains("intruder"),
        "the conflict names the key: {}",
        conflict.stderr
    );
    drop(proxy);
    // Invalid files on every path that reads them.
    for args in [
        &["sync", "--profile", "broken", "--tenant", TENANT, "--yes"][..],
        &["cache", "--profile", "broken"],
        &["export", "--profile", "broken", "--format", "json"],
        &["get", "a", "--profile", "broken"],
        &["import", "bad.env"],
        &["validate", "--env-file", "bad.env", "--format", "json"],
    ] {
        let out = w.check(args, &[("RUST_LOG", "trace")]);
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
    }
}

fn exceptions(w: &mut World) {
    let c = w.c.clone();
    // The exceptions: explicit requests for values — `get --reveal`, and `export` (which refuses a
    // terminal without --reveal; here stdout is a pipe).
    let revealed = run(w.command(&["get", "foo_bar", "--reveal"], &[]));
    assert_eq!(revealed.stdout.trim(), format!("{c}-file"));
    let piped = run(w.command(
        &["export", "--format", "dotenv", "-vv"],
        &[("RUST_LOG", "trace")],
    ));
    assert!(
        piped.stdout.contains(&format!("FOO_BAR='{c}-file'")),
        "{piped:?}"
    );
    assert!(
        !piped.stderr.contains(&c),
        "only the requested data carries values: {}",
        piped.stderr
    );
    let exported = w.check(
        &[
            "export",
            "--format",
            "dotenv",
            "-o",
            "exported.env",
            "--force",
        ],
        &[],
    );
    assert_eq!(exported.code, 0, "{exported:?}");
}

/// The canary may only be in the secrets files (0600), the explicit export, the test's own
/// planted files and git's objects; nowhere else under the project, HOME or the cache folder.
fn stray_files(w: &World) {
    let allowed: BTreeSet<&str> = [
        "secrets.json",
        ".env",
        "exported.env",
        "k8s.yaml",
        "docker.env",
        "bad.env",
        "import.env",
        "leak.txt",
    ]
    .into_iter()
    .collect();
    let mut hits = Vec::new();
    for base in [w.root(), w.home.path(), w.cache.path()] {
        walk(base, &mut |path| {
            let Ok(bytes) = std::fs::read(path) else {
                return;
            };
            if !bytes.windows(w.c.len()).any(|x| x == w.c.as_bytes()) {
                return;
            }
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            if !allowed.contains(name.as_str()) {
                hits.push(format!("{} (mode {mode:o})", path.display()));
            } else if ["secrets.json", "exported.env", "k8s.yaml", "docker.env"]
                .contains(&name.as_str())
            {
                assert_eq!(mode, 0o600, "{} must be private", path.display());
            }
        });
    }
    assert!(hits.is_empty(), "the canary was left in: {hits:#?}");
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path: PathBuf = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(&path, f);
            }
        } else if kind.is_file() {
            f(&path);
        }
    }
}
