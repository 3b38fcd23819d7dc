//! A real, throwaway PostgreSQL server on a free loopback port, for `doctor --connect`.
//!
//! Uses the server binaries of Debian's `postgresql` package (.ci/run installs it): `$PG_BIN`, else
//! the newest `/usr/lib/postgresql/<version>/bin`. As root, the server runs as the `postgres` user
//! (PostgreSQL refuses to run as root). A missing server is a test failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "sp_app";
pub const PASSWORD: &str = "pg-canary-pw-7Hq2";
pub const DATABASE: &str = "postgres";

pub struct Postgres {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found: install Debian's `postgresql` package (.ci/run does) or set PG_BIN")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command that runs as `postgres` when we are root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a server certificate for 127.0.0.1 made with `openssl`, for a server with TLS.
pub struct Certs {
    /// The CA certificate (PEM), to trust through `SSL_CERT_FILE`.
    pub ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_certs(dir: &Path) -> Certs {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

impl Postgres {
    pub fn start() -> Self {
        Self::start_inner(false).0
    }

    /// A server that speaks TLS with a certificate for 127.0.0.1 signed by the returned CA.
    pub fn start_tls() -> (Self, Certs) {
        let (server, certs) = Self::start_inner(true);
        (server, certs.expect("certificates"))
    }

    fn start_inner(tls: bool) -> (Self, Option<Certs>) {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        let certs = tls.then(|| make_certs(dir.path()));
        if is_root() {
            // The server user must reach its files.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "chown to the postgres user (is Debian's postgresql package installed?)"
            );
        }
        let init = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let mut server_cmd = as_server_user(&bin.join("postgres"));
        server_cmd
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "fsync=off"]);
        if let Some(c) = &certs {
            server_cmd
                .args(["-c", "ssl=on", "-c"])
                .arg(format!("ssl_cert_file={}", c.cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", c.key.display()));
        }
        let child = server_cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        let ready = bin.join("pg_isready");
        loop {
            let ok = Command::new(&ready)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "PostgreSQL did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        (server, certs)
    }

    pub fn url(&self, password: &str) -> String {
        format!(
            "postgres://{USER}:{password}@127.0.0.1:{}/{DATABASE}?sslmode=disable",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // runuser forwards SIGTERM to the server: a smart shutdown.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
