//! Tour step for lesson 05: the same chat room heard over TCP and over UDP
//! through a lossy link. The TCP client gets every message; the UDP client
//! misses some, and its sequence numbers say exactly which.

use super::{explain, ok, say, TourError};
use crate::chat::protocol::{ClientEvent, ServerEvent};
use crate::client::tcp::ChatClient;
use crate::client::udp::{Incoming, UdpChatClient};
use crate::link::impairment::Impairment;
use crate::link::relay::{self, RelayConfig};
use crate::transport::{tcp, udp, ChatServer, ServerConfig};
use crate::udp::Arrival;
use std::sync::Arc;
use std::time::Duration;

/// Messages ana sends into the room.
const MESSAGES: usize = 20;

/// Share of datagrams the link drops, each way.
const LOSS: f64 = 0.25;

/// The link's seed: the same seed loses the same datagrams every run.
const SEED: u64 = 5;

/// How long the tour waits for an event before calling the step failed.
const WAIT: Duration = Duration::from_secs(5);

fn fail(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

fn say_to(to: &str) -> ClientEvent {
    ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: to.into(),
        include_self: false,
    }
}

/// A UDP client and a TCP client in one room; the UDP one behind `netlab link --loss 25%`.
pub async fn loss_made_visible() -> Result<(), TourError> {
    let server = Arc::new(ChatServer::new(ServerConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let tcp_addr = listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let udp_addr = socket.local_addr()?;
    tokio::spawn(udp::serve(
        socket,
        server.clone(),
        udp::UdpConfig::default(),
        udp::new_stats(),
    ));
    let front = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let link_addr = front.local_addr()?.to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let link = tokio::spawn(relay::run(
        front,
        RelayConfig::new(
            udp_addr,
            Impairment {
                loss: LOSS,
                seed: SEED,
                ..Impairment::default()
            },
        ),
        async {
            let _ = stopped.await;
        },
        |_| {},
    ));
    say(format!(
        "chat hub on tcp://{tcp_addr} and udp://{udp_addr}; a link on {link_addr} drops {}% each way (seed {SEED})",
        LOSS * 100.0
    ));

    let mut ana = ChatClient::connect(&tcp_addr).await.map_err(fail)?;
    let mut cy = ChatClient::connect(&tcp_addr).await.map_err(fail)?;
    for (c, nick) in [(&mut ana, "ana"), (&mut cy, "cy")] {
        c.call(ClientEvent::Nick { nick: nick.into() })
            .await
            .map_err(fail)?;
        c.call(ClientEvent::Join {
            room: "lobby".into(),
            since: None,
        })
        .await
        .map_err(fail)?;
    }
    let mut bob = UdpChatClient::connect(&link_addr).await.map_err(fail)?;
    for e in [
        ClientEvent::Nick { nick: "bob".into() },
        ClientEvent::Join {
            room: "lobby".into(),
            since: None,
        },
    ] {
        bob.call(e)
            .await
            .map_err(fail)?
            .ok_or_else(|| fail("bob's start-up events got no answer through the link"))?;
    }
    say("ana and cy joined lobby over TCP; bob joined over UDP, through the link (hello, nick and join are resent until answered)");
    for i in 1..=MESSAGES {
        ana.call(say_to(&format!("msg {i}"))).await.map_err(fail)?;
    }
    say(format!("ana sent msg 1 … msg {MESSAGES} to lobby"));

    let mut heard = Vec::new();
    while heard.len() < MESSAGES {
        let e = tokio::time::timeout(WAIT, cy.next_event())
            .await
            .map_err(|_| fail("cy (TCP) stopped hearing messages"))?
            .map_err(fail)?;
        if let ServerEvent::Message { text, .. } = e {
            heard.push(text);
        }
    }
    let expected: Vec<String> = (1..=MESSAGES).map(|i| format!("msg {i}")).collect();
    if heard != expected {
        return Err(fail(format!("cy (TCP) heard {heard:?}")));
    }
    ok(format!(
        "cy (TCP) got all {MESSAGES}, in order: TCP resends what the network loses"
    ));

    // bob asks for his rooms (resent until answered): everything queued for
    // him before it has arrived or is gone, so every gap has shown.
    bob.call(ClientEvent::Rooms)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("bob's question got no answer through the link"))?;
    let mut got = 0;
    let mut notices = 0u64;
    let mut line = String::new();
    for inc in bob.take_pending() {
        match inc {
            Incoming::Event(ServerEvent::Message { text, .. }) => {
                got += 1;
                line.push_str(&format!("{} · ", text.trim_start_matches("msg ")));
            }
            Incoming::Notice(a) => {
                if let Arrival::AfterGap { missing, .. } = &a {
                    notices += missing.end() - missing.start() + 1;
                }
                line.push_str(&format!("[{a}] · "));
            }
            _ => {}
        }
    }
    say(format!("bob (UDP) saw: {}", line.trim_end_matches(" · ")));
    let _ = stop.send(());
    let report = link.await.map_err(fail)?.map_err(fail)?;
    let lost = report.backward.lost;
    if got >= MESSAGES || notices != lost {
        return Err(fail(format!(
            "bob got {got} of {MESSAGES}; his notices count {notices} lost, the link dropped {lost}"
        )));
    }
    ok(format!(
        "bob (UDP) got {got} of {MESSAGES}; his notices count {notices} datagrams lost — exactly what the link dropped towards him"
    ));
    explain("every datagram carries the sender's sequence number: a jump shows the loss, nothing resends it");
    Ok(())
}
