//! Exit statuses, documented in the README; scripts branch on them.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every source was read.
    Ok = 0,
    /// Nothing was rendered: a bad argument value, an unreadable bundle, an
    /// output that could not be written.
    Error = 1,
    /// The command line itself is malformed (unknown flag, missing value).
    Usage = 2,
    /// The timeline was rendered, but at least one source failed or timed
    /// out; the coverage section says which and why.
    Partial = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A command line that cannot work as typed, though clap accepted it (a
/// flag whose value is neither given nor in the environment): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
