//! `netlab ws ...`: the RFC 6455 echo server and an interactive client.

use super::guard::{
    guards_line, print_stop_report, EchoTally, EchoUnit, IdleTimeout, ServerGuards,
};
use super::{parse_size, CliResult};
use crate::guard::MemoryBudget;
use crate::term;
use crate::units::parse_duration;
use crate::ws::client::{self, ClientConfig};
use crate::ws::close::{CloseCode, CloseFrame};
use crate::ws::connection::{Direction, Timeouts, WsError};
use crate::ws::frame::{draw_bits, FrameHeader};
use crate::ws::handshake::{Policy, DEFAULT_MAX_HEADER};
use crate::ws::message::Message;
use crate::ws::protocol::Limits;
use crate::ws::server::{self, EchoConfig, EchoEvent, ServerConfig, DEFAULT_MAX_CONNECTIONS};
use crate::ws::{DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME, DEFAULT_MAX_MESSAGE};
use clap::{Args, Subcommand};
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// `netlab ws ...`
#[derive(Debug, Subcommand)]
pub enum WsCommand {
    /// Run an RFC 6455 echo server: every text and binary message comes back as it was received.
    #[command(
        after_help = "Any path accepts the upgrade. Pings are answered, Close frames are echoed,\nand a client that breaks a rule gets the RFC's close code (1002, 1007 or 1009).\nA message not whole within --frame-timeout gets 1008, an idle client 1001, a message\nover the server's --max-memory 1013, and a client over --max-per-ip a 503 before the upgrade.\nCtrl-C or SIGTERM stops it; with --json it then prints one JSON object: connections accepted\nand refused (and why), messages echoed, the memory budget's peak.\n\nExamples:\n  netlab ws echo --listen 127.0.0.1:9001\n  netlab ws echo --listen 127.0.0.1:0 --max-message 1MiB --handshake-timeout 3s\n  netlab ws echo --origin http://localhost:8000 --protocol chat\n  netlab ws echo --frame-timeout 2s --idle-timeout 1min --max-memory 64MiB --max-per-ip 16\n  netlab ws echo --listen 127.0.0.1:0 --quiet --json     (stats as JSON when stopped)"
    )]
    Echo {
        /// Address to listen on (port 0 picks a free port, printed at start).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9001")]
        listen: String,
        /// Size and time limits.
        #[command(flatten)]
        limits: WsLimits,
        /// Most clients served at once; more wait until one leaves.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Limits across all connections.
        #[command(flatten)]
        guards: ServerGuards,
        /// The idle limit.
        #[command(flatten)]
        idle: IdleTimeout,
        /// Accept only browsers from these origins (repeat the flag; clients without Origin are allowed).
        #[arg(long = "origin", value_name = "ORIGIN")]
        origins: Vec<String>,
        /// Subprotocols to accept, in order of preference (repeat the flag).
        #[arg(long = "protocol", value_name = "NAME")]
        protocols: Vec<String>,
        /// Don't print a line per connection.
        #[arg(long, short)]
        quiet: bool,
        /// When stopped (Ctrl-C, SIGTERM), print the server's counts as one JSON object on stdout.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: one per core this process may use).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Connect to a WebSocket server, send messages and print what comes back.
    #[command(
        after_help = "With MSG arguments: sends each as a text message, prints the reply to each, then closes.\nWithout: every line of standard input is a text message; `/ping DATA`, `/binary TEXT`\nand `/close [CODE [REASON]]` send control frames. End of input closes (1000).\n\nExamples:\n  netlab ws connect ws://127.0.0.1:9001/ hello world\n  netlab ws connect ws://127.0.0.1:9001/ --frames hi\n  netlab ws connect ws://127.0.0.1:9001/chat"
    )]
    Connect {
        /// The server, as ws://host:port/path.
        url: String,
        /// Messages to send (text); omit to type them.
        msgs: Vec<String>,
        /// Print the HTTP upgrade as sent and received, then every frame's header fields, decoded bit by bit.
        #[arg(long)]
        frames: bool,
        /// Split each message into fragments of this many bytes (§5.4).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        fragment: Option<usize>,
        /// Size and time limits.
        #[command(flatten)]
        limits: WsLimits,
        /// Subprotocols to offer (repeat the flag).
        #[arg(long = "protocol", value_name = "NAME")]
        protocols: Vec<String>,
    },
}

/// The limits every WebSocket command takes.
#[derive(Debug, Args)]
pub struct WsLimits {
    /// Largest frame payload accepted (larger → close 1009).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
    /// Largest message, all fragments together (larger → close 1009).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_MESSAGE)]
    pub max_message: usize,
    /// Largest HTTP head during the handshake (larger → 431).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_HEADER)]
    pub max_header: usize,
    /// Time allowed for the whole opening handshake (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub handshake_timeout: Duration,
}

impl WsLimits {
    fn limits(&self) -> Limits {
        Limits {
            max_frame: self.max_frame,
            max_message: self.max_message,
        }
    }
}

/// Runs a `netlab ws` command.
pub fn run(cmd: WsCommand) -> CliResult {
    // The default value of handshake_timeout must match the named constant.
    debug_assert_eq!(parse_duration("10s"), Ok(DEFAULT_HANDSHAKE_TIMEOUT));
    match cmd {
        WsCommand::Echo {
            listen,
            limits,
            max_connections,
            guards,
            idle,
            origins,
            protocols,
            quiet,
            json,
            threads,
        } => echo(
            listen,
            limits,
            max_connections,
            (guards, idle),
            origins,
            protocols,
            (quiet, json),
            threads,
        ),
        WsCommand::Connect {
            url,
            msgs,
            frames,
            fragment,
            limits,
            protocols,
        } => {
            let config = ClientConfig {
                limits: limits.limits(),
                max_header: limits.max_header,
                handshake_timeout: limits.handshake_timeout,
                protocols,
                on_request: frames.then_some(show_request as fn(&str)),
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(connect(url, msgs, frames, fragment, config))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn echo(
    listen: String,
    limits: WsLimits,
    max_connections: usize,
    (guards, idle): (ServerGuards, IdleTimeout),
    origins: Vec<String>,
    protocols: Vec<String>,
    (quiet, json): (bool, bool),
    threads: Option<usize>,
) -> CliResult {
    let config = EchoConfig {
        server: ServerConfig {
            limits: limits.limits(),
            max_header: limits.max_header,
            handshake_timeout: limits.handshake_timeout,
            policy: Policy {
                allowed_origins: (!origins.is_empty()).then_some(origins),
                protocols,
            },
            timeouts: Timeouts {
                frame: guards.frame_timeout(),
                idle: idle.get(),
            },
        },
        max_connections,
        max_memory: guards.max_memory,
        max_per_ip: guards.max_per_ip,
    };
    let budget = MemoryBudget::new(guards.max_memory);
    let rt = super::runtime(threads)?;
    rt.block_on(async move {
        let (listener, addr, stop) = super::guard::listen_announced(&listen).await?;
        anstream::eprintln!(
            "{}",
            term::dim(format!(
                "WebSocket echo (RFC 6455) at ws://{addr}/ — max frame {} B, max message {} B; {}; Ctrl-C stops",
                limits.max_frame, limits.max_message, guards_line(&guards, Some(&idle))
            ))
        );
        let tally = std::sync::Arc::new(EchoTally::default());
        let counts = tally.clone();
        let server = server::serve_echo_with_budget(listener, config, budget.clone(), move |event| {
            match &event {
                EchoEvent::Upgraded { .. } => counts.accepted(),
                EchoEvent::Refused { .. } => counts.refused_handshake(),
                EchoEvent::AddressFull { .. } => counts.refused_per_ip(),
                EchoEvent::Closed { stats, .. } => counts.ended(stats.messages, stats.bytes, false),
                EchoEvent::Failed { stats, error, .. } => counts.ended(
                    stats.messages,
                    stats.bytes,
                    matches!(error, WsError::OverBudget(_)),
                ),
                EchoEvent::Accept(_) => {}
            }
            // Accept trouble is printed even with --quiet: the server is in trouble.
            if quiet && !matches!(event, EchoEvent::Accept(_)) {
                return;
            }
            match event {
                EchoEvent::Upgraded { peer, path } => {
                    anstream::eprintln!("{} {peer} upgraded {path}", term::good("+"))
                }
                EchoEvent::Refused { peer, error } => {
                    anstream::eprintln!("{} {peer} refused: {error}", term::bad("!"))
                }
                EchoEvent::AddressFull { peer, error } => {
                    anstream::eprintln!("{} {peer} refused (503): {error}", term::bad("!"))
                }
                EchoEvent::Closed { peer, close, stats } => anstream::eprintln!(
                    "{} {peer} closed ({}) after {} messages, {} bytes",
                    term::dim("-"),
                    close.map_or("no status".to_string(), |c| c.code.to_string()),
                    stats.messages,
                    stats.bytes
                ),
                EchoEvent::Failed { peer, stats, error } => anstream::eprintln!(
                    "{} {peer} failed after {} messages: {error}",
                    term::bad("!"),
                    stats.messages
                ),
                EchoEvent::Accept(report) => anstream::eprintln!("{} {report}", term::bad("!")),
            }
        });
        tokio::select! {
            r = server => r?,
            _ = stop => {}
        }
        print_stop_report(json, &tally.report(&budget, EchoUnit::Messages), &budget)?;
        Ok::<_, Box<dyn Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Prints an HTTP head line by line, `\r\n` made visible (lesson 08).
fn show_head(arrow: &str, head: &str) {
    for line in head.split_inclusive("\r\n") {
        anstream::println!("{arrow} {}", term::dim(line.replace("\r\n", "\\r\\n")));
    }
}

fn show_request(head: &str) {
    show_head(&term::bold("→ http"), head);
}

/// Prints a frame header the way lesson 09 draws it.
fn show_frame(dir: Direction, h: &FrameHeader) {
    let arrow = match dir {
        Direction::Sent => term::bold("→ frame"),
        Direction::Received => term::good("← frame"),
    };
    anstream::println!("{arrow} {h}");
    for line in draw_bits(h).lines() {
        anstream::println!("          {}", term::dim(line));
    }
}

fn show_message(msg: &Message) {
    match msg {
        Message::Text(t) => {
            anstream::println!("{} {}", term::good("←"), term::peer_text(t.as_str()))
        }
        Message::Binary(b) => anstream::println!(
            "{} {} {}",
            term::good("←"),
            term::dim(format!("[binary, {} bytes]", b.len())),
            term::hex(b, 32)
        ),
        Message::Ping(b) => {
            anstream::println!("{} ping {}", term::dim("←"), term::printable(b, 60))
        }
        Message::Pong(b) => {
            anstream::println!("{} pong {}", term::dim("←"), term::printable(b, 60))
        }
        Message::Close(c) => anstream::println!(
            "{} close {}",
            term::dim("←"),
            c.as_ref()
                .map_or("(no status code)".to_string(), |c| format!(
                    "{} {}",
                    c.code,
                    term::peer_text(&c.reason)
                ))
        ),
    }
}

/// Parses an interactive line into a message.
fn line_to_message(line: &str) -> Result<Message, String> {
    let Some(cmd) = line.strip_prefix('/') else {
        return Ok(Message::text(line));
    };
    let (word, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
    match word {
        "ping" => Ok(Message::Ping(bytes::Bytes::copy_from_slice(
            rest.as_bytes(),
        ))),
        "binary" => Ok(Message::binary(rest.as_bytes().to_vec())),
        "close" => {
            if rest.is_empty() {
                return Ok(Message::Close(None));
            }
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            let code: u16 = code
                .parse()
                .map_err(|_| format!("`{code}` is not a close code"))?;
            Ok(Message::Close(Some(CloseFrame {
                code: CloseCode::from_u16(code),
                reason: reason.to_string(),
            })))
        }
        _ => Err(format!(
            "unknown command /{word}: use /ping, /binary or /close"
        )),
    }
}

async fn connect(
    url: String,
    msgs: Vec<String>,
    frames: bool,
    fragment: Option<usize>,
    config: ClientConfig,
) -> CliResult {
    let (mut ws, response) = client::connect(&url, &config).await?;
    anstream::eprintln!(
        "{}",
        term::dim(format!(
            "connected {} → {url}{}",
            ws.get_ref().local_addr()?,
            response
                .protocol
                .map(|p| format!(" (subprotocol {p})"))
                .unwrap_or_default()
        ))
    );
    if frames {
        show_head(&term::good("← http"), &response.head);
        ws.set_frame_tap(Box::new(show_frame));
    }
    let send = |ws: &mut crate::ws::WebSocket<tokio::net::TcpStream>,
                msg: &Message|
     -> Result<(), WsError> {
        match (fragment, msg.is_data()) {
            (Some(n), true) => ws.feed_fragmented(msg, n),
            _ => ws.feed(msg),
        }
    };
    if !msgs.is_empty() {
        for m in &msgs {
            send(&mut ws, &Message::text(m.as_str()))?;
            ws.flush().await?;
            // Wait for the reply to this message (pings and pongs are shown on the way).
            loop {
                match ws.recv().await? {
                    Some(msg) => {
                        show_message(&msg);
                        if msg.is_data() {
                            break;
                        }
                        if let Message::Close(_) = msg {
                            return Ok(ExitCode::FAILURE);
                        }
                    }
                    None => return Ok(ExitCode::FAILURE),
                }
            }
        }
        return close_and_wait(&mut ws).await;
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if input_open => {
                match line? {
                    Some(line) => match line_to_message(&line) {
                        Ok(Message::Close(c)) => {
                            let (code, reason) = c.map_or((CloseCode::Normal, String::new()), |c| (c.code, c.reason));
                            ws.close(code, &reason).await?;
                            input_open = false;
                        }
                        Ok(msg) => {
                            send(&mut ws, &msg)?;
                            ws.flush().await?;
                        }
                        Err(e) => anstream::eprintln!("{} {e}", term::bad("!")),
                    },
                    None => {
                        ws.close(CloseCode::Normal, "").await?;
                        input_open = false;
                    }
                }
            }
            msg = ws.recv() => {
                match msg? {
                    Some(msg) => {
                        show_message(&msg);
                        if let Message::Close(_) = msg {
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                    None => return Ok(ExitCode::SUCCESS),
                }
            }
        }
    }
}

async fn close_and_wait(ws: &mut crate::ws::WebSocket<tokio::net::TcpStream>) -> CliResult {
    ws.close(CloseCode::Normal, "").await?;
    while let Some(msg) = ws.recv().await? {
        if let Message::Close(_) = msg {
            show_message(&msg);
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactive_lines() {
        assert_eq!(line_to_message("hi"), Ok(Message::text("hi")));
        assert_eq!(
            line_to_message("/ping x"),
            Ok(Message::Ping(bytes::Bytes::from_static(b"x")))
        );
        assert_eq!(
            line_to_message("/close 1001 bye"),
            Ok(Message::Close(Some(CloseFrame {
                code: CloseCode::GoingAway,
                reason: "bye".into()
            })))
        );
        assert!(line_to_message("/nope").is_err());
    }
}
