//! Helpers shared by the integration tests.
//!
//! Interop tests start real third-party programs (Python `websockets`, Node `ws`,
//! tshark, Chromium, Redis...). `scripts/check-all` installs them and sets
//! `NETLAB_INTEROP=1`; there a missing peer fails the test. In a plain
//! `cargo test` on a machine without them, the test says loudly what it skipped.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

// ---- The chat server with its web side, and the peers around it -----------

/// Bound for "this must arrive": a hang fails instead of blocking.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// `netlab serve` with TCP and HTTP on port 0; killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where TCP chat clients connect.
    pub tcp: String,
    /// Where the page, `/ws` and `/socket.io/` are served.
    pub http: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `netlab --color never serve --quiet --tcp 127.0.0.1:0 --http 127.0.0.1:0 EXTRA...`.
pub fn serve(extra: &[&str]) -> Server {
    serve_on("127.0.0.1:0", extra)
}

/// `netlab serve` with its page and WebSocket on `http` (a restart reuses the port).
pub fn serve_on(http: &str, extra: &[&str]) -> Server {
    let mut child = Command::new(netlab_bin())
        .args([
            "--color",
            "never",
            "serve",
            "--quiet",
            "--tcp",
            "127.0.0.1:0",
            "--http",
            http,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("netlab runs");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = |prefix: &str| {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        l.trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix}..., got {l:?}"))
            .to_string()
    };
    let tcp = line("listening on tcp://");
    let http = line("listening on http://");
    std::thread::spawn(move || for _ in out.lines() {});
    Server { child, tcp, http }
}

/// A TCP chat client in `room`, named `nick` if given: the other transport in
/// every mixed test.
pub async fn tcp_member(
    addr: &str,
    nick: Option<&str>,
    room: &str,
) -> netlab::client::tcp::ChatClient {
    use netlab::chat::protocol::ClientEvent;
    let mut c = netlab::client::tcp::ChatClient::connect(addr)
        .await
        .unwrap();
    if let Some(nick) = nick {
        c.call(ClientEvent::Nick { nick: nick.into() })
            .await
            .unwrap();
    }
    c.call(ClientEvent::Join {
        room: room.into(),
        since: None,
    })
    .await
    .unwrap();
    c
}

/// Waits for the next TCP-side message whose text is `text`; returns its sender's nick.
pub async fn tcp_sees(tcp: &mut netlab::client::tcp::ChatClient, text: &str) -> String {
    use netlab::chat::protocol::ServerEvent;
    loop {
        match tokio::time::timeout(PATIENCE, tcp.next_event())
            .await
            .expect("in time")
            .unwrap()
        {
            ServerEvent::Message { text: t, nick, .. } if t == text => return nick,
            _ => continue,
        }
    }
}

/// Whether the interop tier's Node package `name` is installed (in tests/interop).
pub fn node_module_available(name: &str) -> bool {
    peer_available(
        &format!("node {name}"),
        Command::new("node")
            .current_dir(interop_dir())
            .args(["-e", &format!("require('{name}')")]),
    )
}

/// Whether Debian's Chromium and playwright-core (which drives it) are installed.
pub fn chromium_available() -> bool {
    peer_available(
        "chromium",
        Command::new("/usr/bin/chromium").arg("--version"),
    ) && node_module_available("playwright-core")
}

/// The Chromium page scripts (tests/interop/web_*.js) print one line per step
/// they reached; the returned check waits for the next line and insists it is
/// `what` (a script that failed has printed its error to stderr instead).
pub fn page_script_steps(node: &mut Child) -> impl Fn(&str) {
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = node.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    move |what: &str| {
        let got = lines.recv_timeout(Duration::from_secs(60));
        assert_eq!(
            got.as_deref(),
            Ok(what),
            "the page script stopped (its error is above)"
        );
    }
}

/// A child process that is killed if the test fails before it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// A TCP proxy the test can cut or freeze. Connections opened after a cut
/// or a freeze are forwarded normally: the client can come back.
pub struct Proxy {
    /// Where clients connect.
    pub addr: String,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// Connections numbered up to this one forward nothing any more.
    frozen_upto: Arc<AtomicU64>,
    /// … and these forward nothing from the server to the client.
    frozen_down_upto: Arc<AtomicU64>,
    accepted: Arc<AtomicU64>,
    /// While set, new connections are closed at once (the server looks down).
    refusing: Arc<std::sync::atomic::AtomicBool>,
    _accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (call inside a tokio runtime: its tasks run there).
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let conns = Arc::new(Mutex::new(Vec::new()));
        let frozen_upto = Arc::new(AtomicU64::new(0));
        let frozen_down_upto = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, f, fd, a, r) = (
            conns.clone(),
            frozen_upto.clone(),
            frozen_down_upto.clone(),
            accepted.clone(),
            refusing.clone(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    drop(down);
                    continue;
                }
                let n = a.fetch_add(1, Ordering::SeqCst) + 1;
                let Ok(up) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (dr, dw) = down.into_split();
                let (ur, uw) = up.into_split();
                let (f1, f2, f3) = (f.clone(), f.clone(), fd.clone());
                let task = tokio::spawn(async move {
                    tokio::join!(pipe(dr, uw, n, f1, None), pipe(ur, dw, n, f2, Some(f3)));
                });
                c.lock().unwrap().push(task);
            }
        });
        Proxy {
            addr,
            conns,
            frozen_upto,
            frozen_down_upto,
            accepted,
            refusing,
            _accept: accept,
        }
    }

    /// Closes every connection open now (the client sees its socket close).
    pub fn cut(&self) {
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Stops forwarding on every connection open now, sockets left open.
    pub fn freeze(&self) {
        self.frozen_upto
            .store(self.accepted.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Stops forwarding from the server to the client on every connection
    /// open now (what the client sends still arrives: its acks get lost).
    pub fn freeze_down(&self) {
        self.frozen_down_upto
            .store(self.accepted.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Closes new connections at once (or, with `false`, forwards them again).
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, Ordering::SeqCst);
    }

    /// Connections accepted and forwarded so far.
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies `from` to `to` until EOF, or forever nothing once frozen.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    n: u64,
    frozen_upto: Arc<AtomicU64>,
    frozen_too: Option<Arc<AtomicU64>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(got) = from.read(&mut buf).await else {
            return;
        };
        if got == 0 {
            let _ = to.shutdown().await;
            return;
        }
        let frozen = n <= frozen_upto.load(Ordering::SeqCst)
            || frozen_too
                .as_ref()
                .is_some_and(|f| n <= f.load(Ordering::SeqCst));
        if frozen {
            // Frozen: hold both sockets open forever, forward nothing.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..got]).await.is_err() {
            return;
        }
    }
}

/// A chat message to room `lobby` (not echoed to its sender): what the chat
/// tests have their clients say.
pub fn say(text: &str) -> netlab::chat::protocol::ClientEvent {
    netlab::chat::protocol::ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: text.into(),
        include_self: false,
    }
}

// ---- Node scripts that talk in lines ----------------------------------------

/// Bound for a script's next line: reconnections back off for seconds.
pub const SCRIPT_PATIENCE: Duration = Duration::from_secs(60);

/// A Node script from tests/interop, talking in lines: JSON commands on its
/// stdin, one line per thing that happened on its stdout (its errors go to
/// the test's stderr). Killed when dropped.
pub struct Script {
    pub node: KillOnDrop,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far (shown when an expected one never comes).
    pub seen: Vec<String>,
}

impl Script {
    pub fn start(script: &str, args: &[&str]) -> Script {
        Self::start_with(script, args, &[])
    }

    pub fn start_with(script: &str, args: &[&str], env: &[(&str, &std::path::Path)]) -> Script {
        let mut cmd = Command::new("node");
        cmd.current_dir(interop_dir())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut node = KillOnDrop(cmd.spawn().expect("node runs"));
        let stdout = node.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Script {
            node,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line, whatever it is.
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(SCRIPT_PATIENCE) {
            Ok(l) => {
                self.seen.push(l.clone());
                l
            }
            Err(_) => panic!(
                "the script said nothing more (its error, if any, is above); it said {:#?}",
                self.seen
            ),
        }
    }

    /// The next JSON line whose `ev` is `ev` (others are skipped, and kept in `seen`).
    pub fn expect(&mut self, ev: &str) -> Value {
        loop {
            let l = self.line();
            if let Ok(v) = serde_json::from_str::<Value>(&l) {
                if v["ev"] == ev {
                    return v;
                }
            }
        }
    }

    /// The next JSON line of any of `evs`.
    pub fn expect_any(&mut self, evs: &[&str]) -> Value {
        loop {
            let l = self.line();
            if let Ok(v) = serde_json::from_str::<Value>(&l) {
                if evs.iter().any(|e| v["ev"] == *e) {
                    return v;
                }
            }
        }
    }

    /// Writes one line to its stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.node.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to the script");
        stdin.flush().unwrap();
    }

    /// Closes its stdin and insists it exits successfully.
    pub fn finish(mut self) {
        drop(self.node.stdin.take());
        let status = self.node.wait().expect("wait for node");
        assert!(
            status.success(),
            "the script failed (its error is above); it said {:#?}",
            self.seen
        );
    }
}

// ---- A real Redis (lesson 12) -------------------------------------------------

/// Whether `redis-server` is installed (a missing one fails the interop tier).
pub fn redis_available() -> bool {
    peer_available(
        "redis-server",
        Command::new("redis-server").arg("--version"),
    )
}

/// A `redis-server` of its own on a free loopback port, in a temporary
/// directory, saving nothing; stopped by PID when dropped.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free port and waits until it answers `PING`.
    pub fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    /// Starts one on `port` (a restart reuses its port).
    pub fn start_on(port: u16) -> RedisServer {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "netlab-redis-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let r = RedisServer {
            child: Some(child),
            port,
            dir,
        };
        let deadline = std::time::Instant::now() + PATIENCE;
        while r.cli(&["PING"]) != "PONG" {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server never answered"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `redis-cli -p PORT ARGS` and returns its output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `PUBLISH channel payload` with raw bytes (redis-cli would mangle them).
    pub fn publish(&self, channel: &str, payload: &[u8]) -> i64 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut cmd = Vec::new();
        write!(
            cmd,
            "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{channel}\r\n${}\r\n",
            channel.len(),
            payload.len()
        )
        .unwrap();
        cmd.extend_from_slice(payload);
        cmd.extend_from_slice(b"\r\n");
        s.write_all(&cmd).unwrap();
        let mut reply = String::new();
        BufReader::new(s).read_line(&mut reply).unwrap();
        reply.trim().trim_start_matches(':').parse().unwrap_or(-1)
    }

    /// Stops it (SIGKILL by PID) and waits for it to go.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Builds every example once per test binary (`cargo build --examples` into
/// `CARGO_TARGET_DIR/course-check`, a folder of its own so it never waits for
/// the lock of the `cargo test` running this, shared with tests/course.rs's
/// nested builds so dependencies compile once) and returns the folder
/// holding them.
pub fn built_examples() -> &'static std::path::Path {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"))
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
    })
}

/// Runs one built example as `cargo run --example NAME` would, from the crate
/// root with no input, killed after 60 s; returns its stdout and fails the
/// test (with both outputs) unless it exits 0 — every example checks its own
/// claims.
pub fn run_example(name: &str) -> String {
    /// Longest an example may run.
    const DEADLINE: Duration = Duration::from_secs(60);
    let mut child = Command::new(built_examples().join(name))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("example {name}: {e}"));
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!(
                "example {name} still running after {} s",
                DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed its own checks:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
