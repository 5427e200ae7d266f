//! Load generator for `scripts/bench-link`: how many datagrams per second
//! `netlab link` relays with impairments off.
//!
//! Binds a sink on 127.0.0.1, starts `NETLAB link --listen 127.0.0.1:0 --to SINK`
//! pinned to core 0 (`taskset -c 0`), then sends SIZE-byte datagrams to the relay
//! as fast as one thread can, and counts what reaches the sink during the
//! measured window. Prints one JSON line: offered and relayed datagrams/s, and
//! the relay's CPU time per relayed datagram (from /proc/PID/stat).
//!
//!   udp_blast NETLAB [SIZE] [SECS]      (run it under `taskset -c 1`)

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WARMUP: Duration = Duration::from_secs(1);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let netlab = args.get(1).ok_or("usage: udp_blast NETLAB [SIZE] [SECS]")?;
    let size: usize = args.get(2).map_or(Ok(64), |s| s.parse())?;
    let secs: f64 = args.get(3).map_or(Ok(5.0), |s| s.parse())?;

    let sink = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    sink.set_recv_buffer_size(8 << 20)?;
    sink.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>()?.into())?;
    let sink: UdpSocket = sink.into();
    sink.set_read_timeout(Some(Duration::from_millis(100)))?;
    let sink_addr = sink.local_addr()?;

    let total = WARMUP.as_secs_f64() + secs + 2.0;
    let mut relay = Command::new("taskset")
        .args(["-c", "0", netlab, "link", "--listen", "127.0.0.1:0", "--to"])
        .arg(sink_addr.to_string())
        .args(["--duration", &format!("{total}s"), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(relay.stdout.take().ok_or("no stdout")?).read_line(&mut first)?;
    let relay_addr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|l| l.split(" -> ").next())
        .ok_or_else(|| format!("unexpected first line from netlab link: {first:?}"))?
        .to_string();
    let relay_pid = relay.id();

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let sender = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || -> std::io::Result<()> {
            let s = UdpSocket::bind("127.0.0.1:0")?;
            s.connect(&relay_addr)?;
            let payload = vec![0x5a; size];
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if s.send(&payload).is_ok() {
                    n += 1;
                    if n % 1024 == 0 {
                        sent.store(n, Ordering::Relaxed);
                    }
                }
            }
            sent.store(n, Ordering::Relaxed);
            Ok(())
        })
    };

    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let mut received = 0u64;
    let mut window: Option<(Instant, u64, u64, Duration)> = None;
    let end = WARMUP + Duration::from_secs_f64(secs);
    loop {
        let t = start.elapsed();
        if window.is_none() && t >= WARMUP {
            let cpu = netlab::bench::process_cpu_time(relay_pid).unwrap_or_default();
            window = Some((Instant::now(), received, sent.load(Ordering::Relaxed), cpu));
        }
        if t >= end {
            break;
        }
        if sink.recv(&mut buf).is_ok() {
            received += 1;
        }
    }
    let (w_start, w_recv, w_sent, w_cpu) = window.ok_or("the run ended before the warm-up")?;
    let elapsed = w_start.elapsed().as_secs_f64();
    let cpu = netlab::bench::process_cpu_time(relay_pid).unwrap_or_default();
    let relayed = received - w_recv;
    let offered = sent.load(Ordering::Relaxed) - w_sent;
    stop.store(true, Ordering::Relaxed);
    sender.join().map_err(|_| "sender panicked")??;
    let _ = relay.kill();
    let _ = relay.wait();
    let cpu_us = (cpu - w_cpu).as_secs_f64() * 1e6;
    println!(
        "{}",
        serde_json::json!({
            "size": size,
            "secs": elapsed,
            "offered_per_sec": offered as f64 / elapsed,
            "relayed_per_sec": relayed as f64 / elapsed,
            "relay_cpu_us_per_datagram": if relayed > 0 { cpu_us / relayed as f64 } else { 0.0 },
        })
    );
    Ok(())
}
