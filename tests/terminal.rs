//! Terminal injection (issue 24): untrusted text — key names, arguments, profile folders,
//! manifest values, paths, dotenv names, git file names, names and messages from both remote
//! stores — never reaches the terminal raw. Every case below plants a string with an escape
//! sequence, a C1 control, a bidi override, an isolate or a zero-width character, runs a command
//! in human format, and checks that neither stdout nor stderr holds any such character raw.

mod support;

use std::fmt::Write as _;
use std::path::Path;

use support::cloud_server::CloudServer;
use support::openbao::{bao_project, DevServer};
use support::{cmd, git, project, run, write, Out, GOOD};

const SECRETS: &str = ".systemprompt/profiles/local/secrets.json";

/// Strings that act on a terminal or hide what text says.
const HOSTILE: [&str; 6] = [
    "esc\u{1b}[31mRED\u{1b}[0m",
    "fake\u{202e}txt.exe",
    "zero\u{200b}width",
    "csi\u{9b}31m",
    "iso\u{2066}late\u{2069}",
    "bell\u{7}and\u{8}back",
];

/// A character that must never reach the terminal raw.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

fn assert_clean(case: &str, out: &Out) {
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some(c) = text.chars().find(|&c| hidden(c)) {
            panic!(
                "{case}: {stream} holds U+{:04X} raw: {text:?}",
                u32::from(c)
            );
        }
    }
    assert!(!out.all().contains("panicked"), "{case}: {out:?}");
}

fn tool(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = cmd(root);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

#[test]
fn no_untrusted_text_reaches_the_terminal_raw() {
    let mut cases = 0;
    let mut check = |case: String, out: Out| {
        assert_clean(&case, &out);
        cases += 1;
    };

    for h in HOSTILE {
        // A key name in secrets.json: validate's findings, list, explain, get, run.
        let doc = serde_json::json!({
            "jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ",
            "database_url": "postgres://app:pw@db:5432/app",
            h: "a-value-of-a-planted-key",
        });
        let p = project(&[(SECRETS, &doc.to_string())]);
        for args in [
            vec!["validate", "-v"],
            vec!["list"],
            vec!["explain", h],
            vec!["get", h],
            vec!["run", "--only", h, "--", "true"],
            vec!["--profile", h, "validate"],
            vec!["set", &format!("{h}=x"), "--local"],
            vec!["rotate", h, "--yes"],
            vec!["--env-file", h, "validate"],
        ] {
            let out = tool(p.path(), &args, &[]);
            check(format!("{args:?}"), out);
        }
        // A profile folder, a `.env` name, an imported name.
        let p = project(&[(SECRETS, GOOD)]);
        write(
            p.path(),
            &format!(".systemprompt/profiles/{h}/secrets.json"),
            GOOD,
        );
        write(
            p.path(),
            ".env",
            &format!(
                "{}=x\n",
                h.replace(['\u{1b}', '\u{7}', '\u{8}', '[', '.'], "_")
            ),
        );
        write(
            p.path(),
            "in.env",
            &format!(
                "OK=1\n{}=v\n",
                h.replace(['\u{1b}', '\u{7}', '\u{8}', '[', '.'], "_")
            ),
        );
        for args in [
            vec!["profiles"],
            vec!["validate", "--all-profiles", "-v"],
            vec!["doctor"],
            vec!["import", "in.env", "--all"],
        ] {
            let out = tool(p.path(), &args, &[]);
            check(format!("folder {h:?}: {args:?}"), out);
        }
        // Manifest values.
        let manifest = format!(
            "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata.systemprompt-secrets]\ndefault-profile = {}\nprofiles-dir = {}\n",
            toml_string(h),
            toml_string(h)
        );
        let p = project(&[("Cargo.toml", &manifest), (SECRETS, GOOD)]);
        let out = tool(p.path(), &["validate"], &[]);
        check(format!("manifest {h:?}"), out);
    }

    assert!(cases >= 30, "{cases} cases");
}

#[test]
fn no_remote_name_or_file_name_reaches_the_terminal_raw() {
    let mut cases = 0;
    let mut check = |case: String, out: Out| {
        assert_clean(&case, &out);
        cases += 1;
    };
    // A git-tracked file named to mislead, holding a value: `scan` names it.
    let p = project(&[(SECRETS, GOOD)]);
    git(p.path(), &["init", "-q"]);
    for h in HOSTILE {
        write(
            p.path(),
            &format!("docs/{h}"),
            "jwt = Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ\n",
        );
    }
    git(p.path(), &["add", "docs"]);
    check("scan".into(), tool(p.path(), &["scan"], &[]));

    // Names and messages from the cloud API.
    let server = CloudServer::start("tok-7f2c", &["t-1"]);
    let p = project(&[
        (SECRETS, GOOD),
        (
            ".systemprompt/profiles/local/profile.yaml",
            "cloud:\n  tenant_id: t-1\n",
        ),
    ]);
    let names: Vec<String> = HOSTILE.iter().map(|h| h.to_ascii_uppercase()).collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    server.set_remote("t-1", &pairs);
    let env = [
        ("SYSTEMPROMPT_API_TOKEN", "tok-7f2c"),
        ("SYSTEMPROMPT_API_URL", server.url.as_str()),
    ];
    for args in [
        vec!["diff"],
        vec!["list", "--remote"],
        vec!["cleanup", "--dry-run"],
    ] {
        check(format!("cloud {args:?}"), tool(p.path(), &args, &env));
    }

    // Names from OpenBao.
    let bao = DevServer::start();
    let p = bao_project(&[&bao.addr], "", GOOD);
    let mut put = vec!["kv", "put", "-mount=secret", "systemprompt/bao-demo/local"];
    let kv: Vec<String> = HOSTILE.iter().map(|h| format!("{h}=v")).collect();
    put.extend(kv.iter().map(String::as_str));
    assert!(bao.bao(&put).status.success());
    for args in [vec!["diff"], vec!["pull", "--dry-run"]] {
        check(
            format!("openbao {args:?}"),
            tool(
                p.path(),
                &args,
                &[("BAO_TOKEN", "root"), ("HOME", &p.path().to_string_lossy())],
            ),
        );
    }

    assert_eq!(cases, 6);
}

fn toml_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        if c.is_control() || c == '"' || c == '\\' {
            let _ = write!(out, "\\u{:04X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}
