//! The OS keyring for real: GNOME Keyring over D-Bus (Secret Service) and kernel keyutils, checked
//! from outside with `secret-tool` and `keyctl`. Each scenario runs as one shell script inside the
//! session it needs (`dbus-run-session` with an unlocked gnome-keyring, or `keyctl session -`).
//! These tools are required: a missing one fails the test, it never skips.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{bin, project, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const API: &str = "https://api.systemprompt.io";

/// Which real keyring a scenario runs in.
#[derive(Clone, Copy)]
enum Session {
    /// A private D-Bus session bus with gnome-keyring, unlocked with a known password.
    SecretService,
    /// A fresh kernel session keyring (`keyctl session -`).
    Keyutils,
}

/// Runs `steps` (shell snippets; `$BIN` is the binary) in one session and returns each step's output.
fn scenario(session: Session, dir: &Path, env: &[(&str, &str)], steps: &[String]) -> Vec<Out> {
    for tool in [
        "dbus-run-session",
        "gnome-keyring-daemon",
        "secret-tool",
        "keyctl",
        "dbus-send",
    ] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .unwrap()
            .status
            .success();
        assert!(found, "`{tool}` is required for the keyring tests: apt-get install gnome-keyring dbus keyutils libsecret-tools");
    }
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let real_home = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()));
    let rustup = std::env::var("RUSTUP_HOME")
        .unwrap_or_else(|_| real_home.join(".rustup").display().to_string());
    let cargo = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| real_home.join(".cargo").display().to_string());

    let mut script = String::from("set -u\n");
    let _ = writeln!(
        script,
        "export RUSTUP_HOME='{rustup}' CARGO_HOME='{cargo}' HOME='{}'",
        home.display()
    );
    let _ = writeln!(
        script,
        "export XDG_RUNTIME_DIR='{}' BIN='{}'",
        home.display(),
        bin().display()
    );
    script.push_str("export CARGO_TERM_COLOR=never SYSTEMPROMPT_SECRETS_TRUST_PROJECT=1\nunset SYSTEMPROMPT_API_TOKEN SYSTEMPROMPT_API_URL SYSTEMPROMPT_PROFILE JWT_SECRET DATABASE_URL OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY GITHUB_TOKEN\n");
    for (k, v) in env {
        let _ = writeln!(script, "export {k}='{v}'");
    }
    if let Session::SecretService = session {
        script.push_str(
            "echo -n test-password | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &\n\
             GK=$!\ntrap 'kill $GK 2>/dev/null' EXIT\n\
             for i in $(seq 1 100); do\n\
               dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break\n\
               sleep 0.1\ndone\n",
        );
    }
    let out_dir = work.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    for (i, step) in steps.iter().enumerate() {
        let o = out_dir.join(i.to_string());
        let _ = writeln!(
            script,
            "( {step} ) > '{0}.out' 2> '{0}.err' < /dev/null; echo $? > '{0}.code'",
            o.display()
        );
    }
    let script_path = work.path().join("scenario.sh");
    std::fs::write(&script_path, script).unwrap();
    let mut c = match session {
        Session::SecretService => {
            let mut c = Command::new("dbus-run-session");
            c.arg("--").arg("bash").arg(&script_path);
            c
        }
        Session::Keyutils => {
            let mut c = Command::new("keyctl");
            c.args(["session", "-", "bash"]).arg(&script_path);
            c.env_remove("DBUS_SESSION_BUS_ADDRESS");
            c
        }
    };
    c.current_dir(dir);
    let status = c.output().unwrap();
    assert!(
        status.status.success(),
        "scenario runner failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    (0..steps.len())
        .map(|i| {
            let o = out_dir.join(i.to_string());
            let read =
                |ext: &str| std::fs::read_to_string(o.with_extension(ext)).unwrap_or_default();
            Out {
                code: read("code").trim().parse().unwrap_or(-1),
                stdout: read("out"),
                stderr: read("err"),
            }
        })
        .chain(std::iter::once(Out {
            code: 0,
            stdout: home.display().to_string(),
            stderr: String::new(),
        }))
        .collect()
}

fn files_containing(root: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                hits.push(p);
            }
        }
    }
    hits
}

fn jwt(exp: u64) -> String {
    use base64::Engine as _;
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        enc("{\"alg\":\"HS256\"}"),
        enc(&format!("{{\"exp\":{exp}}}")),
        enc("signature")
    )
}

fn s(step: &str) -> String {
    step.to_owned()
}

#[test]
fn secret_service_login_status_logout_checked_with_secret_tool() {
    let p = project(&[(SECRETS, GOOD)]);
    let token = "tok-CANARY-ss-5a7e";
    let lookup =
        format!("secret-tool lookup service cargo-systemprompt-secrets username 'api-token:{API}'");
    let out = scenario(
        Session::SecretService,
        p.path(),
        &[],
        &[
            format!("printf %s '{token}' | $BIN login --token-stdin --keyring secret-service"),
            lookup.clone(),
            s("$BIN status"),
            s("SYSTEMPROMPT_API_TOKEN=from-env-token $BIN status --format json"),
            s("$BIN logout"),
            format!("{lookup}; echo \"exit=$?\""),
            s("$BIN status"),
        ],
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    assert!(out[0].stderr.contains("secret-service"), "{:?}", out[0]);
    assert_eq!(out[1].stdout, token, "secret-tool sees the entry");
    assert_eq!(out[2].code, 0, "{:?}", out[2]);
    assert!(
        out[2].stdout.contains("Token:    keyring (secret-service)"),
        "{}",
        out[2].stdout
    );
    let v: serde_json::Value = serde_json::from_str(&out[3].stdout).unwrap();
    assert_eq!(
        v["token_source"]["kind"], "env",
        "SYSTEMPROMPT_API_TOKEN wins over the keyring"
    );
    assert!(out[4].stderr.contains("Removed"), "{:?}", out[4]);
    assert!(
        out[5].stdout.contains("exit=1"),
        "logout removed it: {:?}",
        out[5]
    );
    assert_eq!(out[6].code, 1);
    assert!(
        out[6]
            .stderr
            .contains("not logged in: run `cargo systemprompt-secrets login`"),
        "{:?}",
        out[6]
    );
    for o in &out[..out.len() - 1] {
        assert!(!o.stderr.contains(token), "never echoed: {o:?}");
    }
    let home = PathBuf::from(&out.last().unwrap().stdout);
    assert!(
        files_containing(&home, token).is_empty(),
        "no plaintext token under $HOME"
    );
    assert!(
        files_containing(p.path(), token).is_empty(),
        "no plaintext token in the project"
    );
}

#[test]
fn secret_service_cache_is_the_lowest_layer_and_corrupt_entries_warn() {
    let p = project(&[(SECRETS, GOOD)]);
    let id = systemprompt_secrets::project::project_id(p.path());
    let secrets = p.path().join(SECRETS);
    let moved = p.path().join("secrets.json.away");
    let out = scenario(
        Session::SecretService,
        p.path(),
        &[("SYSTEMPROMPT_SECRETS_KEYRING", "auto")],
        &[
            s("$BIN cache"),
            s("$BIN cache --status --format json"),
            format!("mv '{}' '{}'", secrets.display(), moved.display()),
            s("$BIN validate"),
            s("$BIN explain jwt_secret"),
            s("$BIN get jwt_secret --reveal"),
            format!("printf %s '{{not json CANARY-corrupt' | secret-tool store --label=x service cargo-systemprompt-secrets username 'profile:{id}:local'"),
            format!("mv '{}' '{}'", moved.display(), secrets.display()),
            s("$BIN validate"),
            s("$BIN uncache"),
            format!("secret-tool lookup service cargo-systemprompt-secrets username 'profile:{id}:local'; echo \"exit=$?\""),
        ],
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    assert!(out[0].stderr.contains("Cached 3 keys"), "{:?}", out[0]);
    let v: serde_json::Value = serde_json::from_str(&out[1].stdout).unwrap();
    assert_eq!(v["cached"], true);
    assert_eq!(v["entry"]["keys"].as_array().unwrap().len(), 3);
    assert_eq!(
        out[3].code, 0,
        "validate works with no secrets.json: {:?}",
        out[3]
    );
    assert!(
        out[4].stdout.contains("keyring") && out[4].stdout.contains("<- wins"),
        "{}",
        out[4].stdout
    );
    assert!(
        out[4]
            .stdout
            .lines()
            .any(|l| l.contains("4. keyring") && l.contains("<- wins")),
        "{}",
        out[4].stdout
    );
    assert_eq!(out[5].stdout.trim(), "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ");
    assert_eq!(out[6].code, 0, "{:?}", out[6]);
    assert_eq!(
        out[8].code, 0,
        "a corrupt cache entry is a warning, not a failure: {:?}",
        out[8]
    );
    assert!(
        out[8].stderr.contains("warning: keyring cache not used")
            && out[8].stderr.contains("not a valid cache entry"),
        "{:?}",
        out[8]
    );
    assert!(!out[8].stderr.contains("CANARY"), "{:?}", out[8]);
    assert!(out[9].stderr.contains("Removed"), "{:?}", out[9]);
    assert!(out[10].stdout.contains("exit=1"), "{:?}", out[10]);
}

#[test]
fn secret_service_import_moves_plaintext_token_and_jwt_expiry_is_enforced() {
    let p = project(&[
        (SECRETS, GOOD),
        (".systemprompt/credentials.json", "{\"api_token\": \"imported-CANARY-tok\", \"api_url\": \"https://api.systemprompt.io\", \"user_email\": \"a@b.c\"}"),
    ]);
    let expired = jwt(1_000_000);
    let valid = jwt(4_000_000_000);
    let out = scenario(
        Session::SecretService,
        p.path(),
        &[("SYSTEMPROMPT_SECRETS_KEYRING", "auto")],
        &[
            s("$BIN status"),
            s("$BIN login --import"),
            s("$BIN login --import --yes"),
            format!("secret-tool lookup service cargo-systemprompt-secrets username 'api-token:{API}'"),
            format!("printf %s '{expired}' | $BIN login --token-stdin"),
            format!("printf %s '{valid}' | $BIN login --token-stdin --api-url https://api-sandbox.systemprompt.io/"),
            s("$BIN status --api-url https://api-sandbox.systemprompt.io"),
            s("$BIN login"),
        ],
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    assert!(
        out[0].stderr.contains("plaintext") && out[0].stderr.contains("login --import"),
        "{:?}",
        out[0]
    );
    assert_eq!(out[1].code, 0, "{:?}", out[1]);
    assert!(
        out[1].stderr.contains("still holds the token"),
        "without --yes and a terminal, the file stays: {:?}",
        out[1]
    );
    assert!(out[2].stderr.contains("Deleted"), "{:?}", out[2]);
    assert!(!p.path().join(".systemprompt/credentials.json").exists());
    assert_eq!(out[3].stdout, "imported-CANARY-tok");
    assert_eq!(out[4].code, 1, "{:?}", out[4]);
    assert!(
        out[4].stderr.contains("expired at 1970-01-12"),
        "{:?}",
        out[4]
    );
    assert_eq!(out[5].code, 0, "{:?}", out[5]);
    assert!(out[5].stderr.contains("expires 2096-10-02"), "{:?}", out[5]);
    assert!(
        out[6].stdout.contains("Expires:  2096-10-02"),
        "{:?}",
        out[6]
    );
    assert_eq!(
        out[7].code, 2,
        "no terminal and no --token-stdin: {:?}",
        out[7]
    );
    for o in &out {
        assert!(
            !o.stderr.contains("CANARY") && !o.stderr.contains(&valid),
            "{o:?}"
        );
    }
}

#[test]
fn keyutils_login_and_cache_checked_with_keyctl() {
    let p = project(&[(SECRETS, GOOD)]);
    let id = systemprompt_secrets::project::project_id(p.path());
    let token = "tok-CANARY-ku-91c2";
    let desc = format!("cargo-systemprompt-secrets:api-token:{API}");
    let out = scenario(
        Session::Keyutils,
        p.path(),
        &[("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils")],
        &[
            format!("printf %s '{token}' | $BIN login --token-stdin"),
            format!("keyctl print $(keyctl search @s user '{desc}')"),
            s("$BIN status"),
            s("$BIN cache"),
            format!("keyctl add user 'cargo-systemprompt-secrets:profile:{id}:local' '{{broken CANARY-ku' @s >/dev/null"),
            s("$BIN validate"),
            s("$BIN logout && $BIN uncache"),
            format!("keyctl search @s user '{desc}'; echo \"exit=$?\""),
            s("SYSTEMPROMPT_SECRETS_KEYRING=auto $BIN status -v"),
            s("printf %s bao-tok-1 | BAO_ADDR=http://127.0.0.1:8200/ $BIN login --backend openbao --token-stdin --no-verify"),
            s("keyctl print $(keyctl search @s user 'cargo-systemprompt-secrets:openbao-token:http://127.0.0.1:8200')"),
            s("$BIN logout --backend openbao --address http://127.0.0.1:8200"),
            // 12: cache again, then look for the entry in the persistent keyring, uncache, look again.
            s("$BIN cache"),
            format!("keyctl search $(keyctl get_persistent @s) user 'cargo-systemprompt-secrets:profile:{id}:local' >/dev/null; echo \"exit=$?\""),
            s("$BIN uncache"),
            format!("keyctl search $(keyctl get_persistent @s) user 'cargo-systemprompt-secrets:profile:{id}:local' >/dev/null; echo \"exit=$?\"; keyctl search @u user 'cargo-systemprompt-secrets:profile:{id}:local' >/dev/null; echo \"user=$?\""),
        ],
    );
    // Where the entry really went is said: linked into the persistent keyring (then other sessions
    // of this user can read it), or the link was refused. `uncache` removes it from everywhere.
    let linked = out[12]
        .stderr
        .contains("linked into your persistent keyring");
    assert!(
        linked
            || out[12]
                .stderr
                .contains("linking it into the persistent keyring was refused"),
        "{:?}",
        out[12]
    );
    assert_eq!(out[13].stdout.contains("exit=0"), linked, "{:?}", out[13]);
    assert!(
        out[15].stdout.contains("exit=1") && out[15].stdout.contains("user=1"),
        "{:?}",
        out[15]
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    assert!(out[0].stderr.contains("keyutils"), "{:?}", out[0]);
    assert!(
        out[0].stderr.contains("reboot"),
        "kernel keys are lost at reboot: {:?}",
        out[0]
    );
    assert_eq!(
        out[1].stdout.trim(),
        token,
        "keyctl sees the key: {:?}",
        out[1]
    );
    assert!(
        out[2].stdout.contains("Token:    keyring (keyutils)"),
        "{:?}",
        out[2]
    );
    assert_eq!(out[3].code, 0, "{:?}", out[3]);
    assert_eq!(out[5].code, 0, "{:?}", out[5]);
    assert!(
        out[5].stderr.contains("not a valid cache entry") && !out[5].stderr.contains("CANARY"),
        "{:?}",
        out[5]
    );
    assert_eq!(out[6].code, 0, "{:?}", out[6]);
    assert!(out[7].stdout.contains("exit=1"), "{:?}", out[7]);
    assert!(
        out[8].stdout.contains("Keyring:  keyutils"),
        "auto falls back to keyutils without a bus: {:?}",
        out[8]
    );
    assert!(
        out[9]
            .stderr
            .contains("OpenBao token for http://127.0.0.1:8200"),
        "{:?}",
        out[9]
    );
    assert_eq!(
        out[10].stdout.trim(),
        "bao-tok-1",
        "keyed by address: {:?}",
        out[10]
    );
    assert!(
        out[11].stderr.contains("Removed OpenBao token"),
        "{:?}",
        out[11]
    );
    let home = PathBuf::from(&out.last().unwrap().stdout);
    assert!(files_containing(&home, token).is_empty());
    assert!(files_containing(p.path(), token).is_empty());
}

#[test]
fn no_keyring_gives_a_clear_error_and_reads_still_work() {
    let p = project(&[(SECRETS, GOOD)]);
    let mut c = support::cmd(p.path());
    c.env("SYSTEMPROMPT_SECRETS_KEYRING", "secret-service")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", p.path());
    c.args(["login", "--token-stdin"])
        .stdin(std::process::Stdio::piped());
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"tok-nokeyring").unwrap();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no OS keyring is available"), "{stderr}");
    assert!(
        stderr.contains("tried secret-service: no D-Bus session bus"),
        "{stderr}"
    );
    assert!(
        stderr.contains("keyctl session -") && stderr.contains("SYSTEMPROMPT_API_TOKEN"),
        "{stderr}"
    );

    let none = support::sp(p.path(), &["login", "--token-stdin"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("--keyring none"), "{}", none.stderr);

    let mut c = support::cmd(p.path());
    c.env("SYSTEMPROMPT_SECRETS_KEYRING", "secret-service")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", p.path())
        .arg("validate");
    let v = support::run(c);
    assert_eq!(
        v.code, 0,
        "a missing keyring does not fail commands that only read: {v:?}"
    );
    assert!(!v.stderr.contains("warning:"), "{v:?}");
}

/// A tampered cache entry is checked like a secrets.json: key names that cannot be environment
/// names, an entry of another project or profile, and a `cached_at` in the future are each a
/// warning and a cache miss; nothing of them reaches `run` or `export`.
#[test]
fn tampered_cache_entries_are_refused() {
    let p = project(&[(".systemprompt/profiles/local/profile.yaml", "")]);
    let id = systemprompt_secrets::project::project_id(p.path());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let store = |payload: &serde_json::Value| {
        format!(
            "printf %s '{}' | secret-tool store --label=x service cargo-systemprompt-secrets username 'profile:{id}:local'",
            payload.to_string().replace('\'', "'\\''")
        )
    };
    let marker = p.path().join("touched");
    let bad_names = serde_json::json!({"format": 1, "project": id, "profile": "local", "cached_at": now,
        "secrets": {"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "BAD KEY": "v1-CANARY", format!("q$(touch {})", marker.display()): "v2-CANARY"}});
    let other_project = serde_json::json!({"format": 1, "project": "someone-else-0123", "profile": "local", "cached_at": now,
        "secrets": {"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"}});
    let future = serde_json::json!({"format": 1, "project": id, "profile": "local", "cached_at": 99_999_999_999_u64,
        "secrets": {"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"}});
    let out = scenario(
        Session::SecretService,
        p.path(),
        &[("SYSTEMPROMPT_SECRETS_KEYRING", "auto")],
        &[
            store(&bad_names),
            s("$BIN validate"),
            s("$BIN export --format shell --reveal"),
            store(&other_project),
            s("$BIN validate"),
            store(&future),
            s("$BIN validate"),
            s("$BIN uncache"),
        ],
    );
    for (i, why) in [
        (1, "cannot be an environment variable's name"),
        (4, "belongs to project `someone-else-0123`"),
        (6, "written in the future"),
    ] {
        assert!(
            out[i].stderr.contains("keyring cache not used") && out[i].stderr.contains(why),
            "{i}: {:?}",
            out[i]
        );
        assert!(!out[i].all().contains("CANARY"), "{:?}", out[i]);
    }
    assert!(
        !out[2].stdout.contains("BAD KEY") && !out[2].stdout.contains("$("),
        "{:?}",
        out[2]
    );
    assert!(!marker.exists());
}

#[test]
fn keyutils_entries_from_another_terminal_are_seen_and_removed() {
    let p = project(&[(SECRETS, GOOD)]);
    let id = systemprompt_secrets::project::project_id(p.path());
    let token = "tok-CANARY-ku-other-5e1a";
    // An API URL of its own: the persistent keyring is shared by every session of the user, and
    // the other keyutils test logs in and out of the default one at the same time.
    let api = "https://other-terminal.example.invalid";
    let desc = format!("cargo-systemprompt-secrets:api-token:{api}");
    let out = scenario(
        Session::Keyutils,
        p.path(),
        &[
            ("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils"),
            ("SYSTEMPROMPT_API_URL", api),
        ],
        &[
            // Log in and cache in this terminal …
            format!("printf %s '{token}' | $BIN login --token-stdin && $BIN cache"),
            // … then, from another terminal (a new session keyring), look and remove.
            s("keyctl session - bash -c '$BIN status; $BIN cache --status'"),
            s("keyctl session - bash -c '$BIN logout && $BIN uncache'"),
            format!("keyctl search $(keyctl get_persistent @s) user '{desc}' >/dev/null; echo \"token=$?\"; keyctl search $(keyctl get_persistent @s) user 'cargo-systemprompt-secrets:profile:{id}:local' >/dev/null; echo \"profile=$?\"; keyctl search @s user '{desc}' >/dev/null; echo \"session=$?\""),
        ],
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    // Only when the kernel let the entries be linked into the persistent keyring can another
    // session reach them at all; the tool says which happened.
    if !out[0]
        .stderr
        .contains("linked into your persistent keyring")
    {
        assert!(
            out[0]
                .stderr
                .contains("linking it into the persistent keyring was refused"),
            "{:?}",
            out[0]
        );
        return;
    }
    assert!(
        out[1].stdout.contains("Token:    keyring (keyutils)"),
        "another terminal sees the token: {:?}",
        out[1]
    );
    assert!(
        out[2].code == 0 && !out[2].all().contains("Nothing to remove"),
        "another terminal removes them: {:?}",
        out[2]
    );
    assert!(
        out[3].stdout.contains("token=1")
            && out[3].stdout.contains("profile=1")
            && out[3].stdout.contains("session=1"),
        "gone everywhere: {:?}",
        out[3]
    );
}

#[test]
fn working_from_the_cache_is_said_and_init_never_shadows_it() {
    let p = project(&[(SECRETS, GOOD)]);
    let out = scenario(
        Session::Keyutils,
        p.path(),
        &[("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils")],
        &[
            s("$BIN cache"),
            format!("rm {SECRETS}"),
            s("$BIN validate"),
            s("$BIN init"),
            format!("$BIN export --format json --keys -o {SECRETS}"),
            s("$BIN validate"),
            s("$BIN uncache"),
        ],
    );
    assert_eq!(out[0].code, 0, "{:?}", out[0]);
    // validate: the file is missing, the cache is said, and `init` is not the advice.
    assert!(
        out[2].stderr.contains("the keyring cache supplies")
            && out[2].stderr.contains("jwt_secret")
            && out[2].stderr.contains("export --format json --keys -o")
            && !out[2]
                .stderr
                .contains("create it with `cargo systemprompt-secrets init`"),
        "{:?}",
        out[2]
    );
    // init refuses to shadow the cached jwt_secret.
    assert_eq!(out[3].code, 1, "{:?}", out[3]);
    assert!(
        out[3].stderr.contains("holds jwt_secret") && out[3].stderr.contains("--force"),
        "{:?}",
        out[3]
    );
    assert!(!p.path().join(SECRETS).exists() || out[4].code == 0);
    // The hint's command gives the file back, with the cached value.
    assert_eq!(out[4].code, 0, "{:?}", out[4]);
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    let good: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    assert_eq!(back["jwt_secret"], good["jwt_secret"]);
    assert_eq!(out[5].code, 0, "{:?}", out[5]);
    assert!(
        !out[5].stderr.contains("missing-secrets-file"),
        "{:?}",
        out[5]
    );
}
