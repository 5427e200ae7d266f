//! Issue 15, lessons 07, 08, 10 and 11: every "Your notes said…" box names a
//! command, and here that command runs — the real `netlab` binary, or the
//! example as `cargo run --example` builds it — and its output must settle
//! the claim the way the box says. Where these lessons name a number the
//! software has (an RTO bound, `maxPayload`, a head limit), the lesson's text
//! and the code's constant must agree.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SOCKETIO_PCAP: &str = "lessons/10-browser-socketio/socketio.pcap";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lesson(dir: &str) -> String {
    std::fs::read_to_string(root().join("lessons").join(dir).join("README.md"))
        .unwrap_or_else(|e| panic!("lesson {dir}: {e}"))
}

/// Runs `netlab ARGS` from the crate root; returns its stdout (it must succeed).
fn netlab(args: &[&str]) -> String {
    let out = Command::new(support::netlab_bin())
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("netlab runs");
    assert!(
        out.status.success(),
        "netlab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The boxes of a lesson: each the lines of one `> **Your notes said:**` quote.
fn boxes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("> **Your notes said:**") {
            if let Some(b) = current.take() {
                out.push(b);
            }
            current = Some(String::new());
        } else if !line.starts_with('>') {
            if let Some(b) = current.take() {
                out.push(b);
            }
        }
        if let Some(b) = current.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out.extend(current);
    out
}

/// The box whose claim contains `claim`.
fn the_box(text: &str, claim: &str) -> String {
    boxes(text)
        .into_iter()
        .find(|b| b.lines().next().is_some_and(|l| l.contains(claim)))
        .unwrap_or_else(|| panic!("no box for {claim:?}"))
}

/// Collapses runs of spaces, so `write("x")        → Ok` matches `write("x") → Ok`.
fn squeeze(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_box_says_what_is_right_what_is_wrong_and_what_to_run() {
    for (dir, at_least) in [
        ("07-missed-events", 4),
        ("08-websocket-handshake", 2),
        ("10-browser-socketio", 1),
    ] {
        let found = boxes(&lesson(dir));
        assert!(
            found.len() >= at_least,
            "lesson {dir}: {} boxes, want {at_least}",
            found.len()
        );
        for b in found {
            for part in ["> **Right:** ", "> **Wrong:** ", "> **Run:** `"] {
                assert!(
                    b.contains(part),
                    "lesson {dir}: a box without {part:?}:\n{b}"
                );
            }
        }
    }
}

// ---- "Socket.IO doesn't use HTTP" / "only for its client script" (08, 10)

/// One line of `netlab inspect --summary`: its packet number and the rest.
fn summary() -> Vec<(u32, String)> {
    netlab(&["inspect", SOCKETIO_PCAP, "--summary"])
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (n, rest) = l.split_once(' ')?;
            Some((n.parse().ok()?, rest.to_string()))
        })
        .collect()
}

#[test]
fn a_default_socketio_client_starts_with_http_long_polling() {
    let packets = summary();
    let first_app = packets
        .iter()
        .find(|(_, l)| l.contains("/HTTP") || l.contains("/WebSocket"))
        .expect("an application packet");
    assert_eq!(first_app.0, 4, "{first_app:?}");
    assert!(
        first_app
            .1
            .contains("HTTP GET /socket.io/?EIO=4&transport=polling"),
        "the first application packet is a long-polling GET: {first_app:?}"
    );
    let first_ws = packets
        .iter()
        .find(|(_, l)| l.contains("/WebSocket"))
        .expect("a WebSocket frame")
        .0;
    let number_of = |what: &str| {
        packets
            .iter()
            .find(|(_, l)| l.contains(what))
            .unwrap_or_else(|| panic!("no packet with {what:?}"))
            .0
    };
    let open = number_of("200 OK [polling payload: open]");
    let connect = number_of("[polling payload: CONNECT]");
    let upgrade_get = number_of("transport=websocket");
    let switching = number_of("101 Switching Protocols");
    assert!(
        open < connect && connect < upgrade_get && upgrade_get < switching && switching < first_ws,
        "open {open}, CONNECT {connect}, websocket GET {upgrade_get}, 101 {switching}, first frame {first_ws}"
    );
    assert!(
        packets[..]
            .iter()
            .any(|(n, l)| *n > first_ws
                && l.contains("HTTP POST /socket.io/?EIO=4&transport=polling")),
        "polling goes on beside the WebSocket until the upgrade"
    );
    // The boxes cite these packet numbers: they must be the capture's.
    let b08 = the_box(
        &lesson("08-websocket-handshake"),
        "Socket.IO doesn't use HTTP",
    );
    for cited in [
        format!("packet {open} the Engine.IO open packet"),
        format!("packet {connect} a `POST`"),
        format!("packet {upgrade_get} the `transport=websocket` GET"),
        format!("({switching})"),
        format!("the first WebSocket frame is packet {first_ws}"),
    ] {
        assert!(
            b08.contains(&cited),
            "lesson 08's box should say {cited:?}:\n{b08}"
        );
    }
    let b10 = the_box(&lesson("10-browser-socketio"), "only uses HTTP");
    assert!(b10.contains(&format!("netlab inspect {SOCKETIO_PCAP} --summary")));
    assert!(b08.contains(&format!("netlab inspect {SOCKETIO_PCAP} --summary")));
}

// ---- "WebSocket is a connection from a user's web browser" (08)

#[test]
fn a_websocket_needs_no_browser() {
    let text = lesson("08-websocket-handshake");
    let b = the_box(&text, "web browser");
    assert!(b.contains("netlab ws echo --listen"), "{b}");
    assert!(b.contains("netlab ws connect --frames ws://"), "{b}");
    let (mut server, addr, _out) =
        support::start_listening(&["ws", "echo", "--listen", "127.0.0.1:0"]);
    let url = format!("ws://{addr}/");
    let out = Command::new(support::netlab_bin())
        .args(["ws", "connect", "--frames", &url, "hello"])
        .env("NO_COLOR", "1")
        .output()
        .expect("netlab ws connect runs");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for want in [
        "→ http GET / HTTP/1.1",
        "→ http Upgrade: websocket",
        "← http HTTP/1.1 101 Switching Protocols",
        "MASK=1",
        "← hello",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    assert!(
        !stdout.to_ascii_lowercase().contains("origin:"),
        "no Origin header: no browser anywhere:\n{stdout}"
    );
}

// ---- lesson 07's boxes

#[test]
fn a_missed_event_never_arrives_and_nothing_says_so() {
    let text = lesson("07-missed-events");
    let b = the_box(&text, "the server receives it");
    assert!(b.contains("`cargo run --example 07_missed_events`"), "{b}");
    let out = support::run_example("07_missed_events");
    for quoted in ["ana MISSED 3 events", "[\"welcome back\"]"] {
        assert!(b.contains(quoted), "the box quotes {quoted:?}");
        assert!(
            out.contains(quoted),
            "the example prints {quoted:?}:\n{out}"
        );
    }
    assert!(
        out.contains("ana now shows bob's lines: [\"welcome back\"]"),
        "after the reconnect, only what came later:\n{out}"
    );
    assert!(
        out.contains("the server answers resumed: 3 missed events follow"),
        "the repair is the server's history:\n{out}"
    );
}

#[test]
fn try_catch_error_handlers_buffers_and_heartbeats_do_not_repair_a_loss() {
    let text = lesson("07-missed-events");
    let out = support::run_example("07_try_catch");
    let lines: Vec<String> = out.lines().map(squeeze).collect();

    // try/catch, error handler: the lost message's write was Ok.
    let b = the_box(&text, "try/catch");
    assert!(b.contains("`cargo run --example 07_try_catch`"), "{b}");
    assert!(b.contains("write(\"meet at 6\") → Ok(10)"), "{b}");
    let at = lines
        .iter()
        .position(|l| l.starts_with("write(\"meet at 6\") → Ok(10)"))
        .unwrap_or_else(|| panic!("the lost message's write returned Ok:\n{out}"));
    assert!(
        lines[at + 1].starts_with("write(\"bring the slides\") → Err("),
        "the error comes on the next write:\n{out}"
    );

    // A buffer: writes succeed while nobody reads.
    let b = the_box(&text, "push it to a buffer");
    assert!(b.contains("part 2"), "{b}");
    let buffered = lines
        .iter()
        .find(|l| l.contains("writes of 100 bytes returned Ok"))
        .unwrap_or_else(|| panic!("part 2's count:\n{out}"));
    let writes: u64 = buffered
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count first");
    assert!(writes >= 1_000, "the box says thousands: {buffered}");
    assert!(buffered.ends_with("the peer read 0 of them"), "{buffered}");

    // A heartbeat: noticed, replayed nothing.
    let b = the_box(&text, "heartbeat");
    assert!(b.contains("part 3"), "{b}");
    for quoted in ["\"reached\":0", "[\"welcome back\"]", "{\"event\":\"left\""] {
        assert!(b.contains(quoted), "the box quotes {quoted:?}");
        assert!(
            out.contains(quoted),
            "the example prints {quoted:?}:\n{out}"
        );
    }
    assert!(
        out.contains("ana shows bob's lines: [\"welcome back\"]"),
        "{out}"
    );
}

// ---- numbers the lessons share with the code

#[test]
fn lesson_07s_rto_bounds_are_the_codes() {
    use netlab::reliable::RtoConfig;
    let text = lesson("07-missed-events");
    assert!(
        !text.contains("at most 60 s"),
        "RFC 6298 §2.5: a ceiling must be at least 60 s, not at most"
    );
    assert!(text.contains("at least 1 s (Linux: 200 ms)"));
    assert!(text.contains("a ceiling is allowed if it is at least 60 s (netlab: 60 s"));
    assert!(text.contains("provided it is at least 60 seconds"));
    assert_eq!(RtoConfig::RFC_6298.min, Duration::from_secs(1));
    assert_eq!(RtoConfig::LAN.min, Duration::from_millis(200));
    for c in [RtoConfig::RFC_6298, RtoConfig::LAN] {
        assert_eq!(
            c.max,
            Duration::from_secs(60),
            "lesson 07 says netlab caps at 60 s"
        );
        assert!(c.max >= Duration::from_secs(60), "RFC 6298 §2.5");
        assert_eq!(c.initial, Duration::from_secs(1), "RFC 6298 §2.1");
    }
}

#[test]
fn lesson_08s_head_limits_are_the_codes() {
    let text = lesson("08-websocket-handshake");
    assert_eq!(netlab::ws::handshake::DEFAULT_MAX_HEADER, 8 * 1024);
    assert!(
        text.contains("(`--max-header`,\n  8 KiB)"),
        "the lesson names 8 KiB"
    );
    assert!(text.contains("a head of exactly 8192 bytes is accepted"));
    assert_eq!(
        netlab::ws::DEFAULT_HANDSHAKE_TIMEOUT,
        Duration::from_secs(10)
    );
    assert!(text.contains("(`--handshake-timeout`, 10 s)"));
    assert!(
        !text.contains("it may not wait"),
        "RFC 6455 §4.1: the client MUST wait for the 101"
    );
    assert!(text.contains("MUST wait for a response"));
}

/// A raw HTTP/1.1 exchange on its own connection; returns the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("the server listens");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("an answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

#[test]
fn lesson_10s_max_payload_and_ids_are_what_the_server_sends() {
    let text = lesson("10-browser-socketio");
    let limit = netlab::chat::limits::DEFAULT_MAX_FRAME;
    assert_eq!(limit, 65_536);
    assert!(text.contains("The 65,536 is\n  **netlab's choice**"));
    assert!(text.contains("`maxHttpBufferSize`,\n  1,000,000 bytes"));
    assert!(text.contains(&format!("head -c {} /dev/zero", limit + 1)));
    assert!(!text.contains("few characters of framing** — nothing more"));

    // The live server: its open packet announces the lesson's number, and
    // the Socket.IO id it gives is not the Engine.IO sid.
    let (mut server, _tcp, mut out) =
        support::start_listening(&["serve", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"]);
    let http_addr = support::read_listening_addr(&mut out);
    let addr = http_addr.trim_start_matches("http://").to_string();
    let u = "/socket.io/?EIO=4&transport=polling";
    let open = http(&addr, "GET", u, "");
    let open: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap();
    assert_eq!(open["maxPayload"], limit, "{open}");
    assert!(
        text.contains(&format!("\"maxPayload\":{limit}")),
        "the lesson shows the server's number"
    );
    let sid = open["sid"].as_str().expect("a sid").to_string();
    assert_eq!(http(&addr, "POST", &format!("{u}&sid={sid}"), "40"), "ok");
    let got = http(&addr, "GET", &format!("{u}&sid={sid}"), "");
    let connect = got
        .split('\u{1e}')
        .find_map(|p| p.strip_prefix("40"))
        .unwrap_or_else(|| panic!("a CONNECT answer in {got:?}"));
    let connect: serde_json::Value = serde_json::from_str(connect).unwrap();
    let socket_id = connect["sid"].as_str().expect("a socket id");
    let _ = server.kill();
    let _ = server.wait();
    assert_ne!(socket_id, sid, "the Socket.IO id is not the Engine.IO sid");
    assert!(!socket_id.contains(&sid) && !sid.contains(socket_id));

    // The capture the lesson cites says the same: `sgFk…` against `5bad…`.
    assert!(text.contains("(`sgFk…` against `5bad…` here)"));
    let tree = netlab(&["inspect", SOCKETIO_PCAP, "--count", "31", "--no-hex"]);
    assert!(
        tree.contains("\"sid\":\"sgFk"),
        "the Engine.IO sid in the capture"
    );
    assert!(
        tree.contains("{\"sid\":\"5bad"),
        "the Socket.IO id in the capture"
    );
}

#[test]
fn lesson_11_says_wiresharks_default_is_unverified_and_the_interop_test_turns_validation_on() {
    let text = lesson("11-inspector");
    assert!(!text.contains("(`tcp.checksum.status` = bad)"));
    assert!(text.contains("**unverified** (`tcp.checksum.status` =\n  2)"));
    assert!(text.contains("`tshark -o tcp.check_checksum:TRUE`"));
    let interop = std::fs::read_to_string(root().join("tests/inspect_interop.rs")).unwrap();
    assert!(
        interop.contains("\"tcp.check_checksum:TRUE\""),
        "the lesson says the interop test turns TCP checksum validation on"
    );
}

/// The boxes pipe the summary through `head -40`: that still reaches the
/// first WebSocket frame they cite.
#[test]
fn the_summary_the_boxes_pipe_through_head_reaches_the_first_frame() {
    let out = netlab(&["inspect", SOCKETIO_PCAP, "--summary"]);
    let head = out.lines().take(40).collect::<Vec<_>>().join("\n");
    assert!(head.contains("WebSocket Text 2probe"), "{head}");
}

// ---- lesson 07's Socket.IO table, on netlab's own /socket.io/ wire

/// A polling session of its own on `addr`: its Engine.IO sid.
fn open_session(addr: &str) -> String {
    let open = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", "");
    let open: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap();
    open["sid"].as_str().expect("a sid").to_string()
}

fn post(addr: &str, sid: &str, body: &str) {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http(addr, "POST", &path, body), "ok", "POST {body:?}");
}

/// Polls until a packet satisfies `want` (answering pings); returns every packet seen.
fn poll_until(addr: &str, sid: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let mut seen = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        for p in http(addr, "GET", &path, "").split('\u{1e}') {
            if p == "2" {
                post(addr, sid, "3");
            }
            seen.push(p.to_string());
        }
        if seen.iter().any(|p| want(p)) {
            return seen;
        }
    }
    panic!("no wanted packet in {seen:?}");
}

/// `connectionStateRecovery` as lesson 07's table maps it (resume + replay):
/// a socket that comes back with its `pid` and last offset gets its id back
/// and what it missed; one that comes back without them gets nothing — the
/// server's silence that no client-side buffer can fill.
#[test]
fn recovery_replays_what_was_missed_and_a_plain_reconnect_gets_nothing() {
    let text = lesson("07-missed-events");
    assert!(text.contains("| `connectionStateRecovery: {maxDisconnectionDuration: 120000}`"));
    let (mut server, _tcp, mut out) = support::start_listening(&[
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--history",
        "100",
        "--ping-interval",
        "300ms",
        "--ping-timeout",
        "300ms",
    ]);
    let addr = support::read_listening_addr(&mut out)
        .trim_start_matches("http://")
        .to_string();

    // Ana: CONNECT, join lobby; note her pid, socket id and last offset.
    let ana = open_session(&addr);
    post(&addr, &ana, "40");
    post(&addr, &ana, "421[\"join\",\"lobby\"]");
    let packets = poll_until(&addr, &ana, |p| p.starts_with("42[\"joined\""));
    let connect: serde_json::Value = packets
        .iter()
        .find_map(|p| p.strip_prefix("40"))
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("the CONNECT answer");
    let (pid, socket_id) = (connect["pid"].clone(), connect["sid"].clone());
    assert!(
        pid.is_string(),
        "with history the CONNECT answer has a pid: {connect}"
    );
    let joined: serde_json::Value = packets
        .iter()
        .find_map(|p| {
            p.strip_prefix("42")
                .filter(|j| j.starts_with("[\"joined\""))
        })
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("joined");
    let offset = joined.as_array().unwrap().last().unwrap().clone();
    assert!(
        offset.as_str().is_some_and(|o| o.starts_with("lobby:")),
        "{joined}"
    );

    // Ana stops polling: no pong, so her Engine.IO session ends.
    let gone = Instant::now();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={ana}");
    loop {
        assert!(
            gone.elapsed() < Duration::from_secs(20),
            "her session never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        if answer.contains("Session ID unknown") {
            break;
        }
        // A GET that got the ping is not answered with a pong: that ends it.
    }

    // Bob says something in lobby while she is away.
    let bob = open_session(&addr);
    post(&addr, &bob, "40");
    post(&addr, &bob, "421[\"join\",\"lobby\"]");
    poll_until(&addr, &bob, |p| p.starts_with("431"));
    post(
        &addr,
        &bob,
        "422[\"message\",{\"to\":[\"lobby\"],\"text\":\"while you were away\"}]",
    );
    poll_until(&addr, &bob, |p| p.starts_with("432"));

    // A plain reconnect: a new socket, and nothing of what was said.
    let plain = open_session(&addr);
    post(&addr, &plain, "40");
    post(&addr, &plain, "421[\"join\",\"lobby\"]");
    let got = poll_until(&addr, &plain, |p| p.starts_with("431"));
    assert!(
        !got.iter().any(|p| p.contains("while you were away")),
        "without recovery the server replays nothing: {got:?}"
    );

    // Recovery: the pid and the last offset bring the same socket id and the missed event.
    let back = open_session(&addr);
    let auth = serde_json::json!({"pid": pid, "offset": offset});
    post(&addr, &back, &format!("40{auth}"));
    let got = poll_until(&addr, &back, |p| p.contains("while you were away"));
    let _ = server.kill();
    let _ = server.wait();
    let again: serde_json::Value = got
        .iter()
        .find_map(|p| p.strip_prefix("40"))
        .map(|j| serde_json::from_str(j).unwrap())
        .expect("the CONNECT answer");
    assert_eq!(again["pid"], pid, "{again}");
    assert_eq!(
        again["sid"], socket_id,
        "recovery keeps the socket's id: {again}"
    );
}
