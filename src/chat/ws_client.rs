//! `netlab chat ws://HOST:PORT/ws`: the terminal chat over the hub's
//! WebSocket transport (lesson 10), the same lines and rendering as over TCP.
//!
//! Each JSON event is one WebSocket text message; the connection is the
//! hand-written RFC 6455 client ([`crate::ws::client`]).

use super::client::parse_server_event;
use super::command::{parse_line, render_event, settle, ChatArgs, Line, DRAIN_TIMEOUT, HELP};
use super::protocol::{ClientEvent, ClientFrame, ServerEvent};
use crate::cli::CliResult;
use crate::term;
use crate::ws::client::{connect, ClientConfig};
use crate::ws::{CloseCode, Message, WebSocket, WsError};
use std::collections::HashMap;
use std::process::ExitCode;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpStream;

/// Ack ids the terminal client starts from.
const FIRST_ACK: u64 = 1;

/// Waits for the next server event (None: the server closed).
async fn next_event(
    ws: &mut WebSocket<TcpStream>,
) -> Result<Option<ServerEvent>, Box<dyn std::error::Error>> {
    loop {
        match ws.recv().await {
            Ok(Some(Message::Text(t))) => return Ok(Some(parse_server_event(t.as_bytes())?)),
            Ok(Some(Message::Binary(_))) => {
                return Err("the server sent a binary message; chat events are JSON text".into())
            }
            Ok(Some(Message::Close(_))) | Ok(None) => return Ok(None),
            Ok(Some(_)) => {}
            Err(WsError::ClosedWithoutHandshake { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Runs the terminal chat against `url` until stdin ends (and every acked
/// event is answered) or the server closes.
pub(crate) async fn terminal(url: String, args: ChatArgs) -> CliResult {
    let (mut ws, _) = connect(&url, &ClientConfig::default()).await.map_err(|e| {
        format!("could not open {url}: {e} (is `netlab serve --http ADDR` running?)")
    })?;
    let json = args.json;
    let mut me = None;
    let mut show = |e: &ServerEvent| {
        if let ServerEvent::Welcome { id, .. } = e {
            me = Some(*id);
        }
        if json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else if let Some(id) = me {
            if let Some(line) = render_event(e, id) {
                anstream::println!("{line}");
            }
        }
    };
    match next_event(&mut ws).await? {
        Some(w @ ServerEvent::Welcome { .. }) => show(&w),
        Some(other) => return Err(format!("expected a welcome event first, got {other:?}").into()),
        None => return Err("the server closed the connection before the welcome".into()),
    }
    let mut next_ack = FIRST_ACK;
    // Ack id → the room that becomes current if the event is accepted.
    let mut waiting: HashMap<u64, Option<String>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut failed = false;
    let mut send = |ws: &mut WebSocket<TcpStream>,
                    waiting: &mut HashMap<u64, Option<String>>,
                    event: ClientEvent,
                    becomes: Option<String>| {
        let ack = next_ack;
        next_ack += 1;
        waiting.insert(ack, becomes);
        let json = ClientFrame {
            event,
            ack: Some(ack),
        }
        .to_json();
        let text = String::from_utf8(json).expect("serde_json writes UTF-8");
        ws.feed(&Message::text(text))
    };
    if let Some(nick) = args.nick.clone() {
        send(&mut ws, &mut waiting, ClientEvent::Nick { nick }, None)?;
    }
    if let Some(room) = args.room.clone() {
        send(
            &mut ws,
            &mut waiting,
            ClientEvent::Join {
                room: room.clone(),
                since: None,
            },
            Some(room),
        )?;
    }
    ws.flush().await?;
    // Like the TCP client: typed lines wait until the nick and room are settled,
    // so the first line already goes to the room.
    while !waiting.is_empty() {
        let event = tokio::time::timeout(DRAIN_TIMEOUT, next_event(&mut ws))
            .await
            .map_err(|_| format!("no answer to the nick and join after {DRAIN_TIMEOUT:?}"))??
            .ok_or("the server closed the connection")?;
        if let ServerEvent::Ack {
            ack, ok, message, ..
        } = &event
        {
            if let Some(becomes) = waiting.remove(ack) {
                if !*ok {
                    let why = message.clone().unwrap_or_default();
                    return Err(format!("the server refused the nickname or room: {why}").into());
                }
                if let Some(room) = becomes {
                    current = Some(room);
                }
            }
        }
        show(&event);
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    let drain_deadline = tokio::time::sleep(DRAIN_TIMEOUT * 1_000_000);
    tokio::pin!(drain_deadline);
    loop {
        if !input_open && waiting.is_empty() {
            break;
        }
        tokio::select! {
            line = lines.next_line(), if input_open => {
                let Some(line) = line? else {
                    input_open = false;
                    drain_deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_TIMEOUT);
                    continue;
                };
                match parse_line(&line, current.as_deref()) {
                    Line::Nothing => {}
                    Line::Help => anstream::println!("{}", term::dim(HELP)),
                    Line::Quit => { input_open = false; waiting.clear(); }
                    Line::Bad(why) => { anstream::println!("{} {why}", term::bad("?")); failed = true; }
                    Line::Send(event, becomes) => {
                        if let ClientEvent::Leave { room } = &event {
                            if current.as_deref() == Some(room.as_str()) {
                                current = None;
                            }
                        }
                        send(&mut ws, &mut waiting, event, becomes)?;
                        ws.flush().await?;
                    }
                }
            }
            event = next_event(&mut ws) => {
                let Some(event) = event? else {
                    if !json { anstream::println!("{}", term::dim("connection closed")); }
                    return Ok(if failed || !waiting.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS });
                };
                if settle(&event, &mut waiting, &mut current) {
                    failed = true;
                }
                show(&event);
            }
            _ = &mut drain_deadline, if !input_open => {
                anstream::eprintln!("{} no answer to {} event(s) after {:?}", term::bad("!"), waiting.len(), DRAIN_TIMEOUT);
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let _ = ws.close(CloseCode::Normal, "bye").await;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
