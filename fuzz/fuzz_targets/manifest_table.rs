//! The manifest table: Cargo.toml text → `[workspace|package.metadata.systemprompt-secrets]`
//! (as the build-script reader converts it) → `Config::from_tables` → per-profile settings,
//! protected-profile globs and the custom rules applied to a value.
//!
//! Invariants: no panic; error lines point inside the manifest; every profile's settings can be
//! computed and its rules run; a protected-profile glob matches the names it describes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use systemprompt_secrets::config::{Config, ConfigError, TableSource, TABLE};
use systemprompt_secrets::source::Source;
use systemprompt_secrets::validate::validate_value;

/// Error lines are found by re-reading the manifest, so the text goes to a real file.
fn manifest_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fuzz-manifest-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("Cargo.toml")
    })
}

fn table_at(t: &toml::Table, section: &str) -> Option<serde_json::Value> {
    let v = t.get(section)?.get("metadata")?.get(TABLE)?;
    serde_json::to_value(v).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = toml::from_str::<toml::Table>(text) else {
        return;
    };
    let ws = table_at(&doc, "workspace");
    let pkg = table_at(&doc, "package");
    if ws.is_none() && pkg.is_none() {
        return;
    }
    let manifest = manifest_path();
    std::fs::write(manifest, text).expect("write manifest");
    let line_count = text.matches('\n').count() + 1;
    let source = |prefix| TableSource {
        manifest: manifest.as_path(),
        prefix,
    };
    let result = Config::from_tables(
        ws.as_ref().map(|v| (source("workspace.metadata"), v)),
        pkg.as_ref().map(|v| (source("package.metadata"), v)),
    );
    let config = match result {
        Ok(config) => config,
        Err(e) => {
            let line = match &e {
                ConfigError::UnknownKey { line, .. } | ConfigError::Invalid { line, .. } => *line,
                _ => None,
            };
            if let Some(line) = line {
                assert!(
                    (1..=line_count).contains(&line),
                    "line {line} of {line_count}"
                );
            }
            let _ = e.to_string();
            return;
        }
    };
    let mut names: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
    names.extend(config.default_profile.as_deref());
    names.extend(config.protected_profiles.iter().map(String::as_str));
    names.extend(["local", "production", "staging-prod", ""]);
    // `*` matches any run of characters, the empty one included.
    for pattern in &config.protected_profiles {
        assert!(
            config.is_protected(&pattern.replace('*', "")),
            "{pattern:?}"
        );
        assert!(
            config.is_protected(&pattern.replace('*', "-x*x-")),
            "{pattern:?}"
        );
    }
    for name in names {
        let settings = config.for_profile(name);
        let _ = settings.mode(None);
        assert_eq!(settings.protected, config.is_protected(name));
        for (key, rule) in &settings.rules {
            for value in ["", "sk_live_0123456789", key.as_str()] {
                let source = Source::SecretsFile {
                    path: manifest.clone(),
                    line: Some(1),
                };
                let _ = validate_value(key, value, &source, Some(rule));
            }
        }
    }
});
