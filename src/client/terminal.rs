//! The terminal side of a chat session: typed lines become events, server
//! events become printed lines — the same over tcp://, udp:// and ws://.

use crate::chat::id::ConnId;
use crate::chat::protocol::{ClientEvent, LeaveReason, Relayed, ServerEvent};
use crate::term;
use std::collections::HashMap;
use std::time::Duration;

/// How long `netlab chat` waits for the answers to what it sent once its
/// input has ended.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The help text for the typed commands (`/help`).
pub const HELP: &str = "commands:
  /join ROOM            join a room (it becomes your current room)
  /leave [ROOM]         leave a room (default: the current one)
  /to ROOM|ID MESSAGE   say something in one room, or privately to one id
  /all MESSAGE          say something to everyone on the server
  /nick NAME            change your nickname
  /rooms                list your rooms
  /who [ROOM]           who is in a room (default: the current one)
  /quit                 leave
  anything else         goes to your current room (everyone if you have none)";

/// What a typed line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// Send this event; when the server accepts it, the room (if any) becomes the current one.
    Send(ClientEvent, Option<String>),
    /// Print the command list.
    Help,
    /// End the session.
    Quit,
    /// A command used the wrong way: say why.
    Bad(String),
    /// An empty line.
    Nothing,
}

fn message(to: Vec<String>, text: &str) -> ClientEvent {
    ClientEvent::Message {
        to,
        except: vec![],
        text: text.to_string(),
        include_self: false,
    }
}

/// Turns one typed line into an event; `current` is the current room.
pub fn parse_line(line: &str, current: Option<&str>) -> Line {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Line::Nothing;
    }
    let Some(cmd) = line.strip_prefix('/') else {
        let to = current.map(|r| vec![r.to_string()]).unwrap_or_default();
        return Line::Send(message(to, line), None);
    };
    let (name, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let rest = rest.trim();
    let arg = |what: &str| -> Result<String, Line> {
        match rest.split_whitespace().next() {
            Some(a) => Ok(a.to_string()),
            None => Err(Line::Bad(format!("/{name} needs {what}"))),
        }
    };
    let or_current = |what: &str| -> Result<String, Line> {
        match rest.split_whitespace().next().or(current) {
            Some(a) => Ok(a.to_string()),
            None => Err(Line::Bad(format!(
                "/{name} needs {what} (you have no current room)"
            ))),
        }
    };
    let r = match name {
        "join" => arg("a room").map(|room| {
            Line::Send(
                ClientEvent::Join {
                    room: room.clone(),
                    since: None,
                },
                Some(room),
            )
        }),
        "leave" => or_current("a room").map(|room| Line::Send(ClientEvent::Leave { room }, None)),
        "to" => match rest.split_once(' ') {
            Some((room, text)) if !text.trim().is_empty() => Ok(Line::Send(
                message(vec![room.to_string()], text.trim_start()),
                None,
            )),
            _ => Err(Line::Bad("/to needs a room (or id) and a message".into())),
        },
        "all" if !rest.is_empty() => Ok(Line::Send(message(vec![], rest), None)),
        "all" => Err(Line::Bad("/all needs a message".into())),
        "nick" => arg("a name").map(|nick| Line::Send(ClientEvent::Nick { nick }, None)),
        "rooms" => Ok(Line::Send(ClientEvent::Rooms, None)),
        "who" => or_current("a room").map(|room| Line::Send(ClientEvent::Who { room }, None)),
        "quit" | "exit" => Ok(Line::Quit),
        "help" | "?" => Ok(Line::Help),
        other => Err(Line::Bad(format!(
            "unknown command /{other}; /help lists them"
        ))),
    };
    r.unwrap_or_else(|bad| bad)
}

/// Settles `event` against the acks a terminal session waits for, the same for
/// every transport: an accepted ack may make its room the current one. Returns
/// `true` when the event means something was refused (a refused ack, an
/// `error`, a `bye`), which makes the session's exit status non-zero.
pub fn settle(
    event: &ServerEvent,
    waiting: &mut HashMap<u64, Option<String>>,
    current: &mut Option<String>,
) -> bool {
    if let ServerEvent::Ack { ack, ok, .. } = event {
        if let Some(becomes) = waiting.remove(ack) {
            if !*ok {
                return true;
            }
            if let Some(room) = becomes {
                *current = Some(room);
            }
        }
    }
    matches!(event, ServerEvent::Bye { .. } | ServerEvent::Error { .. })
}

/// A chat line for one server event, as `netlab chat` prints it.
pub fn render_event(e: &ServerEvent, me: ConnId) -> Option<String> {
    // Everything a peer chose (nicks, rooms, text) goes through `safe`, so
    // its control characters are shown, never obeyed by the terminal.
    let safe = |text: &str| term::peer_text(text).into_owned();
    let name = |nick: &str, id: &ConnId| {
        if *id == me {
            format!("{} (you)", safe(nick))
        } else {
            safe(nick)
        }
    };
    Some(match e {
        ServerEvent::Welcome { id, nick, .. } => format!("connected as {} (id {id})", safe(nick)),
        ServerEvent::Message {
            from,
            nick,
            to,
            text,
            ..
        } => {
            let place = if to.is_empty() {
                "everyone".to_string()
            } else if to.len() == 1 && to[0] == me.to_hex() {
                "private".to_string()
            } else {
                safe(&to.join(","))
            };
            let text = safe(text);
            format!("[{place}] {}: {text}", term::bold(name(nick, from)))
        }
        ServerEvent::File {
            from,
            nick,
            to,
            name: file,
            data,
            ..
        } => {
            let place = if to.is_empty() {
                "everyone".to_string()
            } else {
                safe(&to.join(","))
            };
            let size = data.decode().map_or(0, |d| d.len());
            format!(
                "[{place}] {} sent a file{} ({size} bytes)",
                term::bold(name(nick, from)),
                file.as_deref()
                    .map(|f| format!(" {}", safe(f)))
                    .unwrap_or_default()
            )
        }
        ServerEvent::Joined { room, id, nick, .. } => {
            term::dim(format!("[{}] → {} joined", safe(room), name(nick, id)))
        }
        ServerEvent::Left {
            room,
            id,
            nick,
            reason,
            ..
        } => term::dim(format!(
            "[{}] ← {} {}",
            safe(room),
            name(nick, id),
            match reason {
                LeaveReason::Leave => "left",
                LeaveReason::Disconnect => "disconnected",
            }
        )),
        ServerEvent::Nick { id, old, nick } => {
            term::dim(format!("{} is now {}", safe(old), name(nick, id)))
        }
        ServerEvent::Rooms { rooms } => format!(
            "your rooms: {}",
            rooms
                .iter()
                .map(|r| if *r == me.to_hex() {
                    format!("{r} (your own)")
                } else {
                    safe(r)
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ServerEvent::Who {
            room,
            members,
            partial,
        } => format!(
            "in {}: {}{}",
            safe(room),
            members
                .iter()
                .map(|m| {
                    let short: String = m.id.chars().take(8).collect();
                    match m.id.parse::<ConnId>() {
                        Ok(id) => format!("{} ({short})", name(&m.nick, &id)),
                        Err(_) => {
                            format!("{} ({}, on another server)", safe(&m.nick), safe(&short))
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            match partial {
                Some(why) => term::bad(format!(" (partial: {})", safe(why))).to_string(),
                None => String::new(),
            }
        ),
        ServerEvent::Ack { ok: true, .. } => return None,
        ServerEvent::Ack { error, message, .. } => format!(
            "{} {}",
            term::bad(format!(
                "refused ({}):",
                error.map(|c| c.to_string()).unwrap_or_default()
            )),
            safe(message.as_deref().unwrap_or_default())
        ),
        ServerEvent::Error { code, message } => {
            format!(
                "{} {}",
                term::bad(format!("error ({code}):")),
                safe(message)
            )
        }
        ServerEvent::Dropped { count } => term::bad(format!(
            "missed {count} events: you were reading too slowly"
        )),
        ServerEvent::Bye { message, .. } => {
            format!(
                "{} {}",
                term::bad("the server closed the connection:"),
                safe(message)
            )
        }
        ServerEvent::Resumed { nick, replayed, .. } => term::good(format!(
            "resumed as {}: {replayed} missed events follow",
            safe(nick)
        )),
        ServerEvent::Gap { message, .. } => term::bad(safe(message)),
        ServerEvent::Ping | ServerEvent::Pong => return None,
        ServerEvent::Relayed(r) => relayed(r),
    })
}

/// An event another server sent in its own shape (lesson 12): a message
/// as a message, anything else as its name and fields, all escaped.
fn relayed(r: &Relayed) -> String {
    let safe = |text: &str| term::peer_text(text).into_owned();
    let field = |k: &str| r.0.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    if r.name() == "message" && r.0.contains_key("text") {
        let from = match (field("nick"), field("from")) {
            ("", "") => "someone".to_string(),
            ("", id) => id.to_string(),
            (nick, _) => nick.to_string(),
        };
        return format!(
            "[from another server] {}: {}",
            term::bold(safe(&from)),
            safe(field("text"))
        );
    }
    let mut rest = r.0.clone();
    rest.remove("event");
    term::dim(format!(
        "{} {}",
        safe(r.name()),
        safe(&serde_json::Value::Object(rest).to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_peer_wrote_is_shown_escaped_never_obeyed() {
        let me = ConnId(1);
        let forged = ServerEvent::Message {
            from: ConnId(2),
            nick: "eve".into(),
            to: vec!["lobby".into()],
            text: "hi\r\n[private] admin: password?\x1b]0;pwned\x07\x1b[2J\u{202e}".into(),
            seq: Default::default(),
        };
        let line = render_event(&forged, me).unwrap();
        assert!(!line.contains(['\r', '\n', '\x07', '\u{202e}']), "{line:?}");
        assert!(
            line.contains("hi\\r\\n[private] admin: password?\\e]0;pwned\\u{7}\\e[2J\\u{202e}"),
            "{line:?}"
        );
    }

    #[test]
    fn typed_lines_become_events() {
        assert_eq!(
            parse_line("hello there", Some("lobby")),
            Line::Send(message(vec!["lobby".into()], "hello there"), None)
        );
        assert_eq!(
            parse_line("hello", None),
            Line::Send(message(vec![], "hello"), None)
        );
        assert_eq!(
            parse_line("/join dev", None),
            Line::Send(
                ClientEvent::Join {
                    room: "dev".into(),
                    since: None
                },
                Some("dev".into())
            )
        );
        assert_eq!(
            parse_line("/to dev  hi  all", None),
            Line::Send(message(vec!["dev".into()], "hi  all"), None)
        );
        assert_eq!(
            parse_line("/leave", Some("dev")),
            Line::Send(ClientEvent::Leave { room: "dev".into() }, None)
        );
        assert!(matches!(parse_line("/leave", None), Line::Bad(_)));
        assert!(matches!(parse_line("/to dev", None), Line::Bad(_)));
        assert!(matches!(parse_line("/frobnicate", None), Line::Bad(_)));
        assert_eq!(parse_line("/quit", None), Line::Quit);
        assert_eq!(parse_line("   ", None), Line::Nothing);
    }
}
