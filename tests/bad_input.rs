//! The bad-input corpus: every folder of `tests/fixtures/bad/` with a `case.toml` is a broken input
//! (a secrets.json, a `.env`, a profile.yaml, the manifest table, command-line arguments, a remote
//! answer, or an odd path). Each one must give a non-zero exit (never a panic's 101), a message that
//! names the file (and line where there is one) and the fix, and leave every file as it was.
//!
//! A case's folder is laid over `tests/fixtures/bad/_base/` (a small valid project) in a temporary
//! folder. `case.toml` says what to run and what the output must contain; odd paths that cannot
//! live in git (symlink loops, a folder where a file should be, no read permission) are built from
//! its `setup` list. Remote answers come from a canned HTTP server on 127.0.0.1 whose URL replaces
//! `{server}` in the arguments and the environment.
// Reason: the corpus's size by category, and each case's output with BAD_SHOW=1, are for people.
#![allow(clippy::print_stderr)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Each category of the requirement, with the fewest cases it must have.
const CATEGORIES: &[(&str, usize)] = &[
    ("secrets-json", 5),
    ("dotenv", 4),
    ("profile-yaml", 4),
    ("manifest", 5),
    ("cli", 6),
    ("remote", 8),
    ("path", 6),
];

/// The longest any case may run.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Text that must never reach the output: the fixtures' secret values contain it.
const CANARY: &str = "CANARY";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What is broken, in a few words.
    about: String,
    /// One of [`CATEGORIES`].
    category: String,
    /// The arguments after the binary's name; `{server}` is the canned server's URL.
    args: Vec<String>,
    /// The exit code expected (any non-zero code but 101 when absent).
    exit: Option<i32>,
    /// Strings the output (stdout and stderr) must contain: the file, `:line`, the fix.
    contains: Vec<String>,
    /// Strings the output must not contain.
    #[serde(default)]
    never: Vec<String>,
    /// Extra environment; `{server}` is the canned server's URL.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Standard input (empty when absent).
    stdin: Option<String>,
    /// Run without `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH`, so permission bits apply to root.
    #[serde(default)]
    unprivileged: bool,
    /// Odd paths built before the run.
    #[serde(default)]
    setup: Vec<Setup>,
    /// The canned answer of the HTTP server, if the case needs one.
    server: Option<Server>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Setup {
    /// `path` becomes a symbolic link to `target` (relative targets are relative to the link).
    Symlink { path: String, target: String },
    /// `path` becomes an empty folder (whatever was there is removed first).
    Dir { path: String },
    /// `path` gets this mode (e.g. `0o000`).
    Chmod { path: String, mode: u32 },
    /// `path` becomes a `{"filler": "xxx…"}` secrets file of `size` bytes.
    BigJson { path: String, size: usize },
    /// `path` is written with these bytes (for what a text file in git cannot hold).
    Bytes { path: String, bytes: Vec<u8> },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Server {
    /// The status code of every answer.
    status: u16,
    /// The `Content-Type` (default `application/json`).
    #[serde(default = "json_type")]
    content_type: String,
    /// The body.
    #[serde(default)]
    body: String,
    /// Instead of `body`: this many MiB of `x`, streamed.
    huge_mib: Option<usize>,
}

fn json_type() -> String {
    "application/json".to_owned()
}

fn bad_dir() -> PathBuf {
    support::fixture("bad")
}

/// Every case folder, sorted.
fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("tests/fixtures/bad exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn load(dir: &Path) -> Case {
    let text = std::fs::read_to_string(dir.join("case.toml")).expect("read case.toml");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}/case.toml: {e}", dir.display()))
}

#[test]
fn the_corpus_is_big_enough_and_covers_every_category() {
    let dirs = case_dirs();
    assert!(
        dirs.len() >= 40,
        "the corpus needs at least 40 cases, it has {}",
        dirs.len()
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for dir in &dirs {
        let case = load(dir);
        assert!(
            CATEGORIES.iter().any(|(c, _)| *c == case.category),
            "{}: unknown category `{}`",
            dir.display(),
            case.category
        );
        assert!(
            !case.contains.is_empty(),
            "{}: `contains` is empty",
            dir.display()
        );
        assert!(
            !case.about.trim().is_empty(),
            "{}: `about` is empty",
            dir.display()
        );
        *counts.entry(case.category).or_default() += 1;
    }
    for (category, least) in CATEGORIES {
        let n = counts.get(*category).copied().unwrap_or(0);
        assert!(
            n >= *least,
            "category {category}: {n} cases, at least {least} wanted"
        );
    }
    eprintln!("bad-input corpus: {} cases {counts:?}", dirs.len());
}

#[test]
fn every_bad_input_fails_cleanly_and_changes_nothing() {
    let only = std::env::var("BAD_CASE").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in case_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        ran += 1;
        if let Err(why) = run_case(&name, &dir) {
            failures.push(format!("── {name}\n{why}"));
        }
    }
    assert!(ran > 0, "no case ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} bad-input cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn run_case(name: &str, dir: &Path) -> Result<(), String> {
    let case = load(dir);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("bad-{name}-"))
        .tempdir()
        .expect("tempdir");
    let root = tmp.path().join("project");
    copy_tree(&bad_dir().join("_base"), &root);
    copy_tree(dir, &root);
    std::fs::remove_file(root.join("case.toml")).expect("remove case.toml");
    private_modes(&root);
    for step in &case.setup {
        apply(&root, step);
    }

    let server = case.server.clone().map(CannedServer::start);
    let url = server.as_ref().map(|s| s.url.clone()).unwrap_or_default();
    let fill = |s: &str| s.replace("{server}", &url);

    let before = snapshot(&root);
    let mut c = if case.unprivileged {
        unprivileged(&root)
    } else {
        support::cmd(&root)
    };
    c.args(case.args.iter().map(|a| fill(a)))
        .env("SYSTEMPROMPT_SECRETS_NO_CACHE", "1")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in &case.env {
        c.env(k, fill(v));
    }
    let out = run_with_timeout(c, case.stdin.as_deref().unwrap_or(""));
    let after = snapshot(&root);
    drop(server);

    let all = format!("{}{}", out.stdout, out.stderr);
    if std::env::var_os("BAD_SHOW").is_some() {
        eprintln!(
            "── {name} (exit {:?})\n{}{}",
            out.code, out.stdout, out.stderr
        );
    }
    let mut problems = Vec::new();
    match out.code {
        None => problems.push("killed by a signal or timed out".to_owned()),
        Some(0) => problems.push("exit code 0: a bad input must fail".to_owned()),
        Some(101) => problems.push("exit code 101: a panic".to_owned()),
        Some(code) if case.exit.is_some_and(|e| e != code) => problems.push(format!(
            "exit code {code}, expected {}",
            case.exit.unwrap_or_default()
        )),
        Some(_) => {}
    }
    if all.contains("panicked") || all.contains("RUST_BACKTRACE") {
        problems.push("the output shows a panic".to_owned());
    }
    for want in &case.contains {
        if !all.contains(&fill(want)) {
            problems.push(format!("the output lacks {want:?}"));
        }
    }
    for bad in case.never.iter().map(String::as_str).chain([CANARY]) {
        if all.contains(bad) {
            problems.push(format!("the output contains {bad:?}"));
        }
    }
    if !["help:", "= help", "tip:", "try '--help'"]
        .iter()
        .any(|h| all.contains(h))
    {
        problems.push("the output has no fix (no `help:` line)".to_owned());
    }
    problems.extend(compare(&before, &after));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  args: {:?}\n  {}\n  exit: {:?}\n  stdout: {}\n  stderr: {}",
            case.about,
            case.args,
            problems.join("\n  "),
            out.code,
            out.stdout.trim_end(),
            out.stderr.trim_end()
        ))
    }
}

/// The binary without `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` when run as root (as here), so
/// that a file's permission bits apply; as another user they apply anyway.
fn unprivileged(dir: &Path) -> Command {
    if !is_root() {
        return support::cmd(dir);
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the no-read-permission cases run the binary without CAP_DAC_OVERRIDE through \
                 `setpriv`, which is missing: apt-get install util-linux"
            )
        });
    support::through(
        dir,
        setpriv,
        &[
            "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search",
            "--",
        ],
    )
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_with_timeout(mut c: Command, stdin: &str) -> Out {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_owned();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = feeder.join();
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr")).into_owned();
    Out {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

// Files: copy, build the odd paths, snapshot, compare.

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            let _ = std::fs::remove_file(&target);
            symlink(std::fs::read_link(entry.path()).expect("link"), &target).expect("symlink");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// secrets.json and .env files are 0600, as real ones are (git checks them out 0644).
fn private_modes(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read").flatten() {
        let kind = entry.file_type().expect("file type");
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            private_modes(&entry.path());
        } else if kind.is_file() && (name == "secrets.json" || name.starts_with(".env")) {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
        }
    }
}

fn apply(root: &Path, step: &Setup) {
    let at = |p: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        path
    };
    let clear = |p: &Path| {
        if let Ok(m) = std::fs::symlink_metadata(p) {
            if m.is_dir() {
                std::fs::remove_dir_all(p).expect("rm -r");
            } else {
                std::fs::remove_file(p).expect("rm");
            }
        }
    };
    match step {
        Setup::Symlink { path, target } => {
            let p = at(path);
            clear(&p);
            symlink(target, &p).expect("symlink");
        }
        Setup::Dir { path } => {
            let p = at(path);
            clear(&p);
            std::fs::create_dir(&p).expect("mkdir");
        }
        Setup::Chmod { path, mode } => {
            std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(*mode))
                .expect("chmod");
        }
        Setup::BigJson { path, size } => {
            let p = at(path);
            let head = "{\"filler\": \"";
            let tail = "\"}\n";
            let fill = size.saturating_sub(head.len() + tail.len());
            std::fs::write(&p, format!("{head}{}{tail}", "x".repeat(fill))).expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        Setup::Bytes { path, bytes } => {
            let p = at(path);
            clear(&p);
            std::fs::write(&p, bytes).expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Node {
    File { mode: u32, bytes: Vec<u8> },
    Dir { mode: u32 },
    Link { target: PathBuf },
    Other { mode: u32 },
}

/// Every path below `root` (symlinks not followed) with its kind, mode and content.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            let mode = meta.permissions().mode() & 0o7777;
            let rel = path.strip_prefix(root).expect("below root").to_path_buf();
            let node = if meta.file_type().is_symlink() {
                Node::Link {
                    target: std::fs::read_link(&path).expect("readlink"),
                }
            } else if meta.is_dir() {
                walk(root, &path, out);
                Node::Dir { mode }
            } else if meta.is_file() {
                Node::File {
                    mode,
                    bytes: std::fs::read(&path).expect("read"),
                }
            } else {
                Node::Other { mode }
            };
            out.insert(rel, node);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn compare(before: &BTreeMap<PathBuf, Node>, after: &BTreeMap<PathBuf, Node>) -> Vec<String> {
    let paths: BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    let mut changes = Vec::new();
    for p in paths {
        match (before.get(p), after.get(p)) {
            (Some(_), None) => changes.push(format!("{} was removed", p.display())),
            (None, Some(_)) => changes.push(format!("{} was created", p.display())),
            (Some(a), Some(b)) if a != b => {
                let what = match (a, b) {
                    (
                        Node::File {
                            mode: m1,
                            bytes: b1,
                        },
                        Node::File {
                            mode: m2,
                            bytes: b2,
                        },
                    ) => {
                        if b1 == b2 {
                            format!("mode {m1:o} -> {m2:o}")
                        } else {
                            format!("content changed ({} -> {} bytes)", b1.len(), b2.len())
                        }
                    }
                    _ => "kind or mode changed".to_owned(),
                };
                changes.push(format!("{} changed: {what}", p.display()));
            }
            _ => {}
        }
    }
    changes
}

// The canned HTTP server: one fixed answer to every request.

struct CannedServer {
    url: String,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CannedServer {
    fn start(answer: Server) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let answer = answer.clone();
                std::thread::spawn(move || serve(conn, &answer));
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            port,
            thread: Some(thread),
        }
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request (headers and a `Content-Length` body) and sends the canned answer. The cloud's
/// token exchange gets a 404, as from an older server: the canned answers aim at the tenant calls.
fn serve(mut conn: TcpStream, answer: &Server) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
    }
    if head.starts_with("post /api/v1/core/oauth/token ") {
        let _ = conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let reason = match answer.status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let body_len = answer
        .huge_mib
        .map_or(answer.body.len(), |mib| mib * 1024 * 1024);
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n",
        answer.status, answer.content_type
    );
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    if let Some(mib) = answer.huge_mib {
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..mib * 16 {
            if conn.write_all(&block).is_err() {
                return;
            }
        }
    } else {
        let _ = conn.write_all(answer.body.as_bytes());
    }
    let _ = conn.flush();
}
