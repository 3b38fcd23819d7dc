//! `doctor --connect`: does `database_url` really open a PostgreSQL connection?
//!
//! Connects with the `postgres` crate, runs `SELECT version()`, and reports the server and whether
//! TLS was used — never the URL, since it holds the password. TLS goes through rustls and the OS
//! verifier. With no `sslmode` in the URL, the app's own default applies: `prefer`, as libpq and
//! sqlx (TLS when the server offers it, else a plain connection, said out loud and warned about
//! when the server is not on this machine); `sslmode=require` needs TLS; `sslmode=disable`
//! connects without it.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// What a successful connection found.
#[derive(Debug)]
pub struct Connected {
    /// `host:port/database` (no user, no password).
    pub target: String,
    /// The first words of `SELECT version()`, e.g. `PostgreSQL 15.18`.
    pub server: String,
    /// How the connection is protected, for the report: `over TLS`, `without TLS (…)`.
    pub transport: String,
    /// Whether TLS was used.
    pub tls: bool,
    /// Whether the server is on this machine (loopback or a Unix socket).
    pub local: bool,
}

/// Why the connection failed, as text safe to print (the password is masked).
#[derive(Debug, thiserror::Error)]
#[error("{target}: {reason}")]
pub struct ConnectError {
    /// `host:port/database`, or `database_url` when the URL did not parse.
    pub target: String,
    /// What went wrong, with the password masked.
    pub reason: String,
}

/// Opens a connection to `url` and asks the server for its version, all within one deadline: the
/// connect timeout (`timeout`, or the URL's `connect_timeout` when shorter) for the connection,
/// and as long again for the server's first answer. A server that accepts the connection and
/// never answers is given up on there (the worker thread is left to the end of the process).
pub fn check(url: &SecretString, timeout: Duration) -> Result<Connected, ConnectError> {
    let timeout = postgres::Config::from_str(url.expose_secret())
        .ok()
        .and_then(|c| c.get_connect_timeout().copied())
        .map_or(timeout, |t| t.min(timeout))
        .max(Duration::from_millis(100));
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = url.clone();
    std::thread::spawn(move || {
        let _ = tx.send(connect(&owned, timeout));
    });
    rx.recv_timeout(timeout.saturating_mul(2))
        .unwrap_or_else(|_| {
            Err(ConnectError {
                target: describe(url.expose_secret()),
                reason: format!(
                    "no answer within {} s: the server accepted the connection but did not answer (--connect-timeout, or connect_timeout in the URL)",
                    timeout.saturating_mul(2).as_secs()
                ),
            })
        })
}

fn connect(url: &SecretString, timeout: Duration) -> Result<Connected, ConnectError> {
    let raw = url.expose_secret();
    let target = describe(raw);
    let fail = |reason: String| ConnectError {
        target: target.clone(),
        reason: mask(&reason, raw),
    };
    let mut config = postgres::Config::from_str(raw).map_err(|e| {
        fail(format!(
            "database_url is not a valid connection string: {e}"
        ))
    })?;
    config.connect_timeout(timeout);
    let explicit = has_sslmode(raw);
    let mode = config.get_ssl_mode();
    let (mut client, transport) = if mode == postgres::config::SslMode::Disable {
        let client = config
            .connect(postgres::NoTls)
            .map_err(|e| fail(explain(&e)))?;
        (client, "without TLS (sslmode=disable)".to_owned())
    } else {
        crate::http::ensure_crypto_provider();
        let tls = tls_config().map_err(|e| fail(format!("cannot set up TLS: {e}")))?;
        let mut strict = config.clone();
        strict.ssl_mode(postgres::config::SslMode::Require);
        match strict.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls)) {
            Ok(client) => (client, "over TLS".to_owned()),
            Err(e) if no_tls_offered(&e) && mode == postgres::config::SslMode::Prefer => {
                // prefer (said, or the default): a plain connection, said out loud.
                let client = config
                    .connect(postgres::NoTls)
                    .map_err(|e| fail(explain(&e)))?;
                let why = if explicit {
                    "sslmode=prefer allows that"
                } else {
                    "database_url has no sslmode, so prefer applies, as in the app's client"
                };
                (
                    client,
                    format!("without TLS: the server offers none ({why})"),
                )
            }
            Err(e) if no_tls_offered(&e) => {
                return Err(fail(
                    "the server offers no TLS, and database_url says sslmode=require; enable TLS on the server, or drop `sslmode=require` for a trusted local network".to_owned(),
                ));
            }
            Err(e) => return Err(fail(explain(&e))),
        }
    };
    let version: String = client
        .query_one("SELECT version()", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| fail(explain(&e)))?;
    let server = version
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let _ = client.close();
    let tls = transport == "over TLS";
    Ok(Connected {
        target,
        server,
        transport,
        tls,
        local: is_local(&config),
    })
}

/// Whether every host of `config` is this machine: a loopback address, `localhost`, or a Unix
/// socket.
fn is_local(config: &postgres::Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        postgres::config::Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        postgres::config::Host::Unix(_) => true,
    })
}

/// Whether the connection string names an `sslmode` (URL query or `key=value` form).
fn has_sslmode(raw: &str) -> bool {
    raw.split(['?', '&', ' ']).any(|part| {
        part.trim_start()
            .to_ascii_lowercase()
            .starts_with("sslmode=")
    })
}

/// Whether the server answered the TLS request with "no TLS here".
fn no_tls_offered(e: &postgres::Error) -> bool {
    let text = format!("{e} {e:?}").to_ascii_lowercase();
    text.contains("server does not support tls") || text.contains("does not support ssl")
}

fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::ConfigVerifierExt as _;
    rustls::ClientConfig::with_platform_verifier()
}

/// The error and its cause (the crate's top-level text alone is often just "error connecting").
fn explain(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// `host:port/database` from a URL, without credentials.
fn describe(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("?"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => "database_url".to_owned(),
    }
}

/// Replaces the password (raw and percent-decoded) and the whole URL in `text`.
fn mask(text: &str, raw: &str) -> String {
    let mut out = text.replace(raw, "<database_url>");
    if let Ok(u) = url::Url::parse(raw) {
        if let Some(pw) = u.password().filter(|p| !p.is_empty()) {
            out = out.replace(pw, "***");
            if let Ok(decoded) = percent_encoding::percent_decode_str(pw).decode_utf8() {
                if !decoded.is_empty() {
                    out = out.replace(decoded.as_ref(), "***");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_sockets_are_local() {
        let local = |url: &str| is_local(&postgres::Config::from_str(url).unwrap());
        assert!(local("postgres://a:b@localhost:5432/d"));
        assert!(local("postgres://a:b@127.0.0.1:5432/d"));
        assert!(local("postgres://a:b@[::1]:5432/d"));
        assert!(local("host=/var/run/postgresql dbname=d"));
        assert!(!local("postgres://a:b@db.internal:5432/d"));
        assert!(!local("postgres://a:b@10.0.0.5:5432/d"));
    }

    #[test]
    fn describes_without_credentials() {
        assert_eq!(
            describe("postgres://app:hunter2@db.internal:6543/app"),
            "db.internal:6543/app"
        );
        assert_eq!(describe("postgres://app:pw@db/app"), "db:5432/app");
        assert_eq!(describe("not a url"), "database_url");
    }

    #[test]
    fn masks_the_password() {
        let raw = "postgres://app:p%40ss@db/app";
        let text = mask(
            "auth failed for p@ss and p%40ss in postgres://app:p%40ss@db/app",
            raw,
        );
        assert!(!text.contains("p@ss") && !text.contains("p%40ss"), "{text}");
    }

    #[test]
    fn refused_connection_is_an_error_not_a_panic() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = SecretString::from(format!(
            "postgres://app:canary-pw@127.0.0.1:{port}/app?sslmode=disable"
        ));
        let e = check(&url, Duration::from_secs(2)).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("127.0.0.1:{port}/app")),
            "{e}"
        );
        assert!(!e.to_string().contains("canary-pw"), "{e}");
    }

    #[test]
    fn a_server_that_accepts_and_never_answers_is_given_up_on() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts, holds the connection, says nothing.
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().take(4).collect();
            std::thread::sleep(Duration::from_secs(60));
            drop(held);
        });
        for url in [
            format!("postgres://app:canary-pw@127.0.0.1:{port}/app?sslmode=disable"),
            format!(
                "postgres://app:canary-pw@127.0.0.1:{port}/app?sslmode=disable&connect_timeout=1"
            ),
        ] {
            let started = std::time::Instant::now();
            let e = check(&SecretString::from(url), Duration::from_secs(2)).unwrap_err();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                started.elapsed()
            );
            assert!(e.to_string().contains("did not answer"), "{e}");
            assert!(!e.to_string().contains("canary-pw"), "{e}");
        }
    }
}
