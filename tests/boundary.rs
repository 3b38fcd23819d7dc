//! What decides where secrets go cannot be planted by someone else (issue 24): the manifest
//! cache is used only when its folder and entry are this user's and private, and the entry
//! stamps every file it depends on.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use support::{cmd, project, run, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

fn validate_v(root: &Path, cache: &Path) -> Out {
    let mut c = cmd(root);
    c.args(["validate", "-v"])
        .env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache);
    run(c)
}

fn entry(cache: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// Rewrites the entry as someone else might: `profiles-dir` pointed elsewhere, and `edit` on
/// the rest of the JSON.
fn poison(file: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    v["facts"]["workspace_table"] = serde_json::json!({"profiles-dir": "planted-elsewhere"});
    edit(&mut v);
    std::fs::write(file, v.to_string()).unwrap();
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn reads_planted(out: &Out) -> bool {
    out.stderr.contains("planted-elsewhere")
}

#[test]
fn a_manifest_cache_someone_else_could_write_is_not_believed() {
    let p = project(&[(SECRETS, GOOD)]);
    let cache_root = tempfile::tempdir().unwrap();
    let cache = cache_root.path().join("manifests");
    let out = validate_v(p.path(), &cache);
    assert_eq!(out.code, 0, "{out:?}");
    let file = entry(&cache);
    assert_eq!(std::fs::metadata(&cache).unwrap().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);

    // The user's own private entry is believed (that is what a cache is for).
    poison(&file, |_| {});
    assert!(
        reads_planted(&validate_v(p.path(), &cache)),
        "a private own entry is used"
    );

    // An entry others may write.
    poison(&file, |_| {});
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = validate_v(p.path(), &cache);
    assert!(!reads_planted(&out), "a 0666 entry: {out:?}");

    // A folder others may write: not believed, and tightened by the next store.
    poison(&file, |_| {});
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = validate_v(p.path(), &cache);
    assert!(!reads_planted(&out), "a 0777 folder: {out:?}");
    assert_eq!(std::fs::metadata(&cache).unwrap().mode() & 0o777, 0o700);

    // An entry that stamps nothing (it would be believed for ever).
    poison(&file, |v| v["stamps"] = serde_json::json!([]));
    let out = validate_v(p.path(), &cache);
    assert!(!reads_planted(&out), "no stamps: {out:?}");

    // An entry of another user (the tests run as root in CI, which can make one).
    if rustix_is_root() {
        poison(&file, |_| {});
        std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
        let out = validate_v(p.path(), &cache);
        assert!(!reads_planted(&out), "another user's entry: {out:?}");
    }
}

fn rustix_is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
