//! `run -- CMD`: secrets in the child's environment, exit codes, `--only`, `--no-inherit-env`,
//! validation first, missing commands, and signals reaching the command.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{cmd, project, run, write, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

fn sp_run(p: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> support::Out {
    let mut c = cmd(p.path());
    c.arg("run").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

#[test]
fn injects_env_style_names_env_wins_and_exit_code_passes_through() {
    let p = project(&[(SECRETS, GOOD)]);
    let out = sp_run(
        &p,
        &[
            "-v",
            "--",
            "sh",
            "-c",
            "echo \"jwt=$JWT_SECRET db=$DATABASE_URL\"; exit 7",
        ],
        &[],
    );
    assert_eq!(out.code, 7, "{out:?}");
    assert!(
        out.stdout
            .contains("jwt=Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ db=postgres://app:pw@db:5432/app"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("running with 3 secrets") && out.stderr.contains("OPENAI_API_KEY"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ"),
        "our own output never shows a value: {}",
        out.stderr
    );

    let out = sp_run(
        &p,
        &["--", "sh", "-c", "echo $JWT_SECRET"],
        &[("JWT_SECRET", "from-the-environment-0123456789abcdef")],
    );
    assert_eq!(
        out.stdout.trim(),
        "from-the-environment-0123456789abcdef",
        "env wins over the file"
    );
    assert_eq!(sp_run(&p, &["--", "true"], &[]).code, 0);
}

#[test]
fn only_and_no_inherit_env() {
    let p = project(&[(SECRETS, GOOD)]);
    let out = sp_run(
        &p,
        &[
            "--only",
            "jwt_secret,DATABASE_URL",
            "--",
            "sh",
            "-c",
            "echo ${OPENAI_API_KEY:-none} ${JWT_SECRET:+jwt} ${DATABASE_URL:+db}",
        ],
        &[],
    );
    assert_eq!(out.stdout.trim(), "none jwt db", "{out:?}");
    let out = sp_run(&p, &["--only", "anthropic", "--", "true"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("`anthropic`, which is not set"),
        "{}",
        out.stderr
    );

    let out = sp_run(
        &p,
        &["--no-inherit-env", "--", "env"],
        &[("PARENT_ONLY", "1")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let names: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["DATABASE_URL", "JWT_SECRET", "OPENAI_API_KEY"],
        "no custom key, so no SYSTEMPROMPT_CUSTOM_SECRETS: {}",
        out.stdout
    );
    // A custom key comes with the list deploy sets, by which the app finds it.
    write(
        p.path(),
        SECRETS,
        &support::GOOD.replacen('{', "{\n  \"stripe_key\": \"sk_test_abcdefghijklmnop\",", 1),
    );
    let out = sp_run(&p, &["--no-inherit-env", "--", "env"], &[]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "SYSTEMPROMPT_CUSTOM_SECRETS=STRIPE_KEY"),
        "{}",
        out.stdout
    );
    let out = sp_run(
        &p,
        &["--", "sh", "-c", "echo ${PARENT_ONLY:-no}"],
        &[("PARENT_ONLY", "yes")],
    );
    assert_eq!(out.stdout.trim(), "yes", "inherited by default");
}

#[test]
fn validation_first_and_missing_commands() {
    let p = project(&[(SECRETS, "{\"jwt_secret\": \"short\"}")]);
    let marker = p.path().join("ran");
    let script = format!("touch {}", marker.display());
    let out = sp_run(&p, &["--", "sh", "-c", &script], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("jwt-secret-too-short") && out.stderr.contains("was not run"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists());
    let out = sp_run(&p, &["--no-validate", "--", "sh", "-c", &script], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(marker.exists());

    let good = project(&[(SECRETS, GOOD)]);
    let out = sp_run(&good, &["--", "definitely-not-a-command-xyz"], &[]);
    assert_eq!(out.code, 127, "{out:?}");
    assert!(
        out.stderr
            .contains("command not found: `definitely-not-a-command-xyz`"),
        "{}",
        out.stderr
    );
    let out = sp_run(
        &good,
        &["--no-inherit-env", "--", "definitely-not-a-command-xyz"],
        &[],
    );
    assert_eq!(out.code, 127, "{out:?}");

    // An environment the kernel refuses (one variable over 128 KiB) gets a clear error.
    let big = GOOD.replace(
        "\"database_url\"",
        &format!(
            "\"huge_blob\": \"{}\",\n  \"database_url\"",
            "x".repeat(140 * 1024)
        ),
    );
    let huge = project(&[(SECRETS, &big)]);
    let out = sp_run(&huge, &["--no-validate", "--", "true"], &[]);
    assert_eq!(out.code, 126, "{out:?}");
    assert!(
        out.stderr.contains("larger than the system accepts") && out.stderr.contains("--only"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("xxxxxxxx"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn sigterm_reaches_the_command() {
    let p = project(&[(SECRETS, GOOD)]);
    let mut c = cmd(p.path());
    c.args([
        "run",
        "--",
        "sh",
        "-c",
        "trap 'echo got-TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(lines.next().unwrap().unwrap(), "got-TERM");
    assert_eq!(
        child.wait().unwrap().code(),
        Some(42),
        "the command's own exit code"
    );
}

/// Two keys that become one environment name (`anthropic` and `anthropic_api_key`): a validation
/// error naming both lines, and every verb gives the name the same (canonical) value.
#[test]
fn two_keys_of_one_env_name_are_an_error_and_resolve_alike_everywhere() {
    let secrets = GOOD.replacen(
        '{',
        "{\n  \"anthropic\": \"sk-ant-api03-CANONICAL\",\n  \"anthropic_api_key\": \"sk-ant-api03-OTHER\",",
        1,
    );
    let p = project(&[(SECRETS, &secrets)]);
    let mut c = cmd(p.path());
    c.arg("validate");
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("shared-env-name")
            && out.stderr.contains("secrets.json:3) and `anthropic` (")
            && out
                .stderr
                .contains("secrets.json:2) both become ANTHROPIC_API_KEY"),
        "{}",
        out.stderr
    );
    let out = sp_run(
        &p,
        &[
            "--no-validate",
            "--",
            "sh",
            "-c",
            "printf %s \"$ANTHROPIC_API_KEY\"",
        ],
        &[],
    );
    assert_eq!(out.stdout, "sk-ant-api03-CANONICAL", "{out:?}");
    let out = sp_run(
        &p,
        &[
            "--no-validate",
            "--only",
            "anthropic_api_key",
            "--",
            "sh",
            "-c",
            "printf %s \"$ANTHROPIC_API_KEY\"",
        ],
        &[],
    );
    assert_eq!(out.stdout, "sk-ant-api03-CANONICAL", "{out:?}");
    let mut c = cmd(p.path());
    c.args(["export", "--format", "dotenv", "-o", "out.env"]);
    assert_eq!(run(c).code, 0);
    let text = std::fs::read_to_string(p.path().join("out.env")).unwrap();
    assert_eq!(text.matches("ANTHROPIC_API_KEY=").count(), 1, "{text}");
    assert!(text.contains("ANTHROPIC_API_KEY='sk-ant-api03-CANONICAL'"));

    // import of a file holding both spellings of one key: refused, both lines named.
    support::write(
        p.path(),
        "both.env",
        "GITHUB_TOKEN=ghp_one\nOTHER=x\nGITHUB=ghp_two\n",
    );
    let before = std::fs::read_to_string(p.path().join(SECRETS)).unwrap();
    let mut c = cmd(p.path());
    c.args(["import", "both.env", "--all"]);
    let out = run(c);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "GITHUB_TOKEN (line 1) and GITHUB (line 3) in both.env both name the key `github`"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join(SECRETS)).unwrap(),
        before
    );
}

/// A NUL, a tab, a zero-width space, a BOM or a bidirectional control in a value is flagged,
/// naming the key; `run --no-validate` refuses a NUL by key instead of failing in exec.
#[test]
fn invisible_characters_are_flagged_by_key() {
    for (raw, words) in [
        ("a\\u0000b", "contains a NUL byte"),
        ("a\\tb", "contains a tab"),
        ("a\\u200bb", "zero-width space (U+200B)"),
        ("\\ufeffab", "byte-order mark (U+FEFF)"),
        ("ab\\u202e", "bidirectional control character (U+202E)"),
    ] {
        let secrets = GOOD.replacen('{', &format!("{{\n  \"mailgun_key\": \"{raw}\","), 1);
        let p = project(&[(SECRETS, &secrets)]);
        let mut c = cmd(p.path());
        c.arg("validate");
        let out = run(c);
        assert_eq!(out.code, 1, "{raw}: {out:?}");
        assert!(
            out.stderr.contains("invisible-character") && out.stderr.contains(words),
            "{raw}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("`mailgun_key`"), "{}", out.stderr);
        if raw.contains("0000") {
            let out = sp_run(&p, &["--no-validate", "--", "true"], &[]);
            assert_eq!(out.code, 1, "{out:?}");
            assert!(
                out.stderr
                    .contains("the value of `mailgun_key` holds a NUL byte"),
                "{}",
                out.stderr
            );
        }
    }
}

#[test]
fn the_tools_own_credentials_stay_with_the_tool() {
    const API: &str = "sp-api-CANARY-4d1e";
    const BAO: &str = "hvs.CANARY-bao-77aa";
    const VAULT: &str = "hvs.CANARY-vault-93bc";
    let creds = [
        ("SYSTEMPROMPT_API_TOKEN", API),
        ("BAO_TOKEN", BAO),
        ("VAULT_TOKEN", VAULT),
        ("UNRELATED", "stays"),
    ];
    let shown = "echo \"api=${SYSTEMPROMPT_API_TOKEN:-none} bao=${BAO_TOKEN:-none} vault=${VAULT_TOKEN:-none} other=$UNRELATED\"";
    let p = project(&[(SECRETS, GOOD)]);
    let out = sp_run(&p, &["-v", "--", "sh", "-c", shown], &creds);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        "api=none bao=none vault=none other=stays"
    );
    assert!(
        out.stderr.contains(
            "not passed on: SYSTEMPROMPT_API_TOKEN, BAO_TOKEN, VAULT_TOKEN (this tool's own credentials"
        ),
        "{}",
        out.stderr
    );
    // Asked for by name.
    let out = sp_run(
        &p,
        &["--keep-env", "BAO_TOKEN", "--", "sh", "-c", shown],
        &creds,
    );
    assert_eq!(
        out.stdout.trim(),
        format!("api=none bao={BAO} vault=none other=stays")
    );
    // A profile that boots from Vault reads the variable its `auth` names (here the default,
    // VAULT_TOKEN): the app gets that one, and no other.
    write(
        p.path(),
        ".systemprompt/profiles/local/profile.yaml",
        "secrets:\n  source: vault\n  vault:\n    address: http://127.0.0.1:1\n    path: app\n    auth:\n      method: token\n",
    );
    let out = sp_run(&p, &["--no-validate", "--", "sh", "-c", shown], &creds);
    assert_eq!(
        out.stdout.trim(),
        format!("api=none bao=none vault={VAULT} other=stays"),
        "{out:?}"
    );
}
