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
    let addr = read_listening_addr(&mut out);
    (child, addr, out)
}

/// Reads a server's first line, `listening on ADDR` (or `listening on ADDR -> TO`
/// for `netlab link`), and returns ADDR as printed (scheme included, if any).
pub fn read_listening_addr(out: &mut impl BufRead) -> String {
    let mut first = String::new();
    out.read_line(&mut first).expect("read the first line");
    first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split(" -> ").next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string()
}

/// A `netlab` server started with [`start_listening`]; killed when dropped.
pub struct Listening {
    /// The process.
    pub child: Child,
    /// The address from its `listening on` line.
    pub addr: String,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `netlab ARGS` (a server printing `listening on ADDR` first).
pub fn listen(args: &[&str]) -> Listening {
    let (child, addr, _) = start_listening(args);
    Listening { child, addr }
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
        wait_for_line(&self.lines, &mut self.seen, text)
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

/// Waits up to [`LINE_PATIENCE`] for a line containing `text` from `lines`,
/// keeping every line read in `seen` (shown when it never comes).
fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    text: &str,
) -> String {
    let deadline = std::time::Instant::now() + LINE_PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
            }
            Err(_) => panic!("no line containing {text:?}; saw {seen:#?}"),
        }
    }
}

/// Resident memory of process `pid` in bytes (`VmRSS` in `/proc/PID/status`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

/// A `netlab` server started through `sh` with `ulimit -n LIMIT` (to run it
/// out of file descriptors), its stderr lines collected; killed when dropped.
pub struct FdLimited {
    /// The process.
    pub child: Child,
    /// The address from its first line.
    pub addr: String,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every stderr line read so far.
    pub seen: Vec<String>,
}

impl Drop for FdLimited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FdLimited {
    /// Starts `netlab --color never ARGS` with at most `limit` open files.
    pub fn start(limit: u32, args: &[&str]) -> FdLimited {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {limit} && exec \"$0\" --color never \"$@\""
            ))
            .arg(netlab_bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh runs");
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let addr = read_listening_addr(&mut out)
            .trim_start_matches("tcp://")
            .to_string();
        let (tx, lines) = std::sync::mpsc::channel();
        let err = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Keep reading stdout too, so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        FdLimited {
            child,
            addr,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `text`; returns it.
    pub fn expect(&mut self, text: &str) -> String {
        wait_for_line(&self.lines, &mut self.seen, text)
    }

    /// Takes every line that has arrived by now.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }
}

/// Opens `n` plain TCP connections to `addr` and keeps them (a file-descriptor flood).
pub fn flood(addr: &str, n: usize) -> Vec<std::net::TcpStream> {
    (0..n)
        .map(|_| std::net::TcpStream::connect(addr).expect("the kernel completes the handshake"))
        .collect()
}

/// The flood test every server with an accept loop passes: out of file
/// descriptors for a while, its log says so once (not every 50 ms), then
/// once more with the count when `accept` works again.
pub fn accept_failures_are_logged_once_per_episode(args: &[&str]) {
    let mut server = FdLimited::start(48, args);
    let held = flood(&server.addr, 64);
    server.expect("accept failing");
    // A second at 20 tries a second: before the fix, 20 more lines.
    std::thread::sleep(std::time::Duration::from_secs(1));
    drop(held);
    let end = server.expect("accept working again");
    assert!(
        end.contains("times in"),
        "the end of the episode says how many failures: {end}"
    );
    let accept_lines: Vec<&String> = server
        .drain()
        .iter()
        .filter(|l| l.contains("accept"))
        .collect();
    assert_eq!(
        accept_lines.len(),
        2,
        "one line when it starts, one when it ends: {accept_lines:#?}"
    );
}

/// A TCP connection to `addr` from the local address `from` (any port):
/// Linux routes all of 127/8 to the loopback interface, so a test can be
/// several "machines".
pub async fn connect_from(from: &str, addr: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(format!("{from}:0").parse().expect("an address"))
        .expect("bind a loopback address");
    socket
        .connect(addr.parse().expect("a socket address"))
        .await
        .expect("connect")
}

/// A blocking TCP connection to `addr` from the local address `from` (any port).
pub fn connect_from_std(from: &str, addr: &str) -> std::net::TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let local: std::net::SocketAddr = format!("{from}:0").parse().expect("an address");
    socket.bind(&local.into()).expect("bind a loopback address");
    let remote: std::net::SocketAddr = addr.parse().expect("a socket address");
    socket.connect(&remote.into()).expect("connect");
    socket.into()
}

/// A `netlab` server started with `--json`: its stdout is kept, so that when
/// it is stopped by a signal ([`JsonServer::stop`]) the report it prints can
/// be read; killed when dropped (if the test failed first).
pub struct JsonServer {
    /// The process.
    pub child: Child,
    /// The address from its `listening on` line, scheme removed.
    pub addr: String,
    out: BufReader<ChildStdout>,
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl JsonServer {
    /// Starts `netlab ARGS` (a server printing `listening on ADDR` first;
    /// `--json` is the caller's to give). Its stderr is discarded.
    pub fn start(args: &[&str]) -> JsonServer {
        let (child, addr, out) = start_listening(args);
        let addr = match addr.split_once("://") {
            Some((_, rest)) => rest.to_string(),
            None => addr,
        };
        JsonServer { child, addr, out }
    }

    /// Sends `signal` (`"TERM"`, `"INT"`) as `kill` would, expects a clean
    /// exit within [`LINE_PATIENCE`], and returns the JSON object printed
    /// on the last line of its stdout.
    pub fn stop(&mut self, signal: &str) -> serde_json::Value {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal}");
        let deadline = std::time::Instant::now() + LINE_PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop on SIG{signal}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.success(), "SIG{signal} is a clean stop: {status}");
        let lines: Vec<String> = (&mut self.out).lines().map_while(Result::ok).collect();
        let last = lines
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_else(|| panic!("no report on stdout: {lines:?}"));
        serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"))
    }
}
