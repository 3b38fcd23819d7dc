//! `secrets_file::parse`: the strict `secrets.json` reader.
//!
//! Invariants: no panic; every line and (1-based, character) column points inside the input;
//! an accepted file has distinct snake_case keys, one entry per top-level key, lines in order,
//! and survives `render` → `parse` unchanged; an error never shows a value (a value holding 🔑
//! may only show up when a top-level key holds it too).
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use systemprompt_secrets::secrets_file::{parse, render};
use systemprompt_secrets::{keys, ExposeSecret};

const MARKER: char = '\u{1F511}';

fuzz_target!(|data: &[u8]| {
    let path = Path::new("secrets.json");
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let line_count = body.iter().filter(|b| **b == b'\n').count() + 1;
    match parse(path, data) {
        Ok(file) => {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(body).expect("accepted input is a JSON object");
            assert_eq!(
                file.entries.len(),
                object.len(),
                "one entry per top-level key"
            );
            let mut seen = HashSet::new();
            let mut previous = 1;
            for entry in &file.entries {
                assert!(seen.insert(entry.key.as_str()), "duplicate key accepted");
                assert!(keys::is_snake_case(&entry.key));
                assert!(
                    (previous..=line_count).contains(&entry.line),
                    "line out of order or range"
                );
                previous = entry.line;
                if let Some(v) = &entry.value {
                    assert!(!v.expose_secret().trim().is_empty(), "blank value kept");
                }
            }
            let pairs: Vec<_> = file
                .entries
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect();
            let text = render(&pairs);
            let back = parse(path, text.expose_secret().as_bytes()).expect("rendered file parses");
            assert_eq!(back.entries.len(), file.entries.len());
            for (a, b) in file.entries.iter().zip(&back.entries) {
                assert_eq!(a.key, b.key);
                assert_eq!(
                    a.value.as_ref().map(ExposeSecret::expose_secret),
                    b.value.as_ref().map(ExposeSecret::expose_secret)
                );
            }
        }
        Err(e) => {
            assert!(!e.problems.is_empty());
            let text = String::from_utf8_lossy(body);
            for p in &e.problems {
                if let Some(line) = p.line {
                    assert!(
                        (1..=line_count).contains(&line),
                        "line {line} of {line_count}"
                    );
                    if let Some(column) = p.column {
                        let width = text
                            .split('\n')
                            .nth(line - 1)
                            .map_or(0, |l| l.chars().count());
                        assert!(
                            (1..=width + 1).contains(&column),
                            "column {column} of {width}"
                        );
                    }
                }
                assert!(p.line.is_some() || p.column.is_none());
            }
            let shown = format!("{e}\n{e:?}");
            if shown.contains(MARKER) {
                let keys = top_level_keys(body).expect("only key problems name text from the file");
                assert!(
                    keys.iter().any(|k| k.contains(MARKER)),
                    "an error shows text that is not a key: {shown}"
                );
            }
        }
    }
});

/// The top-level keys of a JSON object, values skipped as the reader skips them (serde_json's
/// `IgnoredAny` does not range-check numbers, so a strict `Value` cannot be the oracle here).
fn top_level_keys(body: &[u8]) -> Option<Vec<String>> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Keys>(body).ok().map(|k| k.0)
}
