//! Why a command failed, worded as it is printed, and the exit code it ends
//! with: 2 for a bad config or command line, 1 when the command could not do
//! its work.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::ConfigError;
use crate::fetch::FetchError;
use crate::store::StoreError;

/// Exit code for an invalid config or command line.
pub(crate) const EXIT_CONFIG: u8 = 2;

/// Why a command failed. Its `Display` is what the command line prints on
/// stderr, every line of it.
#[derive(Debug)]
pub enum CliError {
    /// The config file cannot be read or is not valid.
    Config(ConfigError),
    /// `--source` names no source of the config.
    UnknownSource { name: String, config: PathBuf },
    /// The command could not do its work; the message says why, as printed.
    Failed(String),
    /// Anything else that went wrong, printed with its causes.
    Other(anyhow::Error),
}

impl CliError {
    /// The exit code the command line ends with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Config(_) | CliError::UnknownSource { .. } => ExitCode::from(EXIT_CONFIG),
            CliError::Failed(_) | CliError::Other(_) => ExitCode::FAILURE,
        }
    }

    /// Whether it comes from writing to a pipe whose reader has gone
    /// (`tributary export | head`): the reader has all it wanted.
    pub fn is_broken_pipe(&self) -> bool {
        let CliError::Other(e) = self else {
            return false;
        };
        e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Every problem, then how many: nothing was changed.
            CliError::Config(e @ ConfigError::Invalid { problems, .. }) => write!(
                f,
                "{e}\nconfig has {}; nothing was changed",
                super::counted(problems.len() as u64, "problem", "problems")
            ),
            CliError::Config(e @ ConfigError::Read { .. }) => write!(f, "error: {e}"),
            CliError::UnknownSource { name, config } => {
                write!(f, "error: no source named {name:?} in {}", config.display())
            }
            CliError::Failed(message) => f.write_str(message),
            CliError::Other(e) => write!(f, "error: {e:#}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Config(e) => Some(e),
            CliError::Other(e) => Some(&**e),
            CliError::UnknownSource { .. } | CliError::Failed(_) => None,
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> CliError {
        CliError::Config(e)
    }
}

/// Errors that are none of the config's: printed with their causes, exit 1.
macro_rules! other_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for CliError {
            fn from(e: $error) -> CliError {
                CliError::Other(e.into())
            }
        }
    )*};
}

other_errors!(
    anyhow::Error,
    std::io::Error,
    StoreError,
    FetchError,
    serde_json::Error,
    url::ParseError
);
