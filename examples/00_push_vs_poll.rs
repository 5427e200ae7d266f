//! Lesson 00: why push beats polling — measured.
//!
//! Run: `cargo run --example 00_push_vs_poll`
//!
//! A tiny HTTP server on 127.0.0.1 publishes the same 100 updates, 20 ms
//! apart on average but at irregular times (as news comes), three times over.
//! Each time a client collects all 100:
//! - **poll every 50 ms**: `GET /updates?after=N` on a keep-alive connection,
//!   the server answers with whatever is new (often nothing);
//! - **poll every 10 ms**: the same, faster, to get the news sooner;
//! - **push**: one `GET /stream`, and the server writes each update down the
//!   open TCP connection the moment it exists (what a WebSocket or Socket.IO
//!   server does, minus their framing).
//!
//! The client counts its HTTP requests, the bytes it wrote and read (TCP
//! payload; every packet also carries 40+ bytes of TCP/IP headers, and polling
//! sends more packets) and, for each update, the time from the server creating
//! it to the client reading it. The example exits non-zero if push does not
//! use fewer bytes and less latency than both polls.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How many updates each run publishes.
const UPDATES: usize = 100;
/// Average time between two updates on the server.
const PERIOD: Duration = Duration::from_millis(20);
/// How far a gap may stray from [`PERIOD`], either way: gaps are 10 to 30 ms.
const JITTER: Duration = Duration::from_millis(10);

/// The gap before update `seq`: PERIOD ± JITTER, the same in every run.
///
/// Updates come when they happen, not on a beat. On a beat, a poll every
/// 10 ms against an update every 20 ms falls in step with it and finds each
/// update the instant it appears — a coincidence of two clocks, not a
/// property of polling.
fn gap(seq: usize) -> Duration {
    // A fixed-seed mix of the sequence number (splitmix64's finaliser).
    let mut x = (seq as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    let span = 2 * JITTER.as_micros() as u64 + 1;
    PERIOD - JITTER + Duration::from_micros(x % span)
}

/// The server's list of updates, and a signal when one is added.
struct Board {
    lines: Mutex<Vec<String>>,
    count: watch::Sender<usize>,
}

/// What one client measured.
#[derive(Default)]
struct Run {
    requests: usize,
    bytes_up: usize,
    bytes_down: usize,
    latencies_us: Vec<u64>,
}

impl Run {
    fn bytes(&self) -> usize {
        self.bytes_up + self.bytes_down
    }
    fn mean_ms(&self) -> f64 {
        self.latencies_us.iter().sum::<u64>() as f64 / self.latencies_us.len() as f64 / 1000.0
    }
    fn max_ms(&self) -> f64 {
        *self.latencies_us.iter().max().unwrap_or(&0) as f64 / 1000.0
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epoch = Instant::now();
    println!(
        "{UPDATES} updates, one every {} ms on average at irregular times, from a local HTTP server; each client collects all {UPDATES}.\n",
        PERIOD.as_millis()
    );
    let poll_slow = measure(epoch, Mode::Poll(Duration::from_millis(50))).await?;
    let poll_fast = measure(epoch, Mode::Poll(Duration::from_millis(10))).await?;
    let push = measure(epoch, Mode::Push).await?;

    println!(
        "{:<18} {:>8} {:>10} {:>10} {:>10} {:>14} {:>13}",
        "client", "requests", "bytes up", "bytes down", "bytes", "mean latency", "max latency"
    );
    for (name, r) in [
        ("poll every 50 ms", &poll_slow),
        ("poll every 10 ms", &poll_fast),
        ("push (open TCP)", &push),
    ] {
        println!(
            "{name:<18} {:>8} {:>10} {:>10} {:>10} {:>11.2} ms {:>10.2} ms",
            r.requests,
            r.bytes_up,
            r.bytes_down,
            r.bytes(),
            r.mean_ms(),
            r.max_ms()
        );
    }
    println!(
        "\n  -> polling pays a request and a response header per poll (polling every 10 ms, half of them\n     bring nothing new), and an update waits up to a whole interval for the next poll; polling faster cuts the wait\n     and multiplies the requests. Push sends each update once, the moment it exists."
    );
    let wins = [&poll_slow, &poll_fast]
        .iter()
        .all(|p| push.bytes() < p.bytes() && push.mean_ms() < p.mean_ms());
    if wins {
        println!("push used fewer bytes and less latency than both polls: yes");
        Ok(())
    } else {
        println!("push used fewer bytes and less latency than both polls: NO");
        std::process::exit(1);
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Poll(Duration),
    Push,
}

/// Starts a server and its update source, runs one client against it.
async fn measure(epoch: Instant, mode: Mode) -> Result<Run, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (count, _) = watch::channel(0usize);
    let board = Arc::new(Board {
        lines: Mutex::new(Vec::new()),
        count,
    });
    let server = tokio::spawn(serve(listener, board.clone()));
    // The client connects first, so no update is older than the connection.
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let source = tokio::spawn(publish(board, epoch));
    let run = match mode {
        Mode::Poll(every) => poll(stream, every, epoch).await?,
        Mode::Push => push(stream, epoch).await?,
    };
    source.await?;
    server.abort();
    Ok(run)
}

/// Publishes the updates, each stamped with its creation time.
async fn publish(board: Arc<Board>, epoch: Instant) {
    let mut at = tokio::time::Instant::now();
    for seq in 0..UPDATES {
        at += gap(seq);
        tokio::time::sleep_until(at).await;
        let line = format!("update {seq:03} t={}\n", epoch.elapsed().as_micros());
        let n = {
            let mut lines = board.lines.lock().unwrap();
            lines.push(line);
            lines.len()
        };
        board.count.send_replace(n);
    }
}

/// The HTTP server: `GET /updates?after=N` and `GET /stream`.
async fn serve(listener: TcpListener, board: Arc<Board>) {
    while let Ok((stream, _)) = listener.accept().await {
        let board = board.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let _ = handle(stream, board).await;
        });
    }
}

async fn handle(stream: TcpStream, board: Arc<Board>) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request = String::new();
        if stream.read_line(&mut request).await? == 0 {
            return Ok(());
        }
        // Skip the headers, up to the blank line.
        loop {
            let mut header = String::new();
            if stream.read_line(&mut header).await? == 0 || header == "\r\n" {
                break;
            }
        }
        let path = request.split(' ').nth(1).unwrap_or("");
        if let Some(after) = path.strip_prefix("/updates?after=") {
            let after: usize = after.parse().unwrap_or(0);
            let body: String = {
                let lines = board.lines.lock().unwrap();
                lines.get(after..).unwrap_or(&[]).concat()
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.get_mut().write_all(response.as_bytes()).await?;
        } else if path == "/stream" {
            stream
                .get_mut()
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                )
                .await?;
            let mut rx = board.count.subscribe();
            let mut sent = 0;
            while sent < UPDATES {
                let count = *rx.borrow_and_update();
                let fresh: String = board.lines.lock().unwrap()[sent..count].concat();
                if !fresh.is_empty() {
                    stream.get_mut().write_all(fresh.as_bytes()).await?;
                }
                sent = count;
                if sent < UPDATES && rx.changed().await.is_err() {
                    break;
                }
            }
            return stream.get_mut().shutdown().await;
        } else {
            stream
                .get_mut()
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await?;
        }
    }
}

/// Notes each `update NNN t=MICROS` line's latency.
fn note(run: &mut Run, epoch: Instant, body: &str) -> usize {
    let now = epoch.elapsed().as_micros() as u64;
    let mut n = 0;
    for line in body.lines() {
        if let Some(t) = line.split("t=").nth(1).and_then(|t| t.parse::<u64>().ok()) {
            run.latencies_us.push(now.saturating_sub(t));
            n += 1;
        }
    }
    n
}

/// Asks for news every `every`, on one keep-alive connection.
async fn poll(stream: TcpStream, every: Duration, epoch: Instant) -> std::io::Result<Run> {
    let mut run = Run::default();
    let mut stream = BufReader::new(stream);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut have = 0;
    while have < UPDATES {
        tick.tick().await;
        let request = format!("GET /updates?after={have} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        stream.get_mut().write_all(request.as_bytes()).await?;
        run.requests += 1;
        run.bytes_up += request.len();
        let mut length = 0;
        loop {
            let mut header = String::new();
            let n = stream.read_line(&mut header).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            run.bytes_down += n;
            if header == "\r\n" {
                break;
            }
            if let Some(v) = header.strip_prefix("Content-Length: ") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        run.bytes_down += length;
        have += note(&mut run, epoch, &String::from_utf8_lossy(&body));
    }
    Ok(run)
}

/// Asks once, then reads updates as the server writes them.
async fn push(stream: TcpStream, epoch: Instant) -> std::io::Result<Run> {
    let mut run = Run::default();
    let mut stream = BufReader::new(stream);
    let request = "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    stream.get_mut().write_all(request.as_bytes()).await?;
    run.requests = 1;
    run.bytes_up = request.len();
    loop {
        let mut line = String::new();
        let n = stream.read_line(&mut line).await?;
        if n == 0 {
            break;
        }
        run.bytes_down += n;
        note(&mut run, epoch, &line);
    }
    if run.latencies_us.len() != UPDATES {
        return Err(std::io::Error::other("the push stream ended early"));
    }
    Ok(run)
}
