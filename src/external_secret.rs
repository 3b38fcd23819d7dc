//! External Secrets Operator manifests for a profile whose pods take their secrets from OpenBao
//! (`cloud.provider: kubernetes | gke`): an `ExternalSecret` that maps each environment name to
//! its property in the profile's KV v2 document, and, on request, the `SecretStore` it refers to.
//! Names only, never a value. The fields follow the operator's `external-secrets.io/v1` CRDs as
//! of release v2.9.0 (`tests/fixtures/external-secrets/schema-v1.json`).

use serde_json::{json, Value};

/// How the store logs in to OpenBao, as the profile says its app does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAuth {
    /// A token, from a Kubernetes Secret named `vault-token` (key `token`).
    Token,
    /// `AppRole` at this mount, role id and secret id from the Secret `vault-approle`.
    AppRole {
        /// The auth mount (`approle`).
        mount: String,
    },
    /// Kubernetes service-account auth at this mount, as this role.
    Kubernetes {
        /// The auth mount (`kubernetes`).
        mount: String,
        /// The Vault role.
        role: String,
    },
}

/// What the manifests say.
#[derive(Debug, Clone)]
pub struct Manifests<'a> {
    /// The `ExternalSecret`'s name, and the Kubernetes Secret it makes.
    pub name: &'a str,
    /// The `SecretStore` it refers to.
    pub store: &'a str,
    /// Also write that `SecretStore`.
    pub with_store: bool,
    /// The server, KV v2 mount, path and namespace.
    pub location: &'a crate::remote::KvLocation,
    /// How the store logs in.
    pub auth: StoreAuth,
    /// Each environment name in the pod, with where it lives, sorted by name.
    pub names: Vec<Mapping>,
    /// `SYSTEMPROMPT_CUSTOM_SECRETS`, as deploy sets it: the custom names (a list of names, no
    /// value), written into the Secret by the template.
    pub custom_list: Option<String>,
}

/// One environment name and the property that feeds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The name in the pod's environment.
    pub env: String,
    /// The document's path under the mount (the profile's own, or a `secrets.vault.keys` one).
    pub path: String,
    /// The property (field) of that document.
    pub property: String,
}

impl Manifests<'_> {
    /// The YAML documents, `SecretStore` first when asked for.
    #[must_use]
    pub fn render(&self) -> String {
        let mut docs = Vec::new();
        if self.with_store {
            docs.push(self.secret_store());
        }
        docs.push(self.external_secret());
        docs.iter()
            .map(|d| serde_norway::to_string(d).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("---\n")
    }

    fn external_secret(&self) -> Value {
        let data: Vec<Value> = self
            .names
            .iter()
            .map(|m| {
                json!({
                    "secretKey": m.env,
                    "remoteRef": {"key": m.path, "property": m.property},
                })
            })
            .collect();
        let mut target = json!({"name": self.name, "creationPolicy": "Owner"});
        if let Some(list) = &self.custom_list {
            // Merge: the template adds this one name list to the fetched data.
            target["template"] = json!({
                "mergePolicy": "Merge",
                "data": {crate::remote::CUSTOM_SECRETS: list},
            });
        }
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": self.name},
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"name": self.store, "kind": "SecretStore"},
                "target": target,
                "data": data,
            },
        })
    }

    fn secret_store(&self) -> Value {
        let auth = match &self.auth {
            StoreAuth::Token => json!({"tokenSecretRef": {"name": "vault-token", "key": "token"}}),
            StoreAuth::AppRole { mount } => json!({"appRole": {
                "path": mount,
                "roleRef": {"name": "vault-approle", "key": "role-id"},
                "secretRef": {"name": "vault-approle", "key": "secret-id"},
            }}),
            StoreAuth::Kubernetes { mount, role } => {
                json!({"kubernetes": {"mountPath": mount, "role": role}})
            }
        };
        let mut vault = json!({
            "server": self.location.address,
            "path": self.location.mount,
            "version": "v2",
            "auth": auth,
        });
        if let Some(ns) = &self.location.namespace {
            vault["namespace"] = json!(ns);
        }
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": self.store},
            "spec": {"provider": {"vault": vault}},
        })
    }
}
