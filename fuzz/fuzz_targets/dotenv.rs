//! `dotenv::parse`: the `.env` layer (dotenvy's iterator plus our line finding).
//!
//! Invariants: no panic; every entry has a line, inside the input, that names it; a syntax error
//! names the first bad entry (the lines before it parse, the lines up to it do not); a final
//! newline changes nothing; an error names a line, never the line's text (nothing holding 🔑
//! from the input shows up).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use systemprompt_secrets::dotenv::{parse, DotEnvEntry, DotEnvError};
use systemprompt_secrets::ExposeSecret;

const MARKER: char = '\u{1F511}';

/// The first `n` lines of `text`, each with its newline.
fn first_lines(text: &str, n: usize) -> &str {
    let end = text
        .match_indices('\n')
        .nth(n.wrapping_sub(1))
        .map_or(text.len(), |(i, _)| i + 1);
    if n == 0 {
        ""
    } else {
        &text[..end]
    }
}

fn summary(r: &Result<Vec<DotEnvEntry>, DotEnvError>) -> Result<Vec<(String, String)>, usize> {
    match r {
        Ok(entries) => Ok(entries
            .iter()
            .map(|e| (e.var.clone(), e.value.expose_secret().to_owned()))
            .collect()),
        Err(DotEnvError::Syntax { line, .. }) => Err(*line),
        Err(_) => Err(0),
    }
}

fuzz_target!(|data: &[u8]| {
    // `read` refuses bad UTF-8 before parsing; the lossy text still reaches the parser.
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let path = Path::new(".env");
    let line_count = text.matches('\n').count() + 1;
    let result = parse(path, text);
    match &result {
        Ok(entries) => {
            for e in entries {
                assert!(!e.var.is_empty());
                let line = e.line.expect("a parsed entry has a line");
                assert!(
                    (1..=line_count).contains(&line),
                    "line {line} of {line_count}"
                );
                let shown = text.split('\n').nth(line - 1).unwrap_or_default();
                assert!(shown.contains(&e.var), "{} is not on line {line}", e.var);
            }
        }
        Err(err) => {
            if let DotEnvError::Syntax { line, .. } = err {
                let line = *line;
                assert!(
                    (1..=line_count).contains(&line),
                    "line {line} of {line_count}"
                );
                assert!(
                    parse(path, first_lines(text, line - 1)).is_ok(),
                    "the lines before line {line} do not parse"
                );
                assert!(
                    parse(path, first_lines(text, line)).is_err(),
                    "the lines up to line {line} parse"
                );
            }
            let shown = format!("{err}\n{err:?}");
            assert!(
                !shown.contains(MARKER),
                "the error quotes the file: {shown}"
            );
        }
    }
    if !text.ends_with('\n') {
        let with_newline = format!("{text}\n");
        assert_eq!(
            summary(&result),
            summary(&parse(path, &with_newline)),
            "a final newline changes the result"
        );
    }
});
