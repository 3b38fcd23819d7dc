//! Text that came from a server, made safe to show. A server may echo a request back (a 400 that
//! quotes the body), so before any of its words reach the terminal, a log or JSON, every secret
//! value and token this run knows is replaced by `***`, line breaks and control characters become
//! spaces (a message cannot start a `::error` line of its own), and the length is bounded.

use std::sync::Mutex;

use aho_corasick::{AhoCorasick, MatchKind};
use secrecy::{ExposeSecret, SecretString};

/// The most characters of a server's message that are shown.
pub const MAX_SHOWN: usize = 300;
/// The most bytes of a server's message that are looked at: it is cut to this before it is
/// scrubbed, so that scrubbing takes the same time whatever the server sends.
const MAX_READ: usize = 16 * 1024;
/// Shorter values are not searched for: they would blank out ordinary words.
const MIN_NEEDLE: usize = 4;
/// A form of a value up to this long is searched for whole; a longer one by chunks.
const WHOLE_UP_TO: usize = 256;
/// The length of a chunk of a long form.
const CHUNK: usize = 32;
/// The most chunks taken from one long form: a form of many MiB is sampled, so that the search
/// is built in time and memory bounded per value.
const MAX_CHUNKS: usize = 2048;

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
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    known: Known,
    /// Built from `known` when first needed after a change.
    matcher: Option<std::sync::Arc<Matcher>>,
}

/// The values known, end to end in one buffer (one copy for thousands of values, not one
/// allocation each), zeroized when dropped or outgrown.
#[derive(Default)]
struct Known {
    bytes: secrecy::zeroize::Zeroizing<Vec<u8>>,
    /// Where each value ends in `bytes`.
    ends: Vec<usize>,
}

impl Known {
    fn add<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        for v in values.into_iter().filter(|v| v.len() >= MIN_NEEDLE) {
            crate::zeroized::append(&mut self.bytes, v.as_bytes());
            self.ends.push(self.bytes.len());
        }
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Each value (each was added whole, as text).
    fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .filter_map(|(start, &end)| std::str::from_utf8(&self.bytes[start..end]).ok())
    }
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber").finish_non_exhaustive()
    }
}

impl Scrubber {
    /// Remembers a value or token.
    pub fn know(&self, value: &SecretString) {
        self.know_all([value]);
    }

    /// Remembers several (under one lock, in one copy).
    pub fn know_all<'a>(&self, values: impl IntoIterator<Item = &'a SecretString>) {
        let mut state = self.lock();
        let before = state.known.len();
        state
            .known
            .add(values.into_iter().map(ExposeSecret::expose_secret));
        if state.known.len() != before {
            state.matcher = None;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn matcher(&self) -> Option<std::sync::Arc<Matcher>> {
        let mut state = self.lock();
        if state.known.is_empty() {
            return None;
        }
        if state.matcher.is_none() {
            state.matcher = Some(std::sync::Arc::new(Matcher::new(state.known.iter())));
        }
        state.matcher.clone()
    }

    /// `text` with every known value replaced by `***`, in each form a server may echo it: as
    /// it is, JSON-escaped, percent- or form-encoded, in base64 (standard or URL-safe, at any
    /// alignment), and in any ASCII case. One Aho-Corasick pass: linear in `text`.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        match self.matcher() {
            Some(m) => m.redact(text),
            None => text.to_owned(),
        }
    }

    /// `text` cut to a bound, then with every known value replaced by `***`, control characters
    /// as spaces, and at most [`MAX_SHOWN`] characters.
    #[must_use]
    pub fn clean(&self, text: &str) -> String {
        let mut end = text.len().min(MAX_READ);
        if end < text.len() {
            // A value cut in two by the bound shows only its start, which no search finds
            // whole: the end of the cut text is dropped too.
            end = end.saturating_sub(WHOLE_UP_TO);
        }
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let replaced = self.redact(&text[..end]);
        let flat: String = replaced
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let flat = flat.trim();
        if flat.chars().count() > MAX_SHOWN || end < text.len() {
            let cut: String = flat.chars().take(MAX_SHOWN).collect();
            format!("{cut}…")
        } else {
            flat.to_owned()
        }
    }
}

/// The search for every form of every known value.
struct Matcher {
    ac: Option<AhoCorasick>,
    /// For each pattern, how far around a match is blanked too: 0 for a whole form, the
    /// sampling stride plus a chunk for a chunk of a long form (the part of the value that lies
    /// between two sampled chunks).
    widen: Vec<usize>,
}

impl Matcher {
    fn new<'a>(known: impl Iterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut widen = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for value in known {
            for form in forms(value) {
                let form = form.as_bytes();
                if form.len() < MIN_NEEDLE {
                    continue;
                }
                if form.len() <= WHOLE_UP_TO {
                    if seen.insert(form.to_vec()) {
                        patterns.push(form.to_vec());
                        widen.push(0);
                    }
                    continue;
                }
                let stride = CHUNK.max(form.len().div_ceil(MAX_CHUNKS));
                for start in (0..=form.len() - CHUNK).step_by(stride) {
                    let chunk = &form[start..start + CHUNK];
                    if seen.insert(chunk.to_vec()) {
                        patterns.push(chunk.to_vec());
                        widen.push(stride + CHUNK);
                    }
                }
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok();
        Matcher { ac, widen }
    }

    fn redact(&self, text: &str) -> String {
        let Some(ac) = &self.ac else {
            return "(a message that cannot be checked for secret values is not shown)".to_owned();
        };
        // Blanked ranges, in order and merged.
        let mut blank: Vec<(usize, usize)> = Vec::new();
        for m in ac.find_iter(text) {
            let w = self.widen[m.pattern().as_usize()];
            let (mut start, mut end) = (m.start().saturating_sub(w), (m.end() + w).min(text.len()));
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            while !text.is_char_boundary(end) {
                end += 1;
            }
            match blank.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => blank.push((start, end)),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in blank {
            out.push_str(&text[at..start]);
            out.push_str("***");
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// The forms in which a server may echo `value`: as it is, JSON-escaped, percent-encoded (every
/// byte but letters and digits, or RFC 3986's unreserved kept), form-encoded, and base64
/// (standard and URL-safe) at each of the three alignments it can have inside a longer base64
/// text. Case is handled by the search.
fn forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let mut out = vec![value.to_owned()];
    if let Ok(json) = serde_json::to_string(value) {
        out.push(json[1..json.len() - 1].to_owned());
    }
    out.push(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
    out.push(utf8_percent_encode(value, UNRESERVED).to_string());
    out.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ] {
        for shift in 0..3usize {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            // Only the characters that depend on the value alone: not the first group when it
            // holds a shifted-in byte, nor a last group that is partial.
            let skip = if shift == 0 { 0 } else { 4 };
            let keep = if bytes.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len().saturating_sub(4)
            };
            // Fewer than 8 characters would blank out ordinary words.
            if keep >= skip + 8 {
                out.push(encoded[skip..keep].to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
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

    #[test]
    fn values_known_in_many_batches_are_all_blanked() {
        let s = Scrubber::default();
        let batches: Vec<Vec<SecretString>> = (0..5)
            .map(|b| {
                (0..(1 << (2 * b)))
                    .map(|i| SecretString::from(format!("CANARY-{b}-{i:04}-value")))
                    .collect()
            })
            .collect();
        for batch in &batches {
            s.know_all(batch);
        }
        s.know(&SecretString::from("abc")); // too short to search for
        let echoed: Vec<String> = (0..5)
            .map(|b| format!("CANARY-{b}-{:04}-value", (1 << (2 * b)) - 1))
            .collect();
        let clean = s.clean(&format!("{} abc", echoed.join(" ")));
        assert_eq!(clean, "*** *** *** *** *** abc");
    }

    #[test]
    fn every_encoding_a_server_may_echo_is_blanked() {
        use base64::Engine as _;
        let s = Scrubber::default();
        let value = "pa$$ word/with+\"quotes\"&more-CANARY";
        s.know(&SecretString::from(value));
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        let b64_shifted = base64::engine::general_purpose::URL_SAFE.encode(format!("xy{value}zz"));
        for echo in [
            value.to_owned(),
            serde_json::to_string(value).unwrap(),
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>(),
            value.to_ascii_uppercase(),
            value.to_ascii_lowercase(),
            b64.clone(),
            b64_shifted,
        ] {
            let cleaned = s.clean(&format!("error: bad input {echo} (rejected)"));
            assert!(
                !cleaned.to_ascii_lowercase().contains("canary")
                    && !cleaned.contains(&b64[4..b64.len() - 4])
                    && cleaned.starts_with("error: bad input ")
                    && cleaned.ends_with(" (rejected)"),
                "{echo} -> {cleaned}"
            );
        }
    }

    #[test]
    fn a_long_value_is_found_in_part_and_a_huge_one_is_sampled_in_bounded_time() {
        let s = Scrubber::default();
        // A PEM-sized value: a part of it echoed is blanked, with what surrounds it.
        let pem: String = (0..3000u32)
            .map(|i| char::from(b'A' + u8::try_from((i * 7 + i / 13) % 26).unwrap()))
            .collect();
        s.know(&SecretString::from(pem.clone()));
        let pad = "-".repeat(80);
        let cleaned = s.clean(&format!("bad key: {pad}{}{pad} end", &pem[1000..1100]));
        assert!(!cleaned.contains(&pem[1040..1060]), "{cleaned}");
        // Around it, at most a chunk and a stride more is blanked.
        assert!(
            cleaned.starts_with("bad key: -") && cleaned.ends_with("- end"),
            "{cleaned}"
        );
        // A 10 MiB token: known, and 4 KiB of it echoed, without building a 10 MiB search.
        let token: String = (0..10 * 1024 * 1024u32)
            .map(|i| {
                char::from(b'a' + u8::try_from((i.wrapping_mul(2_654_435_761) >> 7) % 26).unwrap())
            })
            .collect();
        s.know(&SecretString::from(token.clone()));
        let cleaned = s.clean(&format!("token {} rejected", &token[5_000_000..5_004_096]));
        assert!(!cleaned.contains(&token[5_001_000..5_001_040]), "{cleaned}");
    }

    #[test]
    fn a_value_cut_by_the_bound_is_not_shown_in_part() {
        let s = Scrubber::default();
        let value = "CANARY-0123456789-abcdefghij-long-enough";
        s.know(&SecretString::from(value));
        // The value starts just before the bound: the part before the bound matches nothing.
        let text = format!("{}{value}", " ".repeat(MAX_READ - 10));
        assert!(!s.clean(&text).contains("CANARY"));
    }
}
