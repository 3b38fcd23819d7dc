//! No core dump carries a secret (issue 24): the process marks itself not dumpable and sets its
//! soft core-file limit to 0 before it reads anything, and `run` gives the command the limit the
//! user had.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{project, run, wait_stopped, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

/// The tool started through `sh`, with a soft core-file limit of 1000 blocks.
fn with_core_limit(dir: &std::path::Path, args: &str) -> std::process::Command {
    support::through(
        dir,
        "sh",
        &["-c", &format!("ulimit -S -c 1000 && exec \"$0\" {args}")],
    )
}

#[test]
fn a_process_holding_secrets_cannot_dump_core() {
    let p = project(&[(SECRETS, GOOD)]);
    // Stopped in the middle of a write, with every value loaded.
    let mut c = with_core_limit(p.path(), "export -o out.env");
    c.env("SYSTEMPROMPT_SECRETS_TEST_STOP_AT", "written")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    assert!(wait_stopped(
        &mut child,
        Duration::from_secs(300),
        "written"
    ));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core line");
    let soft = core.split_whitespace().nth(4).unwrap();
    assert_eq!(soft, "0", "{core}");

    // The process says so itself.
    let out = run(with_core_limit(p.path(), "doctor"));
    assert!(
        out.all()
            .contains("no core dump can hold a secret (not dumpable, core-file limit 0)"),
        "{out:?}"
    );

    // `run`'s command gets the limit the user had.
    let out = run(with_core_limit(p.path(), "run -- sh -c 'ulimit -S -c'"));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "1000");
}
