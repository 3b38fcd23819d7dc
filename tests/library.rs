//! Library-level tests on fixture projects: discovery, configuration merge, layering and findings.

mod support;

use std::path::Path;

use support::fixture;
use systemprompt_secrets::cache_layer::MemoryCache;
use systemprompt_secrets::env::MapEnv;
use systemprompt_secrets::layers::{load, LoadOptions};
use systemprompt_secrets::project::{self, Project};
use systemprompt_secrets::validate::validate;
use systemprompt_secrets::{ExposeSecret, Severity};

fn discover(manifest: &Path) -> Project {
    project::discover(Some(manifest), None).expect("discover")
}

#[test]
fn workspace_member_merges_workspace_and_package_tables() {
    let ws = fixture("workspace");
    let api = discover(&ws.join("crates/api/Cargo.toml"));
    assert_eq!(api.package.as_deref(), Some("ws-api"));
    assert_eq!(api.config.default_profile.as_deref(), Some("dev"));
    assert!(!api.config.require_ai_provider);
    assert_eq!(
        api.config.required.as_deref(),
        Some(&["jwt_secret", "database_url", "stripe"].map(String::from)[..])
    );
    assert_eq!(api.config.rules["stripe"].prefix.as_deref(), Some("sk_"));
    assert_eq!(api.profiles.names, ["dev", "prod"]);
    assert_eq!(api.config.manifests.len(), 2);

    let root = discover(&ws.join("Cargo.toml"));
    assert_eq!(root.package, None);
    assert_eq!(
        root.config.required, None,
        "the generation's keys are required"
    );
    let dev = root.profiles.open("dev").unwrap();
    assert_eq!(root.settings(&dev).required, ["jwt_secret", "database_url"]);
    assert_eq!(root.id, api.id, "one id per workspace");

    let web = discover(&ws.join("crates/web/Cargo.toml"));
    assert_eq!(web.profiles.names, ["web-local"]);
    assert_eq!(web.config.default_profile.as_deref(), Some("web-local"));
}

#[test]
fn keyring_layer_is_lowest_and_read_once() {
    let ws = fixture("workspace");
    let p = discover(&ws.join("Cargo.toml"));
    let profile = p.profiles.open("prod").unwrap();
    let settings = p.settings(&profile);
    let cache = MemoryCache::default();
    cache.insert(
        &p.id,
        "prod",
        &[("jwt_secret", "from-cache"), ("stripe", "sk_cached_value")],
    );
    let env = MapEnv::from_pairs([("STRIPE", "sk_from_env")]);
    let opts = LoadOptions {
        env: &env,
        use_env: true,
        read_file: true,
        env_files: vec![],
        cache: &cache,
        project_id: &p.id,
    };
    let r = load(&profile.secrets_path, &settings, "prod", &opts).unwrap();
    assert_eq!(cache.reads(), 1);
    assert_eq!(r.get("jwt_secret").unwrap().source.layer(), "secrets.json");
    assert_eq!(
        r.entries["jwt_secret"].shadowed[0].source.layer(),
        "keyring"
    );
    assert_eq!(
        r.get("stripe").unwrap().value.expose_secret(),
        "sk_from_env"
    );
    // Only advice about the fixture's file mode (git checks it out 0644), nothing about values.
    assert!(validate(&r, &settings)
        .iter()
        .all(systemprompt_secrets::finding::Finding::is_advisory));
}

#[test]
fn mistakes_fixture_findings_have_places_and_hints() {
    let p = discover(&fixture("mistakes/Cargo.toml"));
    let profile = p.profiles.open("local").unwrap();
    let settings = p.settings(&profile);
    let env = MapEnv::default();
    let opts = LoadOptions {
        env: &env,
        use_env: false,
        read_file: true,
        env_files: vec![],
        cache: &systemprompt_secrets::cache_layer::NoCache,
        project_id: &p.id,
    };
    let r = load(&profile.secrets_path, &settings, "local", &opts).unwrap();
    let findings = validate(&r, &settings);
    assert!(findings.iter().any(|f| f.severity == Severity::Warning));
    for f in &findings {
        assert!(!f.hint.is_empty() && !f.message.is_empty(), "{f:?}");
        assert!(f.location.is_some(), "{f:?}");
        if f.key.as_deref().is_some_and(|k| r.get(k).is_some()) {
            assert!(
                f.location.as_ref().unwrap().line().is_some(),
                "file findings carry a line: {f:?}"
            );
        }
    }
}
