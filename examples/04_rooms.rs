//! Lesson 04: rooms, every routing form, and the membership table — on the hub
//! itself, no sockets needed (the hub is a state machine).
//!
//! Run: `cargo run --example 04_rooms`
//!
//! Notice: bob is in both lobby and dev and still hears a message to
//! ["lobby","dev"] once; a connection's own id is a room; disconnecting shows
//! the rooms before they are left.

use netlab::chat::hub::{Hub, Output};
use netlab::chat::id::ConnId;
use netlab::chat::limits::Limits;
use netlab::chat::protocol::ServerEvent;
use std::collections::BTreeMap;

fn main() -> Result<(), getrandom::Error> {
    let mut hub = Hub::new(Limits::default());
    let mut out = Vec::new();
    let mut names = BTreeMap::new();
    let mut ids = Vec::new();
    for (nick, rooms) in [
        ("ana", &["lobby"][..]),
        ("bob", &["lobby", "dev"]),
        ("cy", &["dev"]),
        ("dee", &[]),
    ] {
        let id = hub.connect(&mut out)?;
        names.insert(id, nick);
        ids.push(id);
        hub.handle(
            id,
            format!(r#"{{"event":"nick","nick":"{nick}"}}"#).as_bytes(),
            &mut out,
        );
        for r in rooms {
            hub.handle(
                id,
                format!(r#"{{"event":"join","room":"{r}"}}"#).as_bytes(),
                &mut out,
            );
        }
    }
    out.clear();
    println!("membership table:");
    let mut rooms: Vec<_> = hub
        .rooms()
        .room_sizes()
        .map(|(r, _)| r.to_string())
        .collect();
    rooms.sort();
    for r in rooms {
        let mut who: Vec<&str> = hub.rooms().members(&r).iter().map(|id| names[id]).collect();
        who.sort();
        println!("  {r:<6} -> {who:?}");
    }
    println!(
        "  and each connection is in its own room, e.g. ana in {}\n",
        ids[0]
    );

    let dee = ids[3].to_hex();
    let forms = [
        (
            "bob: io.to(\"lobby\")",
            1,
            r#""to":["lobby"],"self":true"#.to_string(),
        ),
        (
            "bob: socket.to(\"lobby\")",
            1,
            r#""to":["lobby"]"#.to_string(),
        ),
        (
            "bob: io.to([\"lobby\",\"dev\"])",
            1,
            r#""to":["lobby","dev"],"self":true"#.to_string(),
        ),
        ("ana: io.to(dee's id)", 0, format!(r#""to":["{dee}"]"#)),
        (
            "ana: io.except(\"dev\")",
            0,
            r#""except":["dev"],"self":true"#.to_string(),
        ),
        (
            "cy:  socket.to(\"lobby\") (not a member)",
            2,
            r#""to":["lobby"],"ack":1"#.to_string(),
        ),
    ];
    for (label, who, fields) in forms {
        let json = format!(r#"{{"event":"message","text":"hi",{fields}}}"#);
        hub.handle(ids[who], json.as_bytes(), &mut out);
        let mut heard = Vec::new();
        for o in out.drain(..) {
            if let Output::Deliver { to, event } = o {
                match &*event {
                    ServerEvent::Message { .. } => {
                        heard.extend(to.iter().map(|id| names[id].to_string()))
                    }
                    ServerEvent::Ack {
                        ok: false, message, ..
                    } => heard.push(format!("refused: {}", message.clone().unwrap_or_default())),
                    _ => {}
                }
            }
        }
        heard.sort();
        println!("{label:<42} -> {heard:?}");
    }

    println!("\nbob disconnects:");
    hub.disconnect(ids[1], "closed the connection", &mut out);
    for o in out.drain(..) {
        match o {
            Output::Disconnecting { rooms, .. } => println!("  disconnecting: still in {rooms:?}"),
            Output::Deliver { to, event } => {
                if let ServerEvent::Left { room, .. } = &*event {
                    let who: Vec<&str> = to.iter().map(|id: &ConnId| names[id]).collect();
                    println!("  left {room:<6} told to {who:?}");
                }
            }
            Output::Disconnected { .. } => {
                println!(
                    "  disconnect: in {:?} rooms now",
                    hub.rooms_of(ids[1]).len()
                )
            }
            // Close, and lesson 07's session outputs (this hub keeps no sessions).
            _ => {}
        }
    }
    Ok(())
}
