//! Helpers shared by the integration tests.
//!
//! Interop tests start real third-party programs (Python `websockets`, Node `ws`,
//! tshark, Chromium, Redis...). `scripts/check-all` installs them and sets
//! `NETLAB_INTEROP=1`; there a missing peer fails the test. In a plain
//! `cargo test` on a machine without them, the test says loudly what it skipped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

/// True when the interop tier is required (set by `scripts/check-all` and CI).
pub fn interop_required() -> bool {
    std::env::var_os("NETLAB_INTEROP").is_some_and(|v| v != "0")
        || std::env::var_os("CI").is_some_and(|v| v == "true")
}

/// Checks that a peer is usable by running `probe` (e.g. `python3 -c "import websockets"`).
///
/// Returns `true` when it is. When it is not: panics if the interop tier is
/// required, else prints a loud SKIPPED line and returns `false`.
pub fn peer_available(name: &str, probe: &mut Command) -> bool {
    let ok = probe.output().map(|o| o.status.success()).unwrap_or(false);
    if ok {
        return true;
    }
    if interop_required() {
        panic!(
            "interop peer `{name}` is missing: run scripts/install-peers (scripts/check-all does)"
        );
    }
    eprintln!(
        "\n*** SKIPPED: interop peer `{name}` is not installed here; scripts/check-all installs it and runs this test for real ***\n"
    );
    false
}

/// Path of the built `netlab` binary (for tests that drive the real CLI).
pub fn netlab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_netlab"))
}

/// The folder with the Node interop package (`tests/interop/node_modules` after install).
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// Starts `netlab ARGS` — a server whose first stdout line is
/// `listening on ADDR` (optionally followed by ` -> ...`) — and returns the
/// child, ADDR, and the rest of its stdout. Stderr is discarded.
pub fn start_listening(args: &[&str]) -> (Child, String, BufReader<ChildStdout>) {
    let mut child = Command::new(netlab_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start netlab {args:?}: {e}"));
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read the first line");
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split(" -> ").next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (child, addr, out)
}
