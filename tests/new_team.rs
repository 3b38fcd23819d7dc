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
