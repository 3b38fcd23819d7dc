//! End-to-end tests: the built binary, run directly and through the real `cargo`.

mod support;

use support::{cmd, fixture, private_modes, project, repo, run, sp, write, GOOD};

const PROFILE_DIR: &str = ".systemprompt/profiles/local";
const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

#[test]
fn help_texts_are_stable() {
    let root = sp(&repo(), &["--help"]);
    assert_eq!(root.code, 0);
    insta::assert_snapshot!("help", root.stdout);
    let validate = sp(&repo(), &["validate", "--help"]);
    insta::assert_snapshot!("help_validate", validate.stdout);
    let get = sp(&repo(), &["get", "--help"]);
    insta::assert_snapshot!("help_get", get.stdout);
}

#[test]
fn runs_as_a_cargo_subcommand_through_real_cargo() {
    let bin_dir = support::bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut c =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(fixture("workspace"))
        .env("PATH", &path)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("SYSTEMPROMPT_PROFILE")
        .args(["systemprompt-secrets", "validate", "--manifest-path"])
        .arg(repo().join("examples/demo/Cargo.toml"));
    let out = run(c);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("Validating profile `local`"),
        "{}",
        out.stderr
    );

    let mut c =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.env("PATH", &path)
        .args(["systemprompt-secrets", "--version"]);
    let out = run(c);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn demo_project_is_clean_in_every_profile() {
    let out = sp(
        &repo().join("examples/demo"),
        &["validate", "--all-profiles", "--strict"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("profile `production`"));
}

#[test]
fn every_kind_of_mistake_is_reported_at_once() {
    let dir = fixture("mistakes");
    private_modes(&dir);
    let human = sp(&dir, &["validate"]);
    assert_eq!(human.code, 1);
    insta::assert_snapshot!("mistakes_human", human.stderr);

    let github = sp(&dir, &["validate", "--all-profiles", "--format", "github"]);
    assert_eq!(github.code, 1);
    insta::assert_snapshot!("mistakes_github", github.stdout);

    let json = sp(&dir, &["validate", "--all-profiles", "--format", "json"]);
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(v["ok"], false);
    let codes: Vec<String> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap().to_owned())
        })
        .collect();
    for code in [
        "jwt-secret-too-short",
        "jwt-secret-low-variety",
        "database-url-scheme",
        "database-url-no-database",
        "database-url-unencoded",
        "placeholder-value",
        "openai-prefix",
        "gemini-shape",
        "github-shape",
        "agent-key-prefix",
        "embedded-newline",
        "surrounding-whitespace",
        "rule-prefix",
        "rule-min-length",
        "rule-pattern",
        "missing-required-key",
        "missing-ai-provider",
    ] {
        assert!(
            codes.iter().any(|c| c == code),
            "{code} missing from {codes:?}"
        );
    }
    let first = &v["profiles"][0]["findings"][0];
    for field in ["code", "severity", "key", "location", "message", "hint"] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
}

#[test]
fn strict_mode_fails_on_warnings() {
    let secrets = GOOD.replace(
        "\"postgres://app:pw@db:5432/app\"",
        "\"postgres://db:5432/app\"",
    );
    let p = project(&[(SECRETS, &secrets)]);
    let relaxed = sp(p.path(), &["validate"]);
    assert_eq!(relaxed.code, 0, "{relaxed:?}");
    assert!(relaxed
        .stderr
        .contains("warning[database-url-no-credentials]"));
    assert_eq!(sp(p.path(), &["validate", "--strict"]).code, 1);
    // A protected profile is strict by default.
    write(
        p.path(),
        ".systemprompt/profiles/production/secrets.json",
        &secrets,
    );
    let prod = sp(p.path(), &["validate", "--profile", "production"]);
    assert_eq!(prod.code, 1, "{prod:?}");
    assert!(prod.stderr.contains("mode strict, protected"));
    // profile.yaml can relax it.
    write(
        p.path(),
        ".systemprompt/profiles/production/profile.yaml",
        "secrets:\n  validation: warn\n",
    );
    assert_eq!(
        sp(p.path(), &["validate", "--profile", "production"]).code,
        0
    );
    write(
        p.path(),
        ".systemprompt/profiles/production/profile.yaml",
        "secrets:\n  validation: skip\n",
    );
    let skip = sp(p.path(), &["validate", "--profile", "production"]);
    assert_eq!(skip.code, 0);
    assert!(skip.stderr.contains("Skipped"));
}

#[test]
fn bad_secrets_files_get_clear_errors_and_nonzero_exit() {
    let cases: &[(&str, &[u8], &str, &str)] = &[
        (
            "malformed",
            b"{\n  \"jwt_secret\": \"x\",\n  \"database_url\" \"y\"\n}",
            "invalid-json",
            "secrets.json:3:",
        ),
        (
            "byte-order mark",
            b"\xEF\xBB\xBF{\"jwt_secret\": \"b\"}",
            "byte-order-mark",
            "secrets.json:1:1",
        ),
        (
            "non-string",
            b"{\"jwt_secret\": 12345}",
            "not-a-string",
            "`jwt_secret` is a number",
        ),
        (
            "array",
            b"[\"jwt_secret\"]",
            "not-an-object",
            "top level is an array",
        ),
        (
            "utf8",
            b"{\"jwt_secret\": \"\xff\xfe\"}",
            "invalid-utf8",
            "secrets.json:1:17",
        ),
        (
            "case-duplicate",
            b"{\"jwt_secret\": \"x\",\n\"JWT_SECRET\": \"y\"}",
            "case-duplicate-key",
            "`jwt_secret` (line 1) and `JWT_SECRET` (line 2) differ only in case",
        ),
        ("empty", b"", "invalid-json", "EOF while parsing"),
    ];
    for (name, bytes, code, text) in cases {
        let p = project(&[]);
        std::fs::create_dir_all(p.path().join(PROFILE_DIR)).unwrap();
        std::fs::write(p.path().join(SECRETS), bytes).unwrap();
        for verb in [
            &["validate"][..],
            &["list"],
            &["get", "jwt_secret"],
            &["explain", "jwt_secret"],
        ] {
            let out = sp(p.path(), verb);
            assert_eq!(out.code, 1, "{name} {verb:?}: {out:?}");
            assert!(out.stderr.contains(code), "{name} {verb:?}: {}", out.stderr);
            assert!(out.stderr.contains(text), "{name} {verb:?}: {}", out.stderr);
            assert!(out.stderr.contains("help:"), "{name}: {}", out.stderr);
            assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        }
        assert_eq!(
            std::fs::read(p.path().join(SECRETS)).unwrap(),
            *bytes,
            "{name}: file untouched"
        );
    }
}

#[test]
fn oversized_secrets_file_is_refused() {
    let p = project(&[]);
    std::fs::create_dir_all(p.path().join(PROFILE_DIR)).unwrap();
    let big = format!("{{\"pad\": \"{}\"}}", "a".repeat(1024 * 1024 + 1));
    std::fs::write(p.path().join(SECRETS), big).unwrap();
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("file-too-large"), "{}", out.stderr);
}

#[test]
fn a_duplicate_key_is_read_as_upstream_reads_it_the_last_one_wins() {
    // systemprompt's JSON parser keeps the last definition; the file boots, with a warning here.
    let p = project(&[]);
    std::fs::create_dir_all(p.path().join(PROFILE_DIR)).unwrap();
    let doubled = GOOD.replacen(
        "{\n",
        "{\n  \"openai\": \"sk-first-definition-nobody-reads\",\n",
        1,
    );
    std::fs::write(p.path().join(SECRETS), &doubled).unwrap();
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("warning[duplicate-key]")
            && out
                .stderr
                .contains("on line 2 and on line 5; systemprompt reads the last one"),
        "{}",
        out.stderr
    );
    let got = sp(p.path(), &["get", "openai", "--reveal"]);
    assert!(got.stdout.contains("T3BlbkFJ"), "the last value: {got:?}");
}

#[test]
fn bad_manifests_and_profiles_are_configuration_errors() {
    let p = project(&[
        ("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = \"local\"\nrequried = [\"jwt_secret\"]\n"),
        (SECRETS, GOOD),
    ]);
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("Cargo.toml:10:1: unknown key `requried`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `required`?"),
        "{}",
        out.stderr
    );

    write(
        p.path(),
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[workspace\n",
    );
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("cannot read the Cargo manifest"),
        "{}",
        out.stderr
    );

    let p = project(&[
        (SECRETS, GOOD),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "secrets:\n  validation: sometimes\n",
        ),
    ]);
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("profile.yaml:2"), "{}", out.stderr);

    // Several profiles, none of them `local`, and nothing chooses: the error lists them.
    let p = project(&[
        (".systemprompt/profiles/dev/secrets.json", GOOD),
        (".systemprompt/profiles/prod/secrets.json", GOOD),
    ]);
    let out = sp(p.path(), &["validate"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("none chosen: dev, prod"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["validate", "--profile", "stage"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("available profiles: dev, prod"),
        "{}",
        out.stderr
    );

    let empty = project(&[]);
    let out = sp(empty.path(), &["validate"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no profiles folder"), "{}", out.stderr);
    assert!(out.stderr.contains("init"), "{}", out.stderr);

    let out = sp(empty.path(), &["validate", "--no-such-flag"]);
    assert_eq!(out.code, 2);
}

#[test]
fn layers_env_over_dotenv_over_file() {
    let p = project(&[
        (SECRETS, GOOD),
        (".env", "OPENAI_API_KEY=sk-fromdotenv0000000T3BlbkFJ00000000000000000000\nJWT_SECRET=dotenv-jwt-secret-0123456789abcdefghijkl\n"),
        ("extra.env", "JWT_SECRET=extra-jwt-secret-0123456789abcdefghijklm\n"),
    ]);
    let mut c = cmd(p.path());
    c.env("OPENAI_API_KEY", "sk-fromenv")
        .args(["explain", "openai"]);
    let out = run(c);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[1].contains("env") && lines[1].contains("<- wins"),
        "{}",
        out.stdout
    );
    assert!(
        lines[2].contains(".env") && lines[2].contains("(shadowed)"),
        "{}",
        out.stdout
    );
    assert!(
        lines[3].contains("secrets.json") && lines[3].contains("(shadowed)"),
        "{}",
        out.stdout
    );

    let out = sp(
        p.path(),
        &["get", "jwt_secret", "--reveal", "--env-file", "extra.env"],
    );
    assert_eq!(
        out.stdout.trim(),
        "extra-jwt-secret-0123456789abcdefghijklm"
    );
    let out = sp(p.path(), &["get", "JWT_SECRET", "--reveal"]);
    assert_eq!(
        out.stdout.trim(),
        "dotenv-jwt-secret-0123456789abcdefghijkl"
    );
    let mut c = cmd(p.path());
    c.env("JWT_SECRET", "env-jwt")
        .args(["get", "jwt_secret", "--reveal", "--no-env"]);
    assert_eq!(run(c).stdout.trim(), "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ");

    let out = sp(p.path(), &["get", "openai", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["source"]["kind"], "dot-env");
    assert_eq!(v["source"]["line"], 1);

    let out = sp(p.path(), &["validate", "--env-file", "missing.env"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("missing.env"), "{}", out.stderr);
}

#[test]
fn env_selects_profile_by_name_or_path() {
    let p = project(&[
        (SECRETS, GOOD),
        (".systemprompt/profiles/prod/secrets.json", "{}"),
    ]);
    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_PROFILE", "local").arg("validate");
    assert_eq!(run(c).code, 0);
    let mut c = cmd(p.path());
    c.env(
        "SYSTEMPROMPT_PROFILE",
        p.path().join(".systemprompt/profiles/prod"),
    )
    .arg("validate");
    let out = run(c);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("profile `prod`"), "{}", out.stderr);
    let mut c = cmd(p.path());
    c.env("SYSTEMPROMPT_PROFILE", "prod")
        .args(["validate", "--profile", "local"]);
    assert_eq!(run(c).code, 0, "--profile wins over the env");
}

#[test]
fn list_get_explain_profiles_never_show_values() {
    let p = project(&[(SECRETS, GOOD)]);
    let list = sp(p.path(), &["list"]);
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("jwt_secret") && list.stdout.contains("secrets.json:2"),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("missing") || !list.stdout.contains("anthropic"));
    let get = sp(p.path(), &["get", "database_url"]);
    assert!(get.stdout.contains("set, from"), "{}", get.stdout);
    let missing = sp(p.path(), &["get", "anthropic"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("`anthropic` is not set"),
        "{}",
        missing.stderr
    );
    let profiles = sp(p.path(), &["profiles", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&profiles.stdout).unwrap();
    assert_eq!(v["profiles"][0]["profile"], "local");
    assert_eq!(v["profiles"][0]["keys"], 3);
    assert_eq!(v["profiles"][0]["active"], true);
    for out in [list, get, profiles] {
        for secret in [
            "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
            "app:pw@db",
            "T3BlbkFJ",
        ] {
            assert!(!out.all().contains(secret), "{out:?}");
        }
    }
}

#[test]
fn init_creates_a_private_profile_and_guards_git() {
    let p = project(&[]);
    let out = sp(p.path(), &["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    let secrets = p.path().join(SECRETS);
    let text = std::fs::read_to_string(&secrets).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pepper = v["oauth_at_rest_pepper"].as_str().unwrap();
    assert!(
        pepper.len() == 64 && pepper.chars().all(|c| c.is_ascii_alphanumeric()),
        "64 letters and digits, as upstream makes the pepper"
    );
    assert!(v.get("jwt_secret").is_none(), "{text}");
    assert!(
        out.stderr.contains("the `oauth_at_rest_pepper` generation"),
        "{}",
        out.stderr
    );
    assert!(
        !out.all().contains(pepper),
        "the generated secret is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let ignore = std::fs::read_to_string(p.path().join(".systemprompt/.gitignore")).unwrap();
    assert!(ignore.contains("**/secrets.json"));
    assert!(std::fs::read_to_string(p.path().join(".gitignore"))
        .unwrap()
        .contains(".env"));

    let again = sp(p.path(), &["init"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(&secrets).unwrap(),
        text,
        "untouched without --force"
    );
    assert_eq!(sp(p.path(), &["init", "--force"]).code, 0);
    assert_ne!(
        std::fs::read_to_string(&secrets).unwrap(),
        text,
        "a fresh secret with --force"
    );
    let entries: Vec<_> = std::fs::read_dir(p.path().join(PROFILE_DIR))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1, "no temp files left behind");

    let validate = sp(p.path(), &["validate"]);
    assert_eq!(
        validate.code, 1,
        "a fresh profile still needs database_url and a provider"
    );
    assert!(
        !validate.stderr.contains("oauth_at_rest_pepper"),
        "{}",
        validate.stderr
    );
    assert_eq!(sp(p.path(), &["init", "--profile", "../evil"]).code, 2);

    // A workspace locked to systemprompt 0.10 gets the older layout.
    let old = project(&[(
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"systemprompt\"\nversion = \"0.10.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )]);
    let out = sp(old.path(), &["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("Cargo.lock has systemprompt 0.10.2"),
        "{}",
        out.stderr
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(old.path().join(SECRETS)).unwrap()).unwrap();
    assert_eq!(
        v["jwt_secret"].as_str().unwrap().len(),
        64,
        "48 bytes in base64"
    );
    assert!(v.get("oauth_at_rest_pepper").is_none());
}

#[test]
fn realistic_workspace_members_and_excluded_folders() {
    let ws = fixture("workspace");
    // From a member: workspace table + package override (stripe required), root profiles.
    let api = sp(&ws.join("crates/api"), &["validate", "-v"]);
    assert_eq!(api.code, 0, "{api:?}");
    assert!(
        api.stderr
            .contains("profile `dev` chosen by default-profile"),
        "{}",
        api.stderr
    );
    let prod = sp(&ws.join("crates/api"), &["validate", "--profile", "prod"]);
    assert_eq!(prod.code, 1);
    assert!(
        prod.stderr.contains("required key `stripe` is missing"),
        "{}",
        prod.stderr
    );
    // From the root, the package override does not apply.
    assert_eq!(sp(&ws, &["validate", "--profile", "prod"]).code, 0);
    // --manifest-path selects the member from anywhere.
    let via_path = sp(
        &repo(),
        &[
            "validate",
            "--profile",
            "prod",
            "--manifest-path",
            ws.join("crates/api/Cargo.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(via_path.code, 1, "{via_path:?}");
    // A member with its own .systemprompt folder uses the nearest one.
    let web = sp(&ws.join("crates/web"), &["profiles"]);
    assert_eq!(web.code, 0, "{web:?}");
    assert!(
        web.stdout.contains("web-local") && !web.stdout.contains("dev"),
        "{}",
        web.stdout
    );
    // An excluded package is its own workspace and finds the nearest profiles above it.
    let excluded = sp(
        &ws.join("tools/excluded"),
        &["validate", "--profile", "dev"],
    );
    // No AI provider is advice: systemprompt boots without one.
    assert_eq!(excluded.code, 0, "{excluded:?}");
    assert!(
        excluded.stderr.contains("warning[missing-ai-provider]"),
        "no workspace config applies: {}",
        excluded.stderr
    );
}

#[test]
fn completions_are_generated() {
    let out = sp(&repo(), &["completions", "bash"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("CARGO_SYSTEMPROMPT_SECRETS_COMPLETE")
            && out.stdout.contains("_cargo_systemprompt_secrets_cargo")
    );
}

#[test]
fn canary_never_reaches_output() {
    const CANARY: &str = "CANARY-7d1f0a9b3c";
    let secrets = format!(
        "{{\n\"jwt_secret\": \"{CANARY}\",\n\"database_url\": \"postgres://{CANARY}:{CANARY}@{CANARY}/{CANARY}\",\n\"anthropic\": \"sk-ant-{CANARY}\",\n\"openai\": \" {CANARY}\\n\",\n\"github\": \"{CANARY}...\",\n\"gemini\": \"{CANARY}\",\n\"custom_key\": \"{CANARY}\"\n}}\n"
    );
    let p = project(&[
        ("Cargo.toml", "[package]\nname = \"canary\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = \"local\"\n"),
        (SECRETS, &secrets),
        (".systemprompt/profiles/bad/secrets.json", &format!("{{\"a\": \"{CANARY}\", \"a\": \"{CANARY}\", \"B\": 1, \"c\": \"{CANARY}")),
        (".systemprompt/profiles/dup/secrets.json", &format!("{{\"a\": \"{CANARY}\", \"a\": \"{CANARY}\", \"B\": 1}}")),
        (".env", &format!("GEMINI_API_KEY={CANARY}-dotenv\nUNKNOWN_THING={CANARY}\n")),
        ("bad.env", &format!("JWT_SECRET={CANARY}\n{CANARY} {CANARY}\n")),
    ]);
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate"],
        vec!["validate", "-v"],
        vec!["validate", "-vv", "--strict"],
        vec!["validate", "--format", "json"],
        vec!["validate", "--format", "github"],
        vec!["validate", "--all-profiles"],
        vec!["validate", "--all-profiles", "--format", "json"],
        vec!["validate", "--all-profiles", "--format", "github"],
        vec!["validate", "--env-file", "bad.env"],
        vec!["validate", "--profile", "bad"],
        vec!["validate", "--profile", "dup", "--format", "json"],
        vec!["list"],
        vec!["list", "-v", "--format", "json"],
        vec!["list", "--profile", "bad"],
        vec!["get", "jwt_secret"],
        vec!["get", "gemini", "--format", "json"],
        vec!["get", "nothing"],
        vec!["get", "jwt_secret", "--profile", "dup"],
        vec!["explain", "openai"],
        vec!["explain", "CUSTOM_KEY", "--format", "json", "-v"],
        vec!["profiles"],
        vec!["profiles", "--format", "json"],
        vec!["init"],
        vec!["init", "--profile", "dup"],
        vec!["run", "-v", "--", "true"],
        vec!["run", "--", "false"],
        vec![
            "run",
            "--no-inherit-env",
            "--",
            "no-such-command-canary-test",
        ],
        vec!["run", "--profile", "bad", "--", "true"],
        vec!["status", "-v"],
        vec!["cache", "-v"],
        vec!["cache", "--status"],
        vec!["uncache"],
        vec!["login", "--token-stdin"],
        vec!["logout"],
        vec![
            "export",
            "--format",
            "dotenv",
            "-o",
            "exported.env",
            "--force",
        ],
        vec!["export", "--format", "json", "-o", "exported.env"],
        vec![
            "copy", "--from", "local", "--to", "copied", "--create", "-v",
        ],
        vec!["import", "bad.env"],
        vec!["edit"],
        vec!["rotate", "rotated_key", "--bytes", "24"],
    ];
    for args in &commands {
        for env in [None, Some(("OPENAI_API_KEY", format!("{CANARY}-env")))] {
            let mut c = cmd(p.path());
            c.env("RUST_LOG", "trace").args(args);
            if let Some((k, v)) = &env {
                c.env(k, v);
            }
            let out = run(c);
            assert!(
                !out.all().contains(CANARY),
                "{args:?} leaked the canary:\n{}",
                out.all()
            );
            assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        }
    }
    // The only exception: an explicit --reveal.
    let out = sp(p.path(), &["get", "custom_key", "--reveal"]);
    assert_eq!(out.stdout.trim(), CANARY);
}

#[test]
fn manifest_cache_follows_manifest_changes_and_holds_no_secrets() {
    let cache = tempfile::tempdir().unwrap();
    let manifest = |profile: &str| {
        format!("[package]\nname = \"cached\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = \"{profile}\"\n")
    };
    let p = project(&[
        ("Cargo.toml", &manifest("local")),
        (
            SECRETS,
            &GOOD.replace(
                "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
                "CANARY-cache-Zq3vN8pR1tY6wB0eK4mJ7hL2",
            ),
        ),
        (".systemprompt/profiles/other/secrets.json", "{}"),
    ]);
    let run_in = |args: &[&str]| {
        let mut c = cmd(p.path());
        c.env("SYSTEMPROMPT_SECRETS_CACHE_DIR", cache.path())
            .args(args);
        run(c)
    };
    assert_eq!(run_in(&["validate"]).code, 0);
    assert!(
        std::fs::read_dir(cache.path()).unwrap().count() > 0,
        "the first run fills the cache"
    );
    assert_eq!(run_in(&["validate"]).code, 0, "the second run reads it");
    // Any change to a manifest invalidates the entry at once.
    write(p.path(), "Cargo.toml", &manifest("other"));
    let out = run_in(&["validate"]);
    assert_eq!(out.code, 1, "the new default profile is used: {out:?}");
    assert!(out.stderr.contains("profile `other`"), "{}", out.stderr);
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains("CANARY"),
            "the cache holds manifest facts only"
        );
    }
}
