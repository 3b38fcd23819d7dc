//! `doctor --connect` against a real PostgreSQL server, and `doctor --online` against the cloud
//! contract server and a real OpenBao.

mod support;

use support::postgres::{Postgres, PASSWORD};
use support::{cmd, project, run, sp};

fn profile(url: &str) -> String {
    format!(
        "{{\n  \"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\",\n  \"database_url\": \"{url}\",\n  \"openai\": \"sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789\"\n}}\n"
    )
}

fn database_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("database"))
        .unwrap_or_else(|| panic!("no database line in:\n{stdout}"))
}

#[test]
fn connect_opens_a_real_postgresql_connection() {
    let pg = Postgres::start();
    let dir = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&pg.url(PASSWORD)),
    )]);
    let ok = sp(dir.path(), &["doctor", "--connect"]);
    let line = database_line(&ok.stdout);
    assert!(line.starts_with("pass"), "{ok:?}");
    assert!(
        line.contains(&format!(
            "connected without TLS (sslmode=disable) to 127.0.0.1:{}/postgres (PostgreSQL ",
            pg.port
        )),
        "{line}"
    );

    assert!(
        !ok.all().contains(PASSWORD),
        "the password is never printed"
    );

    // A wrong password: a failure, with the server's reason, never either password.
    let wrong = "wrong-pw-canary-31x";
    let dir = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&pg.url(wrong)),
    )]);
    let bad = sp(dir.path(), &["doctor", "--connect", "--format", "json"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    let v: serde_json::Value = serde_json::from_str(&bad.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["area"] == "database")
        .unwrap();
    assert_eq!(check["status"], "fail");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("password authentication failed"),
        "{check}"
    );
    assert!(
        check["fix"].as_str().unwrap().contains("password"),
        "{check}"
    );
    assert!(
        !bad.all().contains(wrong) && !bad.all().contains(PASSWORD),
        "{bad:?}"
    );

    // The environment layer wins, as everywhere: DATABASE_URL overrides the file.
    let mut c = cmd(dir.path());
    c.args(["doctor", "--connect"])
        .env("DATABASE_URL", pg.url(PASSWORD));
    let env = run(c);
    assert!(database_line(&env.stdout).starts_with("pass"), "{env:?}");
    assert!(
        env.stdout.contains("from env DATABASE_URL") || env.stdout.contains("DATABASE_URL"),
        "{}",
        env.stdout
    );

    // Nothing listening: a clear failure within the connect timeout.
    let port = pg.port;
    drop(pg);
    let dir = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&format!(
            "postgres://sp_app:{PASSWORD}@127.0.0.1:{port}/postgres?sslmode=disable"
        )),
    )]);
    let started = std::time::Instant::now();
    let down = sp(
        dir.path(),
        &["doctor", "--connect", "--connect-timeout", "3"],
    );
    assert_eq!(down.code, 1, "{down:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let line = database_line(&down.stdout);
    assert!(
        line.starts_with("fail") && line.contains(&format!("127.0.0.1:{port}/postgres")),
        "{line}"
    );
    assert!(!down.all().contains(PASSWORD));
}

#[test]
fn connect_without_database_url_fails_with_a_fix() {
    let dir = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        "{\"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\"}\n",
    )]);
    let out = sp(dir.path(), &["doctor", "--connect"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("fail  database  profile `local` has no database_url"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("fix: add \"database_url\""),
        "{}",
        out.stdout
    );
}

#[test]
fn online_asks_each_remote() {
    let cloud = support::cloud_server::CloudServer::start("tok-online", &["t-1"]);
    cloud.set_remote("t-1", &[("A", "1"), ("B", "2")]);
    let bao = support::openbao::DevServer::start();
    let manifest = format!(
        "[package]\nname = \"online\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.systemprompt-secrets.openbao]\naddress = \"{}\"\n\n\
         [package.metadata.systemprompt-secrets.profiles.vault]\nbackend = \"openbao\"\n",
        bao.addr
    );
    let good = profile("postgres://app:pw@db:5432/app");
    let dir = project(&[
        ("Cargo.toml", &manifest),
        (".systemprompt/profiles/local/secrets.json", &good),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "cloud:\n  tenant_id: t-1\n",
        ),
        (".systemprompt/profiles/vault/secrets.json", &good),
        // When some folders hold a profile.yaml only those are profiles, as upstream.
        (
            ".systemprompt/profiles/vault/profile.yaml",
            "secrets:\n  validation: warn\n",
        ),
    ]);
    let online = |env: &[(&str, &str)]| {
        let mut c = cmd(dir.path());
        c.args([
            "doctor",
            "--online",
            "--format",
            "json",
            "--connect-timeout",
            "2",
        ])
        .env("SYSTEMPROMPT_API_URL", &cloud.url)
        .env("SYSTEMPROMPT_API_TOKEN", "tok-online")
        .env("BAO_TOKEN", "root");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = run(c);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        let checks: Vec<(String, String)> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["area"] == "online")
            .map(|c| {
                (
                    c["status"].as_str().unwrap().to_owned(),
                    c["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (out.code, checks)
    };
    let (code, checks) = online(&[]);
    assert_eq!(code, 0, "{checks:?}");
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        checks
            .iter()
            .any(|(s, m)| s == "pass" && m.contains("tenant t-1") && m.contains("(2 names)")),
        "{checks:?}"
    );
    assert!(
        checks
            .iter()
            .any(|(s, m)| s == "pass" && m.contains("OpenBao") && m.contains("nothing stored yet")),
        "{checks:?}"
    );

    // A rejected cloud token and a wrong OpenBao token are failures with a fix.
    let (code, checks) = online(&[("SYSTEMPROMPT_API_TOKEN", "wrong"), ("BAO_TOKEN", "wrong")]);
    assert_eq!(code, 1, "{checks:?}");
    assert_eq!(
        checks.iter().filter(|(s, _)| s == "fail").count(),
        2,
        "{checks:?}"
    );
    assert!(
        checks
            .iter()
            .any(|(_, m)| m.contains("token rejected or expired")),
        "{checks:?}"
    );

    // A server that is down.
    let (code, checks) = online(&[("SYSTEMPROMPT_API_URL", "http://127.0.0.1:9")]);
    assert_eq!(code, 1);
    assert!(
        checks
            .iter()
            .any(|(s, m)| s == "fail" && m.contains("127.0.0.1:9")),
        "{checks:?}"
    );
}

/// With no `sslmode`, TLS is used (and verified against the trusted roots), and the pass line says so.
#[test]
fn connect_uses_tls_and_says_so() {
    let (pg, certs) = Postgres::start_tls();
    let url = pg.url(PASSWORD).replace("?sslmode=disable", "");
    let dir = project(&[(".systemprompt/profiles/local/secrets.json", &profile(&url))]);
    let mut c = support::cmd(dir.path());
    c.args(["doctor", "--connect"])
        .env("SSL_CERT_FILE", &certs.ca);
    let out = support::run(c);
    let line = database_line(&out.stdout);
    assert!(line.starts_with("pass"), "{out:?}");
    assert!(
        line.contains(&format!(
            "connected over TLS to 127.0.0.1:{}/postgres",
            pg.port
        )),
        "{line}"
    );
    assert!(!out.all().contains(PASSWORD), "{out:?}");
    // The same server without the CA trusted: TLS is not given up for a plain connection.
    let out = sp(dir.path(), &["doctor", "--connect"]);
    let line = database_line(&out.stdout);
    assert!(line.starts_with("fail"), "{out:?}");
    assert!(!line.contains("connected"), "{line}");
}

/// With no `sslmode`, the app's own default applies (`prefer`, as libpq and sqlx): this server
/// offers no TLS, so the connection is plain, and the line says so; `sslmode=require` refuses.
#[test]
fn connect_follows_the_apps_tls_default() {
    let pg = Postgres::start();
    let plain = pg.url(PASSWORD).replace("?sslmode=disable", "");
    let dir_plain = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&plain),
    )]);
    let out = sp(dir_plain.path(), &["doctor", "--connect"]);
    let line = database_line(&out.stdout);
    assert!(line.starts_with("pass"), "{out:?}");
    assert!(
        line.contains(
            "connected without TLS: the server offers none (database_url has no sslmode, so prefer applies, as in the app's client)"
        ),
        "{line}"
    );
    // sslmode=prefer: connected, and the pass line says it was without TLS.
    let prefer = pg
        .url(PASSWORD)
        .replace("sslmode=disable", "sslmode=prefer");
    let dir_prefer = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&prefer),
    )]);
    let out = sp(dir_prefer.path(), &["doctor", "--connect"]);
    let line = database_line(&out.stdout);
    assert!(line.starts_with("pass"), "{out:?}");
    assert!(
        line.contains("connected without TLS: the server offers none (sslmode=prefer allows that)"),
        "{line}"
    );
    assert!(!out.all().contains(PASSWORD), "{out:?}");
    // sslmode=require: never a plain connection.
    let require = pg
        .url(PASSWORD)
        .replace("sslmode=disable", "sslmode=require");
    let dir_require = project(&[(
        ".systemprompt/profiles/local/secrets.json",
        &profile(&require),
    )]);
    let out = sp(dir_require.path(), &["doctor", "--connect"]);
    let line = database_line(&out.stdout);
    assert!(line.starts_with("fail"), "{out:?}");
    assert!(
        line.contains("the server offers no TLS, and database_url says sslmode=require"),
        "{line}"
    );
    assert!(
        out.stdout
            .contains("drop `sslmode=require` from database_url"),
        "the fix fits the failure: {}",
        out.stdout
    );
}
