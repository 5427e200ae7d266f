//! `netlab link`, the real binary, relaying real UDP datagrams between a client
//! and an echo server on loopback.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::net::UdpSocket;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A UDP echo server on a free port, in a thread; returns its address.
fn udp_echo() -> String {
    counting_udp_echo().0
}

/// [`udp_echo`], also counting the datagrams it received (and answered).
fn counting_udp_echo() -> (String, Arc<AtomicU64>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = sock.send_to(&buf[..n], from);
        }
    });
    (addr, count)
}

/// Starts `netlab link` towards `to` with `flags`; returns the child and the address to send to.
fn start_link(to: &str, flags: &[&str]) -> (Child, String) {
    let mut args = vec!["link", "--listen", "127.0.0.1:0", "--to", to, "--json"];
    args.extend_from_slice(flags);
    let (mut child, addr, out) = support::start_listening(&args);
    // Keep the rest of stdout readable for the final report.
    child.stdout = Some(out.into_inner());
    (child, addr)
}

/// Sends `n` numbered datagrams through the link and collects the echoes until `quiet` passes with none.
fn exchange(link: &str, n: u32, quiet: Duration) -> (Vec<u32>, Vec<Duration>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(link).unwrap();
    let start = Instant::now();
    let mut sent_at = Vec::new();
    for i in 0..n {
        sent_at.push(start.elapsed());
        sock.send(&i.to_be_bytes()).unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(2)); // don't overflow socket buffers
        }
    }
    sock.set_read_timeout(Some(quiet)).unwrap();
    let (mut got, mut rtts) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 64];
    while let Ok(len) = sock.recv(&mut buf) {
        assert_eq!(len, 4);
        let i = u32::from_be_bytes(buf[..4].try_into().unwrap());
        rtts.push(start.elapsed() - sent_at[i as usize]);
        got.push(i);
    }
    (got, rtts)
}

fn final_report(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().expect("a JSON report")).unwrap()
}

/// Most datagrams [`exchange_to_the_end`] has in flight at once. A datagram
/// is in flight until one sent after it has come back: the link keeps each
/// client's order (with loss as its only impairment), and so does loopback,
/// so by then it has been through every socket on the way or was lost. No
/// socket (the link's, the echo server's, ours) ever queues more than this,
/// far below the ~256 small datagrams a default Linux receive buffer holds,
/// however late any of the three processes is scheduled.
const WINDOW: u32 = 64;

/// How long [`exchange_to_the_end`] waits for the latest end marker's echo
/// before sending another one. Only for liveness (a marker may be lost): it
/// decides nothing, however short or long it is.
const MARKER_AGAIN: Duration = Duration::from_millis(200);

/// Patience for the whole exchange: a dead relay fails the test instead of
/// hanging it. Never used to assert speed.
const EXCHANGE_PATIENCE: Duration = Duration::from_secs(60);

/// What came back from [`exchange_to_the_end`].
struct Exchanged {
    /// The numbers below `n` that came back, in arrival order.
    numbered: Vec<u32>,
    /// End markers sent (numbers `n`, `n + 1`, …).
    markers: u32,
    /// Every echo received, markers included.
    echoes: u64,
}

/// Sends `n` numbered datagrams through the link, at most [`WINDOW`] in
/// flight, then end markers (numbers `n`, `n + 1`, …) one at a time until the
/// echo of the latest one sent comes back. That echo is the proof that
/// nothing is left on the way: it was the last datagram sent, and the link
/// and loopback keep each client's order, so every datagram before it has
/// been read by the link, forwarded or dropped, answered by the echo server,
/// read back by the link, passed or dropped, and is already in our socket.
/// The exchange ends on an echo, never on a silence.
fn exchange_to_the_end(link: &str, n: u32) -> Exchanged {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(link).unwrap();
    sock.set_read_timeout(Some(MARKER_AGAIN)).unwrap();
    let deadline = Instant::now() + EXCHANGE_PATIENCE;
    let mut out = Exchanged {
        numbered: Vec::new(),
        markers: 0,
        echoes: 0,
    };
    let (mut next, mut after_last_echo) = (0u32, 0u32);
    let mut latest_marker = None;
    let mut buf = [0u8; 64];
    loop {
        assert!(
            Instant::now() < deadline,
            "no end after {EXCHANGE_PATIENCE:?}: sent {next}, the last echo was of {after_last_echo} - 1"
        );
        let in_flight = next - after_last_echo;
        if next < n && in_flight < WINDOW {
            sock.send(&next.to_be_bytes()).unwrap();
            next += 1;
            continue;
        }
        if next >= n && latest_marker.is_none() && in_flight < WINDOW {
            sock.send(&next.to_be_bytes()).unwrap();
            latest_marker = Some(next);
            next += 1;
            out.markers += 1;
        }
        match sock.recv(&mut buf) {
            Ok(len) => {
                assert_eq!(len, 4);
                let i = u32::from_be_bytes(buf[..4].try_into().unwrap());
                out.echoes += 1;
                after_last_echo = after_last_echo.max(i + 1);
                if i < n {
                    out.numbered.push(i);
                }
                if latest_marker == Some(i) {
                    return out;
                }
            }
            // No echo for a while: the marker (or its echo) may be lost.
            // Another one goes out as soon as the window allows.
            Err(_) => latest_marker = None,
        }
    }
}

#[test]
fn loss_is_counted_exactly_and_reproducible_from_the_seed() {
    let (echo, echoed) = counting_udp_echo();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let before = echoed.load(Ordering::SeqCst);
        let relay = Relay::start(None, &echo, &["--loss", "30%", "--seed", "7"]);
        let got = exchange_to_the_end(&relay.addr, 500);
        // Nothing is on its way any more: the counters are final.
        let reached_echo = echoed.load(Ordering::SeqCst) - before;
        let (r, _) = relay.stop();
        let (fwd, back) = (&r["forward"], &r["backward"]);
        let sent = 500 + u64::from(got.markers);
        assert_eq!(n(&fwd["received"]), sent, "{r}");
        assert_eq!(n(&fwd["lost"]) + n(&fwd["delivered"]), sent, "{r}");
        assert_eq!(
            n(&fwd["delivered"]),
            reached_echo,
            "the echo server got exactly what the link forwarded: {r}"
        );
        assert_eq!(
            back["received"], fwd["delivered"],
            "the echo server answered every forwarded datagram: {r}"
        );
        assert_eq!(
            n(&back["delivered"]),
            got.echoes,
            "the client got exactly what the link let through: {r}"
        );
        let lost_share = 1.0 - got.numbered.len() as f64 / 500.0;
        assert!(
            (0.35..0.65).contains(&lost_share),
            "two 30% hops lose about 51%, lost {lost_share}"
        );
        let survivors: BTreeSet<u32> = got.numbered.iter().copied().collect();
        assert_eq!(survivors.len(), got.numbered.len(), "no echo came twice");
        runs.push(survivors);
    }
    assert_eq!(
        runs[0], runs[1],
        "the same seed must lose the same datagrams"
    );
}

#[test]
fn duplication_doubles_each_way() {
    let echo = udp_echo();
    let (child, addr) = start_link(&echo, &["--duplicate", "100%", "--duration", "1500ms"]);
    let (got, _) = exchange(&addr, 50, Duration::from_millis(400));
    let r = final_report(child);
    assert_eq!(
        got.len(),
        200,
        "2 copies to the server, each echoed twice back"
    );
    assert_eq!(r["forward"]["duplicated"], 50);
    assert_eq!(r["backward"]["duplicated"], 100);
}

#[test]
fn delay_is_added_in_both_directions() {
    let echo = udp_echo();
    let (child, addr) = start_link(&echo, &["--delay", "40ms", "--duration", "1500ms"]);
    let (got, rtts) = exchange(&addr, 20, Duration::from_millis(400));
    final_report(child);
    assert_eq!(got.len(), 20);
    // The link never delivers early: every round trip includes both 40 ms delays.
    assert!(
        rtts.iter().all(|r| *r >= Duration::from_millis(80)),
        "{rtts:?}"
    );
}

#[test]
fn invalid_settings_are_refused_with_the_rule() {
    let out = Command::new(support::netlab_bin())
        .args([
            "link",
            "--listen",
            "127.0.0.1:0",
            "--to",
            "127.0.0.1:9",
            "--loss",
            "150%",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside 0%–100%"));
}

/// The relay sends a burst of equal-sized datagrams upstream in one system call
/// (UDP segmentation offload); the server must still get each datagram alone,
/// byte for byte.
#[test]
fn a_burst_of_equal_sized_datagrams_arrives_as_separate_datagrams() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (child, link) = start_link(
        &sink.local_addr().unwrap().to_string(),
        &["--duration", "3s"],
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(&link).unwrap();
    let datagram = |i: u32| {
        let mut d = vec![i as u8; 64];
        d[..4].copy_from_slice(&i.to_be_bytes());
        d
    };
    for i in 0..150u32 {
        sock.send(&datagram(i)).unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    sink.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut got = BTreeSet::new();
    while let Ok(n) = sink.recv(&mut buf) {
        assert_eq!(n, 64, "one datagram per recv, never a glued run");
        let i = u32::from_be_bytes(buf[..4].try_into().unwrap());
        assert_eq!(buf[..n], datagram(i)[..], "datagram {i} intact");
        assert!(got.insert(i), "datagram {i} twice");
    }
    assert_eq!(got, (0..150).collect::<BTreeSet<u32>>());
    let report = final_report(child);
    assert_eq!(report["forward"]["delivered"], 150);
}

/// The real `netlab link --json` running until the test stops it with SIGINT
/// (its Ctrl-C), so the test can look at it (`/proc/PID/status`) while it
/// runs. Optionally started under a low open-file limit (`ulimit -n`).
/// Killed when the test ends, whatever happens.
struct Relay {
    child: Child,
    /// Where clients send.
    addr: String,
    stdout: Option<BufReader<ChildStdout>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Relay {
    fn start(fd_limit: Option<u32>, to: &str, flags: &[&str]) -> Relay {
        let mut args = vec!["link", "--listen", "127.0.0.1:0", "--to", to, "--json"];
        args.extend_from_slice(flags);
        let mut command = match fd_limit {
            // `exec` keeps the pid: the child is netlab itself, not the shell.
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(support::netlab_bin());
                c
            }
            None => Command::new(support::netlab_bin()),
        };
        let mut child = command
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netlab link");
        let mut err = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let addr = support::read_listening_addr(&mut out);
        Relay {
            child,
            addr,
            stdout: Some(out),
            stderr: Some(stderr),
        }
    }

    /// Stops the relay as Ctrl-C does; returns its final JSON report and all it wrote on stderr.
    fn stop(mut self) -> (Value, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success(), "kill -INT {pid}");
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        assert!(
            status.success(),
            "netlab link failed: {status}; stderr:\n{stderr}"
        );
        let last = rest
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no report; stderr:\n{stderr}"));
        (serde_json::from_str(last).unwrap(), stderr)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `payload` from `sock` to `to` until it comes back (the echo
/// server answers through the relay); false if `tries` sends each waited
/// `quiet` with no answer. A datagram may be lost, so it is sent again.
fn echoed(sock: &UdpSocket, to: &str, payload: &[u8], tries: u32, quiet: Duration) -> bool {
    sock.set_read_timeout(Some(quiet)).unwrap();
    let mut buf = [0u8; 2048];
    for _ in 0..tries {
        sock.send_to(payload, to).unwrap();
        while let Ok(n) = sock.recv(&mut buf) {
            if buf[..n] == *payload {
                return true;
            }
        }
    }
    false
}

/// Patience for an answer that must come: a dead relay fails the test instead
/// of hanging it. Never used to assert speed.
const MUST_ANSWER: (u32, Duration) = (30, Duration::from_secs(1));

/// Patience for an answer that must not come (a refused client): what a
/// refused datagram would get back in time, were it relayed.
const MUST_NOT_ANSWER: (u32, Duration) = (3, Duration::from_millis(300));

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A client socket whose source address is `ip` (any 127.x.y.z works on Linux,
/// which routes all of 127.0.0.0/8 to the loopback interface).
fn client_from(ip: &str) -> UdpSocket {
    UdpSocket::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"))
}

/// With `ulimit -n 64`, one datagram from each of 200 source addresses asks the
/// relay for more per-client sockets than the process may open. It used to exit
/// with `Too many open files`; now the datagrams it cannot open a socket for are
/// dropped and counted, said once on stderr, and the clients it already has keep
/// being relayed.
#[cfg(target_os = "linux")]
#[test]
fn out_of_file_descriptors_new_clients_are_refused_and_the_relay_goes_on() {
    const FLOOD: usize = 200;
    let echo = udp_echo();
    let relay = Relay::start(Some(64), &echo, &[]);
    let good = client_from("127.0.0.1");
    let (tries, quiet) = MUST_ANSWER;
    assert!(echoed(&good, &relay.addr, b"before", tries, quiet));
    for i in 0..FLOOD {
        let s = client_from(&format!("127.3.{}.{}", i / 250, i % 250 + 1));
        s.send_to(b"hello", &relay.addr).unwrap();
        if i % 20 == 19 {
            std::thread::sleep(Duration::from_millis(2)); // don't overflow socket buffers
        }
    }
    assert!(
        echoed(&good, &relay.addr, b"after", tries, quiet),
        "the relay still relays for the client it had"
    );
    let (r, stderr) = relay.stop();
    let refused = n(&r["refused_no_socket"]);
    assert!(refused > 0, "{r}");
    assert!(
        refused < FLOOD as u64,
        "the relay opened what sockets it could: {r}"
    );
    let relayed_new = n(&r["forward"]["received"]) - 2; // "before" and "after"
    assert_eq!(
        relayed_new + refused + n(&r["refused"]) + n(&r["refused_per_ip"]),
        FLOOD as u64,
        "every datagram of the flood was relayed or counted as refused: {r}"
    );
    let said = stderr
        .lines()
        .filter(|l| l.contains("Too many open files"))
        .count();
    assert_eq!(
        said, 1,
        "said once per episode, not per datagram:\n{stderr}"
    );
}

/// Peak resident memory of a running process (Linux), in bytes.
#[cfg(target_os = "linux")]
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or_else(|| panic!("no VmHWM in {status}"));
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Sends `count` datagrams of `size` bytes from `sock` to `to`, with a pause
/// after each: the relay's receive buffer holds only a few datagrams this
/// large, and the flood must reach the relay, not the kernel's drop counter.
fn flood(sock: &UdpSocket, to: &str, count: usize, size: usize) {
    let datagram = vec![0xa5u8; size];
    for _ in 0..count {
        let _ = sock.send_to(&datagram, to);
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// `--delay` without `--rate` used to queue without limit: a burst of 64 KiB
/// datagrams took the relay to gigabytes. Now what one client's session holds
/// is bounded in bytes; the rest is dropped at the tail and counted, as a
/// router's full queue does.
#[cfg(target_os = "linux")]
#[test]
fn a_flood_through_a_long_delay_is_dropped_at_the_tail_not_hoarded() {
    // A sink that never reads: nothing leaves the 10 s delay line before the stop anyway.
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay = Relay::start(
        None,
        &sink.local_addr().unwrap().to_string(),
        &["--delay", "10s"],
    );
    let sock = client_from("127.0.0.1");
    // About 1 GB offered: what a relay that keeps it all would hold.
    flood(&sock, &relay.addr, 15_000, 65_000);
    let peak = peak_rss(relay.child.id());
    let (r, _) = relay.stop();
    assert!(
        peak < 100 << 20,
        "the relay's memory stays bounded: peak RSS {} MiB; {r}",
        peak >> 20
    );
    assert!(
        n(&r["forward"]["overflowed"]) > 0,
        "the tail was dropped: {r}"
    );
    assert!(
        n(&r["peak_held_bytes"]) <= n(&r["limits"]["max_session_memory"]),
        "one session held no more than its share: {r}"
    );
}

/// `--max-memory` bounds what all sessions hold together.
#[cfg(target_os = "linux")]
#[test]
fn max_memory_bounds_all_sessions_together() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay = Relay::start(
        None,
        &sink.local_addr().unwrap().to_string(),
        &[
            "--delay",
            "10s",
            "--max-memory",
            "4MiB",
            "--max-session-memory",
            "3MiB",
        ],
    );
    for ip in ["127.0.0.1", "127.3.9.1"] {
        flood(&client_from(ip), &relay.addr, 1_000, 60 * 1024);
    }
    let (r, _) = relay.stop();
    assert_eq!(n(&r["limits"]["max_memory"]), 4 << 20);
    assert!(n(&r["peak_held_bytes"]) <= 4 << 20, "{r}");
    assert!(n(&r["forward"]["overflowed"]) > 0, "{r}");
}

/// `--max-sessions-per-ip N`: N clients from one address are relayed, the
/// N + 1st is refused and counted, and another address still gets a slot.
#[test]
fn one_address_gets_at_most_max_sessions_per_ip() {
    let echo = udp_echo();
    let relay = Relay::start(None, &echo, &["--max-sessions-per-ip", "3"]);
    let same: Vec<UdpSocket> = (0..4).map(|_| client_from("127.0.0.1")).collect();
    let (tries, quiet) = MUST_ANSWER;
    for s in &same[..3] {
        assert!(echoed(s, &relay.addr, b"at the cap", tries, quiet));
    }
    let (no_tries, no_quiet) = MUST_NOT_ANSWER;
    assert!(
        !echoed(&same[3], &relay.addr, b"one past", no_tries, no_quiet),
        "the fourth client from 127.0.0.1 is not relayed"
    );
    #[cfg(target_os = "linux")]
    assert!(
        echoed(
            &client_from("127.3.1.1"),
            &relay.addr,
            b"elsewhere",
            tries,
            quiet
        ),
        "another address still gets a session"
    );
    let (r, _) = relay.stop();
    assert_eq!(n(&r["refused_per_ip"]), u64::from(no_tries), "{r}");
    assert_eq!(n(&r["refused"]), 0, "{r}");
    assert_eq!(n(&r["limits"]["max_sessions_per_ip"]), 3);
}

/// A client that goes quiet for `--session-idle` gives its slot back: with
/// room for one session, a second client gets in once the first is idle.
#[test]
fn an_idle_session_gives_its_slot_back() {
    let echo = udp_echo();
    let relay = Relay::start(
        None,
        &echo,
        &["--max-sessions", "1", "--session-idle", "1s"],
    );
    let (first, second) = (client_from("127.0.0.1"), client_from("127.0.0.1"));
    let (tries, quiet) = MUST_ANSWER;
    assert!(echoed(&first, &relay.addr, b"first", tries, quiet));
    // Refused while the first is there, relayed once it has been idle long enough.
    assert!(echoed(&second, &relay.addr, b"second", tries, quiet));
    let (r, _) = relay.stop();
    assert!(n(&r["refused"]) >= 1, "the second waited for the slot: {r}");
    assert_eq!(n(&r["limits"]["session_idle_ms"]), 1000);
}

#[test]
fn every_limit_is_a_flag_in_help() {
    let out = Command::new(support::netlab_bin())
        .args(["link", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--max-sessions <N>",
        "--max-sessions-per-ip <N>",
        "--session-idle <DURATION>",
        "--queue <SIZE>",
        "--max-session-memory <SIZE>",
        "--max-memory <SIZE>",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn limits_that_would_relay_nothing_are_refused() {
    for (flag, value) in [
        ("--max-sessions", "0"),
        ("--max-sessions-per-ip", "0"),
        ("--session-idle", "0"),
        ("--max-memory", "0"),
        ("--max-session-memory", "0"),
    ] {
        let out = Command::new(support::netlab_bin())
            .args(["link", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9"])
            // Were the value taken, the relay would stop by itself.
            .args([flag, value, "--duration", "1s"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
}
