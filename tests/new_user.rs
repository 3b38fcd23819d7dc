//! What a new user trips over (issue 14): each test reproduces one trip-up on a project shaped like
//! the public `systemprompt-template`, and checks the fix.

mod support;

use std::path::Path;

use support::{private_modes, project, sp, write};

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
    assert!(
        readme.contains("```sh\nscripts/test.sh\n```"),
        "README test command"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_tree(&e.path(), &target);
            }
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Point 17: the quick start on a fresh clone (git checks the fake secrets out 0644, and they are
/// tracked) prints no warning. Point 8: outside the demo, a tracked secrets.json is a warning.
#[test]
fn the_quick_start_is_clean_and_validate_warns_on_tracked_secrets() {
    let clone = tempfile::tempdir().unwrap();
    let demo = clone.path().join("examples/demo");
    copy_tree(&support::repo().join("examples/demo"), &demo);
    for p in ["local", "production"] {
        chmod(
            &demo.join(format!(".systemprompt/profiles/{p}/secrets.json")),
            0o644,
        );
    }
    support::git(clone.path(), &["init", "-q"]);
    support::git(clone.path(), &["add", "-A"]);
    support::git(clone.path(), &["commit", "-qm", "clone"]);
    let out = sp(
        clone.path(),
        &["validate", "--manifest-path", "examples/demo/Cargo.toml"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("warning["), "{out:?}");
    assert!(out.stderr.contains("0 errors, 0 warnings"), "{out:?}");
    let v = sp(
        clone.path(),
        &[
            "validate",
            "-v",
            "--manifest-path",
            "examples/demo/Cargo.toml",
        ],
    );
    assert!(
        v.stderr
            .contains("`allow` says: file-permissions, secrets-tracked"),
        "{v:?}"
    );

    // The same project without `allow`: both pieces of advice, tracked first named with the fix.
    let manifest = demo.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("allow"))
        .fold(String::new(), |acc, l| acc + l + "\n");
    std::fs::write(&manifest, without).unwrap();
    let out = sp(&demo, &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("warning[secrets-tracked]: secrets.json is tracked by git"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("git rm --cached -- .systemprompt/profiles/local/secrets.json"),
        "{out:?}"
    );
    assert!(out.stderr.contains("warning[file-permissions]"), "{out:?}");
    let json = sp(&demo, &["validate", "--format", "json"]);
    assert!(json.stdout.contains("\"secrets-tracked\""), "{json:?}");

    // `allow` takes advice only: a problem with a value cannot be turned off.
    std::fs::write(
        &manifest,
        text.replace(
            "allow = [\"file-permissions\", \"secrets-tracked\"]",
            "allow = [\"missing-required-key\"]",
        ),
    )
    .unwrap();
    let out = sp(&demo, &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("`missing-required-key`, which is not advice"),
        "{out:?}"
    );
}

/// Point 6: in warn mode (upstream's default) every error of the tool's own is still shown, as a
/// warning, by `validate`, `run` and the build check; `-q` hides them. What upstream refuses to
/// boot on stays an error that fails in every mode (issue 22).
#[test]
fn warn_mode_shows_errors_as_warnings_everywhere() {
    let dir = project(&[
        (
            ".systemprompt/profiles/local/secrets.json",
            r#"{"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "database_url": "postgres://app:pw@db:5432/app", "openai": "sk-your-key-here", "github": "ghp_your_token_here"}"#,
        ),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "secrets:\n  validation: warn\n",
        ),
    ]);
    let out = sp(dir.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr.matches("warning[placeholder-value]").count(),
        2,
        "{out:?}"
    );
    assert!(!out.stderr.contains("error["), "{out:?}");
    assert!(
        out.stderr.contains("errors reported as warnings"),
        "{out:?}"
    );

    let out = sp(dir.path(), &["run", "--", "true"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("warning[placeholder-value]"), "{out:?}");
    assert!(
        out.stderr
            .contains("has 2 errors (mode warn); the command runs anyway"),
        "{out:?}"
    );

    let quiet = sp(dir.path(), &["-q", "run", "--", "true"]);
    assert_eq!(quiet.code, 0, "{quiet:?}");
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    let quiet = sp(dir.path(), &["-q", "validate"]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "{quiet:?}");

    let report = systemprompt_secrets::build::check()
        .manifest_dir(dir.path())
        .evaluate(&systemprompt_secrets::env::MapEnv::default())
        .expect("the check runs");
    assert!(!report.failed);
    let warnings: Vec<&String> = report
        .directives
        .iter()
        .filter(|d| d.starts_with("cargo::warning="))
        .collect();
    assert!(
        warnings.iter().any(
            |d| d.starts_with("cargo::warning=warning[placeholder-value]")
                && d.contains("reported as a warning: validation is warn")
        ),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|d| d.contains("[placeholder-value]")),
        "{warnings:?}"
    );

    // A jwt_secret that systemprompt 0.10 refuses fails in warn mode too, everywhere.
    support::write(
        dir.path(),
        ".systemprompt/profiles/local/secrets.json",
        r#"{"jwt_secret": "short", "database_url": "postgres://app:pw@db:5432/app", "openai": "sk-your-key-here"}"#,
    );
    let out = sp(dir.path(), &["validate"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("error[jwt-secret-too-short]"),
        "{out:?}"
    );
    assert!(out.stderr.contains("warning[placeholder-value]"), "{out:?}");
    let out = sp(dir.path(), &["run", "--", "true"]);
    assert_ne!(out.code, 0, "{out:?}");
    let report = systemprompt_secrets::build::check()
        .manifest_dir(dir.path())
        .evaluate(&systemprompt_secrets::env::MapEnv::default())
        .expect("the check runs");
    assert!(report.failed, "{:?}", report.directives);
}

/// Point 7: a second profile (`init --profile staging`) does not break the plain commands: `local`
/// is used, with a note.
#[test]
fn a_second_profile_keeps_local_as_the_default() {
    let dir = project(&[(".systemprompt/profiles/local/secrets.json", support::GOOD)]);
    let out = sp(dir.path(), &["init", "--profile", "staging"]);
    assert_eq!(out.code, 0, "{out:?}");
    for args in [&["validate"][..], &["list"], &["run", "--", "true"]] {
        let out = sp(dir.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("note: using profile `local`, the development profile: 2 profiles exist and nothing chose one"),
            "{args:?}: {out:?}"
        );
    }
    let quiet = sp(dir.path(), &["-q", "validate"]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "{quiet:?}");
    // Without a `local`, the choice is still the user's.
    std::fs::rename(
        dir.path().join(".systemprompt/profiles/local"),
        dir.path().join(".systemprompt/profiles/dev"),
    )
    .unwrap();
    let out = sp(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("dev, staging"), "{out:?}");
}

/// Runs the binary on a pseudo-terminal (`script`), typing `answer`.
fn on_terminal(dir: &Path, args: &str, answer: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} {args}", support::bin().display()),
            "/dev/null",
        ])
        .current_dir(dir)
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        .env("CARGO_TERM_COLOR", "never")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&support::repo().join("examples/demo"), dir.path());
    private_modes(dir.path());
    dir
}

/// Point 12: `copy --to` a profile that does not exist asks (or needs `--create`), makes the folder
/// 0700, exits non-zero on "no", and warns when a development secret goes into a protected profile.
#[test]
fn copy_creates_profiles_only_when_asked_and_warns_on_shared_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let dir = demo();
    let profiles = dir.path().join(".systemprompt/profiles");
    let out = sp(
        dir.path(),
        &["copy", "--from", "local", "--to", "productoin"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("profile `productoin` does not exist; nothing was changed"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("did you mean `--to production`?"),
        "{out:?}"
    );
    assert!(!profiles.join("productoin").exists());

    let (code, text) = on_terminal(dir.path(), "copy --from local --to staging", "n\n");
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("Profile `staging` does not exist (profiles: local, production). Create it?"),
        "{text}"
    );
    assert!(
        text.contains("cancelled at your answer; nothing was changed"),
        "{text}"
    );
    assert!(!profiles.join("staging").exists());

    // A new protected profile: the question comes before the folder, so a "no" leaves nothing.
    let (code, text) = on_terminal(dir.path(), "copy --from local --to prod-eu --create", "n\n");
    assert_eq!(code, Some(3), "{text}");
    assert!(
        !profiles.join("prod-eu").exists(),
        "no folder after a no: {text}"
    );
    let out = sp(
        dir.path(),
        &["copy", "--from", "local", "--to", "staging", "--create"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mode = std::fs::metadata(profiles.join("staging"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "the folder is private, as init makes it"
    );
    let mode = std::fs::metadata(profiles.join("staging/secrets.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Answering no to the protected-profile question is a cancel too, with its own exit code.
    let (code, text) = on_terminal(
        dir.path(),
        "copy --from local --to production jwt_secret --overwrite",
        "n\n",
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("shared") || text.contains("share one secret"),
        "{text}"
    );
    let out = sp(
        dir.path(),
        &[
            "copy",
            "--from",
            "local",
            "--to",
            "production",
            "jwt_secret",
            "--overwrite",
            "--yes",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("copies the `jwt_secret` of `local` into protected profile `production`: the two would share one secret"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("rotate jwt_secret --profile production"),
        "{out:?}"
    );
}

/// Points 10, 15 and 16 for `rotate` and `generate`: `rotate --format json` prints a JSON document;
/// a provider's key is neither rotated nor generated, and the hint says where keys come from (no
/// generator suggested); `generate` takes `--encoding`, as `rotate` does; a protected profile's
/// question follows a plan that is really above it.
#[test]
fn rotate_reports_json_and_provider_keys_are_not_generated() {
    let dir = project(&[(".systemprompt/profiles/local/secrets.json", support::GOOD)]);
    let out = sp(
        dir.path(),
        &["rotate", "jwt_secret", "--format", "json", "--yes"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["key"], "jwt_secret");
    assert_eq!(doc["profile"], "local");
    assert_eq!(doc["rotated"], true);
    assert_eq!(doc["synced"], serde_json::Value::Null);
    assert_eq!(doc["generator"], "base64:48");
    let now: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".systemprompt/profiles/local/secrets.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(!out.stdout.contains(now["jwt_secret"].as_str().unwrap()));
    let dry = sp(
        dir.path(),
        &["rotate", "jwt_secret", "--format", "json", "--dry-run"],
    );
    let doc: serde_json::Value = serde_json::from_str(&dry.stdout).expect("one JSON document");
    assert_eq!(
        (doc["dry_run"].clone(), doc["rotated"].clone()),
        (true.into(), false.into())
    );

    for verb in ["rotate", "generate"] {
        let out = sp(dir.path(), &[verb, "anthropic"]);
        assert_eq!(out.code, 2, "{verb}: {out:?}");
        assert_eq!(out.stdout, "", "{verb}: nothing random printed");
        assert!(
            out.stderr.contains(&format!(
                "`anthropic` is issued by its provider; `{verb}` cannot make one"
            )),
            "{out:?}"
        );
        assert!(
            out.stderr.contains("set ANTHROPIC_API_KEY --local"),
            "{out:?}"
        );
        assert!(
            !out.stderr.contains("--bytes"),
            "no generator is suggested: {out:?}"
        );
    }
    let hex = sp(
        dir.path(),
        &["generate", "--bytes", "16", "--encoding", "hex"],
    );
    assert_eq!(hex.stdout.trim().len(), 32, "{hex:?}");

    // A protected profile without --yes: the plan the help points at is printed first.
    support::write(
        dir.path(),
        ".systemprompt/profiles/production/secrets.json",
        support::GOOD,
    );
    let out = sp(
        dir.path(),
        &["rotate", "jwt_secret", "--profile", "production"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    let plan = out.stderr.find("Plan").expect("a plan");
    let help = out.stderr.find("review the plan above").expect("the help");
    assert!(plan < help, "{out:?}");
}

/// A workspace shaped like the template: a virtual root with members, one profile at the root.
fn template_workspace(extra_root: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("systemprompt-template");
    let member = |name: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    };
    write(
        &root,
        "Cargo.toml",
        &format!("[workspace]\nmembers = [\"extensions/web\", \"services/api\"]\nresolver = \"2\"\n\n[workspace.metadata.systemprompt-secrets]\n{extra_root}"),
    );
    write(
        &root,
        "extensions/web/Cargo.toml",
        &member("systemprompt-web-extension"),
    );
    write(&root, "extensions/web/src/lib.rs", "");
    write(
        &root,
        "services/api/Cargo.toml",
        &member("systemprompt-api"),
    );
    write(&root, "services/api/src/lib.rs", "");
    write(
        &root,
        ".systemprompt/profiles/local/secrets.json",
        support::GOOD,
    );
    (outer, root)
}

/// Point 1: the OpenBao path is the same wherever the command runs in a workspace: `{project}` is
/// the workspace's one name (the manifest's `project`, else the root package, else the root folder).
#[test]
fn the_openbao_path_is_the_workspaces_wherever_the_command_runs() {
    let bao = support::openbao::DevServer::start();
    let (_outer, root) = template_workspace(&format!(
        "backend = \"openbao\"\n\n[workspace.metadata.systemprompt-secrets.openbao]\naddress = \"{}\"\n",
        bao.addr
    ));
    let env = [("BAO_TOKEN", "root")];
    let out = support::sp_env(&root, &["sync", "--yes"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    let stored = support::openbao::kv_get(
        &bao.addr,
        "root",
        "systemprompt/systemprompt-template/local",
    );
    assert!(stored.contains_key("jwt_secret"), "{stored:?}");
    for (dir, args) in [
        (root.join("extensions/web"), vec!["diff"]),
        (root.join("extensions/web/src"), vec!["diff"]),
        (
            root.clone(),
            vec!["diff", "--manifest-path", "services/api/Cargo.toml"],
        ),
    ] {
        let out = support::sp_env(&dir, &args, &env);
        assert_eq!(out.code, 0, "{dir:?} {args:?}: {out:?}");
        assert!(
            out.all()
                .contains("systemprompt/systemprompt-template/local"),
            "{out:?}"
        );
        assert!(
            out.stdout.contains("local-only    -\n"),
            "{dir:?} {args:?}: {out:?}"
        );
    }

    // The manifest's `project` names it everywhere; a member may not set its own.
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        text.replace(
            "backend = \"openbao\"",
            "backend = \"openbao\"\nproject = \"acme\"",
        ),
    )
    .unwrap();
    let out = support::sp_env(&root.join("extensions/web"), &["sync", "--yes"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        support::openbao::kv_get(&bao.addr, "root", "systemprompt/acme/local")
            .contains_key("jwt_secret")
    );
    let web = root.join("extensions/web/Cargo.toml");
    let member = std::fs::read_to_string(&web).unwrap();
    std::fs::write(
        &web,
        format!("{member}\n[package.metadata.systemprompt-secrets]\nproject = \"web\"\n"),
    )
    .unwrap();
    let out = support::sp_env(&root.join("extensions/web"), &["diff"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("`project` names the whole workspace"),
        "{out:?}"
    );
}

/// Point 11: `login` uses the manifest's backend and OpenBao address, checks the token with the
/// server (lookup-self) before storing it, and `status --backend openbao` reports it; a rejected
/// token's hint names `--address` and, when the token came from `BAO_TOKEN`, says so.
#[test]
fn openbao_login_checks_the_token_and_status_reports_it() {
    let bao = support::openbao::DevServer::start();
    let dir = support::openbao::bao_project(&[&bao.addr], "", support::GOOD);
    let bin = support::bin();
    let script = format!(
        "cd {dir}; b={bin}; \
         echo '== wrong'; printf s.notatoken123 | $b login --token-stdin; echo \"exit=$?\"; \
         echo '== status-none'; $b status; echo \"exit=$?\"; \
         echo '== right'; printf root | $b login --token-stdin; echo \"exit=$?\"; \
         echo '== status'; $b status --backend openbao; echo \"exit=$?\"; \
         echo '== json'; $b status --format json; echo \"exit=$?\"; \
         echo '== unverified'; printf s.othertoken456 | $b login --token-stdin --no-verify; echo \"exit=$?\"; \
         echo '== status-bad'; $b status; echo \"exit=$?\"",
        dir = dir.path().display(),
        bin = bin.display()
    );
    let out = std::process::Command::new("keyctl")
        .args(["session", "-", "bash", "-c", &script])
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils")
        .env("CARGO_TERM_COLOR", "never")
        // The test's own project: trusted, as `tests/support` trusts every test project.
        .env("SYSTEMPROMPT_SECRETS_TRUST_PROJECT", "1")
        .env_remove("BAO_TOKEN")
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_ADDR")
        .env("HOME", dir.path())
        .output()
        .expect("keyctl (keyutils)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // stdout and stderr are read apart: split stdout by section, and check stderr as a whole.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let section = |name: &str| {
        stdout
            .split(&format!("== {name}\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n== ").next())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(section("wrong").contains("exit=1"), "{text}");
    assert!(
        text.contains(&format!(
            "OpenBao at {} rejected the token from the token given to `login`",
            bao.addr
        )),
        "{text}"
    );
    assert!(text.contains("nothing was stored"), "{text}");
    assert!(text.contains(&format!("--address {}", bao.addr)), "{text}");
    assert!(section("status-none").contains("Token:    none"), "{text}");
    assert!(section("right").contains("exit=0"), "{text}");
    assert!(
        text.contains(&format!(
            "Checked the token with {} (lookup-self)",
            bao.addr
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("Stored OpenBao token for {}", bao.addr)),
        "{text}"
    );
    let status = section("status");
    assert!(
        status.contains(&format!("Address:  {}", bao.addr)),
        "{text}"
    );
    assert!(status.contains("Token:    keyring (keyutils)"), "{text}");
    assert!(status.contains("Server:   valid (lookup-self)"), "{text}");
    assert!(status.contains("exit=0"), "{text}");
    let json = section("json");
    assert!(
        json.contains("\"backend\":\"openbao\"") && json.contains("\"logged_in\":true"),
        "{text}"
    );
    assert!(section("unverified").contains("exit=0"), "{text}");
    let bad = section("status-bad");
    assert!(bad.contains("Server:   not usable"), "{text}");
    assert!(
        bad.contains("rejected the token from keyring (keyutils)"),
        "{text}"
    );
    assert!(bad.contains("exit=1"), "{text}");
    assert!(
        !text.contains("notatoken") && !text.contains("othertoken"),
        "no token printed: {text}"
    );
}

/// Point 11: a rejected `BAO_TOKEN`: the hint says that the variable holds it, and names `--address`.
#[test]
fn a_rejected_bao_token_is_named_in_the_hint() {
    let bao = support::openbao::DevServer::start();
    let dir = support::openbao::bao_project(&[&bao.addr], "", support::GOOD);
    let out = support::sp_env(dir.path(), &["diff"], &[("BAO_TOKEN", "nope")]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("rejected the token from env $BAO_TOKEN"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("BAO_TOKEN holds a token the server does not accept"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!("--address {}", bao.addr)),
        "{out:?}"
    );
    assert!(!out.stderr.contains("or set BAO_TOKEN"), "{out:?}");
}

/// Point 2: a verb that writes locally and remotely checks what the remote step needs before it
/// asks for a value or writes anything. Point 15: a value given to `set` is named as given (not
/// as an environment variable), and a pasted line break is one finding.
#[test]
fn set_and_rotate_check_the_remote_before_anything_local() {
    let dir = demo();
    write(
        dir.path(),
        ".systemprompt/profiles/local/profile.yaml",
        "cloud:\n  tenant_id: t-123\n",
    );
    let file = dir.path().join(".systemprompt/profiles/local/secrets.json");
    let before = std::fs::read(&file).unwrap();
    // No terminal and no token: the missing login is named first, before any value is asked for.
    for args in [
        &["set", "FEATURE_FLAG", "--local"][..],
        &["rotate", "jwt_secret", "--sync"],
    ] {
        let out = sp(dir.path(), args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains("not logged in: run `cargo systemprompt-secrets login`"),
            "{args:?}: {out:?}"
        );
        assert!(
            !out.stderr.contains("stdin is not a terminal"),
            "{args:?}: {out:?}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{args:?}: nothing written"
        );
    }
    // With a token, the value is checked, and named as it was given.
    let mut c = support::cmd(dir.path());
    c.args([
        "set",
        "ANTHROPIC_API_KEY",
        "--stdin",
        "--local",
        "--api-url",
        "http://127.0.0.1:1",
    ])
    .env("SYSTEMPROMPT_API_TOKEN", "sp-test-token")
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH\r\n\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ANTHROPIC_API_KEY from stdin"), "{stderr}");
    assert!(!stderr.contains("env $ANTHROPIC_API_KEY"), "{stderr}");
    assert!(
        stderr.contains("the value given for ANTHROPIC_API_KEY ends with a line break"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("error[").count(),
        1,
        "one slip, one finding: {stderr}"
    );
    assert!(!stderr.contains("spaces or tabs"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// Point 15: the words of three errors. No Cargo.toml is not "fix the manifest as cargo says";
/// https against a plain-http server is named as such (not "corrupt message … may be down").
#[test]
fn messages_say_what_happened() {
    let empty = tempfile::tempdir().unwrap();
    let out = sp(empty.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("run this inside a Cargo project"),
        "{out:?}"
    );
    assert!(
        !out.stderr.contains("fix the manifest as cargo says"),
        "{out:?}"
    );
    let out = sp(
        empty.path(),
        &["validate", "--manifest-path", "nowhere/Cargo.toml"],
    );
    assert!(
        out.stderr
            .contains("check the path given to `--manifest-path`"),
        "{out:?}"
    );

    // A plain HTTP server on loopback, asked over https.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            use std::io::Write;
            let mut stream = stream;
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    let dir =
        support::openbao::bao_project(&[&format!("https://127.0.0.1:{port}")], "", support::GOOD);
    let out = support::sp_env(
        dir.path(),
        &["diff", "--timeout", "2"],
        &[("BAO_TOKEN", "t")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("the server did not answer with TLS"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("use an http:// URL (allowed on loopback only)"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("corrupt message"), "{out:?}");
    assert!(!out.stderr.contains("the server may be down"), "{out:?}");
}

/// Point 16: help and output. Global options have their own heading; `diff --exit-code` exits 1
/// on differences; `explain nosuch` exits 1 as `get nosuch` does; `export` defaults to dotenv;
/// under `--format json` a configuration error is a JSON object on stdout, and under `--format
/// github` an `::error::` line; `versions` shows times to the second; the keyring SOURCE column
/// is short.
#[test]
fn help_and_output_for_programs_and_people() {
    let dir = demo();
    let help = sp(dir.path(), &["copy", "--help"]);
    let (own, globals) = help
        .stdout
        .split_once("Global options:")
        .expect("a heading for globals");
    assert!(
        own.contains("--create") && !own.contains("--manifest-path"),
        "{}",
        help.stdout
    );
    assert!(globals.contains("--manifest-path"), "{}", help.stdout);
    let diff_help = sp(dir.path(), &["diff", "--help"]);
    assert!(
        diff_help
            .stdout
            .contains("OpenBao gives values back, so they are compared too"),
        "{diff_help:?}"
    );
    assert!(diff_help.stdout.contains("--exit-code"), "{diff_help:?}");

    let explain = sp(dir.path(), &["explain", "nosuch"]);
    assert_eq!(explain.code, 1, "{explain:?}");
    assert!(
        explain.stdout.contains("`nosuch` is not set in any layer."),
        "{explain:?}"
    );
    assert_eq!(sp(dir.path(), &["get", "nosuch"]).code, 1);
    assert_eq!(sp(dir.path(), &["explain", "anthropic"]).code, 0);

    let export = sp(dir.path(), &["export", "-o", "out.env"]);
    assert_eq!(export.code, 0, "{export:?}");
    let exported = std::fs::read_to_string(dir.path().join("out.env")).unwrap();
    assert!(
        exported.lines().any(|l| l.starts_with("DATABASE_URL='")),
        "dotenv lines"
    );

    // A broken manifest, asked for by programs.
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "default-profile = \"local\"",
            "default-profile = \"local\"\nbackend = \"cloud\"",
        ),
    )
    .unwrap();
    let json = sp(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("a JSON error object");
    assert_eq!(doc["ok"], false);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `cloud`"),
        "{doc}"
    );
    assert!(
        doc["error"]["help"]
            .as_str()
            .unwrap()
            .contains("`backend` takes"),
        "{doc}"
    );
    assert_eq!(doc["error"]["exit_code"], 2);
    for args in [
        &["list", "--format", "json"][..],
        &["diff", "--format", "json"],
        &["status", "--format", "json"],
    ] {
        let out = sp(dir.path(), args);
        assert!(
            serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok(),
            "{args:?}: {out:?}"
        );
    }
    let github = sp(dir.path(), &["validate", "--format", "github"]);
    assert_eq!(github.code, 2, "{github:?}");
    assert!(
        github
            .stdout
            .starts_with("::error title=cargo systemprompt-secrets::"),
        "{github:?}"
    );
    assert!(
        github.stdout.contains("unknown variant `cloud`"),
        "{github:?}"
    );
    std::fs::write(&manifest, &text).unwrap();
}

/// Point 16: OpenBao's `versions` to the second, and `diff --exit-code`.
#[test]
fn versions_to_the_second_and_diff_exit_code() {
    let bao = support::openbao::DevServer::start();
    let p = support::openbao::bao_project(&[&bao.addr], "", support::GOOD);
    let env = [("BAO_TOKEN", "root")];
    assert_eq!(support::sp_env(p.path(), &["sync", "--yes"], &env).code, 0);
    let same = support::sp_env(p.path(), &["diff", "--exit-code"], &env);
    assert_eq!(same.code, 0, "{same:?}");
    write(
        p.path(),
        ".systemprompt/profiles/local/secrets.json",
        &support::GOOD.replace("app:pw@db", "app:pw2@db"),
    );
    let differs = support::sp_env(p.path(), &["diff", "--exit-code"], &env);
    assert_eq!(differs.code, 1, "{differs:?}");
    assert!(
        differs.stdout.contains("changed       database_url"),
        "{differs:?}"
    );
    assert_eq!(
        support::sp_env(p.path(), &["diff"], &env).code,
        0,
        "without --exit-code"
    );
    let versions = support::sp_env(p.path(), &["versions"], &env);
    assert_eq!(versions.code, 0, "{versions:?}");
    let row = versions.stdout.lines().nth(1).expect("a version row");
    let created = row.split_whitespace().nth(1).unwrap();
    assert_eq!(created.len(), 10, "a date: {row}");
    assert!(row.contains(" UTC"), "{row}");
    let clock = row.split_whitespace().nth(2).unwrap();
    assert_eq!(clock.len(), 8, "hh:mm:ss, no nanoseconds: {row}");
    assert!(!row.contains('.'), "no nanoseconds: {row}");
}

/// Point 16: the keyring cache as a source: a short SOURCE column, the entry named once below.
#[test]
fn the_keyring_source_column_is_short() {
    let dir = demo();
    let script = format!(
        "cd {}; b={}; $b cache >/dev/null 2>&1; mv .systemprompt/profiles/local/secrets.json /tmp/moved-$$.json; $b list; rm -f /tmp/moved-$$.json",
        dir.path().display(),
        support::bin().display()
    );
    let out = std::process::Command::new("keyctl")
        .args(["session", "-", "bash", "-c", &script])
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "keyutils")
        .env("CARGO_TERM_COLOR", "never")
        .env(
            "SYSTEMPROMPT_SECRETS_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/manifest-cache"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("keyring cache"))
        .collect();
    assert!(!rows.is_empty(), "{stdout}{stderr}");
    assert!(rows.iter().all(|r| r.len() < 70), "{stdout}");
    assert!(stderr.contains("note: keyring cache = "), "{stderr}");
}

/// Point 13: completions that live beside cargo's own. In bash, with cargo's completion loaded
/// first, `cargo b<TAB>` still completes cargo's commands, while `cargo systemprompt-secrets …` and
/// `cargo-systemprompt-secrets …` complete ours, `--profile` with profile names and `get` with key
/// names. In zsh, cargo's `_cargo` calls `_cargo-systemprompt-secrets`, which the script defines
/// (it never claims `cargo` itself).
#[test]
fn completions_live_beside_cargos_own() {
    let dir = demo();
    let (path, sysroot) = completion_env();
    let bash = format!(
        r#"source /usr/share/bash-completion/bash_completion
source "{sysroot}/etc/bash_completion.d/cargo"
source <(cargo-systemprompt-secrets completions bash)
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; COMPREPLY=(); local f; f=$(complete -p "$1" | sed -n 's/.*-F \([^ ]*\).*/\1/p'); "$f" "$1" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"; echo "[$*] => ${{COMPREPLY[*]}}"; }}
t cargo b
t cargo systemprompt-secrets val
t cargo systemprompt-secrets --profile ""
t cargo systemprompt-secrets get an
t cargo-systemprompt-secrets ro
t cargo-systemprompt-secrets explain --profile pro
"#
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &bash])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("[cargo b] =>").contains("build"),
        "cargo's own completion still works: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        line("[cargo systemprompt-secrets val] =>").ends_with("=> validate"),
        "{text}"
    );
    assert!(
        line("[cargo systemprompt-secrets --profile ] =>").ends_with("=> local production"),
        "{text}"
    );
    assert!(
        line("[cargo systemprompt-secrets get an] =>").ends_with("=> anthropic"),
        "{text}"
    );
    assert!(
        line("[cargo-systemprompt-secrets ro] =>").ends_with("=> rollback rotate"),
        "{text}"
    );
    assert!(
        line("[cargo-systemprompt-secrets explain --profile pro] =>").ends_with("=> production"),
        "{text}"
    );
    assert!(
        !text.contains("sk-ant-") && !text.contains("postgres://"),
        "names only: {text}"
    );
}

/// Issue 26, point 8: the bash install the README gives works in a new shell. bash-completion
/// loads completion files lazily by command name, so a file named for the binary is never loaded
/// for `cargo systemprompt-secrets <TAB>`; the install also sources it from `~/.bash_completion`,
/// which bash-completion reads at start-up.
#[test]
fn the_documented_bash_install_completes_in_a_new_shell() {
    let dir = demo();
    let home = tempfile::tempdir().unwrap();
    let (path, _) = completion_env();
    let readme = std::fs::read_to_string(support::repo().join("README.md")).unwrap();
    let install = readme
        .lines()
        .find_map(|l| l.split("Install in bash: `").nth(1))
        .and_then(|rest| rest.split('`').next())
        .expect("the README's bash install line")
        .to_owned();
    let run = |script: &str| {
        std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", script])
            .current_dir(dir.path())
            .env("HOME", home.path())
            .env_remove("XDG_DATA_HOME")
            .env_remove("BASH_COMPLETION_USER_FILE")
            .env("PATH", &path)
            .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
            .output()
            .expect("bash")
    };
    let out = run(&install);
    assert!(out.status.success(), "{install}: {out:?}");
    // Twice is harmless.
    assert!(run(&install).status.success());
    // A new shell, as an interactive one starts: bash-completion, then the user's TAB.
    let out = run(r#"source /usr/share/bash-completion/bash_completion
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); complete -p "$1" >/dev/null 2>&1 || _completion_loader "$1"; local f; f=$(complete -p "$1" | sed -n 's/.*-F \([^ ]*\).*/\1/p'); "$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "[$*] => ${COMPREPLY[*]}"; }
t cargo systemprompt-secrets val
t cargo-systemprompt-secrets ro
"#);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[cargo systemprompt-secrets val] => validate"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("[cargo-systemprompt-secrets ro] => rollback rotate"),
        "{text}"
    );
    let sourced = std::fs::read_to_string(home.path().join(".bash_completion")).unwrap();
    assert_eq!(
        sourced.matches("cargo-systemprompt-secrets").count(),
        1,
        "{sourced}"
    );
}

/// The PATH with the built binary first, and the toolchain's sysroot (cargo's own completions).
fn completion_env() -> (String, String) {
    let bin_dir = support::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc");
    (path, String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Point 13 in zsh: cargo's `_cargo` calls `_cargo-systemprompt-secrets`, which the script
/// defines; it never claims `cargo` itself.
#[test]
fn zsh_completions_live_beside_cargos_own() {
    let dir = demo();
    let (path, sysroot) = completion_env();
    let zsh_script = sp(dir.path(), &["completions", "zsh"]).stdout;
    assert!(
        zsh_script.starts_with("#compdef cargo-systemprompt-secrets\n"),
        "{zsh_script}"
    );
    assert!(
        !zsh_script
            .lines()
            .any(|l| l.trim() == "#compdef cargo"
                || l.starts_with("compdef") && l.ends_with(" cargo")),
        "{zsh_script}"
    );
    let cargo_zsh = std::path::Path::new(&sysroot).join("share/zsh/site-functions/_cargo");
    let delegates = std::fs::read_to_string(&cargo_zsh).unwrap_or_default();
    assert!(
        delegates.contains("_call_function ret _cargo-${words[1]}"),
        "cargo's _cargo calls _cargo-<subcommand>"
    );
    let script = dir.path().join("completion.zsh");
    std::fs::write(&script, &zsh_script).unwrap();
    let zsh = format!(
        r#"autoload -U compinit; compinit -u -D; source {}
_describe() {{ local arr=${{@[-1]}}; print -l -- ${{(P)arr}} }}
words=(systemprompt-secrets --profile ""); CURRENT=3; _cargo-systemprompt-secrets; echo ---
words=(cargo-systemprompt-secrets get an); CURRENT=3; _cargo-systemprompt-secrets"#,
        script.display()
    );
    let out = std::process::Command::new("zsh")
        .args(["-f", "-c", &zsh])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("SYSTEMPROMPT_SECRETS_KEYRING", "none")
        .output()
        .expect("zsh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "local\nproduction\n---\nanthropic",
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with the template's `.env.example` and docs, committed.
fn template_repo() -> tempfile::TempDir {
    let dir = project(&[
        (".systemprompt/profiles/local/secrets.json", support::GOOD),
        (".gitignore", "target/\n.systemprompt/profiles/*/secrets.json\n"),
        (
            ".env.example",
            "# At least one of these is required.\nANTHROPIC_API_KEY=\nOPENAI_API_KEY=\n\n# Optional — defaults shown.\nHTTP_PORT=8080\nPG_PORT=5432\nPOSTGRES_PASSWORD=systemprompt\n",
        ),
        (
            "docs/install.md",
            "| `DATABASE_URL` | yes | `postgres://user:pw@host:port/db` |\n- `DATABASE_URL`: `postgres://systemprompt:<password>@postgres.zeabur.internal:5432/systemprompt`\n",
        ),
        ("helm/gateway/values-ha.yaml", "url: postgres://systemprompt:CHANGE_ME@postgres.example.com:5432/systemprompt\n"),
        ("docker-compose.yml", "DATABASE_URL: postgres://systemprompt:${POSTGRES_PASSWORD:-systemprompt}@postgres:5432/systemprompt\n"),
    ]);
    // The project's name all over the repository, as in the template.
    let readme = (0..300).fold(String::new(), |acc, i| {
        acc + "systemprompt line " + &i.to_string() + ": run systemprompt\n"
    });
    write(dir.path(), "README.md", &readme);
    support::git(dir.path(), &["init", "-q"]);
    support::git(dir.path(), &["add", "-A"]);
    support::git(dir.path(), &["commit", "-qm", "template"]);
    dir
}

/// Point 3: compose settings are not imported as secrets; `scan` does not look for values too
/// common to be secret (and says so at -v); findings of one value are grouped; the number of git
/// runs of `scan --history` does not grow with the number of findings.
#[test]
fn settings_stay_out_and_scan_looks_only_for_secrets() {
    let dir = template_repo();
    let out = sp(dir.path(), &["import", ".env.example"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("left out settings that are not the app's secrets"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("HTTP_PORT, PG_PORT, POSTGRES_PASSWORD"),
        "{out:?}"
    );
    let file = dir.path().join(".systemprompt/profiles/local/secrets.json");
    assert!(!std::fs::read_to_string(&file)
        .unwrap()
        .contains("postgres_password"));

    // Even when taken with --all, the value is too common to look for.
    let out = sp(dir.path(), &["import", ".env.example", "--all"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("postgres_password"));
    let scan = sp(dir.path(), &["scan", "-v"]);
    assert_eq!(scan.code, 0, "{scan:?}");
    assert!(scan.stderr.contains("0 finding(s)"), "{scan:?}");
    assert!(
        scan.stderr.contains(
            "not looked for: the value of `postgres_password` (profile local): a plain word"
        ),
        "{scan:?}"
    );
    assert!(
        scan.stderr.contains(
            "not looked for: the value of `http_port` (profile local): shorter than 8 characters"
        ),
        "{scan:?}"
    );
    assert!(!scan.stderr.contains("systemprompt line"), "{scan:?}");

    // One real value in 40 places of two files: one entry, the first places named.
    let jwt = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ";
    let mut leak = String::new();
    for i in 0..30 {
        leak = leak + "line " + &i.to_string() + " JWT=" + jwt + "\n";
    }
    write(dir.path(), "leak-a.txt", &leak);
    write(dir.path(), "leak-b.txt", &leak[..leak.len() / 3]);
    support::git(dir.path(), &["add", "leak-a.txt", "leak-b.txt"]);
    let scan = sp(dir.path(), &["scan"]);
    assert_eq!(scan.code, 1, "{scan:?}");
    let entries: Vec<&str> = scan
        .stderr
        .lines()
        .filter(|l| l.contains("the value of `jwt_secret`"))
        .collect();
    assert_eq!(entries.len(), 1, "{scan:?}");
    assert!(
        entries[0].contains("in 40 places (2 files): leak-a.txt:1, leak-a.txt:2"),
        "{}",
        entries[0]
    );
    assert!(entries[0].contains("and 35 more"), "{}", entries[0]);
    assert!(!scan.all().contains(jwt));
}

/// Point 3: the number of git runs of `scan --history` does not grow with the number of findings
/// (counted through a `git` shim on PATH, for 2 and for 40 blobs with findings).
#[test]
fn scan_history_git_runs_do_not_grow_with_findings() {
    let dir = template_repo();
    let jwt = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ";
    for name in ["leak-a.txt", "leak-b.txt"] {
        write(dir.path(), name, &format!("JWT={jwt}\n"));
    }
    support::git(dir.path(), &["add", "leak-a.txt", "leak-b.txt"]);
    let shim = tempfile::tempdir().unwrap();
    let log = shim.path().join("runs");
    let real_git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    write(
        shim.path(),
        "git",
        &format!(
            "#!/bin/sh\necho x >> {}\nexec {} \"$@\"\n",
            log.display(),
            real_git.trim()
        ),
    );
    std::fs::set_permissions(
        shim.path().join("git"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        shim.path().display(),
        std::env::var("PATH").unwrap()
    );
    let runs = |root: &Path| {
        let _ = std::fs::remove_file(&log);
        let mut c = support::cmd(root);
        c.args(["scan", "--history", "--format", "json"])
            .env("PATH", &path);
        let out = support::run(c);
        assert_eq!(out.code, 1, "{out:?}");
        let found = serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["findings"]
            .as_array()
            .unwrap()
            .len();
        (
            found,
            std::fs::read_to_string(&log).unwrap().lines().count(),
        )
    };
    support::git(dir.path(), &["commit", "-qm", "two leaks"]);
    let (few_found, few_runs) = runs(dir.path());
    for i in 0..38 {
        write(
            dir.path(),
            &format!("more/leak-{i}.txt"),
            &format!("{i} {jwt}\n"),
        );
    }
    support::git(dir.path(), &["add", "-A"]);
    support::git(dir.path(), &["commit", "-qm", "many leaks"]);
    let (many_found, many_runs) = runs(dir.path());
    assert!(many_found > few_found + 30, "{few_found} {many_found}");
    assert_eq!(
        few_runs, many_runs,
        "git runs do not grow with the findings"
    );
}

/// Point 4: the pre-commit check looks at what the commit adds, not at the whole index, and the
/// documentation forms already in the template are allowed, each with its reason.
#[test]
fn scan_staged_checks_what_the_commit_adds() {
    let dir = template_repo();
    // A committed fake-looking key that is not a documentation form: `scan` reports it...
    write(
        dir.path(),
        "tests/keys.rs",
        "const K: &str = \"AIzaSyA1234567890abcdefghijklmnopqrstuv\";\n",
    );
    support::git(dir.path(), &["add", "tests/keys.rs"]);
    support::git(dir.path(), &["commit", "-qm", "test key"]);
    assert_eq!(sp(dir.path(), &["scan"]).code, 1);
    // ...but a commit that only touches another file passes the hook.
    write(
        dir.path(),
        "docs/install.md",
        "| `DATABASE_URL` | yes | `postgres://user:pw@host:port/db` |\nMore words.\n",
    );
    support::git(dir.path(), &["add", "docs/install.md"]);
    let staged = sp(dir.path(), &["scan", "--staged", "-v"]);
    assert_eq!(staged.code, 0, "{staged:?}");
    assert!(staged.stderr.contains("1 staged files"), "{staged:?}");
    // The documentation forms are allowed, each with its reason (at -v).
    let tree = sp(dir.path(), &["scan", "-v"]);
    for reason in ["docs/install.md:1: a PostgreSQL URL with a password (postgres-password) — a documentation placeholder password",
                   "docker-compose.yml:1: a PostgreSQL URL with a password (postgres-password) — a documentation placeholder password",
                   "helm/gateway/values-ha.yaml:1: a PostgreSQL URL with a password (postgres-password) — "] {
        assert!(tree.stderr.contains(reason), "{reason}: {tree:?}");
    }
    // A staged line with a real value is found, at its line in the staged file.
    let jwt = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ";
    write(dir.path(), "docs/install.md", &format!("| `DATABASE_URL` | yes | `postgres://user:pw@host:port/db` |\nMore words.\nJWT={jwt}\n"));
    support::git(dir.path(), &["add", "docs/install.md"]);
    let staged = sp(dir.path(), &["scan", "--staged"]);
    assert_eq!(staged.code, 1, "{staged:?}");
    assert!(
        staged.stderr.contains(
            "the value of `jwt_secret` (profile local) in 1 place (1 file): docs/install.md:3"
        ),
        "{staged:?}"
    );
    assert!(!staged.stderr.contains("tests/keys.rs"), "{staged:?}");
}
