//! A workspace shaped like the public `systemprompt-template` (systemprompt 0.34 in Cargo.lock,
//! members, a profile folder with the `profile.yaml` and `secrets.json` that upstream's
//! `admin setup` writes, no configuration) through init, validate, run, sync, export and the
//! build-script check. The fixture is `tests/fixtures/template/`; every value in it is fake and
//! holds `CANARY`, which no output may contain.

mod support;

use std::path::Path;

use support::cloud_server::{CloudServer, ACCESS_TOKEN_PREFIX};
use support::{fixture, Out};

const TOKEN: &str = "sp-operator-token-CANARY-template";
const TENANT: &str = "t-template";
const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

/// A private copy of the fixture (secrets files 0600, as `admin setup` makes them).
fn workspace() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture("template"), dir.path());
    support::private_modes(dir.path());
    dir
}

fn sp(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = support::cmd(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    support::checked(c, &[TOKEN, ACCESS_TOKEN_PREFIX])
}

#[test]
fn validate_run_and_the_build_check_accept_what_admin_setup_writes() {
    let ws = workspace();
    let out = sp(ws.path(), &["validate", "-v"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("the `oauth_at_rest_pepper` generation (systemprompt 0.11 and later) — Cargo.lock has systemprompt 0.34.0"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("warning["), "{}", out.stderr);

    // From a member folder: the same project, profile and generation.
    let out = sp(&ws.path().join("extensions/web"), &["validate"], &[]);
    assert_eq!(out.code, 0, "{out:?}");

    let out = sp(
        ws.path(),
        &[
            "run",
            "--",
            "sh",
            "-c",
            "test ${#OAUTH_AT_REST_PEPPER} = 64 && test -n \"$ANTHROPIC_API_KEY\" && test -n \"$DATABASE_URL\" && echo injected",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "injected");

    // The build-script check reads the same Cargo.lock and applies the same rules.
    let report = systemprompt_secrets::build::check()
        .manifest_dir(ws.path().join("crates/app"))
        .evaluate(&systemprompt_secrets::env::MapEnv::default())
        .unwrap();
    assert!(!report.failed, "{:?}", report.directives);
    assert!(
        report
            .directives
            .iter()
            .any(|d| d.ends_with("Cargo.lock") && d.starts_with("cargo::rerun-if-changed=")),
        "{:?}",
        report.directives
    );

    // A short pepper fails with upstream's own words, in validate and in the build check, in warn
    // mode too: upstream refuses it in every mode.
    let path = ws.path().join(SECRETS);
    let text = std::fs::read_to_string(&path).unwrap();
    let short = text.replace(
        "CANARYpepperQm7Xr2Lk9Vt4Bn8Hc3Jw6Pz1Sd5Fg0Ya2Ue7Io4Kl8Mn3Bv6Cx9Z",
        "CANARYshort",
    );
    support::write(ws.path(), SECRETS, &short);
    let out = sp(ws.path(), &["validate"], &[]);
    assert_eq!(
        out.code, 1,
        "warn mode (profile.yaml) does not hide what upstream refuses: {out:?}"
    );
    assert!(
        out.stderr
            .contains("oauth_at_rest_pepper must be at least 32 characters (got 11)"),
        "{}",
        out.stderr
    );
    let out = sp(ws.path(), &["validate", "--strict"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let report = systemprompt_secrets::build::check()
        .manifest_dir(ws.path().join("crates/app"))
        .evaluate(&systemprompt_secrets::env::MapEnv::default())
        .unwrap();
    assert!(
        report
            .directives
            .iter()
            .any(|d| d.contains("pepper-too-short")),
        "{:?}",
        report.directives
    );

    // A leftover jwt_secret from the older layout is pointed out, not required.
    support::write(
        ws.path(),
        SECRETS,
        &text.replacen(
            '{',
            "{\n  \"jwt_secret\": \"CANARY-leftover-0123456789abcdefghijkl\",",
            1,
        ),
    );
    let out = sp(ws.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("warning[unread-key]")
            && out.stderr.contains("a custom key nothing reads"),
        "{}",
        out.stderr
    );
}

#[test]
fn keys_that_are_not_snake_case_work_as_upstream() {
    // A key that is not snake_case is legal upstream: a warning, and found without regard to case.
    let ws = workspace();
    let text = std::fs::read_to_string(ws.path().join(SECRETS)).unwrap();
    support::write(
        ws.path(),
        SECRETS,
        &text.replacen('{', "{\n  \"MailgunKey\": \"key-CANARY-0123456789\",", 1),
    );
    let out = sp(ws.path(), &["validate", "--strict"], &[]);
    assert_eq!(out.code, 0, "an advisory fails no mode: {out:?}");
    assert!(
        out.stderr.contains("`mailgun_key` is the usual spelling"),
        "{}",
        out.stderr
    );
    let out = sp(ws.path(), &["get", "mailgunkey"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("MailgunKey: set"), "{}", out.stdout);
}

#[test]
fn init_writes_the_pepper_and_profiles_follow_upstream() {
    let ws = workspace();
    let out = sp(ws.path(), &["init", "--profile", "staging"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("Cargo.lock has systemprompt 0.34.0"),
        "{}",
        out.stderr
    );
    let staging: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            ws.path()
                .join(".systemprompt/profiles/staging/secrets.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let pepper = staging["oauth_at_rest_pepper"].as_str().unwrap();
    assert!(pepper.len() == 64 && pepper.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(staging.get("jwt_secret").is_none());

    // staging has no profile.yaml: as upstream, it does not count, so `local` is still the only
    // profile; named explicitly it opens.
    let out = sp(ws.path(), &["validate"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("profile `local`"), "{}", out.stderr);
    let out = sp(ws.path(), &["validate", "--profile", "staging"], &[]);
    assert_eq!(
        out.code, 1,
        "a fresh profile needs database_url and a provider: {out:?}"
    );
    assert!(
        !out.stderr.contains("oauth_at_rest_pepper"),
        "{}",
        out.stderr
    );

    // The session record upstream keeps picks the profile when nothing else does.
    std::fs::write(
        ws.path()
            .join(".systemprompt/profiles/staging/profile.yaml"),
        "secrets:\n  secrets_path: ./secrets.json\n  validation: strict\n",
    )
    .unwrap();
    support::write(
        ws.path(),
        ".systemprompt/sessions/index.json",
        r#"{"version": 1, "sessions": {}, "active_key": "local", "active_profile_name": "local"}"#,
    );
    let out = sp(ws.path(), &["validate", "-v"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("profile `local` chosen by the session record"),
        "{}",
        out.stderr
    );
}

#[test]
fn sync_sends_what_deploy_sends_after_the_token_exchange() {
    let ws = workspace();
    let server = CloudServer::start_current(TOKEN, &[TENANT]);
    let env = [
        ("SYSTEMPROMPT_API_TOKEN", TOKEN),
        ("SYSTEMPROMPT_API_URL", server.url.as_str()),
    ];
    let out = sp(
        ws.path(),
        &[
            "set",
            "MAILGUN_KEY",
            "--stdin",
            "--local",
            "--tenant",
            TENANT,
            "-v",
        ],
        &env,
    );
    // `--stdin` with no input is an empty value: refused before anything is sent.
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(server.count("PUT"), 0);

    let mut c = support::cmd(ws.path());
    c.args([
        "set",
        "MAILGUN_KEY",
        "--stdin",
        "--local",
        "--tenant",
        TENANT,
        "-vv",
    ]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::piped());
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"key-CANARY-mailgun-0123456789")
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{all}");
    assert!(
        !all.contains("CANARY") && !all.contains(TOKEN) && !all.contains(ACCESS_TOKEN_PREFIX),
        "{all}"
    );
    let remote = server.remote(TENANT);
    assert_eq!(remote["MAILGUN_KEY"], "key-CANARY-mailgun-0123456789");
    assert_eq!(
        remote["SYSTEMPROMPT_CUSTOM_SECRETS"], "MAILGUN_KEY",
        "the runtime reads custom secrets only through this list"
    );

    let out = sp(ws.path(), &["sync", "--tenant", TENANT, "-v"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("remote names are unknown"),
        "a 0.32+ server lists nothing: {}",
        out.stderr
    );
    let remote = server.remote(TENANT);
    let names: Vec<&str> = remote.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ANTHROPIC_API_KEY",
            "DATABASE_URL",
            "MAILGUN_KEY",
            "OAUTH_AT_REST_PEPPER",
            "SYSTEMPROMPT_CUSTOM_SECRETS"
        ]
    );
    assert_eq!(remote["SYSTEMPROMPT_CUSTOM_SECRETS"], "MAILGUN_KEY");
    assert!(server.exchanges() >= 1);
    server.assert_contract();
}

#[test]
fn k8s_secret_with_all_keys_for_manifests_of_ones_own() {
    let ws = workspace();
    let all = sp(
        ws.path(),
        &[
            "export",
            "--format",
            "k8s-secret",
            "--all-keys",
            "-o",
            "all.yaml",
        ],
        &[],
    );
    assert_eq!(all.code, 0, "{all:?}");
    let doc: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(ws.path().join("all.yaml")).unwrap())
            .unwrap();
    let keys: Vec<&str> = doc["stringData"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["anthropic", "database_url", "oauth_at_rest_pepper"]);
}

#[test]
fn export_for_kubernetes_and_docker() {
    let ws = workspace();
    let out = sp(
        ws.path(),
        &[
            "export",
            "--format",
            "k8s-secret",
            "--name",
            "gateway-ai-keys",
            "-o",
            "secret.yaml",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let path = ws.path().join("secret.yaml");
    let doc: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["metadata"]["name"], "gateway-ai-keys");
    assert_eq!(doc["type"], "Opaque");
    let data = doc["stringData"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    // Only what the chart gives its pod (it reads anthropic, openai and gemini from the Secret,
    // DATABASE_URL from its values); the rest is named, not promised.
    assert_eq!(keys, ["anthropic"]);
    assert!(
        out.stderr
            .contains("left out of the Secret: database_url, oauth_at_rest_pepper")
            && out.stderr.contains("--set secrets.existingSecret=NAME"),
        "{}",
        out.stderr
    );
    assert!(data["anthropic"]
        .as_str()
        .unwrap()
        .starts_with("sk-ant-api03-"));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let out = sp(
        ws.path(),
        &["export", "--format", "docker-env", "-o", "docker.env"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(ws.path().join("docker.env")).unwrap();
    let names: Vec<&str> = text.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        names,
        ["ANTHROPIC_API_KEY", "DATABASE_URL", "OAUTH_AT_REST_PEPPER"]
    );
    assert!(text
        .contains("DATABASE_URL=postgres://systemprompt:CANARYpw@localhost:5432/systemprompt\n"));

    // A value with a line break cannot go into a docker env file: refused, the key named.
    let with_newline = std::fs::read_to_string(ws.path().join(SECRETS))
        .unwrap()
        .replacen(
            '{',
            "{\n  \"mailgun_key\": \"line one\\nline CANARY two\",",
            1,
        );
    support::write(ws.path(), SECRETS, &with_newline);
    let out = sp(
        ws.path(),
        &["export", "--format", "docker-env", "-o", "docker3.env"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("MAILGUN_KEY holds a line break"),
        "{}",
        out.stderr
    );
    assert!(!ws.path().join("docker3.env").exists());

    // A name Kubernetes would refuse is a usage error.
    let out = sp(
        ws.path(),
        &[
            "export",
            "--format",
            "k8s-secret",
            "--name",
            "Bad_Name",
            "-o",
            "x.yaml",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
}
