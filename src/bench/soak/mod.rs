//! `netlab bench soak`: a long, hostile, churning load on one chat server, and
//! the four figures that say whether it held.
//!
//! Every connection plays one part:
//!
//! - **the sender** says numbered, time-stamped messages (`soak N NANOS`) into
//!   the room `soak` at a steady rate, each with an ack id, and remembers
//!   which numbers the server accepted;
//! - **observers** sit in `soak` with a session (the server runs with
//!   `--history`). Each one, again and again, *vanishes without a FIN* — a
//!   reset (`SO_LINGER` 0, then close), or the socket simply abandoned, so the
//!   server believes a dead connection is alive — stays away a while,
//!   reconnects and sends `resume` with its token and the last seq it saw
//!   ([`crate::client::resume::Resume`]). At the end each observer must have
//!   received every accepted number exactly once: **lost** and **duplicated**
//!   are counted on the wire, before the client's own seq check (which would
//!   hide a duplicate from a user, but the server promises none on resume);
//! - **members** make up the connection count: each joins a room of about
//!   [`MEMBER_ROOM_SIZE`], says something, idles for a random lifetime, then
//!   leaves in one of four ways (reset and resume, abandon and resume, reset
//!   and start a new session, or `leave` and a polite FIN) and comes back;
//! - **one slow reader** in `soak` and `flood` never reads after joining;
//! - **one flooder** says [`FLOOD_TEXT`]-byte messages into `flood` as fast as
//!   the rate limit in its `welcome` lets it;
//! - **UDP clients** (with [`SoakConfig::udp`], usually through `netlab link
//!   --loss 5%`) sit in `soak`, heartbeat, chat in `udp`, and start a new
//!   session now and then; their losses are reported, not judged (UDP loses).
//!
//! With the server's process id the server's resident memory (`VmRSS`) is
//! sampled all along; after the warm-up it must stay within
//! [`SoakConfig::max_rss_growth`]. Latency (send → receive of live messages at
//! the observers) is reported, never judged. [`SoakReport::failures`] lists
//! every must-be-zero figure that is not zero; `netlab bench soak` exits 1
//! when there is one. `scripts/soak` runs the whole thing against a real
//! server and adds what only it can see: panics in the server's stderr and
//! restarts.
//!
//! One file per part of the run:
//!
//! | file | what it holds |
//! |---|---|
//! | `plan.rs` | the rooms, the defaults, [`SoakConfig`], [`Fault`], [`SoakError`] |
//! | `shared.rs` | what every part shares: the counters, the clock, the phase |
//! | `conn.rs` | one TCP chat connection, counted while it lives, and how it ends |
//! | `sender.rs` | the sender and its book of accepted numbers |
//! | `observer.rs` | the observers: vanish, resume, count every arrival on the wire |
//! | `member.rs` | the members: the churn |
//! | `slow_reader.rs`, `flooder.rs` | the two that misbehave |
//! | `udp_client.rs` | the UDP clients |
//! | `ledger.rs` | the book held against the observers' counts: lost, duplicated |
//! | `rss.rs` | the server's memory, sampled, and its growth after the warm-up |
//! | `report.rs` | [`SoakReport`]: every total, the failures, the printed lines |
//!
//! [`run`] (here) starts them in that order, lets the load run, stops it and
//! adds everything up.

mod conn;
mod flooder;
mod ledger;
mod member;
mod observer;
mod plan;
mod report;
mod rss;
mod sender;
mod shared;
mod slow_reader;
mod udp_client;

pub use conn::CONNECT_TIMEOUT;
pub use flooder::FLOOD_TEXT;
pub use plan::{
    default_observers, Fault, SoakConfig, SoakError, DEFAULT_MAX_RSS_GROWTH, DEFAULT_SENDER_RATE,
    DEFAULT_UDP_CLIENTS, DRAIN_TIMEOUT, FLOOD_ROOM, FLOOD_WATCHERS, MEMBER_ROOM_SIZE, SOAK_ROOM,
    UDP_ROOM,
};
pub use report::{
    ConnTotals, FlooderTotals, LatencyTotals, ObserverTotals, SenderTotals, SoakReport, UdpTotals,
};
pub use rss::{RssSample, RssTrace};

use super::chat::resident_bytes;
use super::group_thousands;
use ledger::Ledger;
use observer::{new_histogram, Observer};
use rss::mib;
use sender::UNSENT;
use shared::{Counters, Shared};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Runs the soak and reports what it measured. Fails only when it cannot
/// start (an address that does not resolve, the sender refused); everything
/// that goes wrong later is in the report ([`SoakReport::failures`]).
pub async fn run(config: SoakConfig) -> Result<SoakReport, SoakError> {
    let addr = resolve(&config.addr).await?;
    if config.observers == 0 {
        return Err(SoakError::Config("at least one observer is needed".into()));
    }
    if config.sources == 0 {
        return Err(SoakError::Config("--sources must be at least 1".into()));
    }
    if config.sources > 1 && !addr.ip().is_loopback() {
        return Err(SoakError::Config(
            "--sources spreads clients over 127.0.0.x: only for a server on loopback".into(),
        ));
    }
    let (run_tx, run_rx) = watch::channel(true);
    let (last_tx, last_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        addr,
        sources: config.sources,
        epoch: Instant::now(),
        c: Counters::default(),
        running: run_rx,
        last_accepted: last_rx,
    });
    let start = Instant::now();
    let rss_task = config
        .server_pid
        .map(|pid| rss::sample(pid, config.rss_every, start, shared.running.clone()));

    // Observers first: they must be in `soak` before the first message.
    let mut observers = Vec::new();
    let mut ready = Vec::new();
    for i in 0..config.observers {
        let o = Observer::new(
            shared.clone(),
            i + 1,
            config.fault,
            config.seed,
            config.drain_timeout,
        );
        ready.push(o.start(i, addr).await?);
    }
    let (stay, away) = (config.observer_stay, config.away);
    for (o, conn) in ready {
        observers.push(tokio::spawn(o.run(conn, stay, away)));
    }

    let slot0 = config.observers + 1;
    let specials = vec![
        tokio::spawn(slow_reader::run(shared.clone(), slot0)),
        tokio::spawn(flooder::run(shared.clone(), slot0 + 1)),
    ];
    let sender_task = tokio::spawn(sender::run(shared.clone(), config.sender_rate));

    // Members for the rest of the connections, ramped up over the first half of the warm-up.
    let fixed = config.observers + 3;
    let members = config.conns.saturating_sub(fixed);
    let rooms = members.div_ceil(MEMBER_ROOM_SIZE).max(1);
    let ramp = config.warmup / 2;
    let mut member_tasks = Vec::with_capacity(members);
    for m in 0..members {
        let room = if m < FLOOD_WATCHERS {
            FLOOD_ROOM.to_string()
        } else {
            format!("m-{}", m % rooms)
        };
        let start_at = ramp.mul_f64(m as f64 / members as f64);
        member_tasks.push(tokio::spawn(member::run(
            shared.clone(),
            slot0 + 2 + m,
            room,
            start_at,
            config.member_lifetime,
            config.away,
            config.seed,
        )));
    }
    let udp_tasks: Vec<_> = match &config.udp {
        Some(a) => (0..config.udp_clients)
            .map(|i| {
                tokio::spawn(udp_client::run(
                    shared.clone(),
                    a.clone(),
                    config.seed ^ (1000 + i as u64),
                ))
            })
            .collect(),
        None => Vec::new(),
    };

    // The load runs.
    let progress_every = Duration::from_secs_f64((config.duration.as_secs_f64() / 20.0).max(5.0));
    let end = start + config.duration;
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(progress_every)).await;
        if config.progress {
            let c = &shared.c;
            eprintln!(
                "  {:>5.0}/{:.0} s  {} open  {} opened  {} resumed  {} new sessions{}",
                start.elapsed().as_secs_f64(),
                config.duration.as_secs_f64(),
                group_thousands(c.open_now.load(Ordering::Relaxed)),
                group_thousands(c.opened.load(Ordering::Relaxed)),
                group_thousands(c.resumed.load(Ordering::Relaxed)),
                group_thousands(c.new_sessions.load(Ordering::Relaxed)),
                config
                    .server_pid
                    .and_then(resident_bytes)
                    .map(|b| format!("  server RSS {}", mib(b)))
                    .unwrap_or_default()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = run_tx.send(false);

    // The sender's last acks, then the observers catch up.
    let mut errors = Vec::new();
    let states = match sender_task.await {
        Ok(Ok(out)) => {
            if let Some(e) = out.error {
                errors.push(e);
            }
            out.states
        }
        Ok(Err(e)) => {
            errors.push(format!("the sender could not start: {e}"));
            vec![UNSENT]
        }
        Err(e) => {
            errors.push(format!("the sender task failed: {e}"));
            vec![UNSENT]
        }
    };
    let ledger = Ledger::new(states);
    let _ = last_tx.send(Some(ledger.last_accepted()));
    let mut totals = ObserverTotals {
        observers: config.observers,
        ..Default::default()
    };
    let mut hist = new_histogram();
    for t in observers {
        let o = match t.await {
            Ok(o) => o,
            Err(e) => {
                errors.push(format!("an observer task failed: {e}"));
                continue;
            }
        };
        ledger.add_observer(&mut totals, &o);
        if let Some(h) = o.hist {
            let _ = hist.add(h);
        }
    }
    for t in member_tasks.into_iter().chain(specials) {
        let _ = t.await;
    }
    let mut udp = config.udp.as_ref().map(|_| UdpTotals {
        clients: config.udp_clients,
        ..Default::default()
    });
    for t in udp_tasks {
        if let (Ok(o), Some(u)) = (t.await, udp.as_mut()) {
            u.sessions += o.sessions;
            u.session_failures += o.failures;
            u.expected += o.expected;
            u.delivered += o.delivered;
        }
    }
    if let Some(u) = udp.as_mut() {
        u.loss_percent = if u.expected == 0 {
            0.0
        } else {
            100.0 * (1.0 - u.delivered as f64 / u.expected as f64)
        };
    }
    let mut rss = RssTrace {
        warmup_secs: config.warmup.as_secs_f64(),
        max_growth: config.max_rss_growth,
        ..Default::default()
    };
    if let Some(t) = rss_task {
        if let Ok((samples, gone)) = t.await {
            rss.samples = samples;
            rss.server_gone = gone;
        }
    }
    rss.finish();
    let c = &shared.c;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(SoakReport {
        target: format!("chat tcp {}", config.addr),
        secs,
        conns: config.conns,
        fault: config.fault,
        connections: ConnTotals {
            opened: load(&c.opened),
            peak_open: load(&c.peak_open),
            reset: load(&c.reset),
            abandoned: load(&c.abandoned),
            closed_politely: load(&c.closed_politely),
            closed_by_server: load(&c.closed_by_server),
            new_sessions: load(&c.new_sessions),
            resumed: load(&c.resumed),
            resume_refused: load(&c.resume_refused),
            connect_failures: load(&c.connect_failures),
        },
        observers: totals,
        latency: LatencyTotals {
            samples: hist.len(),
            p50_us: us(0.5),
            p99_us: us(0.99),
            max_us: hist.max() as f64 / 1000.0,
        },
        sender: ledger.sender_totals(),
        flooder: FlooderTotals {
            sent: load(&c.flood_sent),
            refused: load(&c.flood_refused),
            closed: load(&c.flood_closed),
        },
        udp,
        rss,
        errors,
    })
}

async fn resolve(addr: &str) -> Result<SocketAddr, SoakError> {
    tokio::net::lookup_host(addr)
        .await
        .map_err(|e| SoakError::Resolve {
            addr: addr.to_string(),
            why: e.to_string(),
        })?
        .next()
        .ok_or_else(|| SoakError::Resolve {
            addr: addr.to_string(),
            why: "no address".into(),
        })
}
