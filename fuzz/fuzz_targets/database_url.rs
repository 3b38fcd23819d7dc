//! The `database_url` rule, through `validate::validate_value`.
//!
//! Invariants: no panic; every finding has a location; a query after the database path does not
//! change the findings; no finding shows the user-info or anything after the scheme (checked by
//! planting a marker before the last `@`, or after `://`).
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use systemprompt_secrets::source::Source;
use systemprompt_secrets::validate::validate_value;

const MARKER: &str = "Zq9CANARYzq";

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let sources = [
        Source::SecretsFile {
            path: PathBuf::from("secrets.json"),
            line: Some(3),
        },
        Source::Env {
            var: "DATABASE_URL".to_owned(),
        },
    ];
    for source in &sources {
        for f in validate_value("database_url", &value, source, None) {
            assert!(f.location.is_some());
            assert!(!f.code.is_empty() && !f.message.is_empty() && !f.hint.is_empty());
        }
    }
    // Once a path has started, an `@` in a query is data: it says nothing about the user-info.
    let codes = |v: &str| -> Vec<String> {
        validate_value("database_url", v, &sources[1], None)
            .into_iter()
            .map(|f| f.code)
            .collect()
    };
    let has_path = value
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains('/'));
    if has_path
        && !value.contains(['?', '#'])
        && !value.contains(char::is_whitespace)
        && !value.contains(char::is_control)
    {
        let plain = codes(&value);
        if !plain.iter().any(|c| c == "placeholder-value") {
            let with_query = format!("{value}?application_name=a@b");
            assert_eq!(plain, codes(&with_query), "a query changes the findings");
        }
    }
    // Plant the marker where a password would be and check it never comes back.
    let Some(after_scheme) = value.find("://").map(|i| i + 3) else {
        return;
    };
    let at = value[after_scheme..]
        .rfind('@')
        .map_or(after_scheme, |i| after_scheme + i);
    let planted = format!("{}{MARKER}{}", &value[..at], &value[at..]);
    for source in &sources {
        for f in validate_value("database_url", &planted, source, None) {
            let shown = format!("{f:?} {} {}", f.message, f.hint);
            assert!(
                !shown.contains(MARKER),
                "a finding shows the value: {shown}"
            );
        }
    }
});
