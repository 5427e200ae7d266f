//! The chat hub over UDP, from outside: the real `netlab serve --tcp --udp`,
//! real `netlab chat udp://` and `tcp://` processes, `netlab link` making
//! loss real, and raw UDP sockets playing garbage senders and spoofers.

mod support;

use support::Proc;

use serde_json::Value;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

/// Bound for "this line must appear": a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(30);

/// The sequence header: 4 bytes seq, 4 bytes timestamp (see src/udp/header.rs).
const HEADER: usize = 8;
/// 1500-byte MTU − 20 (IPv4) − 8 (UDP), written out independently of the library.
const MAX_DATAGRAM: usize = 1472;
/// The smallest hello the server answers (QUIC's 1200, RFC 9000 §14.1).
const HELLO_MIN: usize = 1200;

/// `netlab serve` on port 0 for both transports; returns it and (tcp, udp) addresses.
fn serve(extra: &[&str]) -> (Proc, String, String) {
    let mut args = vec!["serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut p = Proc::spawn_with_stderr(&args);
    let tcp = p.expect("listening on tcp://")["listening on tcp://".len()..].to_string();
    let udp = p.expect("listening on udp://")["listening on udp://".len()..].to_string();
    (p, tcp, udp)
}

fn chat(url: &str, nick: &str, room: &str) -> Proc {
    let mut p = Proc::spawn_with_stderr(&["chat", url, "--nick", nick, "--room", room]);
    p.expect(&format!("[{room}] → {nick} (you) joined"));
    p
}

/// A raw datagram: the header (seq, timestamp 0) written out by hand, then `message`.
fn datagram(seq: u32, message: &[u8]) -> Vec<u8> {
    let mut d = seq.to_be_bytes().to_vec();
    d.extend_from_slice(&[0, 0, 0, 0]);
    d.extend_from_slice(message);
    d
}

fn hello(seq: u32) -> Vec<u8> {
    let mut d = datagram(seq, br#"{"event":"hello"}"#);
    d.resize(HELLO_MIN, b' ');
    d
}

/// A raw UDP socket towards the server, counting what it sends and receives.
struct Raw {
    sock: UdpSocket,
    sent: usize,
    received: usize,
    seq: u32,
}

impl Raw {
    fn new(server: &str) -> Raw {
        Raw::from_ip([127, 0, 0, 1], server)
    }

    /// A socket on another loopback address (Linux routes all of 127/8 to
    /// `lo`): to the server, another machine.
    fn from_ip(ip: [u8; 4], server: &str) -> Raw {
        let sock = UdpSocket::bind((std::net::Ipv4Addr::from(ip), 0)).unwrap();
        sock.connect(server).unwrap();
        Raw {
            sock,
            sent: 0,
            received: 0,
            seq: 0,
        }
    }

    fn send_raw(&mut self, d: &[u8]) {
        self.sent += self.sock.send(d).unwrap();
    }

    fn send(&mut self, message: &[u8]) {
        let d = datagram(self.seq, message);
        self.seq += 1;
        self.send_raw(&d);
    }

    fn hello(&mut self) {
        let d = hello(self.seq);
        self.seq += 1;
        self.send_raw(&d);
    }

    /// Every datagram that arrives within `wait` (after the last one), parsed as JSON.
    fn drain(&mut self, wait: Duration) -> Vec<Value> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 65536];
        let mut out = Vec::new();
        while let Ok(n) = self.sock.recv(&mut buf) {
            self.received += n;
            assert!(n >= HEADER, "every datagram carries the header");
            out.push(serde_json::from_slice(&buf[HEADER..n]).expect("JSON after the header"));
        }
        out
    }

    /// Sends an acked `rooms` and waits for its ack: the server has handled
    /// every datagram that reached its socket before this one.
    fn round_trip(&mut self, ack: u64) {
        self.send(format!(r#"{{"event":"rooms","ack":{ack}}}"#).as_bytes());
        self.sock.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0u8; 65536];
        loop {
            let n = self.sock.recv(&mut buf).expect("the ack comes back");
            let v: Value = serde_json::from_slice(&buf[HEADER..n]).unwrap();
            if v["event"] == "ack" && v["ack"] == ack {
                return;
            }
        }
    }

    /// Opens a verified session: hello, welcome, heartbeat with the id, session.
    fn open(&mut self) -> String {
        self.hello();
        let got = self.drain(Duration::from_millis(500));
        assert_eq!(got.len(), 1, "one welcome: {got:?}");
        assert_eq!(got[0]["event"], "welcome");
        let id = got[0]["id"].as_str().unwrap().to_string();
        self.send(format!(r#"{{"event":"heartbeat","id":"{id}"}}"#).as_bytes());
        let got = self.drain(Duration::from_millis(500));
        assert_eq!(got[0]["event"], "session", "{got:?}");
        id
    }
}

/// Waits for the server's counters line that shows `text`.
fn counters_line(server: &mut Proc, text: &str) -> String {
    loop {
        let line = server.expect("udp: ");
        if line.contains(text) {
            return line;
        }
    }
}

/// `netlab link` in front of the server's UDP port with `impairment` (e.g.
/// `--loss 30%`); returns it and the address clients should use instead.
fn link_to(udp: &str, impairment: &[&str]) -> (Proc, String) {
    let mut args = vec!["link", "--listen", "127.0.0.1:0", "--to", udp];
    args.extend_from_slice(impairment);
    let mut link = Proc::spawn_with_stderr(&args);
    let via = link.expect("listening on ")["listening on ".len()..]
        .split(" -> ")
        .next()
        .expect("`listening on ADDR -> TARGET`")
        .to_string();
    (link, via)
}

#[test]
fn a_udp_client_and_a_tcp_client_chat_in_the_same_room() {
    let (_server, tcp, udp) = serve(&[]);
    let mut bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    bob.expect("[lobby] → ana joined");
    ana.type_line("hello from tcp");
    bob.expect("[lobby] ana: hello from tcp");
    bob.type_line("hello from udp");
    ana.expect("[lobby] bob: hello from udp");
    bob.type_line("/who");
    let who = bob.expect("in lobby:");
    assert!(who.contains("ana") && who.contains("bob (you)"), "{who}");
    let (ok, lines) = bob.finish();
    assert!(ok, "bob exits cleanly: {lines:#?}");
    let summary = lines
        .iter()
        .find(|l| l.contains("from the server:"))
        .unwrap();
    assert!(
        summary.contains(" 0 lost"),
        "nothing is lost on loopback: {summary}"
    );
    ana.expect("[lobby] ← bob disconnected");
}

/// Sums the counts of "N messages lost" / "1 message lost" notices.
fn lost_in_notices(lines: &[String]) -> u64 {
    lines
        .iter()
        .filter_map(|l| {
            let l = l.trim_start_matches("⚠ ");
            if l.starts_with("1 message lost: seq ") {
                Some(1)
            } else {
                l.split_once(" messages lost: seq ")
                    .and_then(|(n, _)| n.parse().ok())
            }
        })
        .sum()
}

#[test]
fn loss_on_the_link_shows_as_notices_that_add_up_to_what_the_link_dropped() {
    // Heartbeats (and their answers) only every minute: no datagram can be
    // on its way to bob after his final sync, even on a slow machine.
    let (_server, tcp, udp) = serve(&[
        "--rate",
        "10000",
        "--burst",
        "10000",
        "--udp-heartbeat",
        "60s",
        "--udp-expiry",
        "120s",
    ]);
    let (mut link, via) = link_to(&udp, &["--loss", "30%", "--seed", "11", "--json"]);
    let bob = Proc::spawn_with_stderr(&[
        "chat",
        &format!("udp://{via}"),
        "--nick",
        "bob",
        "--room",
        "lobby",
    ]);
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    // Bob's own `joined` may be lost on its way to him (his join is resent
    // until acked, the event is not): the hub's word is ana's `/who`.
    let deadline = Instant::now() + PATIENCE;
    loop {
        ana.type_line("/who");
        if ana.expect("in lobby:").contains("bob") {
            break;
        }
        assert!(Instant::now() < deadline, "bob never joined");
        std::thread::sleep(Duration::from_millis(100));
    }
    const N: usize = 200;
    for i in 0..N {
        ana.type_line(&format!("m{i}"));
    }
    // TCP keeps order: once ana's /who is answered, the hub has queued all N for bob.
    ana.type_line("/who");
    ana.expect("in lobby:");
    let (ok, bob_lines) = bob.finish();
    assert!(ok, "{bob_lines:#?}");
    // Stop the link: it prints its final counters.
    let pid = link.child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let report: Value = serde_json::from_str(&link.expect("\"backward\"")).unwrap();
    let link_lost = report["backward"]["lost"].as_u64().unwrap();
    let shown = lost_in_notices(&bob_lines);
    let got = bob_lines
        .iter()
        .filter(|l| l.starts_with("[lobby] ana: m"))
        .count();
    assert!(link_lost > 0, "30% loss lost something: {report}");
    assert!(got < N && got > N / 2, "bob got {got} of {N}");
    assert_eq!(
        shown, link_lost,
        "every datagram the link dropped towards bob shows in a notice"
    );
    let summary = bob_lines
        .iter()
        .find(|l| l.contains("from the server:"))
        .unwrap();
    assert!(
        summary.contains(&format!(", {link_lost} lost,")),
        "{summary}"
    );
    drop(ana);
}

#[test]
fn garbage_and_spoofed_datagrams_are_counted_and_never_amplified() {
    let (mut server, tcp, udp) = serve(&[]);
    // Garbage: shorter than the header.
    let mut g = Raw::new(&udp);
    for len in 0..HEADER {
        g.send_raw(&vec![0xa5; len]);
    }
    // Not a hello, from an address with no session.
    g.send(br#"{"event":"join","room":"lobby"}"#);
    g.send(b"\xff\xfe garbage");
    // A hello one byte short of the minimum.
    let mut short = hello(9);
    short.pop();
    g.send_raw(&short);
    assert!(
        g.drain(Duration::from_millis(500)).is_empty(),
        "no answer at all"
    );
    assert_eq!(g.received, 0);

    // A spoofer: hello and join "from" an address that never heartbeats (in
    // reality it would not even receive), while the room is busy.
    let mut spoof = Raw::new(&udp);
    spoof.hello();
    spoof.send(br#"{"event":"join","room":"lobby"}"#);
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    for i in 0..30 {
        ana.type_line(&format!("{i} {}", "x".repeat(1000)));
    }
    ana.type_line("/who");
    ana.expect("in lobby:");
    let got = spoof.drain(Duration::from_millis(500));
    assert!(!got.is_empty() && got[0]["event"] == "welcome");
    assert!(
        spoof.received <= spoof.sent,
        "an unverified address got {} bytes for the {} it sent",
        spoof.received,
        spoof.sent
    );
    // The counters line each second: wait for the one with the room's traffic held back.
    let held = |line: &str| -> u64 {
        line.split("; ")
            .find_map(|p| p.strip_suffix(" bytes held back from unverified addresses"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let line = loop {
        let line = counters_line(&mut server, "sessions 1 opened");
        if held(&line) > 30_000 {
            break line;
        }
    };
    assert!(
        line.contains("dropped 8 garbage, 2 from unknown addresses, 1 short hellos"),
        "{line}"
    );
}

#[test]
fn oversized_messages_are_refused_clearly_on_both_sides() {
    let (_server, tcp, udp) = serve(&[]);
    let mut bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    // What bob's client sends for a line of text, written out by hand:
    // {"ack":N,"event":"message","except":[],"self":false,"text":"...","to":["lobby"]}
    // (keys sorted by serde_json's map); find the text length whose datagram is exactly 1472.
    let json = |text: &str, ack: u64| {
        netlab::chat::protocol::ClientFrame {
            event: netlab::chat::protocol::ClientEvent::Message {
                to: vec!["lobby".into()],
                except: vec![],
                text: text.into(),
                include_self: false,
            },
            ack: Some(ack),
        }
        .to_json()
        .len()
    };
    let overhead = json("", 2);
    let max_text = MAX_DATAGRAM - HEADER - overhead;
    assert_eq!(json(&"a".repeat(max_text), 2) + HEADER, MAX_DATAGRAM);
    bob.type_line(&"a".repeat(max_text));
    let got = ana.expect("[lobby] bob: aaa");
    assert_eq!(
        got.len(),
        "[lobby] bob: ".len() + max_text,
        "delivered whole"
    );
    bob.type_line(&"b".repeat(max_text + 1));
    let refused = bob.expect("not sent:");
    assert!(refused.contains("too large for one datagram"), "{refused}");
    // Server side: a 2,000-byte message from a TCP client cannot reach bob whole.
    ana.type_line(&"c".repeat(2000));
    let err = bob.expect("error (frame_too_long)");
    assert!(err.contains("did not fit one datagram"), "{err}");
    // A raw datagram one byte over the limit from a session gets the error too.
    let mut raw = Raw::new(&udp);
    raw.open();
    raw.send_raw(&vec![b' '; MAX_DATAGRAM + 1]);
    let got = raw.drain(Duration::from_millis(500));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["code"], "frame_too_long");
    let (ok, _) = bob.finish();
    assert!(!ok, "a refused line makes the exit status non-zero");
}

#[test]
fn a_silent_client_expires_and_its_room_sees_it_leave() {
    let (mut server, tcp, udp) = serve(&["--udp-expiry", "1s", "--udp-heartbeat", "200ms"]);
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    // The real client heartbeats every 200 ms: it outlives several expiry periods.
    let mut bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    // A raw client that joins and then goes silent.
    let mut raw = Raw::new(&udp);
    let id = raw.open();
    raw.send(br#"{"event":"nick","nick":"mute"}"#);
    raw.send(br#"{"event":"join","room":"lobby"}"#);
    ana.expect("[lobby] → mute joined");
    let t = Instant::now();
    ana.expect("[lobby] ← mute disconnected");
    let after = t.elapsed();
    assert!(
        after >= Duration::from_millis(900),
        "not before the expiry: {after:?}"
    );
    server.expect(&format!("{} disconnected: expired", &id[..8]));
    std::thread::sleep(Duration::from_millis(1500));
    ana.type_line("/who");
    let who = ana.expect("in lobby:");
    assert!(who.contains("bob") && !who.contains("mute"), "{who}");
    bob.type_line("still here");
    ana.expect("[lobby] bob: still here");
}

#[test]
fn the_session_limit_holds_at_max_and_refuses_max_plus_one_briefly() {
    let (_server, _tcp, udp) = serve(&["--udp-max-sessions", "2"]);
    let mut a = Raw::new(&udp);
    let mut b = Raw::new(&udp);
    a.open();
    b.open();
    let mut c = Raw::new(&udp);
    c.hello();
    let got = c.drain(Duration::from_millis(500));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["event"], "bye");
    assert_eq!(got[0]["code"], "server_full");
    assert!(c.received < c.sent, "the refusal is smaller than the hello");
    // One leaves: the next hello gets in.
    a.send(br#"{"event":"bye"}"#);
    std::thread::sleep(Duration::from_millis(200));
    c.open();
}

#[test]
fn bad_udp_flags_are_refused_with_the_rule() {
    for flags in [
        &["--udp-max-sessions", "0"][..],
        &["--udp-expiry", "1s", "--udp-heartbeat", "1s"][..],
        &["--udp-max-unverified", "0"][..],
        &["--udp-max-per-ip", "0"][..],
        &["--udp-verify-timeout", "0"][..],
    ] {
        let out = Command::new(support::netlab_bin())
            .args(["serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
            .args(flags)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("--udp-heartbeat above 0 and below --udp-expiry"));
    }
}

#[test]
fn a_duplicating_link_shows_duplicates_and_each_message_once() {
    let (_server, tcp, udp) = serve(&[]);
    let (_link, via) = link_to(&udp, &["--duplicate", "100%", "--seed", "3"]);
    let bob = chat(&format!("udp://{via}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    for i in 0..5 {
        ana.type_line(&format!("d{i}"));
    }
    ana.type_line("/who");
    ana.expect("in lobby:");
    let (ok, lines) = bob.finish();
    assert!(ok, "{lines:#?}");
    for i in 0..5 {
        let n = lines
            .iter()
            .filter(|l| **l == format!("[lobby] ana: d{i}"))
            .count();
        assert_eq!(n, 1, "d{i} shown once: {lines:#?}");
    }
    let dups = lines.iter().filter(|l| l.contains("duplicate of ")).count();
    assert!(dups >= 5, "every copy is named as one: {lines:#?}");
}

#[test]
fn a_client_datagram_sent_twice_reaches_the_room_once() {
    let (_server, tcp, udp) = serve(&[]);
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    let mut raw = Raw::new(&udp);
    raw.open();
    raw.send(br#"{"event":"nick","nick":"echo"}"#);
    raw.send(br#"{"event":"join","room":"lobby"}"#);
    let copy = datagram(
        raw.seq,
        br#"{"event":"message","to":["lobby"],"text":"once"}"#,
    );
    raw.seq += 1;
    raw.send_raw(&copy);
    raw.send_raw(&copy);
    raw.send(br#"{"event":"message","to":["lobby"],"text":"then this"}"#);
    ana.expect("[lobby] echo: once");
    let next = ana.expect("[lobby] echo:");
    assert_eq!(
        next, "[lobby] echo: then this",
        "the copy was not delivered"
    );
}

#[test]
fn random_datagrams_never_crash_the_server_nor_get_more_bytes_back() {
    let (_server, tcp, udp) = serve(&[]);
    let mut g = Raw::new(&udp);
    // A fixed-seed generator (SplitMix64, written out) for reproducible garbage.
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let prefixes: [&[u8]; 4] = [
        b"",
        br#"{"event":"hello""#,
        br#"{"event":"heartbeat","id":""#,
        br#"{"event":"bye"#,
    ];
    for _ in 0..2000 {
        let len = (next() % 1600) as usize;
        let mut d = datagram(next() as u32, prefixes[(next() % 4) as usize]);
        while d.len() < len {
            d.push(next() as u8);
        }
        g.send_raw(&d);
    }
    g.drain(Duration::from_millis(300));
    assert!(
        g.received <= g.sent,
        "got {} bytes back for {} sent",
        g.received,
        g.sent
    );
    // Still serving, over both transports.
    let bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    drop(bob);
    ana.type_line("/who");
    ana.expect("in lobby:");
}

#[test]
fn a_reordering_link_shows_late_arrivals_and_every_message_once() {
    let (_server, tcp, udp) = serve(&[]);
    let (_link, via) = link_to(
        &udp,
        &["--reorder", "30%", "--reorder-hold", "20ms", "--seed", "4"],
    );
    let bob = chat(&format!("udp://{via}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    for i in 0..40 {
        ana.type_line(&format!("r{i}"));
    }
    ana.type_line("/who");
    ana.expect("in lobby:");
    std::thread::sleep(Duration::from_millis(100));
    let (ok, lines) = bob.finish();
    assert!(ok, "{lines:#?}");
    for i in 0..40 {
        let n = lines
            .iter()
            .filter(|l| **l == format!("[lobby] ana: r{i}"))
            .count();
        assert_eq!(n, 1, "r{i} shown once: {lines:#?}");
    }
    assert!(
        lines.iter().any(|l| l.contains("arrived late: ")),
        "{lines:#?}"
    );
    // A late datagram first shows as a gap, then fills it: nothing ends up lost.
    let summary = lines
        .iter()
        .find(|l| l.contains("from the server:"))
        .unwrap();
    assert!(summary.contains(", 0 lost,"), "{summary}");
}

#[test]
fn the_client_notices_when_the_server_is_gone() {
    let (mut server, _tcp, udp) = serve(&["--udp-expiry", "600ms", "--udp-heartbeat", "200ms"]);
    let bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    let _ = server.child.kill();
    // Loopback answers with ICMP port unreachable ("connection refused"); a
    // real network may say nothing, and then the unanswered heartbeats tell.
    let (ok, lines) = bob.finish();
    assert!(!ok);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("the session is gone") || l.contains("Connection refused")),
        "{lines:#?}"
    );
}

#[test]
fn the_client_notices_a_server_that_stops_answering() {
    // A hand-played server: answers the hello and the first heartbeat, then
    // keeps its socket open and says nothing (no ICMP, as on a real network).
    let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = fake.local_addr().unwrap().to_string();
    let mut bob = Proc::spawn_with_stderr(&["chat", &format!("udp://{addr}")]);
    let mut buf = [0u8; 2048];
    fake.set_read_timeout(Some(PATIENCE)).unwrap();
    let (n, client) = fake.recv_from(&mut buf).unwrap();
    assert_eq!(n, HELLO_MIN, "the hello is padded to 1200 bytes");
    assert!(buf[HEADER..n].starts_with(br#"{"event":"hello"}"#));
    let id = "0123456789abcdef0123456789abcdef";
    let welcome = format!(
        r#"{{"event":"welcome","id":"{id}","nick":"guest-0123","limits":{{"max_nick":32,"max_room":64,"max_rooms":32,"max_text":4096,"rate":100,"burst":200}}}}"#
    );
    fake.send_to(&datagram(0, welcome.as_bytes()), client)
        .unwrap();
    let (n, _) = fake.recv_from(&mut buf).unwrap();
    assert_eq!(
        &buf[HEADER..n],
        format!(r#"{{"event":"heartbeat","id":"{id}"}}"#).as_bytes(),
        "the heartbeat echoes the welcome's id"
    );
    let session = br#"{"event":"session","heartbeat_ms":100,"expiry_ms":300,"max_message":1464}"#;
    fake.send_to(&datagram(1, session), client).unwrap();
    bob.expect("connected as guest-0123");
    let t = Instant::now();
    bob.expect("the session is gone");
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // Meanwhile it kept sending heartbeats every 100 ms.
    let mut beats = 0;
    fake.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while let Ok((n, _)) = fake.recv_from(&mut buf) {
        beats += usize::from(buf[HEADER..n].starts_with(br#"{"event":"heartbeat""#));
    }
    assert!(beats >= 2, "{beats} heartbeats");
}

/// The `n`-th spoofed source address: 127.10.0.1, 127.10.0.2, … (never
/// 127.0.0.1, never a .0 or .255 octet).
fn spoofed_ip(n: usize) -> [u8; 4] {
    let (a, b, c) = (n / (250 * 250), (n / 250) % 250, n % 250);
    [127, 10 + a as u8, 1 + b as u8, 1 + c as u8]
}

/// One padded hello from the `n`-th spoofed address; whatever comes back is
/// never read (a spoofer does not receive), the socket is dropped at once.
fn spoofed_hello(udp: &str, n: usize) {
    let sock = UdpSocket::bind((std::net::Ipv4Addr::from(spoofed_ip(n)), 0)).unwrap();
    sock.send_to(&hello(0), udp).unwrap();
}

/// The finding: 6,000 hellos from different addresses used to fill
/// `serve --udp` (4,096 sessions) and lock real clients out with
/// `server_full` for the 30 s expiry. Unverified sessions now live in their
/// own small pool, a newer hello replacing the oldest that never proved its
/// address: with the flood still going on, a real client gets its welcome,
/// verifies, joins and chats both ways.
#[test]
fn a_real_client_gets_in_while_a_spoofed_hello_flood_goes_on() {
    let (mut server, tcp, udp) = serve(&[]);
    // 6,000 hellos, in batches the server's socket buffer holds, each batch
    // followed by a probe's round trip: none is lost before it is handled.
    let mut probe = Raw::from_ip([127, 0, 0, 3], &udp);
    probe.open();
    for batch in 0..120 {
        for n in batch * 50..(batch + 1) * 50 {
            spoofed_hello(&udp, n);
        }
        probe.round_trip(batch as u64);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let (stop, udp) = (stop.clone(), udp.clone());
        std::thread::spawn(move || {
            let mut n = 6000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                spoofed_hello(&udp, n);
                n += 1;
                // Paced (a few hundred a second) so this 2-core machine still
                // runs the client: the pool is what is tested, not the CPU.
                std::thread::sleep(Duration::from_millis(2));
            }
            n
        })
    };
    let mut bob = chat(&format!("udp://{udp}"), "bob", "lobby");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    bob.expect("[lobby] → ana joined");
    ana.type_line("hello through the flood");
    bob.expect("[lobby] ana: hello through the flood");
    bob.type_line("hello back");
    ana.expect("[lobby] bob: hello back");
    // A raw client too: hello, welcome, verifying heartbeat, session.
    let mut raw = Raw::from_ip([127, 0, 0, 2], &udp);
    raw.open();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = flood.join().unwrap();
    assert!(sent > 6000);
    // The server counted what it did with the flood: the waiting pool
    // churned, nothing was refused.
    let deadline = Instant::now() + PATIENCE;
    let line = loop {
        let line = server.expect("udp: ");
        if line.contains("replaced by newer hellos") && !line.contains(" 0 replaced") {
            break line;
        }
        assert!(Instant::now() < deadline, "no replaced sessions: {line}");
    };
    assert!(line.contains(" 0 refused"), "{line}");
}

/// Unverified sessions cannot take the verified slots: after a burst of
/// spoofed hellos, `--udp-max-sessions 2` still admits two real clients, and
/// only a third real one is refused `server_full`.
#[test]
fn spoofed_hellos_cannot_take_the_verified_slots() {
    let (_server, _tcp, udp) = serve(&["--udp-max-sessions", "2", "--udp-max-unverified", "4"]);
    for n in 0..20 {
        spoofed_hello(&udp, n);
    }
    let mut a = Raw::from_ip([127, 0, 0, 2], &udp);
    let mut b = Raw::from_ip([127, 0, 0, 3], &udp);
    a.open();
    b.open();
    let mut c = Raw::from_ip([127, 0, 0, 4], &udp);
    c.hello();
    let got = c.drain(Duration::from_millis(500));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["code"], "server_full", "the verified pool is full");
}

/// With `--udp-max-unverified 2`, a third hello replaces the oldest session
/// that never proved its address: that one's late heartbeat is not answered
/// (its slot is gone), the two newer ones verify normally.
#[test]
fn a_full_unverified_pool_replaces_its_oldest() {
    let (mut server, _tcp, udp) = serve(&["--udp-max-unverified", "2"]);
    let mut raws: Vec<Raw> = (0..3)
        .map(|i| Raw::from_ip([127, 0, 1, 1 + i], &udp))
        .collect();
    let mut ids = Vec::new();
    for r in &mut raws {
        r.hello();
        let got = r.drain(Duration::from_millis(500));
        assert_eq!(got[0]["event"], "welcome", "{got:?}");
        ids.push(got[0]["id"].as_str().unwrap().to_string());
    }
    for (i, r) in raws.iter_mut().enumerate() {
        r.send(format!(r#"{{"event":"heartbeat","id":"{}"}}"#, ids[i]).as_bytes());
        let got = r.drain(Duration::from_millis(500));
        if i == 0 {
            assert!(got.is_empty(), "the replaced session is gone: {got:?}");
        } else {
            assert_eq!(got[0]["event"], "session", "{got:?}");
        }
    }
    // The log counts it (sessions that never verified are not logged one by one).
    let line = server.expect("without proving their address");
    assert!(
        line.contains(
            "1 UDP session ended without proving their address (1 replaced by newer hellos"
        ),
        "{line}"
    );
}

/// A session that never proves its address is reclaimed after
/// `--udp-verify-timeout`, not after the 30 s expiry; a verified one stays.
#[test]
fn a_session_that_never_proves_its_address_is_reclaimed_quickly() {
    let (mut server, _tcp, udp) = serve(&["--udp-verify-timeout", "2s"]);
    let mut real = Raw::new(&udp);
    real.open();
    let mut mute = Raw::from_ip([127, 0, 0, 2], &udp);
    mute.hello();
    let got = mute.drain(Duration::from_millis(500));
    let id = got[0]["id"].as_str().unwrap().to_string();
    let line = server.expect("without proving their address");
    assert!(
        line.contains("1 UDP session ended without proving their address (0 replaced by newer hellos, 1 reclaimed after --udp-verify-timeout"),
        "{line}"
    );
    assert!(
        !server.seen.iter().any(|l| l.contains(&id[..8])),
        "an unverified session has no lines of its own: {:?}",
        server.seen
    );
    // Too late: the slot is gone, the heartbeat is not answered.
    mute.send(format!(r#"{{"event":"heartbeat","id":"{id}"}}"#).as_bytes());
    assert!(mute.drain(Duration::from_millis(300)).is_empty());
    // The verified session is still there.
    real.send(br#"{"event":"rooms","ack":1}"#);
    let got = real.drain(Duration::from_millis(500));
    assert!(got.iter().any(|e| e["event"] == "ack"), "{got:?}");
}

/// One IP address holds at most `--udp-max-per-ip` sessions: a hello past it
/// replaces that address's oldest unverified session if it has one, and is
/// refused with `address_limit` (a datagram smaller than the hello) if all
/// of its sessions are verified. Other addresses are not affected.
#[test]
fn one_address_holds_at_most_its_share_of_sessions() {
    let (_server, _tcp, udp) = serve(&["--udp-max-per-ip", "2"]);
    let mut a = Raw::new(&udp);
    let mut b = Raw::new(&udp);
    a.open();
    b.open();
    let mut c = Raw::new(&udp);
    c.hello();
    let got = c.drain(Duration::from_millis(500));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (&got[0]["event"], &got[0]["code"]),
        (&"bye".into(), &"address_limit".into())
    );
    assert!(
        got[0]["message"]
            .as_str()
            .unwrap()
            .contains("2 UDP sessions"),
        "{got:?}"
    );
    assert!(c.received < c.sent);
    Raw::from_ip([127, 0, 0, 2], &udp).open();
    // b leaves; e says hello but never verifies; f's hello replaces e.
    b.send(br#"{"event":"bye"}"#);
    let mut e = Raw::new(&udp);
    let e_id = (0..20)
        .find_map(|_| {
            e.hello();
            // (Were b's bye not handled yet, this would be address_limit: again.)
            let got = e.drain(Duration::from_millis(300));
            got.iter()
                .find(|v| v["event"] == "welcome")
                .map(|w| w["id"].as_str().unwrap().to_string())
        })
        .expect("b's slot is free again");
    let mut f = Raw::new(&udp);
    f.open();
    e.send(format!(r#"{{"event":"heartbeat","id":"{e_id}"}}"#).as_bytes());
    assert!(
        e.drain(Duration::from_millis(300)).is_empty(),
        "e was replaced"
    );
}

/// The flood finding's leftover: a real client that a flood of spoofed
/// hellos pushed out of a tiny unverified pool (`--udp-max-unverified 1`:
/// each new hello takes the slot of the one waiting) between its welcome and
/// its heartbeat kept sending heartbeats for a session that was gone, never
/// said hello again, and gave up — locked out although the flood was over.
/// Now it notices (no answer to its heartbeat within its retry interval)
/// and says hello again, waiting longer each time: it gets in once the flood
/// stops.
///
/// The client talks through `netlab link --delay 100ms`, as a client across
/// a real network would: its slot must survive a 200 ms round trip, while
/// the flood (from the server's own network, a hello every millisecond or
/// so) takes it within one. So the push-out does not depend on who the
/// scheduler runs first.
#[test]
fn a_client_pushed_out_of_the_unverified_pool_says_hello_again_and_gets_in_after_the_flood() {
    let (_server, tcp, udp) = serve(&["--udp-max-unverified", "1", "--quiet"]);
    let (_link, via) = link_to(&udp, &["--delay", "100ms"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let (stop, udp) = (stop.clone(), udp.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                spoofed_hello(&udp, n);
                n += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            n
        })
    };
    let mut bob = Proc::spawn_with_stderr(&[
        "chat",
        &format!("udp://{via}"),
        "--nick",
        "bob",
        "--room",
        "lobby",
    ]);
    // While the flood goes on, bob's slot is taken before its heartbeat
    // arrives: it notices, and says hello again.
    let retry = bob.expect("hello again");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = flood.join().unwrap();
    assert!(
        !bob.seen.iter().any(|l| l.contains("joined")),
        "bob got in during the flood: {:?}",
        bob.seen
    );
    eprintln!("bob, during a flood of {sent} hellos: {retry}");
    bob.expect("[lobby] → bob (you) joined");
    let mut ana = chat(&format!("tcp://{tcp}"), "ana", "lobby");
    bob.expect("[lobby] → ana joined");
    ana.type_line("you made it");
    bob.expect("[lobby] ana: you made it");
    bob.type_line("after the flood");
    ana.expect("[lobby] bob: after the flood");
}

/// A hand-played server that drops the client's first session before it is
/// verified (the heartbeat is not answered), then opens a new one on the
/// next hello. The new session numbers its datagrams from 0 again: the
/// client must take its welcome (seq 0) for what it is, not for a duplicate
/// of the first welcome, and verify it.
#[test]
fn a_client_whose_unverified_session_vanished_verifies_the_new_one() {
    let fake = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = fake.local_addr().unwrap().to_string();
    let mut bob = Proc::spawn_with_stderr(&["chat", &format!("udp://{addr}")]);
    fake.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 2048];
    // The next datagram from the client whose message starts with `prefix`
    // (anything else, e.g. a heartbeat for the dropped session, is skipped).
    let mut next = |prefix: &str| loop {
        let (n, client) = fake.recv_from(&mut buf).unwrap();
        if buf[HEADER..n].starts_with(prefix.as_bytes()) {
            return (
                String::from_utf8_lossy(&buf[HEADER..n]).into_owned(),
                client,
            );
        }
    };
    let welcome = |id: &str, nick: &str| {
        format!(
            r#"{{"event":"welcome","id":"{id}","nick":"{nick}","limits":{{"max_nick":32,"max_room":64,"max_rooms":32,"max_text":4096,"rate":100,"burst":200}}}}"#
        )
    };
    let (first_id, second_id) = (
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    );
    let (_, client) = next(r#"{"event":"hello"}"#);
    let first = welcome(first_id, "guest-aaaa");
    fake.send_to(&datagram(0, first.as_bytes()), client)
        .unwrap();
    let (beat, _) = next(r#"{"event":"heartbeat""#);
    assert!(beat.contains(first_id), "{beat}");
    // No answer: the session is gone. The client says hello again.
    let (_, client) = next(r#"{"event":"hello"}"#);
    bob.expect("hello again (try 2 of");
    let second = welcome(second_id, "guest-bbbb");
    fake.send_to(&datagram(0, second.as_bytes()), client)
        .unwrap();
    let (beat, client) = loop {
        let (beat, client) = next(r#"{"event":"heartbeat""#);
        if beat.contains(second_id) {
            break (beat, client);
        }
    };
    assert!(beat.contains(second_id), "{beat}");
    let session =
        br#"{"event":"session","heartbeat_ms":10000,"expiry_ms":30000,"max_message":1464}"#;
    fake.send_to(&datagram(1, session), client).unwrap();
    bob.expect("connected as guest-bbbb");
}

/// Each spoofed hello that never verified used to cost `netlab serve` its
/// own log lines — `connected`, `disconnecting`, `disconnected: replaced …`
/// — so a flood buried the log. Now a UDP session is logged once it proves
/// its address, and those that never do are one line per episode with the
/// count; a real client's lines are as before.
#[test]
fn spoofed_hellos_that_never_verify_are_one_log_line_per_episode() {
    let (mut server, _tcp, udp) =
        serve(&["--udp-max-unverified", "8", "--udp-verify-timeout", "1s"]);
    let mut real = Raw::from_ip([127, 0, 0, 2], &udp);
    let id = real.open();
    server.expect(&format!("{} connected (udp 127.0.0.2:", &id[..8]));
    // 300 spoofed hellos, in batches the server's socket buffer holds, each
    // batch followed by a probe's round trip: every one is handled.
    let mut probe = Raw::from_ip([127, 0, 0, 3], &udp);
    probe.open();
    for batch in 0..6 {
        for n in batch * 50..(batch + 1) * 50 {
            spoofed_hello(&udp, n);
        }
        probe.round_trip(batch as u64);
    }
    // The last eight wait in the pool until --udp-verify-timeout; a second
    // later with none ending and none waiting, the episode is over.
    let summary = server.expect("without proving their address");
    assert!(
        summary.contains("300 UDP sessions ended without proving their address (292 replaced by newer hellos, 8 reclaimed after --udp-verify-timeout, 0 otherwise)"),
        "{summary}"
    );
    real.send(br#"{"event":"bye"}"#);
    server.expect(&format!("{} disconnected: client said bye", &id[..8]));
    let lines = &server.seen;
    let count = |text: &str| lines.iter().filter(|l| l.contains(text)).count();
    assert_eq!(count("connected (udp 127.10."), 0, "{lines:#?}");
    assert_eq!(count("disconnected: replaced"), 0, "{lines:#?}");
    assert_eq!(count("never proved its address"), 0, "{lines:#?}");
    assert_eq!(count("disconnecting"), 1, "the real client's: {lines:#?}");
    assert_eq!(count("without proving their address"), 1, "{lines:#?}");
    let per_session = lines
        .iter()
        .filter(|l| !l.starts_with("udp: ") && !l.starts_with("listening on"))
        .count();
    assert!(
        per_session < 20,
        "{per_session} log lines for 300 spoofed hellos and two real clients: {lines:#?}"
    );
}
