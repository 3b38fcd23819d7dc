//! The HTTP policy every remote store shares: rustls, timeouts, connection reuse, retries with
//! exponential backoff and jitter (honouring `Retry-After`), plain `http://` only on loopback,
//! and errors that never contain a header or a body we sent.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::blocking::{Client, RequestBuilder};
use url::Url;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("cargo-systemprompt-secrets/", env!("CARGO_PKG_VERSION"));

/// The largest answer read (8 MiB): a bigger one is refused, not read into memory.
pub const MAX_BODY: u64 = 8 * 1024 * 1024;

/// Timeouts, retries and trust roots.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout (default 30 s).
    pub timeout: Duration,
    /// Attempts in all, first one included (default 4).
    pub attempts: usize,
    /// The first backoff delay (default 250 ms), doubled each time, with jitter.
    pub base_delay: Duration,
    /// Longest wait between attempts, `Retry-After` included (default 30 s).
    pub max_delay: Duration,
    /// An extra PEM CA certificate to trust.
    pub ca_cert: Option<PathBuf>,
    /// Redirects are followed only to these origins (`scheme://host:port`), at most 3 times; to
    /// nowhere when empty. An OpenBao standby node redirects to the active one.
    pub redirect_origins: Vec<String>,
    /// `false` when every URL is plain http on loopback: the platform's trust roots are then not
    /// loaded (a few milliseconds saved) and https requests would fail.
    pub tls: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            ca_cert: None,
            redirect_origins: Vec::new(),
            tls: true,
        }
    }
}

/// An HTTP failure, after retries. Never contains request headers or bodies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// `http://` to a host that is not loopback.
    #[error("refusing plain http:// to {host}: secrets only travel over https (plain http is allowed on loopback only)")]
    Insecure {
        /// The host.
        host: String,
    },
    /// Not a usable URL.
    #[error("`{url}` is not a valid http(s) URL: {why}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why.
        why: String,
    },
    /// The server could not be reached (connect error, timeout, dropped connection), or kept
    /// answering an error status that is retried.
    #[error("{method} {url}: {why} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Unreachable {
        /// The method.
        method: String,
        /// The URL (no query with secrets is ever built).
        url: String,
        /// What went wrong.
        why: String,
        /// Attempts made.
        attempts: usize,
        /// Some attempt reached the server and got no usable answer (the connection broke after
        /// the request was sent, the answer timed out, or a 500/502/504): a write may have been
        /// applied.
        maybe_applied: bool,
        /// The last attempt got an answer (an error status), not a transport failure.
        answered: bool,
    },
    /// The answer is larger than [`MAX_BODY`]; it was not read.
    #[error("{method} {url}: the answer is larger than {} MiB; it was not read", MAX_BODY / (1024 * 1024))]
    TooLarge {
        /// The method.
        method: String,
        /// The URL.
        url: String,
    },
    /// The client could not be built (bad CA certificate, TLS setup).
    #[error("{message}")]
    Setup {
        /// What failed.
        message: String,
        /// What to do about it.
        help: Option<&'static str>,
    },
}

impl HttpError {
    /// What to do about it: the `help:` line shown under the message.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Insecure { .. } => Some("use an https:// URL".to_owned()),
            Self::BadUrl { .. } => Some("give a full URL such as https://api.systemprompt.io or https://bao.example:8200 (--api-url, --address, SYSTEMPROMPT_API_URL, BAO_ADDR or `address` in the manifest)".to_owned()),
            Self::Unreachable { why, .. } if why.starts_with(NOT_TLS) => Some("check the port; if the server really speaks plain HTTP, use an http:// URL (allowed on loopback only) or give it TLS".to_owned()),
            Self::Unreachable { method, maybe_applied, answered, .. } => Some(unreachable_help(method, *maybe_applied, *answered)),
            Self::TooLarge { .. } => Some("check that the URL points at the right server: its answers are small JSON documents".to_owned()),
            Self::Setup { help, .. } => help.map(str::to_owned),
        }
    }
}

/// One request, for `-v` (method, URL, status, attempts, time; never headers or bodies).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// The method.
    pub method: &'static str,
    /// The URL (or API path).
    pub url: String,
    /// The status.
    pub status: u16,
    /// Attempts.
    pub attempts: usize,
    /// Milliseconds, retries included.
    pub millis: u128,
    /// The waits between attempts, and whether the server asked for each (`Retry-After`).
    pub waits: Vec<(Duration, bool)>,
}

/// The requests a client made, in order; shared by its threads.
#[derive(Debug, Default)]
pub struct RequestLog(std::sync::Mutex<Vec<RequestRecord>>);

impl RequestLog {
    /// Records the answer `r` to `method url`.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    pub fn push(&self, method: &'static str, url: String, r: &HttpResponse) {
        self.0.lock().expect("lock").push(RequestRecord {
            method,
            url,
            status: r.status,
            attempts: r.attempts,
            millis: r.elapsed.as_millis(),
            waits: r.waits.clone(),
        });
    }

    /// Every request so far.
    ///
    /// # Panics
    /// If a thread panicked while holding the lock.
    #[must_use]
    pub fn all(&self) -> Vec<RequestRecord> {
        self.0.lock().expect("lock").clone()
    }
}

/// A response: status, `Retry-After`, and the body as text (at most [`MAX_BODY`]).
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    /// Zeroized on drop: an OpenBao read carries every value.
    pub body: secrecy::zeroize::Zeroizing<String>,
    /// Attempts it took.
    pub attempts: usize,
    /// Time taken, retries included.
    pub elapsed: Duration,
    /// The waits between attempts, and whether the server asked for each (`Retry-After`).
    pub waits: Vec<(Duration, bool)>,
    /// An earlier attempt reached the server and got no usable answer (the connection broke after
    /// the request was sent, the answer timed out, or a 500/502/504): for a write, the server may
    /// already have applied it, so a conflict or a 404 in this answer may be this request's own
    /// doing. For an answer given back after every attempt failed, it covers them all.
    pub maybe_applied: bool,
}

impl HttpResponse {
    /// `code` and `message` of a `{"error": {"code": …, "message": …}}` body, if it is one.
    #[must_use]
    pub fn error_body(&self) -> Option<(String, String)> {
        #[derive(serde::Deserialize)]
        struct Outer {
            error: Inner,
        }
        #[derive(serde::Deserialize)]
        struct Inner {
            code: Option<String>,
            message: Option<String>,
        }
        let o: Outer = serde_json::from_str(&self.body).ok()?;
        Some((
            o.error.code.unwrap_or_default(),
            o.error.message.unwrap_or_default(),
        ))
    }
}

impl HttpError {
    /// Whether a write may have been applied although no success answer arrived: an attempt of a
    /// method other than GET or HEAD reached the server and got no usable answer.
    #[must_use]
    pub fn maybe_applied(&self) -> bool {
        matches!(self, HttpError::Unreachable { method, maybe_applied: true, .. } if !is_read(method))
    }
}

fn unreachable_help(method: &str, maybe_applied: bool, answered: bool) -> String {
    if maybe_applied && !is_read(method) {
        format!("the server may have applied this {method} before the failure; check the remote with `cargo systemprompt-secrets diff` before running the command again")
    } else if answered {
        "the server kept failing; try again later".to_owned()
    } else {
        "check the URL and your network; the server may be down".to_owned()
    }
}

/// GET and HEAD: requests that change nothing.
fn is_read(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Methods that may be repeated with the same effect (RFC 9110, 9.2.2): a 500 is retried for them.
fn is_idempotent(method: &str) -> bool {
    ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Installs rustls' `ring` provider as the process default, once (reqwest needs one).
pub fn ensure_crypto_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A pooled client with the shared policy.
#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    config: HttpConfig,
    /// The index of the address that answered last (shared by clones).
    preferred: Arc<AtomicUsize>,
    /// The HTTPS proxy, as shown.
    proxy: Option<String>,
}

/// An HTTPS proxy named by the environment.
struct HttpsProxy {
    url: Url,
    /// `http://proxy:3128 (HTTPS_PROXY)`, credentials redacted.
    shown: String,
}

/// The proxy for HTTPS requests, as curl reads it: `HTTPS_PROXY`, then `ALL_PROXY` (either
/// case); `NO_PROXY` is honoured per request. `HTTP_PROXY` is never used: plain http is loopback
/// only, and goes direct.
fn https_proxy(env: &dyn crate::env::Env) -> Option<HttpsProxy> {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|name| {
            let raw = env.var(name).filter(|v| !v.trim().is_empty())?;
            let raw = raw.trim();
            // `proxy:3128` means http://proxy:3128, as curl reads it.
            let url = Url::parse(raw)
                .ok()
                .filter(Url::has_host)
                .or_else(|| Url::parse(&format!("http://{raw}")).ok())?;
            Some(HttpsProxy {
                shown: format!("{} ({name})", shown_text(url.as_str())),
                url,
            })
        })
}

enum Attempt {
    /// Worth another try; carries the server's `Retry-After` and its answer, if any.
    Retry(String, Option<Duration>, Option<HttpResponse>),
    /// Final.
    Fatal(String),
    /// The answer is over [`MAX_BODY`].
    TooLarge,
}

impl Http {
    /// Builds the client (rustls with the platform's roots plus `ca_cert`).
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        ensure_crypto_provider();
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_max_idle_per_host(16)
            .redirect(redirect_policy(config.redirect_origins.clone()));
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                HttpError::Setup {
                    message: format!("cannot read the CA certificate {}: {e}", path.display()),
                    help: Some("fix `ca-cert` in [workspace.metadata.systemprompt-secrets.openbao] (it is relative to that manifest)"),
                }
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| HttpError::Setup {
                message: format!("{} is not a PEM certificate: {e}", path.display()),
                help: Some("`ca-cert` must name a PEM file (-----BEGIN CERTIFICATE-----)"),
            })?;
            builder = builder.tls_certs_merge([cert]);
        }
        if !config.tls && config.ca_cert.is_none() {
            builder = builder.tls_certs_only([]);
        }
        // Plain http:// (loopback only) never goes through a proxy, which would see the token and
        // the values in the clear; HTTPS may (TLS end to end), as the environment says.
        builder = builder.no_proxy();
        let proxy = https_proxy(&crate::env::ProcessEnv);
        if let Some(p) = &proxy {
            let target = p.url.clone();
            builder = builder.proxy(
                reqwest::Proxy::custom(move |u| (u.scheme() == "https").then(|| target.clone()))
                    .no_proxy(reqwest::NoProxy::from_env()),
            );
        }
        let client = builder.build().map_err(|e| HttpError::Setup {
            message: format!("cannot set up HTTPS: {e}"),
            help: None,
        })?;
        Ok(Self {
            client,
            config,
            preferred: Arc::default(),
            proxy: proxy.map(|p| p.shown),
        })
    }

    /// The proxy HTTPS requests go through (`http://proxy:3128 (HTTPS_PROXY)`, credentials
    /// redacted), if the environment names one.
    #[must_use]
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends a request built by `build`, retrying connect errors, timeouts, dropped connections,
    /// 429 and 502/503/504 (and 500 for idempotent methods) with backoff and jitter, honouring
    /// `Retry-After`. Other statuses are returned as they are, for the caller to interpret.
    ///
    /// A write is retried after a failure that may have reached the server: the cloud's PUT and
    /// DELETE are idempotent, and OpenBao's writes carry check-and-set, so a repeat never applies
    /// twice; [`HttpResponse::maybe_applied`] and [`HttpError::maybe_applied`] tell the caller.
    pub fn send(
        &self,
        method: &str,
        url: &Url,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        self.send_any(
            method,
            std::slice::from_ref(url),
            Failover::default(),
            |c, _| build(c),
        )
    }

    /// Like [`Http::send`], over several equivalent URLs (one per server address): each retry goes
    /// to the next URL, and the one that last answered is tried first next time.
    ///
    /// # Panics
    /// If `targets` is empty.
    pub fn send_any(
        &self,
        method: &str,
        targets: &[Url],
        failover: Failover,
        build: impl Fn(&Client, &Url) -> RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        assert!(!targets.is_empty(), "at least one URL");
        let started = Instant::now();
        let mut tries = Tries::default();
        let total = self.config.attempts.max(2 * targets.len());
        // The time one request may take, every attempt and wait included.
        let budget = self
            .config
            .timeout
            .saturating_mul(u32::try_from(total).unwrap_or(u32::MAX));
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.config.base_delay)
            .with_max_delay(self.config.max_delay)
            .with_max_times(total.saturating_sub(1))
            .with_jitter()
            .build();
        let last = loop {
            match self.attempt(method, targets, failover, &build, &mut tries) {
                Ok(mut r) => {
                    r.attempts = tries.attempts;
                    r.elapsed = started.elapsed();
                    r.waits = std::mem::take(&mut tries.waits);
                    return Ok(r);
                }
                Err(Attempt::Retry(why, server_wait, answer)) => match delays.next() {
                    // The server's Retry-After, when it sent one, replaces the planned backoff;
                    // one longer than the time this request has left ends it at once.
                    Some(planned) => {
                        let left = budget.saturating_sub(started.elapsed());
                        match server_wait {
                            Some(w) if w > left.min(self.config.max_delay) => {
                                break Attempt::Fatal(format!(
                                    "{why}, and the server asks to wait {} s before another try (Retry-After), more than the {} s this request has left; not waiting",
                                    w.as_secs(),
                                    left.min(self.config.max_delay).as_secs()
                                ));
                            }
                            Some(w) => {
                                tries.waits.push((w, true));
                                std::thread::sleep(w);
                            }
                            None => {
                                let wait = planned.min(left);
                                tries.waits.push((wait, false));
                                std::thread::sleep(wait);
                            }
                        }
                    }
                    None => break Attempt::Retry(why, server_wait, answer),
                },
                Err(other) => break other,
            }
        };
        let url_is_https = targets[tries.last_url].scheme() == "https";
        let url = shown(&targets[tries.last_url]);
        match last {
            Attempt::Retry(_, _, Some(mut answer)) if failover.give_back_last_answer => {
                answer.maybe_applied = tries.maybe_applied;
                answer.attempts = tries.attempts;
                answer.elapsed = started.elapsed();
                answer.waits = std::mem::take(&mut tries.waits);
                Ok(answer)
            }
            Attempt::TooLarge => Err(HttpError::TooLarge {
                method: method.to_owned(),
                url,
            }),
            Attempt::Retry(why, ..) | Attempt::Fatal(why) => Err(HttpError::Unreachable {
                method: method.to_owned(),
                url,
                why: match (&self.proxy, url_is_https) {
                    (Some(p), true) => format!("{why} (through the proxy {p})"),
                    _ => why,
                },
                attempts: tries.attempts,
                maybe_applied: tries.maybe_applied,
                answered: tries.answered,
            }),
        }
    }

    /// One attempt, at the URL after the one tried last (the preferred one first).
    fn attempt(
        &self,
        method: &str,
        targets: &[Url],
        failover: Failover,
        build: &impl Fn(&Client, &Url) -> RequestBuilder,
        tries: &mut Tries,
    ) -> Result<HttpResponse, Attempt> {
        let index = (self.preferred.load(Ordering::Relaxed) + tries.attempts) % targets.len();
        tries.attempts += 1;
        tries.last_url = index;
        tries.answered = false;
        let earlier = tries.maybe_applied;
        let sent = Instant::now();
        let response = build(&self.client, &targets[index]).send().map_err(|e| {
            // Unless it never connected, the request may have been sent and acted on.
            tries.maybe_applied = earlier || !e.is_connect();
            let why = describe_with(&e, &self.config);
            if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
                Attempt::Retry(why, None, None)
            } else {
                Attempt::Fatal(why)
            }
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // The server has the whole request: if its answer breaks off, it may have acted on it.
        tries.maybe_applied = true;
        let body = read_body(response, sent + self.config.timeout, self.config.timeout)?;
        tries.maybe_applied = earlier;
        let answer = HttpResponse {
            status,
            body,
            attempts: 0,
            elapsed: Duration::ZERO,
            waits: Vec::new(),
            maybe_applied: earlier,
        };
        if let Some(open) = retried(status, method, failover) {
            tries.maybe_applied = earlier || open;
            tries.answered = true;
            let why = status_why(&answer);
            return Err(Attempt::Retry(why, retry_after, Some(answer)));
        }
        self.preferred.store(index, Ordering::Relaxed);
        Ok(answer)
    }
}

/// What the attempts of one request have found so far.
#[derive(Debug, Default)]
struct Tries {
    /// Attempts made.
    attempts: usize,
    /// An attempt may have reached the server and been acted on.
    maybe_applied: bool,
    /// The last attempt got an answer (an error status), not a transport failure.
    answered: bool,
    /// The index of the URL tried last.
    last_url: usize,
    /// Each wait between attempts, and whether the server asked for it (`Retry-After`).
    waits: Vec<(Duration, bool)>,
}

/// The body as text, refused (not read) past [`MAX_BODY`] bytes.
/// The whole answer must have arrived by `deadline` (the attempt's start plus `--timeout`): a server
/// that sends its headers and then a byte a second is cut off there.
fn read_body(
    mut response: reqwest::blocking::Response,
    deadline: Instant,
    timeout: Duration,
) -> Result<secrecy::zeroize::Zeroizing<String>, Attempt> {
    use std::io::Read;
    if response.content_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Attempt::TooLarge);
    }
    let mut bytes = secrecy::zeroize::Zeroizing::new(Vec::new());
    let mut chunk = secrecy::zeroize::Zeroizing::new([0u8; 16 * 1024]);
    let read = loop {
        if Instant::now() > deadline {
            return Err(Attempt::Retry(
                format!(
                    "timed out after {} s: the answer had not finished arriving (--timeout)",
                    timeout.as_secs()
                ),
                None,
                None,
            ));
        }
        match response.read(&mut chunk[..]) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                crate::zeroized::append(&mut bytes, &chunk[..n]);
                if bytes.len() as u64 > MAX_BODY {
                    return Err(Attempt::TooLarge);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    read.map_err(|e| {
        let why = if error_chain(&e).any(|c| {
            c.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout)
                || c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        }) {
            "timed out while reading the answer (--timeout)".to_owned()
        } else {
            format!(
                "the connection broke while reading the answer ({})",
                describe_chain(&e)
            )
        };
        Attempt::Retry(why, None, None)
    })?;
    if bytes.len() as u64 > MAX_BODY {
        return Err(Attempt::TooLarge);
    }
    // Valid UTF-8 moves without a copy; otherwise the lossy copy is taken and `bytes` is zeroized.
    let text = match std::str::from_utf8(&bytes) {
        Ok(_) => String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    };
    Ok(secrecy::zeroize::Zeroizing::new(text))
}

/// An error and its causes, outermost first.
fn error_chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// "outer: cause: root cause", each distinct message once.
fn describe_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in error_chain(e) {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Whether an answer with `status` is retried (429, 502, 503, 504; 500 for idempotent methods;
/// every 5xx with `any_5xx`), and if so whether it leaves a write's outcome open: a 500, 502 or
/// 504 may hide a request that was applied, while 429 and 503 say it was not processed.
fn retried(status: u16, method: &str, failover: Failover) -> Option<bool> {
    let retried = matches!(status, 429 | 502 | 503 | 504)
        || (status == 500 && is_idempotent(method))
        || (failover.any_5xx && (500..600).contains(&status));
    retried.then_some(!matches!(status, 429 | 503))
}

/// How [`Http::send_any`] treats server errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Failover {
    /// Retry (on the next address) every 5xx, not only 502/503/504.
    pub any_5xx: bool,
    /// When every attempt got an error status, return the last answer instead of an error, so the
    /// caller can explain it (a sealed server, say).
    pub give_back_last_answer: bool,
}

/// Follows a redirect only to one of `origins` (never elsewhere: the token header would go along).
fn redirect_policy(origins: Vec<String>) -> reqwest::redirect::Policy {
    if origins.is_empty() {
        return reqwest::redirect::Policy::none();
    }
    reqwest::redirect::Policy::custom(move |attempt| {
        let origin = attempt.url().origin().ascii_serialization();
        if attempt.previous().len() <= 3 && origins.contains(&origin) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `the server answered 503 Service Unavailable: code: message`, from an error answer.
fn status_why(answer: &HttpResponse) -> String {
    let reason = reqwest::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    let detail = match answer.error_body() {
        Some((code, message)) if !code.is_empty() && !message.is_empty() => {
            format!(": {code}: {message}")
        }
        Some((code, message)) if !code.is_empty() || !message.is_empty() => {
            format!(": {code}{message}")
        }
        _ => String::new(),
    };
    format!("the server answered {}{reason}{detail}", answer.status)
}

/// `1 s`, `2.5 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// [`describe`], with the timeout that ran out named.
fn describe_with(e: &reqwest::Error, config: &HttpConfig) -> String {
    if !e.is_timeout() {
        return describe(e);
    }
    if e.is_connect() {
        format!(
            "could not connect within {} (--connect-timeout)",
            seconds(config.connect_timeout)
        )
    } else {
        format!(
            "timed out after {} waiting for the answer (--timeout)",
            seconds(config.timeout)
        )
    }
}

/// The reason given when an https:// URL reaches a server that does not speak TLS.
const NOT_TLS: &str = "the server did not answer with TLS";

/// A short reason for a transport error, without the URL (the caller names it).
fn describe(e: &reqwest::Error) -> String {
    // rustls reads a plain-HTTP answer as a record of an unknown type ("corrupt message").
    if error_chain(e).any(|c| {
        let t = format!("{c:?} {c}");
        t.contains("InvalidContentType") || t.contains("corrupt message")
    }) {
        return format!("{NOT_TLS} (is it a plain http:// server, or the wrong port?)");
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer"
    } else {
        "the connection was closed before an answer arrived"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(d) => format!("{kind} ({d})"),
        None => kind.to_owned(),
    }
}

/// `Retry-After` as seconds (the HTTP-date form is converted against the clock).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// A URL as it may be shown in any message or log line: a user name or password becomes `***`,
/// and so does every query value (`?token=***`).
#[must_use]
pub fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("***");
        let _ = url.set_password(None);
    }
    if url.query().is_some() {
        let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(names.iter().map(|k| (k.as_str(), "***")));
    }
    url.to_string()
}

/// [`shown`] for a URL given as text, which may not even parse: everything between `://` and the
/// last `@` of the authority, and everything after a `?`, is hidden.
#[must_use]
pub fn shown_text(raw: &str) -> String {
    if !raw.contains(['@', '?']) {
        return raw.to_owned();
    }
    if let Ok(url) = Url::parse(raw.trim()) {
        return shown(&url);
    }
    let (head, query) = raw
        .split_once('?')
        .map_or((raw, None), |(h, q)| (h, Some(q)));
    let head = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => head.to_owned(),
            }
        }
        None => head.to_owned(),
    };
    match query {
        Some(_) => format!("{head}?***"),
        None => head,
    }
}

/// Parses a base URL and checks the transport rule: `https`, or `http` on loopback only.
pub fn parse_base_url(raw: &str) -> Result<Url, HttpError> {
    let url = Url::parse(raw.trim()).map_err(|e| HttpError::BadUrl {
        url: shown_text(raw),
        why: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(HttpError::Insecure {
                    host: url.host_str().unwrap_or_default().to_owned(),
                });
            }
        }
        other => {
            return Err(HttpError::BadUrl {
                url: shown_text(raw),
                why: format!("the scheme is `{other}`, not https"),
            });
        }
    }
    if url.host_str().is_none() {
        return Err(HttpError::BadUrl {
            url: raw.to_owned(),
            why: "there is no host".to_owned(),
        });
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shown_urls_hide_credentials_and_query_values() {
        let u = Url::parse("http://user:pw-CANARY@127.0.0.1:8200/v1/x?token=CANARY&a=b").unwrap();
        assert_eq!(shown(&u), "http://***@127.0.0.1:8200/v1/x?token=***&a=***");
        assert_eq!(
            shown(&Url::parse("https://api.systemprompt.io/").unwrap()),
            "https://api.systemprompt.io/"
        );
        assert_eq!(
            shown_text("http://u:p@h:bad port/x?t=1"),
            "http://***@h:bad port/x?***"
        );
        assert_eq!(shown_text("not a url"), "not a url");
        let e = parse_base_url("http://user:CANARY@example.com")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("CANARY"), "{e}");
    }

    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse_base_url("https://api.systemprompt.io").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://127.3.4.5").is_ok());
        assert!(parse_base_url("http://[::1]:80").is_ok());
        assert!(parse_base_url("http://localhost:1").is_ok());
        assert!(matches!(
            parse_base_url("http://api.systemprompt.io"),
            Err(HttpError::Insecure { .. })
        ));
        assert!(matches!(
            parse_base_url("http://10.0.0.1"),
            Err(HttpError::Insecure { .. })
        ));
        assert!(matches!(
            parse_base_url("ftp://x"),
            Err(HttpError::BadUrl { .. })
        ));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let wait = parse_retry_after(&httpdate::fmt_http_date(later)).expect("an HTTP date");
        assert!(
            wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    /// One canned answer per connection, in order; returns the URL and how many were served.
    fn serve(answers: Vec<(Duration, &'static str)>) -> (Url, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = Url::parse(&format!(
            "http://{}/x",
            listener.local_addr().expect("addr")
        ))
        .expect("url");
        let thread = std::thread::spawn(move || {
            let mut served = 0;
            for (delay, answer) in answers {
                let Ok((mut stream, _)) = listener.accept() else {
                    break;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                served += 1;
                std::thread::sleep(delay);
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            served
        });
        (url, thread)
    }

    fn quick() -> Http {
        Http::new(HttpConfig {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            timeout: Duration::from_millis(300),
            tls: false,
            ..HttpConfig::default()
        })
        .expect("client")
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    const E500: &str = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 50\r\nconnection: close\r\n\r\n{\"error\": {\"code\": \"boom\", \"message\": \"it broke\"}}";
    const E503: &str =
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    /// Says 10 bytes, sends 3, closes.
    const CUT: &str = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: close\r\n\r\n{\"a";

    #[test]
    fn a_500_is_retried_for_idempotent_methods_only() {
        let now = Duration::ZERO;
        for method in ["GET", "PUT", "DELETE"] {
            let (url, server) = serve(vec![(now, E500), (now, OK)]);
            let r = quick()
                .send(method, &url, |c| {
                    c.request(
                        reqwest::Method::from_bytes(method.as_bytes()).expect("m"),
                        url.clone(),
                    )
                })
                .expect("an answer");
            assert_eq!((r.status, r.attempts), (200, 2), "{method}");
            assert!(
                r.maybe_applied,
                "{method}: a 500 may hide an applied request"
            );
            assert_eq!(server.join().expect("server"), 2);
        }
        // POST is not idempotent: its 500 is the caller's to interpret.
        let (url, server) = serve(vec![(now, E500)]);
        let r = quick()
            .send("POST", &url, |c| c.post(url.clone()))
            .expect("an answer");
        assert_eq!((r.status, r.attempts, r.maybe_applied), (500, 1, false));
        assert_eq!(server.join().expect("server"), 1);
    }

    #[test]
    fn an_answer_cut_short_marks_a_write_as_maybe_applied() {
        let now = Duration::ZERO;
        let (url, server) = serve(vec![(now, CUT), (now, OK)]);
        let r = quick()
            .send("PUT", &url, |c| c.put(url.clone()).body("{}"))
            .expect("an answer");
        assert_eq!((r.status, r.attempts), (200, 2));
        assert!(r.maybe_applied, "the first PUT reached the server");
        assert_eq!(server.join().expect("server"), 2);

        // 503 and 429 say the request was not processed.
        let (url, server) = serve(vec![(now, E503), (now, OK)]);
        let r = quick()
            .send("POST", &url, |c| c.post(url.clone()))
            .expect("an answer");
        assert_eq!((r.status, r.attempts, r.maybe_applied), (200, 2, false));
        assert_eq!(server.join().expect("server"), 2);
    }

    #[test]
    fn a_write_that_kept_failing_says_it_may_have_been_applied() {
        let now = Duration::ZERO;
        let (url, server) = serve(vec![(now, E500); 4]);
        let err = quick()
            .send("PUT", &url, |c| c.put(url.clone()).body("{}"))
            .expect_err("4 x 500");
        assert!(err.maybe_applied());
        let text = format!("{err}\n{}", err.help().unwrap_or_default());
        assert!(
            text.contains("the server answered 500 Internal Server Error: boom: it broke")
                && text.contains("(after 4 attempts)")
                && text.contains("may have applied this PUT"),
            "{text}"
        );
        assert_eq!(server.join().expect("server"), 4);

        // The same for a read: nothing to have applied.
        let (url, server) = serve(vec![(now, E503); 4]);
        let err = quick()
            .send("GET", &url, |c| c.get(url.clone()))
            .expect_err("4 x 503");
        assert!(!err.maybe_applied());
        let help = err.help().unwrap_or_default();
        assert!(help.contains("try again later"), "{err}: {help}");
        assert_eq!(server.join().expect("server"), 4);
    }

    #[test]
    fn refused_and_timed_out_are_told_apart() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url =
            Url::parse(&format!("http://{}/x", closed.local_addr().expect("addr"))).expect("url");
        drop(closed);
        let err = quick()
            .send("PUT", &url, |c| c.put(url.clone()))
            .expect_err("refused");
        assert!(!err.maybe_applied(), "nothing was sent");
        let text = format!("{err}\n{}", err.help().unwrap_or_default());
        assert!(
            text.contains("could not connect") && text.contains("check the URL"),
            "{text}"
        );

        let slow = Duration::from_millis(600);
        let (url, server) = serve(vec![(slow, OK); 4]);
        let err = quick()
            .send("PUT", &url, |c| c.put(url.clone()))
            .expect_err("timed out");
        assert!(err.maybe_applied(), "the PUT was sent");
        let text = err.to_string();
        assert!(
            text.contains("timed out after 0.3 s waiting for the answer (--timeout)"),
            "{text}"
        );
        assert_eq!(server.join().expect("server"), 4);
    }
}
