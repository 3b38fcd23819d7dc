//! Text that came from a server, made safe to show. A server may echo a request back (a 400 that
//! quotes the body), so before any of its words reach the terminal, a log or JSON, every secret
//! value and token this run knows is replaced by `***`, line breaks and control characters become
//! spaces (a message cannot start a `::error` line of its own), and the length is bounded.

use std::sync::Mutex;

use aho_corasick::{AhoCorasick, MatchKind};
use secrecy::{ExposeSecret, SecretString};

/// The most characters of a server's message that are shown.
pub const MAX_SHOWN: usize = 300;
/// The most bytes of a server's message that are looked at.
const MAX_READ: usize = 64 * 1024;
/// Shorter values are not searched for: they would blank out ordinary words.
const MIN_NEEDLE: usize = 4;

/// The scrubber of this run: the loaded profiles' values, the values sent and read, the tokens.
#[must_use]
pub fn global() -> &'static Scrubber {
    static GLOBAL: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(Scrubber::default);
    &GLOBAL
}

/// A serde message about a server's answer without the text it quotes (`invalid type: string
/// "…"` could hold a value); field names in backticks stay.
#[must_use]
pub fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut in_quote = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
                out.push_str("…\"");
            }
            continue;
        }
        if c == '"' {
            in_quote = true;
        }
        out.push(c);
    }
    global().clean(&out)
}

/// What this run knows must never be shown: the values it sends and the tokens it holds.
#[derive(Default)]
pub struct Scrubber {
    known: Mutex<Vec<SecretString>>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber").finish_non_exhaustive()
    }
}

impl Scrubber {
    /// Remembers a value or token.
    pub fn know(&self, value: &SecretString) {
        if value.expose_secret().len() >= MIN_NEEDLE {
            self.known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(value.clone());
        }
    }

    /// Remembers several.
    pub fn know_all<'a>(&self, values: impl IntoIterator<Item = &'a SecretString>) {
        for v in values {
            self.know(v);
        }
    }

    /// `text` with every known value replaced by `***` (nothing else changed).
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.is_empty() {
            return text.to_owned();
        }
        match AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(known.iter().map(ExposeSecret::expose_secret))
        {
            Ok(ac) => ac.replace_all(text, &vec!["***"; known.len()]),
            Err(_) => {
                "(a message that cannot be checked for secret values is not shown)".to_owned()
            }
        }
    }

    /// `text` with every known value replaced by `***`, control characters as spaces, and at
    /// most [`MAX_SHOWN`] characters.
    #[must_use]
    pub fn clean(&self, text: &str) -> String {
        let mut end = text.len().min(MAX_READ);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let replaced = self.redact(&text[..end]);
        let flat: String = replaced
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let flat = flat.trim();
        if flat.chars().count() > MAX_SHOWN {
            let cut: String = flat.chars().take(MAX_SHOWN).collect();
            format!("{cut}…")
        } else {
            flat.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_what_they_quote() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct K {
            keys: Vec<String>,
        }
        let e = serde_json::from_str::<Vec<String>>("\"CANARY secret\"").unwrap_err();
        let m = serde_message(&e);
        assert!(
            !m.contains("CANARY") && m.contains("invalid type: string \"…\""),
            "{m}"
        );
        let e = serde_json::from_str::<K>("{}").unwrap_err();
        assert!(serde_message(&e).contains("missing field `keys`"));
    }

    #[test]
    fn values_tokens_breaks_and_length() {
        let s = Scrubber::default();
        s.know(&SecretString::from("CANARY-value-1"));
        s.know(&SecretString::from("tok-CANARY"));
        s.know(&SecretString::from("ab"));
        let echoed = "bad request: {\"secrets\": {\"A\": \"CANARY-value-1\"}} with tok-CANARY\n::error::x ab";
        let clean = s.clean(echoed);
        assert_eq!(
            clean,
            "bad request: {\"secrets\": {\"A\": \"***\"}} with *** ::error::x ab"
        );
        let long = "x".repeat(5000);
        let clean = s.clean(&long);
        assert_eq!(clean.chars().count(), MAX_SHOWN + 1);
        assert!(clean.ends_with('…'));
        let huge = format!("{}CANARY-value-1", "y".repeat(MAX_READ + 10));
        assert!(!s.clean(&huge).contains("CANARY"));
    }
}
