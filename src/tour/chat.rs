//! Tour step for lessons 03 and 04: a chat hub with several clients, a room,
//! a broadcast and a disconnect.

use super::{explain, ok, say, TourError};
use crate::chat::protocol::{ClientEvent, LeaveReason, ServerEvent};
use crate::client::tcp::{AckOutcome, ChatClient};
use crate::transport::{tcp, ChatServer, ServerConfig, ServerNote};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the tour waits for an event before calling the step failed.
const WAIT: Duration = Duration::from_secs(5);

fn fail(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

async fn next(c: &mut ChatClient) -> Result<ServerEvent, TourError> {
    tokio::time::timeout(WAIT, c.next_event())
        .await
        .map_err(|_| fail("an expected chat event did not arrive"))?
        .map_err(fail)
}

/// Three clients, a room, a broadcast to the room but the sender, a disconnect.
pub async fn rooms_and_broadcast() -> Result<(), TourError> {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let server = ChatServer::new(ServerConfig::default())
        .with_observer(move |n| sink.lock().expect("notes").push(n.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(listener, Arc::new(server)));
    say(format!("chat hub listening on {addr} (netlab serve --tcp)"));

    let mut clients = Vec::new();
    for (nick, room) in [("ana", "lobby"), ("bob", "lobby"), ("cy", "garden")] {
        let mut c = ChatClient::connect(&addr).await.map_err(fail)?;
        c.call(ClientEvent::Nick { nick: nick.into() })
            .await
            .map_err(fail)?;
        c.call(ClientEvent::Join {
            room: room.into(),
            since: None,
        })
        .await
        .map_err(fail)?;
        say(format!(
            "{nick:<4} id {} (128 random bits), joined {room}",
            c.id()
        ));
        clients.push(c);
    }
    let outcome = clients[0]
        .call(ClientEvent::Message {
            to: vec!["lobby".into()],
            except: vec![],
            text: "hello lobby".into(),
            include_self: false,
        })
        .await
        .map_err(fail)?;
    if outcome != AckOutcome::Reached(1) {
        return Err(fail(format!(
            "the message to lobby should reach bob only, ack said {outcome:?}"
        )));
    }
    loop {
        if let ServerEvent::Message { nick, text, to, .. } = next(&mut clients[1]).await? {
            ok(format!(
                "bob got [{}] {nick}: {text}; the ack told ana it reached 1 connection",
                to.join(",")
            ));
            break;
        }
    }
    // cy is in another room: among everything cy hears up to the answer to
    // its own question (its nick and join notices), there is no message.
    clients[2]
        .send_quiet(ClientEvent::Rooms)
        .await
        .map_err(fail)?;
    loop {
        match next(&mut clients[2]).await? {
            ServerEvent::Rooms { rooms } => {
                ok(format!(
                    "cy heard nothing; cy's rooms are its own id room and {}",
                    rooms[1..].join(", ")
                ));
                break;
            }
            ServerEvent::Message { .. } => {
                return Err(fail("cy is not in lobby but heard its message"))
            }
            _ => {}
        }
    }
    explain("socket.to(\"lobby\").emit: the room but the sender; other rooms hear nothing");

    let bob = clients.remove(1);
    let bob_id = bob.id();
    drop(bob);
    loop {
        if let ServerEvent::Left {
            nick,
            room,
            reason: LeaveReason::Disconnect,
            ..
        } = next(&mut clients[0]).await?
        {
            ok(format!(
                "bob closed his socket; ana got: {nick} left {room} (disconnect)"
            ));
            break;
        }
    }
    let seen = notes.lock().expect("notes").clone();
    for n in seen {
        match n {
            ServerNote::Disconnecting { id, rooms } if id == bob_id => {
                say(format!(
                    "server hook `disconnecting`: bob is still in his own id room and {}",
                    rooms[1..].join(", ")
                ));
            }
            ServerNote::Disconnected { id, .. } if id == bob_id => {
                say("server hook `disconnect`: bob has left every room".to_string());
            }
            _ => {}
        }
    }
    explain("disconnecting still sees the rooms (own id room + lobby); disconnect comes after they were left");
    Ok(())
}
