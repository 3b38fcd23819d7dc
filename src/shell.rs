//! All terminal output, Cargo-style: status verbs on stderr, data on stdout, colours by `--color`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::Write;

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

/// The one place that writes to the terminal.
pub struct Shell {
    out: AutoStream<std::io::Stdout>,
    err: AutoStream<std::io::Stderr>,
    verbosity: Verbosity,
}

impl Shell {
    /// A shell with the given colour choice and verbosity.
    #[must_use]
    pub fn new(color: ColorChoice, verbosity: Verbosity) -> Self {
        Self {
            out: AutoStream::new(std::io::stdout(), color),
            err: AutoStream::new(std::io::stderr(), color),
            verbosity,
        }
    }

    /// The verbosity.
    #[must_use]
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// `   Verb message` with the verb green and right-aligned, on stderr (hidden by `-q`).
    pub fn status(&mut self, verb: &str, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let _ = writeln!(self.err, "{GOOD}{verb:>12}{GOOD:#} {message}");
        }
    }

    /// `warning: message` on stderr (hidden by `-q`).
    pub fn warn(&mut self, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let _ = writeln!(self.err, "{WARN}warning{WARN:#}: {message}");
        }
    }

    /// `error: message` on stderr (always shown).
    pub fn error(&mut self, message: impl Display) {
        let _ = writeln!(self.err, "{ERROR}error{ERROR:#}: {message}");
    }

    /// `note: message` on stderr, only with `-v`.
    pub fn verbose(&mut self, message: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            let _ = writeln!(self.err, "{NOTE}note{NOTE:#}: {message}");
        }
    }

    /// A plain line on stderr (hidden by `-q`).
    pub fn info(&mut self, message: impl Display) {
        if self.verbosity > Verbosity::Quiet {
            let _ = writeln!(self.err, "{message}");
        }
    }

    /// A styled fragment on stderr with no newline (for diagnostics).
    pub fn err_styled(&mut self, style: Style, text: impl Display) {
        let _ = write!(self.err, "{style}{text}{style:#}");
    }

    /// Raw text on stderr.
    pub fn err_raw(&mut self, text: impl Display) {
        let _ = write!(self.err, "{text}");
    }

    /// A line of data on stdout (always shown: it is what the user asked for).
    pub fn out(&mut self, line: impl Display) {
        let _ = writeln!(self.out, "{line}");
    }

    /// Raw data on stdout, no newline added.
    pub fn out_raw(&mut self, text: impl Display) {
        let _ = write!(self.out, "{text}");
    }

    /// Prints a secret value on stdout. Only for an explicit `--reveal`.
    pub fn reveal(&mut self, value: &SecretString) {
        let _ = writeln!(self.out, "{}", value.expose_secret());
    }

    /// Flushes both streams.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

/// Styles used by commands.
pub mod style {
    pub use clap_cargo::style::{ERROR, GOOD, HEADER, LITERAL, NOTE, VALID, WARN};
}
