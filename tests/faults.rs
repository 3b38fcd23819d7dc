//! Fault injection for both remote backends, through the binary.
//!
//! A loopback proxy (`tests/support/fault_proxy.rs`) sits in front of the cloud contract server
//! and of a real `bao server -dev`, and injects, per request: connection refused, a reset halfway
//! through the answer, an answer held back past `--timeout`, runs of 500/502/503, 429 with
//! `Retry-After`, and a token that stops working between two calls. Each case ends in success after
//! retries or in a clear error (exit 1, what happened, what to do); no value is ever printed; the
//! remote afterwards holds exactly the old map or the new one (read directly, not through the
//! proxy); a failed `pull` or `set --local` leaves secrets.json byte-for-byte as it was; and the
//! number of attempts matches the retry policy (4 in all, `Retry-After` honoured).

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::cloud_server::CloudServer;
use support::fault_proxy::{Fault, FaultProxy};
use support::openbao::{bao_project, DevServer};
use support::{cmd, project, Out};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const SLOW: Duration = Duration::from_millis(2500);

/// Runs the binary; checks that nothing leaked and nothing panicked; returns the output and time.
fn checked(mut c: Command, forbidden: &[&str]) -> (Out, Duration) {
    let started = Instant::now();
    c.env("RUST_BACKTRACE", "0");
    let out = support::checked(c, forbidden);
    let took = started.elapsed();
    assert!(
        out.code == 0 || out.stderr.contains("error: "),
        "a failure says so: {out:?}"
    );
    (out, took)
}

/// The attempts of each `-v` request line of `method` (`GET /v1/… -> 200 (2 attempts, 5 ms)`).
fn attempts(out: &Out, method: &str) -> Vec<usize> {
    out.stderr
        .lines()
        .filter(|l| l.contains(&format!("{method} ")) && l.contains(" -> "))
        .filter_map(|l| {
            let after = l.split_once(" -> ")?.1.split_once(" (")?.1;
            after.split(' ').next()?.parse().ok()
        })
        .collect()
}

/// A loopback URL where nothing listens.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn contains_all(out: &Out, parts: &[&str]) {
    for p in parts {
        assert!(out.stderr.contains(p), "expected `{p}` in:\n{}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// The systemprompt cloud.

const TOKEN: &str = "sp-fault-token-CANARY-91aa";
const TENANT: &str = "t-faults";
const ANT: &str = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYzAA";
const OLD_CLOUD: &[(&str, &str)] = &[
    ("JWT_SECRET", "old-jwt-CANARY"),
    ("REMOTE_ONLY", "kept-CANARY"),
];

fn cloud_secrets() -> String {
    format!(
        r#"{{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "anthropic": "{ANT}",
  "foo_bar": "custom-CANARY"
}}
"#
    )
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The remote after a successful sync: the old map with the local names pushed over it.
fn new_cloud() -> BTreeMap<String, String> {
    let mut m = map(OLD_CLOUD);
    m.extend(map(&[
        ("JWT_SECRET", "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"),
        ("DATABASE_URL", "postgres://app:pw-CANARY@db:5432/app"),
        ("ANTHROPIC_API_KEY", ANT),
        ("FOO_BAR", "custom-CANARY"),
    ]));
    m
}

struct CloudRig {
    server: CloudServer,
    proxy: FaultProxy,
    dir: tempfile::TempDir,
}

impl CloudRig {
    fn new() -> Self {
        let server = CloudServer::start(TOKEN, &[TENANT]);
        let proxy = FaultProxy::start(&server.url);
        let dir = project(&[
            (SECRETS, &cloud_secrets()),
            (
                ".systemprompt/profiles/local/profile.yaml",
                &format!("cloud:\n  tenant_id: {TENANT}\n"),
            ),
        ]);
        Self { server, proxy, dir }
    }

    /// A fresh case: the old map remotely, no faults, nothing recorded; then `script`.
    fn case(&self, script: Vec<Fault>, otherwise: Fault) {
        self.proxy.reset();
        self.server.set_remote(TENANT, OLD_CLOUD);
        self.server.clear_requests();
        self.proxy.script(script);
        self.proxy.otherwise(otherwise);
    }

    fn sp(&self, args: &[&str]) -> (Out, Duration) {
        let mut c = cmd(self.dir.path());
        c.env("SYSTEMPROMPT_API_TOKEN", TOKEN)
            .env("SYSTEMPROMPT_API_URL", &self.proxy.url)
            .args(args);
        let r = checked(c, &[ANT]);
        self.proxy.otherwise(Fault::Pass);
        r
    }

    fn remote(&self) -> BTreeMap<String, String> {
        self.server.remote(TENANT)
    }

    fn secrets_url(&self) -> String {
        format!("{}/api/v1/tenants/{TENANT}/secrets", self.proxy.url)
    }
}

#[test]
fn cloud_refused_reset_and_slow_answers() {
    let rig = CloudRig::new();

    // Connection refused for the whole run: nothing is sent, the message names the URL (the
    // token exchange comes first).
    rig.case(vec![], Fault::Pass);
    let url = closed_url();
    let (out, _) = rig.sp(&["sync", "--api-url", &url]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("POST {url}/api/v1/core/oauth/token: could not connect"),
            "after 4 attempts",
            "help: check the URL and your network",
        ],
    );
    assert_eq!(rig.remote(), map(OLD_CLOUD));

    // The port closes between the GET and the PUT, and opens again 300 ms later.
    rig.case(
        vec![Fault::PassThenRefuse(Duration::from_millis(300))],
        Fault::Pass,
    );
    let (out, _) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    let put = attempts(&out, "PUT");
    assert!(
        put.len() == 1 && (2..=4).contains(&put[0]),
        "the refused PUT is retried: {put:?}\n{}",
        out.stderr
    );
    assert_eq!(rig.server.count("PUT"), 1);
    assert_eq!(rig.remote(), new_cloud());

    // A reset halfway through the answer to a read: retried, then fine.
    rig.case(vec![Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);

    // A reset halfway through the answer to the PUT, which did land: the upsert is sent again
    // (it is idempotent) and the sync succeeds with the new map.
    rig.case(vec![Fault::Pass, Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "PUT"), vec![2], "{}", out.stderr);
    assert_eq!(rig.server.count("PUT"), 2, "landed twice, same map");
    assert_eq!(rig.remote(), new_cloud());

    // A reset before anything reached the server: sent again, lands once.
    rig.case(vec![Fault::Pass, Fault::ResetUnsent], Fault::Pass);
    let (out, _) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "PUT"), vec![2], "{}", out.stderr);
    assert_eq!(rig.server.count("PUT"), 1);
    assert_eq!(rig.remote(), new_cloud());

    // Every answer to the PUT breaks after it landed: the outcome is unknown to the client, and
    // it says so instead of "the server may be down".
    rig.case(vec![Fault::Pass], Fault::ResetMidBody);
    let (out, _) = rig.sp(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("PUT {}", rig.secrets_url()),
            "after 4 attempts",
            "may have applied",
            "cargo systemprompt-secrets diff",
        ],
    );
    assert!(!out.stderr.contains("Synced"), "{}", out.stderr);
    assert_eq!(rig.proxy.count("PUT"), 4);
    assert_eq!(rig.remote(), new_cloud(), "it did land");

    // `set --local` whose remote write fails leaves secrets.json byte-for-byte as it was.
    let before = std::fs::read(rig.dir.path().join(SECRETS)).unwrap();
    rig.case(vec![], Fault::ResetMidBody);
    let (out, _) = rig.sp(&["set", "NEW_KEY=new-CANARY", "--local"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["may have applied"]);
    assert_eq!(std::fs::read(rig.dir.path().join(SECRETS)).unwrap(), before);

    // An answer held back past --timeout, once, on a read: retried after the timeout.
    rig.case(vec![Fault::SlowHeaders(SLOW)], Fault::Pass);
    let (out, took) = rig.sp(&["diff", "-v", "--timeout", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    assert!(took >= Duration::from_secs(1), "{took:?}");

    // The same on the PUT, which landed before its answer was held back: sent again, success.
    rig.case(vec![Fault::Pass, Fault::SlowHeaders(SLOW)], Fault::Pass);
    let (out, _) = rig.sp(&["sync", "-v", "--timeout", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "PUT"), vec![2], "{}", out.stderr);
    assert_eq!(rig.remote(), new_cloud());

    // Every answer late: a clear timeout.
    rig.case(vec![], Fault::SlowHeaders(SLOW));
    let (out, took) = rig.sp(&["list", "--remote", "--timeout", "1"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("GET {}", rig.secrets_url()),
            "timed out after 1 s",
            "after 4 attempts",
        ],
    );
    assert!(
        took >= Duration::from_secs(4),
        "4 attempts of 1 s: {took:?}"
    );
    rig.server.assert_contract();
}

#[test]
fn cloud_status_runs_and_retry_after() {
    let rig = CloudRig::new();

    // 503 three times, then the answer: 4 attempts.
    rig.case(vec![Fault::Status(503, None); 3], Fault::Pass);
    let (out, _) = rig.sp(&["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![4], "{}", out.stderr);
    assert_eq!(rig.proxy.count("GET"), 4);

    // 502 three times on the PUT: 4 attempts, landed once.
    let mut script = vec![Fault::Pass];
    script.extend(vec![Fault::Status(502, None); 3]);
    rig.case(script, Fault::Pass);
    let (out, _) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "PUT"), vec![4], "{}", out.stderr);
    assert_eq!(rig.server.count("PUT"), 1);
    assert_eq!(rig.remote(), new_cloud());

    // 500 is retried too: every method of this API is idempotent (GET, the PUT upsert, DELETE).
    rig.case(vec![Fault::Status(500, None); 3], Fault::Pass);
    let (out, _) = rig.sp(&["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![4], "{}", out.stderr);
    let mut script = vec![Fault::Pass];
    script.extend(vec![Fault::Status(500, None); 3]);
    rig.case(script, Fault::Pass);
    let (out, _) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "PUT"), vec![4], "{}", out.stderr);
    assert_eq!(rig.remote(), new_cloud());

    // 500 every time on the PUT: the server's own message, the attempts, and the honest note that a
    // 500 may hide a write that was applied.
    rig.case(vec![Fault::Pass], Fault::Status(500, None));
    let (out, _) = rig.sp(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("PUT {}", rig.secrets_url()),
            "500",
            "injected 500",
            "after 4 attempts",
            "may have applied",
        ],
    );
    assert_eq!(rig.remote(), map(OLD_CLOUD), "never forwarded");

    // 503 every time on a read: no talk of a write.
    rig.case(vec![], Fault::Status(503, None));
    let (out, _) = rig.sp(&["diff"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["503", "after 4 attempts", "try again later"]);
    assert!(!out.stderr.contains("may have applied"), "{}", out.stderr);

    // 429 with Retry-After: 1, once on the read and once on the write: each waits at least 1 s.
    rig.case(
        vec![
            Fault::Status(429, Some(1)),
            Fault::Pass,
            Fault::Status(429, Some(1)),
        ],
        Fault::Pass,
    );
    let (out, took) = rig.sp(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    assert_eq!(attempts(&out, "PUT"), vec![2], "{}", out.stderr);
    let seen = rig.proxy.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for pair in [(0, 1), (2, 3)] {
        let gap = seen[pair.1].at.duration_since(seen[pair.0].at);
        assert!(
            gap >= Duration::from_millis(950),
            "Retry-After: 1 honoured: {gap:?}"
        );
    }
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert_eq!(rig.remote(), new_cloud());

    // 429 every time: gives up after 4 attempts, about 3 s of waiting.
    rig.case(vec![], Fault::Status(429, Some(1)));
    let (out, took) = rig.sp(&["diff"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["429", "after 4 attempts"]);
    assert!(took >= Duration::from_millis(2900), "{took:?}");

    // A DELETE that landed but whose answer broke: the retry gets 404; the name was removed by
    // this run, and is reported so (not as "was not set").
    rig.case(vec![Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&["unset", "REMOTE_ONLY", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["removed"], serde_json::json!(["REMOTE_ONLY"]), "{out:?}");
    assert_eq!(v["was_not_set"], serde_json::json!([]));
    assert!(!rig.remote().contains_key("REMOTE_ONLY"));
    rig.server.assert_contract();
}

#[test]
fn cloud_token_expires_between_calls() {
    let rig = CloudRig::new();

    // The PUT lands but its answer breaks; by the retry the token has expired. The client cannot
    // tell whether the first attempt landed, and says so.
    rig.case(
        vec![Fault::Pass, Fault::ResetMidBody],
        Fault::Status(401, None),
    );
    let (out, _) = rig.sp(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            "token rejected or expired",
            "an earlier attempt of this PUT reached the server and may have been applied",
        ],
    );
    assert_eq!(rig.remote(), new_cloud(), "it did land");

    // sync: the GET passes, then the token is refused: nothing written, a clear way out.
    rig.case(vec![Fault::Pass], Fault::Status(401, None));
    let (out, _) = rig.sp(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            "token rejected or expired (401: token expired or invalid)",
            "run `cargo systemprompt-secrets login`",
        ],
    );
    assert_eq!(rig.proxy.count("PUT"), 1, "a 401 is not retried");
    assert_eq!(rig.remote(), map(OLD_CLOUD));

    // unset of two names, one DELETE each: the first lands, the second is refused. The API has no
    // transaction, so the run says exactly which name went and which did not. (Before deleting,
    // unset checks that the server still lists names, which is the first request.)
    rig.case(vec![Fault::Pass, Fault::Pass], Fault::Status(401, None));
    let (out, _) = rig.sp(&["unset", "JWT_SECRET", "REMOTE_ONLY"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["Deleted 1 of 2 names", "token rejected or expired"]);
    let remote = rig.remote();
    assert_eq!(remote.len(), 1, "{remote:?}");
    let kept = remote.keys().next().unwrap().clone();
    assert!(
        out.stderr
            .contains(&format!("error: {kept}: token rejected")),
        "the name that was not deleted is named: {}",
        out.stderr
    );
    rig.server.assert_contract();
}

// ---------------------------------------------------------------------------------------------
// OpenBao.

const BAO_SECRETS: &str = r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "stripe_key": "sk_test_CANARY",
  "empty_one": ""
}
"#;
const OLD_BAO: &[(&str, &str)] = &[
    ("jwt_secret", "old-jwt-CANARY"),
    ("remote_only", "kept-CANARY"),
];

fn new_bao() -> BTreeMap<String, String> {
    let mut m = map(OLD_BAO);
    m.extend(map(&[
        ("jwt_secret", "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"),
        ("database_url", "postgres://app:pw-CANARY@db:5432/app"),
        ("stripe_key", "sk_test_CANARY"),
    ]));
    m
}

/// Straight to the server with the root token, never through the proxy.
fn bao_http(
    server: &DevServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    systemprompt_secrets::http::ensure_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut rb = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/v1/{path}", server.addr),
        )
        .header("X-Vault-Token", token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// The current version and map of `secret/<path>`.
fn bao_read(server: &DevServer, path: &str) -> (u64, BTreeMap<String, String>) {
    let (status, v) = bao_http(server, "GET", &format!("secret/data/{path}"), "root", None);
    assert_eq!(status, 200, "{v}");
    let data = v["data"]["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    (v["data"]["metadata"]["version"].as_u64().unwrap(), data)
}

struct BaoRig {
    server: DevServer,
    proxy: FaultProxy,
    next: std::cell::Cell<usize>,
}

/// One case: its own KV path holding the old map (version 1), and a project pointing at `address`.
struct BaoCase {
    path: String,
    dir: tempfile::TempDir,
}

impl BaoRig {
    fn new() -> Self {
        let server = DevServer::start();
        let proxy = FaultProxy::start(&server.addr);
        Self {
            server,
            proxy,
            next: std::cell::Cell::new(0),
        }
    }

    fn case_at(&self, addresses: &[&str], script: Vec<Fault>, otherwise: Fault) -> BaoCase {
        self.next.set(self.next.get() + 1);
        let path = format!("faults/case-{}", self.next.get());
        let data: serde_json::Map<String, serde_json::Value> = OLD_BAO
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect();
        let (status, v) = bao_http(
            &self.server,
            "POST",
            &format!("secret/data/{path}"),
            "root",
            Some(serde_json::json!({ "data": data })),
        );
        assert_eq!(status, 200, "{v}");
        let dir = bao_project(addresses, &format!("path = \"{path}\"\n"), BAO_SECRETS);
        self.proxy.reset();
        self.proxy.script(script);
        self.proxy.otherwise(otherwise);
        BaoCase { path, dir }
    }

    fn case(&self, script: Vec<Fault>, otherwise: Fault) -> BaoCase {
        self.case_at(&[&self.proxy.url.clone()], script, otherwise)
    }

    fn sp(&self, case: &BaoCase, args: &[&str]) -> (Out, Duration) {
        self.sp_token(case, args, "root")
    }

    fn sp_token(&self, case: &BaoCase, args: &[&str], token: &str) -> (Out, Duration) {
        let mut c = cmd(case.dir.path());
        c.env("HOME", case.dir.path())
            .env("BAO_TOKEN", token)
            .args(args);
        // The seeded remote stands for someone else's earlier push, which `sync` would stop on
        // (tests/openbao.rs tests that); here the faults on the way are what is tested.
        if args.first() == Some(&"sync") {
            c.arg("--force");
        }
        let forbidden: &[&str] = if token == "root" { &[] } else { &[token] };
        let r = checked(c, forbidden);
        self.proxy.otherwise(Fault::Pass);
        r
    }

    fn remote(&self, case: &BaoCase) -> (u64, BTreeMap<String, String>) {
        bao_read(&self.server, &case.path)
    }

    fn data_url(&self, case: &BaoCase) -> String {
        format!("{}/v1/secret/data/{}", self.proxy.url, case.path)
    }
}

fn secrets_bytes(case: &BaoCase) -> Vec<u8> {
    std::fs::read(case.dir.path().join(SECRETS)).unwrap()
}

#[test]
fn openbao_refused_reset_and_slow_answers() {
    let rig = BaoRig::new();

    // Connection refused for the whole run.
    let url = closed_url();
    let case = rig.case_at(&[&url], vec![], Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("GET {url}/v1/secret/data/{}: could not connect", case.path),
            "after 4 attempts",
            "check the URL and your network",
        ],
    );
    assert_eq!(rig.remote(&case), (1, map(OLD_BAO)));

    // Refused on the first address, the second answers: failover, no error.
    let case = rig.case_at(&[&url, &rig.proxy.url], vec![], Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    assert_eq!(rig.remote(&case), (2, new_bao()));

    // The port closes between the read and the check-and-set write, then opens again.
    let case = rig.case(
        vec![Fault::PassThenRefuse(Duration::from_millis(300))],
        Fault::Pass,
    );
    let (out, _) = rig.sp(&case, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    let post = attempts(&out, "POST");
    assert!(
        post.len() == 1 && (2..=4).contains(&post[0]),
        "{post:?}\n{}",
        out.stderr
    );
    assert_eq!(rig.remote(&case), (2, new_bao()));

    // Reset halfway through the answer to a read: diff and pull retry and succeed.
    let case = rig.case(vec![Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&case, &["diff", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    rig.proxy.script(vec![Fault::ResetMidBody]);
    let (out, _) = rig.sp(&case, &["pull", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let local: BTreeMap<String, String> = serde_json::from_slice(&secrets_bytes(&case)).unwrap();
    assert_eq!(local, map(OLD_BAO), "pulled the remote map");

    // Reset halfway through the answer to the check-and-set write, which landed as version 2.
    // The retry is refused by check-and-set; reading version 2 back shows it is this very write,
    // so the sync reports success, not a conflict with "someone else".
    let case = rig.case(vec![Fault::Pass, Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("(version 2)"), "{}", out.stderr);
    assert!(!out.stderr.contains("conflict"), "{}", out.stderr);
    assert_eq!(rig.proxy.count("POST"), 2);
    assert_eq!(rig.remote(&case), (2, new_bao()));

    // The same for set and unset (read-modify-write): the value was written by this run.
    let case = rig.case(vec![Fault::Pass, Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&case, &["set", "STRIPE_KEY=sk_test_set-CANARY"]);
    assert_eq!(out.code, 0, "{out:?}");
    contains_all(&out, &["Set stripe_key", "(version 2)"]);
    assert!(
        !out.stderr.contains("nothing was written"),
        "{}",
        out.stderr
    );
    let mut expected = map(OLD_BAO);
    expected.insert("stripe_key".to_owned(), "sk_test_set-CANARY".to_owned());
    assert_eq!(rig.remote(&case), (2, expected));
    let case = rig.case(vec![Fault::Pass, Fault::ResetMidBody], Fault::Pass);
    let (out, _) = rig.sp(&case, &["unset", "REMOTE_ONLY"]);
    assert_eq!(out.code, 0, "{out:?}");
    contains_all(&out, &["Deleted 1 of 1"]);
    assert!(!out.stderr.contains("was not set"), "{}", out.stderr);
    assert_eq!(rig.remote(&case), (2, map(&OLD_BAO[..1])));

    // Every answer to the write breaks (the first landed), then the server answers again: the
    // read-back settles it, success.
    let mut script = vec![Fault::Pass];
    script.extend(vec![Fault::ResetMidBody; 4]);
    let case = rig.case(script, Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(rig.proxy.count("POST"), 4);
    assert_eq!(rig.remote(&case), (2, new_bao()));

    // Every answer breaks, the read-back too: the outcome is unknown, and said to be.
    let case = rig.case(vec![Fault::Pass], Fault::ResetMidBody);
    let (out, _) = rig.sp(&case, &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("POST {}", rig.data_url(&case)),
            "after 4 attempts",
            "may or may not have been applied",
            "cargo systemprompt-secrets diff",
        ],
    );
    assert!(!out.stderr.contains("Synced"), "{}", out.stderr);
    let (version, data) = rig.remote(&case);
    assert!(
        (version, &data) == (1, &map(OLD_BAO)) || (version, &data) == (2, &new_bao()),
        "old or new map: {version}"
    );

    // A reset before anything reached the server: sent again, lands once.
    let case = rig.case(vec![Fault::Pass, Fault::ResetUnsent], Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "POST"), vec![2], "{}", out.stderr);
    assert_eq!(rig.remote(&case), (2, new_bao()));
}

#[test]
fn openbao_slow_answers() {
    let rig = BaoRig::new();

    // Answers held back past --timeout: once on the read (retried), once on the write that landed
    // (retried, check-and-set refuses, read-back confirms), always (a clear timeout).
    let case = rig.case(vec![Fault::SlowHeaders(SLOW)], Fault::Pass);
    let (out, took) = rig.sp(&case, &["diff", "-v", "--timeout", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    assert!(took >= Duration::from_secs(1));
    let case = rig.case(vec![Fault::Pass, Fault::SlowHeaders(SLOW)], Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync", "-v", "--timeout", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("conflict"), "{}", out.stderr);
    assert_eq!(rig.remote(&case), (2, new_bao()));
    let case = rig.case(vec![], Fault::SlowHeaders(SLOW));
    let before = secrets_bytes(&case);
    let (out, took) = rig.sp(&case, &["pull", "--yes", "--timeout", "1"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            &format!("GET {}", rig.data_url(&case)),
            "timed out after 1 s",
            "after 4 attempts",
        ],
    );
    assert!(took >= Duration::from_secs(4), "{took:?}");
    assert_eq!(
        secrets_bytes(&case),
        before,
        "a failed pull changes nothing"
    );
}

#[test]
fn openbao_status_runs_and_retry_after() {
    let rig = BaoRig::new();

    // 503, 502 and 500 three times each, then the answer: 4 attempts, on a read and on the write.
    for status in [503, 502, 500] {
        let case = rig.case(vec![Fault::Status(status, None); 3], Fault::Pass);
        let (out, _) = rig.sp(&case, &["diff", "-v"]);
        assert_eq!(out.code, 0, "{status}: {out:?}");
        assert_eq!(attempts(&out, "GET"), vec![4], "{status}: {}", out.stderr);

        let mut script = vec![Fault::Pass];
        script.extend(vec![Fault::Status(status, None); 3]);
        let case = rig.case(script, Fault::Pass);
        let (out, _) = rig.sp(&case, &["sync", "-v"]);
        assert_eq!(out.code, 0, "{status}: {out:?}");
        assert_eq!(attempts(&out, "POST"), vec![4], "{status}: {}", out.stderr);
        assert!(!out.stderr.contains("conflict"), "{}", out.stderr);
        assert_eq!(rig.remote(&case), (2, new_bao()), "{status}");
    }

    // 500 on every attempt of the write; the read-back shows it never landed: a clear error that
    // says nothing was written.
    let mut script = vec![Fault::Pass];
    script.extend(vec![Fault::Status(500, None); 4]);
    let case = rig.case(script, Fault::Pass);
    let (out, _) = rig.sp(&case, &["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["500", "injected 500", "nothing was written"]);
    assert_eq!(rig.remote(&case), (1, map(OLD_BAO)));

    // 503 on everything: pull fails clearly, secrets.json untouched.
    let case = rig.case(vec![], Fault::Status(503, None));
    let before = secrets_bytes(&case);
    let (out, _) = rig.sp(&case, &["pull", "--yes"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["503", "injected 503"]);
    assert_eq!(rig.proxy.count("GET"), 4);
    assert_eq!(secrets_bytes(&case), before);

    // 429 with Retry-After: 1 on the read and on the write: each waits at least 1 s.
    let case = rig.case(
        vec![
            Fault::Status(429, Some(1)),
            Fault::Pass,
            Fault::Status(429, Some(1)),
        ],
        Fault::Pass,
    );
    let (out, took) = rig.sp(&case, &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(attempts(&out, "GET"), vec![2], "{}", out.stderr);
    assert_eq!(attempts(&out, "POST"), vec![2], "{}", out.stderr);
    let seen = rig.proxy.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for (a, b) in [(0, 1), (2, 3)] {
        let gap = seen[b].at.duration_since(seen[a].at);
        assert!(gap >= Duration::from_millis(950), "Retry-After: 1: {gap:?}");
    }
    assert!(took >= Duration::from_secs(2));
    assert_eq!(rig.remote(&case), (2, new_bao()));

    // 429 every time: 4 attempts, then the server's words.
    let case = rig.case(vec![], Fault::Status(429, Some(1)));
    let (out, took) = rig.sp(&case, &["diff"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(&out, &["429"]);
    assert_eq!(rig.proxy.count("GET"), 4);
    assert!(took >= Duration::from_millis(2900), "{took:?}");
}

/// A token for `faults-rw` (read and write under secret/data/), valid for `ttl`.
fn limited_token(server: &DevServer, ttl: &str) -> String {
    let (status, v) = bao_http(
        server,
        "PUT",
        "sys/policies/acl/faults-rw",
        "root",
        Some(serde_json::json!({
            "policy": "path \"secret/data/*\" { capabilities = [\"create\", \"read\", \"update\"] }\n"
        })),
    );
    assert!(status == 204 || status == 200, "{status} {v}");
    let (status, v) = bao_http(
        server,
        "POST",
        "auth/token/create",
        "root",
        Some(serde_json::json!({"policies": ["faults-rw"], "ttl": ttl, "explicit_max_ttl": ttl})),
    );
    assert_eq!(status, 200, "{v}");
    v["auth"]["client_token"].as_str().unwrap().to_owned()
}

fn token_works(addr: &str, token: &str) -> bool {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .get(format!("{addr}/v1/auth/token/lookup-self"))
        .header("X-Vault-Token", token)
        .send()
        .is_ok_and(|r| r.status().as_u16() == 200)
}

#[test]
fn openbao_token_expires_between_calls() {
    let rig = BaoRig::new();
    let addr = rig.server.addr.clone();

    // sync with a real short-lived token: it expires (on the server's own clock) after the read
    // and before the check-and-set write. Nothing is written; the message says what to do.
    let token = limited_token(&rig.server, "4s");
    let (a, t) = (addr.clone(), token.clone());
    let wait_expiry = Fault::Run(Arc::new(move || {
        support::openbao::wait_until(Duration::from_secs(20), "the token to expire", || {
            !token_works(&a, &t)
        });
    }));
    let case = rig.case(vec![Fault::Pass, wait_expiry], Fault::Pass);
    let (out, _) = rig.sp_token(&case, &["sync"], &token);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            "rejected the token from env $BAO_TOKEN (expired, revoked or wrong)",
            "cargo systemprompt-secrets login --backend openbao",
        ],
    );
    assert_eq!(rig.remote(&case), (1, map(OLD_BAO)));

    // set and unset (read-modify-write) with a token revoked between the read and the write.
    for args in [
        &["set", "STRIPE_KEY=sk_test_x-CANARY"][..],
        &["unset", "REMOTE_ONLY"],
    ] {
        let token = limited_token(&rig.server, "1h");
        let (a, t) = (addr.clone(), token.clone());
        let revoke = Fault::Run(Arc::new(move || {
            let o = support::openbao::bao(&a, "root", &["token", "revoke", &t]);
            assert!(o.status.success(), "{o:?}");
        }));
        let case = rig.case(vec![Fault::Pass, revoke], Fault::Pass);
        let (out, _) = rig.sp_token(&case, args, &token);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        contains_all(&out, &["rejected the token", "login --backend openbao"]);
        assert_eq!(rig.proxy.count("POST"), 1, "a 403 is not retried");
        assert_eq!(rig.remote(&case), (1, map(OLD_BAO)), "{args:?}");
    }

    // The write lands but its answer breaks, and the token is revoked before the retry: the retry
    // and the read-back are refused, so the outcome is unknown, and said to be.
    let token = limited_token(&rig.server, "1h");
    let (a, t) = (addr.clone(), token.clone());
    let revoke = Fault::Run(Arc::new(move || {
        let o = support::openbao::bao(&a, "root", &["token", "revoke", &t]);
        assert!(o.status.success(), "{o:?}");
    }));
    let case = rig.case(vec![Fault::Pass, Fault::ResetMidBody, revoke], Fault::Pass);
    let (out, _) = rig.sp_token(&case, &["sync"], &token);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            "may or may not have been applied",
            "rejected the token",
            "cargo systemprompt-secrets diff",
        ],
    );
    assert_eq!(rig.remote(&case), (2, new_bao()), "it did land");

    // pull and diff with a token that has expired: clear, and secrets.json untouched.
    let token = limited_token(&rig.server, "1h");
    let case = rig.case(vec![], Fault::Pass);
    let o = support::openbao::bao(&addr, "root", &["token", "revoke", &token]);
    assert!(o.status.success(), "{o:?}");
    let before = secrets_bytes(&case);
    for args in [&["pull", "--yes"][..], &["diff"]] {
        let (out, _) = rig.sp_token(&case, args, &token);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        contains_all(&out, &["rejected the token"]);
    }
    assert_eq!(secrets_bytes(&case), before);
}

/// The proxy itself: a quick check of each fault against the contract server, without the binary.
#[test]
fn the_proxy_applies_its_script_in_order() {
    let server = CloudServer::start(TOKEN, &[TENANT]);
    let proxy = FaultProxy::start(&server.url);
    proxy.script(vec![
        Fault::Status(503, Some(7)),
        Fault::ResetUnsent,
        Fault::Pass,
    ]);
    systemprompt_secrets::http::ensure_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("{}/api/v1/tenants/{TENANT}/secrets", proxy.url);
    let get = || {
        client
            .get(&url)
            .bearer_auth(TOKEN)
            .header("user-agent", "cargo-systemprompt-secrets/test")
            .send()
    };
    let r = get().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    assert!(get().is_err(), "reset");
    let r = get().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().unwrap(), r#"{"keys":[]}"#);
    let seen: Vec<(String, bool)> = proxy
        .seen()
        .into_iter()
        .map(|s| (s.fault, s.forwarded))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("status 503".to_owned(), false),
            ("reset unsent".to_owned(), false),
            ("pass".to_owned(), true),
        ]
    );
    assert_eq!(server.count("GET"), 1);
}

#[test]
fn cloud_sync_prune_that_fails_after_the_push_says_the_push_landed() {
    let rig = CloudRig::new();
    // GET and PUT pass; every DELETE of the prune is refused with 403.
    rig.case(vec![Fault::Pass, Fault::Pass], Fault::Status(403, None));
    let (out, _) = rig.sp(&["sync", "--prune", "--yes"]);
    assert_eq!(out.code, 1, "{out:?}");
    contains_all(
        &out,
        &[
            "Pushed",
            "pruned 0 of",
            "could not delete",
            "the push itself was applied",
        ],
    );
    assert_eq!(
        rig.remote(),
        new_cloud(),
        "pushed, and REMOTE_ONLY kept because its DELETE failed"
    );
}
