//! Every lesson's examples run to the end and exit 0, as a student would run
//! them with `cargo run --example NAME` (the list is the course's own,
//! `netlab::course::LESSONS`). Examples that check their own claims — such as
//! `10_socketio`, which drives a real Socket.IO conversation — fail here when a
//! claim breaks. Examples that need a peer program (`12_many_servers` needs
//! `redis-server`) are skipped loudly where it is missing, and fail there
//! under `NETLAB_INTEROP=1`, like the interop tests.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longest an example may run before it counts as hung.
const EXAMPLE_DEADLINE: Duration = Duration::from_secs(60);

/// The peer program an example needs, if any, and whether it is here
/// (a loud SKIPPED line, or a failure under `NETLAB_INTEROP=1`, when not).
fn peer_missing(name: &str) -> bool {
    match name {
        "12_many_servers" => !support::redis_available(),
        _ => false,
    }
}

/// Runs one example from the crate root with no input, killing it at the deadline.
fn run(dir: &Path, name: &str) -> Output {
    run_with(name, &mut Command::new(dir.join(name)))
}

/// Runs `cmd` (the example `name`, set up by the caller) like [`run`].
fn run_with(name: &str, cmd: &mut Command) -> Output {
    let mut child = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("example {name} did not start: {e}"));
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > EXAMPLE_DEADLINE {
            let _ = child.kill();
            panic!("example {name} still running after {EXAMPLE_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn every_lesson_example_runs_to_the_end() {
    let dir = support::built_examples();
    let mut ran = 0;
    for lesson in netlab::course::LESSONS {
        for name in lesson.examples {
            if peer_missing(name) {
                continue;
            }
            let out = run(dir, name);
            assert!(
                out.status.success(),
                "example {name} (lesson {:02}) failed: {}\n{}\n{}",
                lesson.number,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty(), "example {name} printed nothing");
            ran += 1;
        }
    }
    let listed: usize = netlab::course::LESSONS
        .iter()
        .map(|l| l.examples.len())
        .sum();
    assert!(
        listed >= 15,
        "only {listed} examples are listed in the course"
    );
    assert!(ran >= 14, "only {ran} examples ran");
}

/// The Socket.IO example shows the packets lesson 10 describes, as hand-written here.
#[test]
fn the_socketio_example_shows_each_packet_both_ways() {
    let out = run(support::built_examples(), "10_socketio");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for packet in [
        "← 0{\"maxPayload\":65536,\"pingInterval\":400,\"pingTimeout\":2000,\"sid\":\"",
        "→ 40\n",
        "← 40{\"sid\":\"",
        "→ 42[\"join\",\"lobby\"]",
        "native /ws: {\"event\":\"join\",\"room\":\"lobby\"}",
        "→ 421[\"message\",{\"text\":\"hi tina\",\"to\":[\"lobby\"]}]",
        "← 431[{\"ok\":true,\"reached\":1}]",
        "← 42[\"message\",{\"from\":\"",
        "\"nick\":\"tina\",\"to\":[\"lobby\"],\"text\":\"hello socket.io\"}]",
        "← 2\n",
        "→ 3\n",
        "→ 451-2[\"file\",{\"to\":[\"lobby\"],\"name\":\"b.bin\",\"data\":{\"_placeholder\":true,\"num\":0}}]",
        "← 432[{\"ok\":true,\"reached\":1}]",
        "received the file \"b.bin\" as {\"_binary\":\"AQIDBA==\"}",
        "← 44{\"message\":\"Event data must be a JSON array",
        "← Close 1008",
        "→ 41\n",
        // Step 9: the server asks, resends with the same seq, stops after the ACK.
        "\"text\":\"please confirm\",\"seq\":{\"lobby\":",
        "native /ws: {\"event\":\"message\",\"from\":",
        "the same event again (same seq) under a new ack id",
        "nothing more for 1800 ms: confirmed",
    ] {
        assert!(text.contains(packet), "missing {packet:?} in:\n{text}");
    }
}

/// Lesson 01's example: the same three writes give one read to a sleeping
/// reader and one read per write to an eager one (writes 20 ms apart). A
/// loaded machine may make the eager reader late for one write, so that count
/// is asserted as "more than the sleeping reader's", as the lesson says.
#[test]
fn no_boundaries_shows_a_sleeping_and_an_eager_reader() {
    let out = run(support::built_examples(), "01_no_boundaries");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let reads = |prefix: &str| -> usize {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line: {stdout}"));
        let n = line.split(": ").nth(1).expect("a count after the colon");
        n.split(' ')
            .next()
            .unwrap()
            .parse()
            .expect("a number of reads")
    };
    assert_eq!(reads("Sleeping server"), 1, "{stdout}");
    let eager = reads("Eager server");
    assert!((2..=3).contains(&eager), "eager: {eager} reads: {stdout}");
}

/// Lesson 00's example draws WebSocket beside HTTP on the same TCP connection
/// (after the 101), not inside it, and Engine.IO between WebSocket and Socket.IO.
#[test]
fn layers_example_puts_websocket_after_http_and_engineio_below_socketio() {
    let out = run(support::built_examples(), "00_layers");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // (indent, name) of each row of the drawing, in order.
    let rows: Vec<(usize, &str)> = text
        .lines()
        .filter(|l| l.contains(" OSI "))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or_default();
            (l.len() - l.trim_start().len(), name)
        })
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        names,
        [
            "Ethernet",
            "IPv4",
            "TCP",
            "HTTP",
            "Engine.IO",
            "Socket.IO",
            "WebSocket",
            "Engine.IO",
            "Socket.IO"
        ],
        "{text}"
    );
    let indent = |i: usize| rows[i].0;
    assert_eq!(
        indent(3),
        indent(6),
        "HTTP and WebSocket are siblings on TCP, not nested:\n{text}"
    );
    assert!(indent(6) > indent(2), "WebSocket rides on TCP:\n{text}");
    assert!(
        indent(7) > indent(6) && indent(8) > indent(7),
        "WebSocket › Engine.IO › Socket.IO:\n{text}"
    );
    assert!(text.contains("after the 101"), "{text}");
    assert!(text.contains("long-polling"), "{text}");
}

/// Lesson 07's example shows the loss first (at-most-once), then the fix
/// (history and resume: exactly the missed events, once, in order).
#[test]
fn missed_events_shows_the_loss_then_the_exact_replay() {
    let out = run(support::built_examples(), "07_missed_events");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the example's own claims failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ana MISSED 3 events"),
        "part 1 shows the loss: {stdout}"
    );
    assert!(
        stdout.contains("resumed: 3 missed events follow"),
        "part 2 shows the replay: {stdout}"
    );
}

/// Lesson 07's second example: a write returns Ok into a dead connection
/// (try/catch has nothing to catch), writes pile up Ok in the kernel's buffer
/// while nobody reads, and a heartbeat notices a silent client but replays
/// nothing.
#[test]
fn try_catch_shows_ok_writes_into_dead_connections_and_a_heartbeat_that_replays_nothing() {
    let out = run(support::built_examples(), "07_try_catch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the example's own claims failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "write(\"meet at 6\")        → Ok(10)",
        "write(\"bring the slides\") → Err(",
        "before one would wait; the peer read 0 of them",
        "bob gets {\"event\":\"left\"",
        "\"reached\":0}",
        "ana shows bob's lines: [\"welcome back\"]",
        "Detection is not delivery",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

/// Lesson 12's example shows the problem (two servers, two lobbies), then
/// the fix (a broadcast crossing Redis both ways) and its bytes, dissected.
#[test]
fn many_servers_shows_two_lobbies_then_one_and_the_bytes_between() {
    if peer_missing("12_many_servers") {
        return;
    }
    let out = run(support::built_examples(), "12_many_servers");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the example's own claims failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "bo heard nothing in 300ms: two rooms that happen to share a name",
        "bo got [lobby] ana: hello from A",
        "✓ it crossed",
        "PUBLISH socket.io#/#lobby# <",
        "fixarray, 3 items   ← [uid, packet, opts]",
        "d9 20 ",
        "str 8, 32 bytes",
        "ana (on A) got \"hi ana, from B\"",
        "stopped.",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

/// Without `redis-server` on PATH, lesson 12's example says how to get one
/// and exits non-zero (it never pretends).
#[test]
fn many_servers_without_redis_says_how_to_install_it() {
    let dir = support::built_examples();
    let empty = std::env::temp_dir().join(format!("netlab-no-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = run_with(
        "12_many_servers",
        Command::new(dir.join("12_many_servers")).env("PATH", &empty),
    );
    let _ = std::fs::remove_dir(&empty);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "it must fail without Redis: {stderr}"
    );
    assert!(
        stderr.contains("redis-server")
            && stderr.contains("apt install redis-server")
            && stderr.contains("scripts/install-peers"),
        "it says how to get Redis: {stderr}"
    );
}
