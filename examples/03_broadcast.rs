//! Lesson 03: a chat hub on loopback; `io.emit` versus `socket.broadcast.emit`.
//!
//! Run: `cargo run --example 03_broadcast`
//!
//! Notice: each client gets a random 128-bit id it did not choose; a message
//! sent with `"self": true` reaches everyone, without it everyone *but* the
//! sender; the ack says how many connections were reached. The JSON each
//! client sends is printed with the frame header in front of it.

use netlab::chat::protocol::{ClientEvent, ClientFrame, ServerEvent};
use netlab::client::tcp::ChatClient;
use netlab::transport::{tcp, ChatServer, ServerConfig};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(
        listener,
        Arc::new(ChatServer::new(ServerConfig::default())),
    ));
    println!("hub listening on {addr}\n");

    let mut people = Vec::new();
    for nick in ["ana", "bob", "cy"] {
        let mut c = ChatClient::connect(&addr).await?;
        c.call(ClientEvent::Nick { nick: nick.into() }).await?;
        println!("{nick:>4} connected; the server gave it id {}", c.id());
        people.push(c);
    }

    for include_self in [true, false] {
        let event = ClientEvent::Message {
            to: vec![],
            except: vec![],
            text: format!("hello (self: {include_self})"),
            include_self,
        };
        let json = ClientFrame {
            event: event.clone(),
            ack: None, // `call` adds an ack id of its own
        }
        .to_json();
        let header = (json.len() as u32).to_be_bytes();
        println!(
            "\nana sends {:02x?} + {}",
            header,
            String::from_utf8_lossy(&json)
        );
        let outcome = people[0].call(event).await?;
        println!("  the server's ack: {outcome:?}");
        for (i, p) in people.iter_mut().enumerate() {
            // Ask for our rooms as a marker: everything before its answer was for us.
            p.send_quiet(ClientEvent::Rooms).await?;
            loop {
                match p.next_event().await? {
                    ServerEvent::Message { nick, text, .. } => {
                        println!(
                            "  {:>4} received from {nick}: {text}",
                            ["ana", "bob", "cy"][i]
                        )
                    }
                    ServerEvent::Rooms { .. } => break,
                    _ => {}
                }
            }
        }
    }
    println!("\n  -> with self: true (io.emit) all three heard it; without (socket.broadcast.emit) ana did not.");
    Ok(())
}
