//! systemprompt 0.77.0's verdict on each fixture, from its own crates.

#[path = "../../harness.rs"]
mod harness;

use harness::{Case, Verdict};
use systemprompt_config::{decode_master_key, decode_seed, SecretsBootstrapError, SecretsService};
use systemprompt_manifest::config::validate_postgres_url;
use systemprompt_manifest::profile::LICENCE_SIGNING_SECRET;
use systemprompt_manifest::secrets::Secrets;

fn judge(case: &Case) -> Verdict {
    // `load_secrets_from_path`: read, then `Secrets::parse`.
    let secrets = match Secrets::parse(&case.secrets) {
        Ok(secrets) => secrets,
        Err(error) => return Verdict::refused("parse", error),
    };
    // `SecretsService::load` → `validate_identity`, step by step through upstream's public parts.
    if let Err(error) = identity(case, &secrets) {
        return Verdict::refused("boot", error);
    }
    // `validate_database_config` on the config built from these secrets.
    for url in [Some(&secrets.database_url), secrets.database_write_url.as_ref(), secrets.database_session_url.as_ref()]
        .into_iter()
        .flatten()
    {
        if let Err(error) = validate_postgres_url(url) {
            return Verdict::refused("database_url", error);
        }
    }
    deploy(case, Verdict { loads: true, stage: None, error: None, deploy: None })
}

fn identity(case: &Case, secrets: &Secrets) -> Result<(), SecretsBootstrapError> {
    let seed = secrets
        .manifest_signing_secret_seed
        .as_deref()
        .ok_or(SecretsBootstrapError::ManifestSeedRequired)?;
    decode_seed(seed)?;
    let master = secrets
        .get("encryption_master_key")
        .ok_or(SecretsBootstrapError::EncryptionMasterKeyRequired)?;
    decode_master_key(master)?;
    let required = SecretsService::required_secret_keys(case.cloud);
    if required.contains(&systemprompt_config::SIGNING_KEY_PEM) && secrets.signing_key_pem.is_none() {
        return Err(SecretsBootstrapError::SigningKeyPemRequired);
    }
    if case.multi_tenant && secrets.get(LICENCE_SIGNING_SECRET).is_none() {
        return Err(SecretsBootstrapError::LicenceSigningSecretRequired);
    }
    Ok(())
}

/// What `cloud deploy` pushes for this file.
fn deploy(case: &Case, mut verdict: Verdict) -> Verdict {
    let dir = std::env::temp_dir().join(format!("interop-v077-{}", std::process::id()));
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

/// `interop-v077 boot PROFILE.yaml NAME...`: upstream's own boot path on a real profile
/// (`LoadedProfile::from_path`, then `SecretsService::load`, which for `secrets.source: vault`
/// logs in and reads the KV v2 document). Prints `{"loads": …, "error": …, "values": {NAME:
/// sha256 | null}}`: what each named key holds after the load, hashed.
fn boot(profile: &std::path::Path, names: &[String]) {
    use std::collections::BTreeMap;
    // As the app does at start: reqwest is built without a default crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let loaded = systemprompt_config::LoadedProfile::from_path(profile)?;
        SecretsService::load(loaded).await
    });
    let out = match result {
        Ok(service) => {
            let secrets = service.get();
            let values: BTreeMap<&str, Option<String>> = names
                .iter()
                .map(|n| (n.as_str(), loaded_value(&secrets, n).map(harness::hash)))
                .collect();
            serde_json::json!({"loads": true, "values": values})
        }
        Err(error) => serde_json::json!({"loads": false, "error": error.to_string()}),
    };
    println!("{out}");
}

/// What the loaded secrets hold for `name`: the typed field where `Secrets::get` has no arm
/// for it (the signing seed), else `get`.
fn loaded_value<'a>(secrets: &'a Secrets, name: &str) -> Option<&'a str> {
    match name {
        "manifest_signing_secret_seed" => secrets.manifest_signing_secret_seed.as_deref(),
        _ => secrets.get(name).map(String::as_str),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("boot") {
        let profile = args.get(1).expect("usage: interop-v077 boot PROFILE.yaml NAME...");
        boot(std::path::Path::new(profile), &args[2..]);
        return;
    }
    harness::run("0.77.0", judge);
}
