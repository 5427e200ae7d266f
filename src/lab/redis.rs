//! Lesson 12's bench: a throwaway `redis-server` for the example and the
//! tour, so a student needs no Redis of their own to see two servers share
//! a room.
//!
//! It runs exactly the command a student would type,
//!
//! ```text
//! redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no --dir TMP
//! ```
//!
//! on a free loopback port, in a fresh temporary folder, keeping nothing on
//! disk; it is stopped by its PID (never by name: another Redis on the
//! machine is left alone) when [`ScratchRedis`] is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// What to do when `redis-server` is not on `PATH`.
pub const HOW_TO_INSTALL: &str = "install it with `sudo apt install redis-server` (Debian, Ubuntu), `brew install redis` (macOS), or run `scripts/install-peers` from the netlab folder";

/// How long a fresh `redis-server` may take to answer `PING`.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);

/// How many free ports are tried (another program may take the one picked
/// between choosing it and Redis binding it).
const PORT_ATTEMPTS: u32 = 3;

/// Why no Redis could be started.
#[derive(Debug, thiserror::Error)]
pub enum ScratchRedisError {
    /// `redis-server` is not on `PATH`.
    #[error("redis-server is not installed (not found on PATH): {HOW_TO_INSTALL}")]
    NotInstalled,
    /// It started but never answered `PING`, or exited at once.
    #[error("redis-server did not come up: {0}")]
    NoAnswer(String),
    /// Creating its folder or starting it failed.
    #[error("cannot start redis-server: {0}")]
    Io(#[from] std::io::Error),
}

/// A `redis-server` of our own on `127.0.0.1`, stopped by PID when dropped.
#[derive(Debug)]
pub struct ScratchRedis {
    child: Option<Child>,
    port: u16,
    pid: u32,
    dir: PathBuf,
}

impl ScratchRedis {
    /// Starts one on a free loopback port and waits until it answers `PING`.
    pub fn start() -> Result<ScratchRedis, ScratchRedisError> {
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match Self::start_once()? {
                Ok(r) => return Ok(r),
                Err(why) => last = why,
            }
        }
        Err(ScratchRedisError::NoAnswer(last))
    }

    /// One attempt: `Ok(Err(why))` when this port did not work out.
    fn start_once() -> Result<Result<ScratchRedis, String>, ScratchRedisError> {
        static RUN: AtomicU32 = AtomicU32::new(0);
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!(
            "netlab-redis-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(match e.kind() {
                    std::io::ErrorKind::NotFound => ScratchRedisError::NotInstalled,
                    _ => ScratchRedisError::Io(e),
                });
            }
        };
        let mut redis = ScratchRedis {
            pid: child.id(),
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if redis.answers_ping() {
                return Ok(Ok(redis));
            }
            if let Some(c) = redis.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    // Most often: the port was taken meanwhile.
                    return Ok(Err(format!("it exited ({status}) on port {port}")));
                }
            }
            if Instant::now() > deadline {
                return Ok(Err(format!("no PONG within {START_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether it answers `PING` (an inline command: `PING\r\n` → `+PONG\r\n`).
    fn answers_ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `redis://127.0.0.1:PORT`, what `netlab serve --redis` takes.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (by its PID) and removes its folder; dropping does the same.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for ScratchRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One message heard on a subscribed channel: its channel and its bytes.
pub type Heard = (String, Vec<u8>);

/// Subscribes to the channels matching `pattern` (`PSUBSCRIBE`, e.g. the
/// adapter's `socket.io#/#*`) and hands every message published there to
/// the receiver, in order: a spy on what the servers say to each other.
/// Returns once the subscription is in place.
pub async fn spy(
    url: &str,
    pattern: &str,
) -> Result<tokio::sync::mpsc::UnboundedReceiver<Heard>, redis::RedisError> {
    use futures_util::StreamExt;
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(pattern).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = pubsub.into_on_message();
        while let Some(m) = messages.next().await {
            let heard = (
                m.get_channel_name().to_string(),
                m.get_payload_bytes().to_vec(),
            );
            if tx.send(heard).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}
