//! Why `keycard serve` cannot start: an option whose value is unusable, or something the server
//! needs from the system (a listener, a signal handler, a thread) that it did not get. Each names
//! the option or the thing, so that the message says what to fix; `run` prints it and exits 2.

use std::fmt;

/// A server that cannot start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// `option`'s value (or the file it names) is unusable.
    Option {
        /// The option, as typed (`--trusted-proxy`).
        option: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// The system refused something the server needs.
    Setup {
        /// What was being set up (`cannot listen on 127.0.0.1:8181`).
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

impl StartError {
    /// An unusable value of `option`.
    pub(crate) fn option(option: &'static str, message: impl fmt::Display) -> StartError {
        StartError::Option { option, message: message.to_string() }
    }

    /// A setup step, `what`, that failed with `source`.
    pub(crate) fn setup(what: impl Into<String>, source: std::io::Error) -> StartError {
        StartError::Setup { what: what.into(), source }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Option { option, message } => write!(f, "{option} {message}"),
            StartError::Setup { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Setup { source, .. } => Some(source),
            StartError::Option { .. } => None,
        }
    }
}
