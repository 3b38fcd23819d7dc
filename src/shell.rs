//! All terminal output, Cargo-style: status verbs on stderr, data on stdout, colours by `--color`.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Reason: this is the one module allowed to prompt, draw progress and write to the terminal.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_macros,
    clippy::disallowed_types
)]

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use anstream::{AutoStream, ColorChoice};
use anstyle::Style;
use clap_cargo::style::{ERROR, GOOD, NOTE, WARN};
use secrecy::{ExposeSecret, SecretString};

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors and requested data only.
    Quiet,
    /// The default.
    Normal,
    /// `-v` and more.
    Verbose,
}

/// Text as the terminal may show it: every character that could act on the terminal or hide
/// what the text says is shown as a visible `\uXXXX` escape — C0 controls but the line break and
/// the tab, DEL, C1 controls (ESC and CSI included), bidi overrides, embeddings, isolates and
/// marks, zero-width characters, line and paragraph separators, and the BOM. The escape is also
/// a valid JSON escape, so a JSON document stays valid and means the same. Applied by every
/// method of [`Shell`] to everything it prints but the data the user asked for as it is
/// ([`Shell::out_raw`], [`Shell::err_data`], [`Shell::reveal`]).
#[must_use]
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
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
    };
    // Printable ASCII, the usual case, is seen at once, without decoding a character.
    if text
        .bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\n' | b'\t'))
        || !text.chars().any(hidden)
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`visible`] of a message, owned.
fn shown(message: impl Display) -> String {
    let text = message.to_string();
    match visible(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// The one place that writes to the terminal.
pub struct Shell {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    verbosity: Verbosity,
    /// Output goes to memory, with no terminal to ask (tests).
    captured: bool,
    /// Something was written to stdout.
    wrote_out: bool,
}

/// What a [`Shell::captured`] shell wrote: stdout and stderr, without colours.
#[derive(Clone, Default)]
pub struct Captured {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    /// Everything written to stdout so far.
    ///
    /// # Panics
    /// If a thread panicked while writing.
    #[must_use]
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().expect("lock")).into_owned()
    }

    /// Everything written to stderr so far.
    ///
    /// # Panics
    /// If a thread panicked while writing.
    #[must_use]
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().expect("lock")).into_owned()
    }
}

/// A writer into shared memory that drops colour codes.
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend(anstream::adapter::strip_bytes(buf).into_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shell {
    /// A shell with the given colour choice and verbosity.
    #[must_use]
    pub fn new(color: ColorChoice, verbosity: Verbosity) -> Self {
        Self {
            out: Box::new(AutoStream::new(std::io::stdout(), color)),
            err: Box::new(AutoStream::new(std::io::stderr(), color)),
            verbosity,
            captured: false,
            wrote_out: false,
        }
    }

    /// A shell that writes into memory, without colours, and has no terminal to ask on.
    #[must_use]
    pub fn captured(verbosity: Verbosity) -> (Self, Captured) {
        let captured = Captured::default();
        let shell = Self {
            out: Box::new(Memory(Arc::clone(&captured.out))),
            err: Box::new(Memory(Arc::clone(&captured.err))),
            verbosity,
            captured: true,
            wrote_out: false,
        };
        (shell, captured)
    }

    /// The verbosity.
    #[must_use]
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// `   Verb message` with the verb green and right-aligned, on stderr (hidden by `-q`).
    pub fn status(&mut self, verb: &str, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let message = shown(message);
            let _ = writeln!(self.err, "{GOOD}{verb:>12}{GOOD:#} {message}");
        }
    }

    /// `warning: message` on stderr (hidden by `-q`).
    pub fn warn(&mut self, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let message = shown(message);
            let _ = writeln!(self.err, "{WARN}warning{WARN:#}: {message}");
        }
    }

    /// `warning: message`, then `    help: …` on stderr (hidden by `-q`).
    pub fn warn_help(&mut self, message: impl Display, help: impl Display) {
        self.warn(format_args!("{message}\n    help: {help}"));
    }

    /// `error: message` on stderr (always shown).
    pub fn error(&mut self, message: impl Display) {
        // The last line of defence for text a server sent: every value and token this run knows
        // is replaced, whenever it was learnt.
        let message = shown(crate::scrub::global().redact(&message.to_string()));
        let _ = writeln!(self.err, "{ERROR}error{ERROR:#}: {message}");
    }

    /// `error: message`, then `    help: …` when the error says what to do (always shown).
    pub fn report(&mut self, error: &crate::error::Error) {
        match error.hint() {
            Some(help) => self.error(format_args!("{error}\n    help: {help}")),
            None => self.error(error),
        }
    }

    /// `note: message` on stderr, only with `-v`.
    pub fn verbose(&mut self, message: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            let message = shown(message);
            let _ = writeln!(self.err, "{NOTE}note{NOTE:#}: {message}");
        }
    }

    /// A plain line on stderr (hidden by `-q`).
    pub fn info(&mut self, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let _ = writeln!(self.err, "{}", shown(message));
        }
    }

    /// A styled fragment on stderr with no newline (for diagnostics).
    pub fn err_styled(&mut self, style: Style, text: impl Display) {
        let text = shown(text);
        let _ = write!(self.err, "{style}{text}{style:#}");
    }

    /// Text on stderr, no newline added.
    pub fn err_raw(&mut self, text: impl Display) {
        let _ = write!(self.err, "{}", shown(text));
    }

    /// Data the user asked for on stderr, exactly as given (the `::add-mask::` lines of a
    /// `github-env` export, which must carry each value as it is).
    pub fn err_data(&mut self, text: impl Display) {
        let _ = write!(self.err, "{text}");
    }

    /// A line of data on stdout (always shown: it is what the user asked for).
    pub fn out(&mut self, line: impl Display) {
        self.wrote_out = true;
        let _ = writeln!(self.out, "{}", shown(line));
    }

    /// A line on stdout that starts with a styled label (`pass`, `warn`, `fail`).
    pub fn out_labelled(&mut self, style: Style, label: &str, rest: impl Display) {
        self.wrote_out = true;
        let _ = writeln!(self.out, "{style}{label}{style:#}{}", shown(rest));
    }

    /// Data the user asked for on stdout, exactly as given (an export, a completion script), no
    /// newline added.
    pub fn out_raw(&mut self, text: impl Display) {
        self.wrote_out = true;
        let _ = write!(self.out, "{text}");
    }

    /// Prints a secret value on stdout. Only for an explicit `--reveal`.
    pub fn reveal(&mut self, value: &SecretString) {
        self.wrote_out = true;
        let _ = writeln!(self.out, "{}", value.expose_secret());
    }

    /// Whether anything was written to stdout yet.
    #[must_use]
    pub fn wrote_stdout(&self) -> bool {
        self.wrote_out
    }

    /// Flushes both streams.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    /// Whether a person can answer a prompt: stdin and stderr are both terminals.
    #[must_use]
    pub fn interactive(&self) -> bool {
        !self.captured && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// Whether stdin is a terminal (there is someone to type a hidden value).
    #[must_use]
    pub fn stdin_is_terminal(&self) -> bool {
        !self.captured && std::io::stdin().is_terminal()
    }

    /// Whether stdout is a terminal (revealed data would land on the screen).
    #[must_use]
    pub fn stdout_is_terminal(&self) -> bool {
        !self.captured && std::io::stdout().is_terminal()
    }

    /// Asks a yes/no question on the terminal; `None` when nobody can answer (no terminal).
    pub fn confirm(&mut self, question: &str, default: bool) -> Result<Option<bool>, PromptError> {
        if !self.interactive() {
            return Ok(None);
        }
        self.flush();
        dialoguer::Confirm::new()
            .with_prompt(visible(question))
            .default(default)
            .interact()
            .map(Some)
            .map_err(PromptError::from)
    }

    /// Asks to choose one of `items` on the terminal; `None` when nobody can answer.
    pub fn select(
        &mut self,
        question: &str,
        items: &[&str],
        default: usize,
    ) -> Result<Option<usize>, PromptError> {
        if !self.interactive() {
            return Ok(None);
        }
        self.flush();
        dialoguer::Select::new()
            .with_prompt(visible(question))
            .items(items)
            .default(default)
            .interact()
            .map(Some)
            .map_err(PromptError::from)
    }

    /// Reads a value typed without echo; `None` when stdin is not a terminal. The value is held
    /// in a zeroizing type from the moment it is read.
    pub fn hidden_input(&mut self, prompt: &str) -> Result<Option<SecretString>, PromptError> {
        if !self.stdin_is_terminal() {
            return Ok(None);
        }
        self.flush();
        rpassword::prompt_password(format!("{} (input hidden): ", visible(prompt)))
            .map(|v| Some(SecretString::from(v)))
            .map_err(|e| PromptError(e.to_string()))
    }

    /// A progress bar on stderr for `len` steps, shown only on a terminal, from `from` steps up,
    /// and never with `-q`.
    #[must_use]
    pub fn progress(&self, len: usize, from: usize, message: &'static str) -> Progress {
        let show =
            len >= from && std::io::stderr().is_terminal() && self.verbosity > Verbosity::Quiet;
        Progress(show.then(|| indicatif::ProgressBar::new(len as u64).with_message(message)))
    }
}

/// A prompt that could not be answered (the terminal went away, or reading it failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the answer from the terminal: {0}")]
pub struct PromptError(String);

impl From<dialoguer::Error> for PromptError {
    fn from(e: dialoguer::Error) -> Self {
        Self(e.to_string())
    }
}

/// A progress bar from [`Shell::progress`] (nothing when not shown). Safe to share across threads.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// One step done.
    pub fn inc(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(b) = self.0 {
            b.finish_and_clear();
        }
    }
}

/// Styles used by commands.
pub mod style {
    pub use clap_cargo::style::{ERROR, GOOD, HEADER, LITERAL, NOTE, VALID, WARN};
}
