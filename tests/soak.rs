//! The soak driver (`netlab bench soak`, `scripts/soak`) in miniature, in one
//! process: an in-process hub with history and sessions on TCP and UDP, a
//! seeded lossy link in front of the UDP side, and a few seconds of churn in
//! which observers vanish without a FIN and resume.
//!
//! The first test is the soak's promise: every accepted message reaches every
//! resuming observer exactly once, and nothing in the server panics. The other
//! two prove that promise is not vacuous: observers that come back without
//! `resume` are counted as having lost events, and observers that resume
//! claiming to have seen nothing are counted as getting duplicates.
//! Nothing here asserts a time.

use netlab::bench::soak::{self, Fault, SoakConfig, SoakReport};
use netlab::chat::history::HistoryConfig;
use netlab::link::impairment::Impairment;
use netlab::link::relay::{self, RelayConfig};
use netlab::transport::{self, ChatServer, ServerConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

/// Panics anywhere in this test binary (the server's tasks included: tokio
/// catches a task's panic, so without this hook it would go unnoticed).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// A hub with history and sessions, on TCP and on UDP behind a 5 % lossy
/// link (seeded); returns the TCP address and the link's address.
async fn start_server() -> (String, String) {
    let config = ServerConfig {
        history: HistoryConfig {
            len: 200,
            session_ttl: Duration::from_secs(10),
            ..HistoryConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    server.start_ticker();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp_addr = tcp.local_addr().unwrap().to_string();
    tokio::spawn(transport::tcp::serve(tcp, server.clone()));
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp_addr = udp.local_addr().unwrap();
    tokio::spawn(transport::udp::serve(
        udp,
        server,
        transport::udp::UdpConfig::default(),
        transport::udp::new_stats(),
    ));
    let front = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let link_addr = front.local_addr().unwrap().to_string();
    let link = RelayConfig::new(
        udp_addr,
        Impairment {
            loss: 0.05,
            seed: 1,
            ..Impairment::default()
        },
    );
    tokio::spawn(relay::run(front, link, std::future::pending(), |_| {}));
    (tcp_addr, link_addr)
}

/// A few seconds of the soak: 40 connections, 4 observers that stay well
/// under a second at a time, members that churn every second or so.
fn small(addr: &str, udp: &str, fault: Fault) -> SoakConfig {
    let mut c = SoakConfig::new(addr, 40, Duration::from_secs(4));
    c.udp = Some(udp.to_string());
    c.udp_clients = 2;
    c.observers = 4;
    c.sender_rate = 50;
    c.warmup = Duration::from_secs(1);
    c.member_lifetime = Duration::from_millis(800);
    c.observer_stay = (Duration::from_millis(300), Duration::from_millis(700));
    c.away = (Duration::from_millis(50), Duration::from_millis(250));
    c.fault = fault;
    if fault != Fault::None {
        // A faulty observer may never see the last message: don't wait long for it.
        c.drain_timeout = Duration::from_secs(3);
    }
    c
}

async fn soak(fault: Fault) -> SoakReport {
    count_panics();
    let (tcp, udp) = start_server().await;
    soak::run(small(&tcp, &udp, fault))
        .await
        .expect("the soak starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_that_vanish_and_resume_get_every_message_exactly_once() {
    let r = soak(Fault::None).await;
    let text = r.to_text();
    eprintln!("{text}");
    assert!(r.sender.accepted > 0, "{text}");
    assert!(
        r.observers.resumes > 0,
        "the observers must have resumed: {text}"
    );
    assert!(
        r.connections.reset > 0 && r.connections.abandoned > 0,
        "both ways of vanishing without a FIN: {text}"
    );
    assert_eq!(r.observers.lost, 0, "{text}");
    assert_eq!(r.observers.duplicated, 0, "{text}");
    assert_eq!(
        r.observers.expected,
        r.sender.accepted * 4,
        "every observer is checked against every accepted message: {text}"
    );
    assert_eq!(r.observers.unfinished, 0, "{text}");
    assert!(r.failures().is_empty(), "{:?}\n{text}", r.failures());
    assert!(r.udp.as_ref().is_some_and(|u| u.sessions > 0), "{text}");
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a panic somewhere: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_that_come_back_without_resume_are_counted_as_losing_events() {
    let r = soak(Fault::NoResume).await;
    let text = r.to_text();
    eprintln!("{text}");
    assert!(
        r.connections.new_sessions > 4,
        "they came back as new sessions: {text}"
    );
    assert!(
        r.observers.lost > 0,
        "the accounting must see the loss: {text}"
    );
    assert!(
        r.failures().iter().any(|f| f.contains("lost")),
        "{:?}",
        r.failures()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_that_resume_claiming_to_have_seen_nothing_are_counted_as_getting_duplicates() {
    let r = soak(Fault::ReplayAll).await;
    let text = r.to_text();
    eprintln!("{text}");
    assert!(r.observers.resumes > 0, "{text}");
    assert!(
        r.observers.duplicated > 0,
        "the accounting must see the duplicates: {text}"
    );
    assert!(
        r.observers.dropped_by_seq > 0,
        "the client's seq check drops them, but the wire count sees them: {text}"
    );
    assert!(
        r.failures().iter().any(|f| f.contains("duplicated")),
        "{:?}",
        r.failures()
    );
}
