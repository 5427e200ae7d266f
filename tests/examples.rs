//! Every lesson's examples run to the end and exit 0, as a student would run
//! them with `cargo run --example NAME` (the list is the course's own,
//! `netlab::course::LESSONS`). Examples that check their own claims — such as
//! `10_socketio`, which drives a real Socket.IO conversation — fail here when a
//! claim breaks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest an example may run before it counts as hung.
const EXAMPLE_DEADLINE: Duration = Duration::from_secs(60);

/// Builds the examples once (a nested cargo, in its own target directory so it
/// never waits for the lock of the `cargo test` running this) and returns the
/// folder holding them.
fn built_examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_examples)
}

fn build_examples() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        // Shared with tests/course.rs's nested builds, so dependencies compile once.
        .join("course-check");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--examples"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the examples failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug").join("examples")
}

/// Runs one example from the crate root with no input, killing it at the deadline.
fn run(dir: &Path, name: &str) -> Output {
    let mut child = Command::new(dir.join(name))
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
    let dir = built_examples();
    let mut ran = 0;
    for lesson in netlab::course::LESSONS {
        for name in lesson.examples {
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
    assert!(ran >= 14, "only {ran} examples are listed in the course");
}

/// The Socket.IO example shows the packets lesson 10 describes, as hand-written here.
#[test]
fn the_socketio_example_shows_each_packet_both_ways() {
    let out = run(built_examples(), "10_socketio");
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

/// Lesson 07's example shows the loss first (at-most-once), then the fix
/// (history and resume: exactly the missed events, once, in order).
#[test]
fn missed_events_shows_the_loss_then_the_exact_replay() {
    let out = run(built_examples(), "07_missed_events");
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
