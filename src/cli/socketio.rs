//! `netlab socketio ...`: the Socket.IO reference echo server (lesson 10).

use super::guard::{budget_summary, guards_line, ServerGuards};
use super::{parse_size, CliResult};
use crate::guard::{AddressCap, MemoryBudget};
use crate::term;
use crate::units::parse_duration;
use crate::web::echo::{self, EchoConfig};
use crate::web::socketio::Heartbeat;
use crate::web::{Guards, WebConfig, ENGINEIO_PATH, SOCKETIO_PATH};
use clap::Subcommand;
use std::process::ExitCode;
use std::time::Duration;

/// `netlab socketio ...`
#[derive(Debug, Subcommand)]
pub enum SocketioCommand {
    /// Run the Socket.IO protocol's reference echo server (and a plain Engine.IO echo).
    #[command(after_help = ECHO_HELP)]
    Echo {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
        listen: String,
        /// Time between the server's pings (Engine.IO `pingInterval`).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "25s")]
        ping_interval: Duration,
        /// A client that does not answer a ping within this is dropped (`pingTimeout`).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "20s")]
        ping_timeout: Duration,
        /// A session that sends no Socket.IO CONNECT within this is closed.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "45s")]
        connect_timeout: Duration,
        /// Largest message, and largest polling POST body (`maxPayload`; bigger gets 413).
        #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1000000")]
        max_payload: usize,
        /// A namespace served besides `/` (repeat the flag): `--namespace /custom`.
        #[arg(long = "namespace", value_name = "NSP")]
        namespaces: Vec<String>,
        /// Most sessions at once.
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        max_connections: usize,
        /// Let pages from this origin connect (repeat the flag; `*` for any).
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origins: Vec<String>,
        /// Limits across all connections.
        #[command(flatten)]
        guards: ServerGuards,
    },
}

const ECHO_HELP: &str = "On /socket.io/: on CONNECT the server emits `auth` with the client's auth data;\n`message` comes back as `message-back` with the same arguments (binary too);\n`message-with-ack` is acked with its arguments. On /engine.io/: every Engine.IO\nmessage comes back as sent. Both speak long-polling, the upgrade and WebSocket.\n\nExamples:\n  netlab socketio echo --listen 127.0.0.1:3000\n  netlab socketio echo --ping-interval 300ms --ping-timeout 200ms --connect-timeout 1s --namespace /custom\n  curl -s 'http://127.0.0.1:3000/socket.io/?EIO=4&transport=polling'";

/// Runs a `netlab socketio` command.
pub fn run(cmd: SocketioCommand) -> CliResult {
    let SocketioCommand::Echo {
        listen,
        ping_interval,
        ping_timeout,
        connect_timeout,
        max_payload,
        namespaces,
        max_connections,
        allow_origins,
        guards,
    } = cmd;
    if ping_interval.is_zero() || ping_timeout.is_zero() || connect_timeout.is_zero() {
        return Err("--ping-interval, --ping-timeout and --connect-timeout must be above 0".into());
    }
    if let Some(bad) = namespaces
        .iter()
        .find(|n| !n.starts_with('/') || n.contains(','))
    {
        return Err(
            format!("namespace {bad:?} must start with / and hold no comma, e.g. /custom").into(),
        );
    }
    let budget = MemoryBudget::new(guards.max_memory);
    let config = EchoConfig {
        web: WebConfig {
            allowed_origins: allow_origins,
            heartbeat: Heartbeat {
                interval: ping_interval,
                timeout: ping_timeout,
            },
            ..WebConfig::default()
        },
        max_payload,
        max_sessions: max_connections,
        namespaces,
        connect_timeout,
        guards: Guards {
            budget: budget.clone(),
            per_ip: AddressCap::new(guards.max_per_ip),
            max_frame: max_payload,
            frame_timeout: guards.frame_timeout(),
        },
    };
    super::runtime(None)?.block_on(async move {
        let (listener, addr, stop) = super::guard::listen_announced(&listen).await?;
        anstream::eprintln!(
            "{}",
            term::dim(format!(
                "Socket.IO echo at http://{addr}{SOCKETIO_PATH} (namespaces /{}), Engine.IO echo at {ENGINEIO_PATH}; ping every {ping_interval:?}, timeout {ping_timeout:?}; {}; Ctrl-C stops",
                config.namespaces.iter().map(|n| format!(" {n}")).collect::<String>(),
                guards_line(&guards, None)
            ))
        );
        tokio::select! {
            r = echo::serve(listener, config) => r?,
            _ = stop => {}
        }
        anstream::eprintln!("{}", term::dim(budget_summary(&budget)));
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
