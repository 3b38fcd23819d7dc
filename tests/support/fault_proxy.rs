//! A loopback HTTP/1.1 fault-injecting proxy for the remote backends' tests.
//!
//! It sits between the binary and a real upstream (the cloud contract server, or a real
//! `bao server -dev`) and applies a script of faults, one per request in arrival order: pass
//! through, answer a canned status (500, 502, 503, 401, 429 with `Retry-After`, …), reset the
//! connection halfway through the answer (RST, after the upstream has acted), hold the answer back
//! past the client's timeout (after the upstream has acted), close the listening port for a while
//! (connection refused), or run a hook (revoke a token, wait for it to expire) first. Every answer
//! carries `Connection: close`, so every attempt is a new connection and is seen here.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the proxy does with one request.
#[derive(Clone)]
pub enum Fault {
    /// Forward it and return the upstream's answer.
    Pass,
    /// Answer this status without forwarding, with `Retry-After` if given. The body is an error in
    /// both the cloud's (`{"error": {code, message}}`) and OpenBao's (`{"errors": […]}`) shape.
    Status(u16, Option<u64>),
    /// Forward it (the upstream acts on it), then send the status line, the headers and half the
    /// body (half the head when there is no body), then reset the connection (`SO_LINGER` 0: RST).
    ResetMidBody,
    /// Reset the connection (RST) without forwarding: the upstream never sees it.
    ResetUnsent,
    /// Forward it (the upstream acts on it), then hold the answer back this long.
    SlowHeaders(Duration),
    /// Forward it, then close the listening port for this long: new connections are refused.
    PassThenRefuse(Duration),
    /// Run this first (in the proxy, while the client waits), then forward.
    Run(Arc<dyn Fn() + Send + Sync>),
}

impl Fault {
    fn name(&self) -> String {
        match self {
            Fault::Pass => "pass".to_owned(),
            Fault::Status(s, _) => format!("status {s}"),
            Fault::ResetMidBody => "reset mid-body".to_owned(),
            Fault::ResetUnsent => "reset unsent".to_owned(),
            Fault::SlowHeaders(d) => format!("slow headers {d:?}"),
            Fault::PassThenRefuse(d) => format!("pass, then refuse for {d:?}"),
            Fault::Run(_) => "run a hook, then pass".to_owned(),
        }
    }

    /// Whether the upstream sees the request.
    fn forwards(&self) -> bool {
        !matches!(self, Fault::Status(..) | Fault::ResetUnsent)
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The fault applied.
    pub fault: String,
    /// Whether it was forwarded to the upstream.
    pub forwarded: bool,
    /// When its head had arrived.
    pub at: Instant,
}

struct Shared {
    script: VecDeque<Fault>,
    /// Applied when the script is empty.
    otherwise: Fault,
    seen: Vec<Seen>,
    /// The listening port is closed until then.
    refuse_until: Option<Instant>,
}

/// A running proxy on 127.0.0.1; stopped on drop.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`http://host:port`), passing everything through until told.
    pub fn start(upstream: &str) -> Self {
        systemprompt_secrets::http::ensure_crypto_provider();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Mutex::new(Shared {
            script: VecDeque::new(),
            otherwise: Fault::Pass,
            seen: Vec::new(),
            refuse_until: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("the proxy's upstream client");
        let thread = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::spawn(move || {
                accept_loop(listener, addr, &upstream, &client, &shared, &stop);
            })
        };
        Self {
            url: format!("http://{addr}"),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(&mut self.shared.lock().expect("proxy state"))
    }

    /// The faults for the next requests, in order (replaces any script left).
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        let faults: VecDeque<Fault> = faults.into_iter().collect();
        self.with(|s| s.script = faults);
    }

    /// What happens once the script is used up (at first: `Pass`).
    pub fn otherwise(&self, fault: Fault) {
        self.with(|s| s.otherwise = fault);
    }

    /// Back to passing everything through, with the record cleared.
    pub fn reset(&self) {
        self.with(|s| {
            s.script.clear();
            s.otherwise = Fault::Pass;
            s.seen.clear();
        });
    }

    /// Every request seen since the last `reset`.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }

    /// Requests seen with this method.
    pub fn count(&self, method: &str) -> usize {
        self.with(|s| s.seen.iter().filter(|r| r.method == method).count())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: &str,
    client: &reqwest::blocking::Client,
    shared: &Arc<Mutex<Shared>>,
    stop: &AtomicBool,
) {
    listener.set_nonblocking(true).expect("nonblocking");
    let mut listener = Some(listener);
    std::thread::scope(|scope| {
        while !stop.load(Ordering::SeqCst) {
            let refuse_until = shared.lock().expect("proxy state").refuse_until;
            match (refuse_until, &listener) {
                (Some(until), Some(_)) if Instant::now() < until => {
                    // Closing the listening socket: connections to the port are now refused.
                    listener = None;
                    continue;
                }
                (Some(until), None) if Instant::now() >= until => {
                    shared.lock().expect("proxy state").refuse_until = None;
                    let l = rebind(addr);
                    l.set_nonblocking(true).expect("nonblocking");
                    listener = Some(l);
                    continue;
                }
                _ => {}
            }
            let Some(l) = &listener else {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            };
            match l.accept() {
                Ok((stream, _)) => {
                    let shared = Arc::clone(shared);
                    scope.spawn(move || {
                        let _ = stream.set_nonblocking(false);
                        let _ = handle(stream, upstream, client, &shared);
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });
}

/// Listens on `addr` again (the port was ours a moment ago).
fn rebind(addr: SocketAddr) -> TcpListener {
    let started = Instant::now();
    loop {
        match TcpListener::bind(addr) {
            Ok(l) => return l,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "cannot listen on {addr} again: {e}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")),
        "the proxy only understands Content-Length bodies"
    );
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

/// An answer: status, headers (no framing headers), body.
struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn canned(status: u16, retry_after: Option<u64>) -> Answer {
    let (code, message) = match status {
        401 => ("unauthorized", "token expired or invalid".to_owned()),
        403 => ("forbidden", "permission denied".to_owned()),
        429 => ("rate_limited", "slow down (injected 429)".to_owned()),
        s => ("fault", format!("injected {s}")),
    };
    let body = serde_json::json!({
        "error": {"code": code, "message": message},
        "errors": [message],
    })
    .to_string();
    let mut headers = vec![("content-type".to_owned(), b"application/json".to_vec())];
    if let Some(after) = retry_after {
        headers.push(("retry-after".to_owned(), after.to_string().into_bytes()));
    }
    Answer {
        status,
        headers,
        body: body.into_bytes(),
    }
}

fn forward(client: &reqwest::blocking::Client, upstream: &str, req: &Request) -> Answer {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).expect("a method");
    let mut rb = client.request(method, format!("{upstream}{}", req.target));
    for (k, v) in &req.headers {
        if !matches!(
            k.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding" | "keep-alive"
        ) {
            rb = rb.header(k.as_str(), v.as_str());
        }
    }
    match rb.body(req.body.clone()).send() {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "content-length" | "transfer-encoding" | "connection" | "keep-alive"
                    )
                })
                .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let body = r.bytes().map(|b| b.to_vec()).unwrap_or_default();
            Answer {
                status,
                headers,
                body,
            }
        }
        Err(e) => canned(502, None).with_message(&format!("proxy: upstream failed: {e}")),
    }
}

impl Answer {
    fn with_message(mut self, message: &str) -> Self {
        self.body = serde_json::json!({"error": {"code": "proxy", "message": message}, "errors": [message]})
            .to_string()
            .into_bytes();
        self
    }

    fn head(&self) -> Vec<u8> {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        let mut out = format!("HTTP/1.1 {} {reason}\r\n", self.status).into_bytes();
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out
    }
}

/// Closes the connection with a TCP RST instead of a FIN.
fn reset(stream: TcpStream) {
    let socket = tokio::net::TcpSocket::from_std_stream(stream);
    let _ = socket.set_zero_linger();
    drop(socket);
}

fn handle(
    mut stream: TcpStream,
    upstream: &str,
    client: &reqwest::blocking::Client,
    shared: &Mutex<Shared>,
) -> std::io::Result<()> {
    let req = read_request(&mut stream)?;
    // The cloud's token exchange goes through untouched and unrecorded: the scripts aim at the
    // calls after it.
    let exchange = req.target.split('?').next() == Some(super::cloud_server::EXCHANGE_PATH);
    let fault = if exchange {
        Fault::Pass
    } else {
        let mut s = shared.lock().expect("proxy state");
        let fault = s.script.pop_front().unwrap_or_else(|| s.otherwise.clone());
        s.seen.push(Seen {
            method: req.method.clone(),
            path: req.target.clone(),
            fault: fault.name(),
            forwarded: fault.forwards(),
            at: Instant::now(),
        });
        fault
    };
    match fault {
        Fault::Pass => {
            let a = forward(client, upstream, &req);
            stream.write_all(&a.head())?;
            stream.write_all(&a.body)?;
        }
        Fault::Status(status, retry_after) => {
            let a = canned(status, retry_after);
            stream.write_all(&a.head())?;
            stream.write_all(&a.body)?;
        }
        Fault::ResetMidBody => {
            let a = forward(client, upstream, &req);
            let head = a.head();
            if a.body.len() >= 2 {
                stream.write_all(&head)?;
                stream.write_all(&a.body[..a.body.len() / 2])?;
            } else {
                // No body to cut (a 204): cut the head instead.
                stream.write_all(&head[..head.len() / 2])?;
            }
            stream.flush()?;
            // Let the head and the first half arrive before the reset.
            std::thread::sleep(Duration::from_millis(50));
            reset(stream);
            return Ok(());
        }
        Fault::ResetUnsent => {
            reset(stream);
            return Ok(());
        }
        Fault::SlowHeaders(d) => {
            let a = forward(client, upstream, &req);
            std::thread::sleep(d);
            // The client has usually given up by now.
            stream.write_all(&a.head())?;
            stream.write_all(&a.body)?;
        }
        Fault::PassThenRefuse(d) => {
            let a = forward(client, upstream, &req);
            // Closed before the answer goes out, so the client's next connection is refused.
            shared.lock().expect("proxy state").refuse_until = Some(Instant::now() + d);
            std::thread::sleep(Duration::from_millis(20));
            stream.write_all(&a.head())?;
            stream.write_all(&a.body)?;
        }
        Fault::Run(hook) => {
            hook();
            let a = forward(client, upstream, &req);
            stream.write_all(&a.head())?;
            stream.write_all(&a.body)?;
        }
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Drain until the client closes, so closing here never turns into a reset.
    let mut sink = [0u8; 1024];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}
