//! OpenBao / HashiCorp Vault KV v2: one secret per profile holding the whole map, written with
//! check-and-set, over one or several server addresses.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::blocking::RequestBuilder;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{Applied, Capability, Edit, Remote, RemoteStore};
use crate::config::RemoteNames;
use crate::error::Error;
use crate::http::{Failover, Http, HttpError, HttpResponse, RequestLog, RequestRecord};
use crate::keys;
use crate::secret_map::{Exposed, SecretMap};

pub use super::redirect::Redirect;

/// How many times a read-modify-write is retried after a CAS conflict.
pub const CAS_RETRIES: usize = 12;

/// An OpenBao failure. Never contains the token or a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaoError {
    /// Transport failure after retries, or a refused URL.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The server is sealed.
    #[error("the OpenBao server at {address} is sealed")]
    Sealed {
        /// The address that answered.
        address: String,
    },
    /// The mount does not exist.
    #[error("there is no secrets engine mounted at `{mount}/`")]
    MissingMount {
        /// The mount.
        mount: String,
    },
    /// The mount is KV version 1.
    #[error("`{mount}/` is a KV version 1 mount; this tool needs KV version 2 (versions and check-and-set)")]
    KvV1 {
        /// The mount.
        mount: String,
    },
    /// The token is not valid.
    #[error("OpenBao at {address} rejected the token from {from} (expired, revoked or wrong)")]
    TokenRejected {
        /// The address that answered.
        address: String,
        /// Where the token came from (`env $BAO_TOKEN`, `keyring (…)`, …).
        from: String,
    },
    /// The token is valid but its policy does not allow this.
    #[error("permission denied: the token's policy does not allow `{capability}` on `{path}`")]
    PermissionDenied {
        /// The capability needed.
        capability: &'static str,
        /// The API path.
        path: String,
    },
    /// The server refused a request body as too complex (its listener's JSON limits).
    #[error("the OpenBao server refused the request as too large ({errors})")]
    TooComplex {
        /// The server's words.
        errors: String,
    },
    /// Someone else wrote between our read and our write.
    #[error("{0}")]
    Conflict(String),
    /// The secret kept changing under every check-and-set retry.
    #[error("{path} kept changing: gave up after {CAS_RETRIES} check-and-set conflicts")]
    KeptChanging {
        /// `mount/path`.
        path: String,
    },
    /// A write whose answer was lost (or was an error after an attempt that may have landed) and
    /// whose outcome could not be read back.
    #[error("{path}: the write may or may not have been applied: {}; reading it back to check failed too: {}", cause, check)]
    Uncertain {
        /// `mount/path`.
        path: String,
        /// Why the write got no usable answer.
        cause: Box<BaoError>,
        /// Why the read-back failed.
        check: Box<BaoError>,
    },
    /// A write whose answer was lost or was an error, and which reading back shows was not applied.
    #[error("{cause}\n    note: reading {path} back shows this write was not applied; nothing was written")]
    NotWritten {
        /// `mount/path`.
        path: String,
        /// Why the write failed.
        cause: Box<BaoError>,
    },
    /// A value in the remote map that is not a string.
    #[error("{path}: the remote value of `{key}` is not a string (values are never shown here)")]
    NotAString {
        /// The path.
        path: String,
        /// The key.
        key: String,
        /// The version that holds it.
        version: u64,
    },
    /// Any other error answer.
    #[error("{method} {path} failed with {status}{}", if errors.is_empty() { " (the server gave no message)".to_owned() } else { format!(": {errors}") })]
    Api {
        /// The method.
        method: &'static str,
        /// The API path.
        path: String,
        /// The status.
        status: u16,
        /// The server's `errors`.
        errors: String,
    },
    /// A 2xx answer whose body is not KV v2's.
    #[error("{path}: unexpected answer: {why}")]
    BadResponse {
        /// The API path.
        path: String,
        /// What was wrong.
        why: String,
    },
}

impl BaoError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::TokenRejected { address, from } => Some(match from.strip_prefix("env $") {
                Some(var) => format!("{var} holds a token the server does not accept: replace it with a valid one, or unset it and run `cargo systemprompt-secrets login --backend openbao --address {address}`"),
                None => format!("run `cargo systemprompt-secrets login --backend openbao --address {address}` with a valid token, or set BAO_TOKEN"),
            }),
            Self::Sealed { .. } => Some("unseal it (`bao operator unseal`), or point `address` at an unsealed node".to_owned()),
            Self::MissingMount { mount, .. } => Some(format!("enable one with `bao secrets enable -path={mount} kv-v2`, or set `mount` in [workspace.metadata.systemprompt-secrets.openbao]")),
            Self::KvV1 { mount, .. } => Some(format!("`bao kv enable-versioning {mount}/`, or use another mount")),
            Self::PermissionDenied { capability, path, .. } => Some(format!("ask for a policy with {capability} on {path}")),
            Self::TooComplex { .. } => Some("its listener allows at most `max_request_json_strings` strings (default 1000, about 500 keys) and `max_request_json_memory` bytes; raise them in the server's `listener` block".to_owned()),
            Self::Uncertain { .. } => Some("once the cause above is fixed, run `cargo systemprompt-secrets diff` to see whether it landed, then run the command again if needed".to_owned()),
            Self::NotWritten { .. } => Some("run the command again".to_owned()),
            Self::NotAString { .. } => Some("fix it in OpenBao (every value of the secret must be a string), or restore an earlier version with `cargo systemprompt-secrets rollback --version N`".to_owned()),
            Self::Api { status, errors, .. } => Some((match *status {
                500.. => "the server failed; try again later, and check that `address` (or BAO_ADDR) points at OpenBao",
                300..=399 => "the server answered with a redirect to an address that is not configured; list every node in `address`",
                _ if !errors.is_empty() => "the server refused the request; its message above says why",
                _ => "the server refused the request without saying why; check `address`, `mount` and the token's policy",
            }).to_owned()),
            Self::Http(e) => e.help(),
            Self::KeptChanging { .. } => {
                Some("try again; someone else is writing to it right now".to_owned())
            }
            Self::BadResponse { .. } => Some("check that `address` (or BAO_ADDR) points at an OpenBao or Vault server and that `mount` is a KV version 2 mount".to_owned()),
            _ => None,
        }
    }
}

/// The secret's map at one version (0: it does not exist yet).
#[derive(Debug)]
pub struct Snapshot {
    /// The version read (0 when there is none, or the latest was deleted and nothing is readable).
    pub version: u64,
    /// The map.
    pub data: SecretMap,
}

/// One version in the metadata.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionInfo {
    /// The version number.
    pub version: u64,
    /// RFC 3339 creation time.
    pub created_time: String,
    /// RFC 3339 deletion time, if deleted.
    pub deletion_time: Option<String>,
    /// Whether its data was destroyed.
    pub destroyed: bool,
}

/// KV v2 metadata of the secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metadata {
    /// The current version.
    pub current_version: u64,
    /// Every version kept, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// A client for one KV v2 secret.
pub struct BaoClient {
    http: Http,
    addresses: Vec<Url>,
    mount: String,
    path: String,
    namespace: Option<String>,
    token: SecretString,
    token_source: String,
    names: RemoteNames,
    log: std::sync::Arc<RequestLog>,
    /// `secrets.vault.keys`: keys the app reads from a field of another document.
    redirects: Vec<Redirect>,
}

#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Vec<String>,
}

impl BaoClient {
    /// A client for `mount`/`path` on `addresses` (already checked by [`crate::http::parse_base_url`]).
    #[must_use]
    pub fn new(
        http: Http,
        addresses: Vec<Url>,
        mount: &str,
        path: &str,
        namespace: Option<String>,
        token: SecretString,
    ) -> Self {
        crate::scrub::global().know(&token);
        Self {
            http,
            addresses,
            mount: mount.trim_matches('/').to_owned(),
            path: path.trim_matches('/').to_owned(),
            namespace,
            token,
            token_source: "the command line".to_owned(),
            names: RemoteNames::default(),
            log: std::sync::Arc::default(),
            redirects: Vec::new(),
        }
    }

    /// The same client, reading and writing `redirects` where the app reads them.
    #[must_use]
    pub fn with_redirects(mut self, redirects: Vec<Redirect>) -> Self {
        self.redirects = redirects;
        self
    }

    /// The keys served from other documents.
    #[must_use]
    pub fn redirects(&self) -> &[Redirect] {
        &self.redirects
    }

    /// A client for another document under the same mount, with the same server, token and
    /// request log (and no redirects of its own).
    #[must_use]
    pub fn sibling(&self, path: &str) -> Self {
        Self {
            http: self.http.clone(),
            addresses: self.addresses.clone(),
            mount: self.mount.clone(),
            path: path.trim_matches('/').to_owned(),
            namespace: self.namespace.clone(),
            token: self.token.clone(),
            token_source: self.token_source.clone(),
            names: self.names,
            log: std::sync::Arc::clone(&self.log),
            redirects: Vec::new(),
        }
    }

    /// The document's path under the mount.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The same client, naming where its token came from in errors.
    #[must_use]
    pub fn with_token_source(mut self, source: impl Into<String>) -> Self {
        self.token_source = source.into();
        self
    }

    /// The same client, spelling remote names as `names` says.
    #[must_use]
    pub fn with_remote_names(mut self, names: RemoteNames) -> Self {
        self.names = names;
        self
    }

    /// `mount/path`, for messages.
    #[must_use]
    pub fn location(&self) -> String {
        format!("{}/{}", self.mount, self.path)
    }

    fn api_path(&self, kind: &str) -> String {
        format!("{}/{kind}/{}", self.mount, self.path)
    }

    fn urls(&self, api_path: &str, query: Option<&(&str, String)>) -> Vec<Url> {
        self.addresses
            .iter()
            .map(|base| {
                let mut url = base.clone();
                {
                    let mut segments = url.path_segments_mut().expect("an http(s) URL has a path");
                    segments.pop_if_empty().push("v1");
                    segments.extend(api_path.split('/').filter(|s| !s.is_empty()));
                }
                if let Some((k, v)) = query {
                    url.query_pairs_mut().append_pair(k, v);
                }
                url
            })
            .collect()
    }

    fn request(
        &self,
        method: &'static str,
        api_path: &str,
        query: Option<&(&str, String)>,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<HttpResponse, BaoError> {
        let urls = self.urls(api_path, query);
        let failover = Failover {
            any_5xx: true,
            give_back_last_answer: true,
        };
        let r = self.http.send_any(method, &urls, failover, |client, url| {
            let mut rb = match method {
                "GET" => client.get(url.clone()),
                "POST" => client.post(url.clone()),
                "DELETE" => client.delete(url.clone()),
                other => client.request(
                    reqwest::Method::from_bytes(other.as_bytes()).expect("a method"),
                    url.clone(),
                ),
            };
            let mut token = reqwest::header::HeaderValue::from_str(self.token.expose_secret())
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
            token.set_sensitive(true);
            rb = rb
                .header("X-Vault-Token", token)
                .header("X-Vault-Request", "true");
            if let Some(ns) = &self.namespace {
                rb = rb.header("X-Vault-Namespace", ns);
            }
            build(rb)
        })?;
        self.log.push(method, format!("/v1/{api_path}"), &r);
        Ok(r)
    }

    /// Maps an error answer to a clear error.
    fn fail(
        &self,
        method: &'static str,
        api_path: &str,
        capability: &'static str,
        r: &HttpResponse,
    ) -> BaoError {
        // The server's words, scrubbed of every value and token this run knows, and bounded.
        let errors = serde_json::from_str::<Errors>(&r.body)
            .map(|e| crate::scrub::global().clean(&e.errors.join("; ")))
            .unwrap_or_default();
        let lower = errors.to_ascii_lowercase();
        if r.status == 503 && lower.contains("sealed") {
            return BaoError::Sealed {
                address: self
                    .addresses
                    .first()
                    .map(crate::http::shown)
                    .unwrap_or_default(),
            };
        }
        if lower.contains("high complexity") || lower.contains("exceeded maximum") {
            return BaoError::TooComplex { errors };
        }
        if lower.contains("no handler for route") {
            return BaoError::MissingMount {
                mount: self.mount.clone(),
            };
        }
        if r.status == 403 {
            return if self.token_is_valid() {
                BaoError::PermissionDenied {
                    capability,
                    path: api_path.to_owned(),
                }
            } else {
                self.token_rejected()
            };
        }
        BaoError::Api {
            method,
            path: api_path.to_owned(),
            status: r.status,
            errors,
        }
    }

    fn token_rejected(&self) -> BaoError {
        BaoError::TokenRejected {
            address: self
                .addresses
                .first()
                .map(|u| crate::http::shown(u).trim_end_matches('/').to_owned())
                .unwrap_or_default(),
            from: self.token_source.clone(),
        }
    }

    /// Asks the server whether the token is valid (`auth/token/lookup-self`): `login` checks a
    /// token before it stores it.
    pub fn check_token(&self) -> Result<(), BaoError> {
        let r = self.request("GET", "auth/token/lookup-self", None, |rb| rb)?;
        match r.status {
            200 => Ok(()),
            401 | 403 => Err(self.token_rejected()),
            _ => Err(self.fail("GET", "auth/token/lookup-self", "read", &r)),
        }
    }

    fn token_is_valid(&self) -> bool {
        self.check_token().is_ok()
    }

    /// Reads the map (the latest version, or `version`).
    pub fn read(&self, version: Option<u64>) -> Result<Snapshot, BaoError> {
        let api_path = self.api_path("data");
        let query = version.map(|v| ("version", v.to_string()));
        let r = self.request("GET", &api_path, query.as_ref(), |rb| rb)?;
        let parsed: Result<ReadBody, serde_json::Error> = serde_json::from_str(&r.body);
        if r.status == 404 {
            if let Some(meta) = parsed
                .as_ref()
                .ok()
                .and_then(|b| b.data.as_ref())
                .and_then(|d| d.metadata.as_ref())
            {
                // The version exists but was deleted: nothing readable, but CAS must use its number.
                return Ok(Snapshot {
                    version: meta.version,
                    data: SecretMap::new(),
                });
            }
            let errors = serde_json::from_str::<Errors>(&r.body)
                .map(|e| e.errors)
                .unwrap_or_default();
            if errors.is_empty() {
                self.preflight()?;
                return Ok(Snapshot {
                    version: 0,
                    data: SecretMap::new(),
                });
            }
        }
        if r.status != 200 {
            return Err(self.fail("GET", &api_path, "read", &r));
        }
        let data = parsed
            .map_err(|e| BaoError::BadResponse {
                path: api_path.clone(),
                why: unexpected(&r.body, "of a KV v2 read", &e),
            })?
            .data
            .ok_or_else(|| BaoError::BadResponse {
                path: api_path.clone(),
                why: "no `data`".to_owned(),
            })?;
        let version = data.metadata.map_or(0, |m| m.version);
        let map = match data.data {
            None => SecretMap::new(),
            Some(Fields(Ok(map))) => map,
            Some(Fields(Err(key))) => {
                return Err(BaoError::NotAString {
                    path: self.location(),
                    key,
                    version,
                })
            }
        };
        crate::scrub::global().know_all(map.iter().map(|(_, v)| v));
        Ok(Snapshot { version, data: map })
    }

    /// Checks that the mount is KV v2 (only needed when the secret does not exist yet).
    fn preflight(&self) -> Result<(), BaoError> {
        let api_path = format!(
            "sys/internal/ui/mounts/{}",
            self.api_path("data").replacen("/data/", "/", 1)
        );
        let r = self.request("GET", &api_path, None, |rb| rb)?;
        if r.status != 200 {
            // Not allowed to look: the write will tell.
            return Ok(());
        }
        let mount = serde_json::from_str::<MountBody>(&r.body)
            .ok()
            .and_then(|b| b.data);
        if let Some(m) = mount {
            let version = m
                .options
                .as_ref()
                .and_then(|o| o.get("version"))
                .and_then(|v| v.as_str().map(str::to_owned));
            if m.kind.as_deref() == Some("kv") && version.as_deref() != Some("2") {
                return Err(BaoError::KvV1 {
                    mount: self.mount.clone(),
                });
            }
        }
        Ok(())
    }

    /// Writes the whole map if the current version is still `cas`. Returns the new version.
    pub fn write(&self, data: &SecretMap, cas: u64) -> Result<u64, BaoError> {
        crate::scrub::global().know_all(data.iter().map(|(_, v)| v));
        let api_path = self.api_path("data");
        let body = SecretString::from(
            serde_json::to_string(&WriteBody {
                options: WriteOptions { cas },
                data: data.exposed(),
            })
            .map_err(|e| BaoError::BadResponse {
                path: api_path.clone(),
                why: format!("cannot encode the request: {e}"),
            })?,
        );
        let sent = self.request("POST", &api_path, None, |rb| {
            rb.header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.expose_secret().to_owned())
        });
        // An attempt that got no usable answer may have landed; check-and-set makes sure a retry
        // never lands twice, and reading the next version back tells which happened.
        let r = match sent {
            Ok(r) => r,
            Err(BaoError::Http(e)) if e.maybe_applied() => {
                return self.settle(data, cas, BaoError::Http(e));
            }
            Err(e) => return Err(e),
        };
        if r.status == 400 && r.body.contains("check-and-set") {
            let conflict =
                BaoError::Conflict(format!("version {cas} is no longer the current one"));
            // After a lost answer, the "conflict" may be our own first attempt.
            return if r.maybe_applied {
                self.settle(data, cas, conflict)
            } else {
                Err(conflict)
            };
        }
        if !(200..300).contains(&r.status) {
            let err = self.fail("POST", &api_path, "create/update", &r);
            return if r.maybe_applied {
                self.settle(data, cas, err)
            } else {
                Err(err)
            };
        }
        serde_json::from_str::<WriteAnswer>(&r.body)
            .map(|b| b.data.version)
            .map_err(|_| BaoError::BadResponse {
                path: api_path,
                why: "no new version in the answer (is this a KV v1 mount?)".to_owned(),
            })
    }

    /// Settles a write of `data` with check-and-set `cas` whose outcome is unknown (`err`): it
    /// landed if version `cas + 1` holds exactly `data` (check-and-set lets only one write become
    /// that version, and ours could become no other). Otherwise it did not land: a conflict stays
    /// a conflict (to be re-read and retried), any other error says that nothing was written.
    fn settle(&self, data: &SecretMap, cas: u64, err: BaoError) -> Result<u64, BaoError> {
        let next = cas + 1;
        // A standby that serves reads (OpenBao clusters do by default) may lag the active node by
        // a moment: a version that is not there yet is asked for again before concluding.
        let mut read_back = self.read(Some(next));
        for _ in 0..4 {
            match &read_back {
                Ok(s) if s.version < next => {
                    std::thread::sleep(Duration::from_millis(250));
                    read_back = self.read(Some(next));
                }
                _ => break,
            }
        }
        match read_back {
            Ok(s) if s.version == next && s.data.same_as(data) => Ok(next),
            Ok(_) if matches!(err, BaoError::Conflict(_)) => Err(err),
            Ok(_) => Err(BaoError::NotWritten {
                path: self.location(),
                cause: Box::new(err),
            }),
            Err(check) => Err(BaoError::Uncertain {
                path: self.location(),
                cause: Box::new(err),
                check: Box::new(check),
            }),
        }
    }

    /// The KV v2 metadata: versions with times and deletion state.
    pub fn metadata(&self) -> Result<Option<Metadata>, BaoError> {
        let api_path = self.api_path("metadata");
        let r = self.request("GET", &api_path, None, |rb| rb)?;
        if r.status == 404
            && serde_json::from_str::<Errors>(&r.body).is_ok_and(|e| e.errors.is_empty())
        {
            return Ok(None);
        }
        if r.status != 200 {
            return Err(self.fail("GET", &api_path, "read", &r));
        }
        let body: MetaBody = serde_json::from_str(&r.body).map_err(|e| BaoError::BadResponse {
            why: unexpected(&r.body, "of KV v2 metadata", &e),
            path: api_path,
        })?;
        let mut versions: Vec<VersionInfo> = body
            .data
            .versions
            .into_iter()
            .filter_map(|(k, v)| {
                Some(VersionInfo {
                    version: k.parse().ok()?,
                    created_time: v.created_time,
                    deletion_time: Some(v.deletion_time).filter(|d| !d.is_empty()),
                    destroyed: v.destroyed,
                })
            })
            .collect();
        versions.sort_by_key(|v| v.version);
        Ok(Some(Metadata {
            current_version: body.data.current_version,
            versions,
        }))
    }

    /// What the token may do on each of `paths` (`POST sys/capabilities-self`), in order.
    pub fn capabilities(&self, paths: &[String]) -> Result<Vec<(String, Vec<String>)>, BaoError> {
        let api_path = "sys/capabilities-self";
        let body = serde_json::json!({ "paths": paths }).to_string();
        let r = self.request("POST", api_path, None, |rb| {
            rb.header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })?;
        if r.status != 200 {
            return Err(self.fail("POST", api_path, "update", &r));
        }
        let answer: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&r.body).map_err(|e| BaoError::BadResponse {
                path: api_path.to_owned(),
                why: unexpected(&r.body, "of sys/capabilities-self", &e),
            })?;
        let listed = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        };
        Ok(paths
            .iter()
            .map(|p| {
                // One path: the answer may give it under `capabilities` only.
                let caps = answer
                    .get(p)
                    .or_else(|| answer.get("data").and_then(|d| d.get(p)))
                    .or_else(|| {
                        (paths.len() == 1)
                            .then(|| answer.get("capabilities"))
                            .flatten()
                    })
                    .map(listed)
                    .unwrap_or_default();
                (p.clone(), caps)
            })
            .collect())
    }

    /// Read-modify-write with CAS, re-read and retried on a conflict. `change` returns `false` when
    /// there is nothing to write. Returns the new version, or `None` when nothing changed.
    pub fn update(
        &self,
        mut change: impl FnMut(&mut SecretMap) -> bool,
    ) -> Result<Option<u64>, BaoError> {
        for attempt in 0..CAS_RETRIES {
            let mut snapshot = self.read(None)?;
            if !change(&mut snapshot.data) {
                return Ok(None);
            }
            match self.write(&snapshot.data, snapshot.version) {
                Ok(v) => return Ok(Some(v)),
                Err(BaoError::Conflict(_)) => {
                    let mut jitter = [0u8; 1];
                    let _ = getrandom::fill(&mut jitter);
                    let base = 10u64 << attempt.min(5);
                    std::thread::sleep(Duration::from_millis(
                        base + u64::from(jitter[0]) % (base + 1),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        Err(BaoError::KeptChanging {
            path: self.location(),
        })
    }
}

/// `{"options": {"cas": N}, "data": {…}}`, serialized straight from the secret values.
#[derive(serde::Serialize)]
struct WriteBody<'a> {
    options: WriteOptions,
    data: Exposed<'a>,
}

#[derive(serde::Serialize)]
struct WriteOptions {
    cas: u64,
}

impl RemoteStore for BaoClient {
    fn location(&self) -> String {
        BaoClient::location(self)
    }

    fn describe(&self) -> String {
        format!("OpenBao {}", BaoClient::location(self))
    }

    fn target(&self) -> (&'static str, String) {
        ("path", BaoClient::location(self))
    }

    fn identity(&self) -> String {
        let servers: Vec<&str> = self.addresses.iter().map(Url::as_str).collect();
        format!(
            "OpenBao {} namespace {} {}",
            servers.join(","),
            self.namespace.as_deref().unwrap_or("-"),
            BaoClient::location(self)
        )
    }

    fn remote_name(&self, key: &str) -> String {
        match self.names {
            RemoteNames::Keys => key.to_owned(),
            RemoteNames::Env => keys::env_name(key),
        }
    }

    fn local_key(&self, name: &str) -> String {
        match self.names {
            RemoteNames::Keys => name.to_owned(),
            RemoteNames::Env => keys::key_from_env(name),
        }
    }

    fn has(&self, _: Capability) -> bool {
        true
    }

    fn read(&self) -> Result<Remote, Error> {
        let s = BaoClient::read(self, None)?;
        let mut remote = Remote::values(s.data, s.version);
        super::redirect::serve(self, &mut remote)?;
        Ok(remote)
    }

    /// One check-and-set write of the whole map: against `base` (a conflict is an error), or
    /// read afresh and retried on conflicts.
    fn apply(
        &self,
        edit: &Edit,
        base: Option<&Remote>,
        _: &(dyn Fn() + Sync),
    ) -> Result<Applied, Error> {
        // Redirected keys (`secrets.vault.keys`) go to their own fields, never into this document.
        let routed = super::redirect::route(self, edit, base)?;
        let edit = &routed.main;
        let mut applied = Applied::default();
        let mut change = |map: &mut SecretMap| {
            applied.removed = edit
                .delete
                .iter()
                .filter(|n| map.remove(n).is_some())
                .cloned()
                .collect();
            let set = map.set_all(&edit.set);
            set || !applied.removed.is_empty()
        };
        let version = match base {
            Some(base) => {
                let mut map = if self.redirects.is_empty() {
                    base.values.clone().unwrap_or_default()
                } else {
                    super::redirect::own_document(self, base)?
                };
                if change(&mut map) {
                    let cas = base.version.unwrap_or_default();
                    Some(self.write(&map, cas).map_err(|e| match e {
                        BaoError::Conflict(detail) => Error::Conflict {
                            location: BaoClient::location(self),
                            detail,
                        },
                        other => other.into(),
                    })?)
                } else {
                    None
                }
            }
            None => self.update(&mut change)?,
        };
        applied.was_not_set = edit
            .delete
            .iter()
            .filter(|n| !applied.removed.contains(n))
            .cloned()
            .collect();
        let fields = super::redirect::write_fields(self, &routed.fields)?;
        applied.wrote = version.is_some() || fields;
        applied.version = version;
        Ok(applied)
    }

    /// The metadata's current version; for a token that may read the document but not its
    /// metadata (an app's policy often grants only `data/`), the document's.
    fn probe(&self) -> Result<String, Error> {
        let (version, how) = match self.metadata() {
            Ok(m) => (m.map_or(0, |m| m.current_version), ""),
            Err(BaoError::PermissionDenied { .. }) => (
                BaoClient::read(self, None)?.version,
                "; this token may not read the metadata",
            ),
            Err(e) => return Err(e.into()),
        };
        Ok(match version {
            0 => format!("nothing stored yet{how}"),
            v => format!("version {v}{how}"),
        })
    }

    fn versions(&self) -> Result<Option<Metadata>, Error> {
        Ok(self.metadata()?)
    }

    /// `sys/capabilities-self` for this document and each redirected key's document.
    fn access(&self) -> Result<Vec<(String, Vec<String>)>, Error> {
        let mut paths = vec![self.api_path("data")];
        for r in &self.redirects {
            let p = self.sibling(&r.path).api_path("data");
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
        Ok(self.capabilities(&paths)?)
    }

    /// An earlier version of this document; redirected keys as their documents hold them now
    /// (a rollback of this document leaves them as they are).
    fn read_version(&self, version: u64) -> Result<Remote, Error> {
        let s = BaoClient::read(self, Some(version))?;
        let mut remote = Remote::values(s.data, s.version);
        super::redirect::serve(self, &mut remote)?;
        Ok(remote)
    }

    fn requests(&self) -> Vec<RequestRecord> {
        self.log.all()
    }
}

/// Why a 2xx body could not be read as the JSON `what`, in words (an HTML page is named as such).
fn unexpected(body: &str, what: &str, e: &serde_json::Error) -> String {
    if body.trim_start().starts_with('<') {
        format!("an HTML page, not the JSON {what}")
    } else if body.trim().is_empty() {
        format!("an empty body, not the JSON {what}")
    } else {
        format!("not the JSON {what}: {}", crate::scrub::serde_message(e))
    }
}

/// `{project}` and `{profile}` in the path template.
#[must_use]
pub fn expand_path(template: &str, project: &str, profile: &str) -> String {
    template
        .replace("{project}", project)
        .replace("{profile}", profile)
}

// The KV v2 answers this client reads.

#[derive(Deserialize)]
struct ReadBody {
    data: Option<ReadData>,
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<Fields>,
    metadata: Option<VersionMeta>,
}

/// A document's fields, read straight into a map of secrets: the values, or the first field that
/// is not a string.
struct Fields(Result<SecretMap, String>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::secrets_file::RawValue;
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                // Gathered, then built at once (a later field of the same name wins).
                let mut values = Vec::with_capacity(map.size_hint().unwrap_or(16));
                let mut not_a_string = None;
                while let Some(key) = map.next_key::<String>()? {
                    match map.next_value::<RawValue>()? {
                        RawValue::Str(value) => values.push((key, value)),
                        RawValue::Null | RawValue::Other(_) => {
                            not_a_string.get_or_insert(key);
                        }
                    }
                }
                Ok(Fields(match not_a_string {
                    None => Ok(values.into_iter().collect()),
                    Some(key) => Err(key),
                }))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct VersionMeta {
    version: u64,
}

#[derive(Deserialize)]
struct WriteAnswer {
    data: VersionMeta,
}

#[derive(Deserialize)]
struct MountBody {
    data: Option<MountInfo>,
}

#[derive(Deserialize)]
struct MountInfo {
    #[serde(rename = "type")]
    kind: Option<String>,
    options: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct MetaBody {
    data: MetaData,
}

#[derive(Deserialize)]
struct MetaData {
    current_version: u64,
    versions: BTreeMap<String, MetaVersion>,
}

#[derive(Deserialize)]
struct MetaVersion {
    created_time: String,
    deletion_time: String,
    destroyed: bool,
}
