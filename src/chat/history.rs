//! Lesson 07 — history: what a client that was away can still be told.

use std::path::PathBuf;
use std::time::Duration;

/// Events each history key keeps when `--history-file` is given without `--history`.
pub const DEFAULT_FILE_HISTORY: usize = 1000;
/// How long a disconnected session waits to be resumed (`--session-ttl`).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(120);
/// Resends of unconfirmed events before the peer is treated as dead (`--confirm-retries`).
pub const DEFAULT_CONFIRM_RETRIES: u32 = 3;

/// The missed-events features of a server (every field is a `netlab serve` flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Events kept per history key; 0 turns history and sessions off (`--history`).
    pub len: usize,
    /// Where recorded events are appended and rebuilt from (`--history-file`).
    pub file: Option<PathBuf>,
    /// How long a detached session may be resumed (`--session-ttl`).
    pub session_ttl: Duration,
    /// Recorded events must be confirmed with `seen` within this; `None`: off (`--confirm-timeout`).
    pub confirm_timeout: Option<Duration>,
    /// Resends before the peer is treated as dead (`--confirm-retries`).
    pub confirm_retries: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            len: 0,
            file: None,
            session_ttl: DEFAULT_SESSION_TTL,
            confirm_timeout: None,
            confirm_retries: DEFAULT_CONFIRM_RETRIES,
        }
    }
}

impl HistoryConfig {
    /// Whether the server keeps history (and so offers sessions).
    pub fn enabled(&self) -> bool {
        self.len > 0
    }
}
