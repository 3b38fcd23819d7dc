//! systemprompt 0.34.0's verdict on each fixture, from its own crates.

#[path = "../../harness.rs"]
mod harness;

use harness::{Case, Verdict};
use systemprompt_models::config::validate_postgres_url;
use systemprompt_models::secrets::Secrets;

fn judge(case: &Case) -> Verdict {
    // The boot's load (`load_secrets_from_path`): read, then `Secrets::parse`.
    let secrets = match Secrets::parse(&case.secrets) {
        Ok(secrets) => secrets,
        Err(error) => return Verdict::refused("parse", error),
    };
    // `validate_database_config` on the config built from these secrets.
    if let Err(error) = validate_postgres_url(&secrets.database_url) {
        return Verdict::refused("database_url", error);
    }
    if let Some(url) = &secrets.database_write_url {
        if let Err(error) = validate_postgres_url(url) {
            return Verdict::refused("database_url", error);
        }
    }
    // `SecretsBootstrap::ensure_manifest_signing_seed`: a seed that is present must decode; a
    // missing one is generated and persisted at boot.
    if let Some(seed) = secrets.manifest_signing_secret_seed.as_deref() {
        if let Err(error) = systemprompt_config::decode_seed(seed) {
            return Verdict::refused("boot", error);
        }
    }
    deploy(case, Verdict { loads: true, stage: None, error: None, deploy: None })
}

/// What `cloud deploy` pushes for this file.
fn deploy(case: &Case, mut verdict: Verdict) -> Verdict {
    let dir = std::env::temp_dir().join(format!("interop-v034-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("secrets.json");
    std::fs::write(&path, &case.secrets).expect("write");
    if let Ok(map) = systemprompt_cloud::secrets_env::load_secrets_json(&path) {
        verdict.deploy = Some(harness::deploy_map(
            systemprompt_cloud::secrets_env::map_secrets_to_env_vars(map),
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

fn main() {
    harness::run("0.34.0", judge);
}
