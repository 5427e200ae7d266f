//! Lessons 00–06 checked from outside: every "Your notes said…" box's command
//! is run as the student would run it (the real `netlab` binary, or the
//! example), and its output must settle the claim the box says it settles;
//! every number these lessons state that the software produces or limits is
//! compared with the code's constant or a measurement.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{netlab_bin, Proc};

/// A lesson's README text.
fn lesson(dir: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(dir)
        .join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The "Your notes said" boxes of a lesson: each box's lines, joined.
fn boxes(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("> **Your notes said:**") {
            if let Some(b) = current.take() {
                out.push(b);
            }
            current = Some(line.to_string());
        } else if line.starts_with('>') {
            if let Some(b) = current.as_mut() {
                b.push('\n');
                b.push_str(line);
            }
        } else if let Some(b) = current.take() {
            out.push(b);
        }
    }
    out.extend(current);
    out
}

/// The box whose claim contains `claim`; it must have Right, Wrong and Run.
fn find_box(text: &str, claim: &str) -> String {
    let b = boxes(text)
        .into_iter()
        .find(|b| b.lines().next().unwrap_or("").contains(claim))
        .unwrap_or_else(|| panic!("no box for {claim:?}"));
    for part in ["> **Right:**", "> **Wrong", "> **Run:**"] {
        assert!(b.contains(part), "the box for {claim:?} has no {part}: {b}");
    }
    b
}

/// Runs `netlab --color never ARGS` to the end.
fn netlab(args: &[&str]) -> Output {
    Command::new(netlab_bin())
        .arg("--color")
        .arg("never")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("netlab runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `netlab ARGS --json` parsed.
fn netlab_json(args: &[&str]) -> Value {
    let out = netlab(args);
    assert!(out.status.success(), "netlab {args:?}: {}", stdout(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `netlab serve --tcp 127.0.0.1:0`; returns it and its tcp:// URL.
fn chat_server() -> (Proc, String) {
    let mut server = Proc::spawn(&["serve", "--tcp", "127.0.0.1:0", "--quiet"]);
    let first = server.expect("listening on ");
    let url = first.trim_start_matches("listening on ").trim().to_string();
    (server, url)
}

/// A `netlab chat` fed a script on stdin, run to the end: its stdout.
fn chat_script(url: &str, args: &[&str], script: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(netlab_bin())
        .args(["--color", "never", "chat", url])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("netlab chat starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    stdout(&child.wait_with_output().expect("chat ends"))
}

// ---------------------------------------------------------------- lesson 00

#[test]
fn box_two_way_flow_is_plain_tcp() {
    let b = find_box(&lesson("00-models"), "two-way flow is unique to WebSocket");
    assert!(b.contains("cargo run --example 00_both_ways"), "{b}");
    let out = support::run_example("00_both_ways");
    assert!(
        out.contains("one TCP connection: client 127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("client: sent 5 lines, received 5 lines"),
        "{out}"
    );
    assert!(
        out.contains("server: sent 5 lines, received 5 lines"),
        "{out}"
    );
    assert!(
        out.contains("wrote during the same") && out.contains(": yes"),
        "{out}"
    );
    assert!(
        !out.contains("HTTP") && !out.contains("Upgrade"),
        "no HTTP: {out}"
    );
}

#[test]
fn box_tcpip_folds_osi_it_does_not_summarise_it() {
    let b = find_box(&lesson("00-models"), "concise version of the OSI model");
    assert!(b.contains("`netlab layers`"), "{b}");
    let layers = netlab_json(&["layers", "--json"]);
    let tcpip = |n: u64| -> String {
        layers
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["number"] == n)
            .unwrap()["tcpip"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for n in [5, 6, 7] {
        assert_eq!(tcpip(n), "Application", "OSI {n}");
    }
    for n in [1, 2] {
        assert_eq!(tcpip(n), "Link", "OSI {n}");
    }
    // Seven OSI layers, four TCP/IP ones.
    let distinct: std::collections::BTreeSet<String> = (1..=7).map(tcpip).collect();
    assert_eq!(distinct.len(), 4, "{distinct:?}");
}

#[test]
fn box_tcp_is_one_protocol_of_tcpip_and_delivers_by_resending() {
    let b = find_box(&lesson("00-models"), "TCP/IP and TCP are the same thing");
    assert!(b.contains("`netlab compare lossy-wire`"), "{b}");
    let layers = netlab_json(&["layers", "--json"]);
    let transport = layers
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["number"] == 4)
        .unwrap();
    assert_eq!(transport["protocols"], serde_json::json!(["TCP", "UDP"]));
    let report = &netlab_json(&["compare", "lossy-wire", "--json"])[0];
    assert_eq!(report["tcp"]["lost"], 0, "TCP delivers every byte");
    assert!(
        report["tcp"]["retransmissions"].as_u64().unwrap() > 0,
        "… by resending: {report}"
    );
    assert!(report["udp"]["lost"].as_u64().unwrap() > 0, "UDP does not");
}

#[test]
fn box_client_and_server_are_roles_not_browsers_and_web_pages() {
    let b = find_box(&lesson("00-models"), "a client is a web browser");
    assert!(
        b.contains("netlab tcp echo") && b.contains("netlab tcp send"),
        "{b}"
    );
    let server = support::listen(&["tcp", "echo", "--listen", "127.0.0.1:0", "--quiet"]);
    let out = netlab(&["tcp", "send", &server.addr, "hello"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("← hello"), "the server answered: {text}");
}

#[test]
fn broken_connection_is_not_reported_promptly_says_lesson_00() {
    let text = lesson("00-models");
    assert!(!text.contains("tells you if the connection broke"));
    assert!(text.contains("send buffer"), "the lesson says why");
}

/// Lesson 00's push-vs-poll table: push sends fewer bytes, with less latency,
/// than either poll, in a single request; the example checks it itself too.
#[test]
fn push_beats_polling_in_requests_bytes_and_latency() {
    let text = lesson("00-models");
    assert!(text.contains("cargo run --example 00_push_vs_poll"));
    let out = support::run_example("00_push_vs_poll");
    let row = |name: &str| -> Vec<f64> {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name:?} row: {out}"));
        line[name.len()..]
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect()
    };
    // requests, bytes up, bytes down, bytes, mean latency, max latency
    let push = row("push (open TCP)");
    assert_eq!(push[0], 1.0, "push asks once: {out}");
    for poll in ["poll every 50 ms", "poll every 10 ms"] {
        let p = row(poll);
        assert!(p[0] > 1.0, "{poll} asks many times");
        assert!(push[3] < p[3], "bytes: push {} vs {poll} {}", push[3], p[3]);
        assert!(
            push[4] < p[4],
            "latency: push {} vs {poll} {}",
            push[4],
            p[4]
        );
    }
    assert!(out.contains("fewer bytes and less latency than both polls: yes"));
}

// ---------------------------------------------------------------- lesson 01

/// Reads per write, as lesson 01 states them: the sleeping reader gets one
/// read for three writes; the eager reader (writes 20 ms apart) more, usually
/// one each; the pauses the lesson names are the code's.
#[test]
fn reads_per_write_match_lesson_01() {
    use netlab::tcp::boundaries::{SETTLE, WRITE_GAP};
    let text = lesson("01-tcp");
    assert!(text.contains(&format!(
        "The *sleeping* reader waits {} ms",
        SETTLE.as_millis()
    )));
    assert!(text.contains(&format!("next write comes {} ms", WRITE_GAP.as_millis())));
    assert!(text.contains("Sleeping server (first read 100 ms later): 1 read(s)"));
    assert!(text.contains("Eager server: 3 read(s)"));
    let seen = netlab_json(&["tcp", "boundaries", "--json"]);
    assert_eq!(seen["small"]["writes"], 3);
    assert_eq!(seen["small"]["reads"], 1, "{seen}");
    let eager = seen["eager"]["reads"].as_u64().unwrap();
    assert!((2..=3).contains(&eager), "{seen}");
    assert_eq!(seen["every_byte_in_order"], true);
}

// ---------------------------------------------------------------- lesson 03

#[test]
fn box_a_clients_emit_goes_to_the_server_which_chooses() {
    let b = find_box(
        &lesson("03-chat"),
        "a client's `emit` sends a message to all",
    );
    assert!(
        b.contains("netlab serve --tcp") && b.contains("--nick cy"),
        "{b}"
    );
    let (_server, url) = chat_server();
    let mut bob = Proc::spawn(&["chat", &url, "--nick", "bob", "--room", "lobby"]);
    bob.expect("[lobby] → bob (you) joined");
    let mut cy = Proc::spawn(&["chat", &url, "--nick", "cy"]);
    cy.expect("cy (you)");
    let ana = chat_script(
        &url,
        &["--nick", "ana", "--room", "lobby"],
        "hello lobby\n/rooms\n",
    );
    assert!(ana.contains("your rooms:"), "ana's /rooms answered: {ana}");
    assert_eq!(bob.expect("ana:"), "[lobby] ana: hello lobby");
    // cy: a private line as a marker; nothing of ana's before it.
    cy.type_line("/rooms");
    cy.expect("your rooms:");
    assert!(
        !cy.seen.iter().any(|l| l.contains("hello lobby")),
        "cy is not in lobby: {:#?}",
        cy.seen
    );
    assert!(
        !bob.seen.iter().any(|l| l.contains("your rooms:")),
        "ana's /rooms reached only ana: {:#?}",
        bob.seen
    );
}

#[test]
fn box_which_server_emit_decides_who_receives() {
    let b = find_box(&lesson("03-chat"), "when the server emits");
    assert!(b.contains("cargo run --example 03_broadcast"), "{b}");
    let out = support::run_example("03_broadcast");
    let (everyone, rest) = out.split_once("hello (self: false)").expect("two parts");
    assert!(everyone.contains("Reached(3)"), "{out}");
    for who in ["ana", "bob", "cy"] {
        assert!(
            everyone.contains(&format!("{who} received from ana: hello (self: true)")),
            "{who}: {out}"
        );
    }
    assert!(rest.contains("Reached(2)"), "{out}");
    assert!(!rest.contains("ana received"), "not the sender: {out}");
    assert!(rest.contains("bob received") && rest.contains("cy received"));
}

/// Lesson 03: `{"event":"rooms"}` is 17 bytes, its frame starts `00 00 00 11`.
#[test]
fn the_rooms_frame_is_as_lesson_03_writes_it() {
    let text = lesson("03-chat");
    let json = br#"{"event":"rooms"}"#;
    assert!(text.contains(&format!("is {} bytes", json.len())));
    let mut frame = bytes::BytesMut::new();
    netlab::framing::encode_frame(json, &mut frame, usize::MAX).unwrap();
    assert_eq!(&frame[..4], &[0, 0, 0, 0x11]);
    assert!(text.contains("`00 00 00 11 7b 22 65 76 …`"));
}

// ---------------------------------------------------------------- lesson 04

#[test]
fn box_rooms_the_client_asks_the_server_keeps_the_table() {
    let text = lesson("04-rooms");
    let b = find_box(&text, "rooms are a server-only concept");
    assert!(b.contains("/to dev hi") && b.contains("/join dev"), "{b}");
    let (_server, url) = chat_server();
    let out = chat_script(&url, &["--nick", "ana"], "/to dev hi\n/join dev\n/rooms\n");
    let refused = out.find("refused (not_a_member)").expect(&out);
    let joined = out.find("[dev] → ana (you) joined").expect(&out);
    let rooms = out.find("your rooms:").expect(&out);
    assert!(refused < joined && joined < rooms, "{out}");
    assert!(out.contains("(your own), dev"), "{out}");
    // The corrected routing row.
    assert!(text.contains("everyone but the members of `dev`, and never the sender"));
    assert!(!text.contains("| the same, and never the sender |"));
}

// ---------------------------------------------------------------- lesson 05

#[test]
fn box_udp_makes_no_connection_and_buys_latency_with_loss() {
    let b = find_box(
        &lesson("05-udp"),
        "UDP is for establishing low-latency connections",
    );
    assert!(b.contains("`netlab compare lossy-wire`"), "{b}");
    let report = &netlab_json(&["compare", "lossy-wire", "--json"])[0];
    let (tcp, udp) = (&report["tcp"], &report["udp"]);
    assert!(udp["p99_latency_us"].as_u64() < tcp["p99_latency_us"].as_u64());
    assert_eq!(udp["p99_latency_us"], 10_000, "the wire's 10 ms: {udp}");
    assert!(tcp["p99_latency_us"].as_u64().unwrap() >= 100_000, "{tcp}");
    assert!(udp["lost"].as_u64().unwrap() > 0);
    assert_eq!(tcp["lost"], 0);
}

/// Lesson 05: loopback loses UDP datagrams when the receive buffer is full.
#[test]
fn udp_loses_on_loopback_when_the_receiver_is_slow() {
    let text = lesson("05-udp");
    assert!(!text.contains("On loopback nothing is ever lost"));
    assert!(text.contains("netlab compare slow-receiver"));
    let report = &netlab_json(&["compare", "slow-receiver", "--json"])[0];
    assert!(
        report["stack"].as_str().unwrap().contains("127.0.0.1"),
        "{report}"
    );
    let udp = &report["udp"];
    assert!(udp["lost"].as_u64().unwrap() > 0, "{udp}");
    assert_eq!(udp["kernel_drops"], udp["lost"], "the kernel counted them");
    assert_eq!(report["tcp"]["lost"], 0);
}

/// Lesson 05's size limits are the code's constants, and the IPv4 one is the
/// kernel's: 65,507 bytes go, 65,508 do not.
#[test]
fn udp_size_limits_match_lesson_05_and_the_kernel() {
    use netlab::udp::{
        HEADER_LEN, IPV4_MAX_UDP_DATA, IPV6_MAX_DATAGRAM_PAYLOAD, MAX_DATAGRAM_PAYLOAD,
        MAX_MESSAGE, UDP_MAX_DATA,
    };
    let text = lesson("05-udp");
    let with_comma = |n: usize| format!("{},{:03}", n / 1000, n % 1000);
    for (n, name) in [
        (UDP_MAX_DATA, "UDP_MAX_DATA"),
        (IPV4_MAX_UDP_DATA, "IPV4_MAX_UDP_DATA"),
        (MAX_DATAGRAM_PAYLOAD, "MAX_DATAGRAM_PAYLOAD"),
        (IPV6_MAX_DATAGRAM_PAYLOAD, "IPV6_MAX_DATAGRAM_PAYLOAD"),
    ] {
        let shown = format!("**{}", with_comma(n));
        let at = text
            .find(&shown)
            .unwrap_or_else(|| panic!("lesson 05 does not state {shown} ({name})"));
        assert!(
            text[at..]
                .chars()
                .take(120)
                .collect::<String>()
                .contains(name),
            "lesson 05 names {name} right after {shown}"
        );
        assert!(text.contains(&format!("`{name}`")), "{name} named");
    }
    assert_eq!(UDP_MAX_DATA, 65_527);
    assert_eq!(IPV4_MAX_UDP_DATA, 65_507);
    assert_eq!(MAX_DATAGRAM_PAYLOAD, 1_472);
    assert_eq!(IPV6_MAX_DATAGRAM_PAYLOAD, 1_452);
    assert!(!text.contains("may claim up to 65,507"));
    // The sequence header: two 32-bit words; the chat's per-datagram limit.
    assert_eq!(HEADER_LEN, 8);
    assert_eq!(MAX_MESSAGE, 1464);

    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    assert_eq!(
        tx.send_to(&vec![0; IPV4_MAX_UDP_DATA], to).unwrap(),
        IPV4_MAX_UDP_DATA
    );
    assert!(
        tx.send_to(&vec![0; IPV4_MAX_UDP_DATA + 1], to).is_err(),
        "IPv4 refuses one byte more"
    );
}

/// Lesson 05's other numbers: the tracker's window, the padded hello.
#[test]
fn lesson_05_numbers_match_the_code() {
    let text = lesson("05-udp");
    assert_eq!(netlab::udp::tracker::WINDOW, 4096);
    assert!(text.contains("keeps only the last 4096 numbers"));
    assert_eq!(netlab::chat::datagram::HELLO_MIN_LEN, 1200);
    assert!(text.contains("padded to 1200 bytes"));
}

/// Measured loss comes with its binomial spread: the lesson's ranges are the
/// exact 2.5%–97.5% points, and the example prints the same for its run.
#[test]
fn measured_loss_is_given_with_its_binomial_spread() {
    fn range95(n: u32, p: f64) -> (u32, u32) {
        let mut cdf = 0.0;
        let mut low = None;
        for k in 0..=n {
            let pmf = (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
                * p.powi(k as i32)
                * (1.0 - p).powi((n - k) as i32);
            cdf += pmf;
            if low.is_none() && cdf >= 0.025 {
                low = Some(k);
            }
            if cdf >= 0.975 {
                return (low.unwrap(), k);
            }
        }
        (low.unwrap_or(0), n)
    }
    let text = lesson("05-udp");
    let (lo, hi) = range95(26, 0.2);
    assert!(
        text.contains(&format!("lose between {lo} and {hi}")),
        "26 @ 20%: {lo}–{hi}"
    );
    let (lo, hi) = range95(60, 0.1);
    assert!(
        text.contains(&format!("95% of runs {lo} to {hi}")),
        "60 @ 10%: {lo}–{hi}"
    );
    let out = support::run_example("05_loss_visible");
    assert!(
        out.contains(&format!("95% of runs lose {lo} to {hi}")),
        "the example prints the range: {out}"
    );
    assert!(
        out.contains("standard deviation sqrt(n·p·(1−p)) = 2.3"),
        "{out}"
    );
}

// ---------------------------------------------------------------- lesson 06

#[test]
fn duplication_is_not_free_for_tcp_says_lesson_06() {
    let text = lesson("06-tcp-vs-udp");
    let row = text
        .lines()
        .find(|l| l.starts_with("| **duplication**"))
        .expect("the duplication row");
    assert!(!row.trim_end().ends_with("| nothing |"), "{row}");
    assert!(row.contains("ACK") && row.contains("bandwidth"), "{row}");
}

// ---------------------------------------------------------------- all

/// Lesson 12 exists, and the lessons that name it point at a real lesson.
#[test]
fn references_to_lesson_12_point_at_a_lesson_that_exists() {
    let twelve = netlab::course::LESSONS
        .iter()
        .find(|l| l.number == 12)
        .expect("lesson 12 is in the course");
    assert!(!twelve.examples.is_empty());
    assert!(!lesson("12-many-servers").is_empty());
    for dir in ["00-models", "04-rooms"] {
        let text = lesson(dir);
        assert!(
            text.contains("[lesson 12](../12-many-servers/README.md)"),
            "{dir} links lesson 12"
        );
        for stale in [
            "lesson 12 will",
            "until lesson 12",
            "(not yet written)",
            "a future lesson",
        ] {
            assert!(!text.contains(stale), "{dir}: {stale}");
        }
    }
}

/// Every box in these lessons has the four parts and a command to run.
#[test]
fn every_box_has_claim_right_wrong_and_a_command() {
    let mut count = 0;
    for dir in [
        "00-models",
        "01-tcp",
        "03-chat",
        "04-rooms",
        "05-udp",
        "06-tcp-vs-udp",
    ] {
        for b in boxes(&lesson(dir)) {
            for part in ["> **Right:**", "> **Wrong", "> **Run:** `"] {
                assert!(b.contains(part), "{dir}: a box without {part}: {b}");
            }
            count += 1;
        }
    }
    assert!(count >= 8, "{count} boxes");
}
