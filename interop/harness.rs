//! The shared half of the interop harness: reads the fixture corpus, hashes values, writes the
//! golden file. Each version's `main.rs` supplies the calls into upstream's own crates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One fixture: the raw text of a `secrets.json` and the profile conditions boot depends on.
#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    pub secrets: String,
    /// `target: cloud` in profile.yaml (0.44+: `signing_key_pem` is required).
    #[serde(default)]
    pub cloud: bool,
    /// `licence.multi_tenant: true` in profile.yaml (0.75+: `licence_signing_secret` is required).
    #[serde(default)]
    #[allow(dead_code)] // Reason: 0.34 has no licence rule; only v077 reads it.
    pub multi_tenant: bool,
}

#[derive(Deserialize)]
struct Corpus {
    cases: Vec<Case>,
}

/// What upstream did with one fixture.
#[derive(Serialize)]
pub struct Verdict {
    /// Upstream loads these secrets and boots past its secret checks.
    pub loads: bool,
    /// Where it refused: `parse`, `database_url` or `boot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<&'static str>,
    /// Upstream's own message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What `cloud deploy` pushes (`map_secrets_to_env_vars` over `load_secrets_json`): each value
    /// as `sha256:<hex>`, and `SYSTEMPROMPT_CUSTOM_SECRETS` as its names, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<BTreeMap<String, String>>,
}

impl Verdict {
    pub fn refused(stage: &'static str, error: impl std::fmt::Display) -> Self {
        Self { loads: false, stage: Some(stage), error: Some(error.to_string()), deploy: None }
    }
}

#[derive(Serialize)]
struct Golden<'a> {
    systemprompt: &'a str,
    generated_by: &'a str,
    cases: BTreeMap<String, Verdict>,
}

/// `sha256:<hex>` of a value, so goldens never hold one.
pub fn hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::from("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The deploy map as the golden records it.
pub fn deploy_map(map: std::collections::HashMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter()
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

/// Reads `corpus.json` (argument 1), runs `judge` on each case, writes the golden (argument 2).
pub fn run(version: &str, judge: impl Fn(&Case) -> Verdict) {
    let mut args = std::env::args_os().skip(1);
    let corpus = PathBuf::from(args.next().expect("usage: interop CORPUS.json GOLDEN.json"));
    let golden = PathBuf::from(args.next().expect("usage: interop CORPUS.json GOLDEN.json"));
    let text = std::fs::read_to_string(&corpus).expect("read the corpus");
    let corpus: Corpus = serde_json::from_str(&text).expect("parse the corpus");
    let mut cases = BTreeMap::new();
    for case in &corpus.cases {
        let verdict = judge(case);
        assert!(cases.insert(case.name.clone(), verdict).is_none(), "duplicate case {}", case.name);
    }
    let golden_doc = Golden {
        systemprompt: version,
        generated_by: "scripts/interop.sh (upstream's own crates; do not edit by hand)",
        cases,
    };
    let mut out = serde_json::to_string_pretty(&golden_doc).expect("serialize");
    out.push('\n');
    std::fs::write(&golden, out).expect("write the golden");
    let loads = golden_doc.cases.values().filter(|v| v.loads).count();
    println!("systemprompt {version}: {} cases, {loads} load", golden_doc.cases.len());
}
