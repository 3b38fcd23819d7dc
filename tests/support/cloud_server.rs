//! An HTTP contract server for the systemprompt cloud secrets API, in both generations:
//! - [`Api::Legacy`] (systemprompt-cloud.md, up to 0.31): the operator token is the bearer; list,
//!   upsert and delete; the token exchange does not exist (404).
//! - [`Api::Current`] (systemprompt-upstream-0.34.md): tenant calls need the access token of an RFC
//!   8693 exchange with upstream's exact form (`POST /api/v1/core/oauth/token`); the operator token
//!   as a bearer is refused; list and delete answer 404 (removed in 0.32).
//!
//! It enforces the contract (paths, methods, bearer token, `{"secrets": {string: string}}` bodies,
//! User-Agent), records every request, keeps per-tenant state, and injects faults on demand.
#![allow(dead_code)]
// Reason: the whole contract reads best as one function, top to bottom.
#![allow(clippy::too_many_lines)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http_server::{Body, HttpServer};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

/// One request as the server saw it (never the Authorization header).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Names in a PUT body.
    pub put_names: Vec<String>,
    pub at: Instant,
}

#[derive(Default)]
struct Faults {
    /// Answer `status` (with `Retry-After` if set) to the next `n` requests.
    status: Option<(u16, usize, Option<u64>)>,
    /// Close the connection without answering the next `n` requests.
    drop: usize,
    /// Sleep this long before answering the next `n` requests.
    delay: Option<(Duration, usize)>,
    /// Sleep this long before answering every request.
    latency: Duration,
}

/// Which generation of the API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Api {
    /// Up to 0.31: operator bearer, list and delete.
    #[default]
    Legacy,
    /// 0.32 and later: token exchange, no list or delete.
    Current,
}

/// The path of the token exchange.
pub const EXCHANGE_PATH: &str = "/api/v1/core/oauth/token";

/// The access tokens this server issues start with this (tests look for it in output).
pub const ACCESS_TOKEN_PREFIX: &str = "sp-access-CANARY-";

#[derive(Default)]
struct State {
    api: Api,
    /// The `resource` the exchange must name (the server's own URL).
    resource: String,
    /// Access tokens issued and still valid.
    access: Vec<String>,
    issued: usize,
    /// Refuse this many more valid access tokens with a 401 (and forget them), as on expiry.
    reject_access: usize,
    token: String,
    tenants: HashMap<String, BTreeMap<String, String>>,
    requests: Vec<Recorded>,
    violations: Vec<String>,
    faults: Faults,
    in_flight: usize,
    max_in_flight: usize,
}

/// A running contract server on 127.0.0.1; stopped on drop.
pub struct CloudServer {
    pub url: String,
    state: Arc<Mutex<State>>,
    _server: HttpServer,
}

impl CloudServer {
    /// Starts an older-generation server that accepts `token` and knows `tenants` (all empty).
    pub fn start(token: &str, tenants: &[&str]) -> Self {
        Self::start_api(Api::Legacy, token, tenants)
    }

    /// Starts a current-generation server (token exchange, no list or delete).
    pub fn start_current(token: &str, tenants: &[&str]) -> Self {
        Self::start_api(Api::Current, token, tenants)
    }

    /// Starts a server of `api`.
    pub fn start_api(api: Api, token: &str, tenants: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(State {
            api,
            token: token.to_owned(),
            tenants: tenants
                .iter()
                .map(|t| ((*t).to_owned(), BTreeMap::new()))
                .collect(),
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let server = HttpServer::start(4, move |req| handle(Arc::clone(&shared), req));
        state.lock().expect("state").resource = format!("http://{}", server.addr);
        Self {
            url: format!("http://{}", server.addr),
            state,
            _server: server,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("state"))
    }

    /// Replaces a tenant's remote secrets.
    pub fn set_remote(&self, tenant: &str, pairs: &[(&str, &str)]) {
        self.with(|s| {
            s.tenants.insert(
                tenant.to_owned(),
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
        });
    }

    /// A tenant's remote secrets.
    pub fn remote(&self, tenant: &str) -> BTreeMap<String, String> {
        self.with(|s| s.tenants.get(tenant).cloned().unwrap_or_default())
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    /// Requests by method.
    pub fn count(&self, method: &str) -> usize {
        self.with(|s| s.requests.iter().filter(|r| r.method == method).count())
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.with(|s| {
            s.requests.clear();
            s.max_in_flight = 0;
        });
    }

    /// The most requests that were being handled at once.
    pub fn max_in_flight(&self) -> usize {
        self.with(|s| s.max_in_flight)
    }

    /// Answer `status` to the next `n` requests, with `Retry-After: retry_after` if given.
    pub fn fail_next(&self, status: u16, n: usize, retry_after: Option<u64>) {
        self.with(|s| s.faults.status = Some((status, n, retry_after)));
    }

    /// Drop the connection of the next `n` requests without answering.
    pub fn drop_next(&self, n: usize) {
        self.with(|s| s.faults.drop = n);
    }

    /// Sleep `delay` before answering the next `n` requests.
    pub fn delay_next(&self, delay: Duration, n: usize) {
        self.with(|s| s.faults.delay = Some((delay, n)));
    }

    /// Sleep `latency` before answering every request.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.faults.latency = latency);
    }

    /// How many access tokens the exchange issued.
    pub fn exchanges(&self) -> usize {
        self.with(|s| s.issued)
    }

    /// Answers the next `n` tenant calls that carry a valid access token with 401, as if it had
    /// just expired (and forgets the token).
    pub fn reject_next_access(&self, n: usize) {
        self.with(|s| s.reject_access = n);
    }

    /// Makes every access token issued so far invalid (as if it expired).
    pub fn expire_access_tokens(&self) {
        self.with(|s| s.access.clear());
    }

    /// Panics with every contract violation seen.
    pub fn assert_contract(&self) {
        let v = self.with(|s| s.violations.clone());
        assert!(
            v.is_empty(),
            "the client broke the contract:\n{}",
            v.join("\n")
        );
    }
}

fn json(status: u16, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    json(
        status,
        &serde_json::json!({"error": {"code": code, "message": message}}),
    )
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    // Injected faults aim at the tenant calls; the token exchange before them is answered as is.
    if req.uri().path() == EXCHANGE_PATH {
        let method = req.method().to_string();
        let result = respond(&state, req, false, None, Duration::ZERO, None).await;
        let mut s = state.lock().expect("state");
        let status = result.as_ref().map_or(0, |(r, _)| r.status().as_u16());
        s.requests.push(Recorded {
            method,
            path: EXCHANGE_PATH.to_owned(),
            status,
            put_names: Vec::new(),
            at: Instant::now(),
        });
        return result.map(|(r, _)| r);
    }
    let (drop_it, delay, latency, status_fault) = {
        let mut s = state.lock().expect("state");
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let drop_it = if s.faults.drop > 0 {
            s.faults.drop -= 1;
            true
        } else {
            false
        };
        let delay = match &mut s.faults.delay {
            Some((d, n)) if *n > 0 => {
                *n -= 1;
                Some(*d)
            }
            _ => None,
        };
        let status_fault = match &mut s.faults.status {
            Some((code, n, after)) if *n > 0 && !drop_it => {
                *n -= 1;
                Some((*code, *after))
            }
            _ => None,
        };
        (drop_it, delay, s.faults.latency, status_fault)
    };
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let result = respond(&state, req, drop_it, delay, latency, status_fault).await;
    let mut s = state.lock().expect("state");
    s.in_flight -= 1;
    let (status, put_names) = match &result {
        Ok((r, names)) => (r.status().as_u16(), names.clone()),
        Err(_) => (0, Vec::new()),
    };
    s.requests.push(Recorded {
        method,
        path,
        status,
        put_names,
        at: Instant::now(),
    });
    result.map(|(r, _)| r)
}

async fn respond(
    state: &Arc<Mutex<State>>,
    req: Request<Incoming>,
    drop_it: bool,
    delay: Option<Duration>,
    latency: Duration,
    status_fault: Option<(u16, Option<u64>)>,
) -> Result<(Response<Body>, Vec<String>), std::io::Error> {
    if drop_it {
        // An error from the service makes hyper close the connection without an answer.
        return Err(std::io::Error::other("fault: dropped connection"));
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let violation = |what: String| state.lock().expect("state").violations.push(what);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let ua = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !ua.starts_with("cargo-systemprompt-secrets/") {
        violation(format!("{method} {path}: User-Agent is `{ua}`"));
    }
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();

    if let Some((code, after)) = status_fault {
        let mut r = error(code, "fault", "injected fault");
        if let Some(a) = after {
            r.headers_mut()
                .insert("retry-after", a.to_string().parse().expect("header"));
        }
        return Ok((r, Vec::new()));
    }

    if path == EXCHANGE_PATH {
        let mut s = state.lock().expect("state");
        return Ok((exchange(&mut s, &method, &content_type, &body), Vec::new()));
    }
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let (tenant, key) = match segments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["api", "v1", "tenants", t, "secrets"] => ((*t).to_owned(), None),
        ["api", "v1", "tenants", t, "secrets", k] => ((*t).to_owned(), Some((*k).to_owned())),
        _ => {
            violation(format!("{method} {path}: not a path of the contract"));
            return Ok((error(404, "not_found", "no such route"), Vec::new()));
        }
    };
    let (api, token, access) = {
        let s = state.lock().expect("state");
        (s.api, s.token.clone(), s.access.clone())
    };
    let bearer_now = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
    if let Some(t) = bearer_now.filter(|t| access.iter().any(|a| a == t)) {
        let mut s = state.lock().expect("state");
        if s.reject_access > 0 {
            s.reject_access -= 1;
            s.access.retain(|a| a != t);
            return Ok((
                error(401, "unauthorized", "access token expired"),
                Vec::new(),
            ));
        }
    }
    let bearer = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
    if api == Api::Current {
        match bearer {
            Some(t) if access.iter().any(|a| a == t) => {}
            Some(t) if t == token => {
                violation(format!(
                    "{method} {path}: the operator token was sent as the bearer; 0.32 and later need the exchanged access token"
                ));
                return Ok((
                    error(401, "unauthorized", "exchange the token first"),
                    Vec::new(),
                ));
            }
            Some(_) => {
                return Ok((
                    error(401, "unauthorized", "access token expired or invalid"),
                    Vec::new(),
                ))
            }
            None => {
                violation(format!(
                    "{method} {path}: no `Authorization: Bearer` header"
                ));
                return Ok((
                    error(401, "unauthorized", "missing bearer token"),
                    Vec::new(),
                ));
            }
        }
        if method != "PUT" {
            // 0.32 removed listing and deleting: the routes are gone.
            return Ok((error(404, "not_found", "no such route"), Vec::new()));
        }
    }
    match bearer.filter(|_| api == Api::Legacy) {
        None if api == Api::Current => {}
        None => {
            violation(format!(
                "{method} {path}: no `Authorization: Bearer` header"
            ));
            return Ok((
                error(401, "unauthorized", "missing bearer token"),
                Vec::new(),
            ));
        }
        Some(t) if t != token => {
            return Ok((
                error(401, "unauthorized", "token expired or invalid"),
                Vec::new(),
            ))
        }
        Some(_) => {}
    }
    let mut guard = state.lock().expect("state");
    let s = &mut *guard;
    let Some(secrets) = s.tenants.get_mut(&tenant) else {
        return Ok((
            error(
                404,
                "tenant_not_found",
                &format!("tenant {tenant} not found"),
            ),
            Vec::new(),
        ));
    };
    match (method.as_str(), key) {
        ("GET", None) => {
            let keys: Vec<&String> = secrets.keys().collect();
            Ok((json(200, &serde_json::json!({ "keys": keys })), Vec::new()))
        }
        ("PUT", None) => {
            if !content_type.starts_with("application/json") {
                s.violations
                    .push(format!("PUT {path}: Content-Type is `{content_type}`"));
            }
            let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
            let map = parsed.ok().and_then(|v| {
                let obj = v.as_object()?;
                if obj.len() != 1 {
                    return None;
                }
                let inner = obj.get("secrets")?.as_object()?;
                inner
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect::<Option<Vec<_>>>()
            });
            let Some(map) = map else {
                s.violations.push(format!(
                    "PUT {path}: body is not {{\"secrets\": {{string: string}}}}"
                ));
                return Ok((
                    error(
                        400,
                        "bad_request",
                        "body must be {\"secrets\": {string: string}}",
                    ),
                    Vec::new(),
                ));
            };
            let names: Vec<String> = map.iter().map(|(k, _)| k.clone()).collect();
            secrets.extend(map);
            Ok((
                json(200, &serde_json::json!({"updated": names.len()})),
                names,
            ))
        }
        ("DELETE", Some(k)) => {
            if secrets.remove(&k).is_some() {
                Ok((
                    Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .body(Full::new(Bytes::new()))
                        .expect("response"),
                    Vec::new(),
                ))
            } else {
                Ok((
                    error(404, "secret_not_found", &format!("{k} is not set")),
                    Vec::new(),
                ))
            }
        }
        (m, k) => {
            s.violations.push(format!(
                "{m} {path}: method not in the contract (key: {k:?})"
            ));
            Ok((
                error(405, "method_not_allowed", "method not allowed"),
                Vec::new(),
            ))
        }
    }
}

/// `POST /api/v1/core/oauth/token`: an older server has none; a current one wants upstream's
/// exact form and issues an access token.
fn exchange(
    s: &mut State,
    method: &hyper::Method,
    content_type: &str,
    body: &[u8],
) -> Response<Body> {
    if s.api == Api::Legacy {
        return error(404, "not_found", "no such route");
    }
    if method != hyper::Method::POST {
        s.violations
            .push(format!("{method} /api/v1/core/oauth/token: not POST"));
        return error(405, "method_not_allowed", "method not allowed");
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        s.violations.push(format!(
            "POST /api/v1/core/oauth/token: Content-Type is `{content_type}`"
        ));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let want = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("resource", s.resource.as_str()),
        ("client_id", "sp_web"),
    ];
    let mut names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names
        != [
            "client_id",
            "grant_type",
            "resource",
            "subject_token",
            "subject_token_type",
        ]
    {
        s.violations.push(format!(
            "POST /api/v1/core/oauth/token: form fields are {names:?}"
        ));
        return error(400, "invalid_request", "unexpected form fields");
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    for (name, value) in want {
        if field(name) != value {
            s.violations.push(format!(
                "POST /api/v1/core/oauth/token: {name} is `{}`, not `{value}`",
                field(name)
            ));
            return error(400, "invalid_request", "unexpected form value");
        }
    }
    if field("subject_token") != s.token {
        return error(401, "invalid_token", "subject token expired or invalid");
    }
    s.issued += 1;
    let token = format!("{ACCESS_TOKEN_PREFIX}{}", s.issued);
    s.access.push(token.clone());
    json(
        200,
        &serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 300, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
