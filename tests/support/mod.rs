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

/// Bound for "this line must appear": a hang fails the test instead of
/// blocking it. Never used to assert speed.
pub const LINE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// The real `netlab` binary run as a student would, driven through its
/// standard input and output; killed when the test ends, whatever happens.
pub struct Proc {
    /// The process (for its pid, or to wait on it).
    pub child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `netlab --color never ARGS`; its stdout lines are collected.
    pub fn spawn(args: &[&str]) -> Proc {
        Self::start(args, false)
    }

    /// Like [`Proc::spawn`], with stderr's lines collected in the same stream.
    pub fn spawn_with_stderr(args: &[&str]) -> Proc {
        Self::start(args, true)
    }

    fn start(args: &[&str], with_stderr: bool) -> Proc {
        let mut child = Command::new(netlab_bin())
            .args(["--color", "never"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if with_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("netlab runs");
        let (tx, lines) = std::sync::mpsc::channel();
        let forward = |pipe: Box<dyn std::io::Read + Send>, tx: std::sync::mpsc::Sender<String>| {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        };
        forward(
            Box::new(child.stdout.take().expect("piped stdout")),
            tx.clone(),
        );
        if let Some(err) = child.stderr.take() {
            forward(Box::new(err), tx);
        }
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text`; returns it.
    pub fn expect(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + LINE_PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no line containing {text:?}; saw {:#?}", self.seen),
            }
        }
    }

    /// Types one line into its standard input.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes stdin, waits for the exit, and returns whether it succeeded
    /// and every line it printed.
    pub fn finish(mut self) -> (bool, Vec<String>) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        let mut all: Vec<String> = std::mem::take(&mut self.seen);
        while let Ok(l) = self.lines.recv_timeout(std::time::Duration::from_secs(5)) {
            all.push(l);
        }
        (status.success(), all)
    }
}
