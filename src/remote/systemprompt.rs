//! The systemprompt cloud secrets API (systemprompt-cloud.md, systemprompt-upstream-0.34.md):
//! `PUT` on `/api/v1/tenants/{tenant}/secrets`, and where the server still offers them `GET` on it
//! and `DELETE` on `…/secrets/{KEY}`. Tenant calls carry the access token of an RFC 8693 exchange
//! of the operator token (`POST /api/v1/core/oauth/token`), or the operator token itself on an
//! older server that has no exchange (404).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Applied, Capability, Edit, Remote, RemoteStore};
use crate::error::Error;
use crate::generation::Generation;
use crate::http::{shown, Http, HttpError, HttpResponse, RequestLog, RequestRecord};
use crate::keys;
use crate::secret_map::{Exposed, SecretMap};

/// How many DELETEs `delete_many` keeps in flight.
pub const DELETE_CONCURRENCY: usize = 8;

/// The RFC 8693 grant upstream uses (`cloud/api_client/methods.rs`).
pub const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The subject token type of the exchange.
pub const EXCHANGE_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The public client the exchange names.
pub const EXCHANGE_CLIENT_ID: &str = "sp_web";

/// A cloud API failure. Never contains the token or a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// Transport failure after retries, or a refused URL.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// 401 or 403.
    #[error(
        "token rejected or expired ({status}{}): run `cargo systemprompt-secrets login`",
        detail(message)
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The tenant does not exist (or is not visible to this token).
    #[error("tenant {tenant} not found{}", tenant_detail(tenant, message))]
    TenantNotFound {
        /// The tenant id.
        tenant: String,
        /// The server's message.
        message: String,
    },
    /// Any other error status, with the server's `{"error": {code, message}}`.
    #[error("{method} {url} failed with {status}{}", api_detail(code, message))]
    Api {
        /// The method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The error code from the body.
        code: String,
        /// The error message from the body.
        message: String,
    },
    /// An error answer to a write after an earlier attempt of it reached the server and got no
    /// usable answer: that attempt may have been applied.
    #[error("{cause}\n    note: an earlier attempt of this {method} reached the server and may have been applied; check with `cargo systemprompt-secrets diff`")]
    MaybeApplied {
        /// The method.
        method: &'static str,
        /// The error answer.
        cause: Box<CloudError>,
    },
    /// The server does not offer this call (a 404 or 405 to listing or deleting: systemprompt
    /// 0.32 and later removed them).
    #[error("{method} {url} answered {status}: this server does not offer {what}")]
    NotOffered {
        /// The method.
        method: &'static str,
        /// The URL.
        url: String,
        /// 404 or 405.
        status: u16,
        /// What is not offered.
        what: &'static str,
    },
    /// A 2xx answer whose body is not what the contract says.
    #[error("{url}: unexpected answer: {why}")]
    BadResponse {
        /// The URL.
        url: String,
        /// What was wrong.
        why: String,
    },
}

impl CloudError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::TenantNotFound { .. } => Some("check --tenant, `tenant-id` in the manifest, or `cloud.tenant_id` in profile.yaml".to_owned()),
            Self::Api {
                status, message, ..
            } => Some(api_hint(*status, !message.is_empty()).to_owned()),
            Self::Http(e) => e.help(),
            Self::MaybeApplied { cause, .. } => cause.help(),
            Self::NotOffered { .. } => Some("systemprompt 0.32 and later removed listing and deleting secrets; `sync` (without --prune) still pushes, and upstream's `cloud deploy` sets the rest".to_owned()),
            Self::BadResponse { .. } => Some("check that --api-url (or SYSTEMPROMPT_API_URL) points at the systemprompt API, not at another server".to_owned()),
            _ => None,
        }
    }
}

/// The server's words after "tenant X not found", unless they only say that again.
fn tenant_detail(tenant: &str, message: &str) -> String {
    let same = message
        .trim()
        .trim_end_matches('.')
        .eq_ignore_ascii_case(&format!("tenant {tenant} not found"));
    if same {
        String::new()
    } else {
        detail(message)
    }
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn api_hint(status: u16, has_message: bool) -> &'static str {
    match status {
        500.. => "the server failed; try again later, and check that --api-url points at the systemprompt API",
        300..=399 => "the server answered with a redirect, which is not followed; check that --api-url is the API's own address",
        _ if has_message => "the server refused the request; its message above says why",
        _ => "the server refused the request without saying why; check --api-url, the tenant and the token",
    }
}

/// Why a 2xx body could not be read as `what`, in words (an HTML page is named as such).
fn unexpected(body: &str, what: &str, e: &serde_json::Error) -> String {
    if body.trim_start().starts_with('<') {
        format!("an HTML page, not the JSON document {what}")
    } else if body.trim().is_empty() {
        format!("an empty body, not the JSON document {what}")
    } else {
        format!("expected {what}: {}", crate::scrub::serde_message(e))
    }
}

fn api_detail(code: &str, message: &str) -> String {
    match (code.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(": {code}"),
        (true, false) => format!(": {message}"),
        (false, false) => format!(": {code}: {message}"),
    }
}

/// What a DELETE did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deleted {
    /// It was there and is gone.
    Removed,
    /// 404: it was not set.
    WasNotSet,
}

/// The answer of the token exchange (other fields are not needed).
#[derive(serde::Deserialize)]
struct Exchanged {
    access_token: String,
}

/// The bearer of the tenant calls, settled once per run.
enum Bearer {
    /// The access token the exchange returned.
    Exchanged(SecretString),
    /// An older server without the exchange: the operator token itself.
    Operator,
}

/// A client for one tenant.
pub struct CloudClient {
    http: Http,
    base: Url,
    tenant: String,
    token: SecretString,
    generation: Generation,
    bearer: Mutex<Option<Bearer>>,
    notes: Mutex<Vec<String>>,
    log: RequestLog,
}

impl CloudClient {
    /// A client for `tenant` at `base` (already checked by [`crate::http::parse_base_url`]).
    #[must_use]
    pub fn new(
        http: Http,
        base: Url,
        tenant: &str,
        token: SecretString,
        generation: Generation,
    ) -> Self {
        crate::scrub::global().know(&token);
        Self {
            http,
            base,
            tenant: tenant.to_owned(),
            token,
            generation,
            bearer: Mutex::new(None),
            notes: Mutex::new(Vec::new()),
            log: RequestLog::default(),
        }
    }

    fn exchange_url(&self) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .extend(["api", "v1", "core", "oauth", "token"]);
        url
    }

    /// The RFC 8693 exchange of the operator token for a tenant access token, as upstream makes
    /// it. A 404 means an older server without it: the operator token is the bearer.
    fn exchange(&self) -> Result<Bearer, CloudError> {
        let url = self.exchange_url();
        // The `resource` is the API's URL itself, as upstream sends it.
        let api_url = self.base.as_str().trim_end_matches('/').to_owned();
        let body = SecretString::from(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", EXCHANGE_GRANT)
                .append_pair("subject_token", self.token.expose_secret())
                .append_pair("subject_token_type", EXCHANGE_TOKEN_TYPE)
                .append_pair("resource", &api_url)
                .append_pair("client_id", EXCHANGE_CLIENT_ID)
                .finish(),
        );
        let r = self.http.send("POST", &url, |c| {
            c.post(url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.expose_secret().to_owned())
        })?;
        if r.status == 404 {
            self.record("POST", &url, &r);
            self.notes.lock().expect("lock").push(format!(
                "POST {} answered 404: an older server without the token exchange; the operator token is sent as the bearer",
                shown(&url)
            ));
            return Ok(Bearer::Operator);
        }
        let r = self.check("POST", &url, r)?;
        // The serde message is not shown: it could quote the token.
        let answer: Exchanged =
            serde_json::from_str(&r.body).map_err(|_| CloudError::BadResponse {
                url: shown(&url),
                why: "expected {\"access_token\": \"…\"} from the token exchange".to_owned(),
            })?;
        if answer.access_token.trim().is_empty() {
            return Err(CloudError::BadResponse {
                url: shown(&url),
                why: "the token exchange returned an empty access_token".to_owned(),
            });
        }
        let access = SecretString::from(answer.access_token);
        crate::scrub::global().know(&access);
        Ok(Bearer::Exchanged(access))
    }

    /// The bearer for tenant calls: exchanged once per run (and again after a 401).
    fn bearer(&self, fresh: bool) -> Result<SecretString, CloudError> {
        let mut slot = self.bearer.lock().expect("lock");
        if fresh || slot.is_none() {
            *slot = Some(self.exchange()?);
        }
        Ok(match slot.as_ref().expect("set above") {
            Bearer::Exchanged(t) => t.clone(),
            Bearer::Operator => self.token.clone(),
        })
    }

    /// Sends one tenant call with the bearer; a 401 to an exchanged token exchanges once more and
    /// retries once, as upstream does.
    fn tenant_call(
        &self,
        method: &'static str,
        url: &Url,
        build: impl Fn(&reqwest::blocking::Client, &str) -> reqwest::blocking::RequestBuilder,
    ) -> Result<HttpResponse, CloudError> {
        let bearer = self.bearer(false)?;
        let r = self
            .http
            .send(method, url, |c| build(c, bearer.expose_secret()))?;
        let exchanged = matches!(
            self.bearer.lock().expect("lock").as_ref(),
            Some(Bearer::Exchanged(_))
        );
        if r.status != 401 || !exchanged {
            return Ok(r);
        }
        self.record(method, url, &r);
        let bearer = self.bearer(true)?;
        Ok(self
            .http
            .send(method, url, |c| build(c, bearer.expose_secret()))?)
    }

    /// The tenant.
    #[must_use]
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The API's base URL as it may be shown (credentials and query values hidden), without a
    /// trailing slash.
    #[must_use]
    pub fn api_url(&self) -> String {
        shown(&self.base).trim_end_matches('/').to_owned()
    }

    fn url(&self, key: Option<&str>) -> Url {
        let mut url = self.base.clone();
        {
            let mut segments = url.path_segments_mut().expect("an http(s) URL has a path");
            segments
                .pop_if_empty()
                .extend(["api", "v1", "tenants", &self.tenant, "secrets"]);
            if let Some(key) = key {
                segments.push(key);
            }
        }
        url
    }

    /// A 405, or a 404 that does not name the tenant, to a call the server may have dropped.
    fn not_offered(
        &self,
        method: &'static str,
        url: &Url,
        r: &HttpResponse,
        what: &'static str,
    ) -> Option<CloudError> {
        let tenant_missing = r
            .error_body()
            .is_some_and(|(code, _)| code.contains("tenant"));
        if r.status == 405 || (r.status == 404 && !tenant_missing) {
            self.record(method, url, r);
            return Some(CloudError::NotOffered {
                method,
                url: shown(url),
                status: r.status,
                what,
            });
        }
        None
    }

    fn record(&self, method: &'static str, url: &Url, r: &HttpResponse) {
        self.log.push(method, shown(url), r);
    }

    fn check(
        &self,
        method: &'static str,
        url: &Url,
        r: HttpResponse,
    ) -> Result<HttpResponse, CloudError> {
        self.record(method, url, &r);
        if (200..300).contains(&r.status) {
            return Ok(r);
        }
        let (code, message) = r.error_body().unwrap_or_default();
        let (code, message) = (
            crate::scrub::global().clean(&code),
            crate::scrub::global().clean(&message),
        );
        let err = match r.status {
            401 | 403 => Err(CloudError::Unauthorized {
                status: r.status,
                message,
            }),
            404 if method != "DELETE" || code.contains("tenant") => {
                Err(CloudError::TenantNotFound {
                    tenant: self.tenant.clone(),
                    message,
                })
            }
            status => Err(CloudError::Api {
                method,
                url: shown(url),
                status,
                code,
                message,
            }),
        };
        match err {
            Err(cause) if r.maybe_applied && method != "GET" => Err(CloudError::MaybeApplied {
                method,
                cause: Box::new(cause),
            }),
            other => other,
        }
    }

    /// `GET …/secrets`: the remote names (never values); [`CloudError::NotOffered`] on a server
    /// without it.
    pub fn list(&self) -> Result<Vec<String>, CloudError> {
        let url = self.url(None);
        let r = self.tenant_call("GET", &url, |c, bearer| {
            c.get(url.clone()).bearer_auth(bearer)
        })?;
        if let Some(e) = self.not_offered("GET", &url, &r, "listing secrets") {
            return Err(e);
        }
        let r = self.check("GET", &url, r)?;
        let keys: Keys = serde_json::from_str(&r.body).map_err(|e| CloudError::BadResponse {
            url: shown(&url),
            why: unexpected(&r.body, "{\"keys\": [...]}", &e),
        })?;
        let mut keys = keys.keys;
        keys.sort();
        Ok(keys)
    }

    /// `PUT …/secrets` with `{"secrets": {NAME: value, …}}`: one request for every name.
    pub fn upsert(&self, secrets: &SecretMap) -> Result<(), CloudError> {
        let url = self.url(None);
        crate::scrub::global().know_all(secrets.iter().map(|(_, v)| v));
        let body = SecretBody {
            secrets: secrets.exposed(),
        };
        let bytes = SecretString::from(serde_json::to_string(&body).map_err(|e| {
            CloudError::BadResponse {
                url: shown(&url),
                why: format!("cannot encode the request: {e}"),
            }
        })?);
        let r = self.tenant_call("PUT", &url, |c, bearer| {
            c.put(url.clone())
                .bearer_auth(bearer)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.expose_secret().to_owned())
        })?;
        self.check("PUT", &url, r).map(drop)
    }

    /// `DELETE …/secrets/{NAME}`; a 404 means it was not set, or, after an attempt whose answer was
    /// lost, that this attempt's predecessor removed it.
    pub fn delete(&self, name: &str) -> Result<Deleted, CloudError> {
        let url = self.url(Some(name));
        let r = self.tenant_call("DELETE", &url, |c, bearer| {
            c.delete(url.clone()).bearer_auth(bearer)
        })?;
        if r.status == 405 {
            if let Some(e) = self.not_offered("DELETE", &url, &r, "deleting secrets") {
                return Err(e);
            }
        }
        if r.status == 404
            && !r
                .error_body()
                .is_some_and(|(code, _)| code.contains("tenant"))
        {
            self.record("DELETE", &url, &r);
            // An earlier attempt reached the server: it most likely removed the name itself.
            return Ok(if r.maybe_applied {
                Deleted::Removed
            } else {
                Deleted::WasNotSet
            });
        }
        self.check("DELETE", &url, r).map(|_| Deleted::Removed)
    }

    /// Deletes every name with at most [`DELETE_CONCURRENCY`] requests in flight over the pooled
    /// connections; `done` is called after each. Results come back in the order of `names`.
    ///
    /// # Panics
    /// If a worker thread panicked.
    pub fn delete_many(
        &self,
        names: &[String],
        done: &(dyn Fn(&str) + Sync),
    ) -> Vec<Option<Result<Deleted, CloudError>>> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<Deleted, CloudError>>>> =
            Mutex::new(names.iter().map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..DELETE_CONCURRENCY.min(names.len()) {
                scope.spawn(|| loop {
                    // After Ctrl-C or SIGTERM the requests in flight finish and no more start.
                    if crate::interrupt::received().is_some() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let result = self.delete(name);
                    done(name);
                    results.lock().expect("lock")[i] = Some(result);
                });
            }
        });
        results.into_inner().expect("lock")
    }
}

/// `{"keys": [...]}`, the answer of `GET …/secrets`.
#[derive(serde::Deserialize)]
struct Keys {
    keys: Vec<String>,
}

/// `{"secrets": {…}}`, serialized straight from the secret values.
#[derive(serde::Serialize)]
struct SecretBody<'a> {
    secrets: Exposed<'a>,
}

impl RemoteStore for CloudClient {
    fn location(&self) -> String {
        format!("tenant {} ({})", self.tenant, self.api_url())
    }

    fn describe(&self) -> String {
        format!("cloud {} tenant {}", self.api_url(), self.tenant)
    }

    fn target(&self) -> (&'static str, String) {
        ("tenant", self.tenant.clone())
    }

    /// The older generation names keys as systemprompt-cloud.md; the current one as upstream's
    /// deploy does (`cloud/secrets_env.rs`).
    fn remote_name(&self, key: &str) -> String {
        match self.generation {
            Generation::JwtSecret => keys::env_name(key),
            Generation::Pepper => {
                super::names::deploy_name(key, false).unwrap_or_else(|| key.to_uppercase())
            }
        }
    }

    fn deploy_naming(&self) -> bool {
        self.generation == Generation::Pepper
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("lock").clone()
    }

    fn local_key(&self, name: &str) -> String {
        keys::key_from_env(name)
    }

    /// The cloud's names are env-style: a typed name is only upper-cased.
    fn remote_name_of(&self, given: &str) -> String {
        given.trim().to_ascii_uppercase()
    }

    fn has(&self, _: Capability) -> bool {
        false
    }

    fn read(&self) -> Result<Remote, Error> {
        match self.list() {
            Ok(names) => Ok(Remote::listing(names)),
            Err(e @ CloudError::NotOffered { .. }) => Ok(Remote::unlisted(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// One PUT for every name set, then the DELETEs, [`DELETE_CONCURRENCY`] in flight.
    fn apply(
        &self,
        edit: &Edit,
        base: Option<&Remote>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Applied, Error> {
        let mut applied = Applied::default();
        let listed = base.is_some_and(|b| b.unlisted.is_none());
        if !edit.delete.is_empty() && !listed {
            // A server without listing has no delete either (0.32 removed both): find out before
            // anything is written, so that nothing is half-done.
            if let Err(e @ CloudError::NotOffered { .. }) = self.list() {
                return Err(Error::failed(format!("{e}; nothing was changed"))
                    .help("systemprompt 0.32 and later removed deleting secrets; remove the name from the tenant with upstream's tools"));
            }
        }
        if !edit.set.is_empty() {
            self.upsert(&edit.set)?;
            applied.wrote = true;
        }
        let results = self.delete_many(&edit.delete, &|_| progress());
        for (name, r) in edit.delete.iter().zip(results) {
            match r {
                Some(Ok(Deleted::Removed)) => applied.removed.push(name.clone()),
                Some(Ok(Deleted::WasNotSet)) => applied.was_not_set.push(name.clone()),
                Some(Err(e)) => applied.failed.push((name.clone(), e.into())),
                None => applied.not_attempted.push(name.clone()),
            }
        }
        applied.wrote |= !applied.removed.is_empty();
        Ok(applied)
    }

    fn probe(&self) -> Result<String, Error> {
        match self.list() {
            Ok(names) => Ok(format!("{} names", names.len())),
            Err(e @ CloudError::NotOffered { .. }) => Ok(format!(
                "token accepted; the server does not list names ({e})"
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn requests(&self) -> Vec<RequestRecord> {
        self.log.all()
    }
}
