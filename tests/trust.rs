//! A cloned repository must not choose where secrets and credentials go (issue 24). Each route
//! an adversarial probe found — a manifest that points OpenBao at its own server and a
//! neighbour's profiles, a committed `credentials.json` with its own `api_url`, a session record
//! whose profile lies outside the project — is tried with a canary value and a listener on
//! loopback: untrusted, nothing reaches the listener or any output; trusted, it works as before.
//! And a hostile server that echoes the values it was sent, in any encoding, shows none of them.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use support::{cmd, project, run, write, Out};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
const CANARY_VALUE: &str = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY";
const TOKEN: &str = "hvs.user-token-CANARY-41";

/// A loopback listener that records every byte sent to it and answers 404.
fn listener() -> (String, Arc<Mutex<Vec<u8>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(300)));
            let mut buf = [0u8; 8192];
            if let Ok(n) = s.read(&mut buf) {
                log.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

/// The tool with a private trust store and the project not trusted by the environment.
fn tool(root: &Path, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = cmd(root);
    c.args(args)
        .env_remove("SYSTEMPROMPT_SECRETS_TRUST_PROJECT")
        .env("SYSTEMPROMPT_SECRETS_CONFIG_DIR", config);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

fn secrets() -> String {
    format!(
        r#"{{"jwt_secret": "{CANARY_VALUE}", "database_url": "postgres://app:pw@db:5432/app"}}"#
    )
}

fn assert_nothing_sent(case: &str, out: &Out, seen: &Arc<Mutex<Vec<u8>>>) {
    assert_eq!(out.code, 2, "{case}: {out:?}");
    assert!(
        out.stderr.contains("nothing was sent")
            && out.stderr.contains("cargo systemprompt-secrets trust"),
        "{case}: {}",
        out.stderr
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "{case}: the listener got a request"
    );
    assert!(!out.all().contains("CANARY"), "{case}: {out:?}");
}

#[test]
fn a_manifest_that_routes_openbao_elsewhere_sends_nothing_until_trusted() {
    let (url, seen) = listener();
    let config = tempfile::tempdir().unwrap();
    // A neighbour's real project, and a cloned repository beside it that points at it.
    let neighbour = project(&[(SECRETS, &secrets())]);
    let manifest = format!(
        "[package]\nname = \"clone\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\nbackend = \"openbao\"\nprofiles-dir = \"{}\"\nprotected-profiles = []\n\n[package.metadata.systemprompt-secrets.openbao]\naddress = \"{url}\"\n",
        neighbour.path().join(".systemprompt/profiles").display()
    );
    let clone = project(&[("Cargo.toml", &manifest)]);
    let env = [("BAO_TOKEN", TOKEN), ("HOME", "/nonexistent")];
    for args in [
        &["sync", "--yes"][..],
        &["diff"],
        &["validate"],
        &["run", "--", "true"],
    ] {
        let out = tool(clone.path(), config.path(), args, &env);
        assert_nothing_sent(&format!("{args:?}"), &out, &seen);
        assert!(
            out.stderr.contains("profiles-dir (outside the workspace)"),
            "{}",
            out.stderr
        );
    }
    // `status` would check the user's token against the manifest's address.
    let out = tool(
        clone.path(),
        config.path(),
        &["status", "--backend", "openbao"],
        &env,
    );
    assert_nothing_sent("status", &out, &seen);
    assert!(
        out.stderr.contains(&format!("openbao.address = {url}")),
        "{}",
        out.stderr
    );

    // `trust --status` shows what it would trust; `trust --yes` records it; then it works as today.
    let out = tool(clone.path(), config.path(), &["trust", "--status"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("not trusted")
            && out.stderr.contains(&format!("openbao.address = {url}"))
            && out.stderr.contains("protected-profiles = "),
        "{}",
        out.stderr
    );
    let out = tool(clone.path(), config.path(), &["trust", "--yes"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    let file = config.path().join("trusted.json");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = tool(clone.path(), config.path(), &["diff"], &env);
    assert_ne!(out.code, 2, "trusted: {out:?}");
    assert!(
        !seen.lock().unwrap().is_empty(),
        "trusted, the request goes out"
    );

    // A changed setting needs trust again.
    seen.lock().unwrap().clear();
    write(
        clone.path(),
        "Cargo.toml",
        &manifest.replace("address = ", "mount = \"kv\"\naddress = "),
    );
    let out = tool(clone.path(), config.path(), &["diff"], &env);
    assert_nothing_sent("changed", &out, &seen);
    assert!(
        out.stderr.contains("changed since you trusted"),
        "{}",
        out.stderr
    );

    // The user's own destination needs no trust: --address (the manifest's is not used).
    let out = tool(clone.path(), config.path(), &["trust", "--revoke"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    let own = project(&[(SECRETS, &secrets())]);
    write(own.path(), "Cargo.toml", "[package]\nname = \"own\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\nbackend = \"openbao\"\n");
    let out = tool(
        own.path(),
        config.path(),
        &["diff", "--address", &url],
        &env,
    );
    assert_ne!(out.code, 2, "the user's own address: {out:?}");
}

#[test]
fn a_committed_credentials_file_does_not_receive_the_token() {
    let (url, seen) = listener();
    let config = tempfile::tempdir().unwrap();
    let p = project(&[
        (SECRETS, &secrets()),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "cloud:\n  tenant_id: t-1\n",
        ),
        (
            ".systemprompt/credentials.json",
            &format!(r#"{{"api_token": "the-repository-s-own", "api_url": "{url}"}}"#),
        ),
    ]);
    let env = [("SYSTEMPROMPT_API_TOKEN", TOKEN)];
    let out = tool(p.path(), config.path(), &["diff"], &env);
    assert_nothing_sent("credentials.json", &out, &seen);
    assert!(
        out.stderr.contains(&format!("api_url = {url}")),
        "{}",
        out.stderr
    );
    // In CI the environment trusts the checkout.
    let out = tool(
        p.path(),
        config.path(),
        &["diff"],
        &[
            ("SYSTEMPROMPT_API_TOKEN", TOKEN),
            ("SYSTEMPROMPT_SECRETS_TRUST_PROJECT", "1"),
        ],
    );
    assert_ne!(out.code, 2, "{out:?}");
    assert!(!seen.lock().unwrap().is_empty());
}

#[test]
fn a_session_record_pointing_outside_hands_nothing_to_run() {
    let config = tempfile::tempdir().unwrap();
    let other = project(&[(SECRETS, &secrets())]);
    let path = other.path().join(".systemprompt/profiles/local");
    let p = project(&[
        (
            ".systemprompt/profiles/dev/secrets.json",
            r#"{"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "database_url": "postgres://app:pw@db:5432/app"}"#,
        ),
        (
            ".systemprompt/sessions/index.json",
            &serde_json::json!({"active_key": "k", "sessions": {"k": {"profile_path": path}}})
                .to_string(),
        ),
    ]);
    let out = tool(
        p.path(),
        config.path(),
        &["run", "--", "sh", "-c", "echo $JWT_SECRET"],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.all().contains("CANARY"), "{out:?}");
    assert!(
        out.stderr.contains("outside the workspace"),
        "{}",
        out.stderr
    );
}

/// A hostile OpenBao on loopback: reads return nothing (404); a write is refused with an error
/// that echoes its body JSON-escaped, percent-encoded, base64-encoded and upper-cased.
fn echoing_server() -> String {
    use base64::Engine as _;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut req = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
                let text = String::from_utf8_lossy(&req);
                if let Some(at) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if req.len() >= at + 4 + len {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&req).into_owned();
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .unwrap_or_default();
            let (status, answer) = if text.starts_with("GET") {
                ("404 Not Found", serde_json::json!({"errors": []}))
            } else {
                let echoes = format!(
                    "bad body {} | {} | {} | {}",
                    serde_json::to_string(&body).unwrap(),
                    percent_encoding::utf8_percent_encode(
                        &body,
                        percent_encoding::NON_ALPHANUMERIC
                    ),
                    base64::engine::general_purpose::STANDARD.encode(&body),
                    body.to_ascii_uppercase()
                );
                ("400 Bad Request", serde_json::json!({"errors": [echoes]}))
            };
            let answer = answer.to_string();
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    url
}

#[test]
fn a_server_that_echoes_values_in_any_encoding_shows_none_of_them() {
    use base64::Engine as _;
    let url = echoing_server();
    let p = support::openbao::bao_project(&[&url], "", &secrets());
    let out = tool(
        p.path(),
        tempfile::tempdir().unwrap().path(),
        &["sync", "--yes", "-v"],
        &[
            ("BAO_TOKEN", TOKEN),
            ("SYSTEMPROMPT_SECRETS_TRUST_PROJECT", "1"),
        ],
    );
    assert_ne!(out.code, 0, "{out:?}");
    let all = out.all();
    assert!(
        all.contains("bad body"),
        "the server's words are shown: {all}"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY_VALUE);
    for leak in [
        "CANARY".to_owned(),
        "canary".to_owned(),
        "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ".to_ascii_uppercase(),
        b64[4..b64.len() - 4].to_owned(),
        TOKEN.to_owned(),
    ] {
        assert!(!all.contains(&leak), "{leak} leaked: {all}");
    }
}
