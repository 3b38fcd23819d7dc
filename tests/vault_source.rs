//! A profile that boots from Vault (`secrets.source: vault`, systemprompt 0.50+) is an OpenBao
//! remote by itself (issue 23, first part): no manifest setting, the profile's own address,
//! mount, path and token variable, and the document under the secrets.json names, exactly where
//! the app reads it. Against a real `bao server -dev` with KV v2 at a non-default mount.

mod support;

use std::fmt::Write as _;

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

/// `bao …`, which must succeed; its output, trimmed.
fn bao_ok(server: &DevServer, args: &[&str]) -> String {
    let o = server.bao(args);
    assert!(
        o.status.success(),
        "bao {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// The policy `app` (which the test roles give their tokens) is now `rules`.
fn write_policy(server: &DevServer, rules: &str) {
    let policy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(policy.path(), rules).unwrap();
    bao_ok(
        server,
        &["policy", "write", "app", &policy.path().to_string_lossy()],
    );
}

/// `AppRole` enabled, and a role whose tokens may read and write only the documents at `paths`
/// under `apps`: its role id and a secret id.
fn approle(server: &DevServer, paths: &[&str]) -> (String, String) {
    bao_ok(server, &["auth", "enable", "approle"]);
    let mut rules = String::new();
    for p in paths {
        let _ = writeln!(
            rules,
            "path \"apps/data/{p}\" {{ capabilities = [\"create\", \"read\", \"update\"] }}\n\
             path \"apps/metadata/{p}\" {{ capabilities = [\"read\"] }}"
        );
    }
    write_policy(server, &rules);
    bao_ok(
        server,
        &[
            "write",
            "auth/approle/role/app",
            "token_policies=app",
            "token_ttl=5m",
        ],
    );
    let role_id = bao_ok(
        server,
        &["read", "-field=role_id", "auth/approle/role/app/role-id"],
    );
    let secret_id = bao_ok(
        server,
        &[
            "write",
            "-f",
            "-field=secret_id",
            "auth/approle/role/app/secret-id",
        ],
    );
    (role_id, secret_id)
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

    // A login the profile does not fully describe says what is missing.
    for (method, needles) in [
        ("kubernetes", &["`kubernetes` but names no `role`"][..]),
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
    let (role_id, secret_id) = approle(&server, &["team/app/local"]);

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
        !out.all().contains(secret_id.as_str()) && !out.all().contains("CANARY"),
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

/// The External Secrets Operator's v1 CRD schemas (v2.9.0), by kind.
fn eso_schema() -> serde_json::Value {
    let path = support::repo().join("tests/fixtures/external-secrets/schema-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_kubernetes_profile_exports_an_external_secret_the_operator_accepts() {
    let schema = eso_schema();
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

/// The document at `path` under `apps`, as the server holds it.
fn kv_at(server: &DevServer, path: &str) -> serde_json::Map<String, serde_json::Value> {
    let out = bao_ok(server, &["kv", "get", "-format=json", "-mount=apps", path]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["data"]["data"].as_object().cloned().unwrap_or_default()
}

fn local_secrets(dir: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(LOCAL).join("secrets.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The proof setup: a dev server, `AppRole` limited to the profile's two documents, a shared
/// document holding another instance's field, and a project with the whole 0.77 profile, after
/// `init` and with `database_url` and a provider key filled in.
struct Proof {
    server: DevServer,
    dir: tempfile::TempDir,
    role_id: String,
    secret_id: String,
}

impl Proof {
    fn start() -> Self {
        let server = apps_server();
        let (role_id, secret_id) = approle(&server, &["team/app/local", "shared/identity"]);
        bao_ok(
            &server,
            &[
                "kv",
                "put",
                "-mount=apps",
                "shared/identity",
                "other_instance=keep-me",
            ],
        );
        let yaml =
            include_str!("fixtures/vault/profile-0.77.yaml").replace("@ADDRESS@", &server.addr);
        let dir = support::project(&[
            (
                "Cargo.lock",
                "version = 4\n\n[[package]]\nname = \"systemprompt\"\nversion = \"0.77.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
            ),
            (&format!("{LOCAL}/profile.yaml"), &yaml),
        ]);
        let proof = Self {
            server,
            dir,
            role_id,
            secret_id,
        };
        let out = proof.run(&["init"]);
        assert_eq!(out.code, 0, "{out:?}");
        let mut local = local_secrets(proof.dir.path());
        local.insert(
            "database_url".into(),
            "postgres://app:pw-CANARY@db:5432/app".into(),
        );
        local.insert("anthropic".into(), "sk-ant-api03-CANARY".into());
        support::write(
            proof.dir.path(),
            &format!("{LOCAL}/secrets.json"),
            &serde_json::to_string_pretty(&local).unwrap(),
        );
        proof
    }

    /// The tool, logging in with the role's ids only.
    fn run(&self, args: &[&str]) -> Out {
        let home = self.dir.path().to_string_lossy().into_owned();
        support::sp_env(
            self.dir.path(),
            args,
            &[
                ("HOME", home.as_str()),
                ("VAULT_ROLE_ID", self.role_id.as_str()),
                ("VAULT_SECRET_ID", self.secret_id.as_str()),
                ("BAO_TOKEN", ""),
                ("VAULT_TOKEN", ""),
            ],
        )
    }
}

/// The issue's proof run, on a whole systemprompt 0.77 profile (the one scripts/interop.sh boots
/// upstream's own loader from): `AppRole` under a policy limited to the profile's two documents,
/// and the signing seed redirected to a shared document (`secrets.vault.keys`). `init`, `sync`,
/// `diff`, `rotate --sync` and `pull` go through it; the server holds exactly the secrets.json
/// names at the profile's path, and the seed only in its field of the shared document, beside
/// another instance's field, untouched.
#[test]
fn a_077_vault_profile_with_approle_and_a_redirected_key_runs_every_remote_verb() {
    let proof = Proof::start();
    let (server, p, secret_id) = (&proof.server, &proof.dir, &proof.secret_id);
    let run = |args: &[&str]| proof.run(args);
    let local = local_secrets(p.path());
    let out = run(&["sync", "-v"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "`manifest_signing_secret_seed` is read and written at apps/shared/identity (field `seed`)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !out.all().contains("CANARY") && !out.all().contains(secret_id.as_str()),
        "{out:?}"
    );
    let own = kv_at(server, "team/app/local");
    let shared = kv_at(server, "shared/identity");
    let mut expected: Vec<&String> = local
        .keys()
        // Blanks are not pushed: the app reads an absent key as it reads an empty one.
        .filter(|k| {
            *k != "manifest_signing_secret_seed"
                && local[*k].as_str().is_some_and(|v| !v.is_empty())
        })
        .collect();
    expected.sort();
    let mut names: Vec<&String> = own.keys().collect();
    names.sort();
    assert_eq!(
        names, expected,
        "the document holds exactly the secrets.json names"
    );
    for name in names {
        assert_eq!(own[name], local[name], "{name}");
    }
    assert_eq!(shared["seed"], local["manifest_signing_secret_seed"]);
    assert_eq!(shared["other_instance"], "keep-me");

    let out = run(&["diff", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let keys = v["keys"].as_array().unwrap();
    assert!(keys.iter().all(|k| k["status"] == "equal"), "{v}");
    assert!(
        keys.iter()
            .any(|k| k["key"] == "manifest_signing_secret_seed"),
        "{v}"
    );

    let before = local["oauth_at_rest_pepper"].clone();
    let out = run(&["rotate", "oauth_at_rest_pepper", "--sync", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rotated = local_secrets(p.path())["oauth_at_rest_pepper"].clone();
    assert_ne!(rotated, before);
    assert_eq!(
        kv_at(server, "team/app/local")["oauth_at_rest_pepper"],
        rotated
    );

    // Another instance rotates the shared seed; pull brings it here.
    let seed = "c2hhcmVkLXNlZWQtb2YtYW5vdGhlci1pbnN0YW5jZSE=";
    bao_ok(
        server,
        &[
            "kv",
            "patch",
            "-mount=apps",
            "shared/identity",
            &format!("seed={seed}"),
        ],
    );
    let out = run(&["pull", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        local_secrets(p.path())["manifest_signing_secret_seed"],
        seed
    );
    let out = run(&["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
}

/// A redirected key is never deleted from the shared document, and a shared document that lost
/// the field fails `validate` as it stops upstream's boot (`vault-key-unserved`).
#[test]
fn a_redirected_key_is_not_deleted_there_and_its_absence_fails_validate() {
    let proof = Proof::start();
    let server = &proof.server;
    let run = |args: &[&str]| proof.run(args);
    let out = run(&["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    let seed = kv_at(server, "shared/identity")["seed"].clone();
    // The tool does not delete a shared field.
    let out = run(&["unset", "manifest_signing_secret_seed", "--yes"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("apps/shared/identity (field `seed`)"),
        "{}",
        out.stderr
    );
    assert_eq!(kv_at(server, "shared/identity")["seed"], seed);

    // The shared document loses the field: the app would not boot, and validate says so.
    bao_ok(
        server,
        &[
            "kv",
            "put",
            "-mount=apps",
            "shared/identity",
            "other_instance=keep-me",
        ],
    );
    let out = run(&["validate", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["profiles"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |f| f["code"] == "vault-key-unserved" && f["key"] == "manifest_signing_secret_seed"
            ),
        "{v}"
    );

    // A redirect into the profile's own document under another field is refused, not written.
    let yaml_path = proof.dir.path().join(LOCAL).join("profile.yaml");
    let yaml = std::fs::read_to_string(&yaml_path)
        .unwrap()
        .replace("path: shared/identity", "path: team/app/local");
    std::fs::write(&yaml_path, yaml).unwrap();
    let before = kv_at(server, "team/app/local");
    let out = run(&["sync", "--yes"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("a field of the profile's own document"),
        "{}",
        out.stderr
    );
    assert_eq!(kv_at(server, "team/app/local"), before);
}

/// A fake Kubernetes API that answers OpenBao's `TokenReview`s: only `jwt` is a live service
/// account (`apps/app`).
fn token_review_server(jwt: &'static str) -> support::http_server::HttpServer {
    use http_body_util::BodyExt;
    support::http_server::HttpServer::start(
        1,
        move |req: hyper::Request<hyper::body::Incoming>| async move {
            let body = req
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let live = review["spec"]["token"] == jwt;
            let answer = serde_json::json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "status": {
                    "authenticated": live,
                    "user": {"username": "system:serviceaccount:apps:app", "uid": "uid-1", "groups": []}
                }
            });
            Ok::<_, std::convert::Infallible>(
                hyper::Response::builder()
                    .status(201)
                    .header("Content-Type", "application/json")
                    .body(support::http_server::Body::from(answer.to_string()))
                    .unwrap(),
            )
        },
    )
}

/// An unsigned service-account JWT for `apps/app` (OpenBao reads its claims; the review decides).
fn service_account_jwt(tag: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"apps","kubernetes.io/serviceaccount/service-account.name":"app","kubernetes.io/serviceaccount/service-account.uid":"uid-1","sub":"system:serviceaccount:apps:app"}"#
        ),
        b64(tag)
    )
}

/// OpenBao's Kubernetes auth at `kubernetes`, reviewing tokens at `api` (a fake API server), and
/// a role `app` for the service account `apps/app` that may write the profile's document.
fn kubernetes_auth(server: &DevServer, api: &str) {
    bao_ok(server, &["auth", "enable", "kubernetes"]);
    let ca = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vault/fake-k8s-ca.pem"
    );
    bao_ok(
        server,
        &[
            "write",
            "auth/kubernetes/config",
            &format!("kubernetes_host=http://{api}"),
            "token_reviewer_jwt=reviewer",
            "disable_local_ca_jwt=true",
            &format!("kubernetes_ca_cert=@{ca}"),
        ],
    );
    write_policy(
        server,
        "path \"apps/data/team/app/local\" { capabilities = [\"create\", \"read\", \"update\"] }\n",
    );
    bao_ok(
        server,
        &[
            "write",
            "auth/kubernetes/role/app",
            "bound_service_account_names=app",
            "bound_service_account_namespaces=apps",
            "token_policies=app",
        ],
    );
}

/// Inside a pod (the service-account token file exists) a `kubernetes` profile logs in as the
/// app does, against OpenBao's real Kubernetes auth (its `TokenReview` answered by a fake API
/// server). Outside one, the usual token chain serves, or a clear error names the ways on.
#[test]
fn a_kubernetes_profile_logs_in_with_its_service_account_token() {
    let jwt: &'static str = Box::leak(service_account_jwt("live-CANARY").into_boxed_str());
    let review = token_review_server(jwt);
    let server = apps_server();
    kubernetes_auth(&server, &review.addr.to_string());
    let p = project(&server.addr);
    let yaml = profile_yaml(&server.addr, "").replace(
        "      method: token\n      token_env: APP_VAULT_TOKEN\n",
        "      method: kubernetes\n      role: app\n      jwt_path: sa/token\n",
    );
    support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
    support::write(p.path(), "sa/token", &format!("{jwt}\n"));
    let home = p.path().to_string_lossy().into_owned();
    let run = |bao_token: &str| {
        support::sp_env(
            p.path(),
            &["sync", "-v"],
            &[
                ("HOME", home.as_str()),
                ("BAO_TOKEN", bao_token),
                ("VAULT_TOKEN", ""),
            ],
        )
    };

    let out = run("");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("token from a Kubernetes login (role `app`, service-account token"),
        "{}",
        out.stderr
    );
    assert!(
        !out.all().contains(jwt) && !out.all().contains("CANARY"),
        "{out:?}"
    );
    assert_eq!(kv_get(&server)["anthropic"], "sk-ant-api03-CANARY");

    // A token the cluster does not vouch for: refused, never shown.
    let stale = service_account_jwt("stale");
    support::write(p.path(), "sa/token", &stale);
    let out = run("");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("the Kubernetes login at auth/kubernetes was refused")
            && out.stderr.contains("role `app`"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(&stale), "{out:?}");

    // Outside a pod: the usual chain, else the ways on.
    std::fs::remove_file(p.path().join("sa/token")).unwrap();
    let out = run("");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("no service-account token at")
            && out.stderr.contains("BAO_TOKEN")
            && out.stderr.contains("login --backend openbao"),
        "{}",
        out.stderr
    );
    let out = run("root");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("token from env $BAO_TOKEN"),
        "{}",
        out.stderr
    );
    doctor_reads_with_the_pods_login(&server, p.path(), jwt);
}

/// The `ExternalSecret` of a profile with a custom key and a redirected key: the template lists
/// the custom names (names only), and the redirected key maps to its own document's field.
#[test]
fn an_external_secret_lists_custom_names_and_follows_redirected_keys() {
    let schema = eso_schema();
    let p = project("https://bao.example.test:8200");
    // A custom key is listed in `SYSTEMPROMPT_CUSTOM_SECRETS` by the template (names only), and a
    // redirected key (`secrets.vault.keys`) maps to its own document's field.
    support::write(
        p.path(),
        &format!("{LOCAL}/secrets.json"),
        &SECRETS.replace(
            "  \"anthropic\"",
            "  \"billing_webhook_secret\": \"whsec-CANARY\",\n  \"anthropic\"",
        ),
    );
    let yaml = format!(
        "{}    keys:\n      anthropic:\n        path: shared/ai\n        field: anthropic_key\ncloud:\n  provider: kubernetes\n",
        profile_yaml("https://bao.example.test:8200", "")
    );
    support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
    let out = sp(p.path(), &["export", "--format", "external-secret"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.all().contains("CANARY"), "names only: {out:?}");
    let es: serde_json::Value = serde_norway::from_str(&out.stdout).expect("YAML");
    conforms(&es, &schema["ExternalSecret"], "ExternalSecret").unwrap();
    assert_eq!(
        es["spec"]["target"]["template"],
        serde_json::json!({"mergePolicy": "Merge", "data": {"SYSTEMPROMPT_CUSTOM_SECRETS": "BILLING_WEBHOOK_SECRET"}}),
        "{es}"
    );
    let data = es["spec"]["data"].as_array().unwrap();
    let of = |env: &str| data.iter().find(|d| d["secretKey"] == env).cloned();
    assert_eq!(
        of("ANTHROPIC_API_KEY").unwrap()["remoteRef"],
        serde_json::json!({"key": "shared/ai", "property": "anthropic_key"})
    );
    assert_eq!(
        of("BILLING_WEBHOOK_SECRET").unwrap()["remoteRef"],
        serde_json::json!({"key": "team/app/local", "property": "billing_webhook_secret"})
    );
}

/// `doctor --online` with the pod's login (the service-account token at `sa/token` in `dir`):
/// the token may read the document; after its policy loses `read`, doctor says it may not.
fn doctor_reads_with_the_pods_login(server: &DevServer, dir: &std::path::Path, jwt: &str) {
    let p = dir;
    let home = dir.to_string_lossy().into_owned();
    support::write(p, "sa/token", jwt);
    let doctor = || {
        support::sp_env(
            p,
            &["doctor", "--online"],
            &[
                ("HOME", home.as_str()),
                ("BAO_TOKEN", ""),
                ("VAULT_TOKEN", ""),
            ],
        )
    };
    let out = doctor();
    assert!(
        out.all()
            .contains("the token may read apps/data/team/app/local (create, read, update)"),
        "{out:?}"
    );
    write_policy(
        server,
        "path \"apps/data/team/app/local\" { capabilities = [\"create\", \"update\"] }\n",
    );
    let out = doctor();
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.all().contains(
            "the token may not read apps/data/team/app/local (capabilities: create, update)"
        ),
        "{out:?}"
    );
    assert!(!out.all().contains(jwt), "{out:?}");
}

/// A profile whose server speaks TLS with a private CA (`ca_cert_path`), in a namespace
/// (`X-Vault-Namespace`), at an address interpolated from the environment (`${VAR}`): `sync`,
/// `set`, `versions` and `rollback` reach exactly that document. Without the CA the connection is
/// refused, never downgraded.
#[test]
fn a_vault_profile_uses_its_ca_cert_namespace_and_interpolated_address() {
    let server = DevServer::start_tls();
    bao_ok(&server, &["namespace", "create", "team-a"]);
    bao_ok(
        &server,
        &["secrets", "enable", "-ns=team-a", "-path=apps", "kv-v2"],
    );
    let p = project("${APP_VAULT_ADDR}");
    let yaml = profile_yaml("${APP_VAULT_ADDR}", "").replace(
        "    path: team/app/local\n",
        "    path: team/app/local\n    namespace: team-a\n    ca_cert_path: certs/vault-ca.pem\n",
    );
    support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
    std::fs::create_dir_all(p.path().join("certs")).unwrap();
    std::fs::copy(
        server.ca.as_ref().unwrap(),
        p.path().join("certs/vault-ca.pem"),
    )
    .unwrap();
    let home = p.path().to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        support::sp_env(
            p.path(),
            args,
            &[
                ("HOME", home.as_str()),
                ("APP_VAULT_ADDR", server.addr.as_str()),
                ("APP_VAULT_TOKEN", "root"),
                ("BAO_TOKEN", ""),
                ("VAULT_TOKEN", ""),
            ],
        )
    };
    let get = || {
        let out = bao_ok(
            &server,
            &[
                "kv",
                "get",
                "-format=json",
                "-ns=team-a",
                "-mount=apps",
                "team/app/local",
            ],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["data"]["data"].clone()
    };

    let out = run(&["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(get()["anthropic"], "sk-ant-api03-CANARY");

    let mut c = support::cmd(p.path());
    c.args(["set", "anthropic", "--stdin", "--yes"])
        .env("HOME", p.path())
        .env("APP_VAULT_ADDR", &server.addr)
        .env("APP_VAULT_TOKEN", "root")
        .env("BAO_TOKEN", "")
        .env("VAULT_TOKEN", "");
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"sk-ant-api03-SECOND-CANARY",
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("CANARY"),
        "{o:?}"
    );
    assert_eq!(get()["anthropic"], "sk-ant-api03-SECOND-CANARY");

    let out = run(&["versions", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("\"current_version\": 2")
            || out.stdout.contains("\"current_version\":2"),
        "{}",
        out.stdout
    );
    let out = run(&["rollback", "--version", "1", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(get()["anthropic"], "sk-ant-api03-CANARY");
    assert!(!out.all().contains("CANARY"), "{out:?}");

    // Without the profile's CA the server's certificate is not trusted: an error, no request.
    let yaml = yaml.replace("    ca_cert_path: certs/vault-ca.pem\n", "");
    support::write(p.path(), &format!("{LOCAL}/profile.yaml"), &yaml);
    let out = run(&["diff"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.stderr
    );
}
