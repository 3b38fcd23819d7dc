//! What a new team trips over (issue 26): each scenario as a new user ran into it, through the
//! binary. The remote scenarios (the cloud's list of custom names, a teammate's OpenBao change)
//! are in `tests/cloud.rs` and `tests/openbao.rs`.

mod support;

use support::{project, sp, write, GOOD};

const LOCAL: &str = ".systemprompt/profiles/local";

fn yaml_project() -> tempfile::TempDir {
    project(&[
        (&format!("{LOCAL}/secrets.json"), GOOD),
        (
            &format!("{LOCAL}/profile.yaml"),
            "name: local\nsecrets:\n  source: file\n  secrets_path: ./secrets.json\n",
        ),
    ])
}

#[test]
fn a_profile_the_tool_creates_is_one_it_sees() {
    let p = yaml_project();
    let out = sp(p.path(), &["init", "--profile", "production"]);
    assert_eq!(out.code, 0, "{out:?}");
    let yaml = p
        .path()
        .join(".systemprompt/profiles/production/profile.yaml");
    assert!(yaml.is_file(), "{}", out.stderr);
    assert!(out.stderr.contains("profile.yaml"), "{}", out.stderr);

    let out = sp(p.path(), &["profiles"]);
    assert!(out.stdout.contains("production"), "{out:?}");

    // A failing production profile fails the all-profiles gate.
    write(
        p.path(),
        ".systemprompt/profiles/production/secrets.json",
        "{\"jwt_secret\": \"short\"}\n",
    );
    let out = sp(p.path(), &["validate", "--all-profiles"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("production"),
        "{out:?}"
    );

    // copy --create too.
    let out = sp(
        p.path(),
        &[
            "copy", "--from", "local", "--to", "staging", "--create", "--yes",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = sp(p.path(), &["profiles"]);
    assert!(out.stdout.contains("staging"), "{out:?}");

    // Where no profile has a profile.yaml, every folder counts: none is written.
    let bare = project(&[(&format!("{LOCAL}/secrets.json"), GOOD)]);
    assert_eq!(sp(bare.path(), &["init", "--profile", "dev"]).code, 0);
    assert!(!bare
        .path()
        .join(".systemprompt/profiles/dev/profile.yaml")
        .exists());
    assert!(sp(bare.path(), &["profiles"]).stdout.contains("dev"));
}

#[test]
fn writers_say_when_a_higher_layer_shadows_what_they_wrote() {
    let p = project(&[(&format!("{LOCAL}/secrets.json"), GOOD)]);
    let out = sp(
        p.path(),
        &["export", "--format", "docker-env", "-o", ".env"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains(".env is a layer this tool reads, above secrets.json"),
        "{}",
        out.stderr
    );
    // Elsewhere, no warning.
    let out = sp(
        p.path(),
        &["export", "--format", "docker-env", "-o", "deploy.env"],
    );
    assert!(!out.stderr.contains("is a layer"), "{}", out.stderr);

    let out = sp(p.path(), &["rotate", "jwt_secret", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("`jwt_secret` was written to")
            && out
                .stderr
                .contains(".env:2 (JWT_SECRET) sets it too and wins"),
        "{}",
        out.stderr
    );

    // The environment shadows too.
    std::fs::remove_file(p.path().join(".env")).unwrap();
    let out = support::sp_env(
        p.path(),
        &["rotate", "jwt_secret", "--yes"],
        &[("JWT_SECRET", "from-the-environment-0123456789abcdef")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("the environment variable $JWT_SECRET sets it too and wins"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["rotate", "jwt_secret", "--yes"]);
    assert!(!out.stderr.contains("sets it too"), "{}", out.stderr);
}

/// The binary with `input` on stdin.
fn sp_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> support::Out {
    use std::io::Write as _;
    let mut c = support::cmd(dir);
    c.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    support::Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn a_value_goes_into_secrets_json_without_any_remote() {
    let with_null = GOOD.replace("\"jwt_secret\"", "\"github\": null,\n  \"jwt_secret\"");
    let p = project(&[(&format!("{LOCAL}/secrets.json"), &with_null)]);
    let file = || -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(p.path().join(LOCAL).join("secrets.json")).unwrap(),
        )
        .unwrap()
    };

    // set --local needs no tenant.
    let out = sp(p.path(), &["set", "MY_FLAG=on", "--local"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("has no remote"), "{}", out.stderr);
    assert_eq!(file()["my_flag"], "on");
    assert!(file()["github"].is_null(), "untouched nulls stay");
    // Without --local there is still nothing to push to: the error says so.
    assert_ne!(sp(p.path(), &["set", "OTHER=x"]).code, 0);

    // import - and import /dev/stdin read stdin.
    let out = sp_stdin(p.path(), &["import", "-"], "MY_API_KEY=from-stdin\n");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(file()["my_api_key"], "from-stdin");
    let out = sp_stdin(
        p.path(),
        &["import", "/dev/stdin", "--overwrite"],
        "MY_API_KEY=again\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(file()["my_api_key"], "again");
    assert!(file()["github"].is_null());

    // import --from-env says why nothing came, and names the skipped variables at -v.
    let out = support::sp_env(
        p.path(),
        &["import", "--from-env", "-v"],
        &[("SOME_SETTING", "x")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("nothing to import from the environment")
            && out.stderr.contains("do not look like the app's secrets")
            && out.stderr.contains("SOME_SETTING"),
        "{}",
        out.stderr
    );

    // The hint for a provider's key points to what works here.
    let out = sp(p.path(), &["rotate", "anthropic"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("set ANTHROPIC_API_KEY --local"),
        "{}",
        out.stderr
    );
}

#[test]
fn typos_get_a_did_you_mean_and_words_fit_the_project() {
    let secrets = GOOD.replace(
        "\"jwt_secret\"",
        "\"anthropic\": \"sk-ant-api03-short\",\n  \"jwt_secret\"",
    );
    let p = project(&[(&format!("{LOCAL}/secrets.json"), &secrets)]);
    for args in [
        &["get", "antropic"][..],
        &["explain", "antropic"],
        &["run", "--only", "antropic", "--", "true"],
    ] {
        let out = sp(p.path(), args);
        assert!(
            out.all().contains("did you mean `anthropic`?"),
            "{args:?}: {out:?}"
        );
    }
    let out = sp(p.path(), &["validate", "--profile", "lcoal"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("did you mean `local`?"),
        "{}",
        out.stderr
    );

    // `get jwt-secret` never suggests the invalid name JWT-SECRET.
    let out = sp(p.path(), &["get", "jwt-secre"]);
    assert!(!out.stderr.contains("JWT-SECRE"), "{}", out.stderr);

    // explain names the finding behind a warning status.
    let out = sp(p.path(), &["explain", "anthropic"]);
    assert!(out.stdout.contains("status: "), "{out:?}");
    let after = out.stdout.split("status: ").nth(1).unwrap_or_default();
    assert!(after.contains('['), "the finding is named: {}", out.stdout);

    // copy has the --dry-run its messages suggest.
    let out = sp(
        p.path(),
        &[
            "copy",
            "--from",
            "local",
            "--to",
            "other",
            "--create",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!p.path().join(".systemprompt/profiles/other").exists());

    // Next steps are shell-quoted for a profile name with a space.
    let out = sp(p.path(), &["init", "--profile", "my staging"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("validate --profile 'my staging'"),
        "{}",
        out.stderr
    );

    // A value read from KIMI_API_KEY is said to come from there.
    let pepper = project(&[(
        &format!("{LOCAL}/secrets.json"),
        "{\"oauth_at_rest_pepper\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQZq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5\", \"database_url\": \"postgres://a:b@h/db\"}",
    )]);
    let out = support::sp_env(
        pepper.path(),
        &["explain", "moonshot"],
        &[("KIMI_API_KEY", "sk-kimi-abc")],
    );
    assert!(
        out.stdout.contains("$KIMI_API_KEY: defined") && !out.stdout.contains("$MOONSHOT_API_KEY:"),
        "{}",
        out.stdout
    );
    // The invalid-JSON hint and init's help do not name the other generation's secret.
    write(
        pepper.path(),
        &format!("{LOCAL}/secrets.json"),
        "{\"oauth_at_rest_pepper\": ",
    );
    let out = sp(pepper.path(), &["validate"]);
    assert!(!out.stderr.contains("jwt_secret"), "{}", out.stderr);
    let out = sp(pepper.path(), &["init", "--help"]);
    assert!(!out.stdout.contains("fresh jwt_secret"), "{}", out.stdout);

    // The top-level help lists every exit code.
    let out = sp(p.path(), &["--help"]);
    assert!(out.stdout.contains("3 cancelled"), "{}", out.stdout);

    // The verbs only OpenBao answers offer no cloud flags.
    for verb in ["pull", "versions", "rollback"] {
        let out = sp(p.path(), &[verb, "--help"]);
        assert!(
            out.stdout.contains("--address") && !out.stdout.contains("--tenant"),
            "{verb}: {}",
            out.stdout
        );
        assert!(!out.stdout.contains("--api-url"), "{verb}: {}", out.stdout);
    }
    let out = sp(p.path(), &["sync", "--help"]);
    assert!(out.stdout.contains("--tenant"), "{}", out.stdout);
}

#[test]
fn ci_validates_a_profile_from_its_environment_alone() {
    // A CI checkout: the template ignores every profile, so there is none.
    let p = project(&[]);
    let out = sp(
        p.path(),
        &[
            "validate",
            "--env-only",
            "--strict",
            "--profile",
            "production",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.stderr.contains("missing-secrets-file")
            && out
                .stderr
                .contains("set the environment variable OAUTH_AT_REST_PEPPER")
            && out
                .stderr
                .contains("set the environment variable DATABASE_URL"),
        "{}",
        out.stderr
    );
    let env = [
        (
            "OAUTH_AT_REST_PEPPER",
            "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQZq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5",
        ),
        ("DATABASE_URL", "postgres://app:pw@db:5432/app"),
        (
            "OPENAI_API_KEY",
            "sk-proj-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
        ),
        (
            "MANIFEST_SIGNING_SECRET_SEED",
            "q83vEjkP0nVZ7pXlS5yR2mWcT9bA4uHd6fGiKoLe1Ns=",
        ),
        (
            "ENCRYPTION_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
    ];
    let out = support::sp_env(
        p.path(),
        &[
            "validate",
            "--env-only",
            "--strict",
            "--profile",
            "production",
        ],
        &env,
    );
    assert_eq!(out.code, 0, "{out:?}");

    // The pre-commit hooks this repository offers run as their entries say.
    let hooks: Vec<serde_json::Value> = serde_norway::from_str(
        &std::fs::read_to_string(support::repo().join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(hooks.len(), 2);
    let with_profile = project(&[(&format!("{LOCAL}/secrets.json"), GOOD)]);
    support::git(with_profile.path(), &["init", "-q"]);
    for hook in &hooks {
        assert_eq!(hook["language"], "rust", "{hook}");
        let entry = hook["entry"].as_str().unwrap();
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("cargo-systemprompt-secrets"));
        let args: Vec<&str> = words.collect();
        let out = sp(with_profile.path(), &args);
        assert_eq!(out.code, 0, "{entry}: {out:?}");
    }
}

#[test]
fn docker_env_is_for_docker_run_and_lists_custom_keys() {
    let secrets = GOOD.replace(
        "\"jwt_secret\"",
        "\"mailgun_key\": \"key-abc $HOME\",\n  \"stripe_key\": \"sk_test_plain\",\n  \"jwt_secret\"",
    );
    let p = project(&[(&format!("{LOCAL}/secrets.json"), &secrets)]);
    let out = sp(
        p.path(),
        &["export", "--format", "docker-env", "-o", "docker.env"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("Compose's env_file would read MAILGUN_KEY otherwise")
            && out.stderr.contains("--format dotenv"),
        "{}",
        out.stderr
    );
    let body = std::fs::read_to_string(p.path().join("docker.env")).unwrap();
    assert!(
        body.lines()
            .any(|l| l == "SYSTEMPROMPT_CUSTOM_SECRETS=MAILGUN_KEY,STRIPE_KEY"),
        "the app reads custom keys only through the list"
    );
    // Nothing Compose would change: no warning.
    let plain = project(&[(&format!("{LOCAL}/secrets.json"), GOOD)]);
    let out = sp(
        plain.path(),
        &["export", "--format", "docker-env", "-o", "docker.env"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("Compose"), "{}", out.stderr);
}

#[test]
fn a_provider_key_in_another_case_gets_one_statement_and_findings_come_in_line_order() {
    // `Anthropic` is a custom key to upstream (its typed field is `anthropic`): every message
    // says so, none calls it accepted.
    let secrets = "{\n  \"oauth_at_rest_pepper\": \"Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQZq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5\",\n  \"database_url\": \"postgres://a:b@localhost/db\",\n  \"zz_custom\": \"changeme\",\n  \"Anthropic\": \"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789\",\n  \"aa_custom\": \"changeme\"\n}\n";
    let p = project(&[(&format!("{LOCAL}/secrets.json"), secrets)]);
    let out = sp(p.path(), &["validate"]);
    assert!(!out.stderr.contains("accepts it"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`Anthropic` is not `anthropic`: systemprompt reads it as a custom key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("(`Anthropic` is a custom key to systemprompt, not `anthropic`)"),
        "{}",
        out.stderr
    );
    let out = sp(p.path(), &["explain", "anthropic"]);
    assert!(
        out.stdout.contains("systemprompt reads it as a custom key"),
        "{}",
        out.stdout
    );
    // A custom key in upper case is still simply not snake_case.
    let upper = secrets.replace("\"aa_custom\"", "\"AA_CUSTOM\"");
    write(p.path(), &format!("{LOCAL}/secrets.json"), &upper);
    let out = sp(p.path(), &["validate"]);
    assert!(
        out.stderr.contains("key `AA_CUSTOM` is not snake_case"),
        "{}",
        out.stderr
    );

    // Line order: zz_custom (line 4), Anthropic (line 5), AA_CUSTOM (line 6), not by name.
    let at = |needle: &str| {
        out.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {}", out.stderr))
    };
    let lines: Vec<usize> = ["secrets.json:4", "secrets.json:5", "secrets.json:6"]
        .iter()
        .map(|n| at(n))
        .collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{}", out.stderr);
    // Findings about the profile as a whole (the missing provider) come before them.
    assert!(at("missing-ai-provider") < lines[0], "{}", out.stderr);
}
