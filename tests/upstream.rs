//! The tool against upstream's own verdicts: for each fixture of `tests/fixtures/upstream/` and
//! each systemprompt version with a golden file (made by `scripts/interop.sh` from upstream's own
//! crates), `validate` exits 0 exactly when upstream loads the file, and `sync` sends the names
//! and values `cloud deploy` sends. Any difference fails, except those `deviations.json` lists,
//! each with its reason.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::cloud_server::CloudServer;
use support::{cmd, run, write};

const TENANT: &str = "tenant_interop";
const TOKEN: &str = "op-token-interop";

fn dir() -> PathBuf {
    support::fixture("upstream")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).expect("read the fixture");
    serde_json::from_str(&text).expect("parse the fixture")
}

/// The goldens there are, by version.
fn goldens() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir())
        .expect("fixtures")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let version = name
                .strip_prefix("golden-")?
                .strip_suffix(".json")?
                .to_owned();
            Some((version, load(&name)))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 2, "a golden for 0.34 and for 0.77 at least");
    out
}

/// `(case, version, check)` → reason.
fn deviations() -> BTreeMap<(String, String, String), String> {
    let doc = load("deviations.json");
    let mut out = BTreeMap::new();
    for d in doc["deviations"].as_array().expect("a list") {
        let reason = d["reason"].as_str().expect("a reason").to_owned();
        assert!(reason.len() > 20, "each deviation says why: {d}");
        for version in d["versions"].as_array().expect("versions") {
            out.insert(
                (
                    d["case"].as_str().expect("case").to_owned(),
                    version.as_str().expect("version").to_owned(),
                    d["check"].as_str().expect("check").to_owned(),
                ),
                reason.clone(),
            );
        }
    }
    out
}

/// A workspace on systemprompt `version` (its Cargo.lock names it).
fn workspace(version: &str) -> tempfile::TempDir {
    let p = support::project(&[]);
    write(
        p.path(),
        "Cargo.lock",
        &format!(
            "version = 4\n\n[[package]]\nname = \"systemprompt\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"tmp-project\"\nversion = \"0.1.0\"\n"
        ),
    );
    p
}

/// Puts one case in the workspace's `local` profile, with the profile.yaml `admin setup` writes
/// (`validation: warn`) and the case's conditions.
fn place(root: &Path, case: &Value, validation: &str) {
    let mut yaml = format!("secrets:\n  secrets_path: ./secrets.json\n  validation: {validation}\n  source: file\ncloud:\n  tenant_id: {TENANT}\n");
    if case["cloud"].as_bool() == Some(true) {
        yaml.push_str("target: cloud\n");
    }
    if case["multi_tenant"].as_bool() == Some(true) {
        yaml.push_str("licence:\n  multi_tenant: true\n");
    }
    write(root, ".systemprompt/profiles/local/profile.yaml", &yaml);
    write(
        root,
        ".systemprompt/profiles/local/secrets.json",
        case["secrets"].as_str().expect("secrets text"),
    );
}

fn hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::from("sha256:");
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What the tool's `sync` put on the tenant, as the goldens record a deploy.
fn pushed(server: &CloudServer) -> BTreeMap<String, String> {
    server
        .remote(TENANT)
        .into_iter()
        .map(|(name, value)| {
            if name == "SYSTEMPROMPT_CUSTOM_SECRETS" {
                let mut names: Vec<&str> = value.split(',').collect();
                names.sort_unstable();
                (name, names.join(","))
            } else {
                let hashed = hash(&value);
                (name, hashed)
            }
        })
        .collect()
}

/// Runs `sync` on the placed case and compares the tenant with what deploy pushes; `None` when
/// they are the same.
fn sync_difference(
    root: &Path,
    server: &CloudServer,
    deploy: &serde_json::Map<String, Value>,
) -> Option<String> {
    server.set_remote(TENANT, &[]);
    // The tenant starts empty for each case: nothing pushed before is recorded either.
    let state = tempfile::tempdir().expect("state folder");
    let mut c = cmd(root);
    c.env("SYSTEMPROMPT_SECRETS_STATE_DIR", state.path())
        .args(["systemprompt-secrets", "sync", "--yes"])
        .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
        .env("SYSTEMPROMPT_API_URL", &server.url);
    let out = run(c);
    let expected: BTreeMap<String, String> = deploy
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("hash").to_owned()))
        .collect();
    let got = pushed(server);
    if out.code == 0 && got == expected {
        return None;
    }
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>().join(", ");
    let differ: Vec<&String> = expected
        .keys()
        .chain(got.keys())
        .filter(|k| expected.get(*k) != got.get(*k))
        .collect();
    Some(format!(
        "sync exits {} and pushes [{}]; deploy pushes [{}]; these differ: {differ:?}\n{}",
        out.code,
        names(&got),
        names(&expected),
        out.stderr
    ))
}

/// How many cases `validate` judges as upstream does with `validation: strict`, where the tool's
/// warnings fail too: a figure for the note (strict asks for more than a boot), not a verdict.
fn strict_agreement(root: &Path, cases: &[Value], golden: &Value) -> usize {
    cases
        .iter()
        .filter(|case| {
            place(root, case, "strict");
            let mut c = cmd(root);
            c.args(["systemprompt-secrets", "validate", "-q"]);
            let loads = golden["cases"][case["name"].as_str().expect("name")]["loads"].as_bool();
            Some(run(c).code == 0) == loads
        })
        .count()
}

#[test]
fn validate_and_sync_agree_with_upstreams_own_loader() {
    let corpus = load("corpus.json");
    let cases = corpus["cases"].as_array().expect("cases");
    let allowed = deviations();
    let mut used = std::collections::BTreeSet::new();
    let mut differences = Vec::new();
    let mut agreement = Vec::new();
    let server = CloudServer::start(TOKEN, &[TENANT]);
    for (version, golden) in goldens() {
        let p = workspace(&version);
        let mut agree = 0;
        for case in cases {
            let name = case["name"].as_str().expect("name");
            let verdict = &golden["cases"][name];
            assert!(
                verdict.is_object(),
                "{name} has no verdict for {version}: run scripts/interop.sh"
            );
            place(p.path(), case, "warn");
            let mut c = cmd(p.path());
            c.args(["systemprompt-secrets", "validate"]);
            let out = run(c);
            assert!(!out.all().contains("panicked"), "{out:?}");
            let loads = verdict["loads"].as_bool().expect("loads");
            let key = (name.to_owned(), version.clone(), "validate".to_owned());
            if (out.code == 0) == loads {
                agree += 1;
            } else if allowed.contains_key(&key) {
                used.insert(key);
            } else {
                differences.push(format!(
                    "{name} on {version}: upstream {} ({}), validate exits {}:\n{}",
                    if loads { "loads it" } else { "refuses it" },
                    verdict["error"].as_str().unwrap_or("-"),
                    out.code,
                    out.stderr
                ));
            }
            // sync sends what deploy sends, for every file both sides load.
            let Some(deploy) = verdict["deploy"]
                .as_object()
                .filter(|_| loads && out.code == 0)
            else {
                continue;
            };
            let key = (name.to_owned(), version.clone(), "sync".to_owned());
            match sync_difference(p.path(), &server, deploy) {
                None => {}
                Some(_) if allowed.contains_key(&key) => {
                    used.insert(key);
                }
                Some(d) => differences.push(format!("{name} on {version}: {d}")),
            }
        }
        let strict = strict_agreement(p.path(), cases, &golden);
        agreement.push(format!(
            "systemprompt {version}: validate agrees with upstream on {agree} of {n} (validation: warn), {strict} of {n} (validation: strict)",
            n = cases.len()
        ));
    }
    // scripts/interop.sh prints these lines.
    #[allow(clippy::print_stderr)]
    // Reason: the figures for the closing note, shown with --nocapture.
    for line in &agreement {
        eprintln!("agreement: {line}");
    }
    let stale: Vec<_> = allowed.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        differences.is_empty() && stale.is_empty(),
        "{}\n\n{} difference(s) from upstream:\n\n{}\n\ndeviations.json lists these, which no longer differ: {stale:?}",
        agreement.join("; "),
        differences.len(),
        differences.join("\n---\n")
    );
}

fn secrets_of(root: &Path) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(root.join(".systemprompt/profiles/local/secrets.json"))
        .expect("secrets.json");
    serde_json::from_str(&text).expect("an object")
}

fn tool(root: &Path, args: &[&str]) -> support::Out {
    let mut c = cmd(root);
    c.arg("systemprompt-secrets").args(args);
    let out = run(c);
    assert!(!out.all().contains("panicked"), "{out:?}");
    out
}

#[test]
fn init_writes_what_each_version_needs_and_add_missing_fills_only_the_gaps() {
    // 0.77: what its `admin setup` generates, in its order; 0.34: the pepper alone.
    for (version, generated) in [
        (
            "0.77.0",
            &[
                "oauth_at_rest_pepper",
                "encryption_master_key",
                "manifest_signing_secret_seed",
                "signing_key_pem",
            ][..],
        ),
        ("0.34.0", &["oauth_at_rest_pepper"][..]),
    ] {
        let p = workspace(version);
        let out = tool(p.path(), &["init", "-v"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stderr
                .contains(&format!("systemprompt {version} (Cargo.lock)")),
            "{out:?}"
        );
        let doc = secrets_of(p.path());
        let text =
            std::fs::read_to_string(p.path().join(".systemprompt/profiles/local/secrets.json"))
                .unwrap();
        let mut filled: Vec<&str> = doc
            .iter()
            .filter(|(_, v)| !v.as_str().unwrap_or_default().is_empty())
            .map(|(k, _)| k.as_str())
            .collect();
        // In the file's order.
        filled.sort_by_key(|k| text.find(&format!("\"{k}\"")));
        assert_eq!(filled, generated, "{version}");
        for value in doc.values() {
            let v = value.as_str().unwrap_or_default();
            assert!(
                v.is_empty() || !out.all().contains(v),
                "a generated value was printed"
            );
        }
    }

    // A 0.34 file in a 0.77 workspace does not boot; --add-missing adds what is missing and
    // touches nothing that is there.
    let p = workspace("0.77.0");
    let corpus = load("corpus.json");
    let setup_034 = corpus["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == "setup-0.34")
        .expect("the 0.34 setup case");
    place(p.path(), setup_034, "warn");
    let before = secrets_of(p.path());
    let out = tool(p.path(), &["validate", "-v"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("manifest_signing_secret_seed since 0.44")
            && out.stderr.contains("encryption_master_key since 0.62"),
        "validate -v names the version's rules: {out:?}"
    );
    assert!(
        out.stderr.contains("required key `manifest_signing_secret_seed` is missing: systemprompt 0.77.0 refuses to boot without it"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("init --add-missing"),
        "the fix is named: {out:?}"
    );
    let out = tool(p.path(), &["init", "--add-missing"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("Added encryption_master_key, manifest_signing_secret_seed, signing_key_pem"),
        "{out:?}"
    );
    let after = secrets_of(p.path());
    for (key, value) in &before {
        assert_eq!(after.get(key), Some(value), "`{key}` is untouched");
    }
    let out = tool(p.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    let again = tool(p.path(), &["init", "--add-missing"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        secrets_of(p.path()),
        after,
        "nothing is missing the second time"
    );
    assert_eq!(
        tool(p.path(), &["init"]).code,
        1,
        "init does not replace a file unasked"
    );
}

#[test]
fn pinned_keys_are_not_replaced_without_a_word() {
    let p = workspace("0.77.0");
    assert_eq!(tool(p.path(), &["init", "-q"]).code, 0);
    let file = p.path().join(".systemprompt/profiles/local/secrets.json");
    let before = std::fs::read(&file).unwrap();

    // The master key: refused without --force, with what it costs.
    let out = tool(p.path(), &["rotate", "encryption_master_key", "--yes"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("unreadable") && out.stderr.contains("data loss"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing changed");

    // The pepper: what breaks and the restart are said; no terminal and no --yes is a no.
    let out = tool(p.path(), &["rotate", "oauth_at_rest_pepper"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("every client signs in again") && out.stderr.contains("restarts"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing changed");
    let out = tool(p.path(), &["rotate", "oauth_at_rest_pepper", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let after = secrets_of(p.path());
    let old: serde_json::Map<String, Value> = serde_json::from_slice(&before).unwrap();
    assert_ne!(after["oauth_at_rest_pepper"], old["oauth_at_rest_pepper"]);
    assert_eq!(after["encryption_master_key"], old["encryption_master_key"]);

    // An absent key is only added: no question.
    let mut doc = after.clone();
    doc.remove("signing_key_pem");
    write(
        p.path(),
        ".systemprompt/profiles/local/secrets.json",
        &Value::Object(doc).to_string(),
    );
    let out = tool(p.path(), &["rotate", "signing_key_pem"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(secrets_of(p.path())["signing_key_pem"]
        .as_str()
        .is_some_and(|v| v.len() > 1000));

    let out = tool(p.path(), &["rotate", "encryption_master_key", "--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(
        secrets_of(p.path())["encryption_master_key"],
        after["encryption_master_key"]
    );
}

/// A 0.77 workspace whose `local` profile `init` wrote and a user filled in.
fn filled_077() -> tempfile::TempDir {
    let p = workspace("0.77.0");
    assert_eq!(tool(p.path(), &["init", "-q"]).code, 0);
    let mut doc = secrets_of(p.path());
    doc.insert(
        "database_url".into(),
        "postgres://app:pw@localhost:5432/app".into(),
    );
    doc.insert(
        "anthropic".into(),
        format!("sk-ant-api03-{}xyzAA", "a1B2c3D4e5".repeat(9)).into(),
    );
    write(
        p.path(),
        ".systemprompt/profiles/local/secrets.json",
        &Value::Object(doc).to_string(),
    );
    p
}

#[test]
fn a_vault_profile_says_where_the_app_reads_and_writers_of_the_file_ask() {
    let p = filled_077();
    write(
        p.path(),
        ".systemprompt/profiles/local/profile.yaml",
        "secrets:\n  source: vault\n  vault:\n    address: ${BAO_ADDR_FOR_THIS_TEST:-https://bao.example:8200}\n    path: app/local\n",
    );
    // validate reads what the app reads, the Vault document; with no token it says so, before
    // any request (tests/vault_source.rs checks a real document).
    let mut c = cmd(p.path());
    c.args(["systemprompt-secrets", "validate"])
        .env("HOME", p.path())
        .env("BAO_TOKEN", "")
        .env("VAULT_TOKEN", "");
    let out = run(c);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("boots from Vault at https://bao.example:8200")
            && out.stderr.contains("$VAULT_TOKEN"),
        "{out:?}"
    );
    // `--env-only` checks the environment, and says the app reads Vault, not the file.
    let out = tool(p.path(), &["validate", "--env-only"]);
    assert!(
        out.stderr.contains("warning[secrets-source]")
            && out.stderr.contains(
                "Vault/OpenBao at https://bao.example:8200, KV v2 mount `secret`, path `app/local`"
            ),
        "{out:?}"
    );
    let file = p.path().join(".systemprompt/profiles/local/secrets.json");
    let before = std::fs::read(&file).unwrap();
    write(p.path(), "in.env", "STRIPE_KEY=sk_test_abcdefghijklmnop\n");
    for args in [
        &["rotate", "session_key", "--bytes", "24"][..],
        &["import", "in.env"],
        &["edit"],
    ] {
        let mut c = cmd(p.path());
        c.arg("systemprompt-secrets")
            .args(args)
            .env("EDITOR", "true");
        let out = run(c);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("it will not read") && out.stderr.contains("--yes"),
            "{args:?}: {out:?}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{args:?} changed nothing"
        );
    }
    let out = tool(
        p.path(),
        &["rotate", "session_key", "--bytes", "24", "--yes"],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn profiles_sessions_and_providers_as_0_77_reads_them() {
    let p = filled_077();
    // An old-shape profile is not counted, as upstream's discovery skips it; named, it is advice.
    write(
        p.path(),
        ".systemprompt/profiles/legacy/profile.yaml",
        "providers:\n  anthropic: {}\n",
    );
    let out = tool(p.path(), &["profiles"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("legacy"), "{out:?}");
    assert!(
        out.stderr.contains("profile `legacy` is not counted")
            && out
                .stderr
                .contains("systemprompt admin config migrate --profiles"),
        "{out:?}"
    );
    let out = tool(p.path(), &["validate", "--profile", "legacy"]);
    assert!(out.stderr.contains("warning[old-profile-shape]"), "{out:?}");

    // A `secrets:` block upstream's profile loader refuses: no source, or a file without a path.
    for yaml in [
        "secrets:\n  validation: warn\n",
        "secrets:\n  source: file\n",
    ] {
        write(p.path(), ".systemprompt/profiles/local/profile.yaml", yaml);
        let out = tool(p.path(), &["validate"]);
        assert_eq!(out.code, 1, "{yaml}: {out:?}");
        assert!(
            out.stderr.contains("error[invalid-secrets-block]"),
            "{out:?}"
        );
    }
    std::fs::remove_file(p.path().join(".systemprompt/profiles/local/profile.yaml")).unwrap();

    // 0.63+: a session record naming an invalid profile breaks every upstream call.
    write(
        p.path(),
        ".systemprompt/sessions/index.json",
        r#"{"active_profile_name": "my profile!"}"#,
    );
    let out = tool(p.path(), &["validate"]);
    assert!(
        out.stderr
            .contains("`my profile!` as the active profile, which is not a valid profile name"),
        "{out:?}"
    );
    std::fs::remove_file(p.path().join(".systemprompt/sessions/index.json")).unwrap();

    // cloud.provider: a cluster provides its secrets; docker_local is a local trial; from 0.75 a
    // `local_` tenant id alone no longer is.
    let server = CloudServer::start(TOKEN, &["local_abc"]);
    let sync = |yaml: &str| {
        write(p.path(), ".systemprompt/profiles/local/profile.yaml", yaml);
        let mut c = cmd(p.path());
        c.args(["systemprompt-secrets", "sync", "--yes"])
            .env("SYSTEMPROMPT_API_TOKEN", TOKEN)
            .env("SYSTEMPROMPT_API_URL", &server.url);
        run(c)
    };
    let out = sync("cloud:\n  tenant_id: t1\n  provider: kubernetes\n");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("deploys to kubernetes")
            && out.stderr.contains("ANTHROPIC_API_KEY")
            && out.stderr.contains("ENCRYPTION_MASTER_KEY")
            && out.stderr.contains("SYSTEMPROMPT_CUSTOM_SECRETS"),
        "{out:?}"
    );
    let out = sync("cloud:\n  tenant_id: t1\n  provider: docker_local\n");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("local trial"), "{out:?}");
    assert_eq!(server.count("PUT"), 0);
    let out = sync("cloud:\n  tenant_id: local_abc\n  provider: systemprompt\n");
    assert_eq!(
        out.code, 0,
        "a local_ id is a cloud tenant on 0.77: {out:?}"
    );
    assert_eq!(server.count("PUT"), 1);
}

#[test]
fn doctor_checks_upstreams_operator_credentials_like_its_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let p = filled_077();
    write(
        p.path(),
        ".systemprompt/operator_credentials.json",
        "{\"id_token\": \"x\"}",
    );
    let file = p.path().join(".systemprompt/operator_credentials.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tool(p.path(), &["doctor"]);
    assert!(
        out.stdout.contains("operator_credentials.json"),
        "the loose mode is named: {out:?}"
    );
    assert!(
        out.stdout.contains("systemprompt 0.77.0 (Cargo.lock)"),
        "doctor names the version's rules: {out:?}"
    );
    let out = tool(p.path(), &["doctor", "--fix"]);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600,
        "{out:?}"
    );
}

#[test]
fn edit_saves_what_validate_passes_and_refuses_what_upstream_refuses() {
    let p = filled_077();
    write(
        p.path(),
        ".systemprompt/profiles/local/profile.yaml",
        "secrets:\n  secrets_path: ./secrets.json\n  validation: warn\n  source: file\n",
    );
    let script = |name: &str, sed: &str| {
        use std::os::unix::fs::PermissionsExt;
        let path = p.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nsed -i -E '{sed}' \"$1\"\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    };
    let edit = |editor: &str| {
        let mut c = cmd(p.path());
        c.args(["systemprompt-secrets", "edit"])
            .env("EDITOR", editor);
        run(c)
    };
    // The tool's own error (a placeholder), in warn mode: reported as a warning and saved.
    let placeholder = script(
        "placeholder.sh",
        r#"s/"anthropic": ?"[^"]*"/"anthropic":"sk-ant-..."/"#,
    );
    let out = edit(&placeholder);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("warning[placeholder-value]"), "{out:?}");
    assert_eq!(secrets_of(p.path())["anthropic"], "sk-ant-...");
    // What 0.77 refuses (a short pepper) is not saved, whatever the mode.
    let before = std::fs::read(p.path().join(".systemprompt/profiles/local/secrets.json")).unwrap();
    let short = script(
        "short.sh",
        r#"s/"oauth_at_rest_pepper": ?"[^"]*"/"oauth_at_rest_pepper":"short"/"#,
    );
    let out = edit(&short);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("error[pepper-too-short]"), "{out:?}");
    assert_eq!(
        std::fs::read(p.path().join(".systemprompt/profiles/local/secrets.json")).unwrap(),
        before
    );
}
