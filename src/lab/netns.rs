//! `netlab compare lossy-wire --real`: the kernel's own TCP and UDP, two
//! network namespaces joined by a veth pair, loss injected below the sockets.
//!
//! ```text
//!   namespace A (sender)                    namespace B (receiver)
//!   10.77.0.1  [vethA] ===== veth pair ===== [vethB]  10.77.0.2
//!              loss on the way in (ACKs)     loss on the way in (data)
//! ```
//!
//! The loss comes from `tc qdisc ... netem loss P%` when the kernel has netem,
//! else from iptables' `statistic` match (`-m statistic --mode random
//! --probability P -j DROP`) on each side's INPUT chain (a drop on OUTPUT
//! would be reported to the sending program as EPERM, which a real wire never does). Both ends run as
//! child processes (`ip netns exec NS netlab compare --peer ...`). The
//! namespaces are named after this process (`netlab-PID-RUN-a|b`), and
//! [`Namespaces`] deletes them (and with them the veth pair and the rules)
//! when dropped, on every path; a run killed before that is cleaned up by the
//! next one (its PID is gone).
//! TCP retransmissions are the sender namespace's own `RetransSegs` counter
//! (`/proc/net/snmp`), exact because the namespace is new.

use super::report::{Recorder, ScenarioReport, TransportResult, Workload};
use crate::udp::DatagramHeader;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The sender's address inside its namespace.
pub const SENDER_ADDR: &str = "10.77.0.1";
/// The receiver's address inside its namespace.
pub const RECEIVER_ADDR: &str = "10.77.0.2";
/// The receiver's port (the namespace is private, so no other program holds it).
pub const RECEIVER_PORT: u16 = 7000;
/// The UDP receiver stops after this long without a datagram.
pub const UDP_IDLE: Duration = Duration::from_secs(1);
/// A run is abandoned after the workload's own duration plus this much.
pub const GRACE: Duration = Duration::from_secs(60);

/// Why the real experiment could not run.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    /// A setup command failed (not root, no `ip`, no veth support...).
    #[error("`{command}` failed: {stderr} — --real needs Linux, root, iproute2 and iptables (scripts/install-peers)")]
    Setup {
        /// The command line.
        command: String,
        /// What it printed.
        stderr: String,
    },
    /// A peer process misbehaved.
    #[error("the {0} peer failed: {1}")]
    Peer(&'static str, String),
    /// An I/O error starting or reading a peer.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

fn sh(args: &[&str]) -> Result<String, RealError> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| RealError::Setup {
            command: args.join(" "),
            stderr: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(RealError::Setup {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Two namespaces joined by a veth pair; deleted when dropped.
#[derive(Debug)]
pub struct Namespaces {
    /// The sender's namespace.
    pub a: String,
    /// The receiver's namespace.
    pub b: String,
    veth_a: String,
    veth_b: String,
    created: Vec<String>,
    /// How loss was injected, for the report.
    pub impairment: String,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in self.created.drain(..).rev() {
            let _ = sh(&["ip", "netns", "del", &ns]);
        }
    }
}

static RUNS: AtomicU32 = AtomicU32::new(0);

/// Every namespace the lab creates is named `netlab-PID-RUN-a|b`.
pub const NS_PREFIX: &str = "netlab-";

/// Deletes namespaces left by a run that was killed before it could clean up
/// (their process is gone).
fn remove_stale() {
    let Ok(list) = sh(&["ip", "netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(NS_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sh(&["ip", "netns", "del", name]);
        }
    }
}

impl Namespaces {
    /// Creates the pair, with `loss` (0.0–1.0) on each side's way out.
    /// `delay` (one way) needs netem; with the iptables fallback there is none, and the report says so.
    pub fn create(loss: f64, delay: Duration) -> Result<Self, RealError> {
        remove_stale();
        let pid = std::process::id();
        let run = RUNS.fetch_add(1, Ordering::Relaxed) % 100;
        let tag = format!("{}{run}", pid % 1_000_000);
        let mut ns = Namespaces {
            a: format!("{NS_PREFIX}{pid}-{run}-a"),
            b: format!("{NS_PREFIX}{pid}-{run}-b"),
            veth_a: format!("nlv{tag}a"),
            veth_b: format!("nlv{tag}b"),
            created: Vec::new(),
            impairment: String::new(),
        };
        for n in [ns.a.clone(), ns.b.clone()] {
            sh(&["ip", "netns", "add", &n])?;
            ns.created.push(n);
        }
        let (a, b, va, vb) = (
            ns.a.clone(),
            ns.b.clone(),
            ns.veth_a.clone(),
            ns.veth_b.clone(),
        );
        sh(&[
            "ip", "link", "add", &va, "type", "veth", "peer", "name", &vb,
        ])?;
        sh(&["ip", "link", "set", &va, "netns", &a])?;
        sh(&["ip", "link", "set", &vb, "netns", &b])?;
        for (n, v, addr) in [(&a, &va, SENDER_ADDR), (&b, &vb, RECEIVER_ADDR)] {
            sh(&[
                "ip",
                "-n",
                n,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                v,
            ])?;
            sh(&["ip", "-n", n, "link", "set", v, "up"])?;
            sh(&["ip", "-n", n, "link", "set", "lo", "up"])?;
        }
        let pct = format!("{}%", loss * 100.0);
        let delay_us = format!("{}us", delay.as_micros());
        let netem = [(&a, &va), (&b, &vb)].iter().try_for_each(|(n, v)| {
            sh(&[
                "ip", "netns", "exec", n, "tc", "qdisc", "add", "dev", v, "root", "netem", "loss",
                &pct, "delay", &delay_us,
            ])
            .map(|_| ())
        });
        ns.impairment = match netem {
            Ok(()) => format!("netem loss {pct} delay {delay:?} on each veth's way out (tc qdisc)"),
            Err(netem_err) => {
                let p = format!("{loss}");
                for (n, v) in [(&a, &va), (&b, &vb)] {
                    sh(&[
                        "ip",
                        "netns",
                        "exec",
                        n,
                        "iptables",
                        "-A",
                        "INPUT",
                        "-i",
                        v,
                        "-m",
                        "statistic",
                        "--mode",
                        "random",
                        "--probability",
                        &p,
                        "-j",
                        "DROP",
                    ])?;
                }
                let why = match netem_err {
                    RealError::Setup { stderr, .. } => stderr,
                    e => e.to_string(),
                };
                format!("iptables -m statistic --mode random --probability {p} -j DROP on each side's INPUT; no added delay (netem unavailable: {why})")
            }
        };
        Ok(ns)
    }

    /// The sender namespace's TCP `RetransSegs` counter (RFC 4022 tcpRetransSegs).
    pub fn retransmissions(&self) -> Result<u64, RealError> {
        let snmp = sh(&["ip", "netns", "exec", &self.a, "cat", "/proc/net/snmp"])?;
        let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
        let (names, values) = (tcp.next().unwrap_or(""), tcp.next().unwrap_or(""));
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == "RetransSegs")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| RealError::Peer("sender", "no RetransSegs in /proc/net/snmp".into()))
    }
}

fn epoch_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Kills a child if it is still running when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn peer(ns: &str, args: &[String]) -> Result<Reaped, RealError> {
    let exe = std::env::current_exe()?;
    let child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["compare", "--peer"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    Ok(Reaped(child))
}

fn one_transport(
    ns: &Namespaces,
    transport: &'static str,
    w: &Workload,
) -> Result<TransportResult, RealError> {
    let proto = transport.to_lowercase();
    let dest = format!("{RECEIVER_ADDR}:{RECEIVER_PORT}");
    let common = |role: &str, epoch: u64| -> Vec<String> {
        vec![
            role.into(),
            proto.clone(),
            dest.clone(),
            w.count.to_string(),
            w.size.to_string(),
            w.rate.to_string(),
            epoch.to_string(),
        ]
    };
    let epoch = epoch_us();
    let mut rx = peer(&ns.b, &common("recv", epoch))?;
    let mut lines = BufReader::new(
        rx.0.stdout
            .take()
            .ok_or_else(|| RealError::Peer("receiver", "no stdout".into()))?,
    )
    .lines();
    match lines.next() {
        Some(Ok(l)) if l == "ready" => {}
        other => {
            let mut err = String::new();
            if let Some(mut e) = rx.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(RealError::Peer(
                "receiver",
                format!("did not start ({other:?}): {err}"),
            ));
        }
    }
    let mut tx = peer(&ns.a, &common("send", epoch))?;
    let mut rec = Recorder::new(w.size);
    let mut header = [0u8; crate::udp::HEADER_LEN];
    let mut sent = w.count;
    for line in lines {
        let line = line?;
        if let Some(n) = line.strip_prefix("sent ") {
            sent = n.parse().unwrap_or(sent);
            continue;
        }
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [seq, ts, at] = f[..] {
            DatagramHeader {
                seq: seq as u32,
                timestamp: ts as u32,
            }
            .emit(&mut header);
            rec.arrive(&header, Duration::from_micros(at));
        }
    }
    let status = tx.0.wait()?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = tx.0.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(RealError::Peer("sender", err));
    }
    let retrans = (transport == "TCP")
        .then(|| ns.retransmissions())
        .transpose()?;
    Ok(rec.finish(transport, sent, retrans, None))
}

/// Runs lossy-wire on the kernel's stacks in two namespaces.
pub fn run(
    w: &Workload,
    loss: f64,
    delay: Duration,
    show: bool,
) -> Result<ScenarioReport, RealError> {
    let mut p = super::progress::Progress::new("lossy-wire --real: TCP, UDP", show);
    p.update(0.0);
    let ns = Namespaces::create(loss, delay)?;
    let tcp = one_transport(&ns, "TCP", w)?;
    p.update(0.5);
    let udp = one_transport(&ns, "UDP", w)?;
    p.finish();
    Ok(ScenarioReport {
        scenario: "lossy-wire",
        stack: format!(
            "the kernel's TCP and UDP, namespaces {} ↔ {} over a veth pair",
            ns.a, ns.b
        ),
        impairment: ns.impairment.clone(),
        workload: *w,
        tcp,
        udp,
        reliable: None,
    })
}

/// One end of a `--real` run, started inside a namespace:
/// `recv|send tcp|udp ADDR COUNT SIZE RATE EPOCH_US`.
///
/// The receiver prints `ready`, then one `seq timestamp arrival_us` line per message.
/// This is a process's whole job, so any failure is its exit status.
pub fn peer_main(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [role, proto, addr, count, size, rate, epoch] = args else {
        return Err("--peer takes: recv|send tcp|udp ADDR COUNT SIZE RATE EPOCH_US".into());
    };
    let w = Workload {
        count: count.parse()?,
        size: size.parse()?,
        rate: rate.parse()?,
    };
    w.validate()?;
    let addr: SocketAddr = addr.parse()?;
    let epoch: u64 = epoch.parse()?;
    let now = || Duration::from_micros(epoch_us().saturating_sub(epoch));
    let out = std::io::stdout();
    let mut out = out.lock();
    let report = |out: &mut dyn Write, msg: &[u8], at: Duration| -> std::io::Result<()> {
        if let Ok((h, _)) = DatagramHeader::parse(msg) {
            writeln!(out, "{} {} {}", h.seq, h.timestamp, at.as_micros())?;
        }
        Ok(())
    };
    match (role.as_str(), proto.as_str()) {
        ("recv", "tcp") => {
            let l = TcpListener::bind(addr)?;
            writeln!(out, "ready")?;
            out.flush()?;
            // Never wait forever: a wire that loses everything must still end the run.
            l.set_nonblocking(true)?;
            let deadline = Instant::now() + w.send_time(w.count) + GRACE;
            let mut s = loop {
                match l.accept() {
                    Ok((s, _)) => break s,
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => return Err(format!("no connection arrived: {e}").into()),
                }
            };
            s.set_nonblocking(false)?;
            s.set_read_timeout(Some(GRACE))?;
            let mut msg = vec![0; w.size];
            for _ in 0..w.count {
                if s.read_exact(&mut msg).is_err() {
                    break;
                }
                report(&mut out, &msg, now())?;
            }
        }
        ("recv", "udp") => {
            let s = UdpSocket::bind(addr)?;
            writeln!(out, "ready")?;
            out.flush()?;
            let deadline = Instant::now() + w.send_time(w.count) + GRACE;
            let mut buf = vec![0; 2048];
            let mut got_any = false;
            s.set_read_timeout(Some(UDP_IDLE))?;
            while Instant::now() < deadline {
                match s.recv(&mut buf) {
                    Ok(n) => {
                        got_any = true;
                        report(&mut out, &buf[..n], now())?;
                    }
                    Err(_) if got_any => break,
                    Err(_) => {}
                }
            }
        }
        ("send", "tcp") => {
            let mut s = TcpStream::connect_timeout(&addr, GRACE)?;
            s.set_nodelay(true)?;
            s.set_write_timeout(Some(GRACE))?;
            s.set_read_timeout(Some(GRACE))?;
            for seq in 0..w.count {
                let due = w.send_time(seq);
                let t = now();
                if due > t {
                    std::thread::sleep(due - t);
                }
                s.write_all(&w.message(seq, due))?;
            }
            s.shutdown(std::net::Shutdown::Write)?;
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest); // wait for the receiver to close: everything acknowledged
        }
        ("send", "udp") => {
            let s = UdpSocket::bind((SENDER_ADDR, 0))?;
            for seq in 0..w.count {
                let due = w.send_time(seq);
                let t = now();
                if due > t {
                    std::thread::sleep(due - t);
                }
                s.send_to(&w.message(seq, due), addr)?;
            }
        }
        _ => return Err(format!("unknown peer role {role} {proto}").into()),
    }
    out.flush()?;
    Ok(())
}
