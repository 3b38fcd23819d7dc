//! The cloud verbs through the binary against the HTTP contract server in `tests/support/cloud_server.rs`.

mod support;

use std::time::Duration;

use support::cloud_server::CloudServer;
use support::{cmd, project, run, write, Out};

const TOKEN: &str = "sp-test-token-CANARY-7f2c";
const TENANT: &str = "t-123";
const ANT: &str = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYzAA";
const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

fn local_secrets() -> String {
    format!(
        r#"{{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "anthropic": "{ANT}",
  "openai": "",
  "fly_app_name": "should-not-sync",
  "systemprompt_api_url": "https://stale.example",
  "foo_bar": "custom-CANARY"
}}
"#
    )
}

fn setup() -> (tempfile::TempDir, CloudServer) {
    let server = CloudServer::start(TOKEN, &[TENANT]);
    let p = project(&[
        (SECRETS, &local_secrets()),
        (
            ".systemprompt/profiles/local/profile.yaml",
            &format!("cloud:\n  tenant_id: {TENANT}\n"),
        ),
    ]);
    (p, server)
}

fn sp(p: &tempfile::TempDir, server: &CloudServer, args: &[&str]) -> Out {
    sp_env(p, server, args, &[])
}

fn sp_env(p: &tempfile::TempDir, server: &CloudServer, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut all = vec![
        ("SYSTEMPROMPT_API_TOKEN", TOKEN),
        ("SYSTEMPROMPT_API_URL", server.url.as_str()),
    ];
    all.extend_from_slice(env);
    support::sp_env(p.path(), args, &all)
}

#[test]
fn sync_maps_names_skips_and_sends_one_put() {
    let (p, server) = setup();
    server.set_remote(
        TENANT,
        &[
            ("OLD_KEY", "x"),
            ("ANTHROPIC_API_KEY", "old"),
            ("FLY_MACHINE_ID", "m1"),
            ("SYSTEMPROMPT_API_TOKEN", "deploy"),
        ],
    );
    let out = sp_env(
        &p,
        &server,
        &["sync", "-v"],
        &[("OPENAI_API_KEY", "sk-from-the-shell-CANARY")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("skipped FLY_APP_NAME: system-managed"),
        "{}",
        out.stderr
    );
    for skipped in [
        "skipped SYSTEMPROMPT_API_URL",
        "skipped OPENAI_API_KEY: empty or only whitespace locally",
    ] {
        assert!(out.stderr.contains(skipped), "{}", out.stderr);
    }
    assert!(
        out.stderr
            .contains("new: DATABASE_URL, FOO_BAR, JWT_SECRET"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("already remote: ANTHROPIC_API_KEY"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("remote-only kept: FLY_MACHINE_ID, OLD_KEY, SYSTEMPROMPT_API_TOKEN"),
        "{}",
        out.stderr
    );
    assert_eq!(
        (
            server.count("GET"),
            server.count("PUT"),
            server.count("DELETE")
        ),
        (1, 1, 0)
    );
    let remote = server.remote(TENANT);
    assert_eq!(remote["ANTHROPIC_API_KEY"], ANT);
    assert_eq!(remote["FOO_BAR"], "custom-CANARY");
    assert!(
        !remote.contains_key("OPENAI_API_KEY"),
        "the shell's env is never pushed by default"
    );
    assert!(!remote.contains_key("FLY_APP_NAME") && !remote.contains_key("SYSTEMPROMPT_API_URL"));
    server.assert_contract();

    // --include-env pushes the environment too.
    let out = sp_env(
        &p,
        &server,
        &["sync", "--include-env"],
        &[(
            "OPENAI_API_KEY",
            "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
        )],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(server.remote(TENANT).contains_key("OPENAI_API_KEY"));

    // --prune deletes remote-only names but never system-managed or deploy-owned ones.
    server.clear_requests();
    let out = sp(&p, &server, &["sync", "--prune", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["pruned"],
        serde_json::json!(["OLD_KEY", "OPENAI_API_KEY"])
    );
    let remote = server.remote(TENANT);
    assert!(
        remote.contains_key("FLY_MACHINE_ID")
            && remote.contains_key("SYSTEMPROMPT_API_TOKEN")
            && !remote.contains_key("OLD_KEY")
    );
    assert_eq!(
        (
            server.count("GET"),
            server.count("PUT"),
            server.count("DELETE")
        ),
        (1, 1, 2)
    );
    server.assert_contract();
}

#[test]
fn dry_run_sends_no_write_and_validation_blocks() {
    let (p, server) = setup();
    let out = sp(&p, &server, &["sync", "--dry-run", "--prune"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("Dry run"), "{}", out.stderr);
    assert_eq!(server.count("PUT") + server.count("DELETE"), 0);
    for verb in [
        &["set", "A=b", "--dry-run"][..],
        &["unset", "A", "--dry-run"],
        &["cleanup", "--dry-run"],
    ] {
        let out = sp(&p, &server, verb);
        assert_eq!(out.code, 0, "{verb:?}: {out:?}");
    }
    assert_eq!(
        server.count("PUT") + server.count("DELETE"),
        0,
        "dry runs never write"
    );

    write(p.path(), SECRETS, "{\"jwt_secret\": \"short-CANARY\", \"database_url\": \"postgres://a:b@h/d\", \"anthropic\": \"sk-ant-x\"}");
    let out = sp(&p, &server, &["sync"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("jwt-secret-too-short") && out.stderr.contains("nothing was synced"),
        "{}",
        out.stderr
    );
    assert_eq!(server.count("PUT"), 0);
    let out = sp(&p, &server, &["sync", "--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.count("PUT"), 1);
    server.assert_contract();
}

#[test]
fn protected_profiles_need_confirmation() {
    let (p, server) = setup();
    // A protected profile is validated strictly, as `validate` does: a well-shaped key here.
    let shaped = format!("sk-ant-api03-{}xyzAA", "a1B2c3D4e5".repeat(9));
    write(
        p.path(),
        ".systemprompt/profiles/production/secrets.json",
        &local_secrets().replace(ANT, &shaped),
    );
    write(
        p.path(),
        ".systemprompt/profiles/production/profile.yaml",
        &format!("cloud:\n  tenant_id: {TENANT}\n"),
    );
    let out = sp(&p, &server, &["sync", "--profile", "production"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("protected") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("new:"),
        "the plan is shown first: {}",
        out.stderr
    );
    assert_eq!(server.count("PUT"), 0);
    let out = sp(&p, &server, &["unset", "X", "--profile", "production"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(server.count("DELETE"), 0);
    let out = sp(&p, &server, &["sync", "--profile", "production", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.count("PUT"), 1);
}

#[test]
fn set_reads_values_safely_and_writes_local_atomically() {
    let (p, server) = setup();
    let out = sp(
        &p,
        &server,
        &[
            "set",
            "feature_flag=on",
            "Fly_App_Name=x",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("skipped FLY_APP_NAME"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("shell history"), "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["names"], serde_json::json!(["FEATURE_FLAG"]));
    assert_eq!(server.remote(TENANT)["FEATURE_FLAG"], "on");

    let out = sp(&p, &server, &["set", "FLY_MACHINE_ID=1"]);
    assert_eq!(out.code, 1, "all skipped is an error: {out:?}");

    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_API_TOKEN", TOKEN)
        .env("SYSTEMPROMPT_API_URL", &server.url);
    c.args(["set", "OPENAI_API_KEY", "--stdin", "--local"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789\n",
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        server.remote(TENANT)["OPENAI_API_KEY"],
        "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789"
    );
    let local: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(
        local["openai"],
        "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789"
    );
    assert_eq!(local["foo_bar"], "custom-CANARY", "other keys kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(p.path().join(SECRETS))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    let out = sp(&p, &server, &["set", "ANTHROPIC_API_KEY=sk-wrong"]);
    assert_eq!(out.code, 1, "values are validated: {out:?}");
    assert!(out.stderr.contains("anthropic-prefix"), "{}", out.stderr);
    let out = sp(&p, &server, &["set", "NEEDS_PROMPT"]);
    assert_eq!(out.code, 2, "no terminal to prompt on: {out:?}");
    assert!(out.stderr.contains("--stdin"), "{}", out.stderr);
    server.assert_contract();
}

#[test]
fn unset_deletes_concurrently_and_404_is_fine() {
    let (p, server) = setup();
    let pairs: Vec<(String, String)> = (0..20)
        .map(|i| (format!("K{i:02}"), "v".to_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    server.set_remote(TENANT, &refs);
    server.set_latency(Duration::from_millis(30));
    let mut args = vec!["unset", "--format", "json"];
    let names: Vec<String> = (0..20)
        .map(|i| format!("k{i:02}"))
        .chain(["MISSING".to_owned()])
        .collect();
    args.extend(names.iter().map(String::as_str));
    let out = sp(&p, &server, &args);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["removed"].as_array().unwrap().len(), 20);
    assert_eq!(v["was_not_set"], serde_json::json!(["MISSING"]));
    assert!(server.remote(TENANT).is_empty());
    assert_eq!(server.count("DELETE"), 21);
    let max = server.max_in_flight();
    assert!(
        (2..=8).contains(&max),
        "at most 8 DELETEs in flight, and more than one: {max}"
    );
    server.assert_contract();
}

#[test]
fn cleanup_and_diff() {
    let (p, server) = setup();
    let out = sp(&p, &server, &["cleanup"]);
    assert!(
        out.stderr
            .contains("No system-managed variables to clean up"),
        "{out:?}"
    );
    server.set_remote(
        TENANT,
        &[
            ("SYSTEMPROMPT_API_URL", "x"),
            ("fly_app_name", "y"),
            ("JWT_SECRET", "z"),
            ("SYSTEMPROMPT_API_TOKEN", "t"),
            ("REMOTE_ONLY", "r"),
        ],
    );
    let out = sp(&p, &server, &["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["both"], serde_json::json!(["JWT_SECRET"]));
    assert!(v["local_only"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("ANTHROPIC_API_KEY")));
    assert!(v["remote_only"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("REMOTE_ONLY")));
    assert_eq!(v["values_compared"], false);
    let human = sp(&p, &server, &["list", "--remote"]);
    assert!(
        human.stdout.contains("remote-only") && human.stderr.contains("values cannot be compared"),
        "{human:?}"
    );

    let out = sp(&p, &server, &["cleanup", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["deleted"],
        serde_json::json!(["SYSTEMPROMPT_API_URL", "fly_app_name"])
    );
    let remote = server.remote(TENANT);
    assert!(
        remote.contains_key("SYSTEMPROMPT_API_TOKEN") && remote.contains_key("JWT_SECRET"),
        "deploy-owned names stay"
    );
    server.assert_contract();
}

#[test]
fn retries_on_503_429_and_dropped_connections() {
    let (p, server) = setup();
    server.fail_next(503, 2, None);
    let out = sp(&p, &server, &["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("-> 200 (3 attempts"), "{}", out.stderr);

    server.clear_requests();
    server.fail_next(429, 1, Some(1));
    let out = sp(&p, &server, &["diff"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path != support::cloud_server::EXCHANGE_PATH)
        .collect();
    assert_eq!(r.len(), 2);
    assert!(
        r[1].at.duration_since(r[0].at) >= Duration::from_millis(950),
        "Retry-After: 1 is honoured"
    );

    server.drop_next(1);
    let out = sp(&p, &server, &["sync"]);
    assert_eq!(out.code, 0, "a dropped connection is retried: {out:?}");

    server.fail_next(503, 10, None);
    let out = sp(&p, &server, &["diff"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("503") && out.stderr.contains("after 4 attempts"),
        "{}",
        out.stderr
    );
    server.fail_next(503, 0, None);
    server.assert_contract();
}

#[test]
fn timeouts_auth_tenant_and_error_bodies_are_clear() {
    let (p, server) = setup();
    server.delay_next(Duration::from_secs(3), 4);
    let out = sp(&p, &server, &["diff", "--timeout", "1"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("timed out") && out.stderr.contains("after 4 attempts"),
        "{}",
        out.stderr
    );

    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_API_TOKEN", "wrong-token")
        .env("SYSTEMPROMPT_API_URL", &server.url)
        .arg("diff");
    let out = run(c);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("token rejected or expired")
            && out.stderr.contains("cargo systemprompt-secrets login"),
        "{}",
        out.stderr
    );

    let out = sp(&p, &server, &["diff", "--tenant", "nope"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("tenant nope not found")
            && !out.stderr.contains("not found: tenant nope not found"),
        "said once: {}",
        out.stderr
    );

    server.fail_next(422, 1, None);
    let out = sp(&p, &server, &["sync"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("422") && out.stderr.contains("fault: injected fault"),
        "the error body is shown: {}",
        out.stderr
    );

    let down = CloudServer::start(TOKEN, &[TENANT]);
    let url = down.url.clone();
    drop(down);
    let out = sp_env(&p, &server, &["diff", "--api-url", &url], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("could not connect") && out.stderr.contains("after 4 attempts"),
        "{}",
        out.stderr
    );

    let out = sp(&p, &server, &["diff", "--api-url", "http://example.com"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("refusing plain http://"),
        "{}",
        out.stderr
    );

    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_API_URL", &server.url)
        .env("HOME", p.path())
        .arg("diff");
    let out = run(c);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("not logged in: run `cargo systemprompt-secrets login`"),
        "{}",
        out.stderr
    );

    let q = project(&[(SECRETS, &local_secrets())]);
    let out = sp(&q, &server, &["diff"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--tenant")
            && out.stderr.contains("tenant-id")
            && out.stderr.contains("cloud.tenant_id"),
        "{}",
        out.stderr
    );
    server.assert_contract();
}

#[test]
fn set_local_with_a_broken_file_changes_nothing_remote() {
    let (p, server) = setup();
    write(
        p.path(),
        SECRETS,
        "\u{feff}{\"jwt_secret\": \"a\",\n\"database_url\": \"b\"}\n",
    );
    let before = std::fs::read(p.path().join(SECRETS)).unwrap();
    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_API_TOKEN", TOKEN)
        .env("SYSTEMPROMPT_API_URL", &server.url)
        .args(["set", "NEW_KEY=-", "--local", "--yes"])
        .stdin(std::process::Stdio::null());
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"value-CANARY").unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("secrets.json:1:1") && stderr.contains("byte-order-mark"),
        "the problem is named: {stderr}"
    );
    assert!(!stderr.contains("CANARY"));
    assert_eq!(server.count("PUT"), 0, "nothing was sent");
    assert_eq!(std::fs::read(p.path().join(SECRETS)).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// Both generations of the API: every cloud verb against an older server (operator bearer, list and
// delete) and a current one (RFC 8693 token exchange, no list or delete), with a project of the
// current secrets.json generation.

const PEPPER_SECRETS: &str = r#"{
  "oauth_at_rest_pepper": "CANARYpepperQm7Xr2Lk9Vt4Bn8Hc3Jw6Pz1Sd5Fg0Ya2Ue7Io4Kl8Mn3Bv6Cx9Z",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "internal_database_url": "postgres://app:pw-CANARY@internal-db:5432/app",
  "anthropic": "ANT",
  "foo_bar": "custom-CANARY"
}
"#;

fn pepper_project() -> tempfile::TempDir {
    project(&[
        (SECRETS, &PEPPER_SECRETS.replace("ANT", ANT)),
        (
            ".systemprompt/profiles/local/profile.yaml",
            &format!("cloud:\n  tenant_id: {TENANT}\n"),
        ),
    ])
}

fn sp_at(p: &tempfile::TempDir, server: &CloudServer, args: &[&str]) -> Out {
    let mut c = cmd(p.path());
    c.args(args)
        .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
        .env("SYSTEMPROMPT_API_URL", &server.url);
    support::checked(c, &[TOKEN, support::cloud_server::ACCESS_TOKEN_PREFIX])
}

#[test]
// Reason: one walk through every verb on each server reads best top to bottom.
#[allow(clippy::too_many_lines)]
fn every_cloud_verb_against_both_api_generations() {
    use support::cloud_server::Api;
    for api in [Api::Legacy, Api::Current] {
        let current = api == Api::Current;
        let server = CloudServer::start_api(api, TOKEN, &[TENANT]);
        let deploy_owned = [
            ("OLD_KEY", "x"),
            ("SIGNING_KEY_PEM", "pem"),
            ("SYSTEMPROMPT_CUSTOM_SECRETS", "OLD_KEY"),
            ("SYSTEMPROMPT_PROFILE", "local"),
        ];
        server.set_remote(TENANT, &deploy_owned);
        let p = pepper_project();

        // sync: what deploy sends, one PUT; the exchange first on a current server.
        let out = sp_at(&p, &server, &["sync", "-v"]);
        assert_eq!(out.code, 0, "{api:?}: {out:?}");
        assert_eq!(
            out.stderr
                .contains("older server without the token exchange"),
            !current,
            "{api:?}: {}",
            out.stderr
        );
        assert_eq!(
            out.stderr.contains("remote names are unknown"),
            current,
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("skipped DATABASE_URL: internal_database_url is sent as DATABASE_URL"),
            "{}",
            out.stderr
        );
        let remote = server.remote(TENANT);
        assert_eq!(
            remote["DATABASE_URL"],
            "postgres://app:pw-CANARY@internal-db:5432/app"
        );
        assert_eq!(remote["OAUTH_AT_REST_PEPPER"].len(), 64);
        assert_eq!(remote["ANTHROPIC_API_KEY"], ANT);
        assert_eq!(remote["FOO_BAR"], "custom-CANARY");
        assert_eq!(
            remote["SYSTEMPROMPT_CUSTOM_SECRETS"],
            if current {
                "FOO_BAR"
            } else {
                "FOO_BAR,OLD_KEY"
            },
            "the list names every custom name the tenant holds (a listing server shows OLD_KEY)"
        );
        assert!(!remote.contains_key("INTERNAL_DATABASE_URL"));
        assert_eq!(
            (server.count("GET"), server.count("PUT")),
            (1, 1),
            "a current server answers the list with 404, and the push goes ahead"
        );
        assert_eq!(server.exchanges(), usize::from(current));

        // --prune never deletes what deploy owns; on a current server it stops before anything.
        server.clear_requests();
        let out = sp_at(&p, &server, &["sync", "--prune"]);
        if current {
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr
                    .contains("cannot prune: the server does not list remote names")
                    && out.stderr.contains("answered 404"),
                "{}",
                out.stderr
            );
            assert_eq!(server.count("PUT"), 0, "nothing half-done");
        } else {
            assert_eq!(out.code, 0, "{out:?}");
            let remote = server.remote(TENANT);
            assert!(!remote.contains_key("OLD_KEY"));
            for kept in [
                "SIGNING_KEY_PEM",
                "SYSTEMPROMPT_CUSTOM_SECRETS",
                "SYSTEMPROMPT_PROFILE",
            ] {
                assert!(remote.contains_key(kept), "{kept} survives --prune");
            }
        }

        // diff and list --remote need the names.
        for verb in [&["diff"][..], &["list", "--remote"]] {
            let out = sp_at(&p, &server, verb);
            if current {
                assert_eq!(out.code, 1, "{verb:?}: {out:?}");
                assert!(
                    out.stderr.contains("does not list remote names") && out.stderr.contains("404"),
                    "{}",
                    out.stderr
                );
            } else {
                assert_eq!(out.code, 0, "{verb:?}: {out:?}");
            }
        }

        // unset: nothing on a current server (no delete); deploy-owned names need --force.
        server.set_remote(TENANT, &deploy_owned);
        server.clear_requests();
        let out = sp_at(&p, &server, &["unset", "OLD_KEY", "SIGNING_KEY_PEM"]);
        assert!(
            out.stderr.contains("kept SIGNING_KEY_PEM"),
            "{}",
            out.stderr
        );
        if current {
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr.contains("does not offer deleting secrets")
                    || out.stderr.contains("does not offer listing secrets"),
                "{}",
                out.stderr
            );
            assert_eq!((server.count("PUT"), server.count("DELETE")), (0, 0));
        } else {
            assert_eq!(out.code, 0, "{out:?}");
            let remote = server.remote(TENANT);
            assert!(!remote.contains_key("OLD_KEY") && remote.contains_key("SIGNING_KEY_PEM"));
            let out = sp_at(&p, &server, &["unset", "SIGNING_KEY_PEM"]);
            assert_eq!(
                out.code, 1,
                "only deploy-owned names: nothing to do: {out:?}"
            );
            let out = sp_at(&p, &server, &["unset", "SIGNING_KEY_PEM", "--force"]);
            assert_eq!(out.code, 0, "{out:?}");
            assert!(!server.remote(TENANT).contains_key("SIGNING_KEY_PEM"));
        }

        // cleanup reads the names first.
        let out = sp_at(&p, &server, &["cleanup"]);
        assert_eq!(out.code, i32::from(current), "{api:?}: {out:?}");

        // set and rotate --sync keep the list of custom names right: every custom name the
        // tenant holds (a listing server no longer holds FOO_BAR; on the other the names this
        // machine pushed are recorded).
        let before = if current { "FOO_BAR," } else { "" };
        let out = sp_at(&p, &server, &["set", "NEW_FLAG=on"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            server.remote(TENANT)["SYSTEMPROMPT_CUSTOM_SECRETS"],
            format!("{before}NEW_FLAG")
        );
        let out = sp_at(
            &p,
            &server,
            &["rotate", "session_key", "--bytes", "32", "--sync"],
        );
        assert_eq!(out.code, 0, "{out:?}");
        let remote = server.remote(TENANT);
        assert_eq!(remote["SESSION_KEY"].len(), 44);
        assert_eq!(
            remote["SYSTEMPROMPT_CUSTOM_SECRETS"],
            format!("{before}NEW_FLAG,SESSION_KEY")
        );

        // doctor --online asks without failing on either.
        let out = sp_at(&p, &server, &["doctor", "--online", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        let online: Vec<&serde_json::Value> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["area"] == "online")
            .collect();
        assert!(
            online.len() == 1 && online[0]["status"] == "pass",
            "{api:?}: {online:?}"
        );
        server.assert_contract();
    }
}

#[test]
fn the_custom_list_names_every_custom_name_the_tenant_holds() {
    use support::cloud_server::Api;
    for api in [Api::Legacy, Api::Current] {
        let current = api == Api::Current;
        let server = CloudServer::start_api(api, TOKEN, &[TENANT]);
        let p = pepper_project();
        let list = || server.remote(TENANT)["SYSTEMPROMPT_CUSTOM_SECRETS"].clone();

        // Two `set`s one after the other: the second keeps the first's name.
        assert_eq!(sp_at(&p, &server, &["set", "ALPHA_ONE=1"]).code, 0);
        let out = sp_at(&p, &server, &["set", "BETA_TWO=2"]);
        assert_eq!(out.code, 0, "{api:?}: {out:?}");
        assert!(
            list().split(',').any(|n| n == "ALPHA_ONE"),
            "{api:?}: {}",
            list()
        );
        assert!(
            out.stderr.contains("custom list +: BETA_TWO"),
            "{api:?}: {}",
            out.stderr
        );

        // A plain sync keeps what it says it keeps, and shows what the list gains.
        let out = sp_at(&p, &server, &["sync", "--format", "json"]);
        assert_eq!(out.code, 0, "{api:?}: {out:?}");
        assert_eq!(list(), "ALPHA_ONE,BETA_TWO,FOO_BAR", "{api:?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(
            v["custom_list"]["names"],
            serde_json::json!(["ALPHA_ONE", "BETA_TWO", "FOO_BAR"])
        );
        assert_eq!(
            v["custom_list"]["basis"],
            if current { "recorded" } else { "listed" },
            "{api:?}: a server without a list of names uses what this machine pushed"
        );
        if !current {
            assert!(
                out.stderr.contains("remote-only kept: ALPHA_ONE, BETA_TWO"),
                "{}",
                out.stderr
            );
            // unset takes the name out of the list too.
            let out = sp_at(&p, &server, &["unset", "ALPHA_ONE"]);
            assert_eq!(out.code, 0, "{out:?}");
            assert!(
                out.stderr.contains("custom list -: ALPHA_ONE"),
                "{}",
                out.stderr
            );
            assert_eq!(list(), "BETA_TWO,FOO_BAR");
            assert!(!server.remote(TENANT).contains_key("ALPHA_ONE"));
        }

        // Another checkout of the project (nothing recorded) on a server that lists no names
        // says that the list holds only its own names.
        if current {
            let other = pepper_project();
            let out = sp_at(&other, &server, &["sync", "--dry-run"]);
            assert_eq!(out.code, 0, "{out:?}");
            assert!(
                out.stderr
                    .contains("no earlier push from this machine is recorded"),
                "{}",
                out.stderr
            );
        }
        server.assert_contract();
    }
}

#[test]
fn the_playbooks_cloud_secrets_verbs_run_ours() {
    let server = CloudServer::start(TOKEN, &[TENANT]);
    let p = pepper_project();
    let out = sp_at(&p, &server, &["cloud", "secrets", "sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "`cloud secrets sync` (the playbook's spelling) runs `cargo systemprompt-secrets sync`"
        ),
        "{}",
        out.stderr
    );
    assert!(server.remote(TENANT).contains_key("FOO_BAR"));
    let out = sp_at(
        &p,
        &server,
        &["--quiet", "cloud", "secrets", "set", "PLAY_KEY=x"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(server.remote(TENANT)["PLAY_KEY"], "x");
    let out = sp_at(&p, &server, &["cloud", "secrets", "unset", "PLAY_KEY"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!server.remote(TENANT).contains_key("PLAY_KEY"));
    assert_eq!(sp_at(&p, &server, &["cloud", "secrets", "cleanup"]).code, 0);
    // Not a verb of ours: clap's own error.
    assert_eq!(sp_at(&p, &server, &["cloud", "secrets", "list"]).code, 2);
}

#[test]
fn an_expired_access_token_is_exchanged_once_more() {
    let server = CloudServer::start_current(TOKEN, &[TENANT]);
    let p = pepper_project();
    server.reject_next_access(1);
    let out = sp_at(&p, &server, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        server.exchanges(),
        2,
        "a 401 exchanges once more and retries once: {}",
        out.stderr
    );
    assert_eq!(server.count("PUT"), 1);

    // Twice in a row: the second 401 is the answer.
    server.reject_next_access(2);
    let out = sp_at(&p, &server, &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("token rejected or expired (401"),
        "{}",
        out.stderr
    );

    // A wrong operator token fails the exchange itself, with the same advice.
    let mut c = cmd(p.path());
    c.args(["sync"])
        .env("SYSTEMPROMPT_API_TOKEN", "wrong-token")
        .env("SYSTEMPROMPT_API_URL", &server.url);
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("/api/v1/core/oauth/token")
            || out.stderr.contains("token rejected or expired"),
        "{}",
        out.stderr
    );
    server.assert_contract();
}

#[test]
fn local_trial_tenants_send_nothing() {
    let server = CloudServer::start_current(TOKEN, &[TENANT]);
    let p = project(&[
        (SECRETS, &PEPPER_SECRETS.replace("ANT", ANT)),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "cloud:\n  tenant_id: local_7f3a\n",
        ),
    ]);
    for verb in [&["sync"][..], &["diff"], &["set", "A=b"], &["unset", "A"]] {
        let out = sp_at(&p, &server, verb);
        assert_eq!(out.code, 2, "{verb:?}: {out:?}");
        assert!(out.stderr.contains("local trial tenant"), "{}", out.stderr);
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_upstream_credentials_file_names_the_api() {
    // No flag and no SYSTEMPROMPT_API_URL: upstream's credentials.json says where (a sandbox).
    let server = CloudServer::start(TOKEN, &[TENANT]);
    let (p, _unused) = setup();
    write(
        p.path(),
        ".systemprompt/credentials.json",
        &format!(
            "{{\"api_token\": \"{TOKEN}\", \"api_url\": \"{}\", \"user_email\": \"a@b.c\"}}",
            server.url
        ),
    );
    let mut c = cmd(p.path());
    c.args(["diff", "-v"]).env("HOME", p.path());
    let out = support::checked(c, &[TOKEN]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(&format!("API {}", server.url)),
        "{}",
        out.stderr
    );

    // login --import says that the upstream CLI needs the file, and keeps it when told no.
    let mut c = cmd(p.path());
    c.args(["login", "--import"])
        .env("HOME", p.path())
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils");
    let out = support::checked(c, &[TOKEN]);
    assert!(
        out.stderr.contains("`cloud deploy`")
            && out.stderr.contains("systemprompt cloud auth login"),
        "{out:?}"
    );
    assert!(
        p.path().join(".systemprompt/credentials.json").exists(),
        "kept without a yes"
    );
    let mut c = cmd(p.path());
    c.args(["logout", "--api-url", &server.url])
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils");
    assert_eq!(run(c).code, 0);
}

#[test]
fn urls_are_shown_without_credentials_or_query_values() {
    let (p, server) = setup();
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let url = format!("http://user:pw-CANARY@127.0.0.1:{port}/?token=CANARY-query");
    for args in [
        &["diff", "-vv"][..],
        &["sync", "--dry-run", "-v"],
        &["status", "--format", "json"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--api-url", url.as_str()]);
        if args[0] == "status" {
            all.truncate(all.len() - 2);
        }
        let mut c = cmd(p.path());
        c.args(&all)
            .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
            .env("SYSTEMPROMPT_API_URL", &url)
            .env("RUST_LOG", "trace");
        let out = run(c);
        let text = out.all();
        assert!(
            !text.contains("CANARY") && !text.contains(TOKEN),
            "{args:?}: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}

/// One deadline covers a request's headers and its body; a `Retry-After` longer than the time left
/// ends the command at once, saying how long the server asked for; `-v` shows each wait.
#[test]
fn deadlines_cover_the_body_and_retry_after_stays_within_the_budget() {
    use std::io::{Read as _, Write as _};
    // A server that sends its headers at once and then one byte a second, forever.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
                );
                for _ in 0..120 {
                    if conn.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    let (p, server) = setup();
    let started = std::time::Instant::now();
    let mut c = cmd(p.path());
    c.args(["diff", "--timeout", "2", "--api-url", &url])
        .env("SYSTEMPROMPT_API_TOKEN", TOKEN);
    let out = run(c);
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("timed out after 2 s: the answer had not finished arriving"),
        "{}",
        out.stderr
    );
    assert!(
        took < Duration::from_secs(60),
        "4 attempts of 2 s and the waits: {took:?}"
    );

    // 429 with Retry-After: 86400 and --timeout 2: no waiting, the server's wait named.
    server.fail_next(429, 1, Some(86_400));
    let started = std::time::Instant::now();
    let out = sp(&p, &server, &["diff", "--timeout", "2"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        // No wait for the day the server asks (the bound is loose: a loaded machine is slow).
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(
        out.stderr
            .contains("asks to wait 86400 s before another try (Retry-After)"),
        "{}",
        out.stderr
    );

    // Short waits are taken, and -v shows each.
    server.fail_next(503, 1, None);
    let out = sp(&p, &server, &["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("attempts") && out.stderr.contains("; waited "),
        "{}",
        out.stderr
    );
    server.fail_next(429, 1, Some(1));
    let out = sp(&p, &server, &["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("ms (Retry-After)"), "{}", out.stderr);
    server.fail_next(503, 0, None);
}

/// A loopback listener standing in for a proxy: it counts connections and closes each.
fn counting_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, count)
}

#[test]
fn plain_http_never_goes_through_a_proxy_and_https_names_it() {
    let (p, server) = setup();
    server.set_remote(TENANT, &[("ANTHROPIC_API_KEY", "x")]);
    let (proxy, seen) = counting_proxy();
    let proxies: Vec<(&str, &str)> = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .map(|n| (*n, proxy.as_str()))
        .collect();
    // Loopback http (the token and values in the clear) goes direct, whatever the environment says.
    let out = sp_env(&p, &server, &["diff"], &proxies);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    assert!(out.all().contains("ANTHROPIC_API_KEY"), "{out:?}");
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy saw plain-http traffic"
    );

    // HTTPS may go through a proxy (TLS end to end); a failure there names it. The proxy is a
    // loopback listener that closes the connection: nothing leaves the machine.
    let mut env = proxies.clone();
    env.push(("HTTPS_PROXY", proxy.as_str()));
    let mut c = cmd(p.path());
    c.args(["diff", "-v", "--timeout", "5"])
        .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
        .env("SYSTEMPROMPT_API_URL", "https://127.0.0.1:9");
    for (k, v) in &env {
        c.env(k, v);
    }
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("through the proxy {proxy}/ (HTTPS_PROXY)")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("HTTPS requests go through the proxy"),
        "-v names it: {}",
        out.stderr
    );
    assert!(!out.all().contains(TOKEN));
    assert!(seen.load(std::sync::atomic::Ordering::SeqCst) > 0);
}
