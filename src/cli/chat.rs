//! `netlab chat`: the terminal chat over tcp://, udp:// and ws:// — the
//! flags become a [`TerminalConfig`] for the clients in [`crate::client`].

use super::{runtime, CliResult};
use crate::client::reconnect::{terminal, Endpoint};
use crate::client::{Reconnect, TerminalConfig};
use clap::Args;
use std::time::Duration;

/// The examples under `netlab chat --help`.
pub(super) const AFTER_HELP: &str = "Commands: /join ROOM, /leave [ROOM], /to ROOM|ID MESSAGE, /all MESSAGE, /nick NAME,\n/rooms, /who [ROOM], /quit, /help. Other lines go to your current room (everyone if none).\n\nExamples:\n  netlab chat tcp://127.0.0.1:7100 --nick ana --room lobby\n  printf 'hello\\n/join dev\\n/to dev hi dev\\n' | netlab chat tcp://127.0.0.1:7100 --nick bot\n  netlab chat tcp://127.0.0.1:7100 --nick spy --json\n  netlab chat udp://127.0.0.1:7101 --nick bob --room lobby     (lost, duplicated, late datagrams shown inline)\n  netlab chat ws://127.0.0.1:8080/ws --nick cy --room lobby\n  netlab chat tcp://127.0.0.1:7100 --nick ana --room lobby --ack-timeout 2s --retries 5 --heartbeat 5s\n\nOver tcp:// and ws:// the client reconnects by itself (backoff with jitter) when the server keeps\nhistory (netlab serve --history N): it resumes its session and shows each missed event once.";

/// `netlab chat`
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The server, e.g. tcp://127.0.0.1:7100, udp://127.0.0.1:7101 or ws://127.0.0.1:8080/ws.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Your nickname.
    #[arg(long, value_name = "NAME")]
    pub nick: Option<String>,
    /// A room to join at once (it becomes your current room).
    #[arg(long, value_name = "ROOM")]
    pub room: Option<String>,
    /// Print every server event as one JSON line instead of chat lines.
    #[arg(long)]
    pub json: bool,
    /// tcp/ws: reconnect by itself when the connection is lost (the default when the server keeps history).
    #[arg(long, conflicts_with = "no_reconnect")]
    pub reconnect: bool,
    /// tcp/ws: never reconnect; exit when the connection is lost.
    #[arg(long)]
    pub no_reconnect: bool,
    /// tcp/ws: an acked event with no answer after this is sent again with the same ack id (only to a server with sessions: it de-duplicates).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "5s")]
    pub ack_timeout: Duration,
    /// tcp/ws: how many times an unanswered event is sent again before giving up on it.
    #[arg(long, value_name = "N", default_value_t = crate::client::resume::DEFAULT_RETRIES)]
    pub retries: u32,
    /// tcp/ws: ping the server after this much silence from it (0 = off).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "15s")]
    pub heartbeat: Duration,
    /// tcp/ws: after a ping, no frame within this and the server is taken for dead (reconnect).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "10s")]
    pub heartbeat_timeout: Duration,
}

impl ChatArgs {
    /// The clients' view of these flags.
    fn config(&self) -> TerminalConfig {
        TerminalConfig {
            nick: self.nick.clone(),
            room: self.room.clone(),
            json: self.json,
            reconnect: match (self.reconnect, self.no_reconnect) {
                (_, true) => Reconnect::Never,
                (true, false) => Reconnect::Always,
                (false, false) => Reconnect::Auto,
            },
            ack_timeout: self.ack_timeout,
            retries: self.retries,
            heartbeat: self.heartbeat,
            heartbeat_timeout: self.heartbeat_timeout,
        }
    }
}

/// Runs `netlab chat`: picks the client by the URL's scheme.
pub(super) fn run(args: ChatArgs) -> CliResult {
    let config = args.config();
    if let Some(addr) = args.url.strip_prefix("udp://") {
        let addr = addr.to_string();
        return runtime(Some(1))?.block_on(crate::client::udp::terminal(addr, config));
    }
    let to = if args.url.starts_with("ws://") {
        Endpoint::Ws(args.url.clone())
    } else {
        let addr = args.url.strip_prefix("tcp://").ok_or_else(|| {
            format!(
                "`{}` is not a tcp:// address; use e.g. tcp://127.0.0.1:7100 (or udp://127.0.0.1:7101, ws://127.0.0.1:8080/ws)",
                args.url
            )
        })?;
        Endpoint::Tcp(addr.to_string())
    };
    let rt = runtime(Some(1))?;
    let outcome = rt.block_on(terminal(to, config));
    // The stdin reader may still be blocked in read(2) when the server closed
    // the session: do not wait for it.
    rt.shutdown_background();
    outcome
}
