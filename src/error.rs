//! The command-line tool's error type and its mapping to exit codes.

use crate::exit_code;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The project or its manifest table.
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    /// Choosing or reading a profile.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// Loading the layers.
    #[error(transparent)]
    Load(#[from] crate::layers::LoadError),
    /// A file operation.
    #[error("{context}: {source}{}", io_hint(source))]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No OS keyring could be opened.
    #[error(transparent)]
    NoKeyring(#[from] crate::keyring::NoKeyring),
    /// The keyring refused an operation.
    #[error("keyring: {0}")]
    Store(#[from] crate::keyring::StoreError),
    /// No usable token.
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
    /// The cloud API.
    #[error(transparent)]
    Cloud(#[from] crate::remote::systemprompt::CloudError),
    /// OpenBao.
    #[error(transparent)]
    OpenBao(#[from] crate::remote::openbao::BaoError),
    /// HTTP setup or transport.
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// Exit with this code; the message (if any) was not printed yet.
    #[error("{}", message.as_deref().unwrap_or_default())]
    Exit {
        /// The exit code.
        code: i32,
        /// What to print first, if anything.
        message: Option<String>,
    },
    /// A usage mistake.
    #[error("{0}")]
    Usage(String),
    /// A failure whose details were already printed (e.g. failing findings).
    #[error("{0}")]
    Failed(String),
}

/// A `help:` line for the usual file-system failures.
fn io_hint(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "\n    help: check the permissions of the file and of its folder"
        }
        ErrorKind::NotFound => "\n    help: check that the path exists",
        ErrorKind::NotADirectory => "\n    help: a part of the path is a file, not a folder",
        ErrorKind::IsADirectory => "\n    help: a folder is where the file should be; move it away",
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "\n    help: free some disk space",
        _ => "",
    }
}

impl Error {
    /// The exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exit { code, .. } => *code,
            Error::Project(_) | Error::Profile(_) | Error::Usage(_) => exit_code::USAGE,
            Error::Load(_)
            | Error::Io { .. }
            | Error::Failed(_)
            | Error::NoKeyring(_)
            | Error::Store(_)
            | Error::Token(_)
            | Error::Cloud(_)
            | Error::OpenBao(_)
            | Error::Http(_) => exit_code::FAILURE,
        }
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
