//! What a new user trips over (issue 14): each test reproduces one trip-up on a project shaped like
//! the public `systemprompt-template`, and checks the fix.

mod support;

use std::path::Path;

use support::{private_modes, project, sp, write, Out};

/// The README's one test command says exactly what is missing when it cannot install it.
#[test]
fn the_test_command_names_what_is_missing_when_it_cannot_install_it() {
    // A PATH with every usual tool except `keyctl` (keyutils) and `apt-get`: the script cannot
    // install the package, so it must name it and how to get it, and stop before the tests.
    let bin = tempfile::tempdir().unwrap();
    for dir in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if name == "keyctl" || name == "apt-get" || name == "sudo" {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), bin.path().join(&name));
        }
    }
    let cargo_home = std::env::var_os("CARGO").map(std::path::PathBuf::from);
    if let Some(cargo) = cargo_home {
        let _ = std::os::unix::fs::symlink(&cargo, bin.path().join("cargo"));
    }
    let out = std::process::Command::new("bash")
        .arg(support::repo().join("scripts/test.sh"))
        .arg("--no-run")
        .env("PATH", bin.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("keyutils"), "{stderr}");
    assert!(stderr.contains("apt-get install"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("cargo test"));
    // CI runs that same command, and the README gives it.
    let ci = std::fs::read_to_string(support::repo().join(".ci/run")).unwrap();
    assert!(ci.contains("scripts/test.sh"));
    let readme = std::fs::read_to_string(support::repo().join("README.md")).unwrap();
    assert!(readme.contains("```sh\nscripts/test.sh\n```"), "README test command");
}
