//! A writer of secrets.json killed with SIGKILL leaves the old file or the new one, never a
//! truncated or empty one: `import` rewrites a ~0.8 MiB secrets.json (through
//! `atomic::write_private`: temp file in the same folder, fsync, rename, fsync of the folder), and
//! the test kills it a fixed number of times, parsing the file with the strict reader after each
//! kill. Most kills land at an exact stage of the write, whatever the machine's speed: the debug
//! build's writer stops itself there (`SYSTEMPROMPT_SECRETS_TEST_STOP_AT`) and is killed while
//! stopped. The rest land at random moments. Nothing here depends on how fast the machine is.
// Reason: the counts of each outcome are printed for people.
#![allow(clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use systemprompt_secrets::secrets_file;
use systemprompt_secrets::ExposeSecret;

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";
/// Keys in the file: with ~270-byte values, about 0.8 MiB (the reader's limit is 1 MiB).
const KEYS: usize = 3000;
/// Kills at each exact stage of the write.
const KILLS_PER_STAGE: usize = 15;
/// Kills at random moments.
const RANDOM_KILLS: usize = 60;
/// How long a writer may take to reach a stage (generous: a loaded machine is slow, not wrong).
const STAGE_BUDGET: Duration = Duration::from_secs(300);
/// The stages of a write, and whether a kill there leaves the new file.
const STAGES: &[(&str, bool)] = &[("written", false), ("synced", false), ("renamed", true)];

/// The secrets.json before the import: every key with an "old" value.
fn old_json() -> String {
    let mut out = String::from("{\n");
    out.push_str("  \"jwt_secret\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ-old\",\n");
    out.push_str("  \"database_url\": \"postgres://app:pw@db:5432/app\",\n");
    out.push_str("  \"openai\": \"sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789\",\n");
    for i in 0..KEYS {
        let sep = if i + 1 == KEYS { "" } else { "," };
        let _ = writeln!(
            out,
            "  \"svc_{i:04}_token\": \"old-{i:04}-{}\"{sep}",
            filler(i)
        );
    }
    out.push_str("}\n");
    out
}

/// The dotenv file imported: a new value for every 100th `svc_*` key (the whole file is rewritten).
fn new_env() -> String {
    (0..KEYS).step_by(100).fold(String::new(), |mut out, i| {
        let _ = writeln!(out, "SVC_{i:04}_TOKEN=new-{i:04}-{}", filler(i));
        out
    })
}

fn filler(i: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..260)
        .map(|j| alphabet[(i * 31 + j * 7) % alphabet.len()] as char)
        .collect()
}

/// The file through the library's strict reader, as a map of values.
fn parse(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let file = secrets_file::read(path).map_err(|e| e.to_string())?;
    Ok(file
        .entries
        .into_iter()
        .map(|e| {
            let value = e
                .value
                .map(|v| v.expose_secret().to_owned())
                .unwrap_or_default();
            (e.key, value)
        })
        .collect())
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("stat")
        .permissions()
        .mode()
        & 0o777
}

/// Puts the old file back (private, like the real one).
fn restore(root: &Path, old: &str) {
    let path = root.join(SECRETS);
    let tmp = root.join(".restore.tmp");
    std::fs::write(&tmp, old).expect("write");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::rename(&tmp, path).expect("rename");
}

fn spawn_import(root: &Path, stop_at: Option<&str>) -> Child {
    let mut c = support::cmd(root);
    if let Some(stage) = stop_at {
        c.env("SYSTEMPROMPT_SECRETS_TEST_STOP_AT", stage);
    }
    c.args([
        "import",
        "new.env",
        "--overwrite",
        "--all",
        "--no-env",
        "-q",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c.spawn().expect("start the writer")
}

/// Temporary files the writer leaves in the profile folder when killed mid-write.
fn leftovers(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "secrets.json"))
        .collect()
}

/// Waits until the child has stopped itself (state `T` in /proc); false if it exited first.
fn wait_stopped(child: &mut Child, stage: &str) -> bool {
    support::wait_stopped(child, STAGE_BUDGET, stage)
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("OS random numbers");
    u64::from_le_bytes(b) % n.max(1)
}

/// Unkilled runs: the new file (the import is deterministic), and a window for random kills from
/// the start to a little past a typical run's end (in µs).
fn calibrate(root: &Path, old: &str, path: &Path, dir: &Path) -> (BTreeMap<String, String>, u64) {
    // Calibrate: unkilled runs give the new file and how long a write takes.
    let mut runs = Vec::new();
    let mut new_map = None;
    for _ in 0..3 {
        restore(root, old);
        let t = Instant::now();
        let status = spawn_import(root, None).wait().expect("wait");
        runs.push(t.elapsed());
        assert!(
            status.success(),
            "an unkilled import must succeed: {status}"
        );
        let map = parse(path).expect("the new file parses");
        assert_eq!(mode(path), 0o600, "the new file is private");
        assert!(
            leftovers(dir).is_empty(),
            "an unkilled writer leaves nothing"
        );
        if let Some(previous) = &new_map {
            assert_eq!(previous, &map, "the import is deterministic");
        }
        new_map = Some(map);
    }
    let new_map = new_map.expect("calibrated");
    runs.sort();
    let typical = runs[1];
    // Kill anywhere from the start to a little past a typical run's end.
    let window = u64::try_from(typical.as_micros()).expect("fits") * 11 / 10;

    (new_map, window)
}

#[test]
fn a_killed_writer_leaves_the_old_file_or_the_new_one() {
    let started = Instant::now();
    let old = old_json();
    let project = support::project(&[("new.env", &new_env())]);
    let root = project.path();
    std::fs::create_dir_all(root.join(".systemprompt/profiles/local")).expect("mkdir");
    restore(root, &old);
    let path = root.join(SECRETS);
    let dir = path.parent().expect("folder").to_path_buf();
    let size = std::fs::metadata(&path).expect("stat").len();
    assert!(
        size > 700 * 1024 && size < secrets_file::MAX_SIZE,
        "the file is {size} bytes; it must be large but under the reader's limit"
    );
    let old_map = parse(&path).expect("the old file parses");

    let (new_map, window) = calibrate(root, &old, &path, &dir);
    assert_ne!(old_map, new_map);
    assert_eq!(new_map.len(), old_map.len());

    let (mut saw_old, mut saw_new, mut temps) = (0usize, 0usize, 0usize);
    let mut check = |i: usize, what: &str| -> bool {
        let map = parse(&path).unwrap_or_else(|e| {
            panic!("kill {i} ({what}): after a kill the file does not parse: {e}")
        });
        let new = if map == old_map {
            saw_old += 1;
            false
        } else if map == new_map {
            saw_new += 1;
            true
        } else {
            panic!(
                "kill {i} ({what}): after a kill the file is neither the old map nor the new one"
            );
        };
        assert_eq!(
            mode(&path),
            0o600,
            "kill {i} ({what}): secrets.json is private"
        );
        for tmp in leftovers(&dir) {
            assert_eq!(
                mode(&tmp),
                0o600,
                "kill {i} ({what}): a leftover temp file {} is private",
                tmp.display()
            );
            temps += 1;
            std::fs::remove_file(&tmp).expect("remove the leftover");
        }
        new
    };

    // At each exact stage: the writer stops itself there and is killed while stopped.
    let mut i = 0;
    for (stage, leaves_new) in STAGES {
        for _ in 0..KILLS_PER_STAGE {
            restore(root, &old);
            let mut child = spawn_import(root, Some(stage));
            assert!(
                wait_stopped(&mut child, stage),
                "the writer finished without stopping at `{stage}`"
            );
            child.kill().expect("kill");
            child.wait().expect("wait");
            assert_eq!(
                check(i, stage),
                *leaves_new,
                "kill {i}: a kill at `{stage}` leaves the {} file",
                if *leaves_new { "new" } else { "old" }
            );
            i += 1;
        }
    }
    // At random moments, from the start to a little past a typical run's end: whatever they hit,
    // the file is the old one or the new one.
    for _ in 0..RANDOM_KILLS {
        restore(root, &old);
        let mut child = spawn_import(root, None);
        std::thread::sleep(Duration::from_micros(random_below(window)));
        let _ = child.kill();
        child.wait().expect("wait");
        check(i, "random");
        i += 1;
    }
    eprintln!(
        "kill -9 writer: {i} kills in {:.1} s ({KILLS_PER_STAGE} at each of {} stages, \
         {RANDOM_KILLS} at random within {} ms): {saw_old} left the old file, {saw_new} the new \
         one, {temps} temp files left behind (all 0600)",
        started.elapsed().as_secs_f64(),
        STAGES.len(),
        window / 1000
    );
}
