//! A profile that boots from Vault (`secrets.source: vault`, systemprompt 0.50+) is an OpenBao
//! remote by itself (issue 23, first part): no manifest setting, the profile's own address,
//! mount, path and token variable, and the document under the secrets.json names, exactly where
//! the app reads it. Against a real `bao server -dev` with KV v2 at a non-default mount.

mod support;

use support::openbao::DevServer;
use support::Out;

const LOCAL: &str = ".systemprompt/profiles/local";
const SECRETS: &str = r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
  "database_url": "postgres://app:pw-CANARY@db:5432/app",
  "anthropic": "sk-ant-api03-CANARY"
}
"#;

fn profile_yaml(addr: &str, extra_auth: &str) -> String {
    format!(
        "name: local\nsecrets:\n  source: vault\n  vault:\n    address: {addr}\n    mount: apps\n    path: team/app/local\n    auth:\n      method: token\n      token_env: APP_VAULT_TOKEN\n{extra_auth}"
    )
}

fn project(addr: &str) -> tempfile::TempDir {
    support::project(&[
        (&format!("{LOCAL}/secrets.json"), SECRETS),
        (&format!("{LOCAL}/profile.yaml"), &profile_yaml(addr, "")),
    ])
}

fn sp(dir: &std::path::Path, args: &[&str]) -> Out {
    let home = dir.to_string_lossy();
    // The profile's own variable only: no BAO_TOKEN or VAULT_TOKEN.
    support::sp_env(
        dir,
        args,
        &[
            ("HOME", home.as_ref()),
            ("APP_VAULT_TOKEN", "root"),
            ("BAO_TOKEN", ""),
            ("VAULT_TOKEN", ""),
        ],
    )
}

/// A dev server with KV v2 at the non-default mount `apps`.
fn apps_server() -> DevServer {
    let server = DevServer::start();
    let o = server.bao(&["secrets", "enable", "-path=apps", "kv-v2"]);
    assert!(o.status.success(), "{o:?}");
    server
}

/// `args` stop with exit 2 and a message holding every one of `needles`.
fn refused(dir: &std::path::Path, args: &[&str], needles: &[&str]) {
    let out = sp(dir, args);
    assert_eq!(out.code, 2, "{args:?}: {out:?}");
    assert!(
        needles.iter().all(|n| out.stderr.contains(n)),
        "{args:?}: {}",
        out.stderr
    );
}

fn kv_get(server: &DevServer) -> serde_json::Map<String, serde_json::Value> {
    let o = server.bao(&["kv", "get", "-format=json", "-mount=apps", "team/app/local"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["data"]["data"].as_object().cloned().unwrap_or_default()
}

fn append_manifest(dir: &std::path::Path, text: &str) {
    let path = dir.join("Cargo.toml");
    let mut manifest = std::fs::read_to_string(&path).unwrap();
    manifest.push_str(text);
    std::fs::write(path, manifest).unwrap();
}

#[test]
fn sync_diff_and_pull_use_the_profiles_own_vault_document() {
    let server = apps_server();
    let p = project(&server.addr);

    let out = sp(p.path(), &["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("apps/team/app/local (the profile's own `secrets.vault`)")
            && out.stderr.contains("token from env $APP_VAULT_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("CANARY"), "{out:?}");
    // Exactly the secrets.json names and values, where the app reads them.
    let remote = kv_get(&server);
    let mut names: Vec<&str> = remote.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["anthropic", "database_url", "jwt_secret"]);
    assert_eq!(remote["anthropic"], "sk-ant-api03-CANARY");

    let out = sp(p.path(), &["diff", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["status"] == "equal"),
        "{v}"
    );

    // A teammate changes a value in Vault; pull brings it into secrets.json.
    let o = server.bao(&[
        "kv",
        "patch",
        "-mount=apps",
        "team/app/local",
        "anthropic=sk-ant-api03-ROTATED-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = sp(p.path(), &["pull", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let file = std::fs::read_to_string(p.path().join(LOCAL).join("secrets.json")).unwrap();
    assert!(file.contains("sk-ant-api03-ROTATED-CANARY"), "{file}");
}

#[test]
fn settings_that_would_send_the_secrets_elsewhere_are_errors_naming_both() {
    let server = DevServer::start();
    let p = project(&server.addr);
    append_manifest(
        p.path(),
        "\n[package.metadata.systemprompt-secrets.openbao]\npath = \"systemprompt/{project}/{profile}\"\n",
    );
    refused(
        p.path(),
        &["sync", "--dry-run"],
        &[
            "systemprompt/{project}/{profile}",
            "team/app/local",
            "profile.yaml",
        ],
    );

    let p = project(&server.addr);
    refused(
        p.path(),
        &["sync", "--dry-run", "--address", "http://127.0.0.1:9"],
        &["--address", &server.addr],
    );

    // A login the tool cannot do outside a pod says what to do instead.
    for (method, needles) in [
        ("kubernetes", &["`kubernetes`", "BAO_TOKEN"][..]),
        // AppRole without its variables names them.
        (
            "approle",
            &["$VAULT_ROLE_ID is not set", "$VAULT_SECRET_ID"],
        ),
    ] {
        let yaml =
            profile_yaml(&server.addr, "").replace("method: token", &format!("method: {method}"));
        support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
        refused(p.path(), &["sync", "--dry-run"], needles);
    }
}

#[test]
fn an_approle_profile_logs_in_as_the_app_does_with_a_policy_limited_to_its_path() {
    let server = apps_server();
    let ok = |args: &[&str]| {
        let o = server.bao(args);
        assert!(
            o.status.success(),
            "bao {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    ok(&["auth", "enable", "approle"]);
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("app.hcl");
    std::fs::write(
        &policy,
        "path \"apps/data/team/app/local\" { capabilities = [\"create\", \"read\", \"update\"] }\n\
         path \"apps/metadata/team/app/local\" { capabilities = [\"read\"] }\n",
    )
    .unwrap();
    ok(&["policy", "write", "app", &policy.to_string_lossy()]);
    ok(&[
        "write",
        "auth/approle/role/app",
        "token_policies=app",
        "token_ttl=5m",
    ]);
    let role_id = ok(&["read", "-field=role_id", "auth/approle/role/app/role-id"]);
    let secret_id = ok(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/app/secret-id",
    ]);

    let p = project(&server.addr);
    let yaml = profile_yaml(&server.addr, "").replace(
        "      method: token\n      token_env: APP_VAULT_TOKEN\n",
        "      method: approle\n",
    );
    support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
    let home = p.path().to_string_lossy().into_owned();
    let run = |secret: &str| {
        support::sp_env(
            p.path(),
            &["sync", "-v"],
            &[
                ("HOME", home.as_str()),
                ("VAULT_ROLE_ID", role_id.as_str()),
                ("VAULT_SECRET_ID", secret),
                ("BAO_TOKEN", ""),
                ("VAULT_TOKEN", ""),
            ],
        )
    };
    let out = run(&secret_id);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("token from an AppRole login (role id from $VAULT_ROLE_ID)"),
        "{}",
        out.stderr
    );
    assert!(
        !out.all().contains(&secret_id) && !out.all().contains("CANARY"),
        "{out:?}"
    );
    assert_eq!(
        kv_get(&server)["jwt_secret"],
        "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY"
    );

    // A wrong secret id: a clear refusal that never shows it.
    let wrong = "00000000-1111-2222-3333-444444444444";
    let out = run(wrong);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("AppRole login at auth/approle was refused")
            && out.stderr.contains("$VAULT_SECRET_ID"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(wrong), "{out:?}");
}

#[test]
fn validate_checks_the_vault_document_the_app_boots_from() {
    let server = apps_server();
    let p = project(&server.addr);
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("OpenBao apps/team/app/local (version 1)")
            && out.stderr.contains("is not read by the app"),
        "{}",
        out.stderr
    );

    // The document loses `database_url` and gets a short secret: validate says so, naming
    // where, and never a value. The local file is fine and untouched.
    let o = server.bao(&[
        "kv",
        "put",
        "-mount=apps",
        "team/app/local",
        "jwt_secret=short-CANARY",
        "anthropic=sk-ant-api03-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let before = std::fs::read(p.path().join(LOCAL).join("secrets.json")).unwrap();
    let out = sp(p.path(), &["validate", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.all().contains("CANARY"), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<String> = v["profiles"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        codes.iter().any(|c| c == "missing-required-key")
            && codes.iter().any(|c| c == "jwt-secret-too-short"),
        "{v}"
    );
    assert_eq!(
        std::fs::read(p.path().join(LOCAL).join("secrets.json")).unwrap(),
        before
    );

    // An untrusted checkout's profile does not get the token sent to its address.
    let mut c = support::cmd(p.path());
    c.arg("validate")
        .env("HOME", p.path())
        .env("APP_VAULT_TOKEN", "root")
        .env_remove("SYSTEMPROMPT_SECRETS_TRUST_PROJECT");
    let out = support::run(c);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("trust"), "{}", out.stderr);

    // Without a token it says what is missing.
    let home = p.path().to_string_lossy().into_owned();
    let out = support::sp_env(
        p.path(),
        &["validate"],
        &[
            ("HOME", home.as_str()),
            ("BAO_TOKEN", ""),
            ("VAULT_TOKEN", ""),
            ("APP_VAULT_TOKEN", ""),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("$APP_VAULT_TOKEN"), "{}", out.stderr);
}

#[test]
fn doctor_online_says_whether_the_app_can_boot_from_the_vault_document() {
    let server = apps_server();
    let p = project(&server.addr);
    assert_eq!(sp(p.path(), &["sync"]).code, 0);
    let out = sp(p.path(), &["doctor", "--online"]);
    assert!(
        out.all()
            .contains("the document at apps/team/app/local has everything the app boots with"),
        "{out:?}"
    );
    let o = server.bao(&[
        "kv",
        "put",
        "-mount=apps",
        "team/app/local",
        "jwt_secret=Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-CANARY",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = sp(p.path(), &["doctor", "--online"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.all()
            .contains("the app would refuse to boot from apps/team/app/local: database_url"),
        "{out:?}"
    );
    assert!(!out.all().contains("CANARY"), "{out:?}");
}

/// Checks `value` against an `OpenAPI` v3 schema as Kubernetes applies a CRD's: every field is
/// declared (unless the schema keeps unknown fields), with its type, enum and required fields.
fn conforms(value: &serde_json::Value, schema: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    let kind = schema["type"].as_str().unwrap_or("");
    match value {
        Value::Object(map) => {
            if !kind.is_empty() && kind != "object" {
                return Err(format!("{at}: an object where the schema has {kind}"));
            }
            let props = schema["properties"].as_object();
            let open = schema["x-kubernetes-preserve-unknown-fields"] == true
                || schema.get("additionalProperties").is_some()
                || props.is_none();
            for (k, v) in map {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => conforms(v, s, &format!("{at}.{k}"))?,
                    None if open => {}
                    None => return Err(format!("{at}.{k}: not in the schema")),
                }
            }
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !map.contains_key(r) {
                    return Err(format!("{at}.{r}: required and missing"));
                }
            }
        }
        Value::Array(items) => {
            if kind != "array" {
                return Err(format!("{at}: an array where the schema has {kind}"));
            }
            for (i, item) in items.iter().enumerate() {
                conforms(item, &schema["items"], &format!("{at}[{i}]"))?;
            }
        }
        Value::String(s) => {
            if kind != "string" {
                return Err(format!("{at}: a string where the schema has {kind}"));
            }
            if let Some(allowed) = schema["enum"].as_array() {
                if !allowed.iter().any(|a| a == s) {
                    return Err(format!("{at}: `{s}` is not one of {allowed:?}"));
                }
            }
        }
        other => return Err(format!("{at}: unexpected {other}")),
    }
    Ok(())
}

#[test]
fn a_kubernetes_profile_exports_an_external_secret_the_operator_accepts() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::repo().join("tests/fixtures/external-secrets/schema-v1.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The checker itself refuses what the operator would: an unknown field, a wrong enum.
    assert!(conforms(
        &serde_json::json!({"spec": {"secretStoreRef": {"name": "s", "kind": "Nope"}}}),
        &schema["ExternalSecret"],
        "x"
    )
    .is_err());
    assert!(conforms(
        &serde_json::json!({"spec": {"refreshEvery": "1h"}}),
        &schema["ExternalSecret"],
        "x"
    )
    .is_err());
    let p = project("https://bao.example.test:8200");
    for (method, auth) in [
        ("token", "tokenSecretRef"),
        ("approle", "appRole"),
        ("kubernetes", "kubernetes"),
    ] {
        let yaml = format!(
            "{}cloud:\n  provider: kubernetes\n",
            profile_yaml("https://bao.example.test:8200", "")
                .replace("method: token", &format!("method: {method}"))
        );
        support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
        let out = sp(
            p.path(),
            &[
                "export",
                "--format",
                "external-secret",
                "--store",
                "vault-backend",
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.all().contains("CANARY"), "names only: {out:?}");
        let docs: Vec<serde_json::Value> = out
            .stdout
            .split("---\n")
            .map(|d| serde_norway::from_str(d).expect("YAML"))
            .collect();
        assert_eq!(docs.len(), 2, "{}", out.stdout);
        let store = &docs[0];
        assert_eq!(store["kind"], "SecretStore");
        conforms(store, &schema["SecretStore"], "SecretStore").unwrap();
        let vault = &store["spec"]["provider"]["vault"];
        assert_eq!(vault["server"], "https://bao.example.test:8200");
        assert_eq!(vault["path"], "apps");
        assert_eq!(vault["version"], "v2");
        assert!(vault["auth"][auth].is_object(), "{method}: {store}");
        let es = &docs[1];
        conforms(es, &schema["ExternalSecret"], "ExternalSecret").unwrap();
        assert_eq!(es["spec"]["secretStoreRef"]["name"], "vault-backend");
        let data = es["spec"]["data"].as_array().unwrap();
        let pairs: Vec<(String, String, String)> = data
            .iter()
            .map(|d| {
                (
                    d["secretKey"].as_str().unwrap().to_owned(),
                    d["remoteRef"]["key"].as_str().unwrap().to_owned(),
                    d["remoteRef"]["property"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            pairs.contains(&(
                "ANTHROPIC_API_KEY".into(),
                "team/app/local".into(),
                "anthropic".into()
            )) && pairs.contains(&(
                "DATABASE_URL".into(),
                "team/app/local".into(),
                "database_url".into()
            )),
            "{pairs:?}"
        );
    }

    // Not for a profile whose pods are not fed by a Kubernetes Secret.
    support::write(
        p.path(),
        &format!("{LOCAL}/profile.yaml"),
        &profile_yaml("https://bao.example.test:8200", ""),
    );
    let out = sp(p.path(), &["export", "--format", "external-secret"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("cloud.provider"), "{}", out.stderr);
}
