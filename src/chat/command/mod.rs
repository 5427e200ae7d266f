//! `netlab serve`, `netlab chat` and `netlab bench chat`: the chat hub's
//! command line, one file per command.
//!
//! | file | command |
//! |---|---|
//! | `serve.rs` | `netlab serve`: the hub on TCP, UDP and HTTP/WebSocket, with its limits, heartbeats and history |
//! | `terminal.rs` | `netlab chat`: the terminal client, its typed commands and how each server event is printed |
//! | `bench.rs` | `netlab bench chat`: idle connections and room fan-out under load |

mod bench;
mod serve;
mod terminal;

pub use bench::{bench, BenchChatArgs};
pub use serve::{HistoryArgs, LimitArgs, ServeArgs};
pub(crate) use terminal::{parse_line, settle, Line, DRAIN_TIMEOUT, HELP};
pub use terminal::{render_event, ChatArgs};

use crate::chat::id::ConnId;
pub(crate) use crate::cli::runtime;
use crate::cli::CliResult;
use clap::Subcommand;

/// The chat commands (flattened into `netlab`'s top level).
// `serve` has many flags; the value is parsed once per process, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// Run the chat hub (lessons 03–04): rooms, broadcast, private messages.
    #[command(
        after_help = "Prints `listening on tcp://ADDR` first (port 0 picks a free port), then `listening on udp://ADDR` with --udp and `listening on http://ADDR` with --http.\nUDP clients open a session with a padded hello, keep it with heartbeats and leave with bye (or expire).\n\nExamples:\n  netlab serve --tcp 127.0.0.1:7100\n  netlab serve --tcp 127.0.0.1:7100 --udp 127.0.0.1:7101\n  netlab serve --tcp 127.0.0.1:7100 --http 127.0.0.1:8080     (then open http://127.0.0.1:8080/)\n  netlab serve --http 127.0.0.1:8080 --allow-origin http://localhost:3000\n  netlab serve --udp 127.0.0.1:7101 --udp-expiry 5s --udp-heartbeat 1s --udp-max-sessions 100\n  netlab serve --tcp 127.0.0.1:0 --max-rooms 8 --rate 20 --burst 40\n  netlab serve --tcp 0.0.0.0:7100 --quiet\n  netlab serve --tcp 127.0.0.1:7100 --heartbeat 10s --heartbeat-timeout 5s     (drop silent clients within 15s)\n  netlab serve --tcp 127.0.0.1:7100 --history 100 --session-ttl 60s     (lesson 07: resume, join since)\n  netlab serve --tcp 127.0.0.1:7100 --history-file chat.log --confirm-timeout 2s --confirm-retries 3"
    )]
    Serve(ServeArgs),
    /// Chat from the terminal: type to talk, /help for commands. Works with piped stdin too.
    #[command(
        after_help = "Commands: /join ROOM, /leave [ROOM], /to ROOM|ID MESSAGE, /all MESSAGE, /nick NAME,\n/rooms, /who [ROOM], /quit, /help. Other lines go to your current room (everyone if none).\n\nExamples:\n  netlab chat tcp://127.0.0.1:7100 --nick ana --room lobby\n  printf 'hello\\n/join dev\\n/to dev hi dev\\n' | netlab chat tcp://127.0.0.1:7100 --nick bot\n  netlab chat tcp://127.0.0.1:7100 --nick spy --json\n  netlab chat udp://127.0.0.1:7101 --nick bob --room lobby     (lost, duplicated, late datagrams shown inline)\n  netlab chat ws://127.0.0.1:8080/ws --nick cy --room lobby\n  netlab chat tcp://127.0.0.1:7100 --nick ana --room lobby --ack-timeout 2s --retries 5 --heartbeat 5s\n\nOver tcp:// and ws:// the client reconnects by itself (backoff with jitter) when the server keeps\nhistory (netlab serve --history N): it resumes its session and shows each missed event once."
    )]
    Chat(ChatArgs),
}

/// Runs a chat command.
pub fn run(cmd: ChatCommand) -> CliResult {
    match cmd {
        ChatCommand::Serve(args) => serve::serve(args),
        ChatCommand::Chat(args) => terminal::chat(args),
    }
}

/// The first 8 hex digits of an id: enough to tell people apart in a log.
pub(crate) fn short(id: ConnId) -> String {
    id.to_hex()[..8].to_string()
}
