//! The remote verbs run in-process against the in-memory store: the same plans, writes and
//! answers as against the real stores, checked through a capturing shell.

use std::sync::Arc;

use secrecy::ExposeSecret;

use super::{dispatch, Context};
use crate::cli::CargoCli;
use crate::error::Error;
use crate::keyring::profile_cache::KeyringCache;
use crate::remote::{Edit, MemoryStore, RemoteStore};
use crate::secret_map::SecretMap;
use crate::shell::{Captured, Shell, Verbosity};

const SECRETS: &str = r#"{
  "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
  "database_url": "postgres://app:pw@db:5432/app",
  "openai": "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
  "fly_app_name": "app"
}
"#;

/// A project with one `local` profile; `table` goes into `[package.metadata.systemprompt-secrets]`.
fn project(table: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        format!("[package]\nname = \"verbs\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.systemprompt-secrets]\n{table}\n\n[workspace]\n"),
    )
    .expect("manifest");
    std::fs::create_dir_all(root.join("src")).expect("src");
    std::fs::write(root.join("src/lib.rs"), "").expect("lib");
    let profile = root.join(".systemprompt/profiles/local");
    std::fs::create_dir_all(&profile).expect("profile");
    crate::atomic::write_private(&profile.join("secrets.json"), SECRETS.as_bytes(), true)
        .expect("secrets.json");
    dir
}

/// Runs `args` in `dir` with `store` as the profile's remote.
fn run(
    dir: &tempfile::TempDir,
    store: &Arc<MemoryStore>,
    args: &[&str],
) -> (Result<(), Error>, Captured) {
    let manifest = dir.path().join("Cargo.toml");
    let mut command_line: Vec<std::ffi::OsString> = vec!["cargo-systemprompt-secrets".into()];
    command_line.extend(args.iter().map(Into::into));
    command_line.extend(["--manifest-path".into(), manifest.into_os_string()]);
    command_line.extend(["--keyring".into(), "none".into()]);
    let cli = CargoCli::try_parse_args(command_line).expect("arguments");
    let shared: Arc<dyn RemoteStore> = store.clone();
    let ctx = Context {
        cache: KeyringCache::new(cli.global.keyring),
        global: cli.global,
        store: Some(shared),
        env_only: std::cell::Cell::new(false),
    };
    let (mut shell, captured) = Shell::captured(Verbosity::Normal);
    (dispatch(&ctx, cli.command, &mut shell), captured)
}

fn json(captured: &Captured) -> serde_json::Value {
    serde_json::from_str(&captured.stdout()).expect("one JSON document")
}

fn names(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .expect("an array")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect()
}

#[test]
fn sync_to_a_names_only_store_pushes_once_skips_owned_names_and_prunes() {
    let dir = project("");
    let store = Arc::new(MemoryStore::names_only(SecretMap::of(&[
        ("OLD_KEY", "x"),
        ("SYSTEMPROMPT_API_TOKEN", "t"),
    ])));
    let (r, out) = run(&dir, &store, &["sync", "--prune", "--format", "json"]);
    r.expect("sync");
    let doc = json(&out);
    assert_eq!(
        names(&doc["new"]),
        ["DATABASE_URL", "JWT_SECRET", "OPENAI_API_KEY"]
    );
    assert_eq!(names(&doc["pruned"]), ["OLD_KEY"]);
    assert_eq!(doc["skipped"][0]["name"], "FLY_APP_NAME");
    assert_eq!(doc["values_compared"], false);
    assert_eq!(store.count("PUT"), 1, "one write for every name");
    let now: Vec<String> = store.current().names().cloned().collect();
    assert_eq!(
        now,
        [
            "DATABASE_URL",
            "JWT_SECRET",
            "OPENAI_API_KEY",
            "SYSTEMPROMPT_API_TOKEN"
        ]
    );
    assert!(out.stderr().contains("skipped FLY_APP_NAME"));
    assert!(!out.stdout().contains("Zq3vN8") && !out.stderr().contains("Zq3vN8"));
}

#[test]
fn sync_dry_run_writes_nothing() {
    let dir = project("");
    let store = Arc::new(MemoryStore::names_only(SecretMap::new()));
    let (r, out) = run(&dir, &store, &["sync", "--dry-run"]);
    r.expect("dry run");
    assert_eq!(store.count("PUT") + store.count("DELETE"), 0);
    assert!(
        out.stderr()
            .contains("new: DATABASE_URL, JWT_SECRET, OPENAI_API_KEY"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains("Dry run"));
}

#[test]
fn sync_to_a_versioned_store_is_fresh_the_second_time() {
    let dir = project("backend = \"openbao\"");
    let store = Arc::new(MemoryStore::versioned(SecretMap::new()));
    let (r, _) = run(&dir, &store, &["sync"]);
    r.expect("first sync");
    assert_eq!(store.count("POST"), 1);
    let (r, out) = run(&dir, &store, &["sync", "--format", "json"]);
    r.expect("second sync");
    assert_eq!(store.count("POST"), 1, "nothing written when up to date");
    assert!(out.stderr().contains("up to date"), "{}", out.stderr());
    assert_eq!(
        names(&json(&out)["unchanged"]),
        ["database_url", "jwt_secret", "openai"]
    );
}

#[test]
fn unset_reports_names_that_were_not_set() {
    let dir = project("");
    let store = Arc::new(MemoryStore::names_only(SecretMap::of(&[("OLD_KEY", "x")])));
    let (r, out) = run(
        &dir,
        &store,
        &["unset", "old_key", "NOPE", "--format", "json"],
    );
    r.expect("unset");
    let doc = json(&out);
    assert_eq!(names(&doc["removed"]), ["OLD_KEY"]);
    assert_eq!(names(&doc["was_not_set"]), ["NOPE"]);
    assert!(store.current().is_empty());
}

#[test]
fn pull_needs_a_store_with_values_and_asks_before_overwriting() {
    let cloud = project("");
    let store = Arc::new(MemoryStore::versioned(SecretMap::of(&[("extra", "v")])));
    let (r, _) = run(&cloud, &store, &["pull", "--yes"]);
    let e = r.expect_err("the cloud gives no values back");
    assert!(e.to_string().contains("nothing to pull"), "{e}");
    assert_eq!(store.count("GET"), 0, "nothing was asked");

    let dir = project("backend = \"openbao\"");
    let path = dir.path().join(".systemprompt/profiles/local/secrets.json");
    let remote = SecretMap::of(&[
        ("database_url", "postgres://app:pw@db:5432/app"),
        ("extra", "from-remote"),
        ("jwt_secret", "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        (
            "openai",
            "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
        ),
    ]);
    let store = Arc::new(MemoryStore::versioned(remote));
    let before = std::fs::read(&path).expect("read");
    let (r, _) = run(&dir, &store, &["pull"]);
    assert!(
        matches!(r, Err(Error::Usage { .. })),
        "removing fly_app_name needs --yes"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "nothing was written"
    );

    let (r, out) = run(&dir, &store, &["pull", "--yes", "--format", "json"]);
    r.expect("pull");
    let doc = json(&out);
    assert_eq!(names(&doc["added"]), ["extra"]);
    assert_eq!(names(&doc["removed"]), ["fly_app_name"]);
    let file = crate::secrets_file::read(&path).expect("a valid secrets file");
    let pulled: Vec<&str> = file.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        pulled,
        ["jwt_secret", "database_url", "openai", "extra"],
        "local order kept"
    );
}

#[test]
fn rollback_restores_an_earlier_version_as_a_new_one() {
    let dir = project("backend = \"openbao\"");
    let store = Arc::new(MemoryStore::versioned(SecretMap::of(&[("a", "1")])));
    let edit = Edit {
        set: SecretMap::of(&[("a", "2"), ("b", "3")]),
        ..Edit::default()
    };
    store.apply(&edit, None, &|| {}).expect("version 2");
    let (r, out) = run(
        &dir,
        &store,
        &["rollback", "--version", "1", "--format", "json"],
    );
    r.expect("rollback");
    assert_eq!(json(&out)["new_version"], 3);
    let now = store.current();
    assert!(
        now.same_as(&SecretMap::of(&[("a", "1")])),
        "b is removed, a changed back"
    );
    assert_eq!(now.get("a").map(ExposeSecret::expose_secret), Some("1"));

    let (r, _) = run(&dir, &store, &["rollback", "--version", "9"]);
    assert!(r
        .expect_err("no such version")
        .to_string()
        .contains("no such version"));
}
