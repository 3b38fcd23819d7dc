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
    #[error("{context}: {source}")]
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
    /// Someone else wrote to a remote between this command's read and its write; nothing of
    /// this command's write landed.
    #[error("{location}: check-and-set conflict: {detail}")]
    Conflict {
        /// Where.
        location: String,
        /// What is known about it.
        detail: String,
    },
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
        /// What to do about it.
        help: Option<String>,
    },
    /// A prompt could not be answered.
    #[error(transparent)]
    Prompt(#[from] crate::shell::PromptError),
    /// A usage or configuration mistake (exit code 2).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do about it.
        help: Option<String>,
    },
    /// A failed operation (exit code 1); details such as findings may have been printed already.
    #[error("{message}")]
    Failed {
        /// What failed.
        message: String,
        /// What to do about it.
        help: Option<String>,
    },
}

/// What to do about the usual file-system failures.
#[must_use]
pub fn io_hint(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind;
    Some(match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "check the permissions of the file and of its folder"
        }
        ErrorKind::NotFound => "check that the path exists",
        ErrorKind::NotADirectory => "a part of the path is a file, not a folder",
        ErrorKind::IsADirectory => "a folder is where the file should be; move it away",
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "free some disk space",
        _ => return None,
    })
}

impl Error {
    /// The exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exit { code, .. } => *code,
            Error::Project(_) | Error::Profile(_) | Error::Usage { .. } => exit_code::USAGE,
            Error::Load(_)
            | Error::Io { .. }
            | Error::Failed { .. }
            | Error::Conflict { .. }
            | Error::Prompt(_)
            | Error::NoKeyring(_)
            | Error::Store(_)
            | Error::Token(_)
            | Error::Cloud(_)
            | Error::OpenBao(_)
            | Error::Http(_) => exit_code::FAILURE,
        }
    }

    /// The user answered no at a prompt (exit code 3): nothing was changed.
    #[must_use]
    pub fn cancelled() -> Self {
        Error::exit_with(
            exit_code::CANCELLED,
            "cancelled at your answer; nothing was changed",
        )
    }

    /// A usage or configuration mistake (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: None,
        }
    }

    /// A failed operation (exit code 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed {
            message: message.into(),
            help: None,
        }
    }

    /// Exit with `code`, printing nothing more.
    #[must_use]
    pub fn exit(code: i32) -> Self {
        Error::Exit {
            code,
            message: None,
            help: None,
        }
    }

    /// Exit with `code` after printing `message`.
    pub fn exit_with(code: i32, message: impl Into<String>) -> Self {
        Error::Exit {
            code,
            message: Some(message.into()),
            help: None,
        }
    }

    /// The same error with a `help:` line (for [`Error::usage`], [`Error::failed`] and
    /// [`Error::exit_with`]).
    #[must_use]
    pub fn help(self, text: impl Into<String>) -> Self {
        match self {
            Error::Exit { code, message, .. } => Error::Exit {
                code,
                message,
                help: Some(text.into()),
            },
            Error::Usage { message, .. } => Error::Usage {
                message,
                help: Some(text.into()),
            },
            Error::Failed { message, .. } => Error::Failed {
                message,
                help: Some(text.into()),
            },
            other => other,
        }
    }

    /// What to do about it: the `help:` line under the message, if there is one.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { help, .. } | Error::Failed { help, .. } | Error::Exit { help, .. } => {
                help.clone()
            }
            Error::Io { source, .. } => io_hint(source).map(str::to_owned),
            Error::Project(e) => e.help(),
            Error::Profile(e) => e.help(),
            Error::Load(e) => e.help(),
            Error::NoKeyring(e) => e.help(),
            Error::Token(e) => e.help(),
            Error::Cloud(e) => e.help(),
            Error::OpenBao(e) => e.help(),
            Error::Http(e) => e.help(),
            Error::Store(_) | Error::Prompt(_) | Error::Conflict { .. } => None,
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
