//! The OpenBao backend against a real `bao server -dev` (and, in `cluster_*`, a real 3-node Raft
//! cluster), through the binary.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::openbao::{bao_project, kv_get, Cluster, DevServer, IntrudingProxy};
use support::{cmd, write, Out};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const PATH: &str = "systemprompt/bao-demo/local";

fn secrets() -> String {
    r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "stripe_key": "sk_test_CANARY",
  "empty_one": ""
}
"#
    .to_owned()
}

fn sp(dir: &std::path::Path, args: &[&str]) -> Out {
    sp_env(dir, args, &[("BAO_TOKEN", "root")])
}

fn sp_env(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let home = dir.to_string_lossy();
    let mut all = vec![("HOME", home.as_ref())];
    all.extend_from_slice(env);
    support::sp_env(dir, args, &all)
}

#[test]
fn sync_pull_round_trip_prune_and_diff() {
    let server = DevServer::start();
    let p = bao_project(&[&server.addr], "", &secrets());
    let out = sp(p.path(), &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("new: database_url, jwt_secret, stripe_key"),
        "{}",
        out.stderr
    );
    let remote = kv_get(&server.addr, "root", PATH);
    assert_eq!(remote["stripe_key"], "sk_test_CANARY");
    assert_eq!(remote.len(), 3, "empty values are not pushed");
    assert_eq!(
        out.stderr.matches("-> ").count(),
        3,
        "GET 404, mount preflight, one write: {}",
        out.stderr
    );

    // A second sync with no change reads once and writes nothing.
    let out = sp(p.path(), &["sync", "-v"]);
    assert!(
        out.stderr.contains("up to date") && out.stderr.matches("-> ").count() == 1,
        "{}",
        out.stderr
    );

    // Someone adds a key and changes one remotely.
    let o = server.bao(&[
        "kv",
        "patch",
        "-mount=secret",
        PATH,
        "extra=remote-CANARY",
        "stripe_key=sk_test_changed-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let diff = sp(p.path(), &["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&diff.stdout).unwrap();
    let status = |k: &str| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .map(|e| e["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("jwt_secret").as_deref(), Some("equal"));
    assert_eq!(status("stripe_key").as_deref(), Some("changed"));
    assert_eq!(status("extra").as_deref(), Some("remote-only"));

    // pull shows names, asks (no terminal: refuses without --yes), then writes 0600.
    let out = sp(p.path(), &["pull"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("add: extra")
            && out.stderr.contains("change: stripe_key")
            && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["pull", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let local: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(local["stripe_key"], "sk_test_changed-CANARY");
    assert_eq!(local["extra"], "remote-CANARY");
    assert!(
        local.get("empty_one").is_none(),
        "the file becomes the remote map"
    );
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

    // Merge keeps remote-only keys; --prune makes the remote exactly the local map.
    let o = server.bao(&["kv", "patch", "-mount=secret", PATH, "remote_only=x"]);
    assert!(o.status.success());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    assert!(kv_get(&server.addr, "root", PATH).contains_key("remote_only"));
    let out = sp(p.path(), &["sync", "--prune"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!kv_get(&server.addr, "root", PATH).contains_key("remote_only"));
}

#[test]
fn sync_stops_before_overwriting_a_teammates_newer_value() {
    let server = DevServer::start();
    let p = bao_project(&[&server.addr], "", &secrets());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);

    // A teammate changes one key; here another one changes.
    let o = server.bao(&[
        "kv",
        "patch",
        "-mount=secret",
        PATH,
        "stripe_key=sk_test_theirs-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let local = std::fs::read_to_string(p.path().join(SECRETS))
        .unwrap()
        .replace("pw-CANARY", "pw2-CANARY");
    write(p.path(), SECRETS, &local);

    // diff says which side changed each key.
    let out = sp(p.path(), &["diff"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("database_url (changed here)")
            && out.stdout.contains("stripe_key (changed on the remote)"),
        "{}",
        out.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&sp(p.path(), &["diff", "--format", "json"]).stdout).unwrap();
    let by = |k: &str| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .map(|e| e["changed_by"].clone())
    };
    assert_eq!(by("stripe_key"), Some(serde_json::json!("remote")));
    assert_eq!(by("database_url"), Some(serde_json::json!("local")));
    assert_eq!(by("jwt_secret"), Some(serde_json::Value::Null));

    // sync stops, names the key, points to pull and --force; nothing is written.
    let out = sp(p.path(), &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("1 key changed on the remote since this machine last synced")
            && out.stderr.contains(": stripe_key.")
            && out.stderr.contains("`pull`")
            && out.stderr.contains("sync --force"),
        "{}",
        out.stderr
    );
    let remote = kv_get(&server.addr, "root", PATH);
    assert_eq!(remote["stripe_key"], "sk_test_theirs-CANARY");
    assert_eq!(
        remote["database_url"],
        "postgres://app:pw-CANARY@db:5432/app"
    );

    // --force overwrites, and says so; then the record moves on and a plain sync is fresh.
    let out = sp(p.path(), &["sync", "--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("overwrite: stripe_key"),
        "{}",
        out.stderr
    );
    assert_eq!(
        kv_get(&server.addr, "root", PATH)["stripe_key"],
        "sk_test_CANARY"
    );
    assert_eq!(sp(p.path(), &["sync"]).code, 0);

    // A teammate's change that this machine pulled is no conflict.
    let o = server.bao(&["kv", "patch", "-mount=secret", PATH, "stripe_key=again"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(sp(p.path(), &["pull", "--yes"]).code, 0);
    write(
        p.path(),
        SECRETS,
        &std::fs::read_to_string(p.path().join(SECRETS))
            .unwrap()
            .replace("again", "mine-after-pull"),
    );
    let out = sp(p.path(), &["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        kv_get(&server.addr, "root", PATH)["stripe_key"],
        "mine-after-pull"
    );

    // Another checkout that never synced or pulled: a differing value stops it too.
    let other = bao_project(&[&server.addr], "", &secrets());
    let out = sp(other.path(), &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("no sync or pull of this profile is recorded on this machine"),
        "{}",
        out.stderr
    );
    let out = sp(other.path(), &["diff"]);
    assert!(
        out.stderr.contains("which side changed is unknown"),
        "{}",
        out.stderr
    );
}

#[test]
fn versions_rollback_and_remote_env_names() {
    let server = DevServer::start();
    let p = bao_project(&[&server.addr], "remote-names = \"env\"\n", &secrets());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    assert!(
        kv_get(&server.addr, "root", PATH).contains_key("JWT_SECRET"),
        "env-style names"
    );
    assert_eq!(sp(p.path(), &["set", "STRIPE_KEY=sk_test_v2"]).code, 0);
    assert_eq!(sp(p.path(), &["unset", "stripe_key"]).code, 0);
    let out = sp(p.path(), &["versions", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["current_version"], 3, "{}", out.stdout);
    let human = sp(p.path(), &["versions"]);
    assert!(human.stdout.contains("(current)"), "{}", human.stdout);

    let out = sp(p.path(), &["rollback", "--version", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("restore: STRIPE_KEY"), "{}", out.stderr);
    assert_eq!(
        kv_get(&server.addr, "root", PATH)["STRIPE_KEY"],
        "sk_test_CANARY"
    );
    let out = sp(p.path(), &["rollback", "--version", "9"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no such version"), "{}", out.stderr);

    // The current version holds a value that is not a string: exactly when a rollback is needed.
    systemprompt_secrets::http::ensure_crypto_provider();
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/v1/secret/data/{PATH}", server.addr))
        .header("X-Vault-Token", "root")
        .body(r#"{"data": {"JWT_SECRET": {"nested": true}, "COUNT": 5}}"#)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{r:?}");
    let out = sp(p.path(), &["diff"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("is not a string") && out.stderr.contains("rollback"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["rollback", "--version", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("not a string; the restore replaces the whole map"),
        "{}",
        out.stderr
    );
    let now = kv_get(&server.addr, "root", PATH);
    assert_eq!(now["STRIPE_KEY"], "sk_test_CANARY");
    assert!(!now.contains_key("COUNT"));

    // pull maps env-style names back to secrets.json keys.
    let o = server.bao(&[
        "kv",
        "patch",
        "-mount=secret",
        PATH,
        "ANTHROPIC_API_KEY=sk-ant-x",
    ]);
    assert!(o.status.success());
    assert_eq!(sp(p.path(), &["pull", "--yes"]).code, 0);
    let local: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(local["anthropic"], "sk-ant-x");
    assert_eq!(local["stripe_key"], "sk_test_CANARY");
}

#[test]
fn concurrent_sets_of_different_keys_both_land() {
    let server = DevServer::start();
    let p = bao_project(&[&server.addr], "", &secrets());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    for round in 0..4 {
        let children: Vec<_> = (0..3)
            .map(|i| {
                let mut c = cmd(p.path());
                c.env("HOME", p.path())
                    .env("BAO_TOKEN", "root")
                    .args(["set", &format!("KEY_{round}_{i}=v{round}{i}")]);
                c.stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let remote = kv_get(&server.addr, "root", PATH);
    for round in 0..4 {
        for i in 0..3 {
            assert_eq!(
                remote[&format!("key_{round}_{i}")],
                format!("v{round}{i}"),
                "every concurrent set landed"
            );
        }
    }
}

#[test]
fn conflicting_sync_fails_cleanly() {
    let server = DevServer::start();
    let addr = server.addr.clone();
    let proxy = IntrudingProxy::start(&server.addr, move || {
        let o = support::openbao::bao(
            &addr,
            "root",
            &[
                "kv",
                "patch",
                "-mount=secret",
                PATH,
                "stripe_key=intruder-CANARY",
                "intruder=1",
            ],
        );
        assert!(o.status.success(), "{o:?}");
    });
    let p = bao_project(&[&proxy.addr], "", &secrets());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    write(
        p.path(),
        SECRETS,
        &secrets().replace("sk_test_CANARY", "sk_test_local-CANARY"),
    );
    proxy.arm();
    let out = sp(p.path(), &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("check-and-set conflict"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("someone else wrote version 2 after this sync read version 1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("keys that changed in between: intruder, stripe_key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`cargo systemprompt-secrets diff`") && out.stderr.contains("`pull`"),
        "{}",
        out.stderr
    );
    let remote = kv_get(&server.addr, "root", PATH);
    assert_eq!(
        remote["stripe_key"], "intruder-CANARY",
        "the other write is not lost"
    );

    // A library-level read, then someone else's write, then our write with the old version.
    let http =
        systemprompt_secrets::http::Http::new(systemprompt_secrets::http::HttpConfig::default())
            .unwrap();
    let url = systemprompt_secrets::http::parse_base_url(&server.addr).unwrap();
    let client = systemprompt_secrets::remote::openbao::BaoClient::new(
        http,
        vec![url],
        "secret",
        PATH,
        None,
        "root".to_owned().into(),
    );
    let snapshot = client.read(None).unwrap();
    assert!(server
        .bao(&["kv", "patch", "-mount=secret", PATH, "intruder=1"])
        .status
        .success());
    let err = client.write(&snapshot.data, snapshot.version).unwrap_err();
    assert!(
        matches!(
            err,
            systemprompt_secrets::remote::openbao::BaoError::Conflict(_)
        ),
        "{err}"
    );
    assert!(
        kv_get(&server.addr, "root", PATH).contains_key("intruder"),
        "nothing was lost"
    );
}

#[test]
fn clear_errors_for_token_mount_kv1_policy_sealed_and_down() {
    let mut server = DevServer::start();
    let p = bao_project(&[&server.addr], "", &secrets());
    let out = sp_env(p.path(), &["sync"], &[("BAO_TOKEN", "wrong")]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("rejected the token") && out.stderr.contains("login --backend openbao"),
        "{}",
        out.stderr
    );

    let q = bao_project(&[&server.addr], "mount = \"nomount\"\n", &secrets());
    let out = sp(q.path(), &["sync"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("no secrets engine mounted at `nomount/`"),
        "{}",
        out.stderr
    );

    assert!(server
        .bao(&["secrets", "enable", "-path=kv1", "-version=1", "kv"])
        .status
        .success());
    let q = bao_project(&[&server.addr], "mount = \"kv1\"\n", &secrets());
    let out = sp(q.path(), &["sync"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("KV version 1"), "{}", out.stderr);

    let mut c = std::process::Command::new(support::openbao::bao_bin());
    c.args(["policy", "write", "ro", "-"])
        .env("BAO_ADDR", &server.addr)
        .env("BAO_TOKEN", "root")
        .stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"path \"secret/data/*\" { capabilities = [\"read\"] }\n",
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    let token = String::from_utf8(
        server
            .bao(&["token", "create", "-policy=ro", "-field=token"])
            .stdout,
    )
    .unwrap();
    let out = sp_env(p.path(), &["set", "X=1"], &[("BAO_TOKEN", token.trim())]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("permission denied") && out.stderr.contains("create/update"),
        "{}",
        out.stderr
    );

    // A profile larger than the listener's JSON limits gets a clear message.
    let big: String = format!(
        "{{{}}}",
        (0..600)
            .map(|i| format!("\"k{i}\": \"v{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let q = bao_project(&[&server.addr], "", &big);
    let out = sp(q.path(), &["sync", "--force"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("max_request_json_strings"),
        "{}",
        out.stderr
    );

    // ~/.vault-token is used, with a warning.
    write(p.path(), ".vault-token", "root");
    let out = sp_env(p.path(), &["diff"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(".vault-token") && out.stderr.contains("plaintext"),
        "{}",
        out.stderr
    );

    assert!(server.bao(&["operator", "seal"]).status.success());
    let out = sp(p.path(), &["diff"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is sealed"), "{}", out.stderr);

    server.kill();
    let out = sp(p.path(), &["diff"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("could not connect") && out.stderr.contains("attempts"),
        "{}",
        out.stderr
    );
}

#[test]
fn cluster_writes_survive_losing_the_leader() {
    let mut cluster = Cluster::start();
    let addrs: Vec<&str> = cluster.nodes.iter().map(|n| n.addr.as_str()).collect();
    let p = bao_project(&addrs, "", &secrets());
    let token = cluster.root_token.clone();
    let env = [("BAO_TOKEN", token.as_str())];
    let run_ok = |args: &[&str]| {
        // Every write succeeds, or fails loudly and then succeeds on a retry.
        for attempt in 0..5 {
            let out = sp_env(p.path(), args, &env);
            if out.code == 0 {
                return;
            }
            assert!(out.stderr.contains("error:"), "a failure is loud: {out:?}");
            assert!(attempt < 4, "still failing after retries: {out:?}");
            std::thread::sleep(Duration::from_secs(2));
        }
    };
    run_ok(&["sync"]);
    let mut killed = None;
    for i in 0..12 {
        if i == 4 {
            let leader = cluster.leader().expect("a leader");
            cluster.kill(leader);
            killed = Some(leader);
        }
        run_ok(&["set", &format!("LOOP_{i}=value-{i}")]);
        if i % 3 == 0 {
            write(
                p.path(),
                SECRETS,
                &secrets().replace("\"empty_one\": \"\"", &format!("\"synced_{i}\": \"s{i}\"")),
            );
            run_ok(&["sync"]);
        }
    }
    let check_on = cluster.other_than(killed.expect("the leader was killed"));
    // Standby nodes serve reads and may lag the active node for a moment (eventual consistency):
    // wait until the node asked has applied every acknowledged write.
    let mut remote = kv_get(check_on, &token, PATH);
    let started = std::time::Instant::now();
    while (0..12).any(|i| !remote.contains_key(&format!("loop_{i}")))
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(500));
        remote = kv_get(check_on, &token, PATH);
    }
    for i in 0..12 {
        assert_eq!(
            remote[&format!("loop_{i}")],
            format!("value-{i}"),
            "update {i} is present on another node"
        );
    }
    assert_eq!(remote["synced_9"], "s9");
    assert_eq!(
        remote["jwt_secret"],
        "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"
    );
}

#[test]
fn pull_refuses_two_remote_names_that_become_one_key() {
    let server = DevServer::start();
    let p = bao_project(&[&server.addr], "remote-names = \"env\"\n", &secrets());
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    // Two names for one key: `ANTHROPIC` (lower-cased) and `ANTHROPIC_API_KEY` (the env name).
    let o = server.bao(&[
        "kv",
        "patch",
        "-mount=secret",
        PATH,
        "ANTHROPIC=sk-ant-one-CANARY",
        "ANTHROPIC_API_KEY=sk-ant-two-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let before = std::fs::read_to_string(p.path().join(SECRETS)).unwrap();
    for args in [&["pull", "--yes"][..], &["pull", "--dry-run"]] {
        let out = sp(p.path(), args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(
                "the remote names `ANTHROPIC` and `ANTHROPIC_API_KEY` both become the key `anthropic`"
            ) && out.stderr.contains("nothing was written"),
            "{}",
            out.stderr
        );
        assert_eq!(
            std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
            before
        );
    }
}
