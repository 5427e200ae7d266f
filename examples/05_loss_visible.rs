//! Lesson 05: UDP loses, duplicates and reorders — and sequence numbers show it.
//!
//! Run: `cargo run --example 05_loss_visible`
//!
//! A sender and a receiver on 127.0.0.1 talk through netlab's impairment relay
//! (the same code as `netlab link`) set to 10% loss, 5% duplication and 5%
//! reordering. Every datagram carries a sequence number; the receiver's tracker
//! prints what the network did, line by line. Change the seed and run again.
//!
//! 60 datagrams is a small sample: at 10% loss the count lost is binomial,
//! 6 on average but anywhere from 2 to 11 in 95% of runs. The last line says
//! so, and how many datagrams a tight measurement would take.

use netlab::link::relay::{self, RelayConfig};
use netlab::link::Impairment;
use netlab::udp::{Arrival, DatagramHeader, ReceiveTracker};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Datagrams sent.
const SENT: u32 = 60;

/// The smallest and largest number lost in the middle 95% of runs: the 2.5%
/// and 97.5% points of the binomial distribution (n datagrams, each lost with
/// probability p).
fn binomial_95(n: u32, p: f64) -> (u32, u32) {
    let mut cdf = 0.0;
    let mut pmf = (1.0 - p).powi(n as i32);
    let (mut low, mut high) = (None, n);
    for k in 0..=n {
        cdf += pmf;
        if low.is_none() && cdf >= 0.025 {
            low = Some(k);
        }
        if cdf >= 0.975 {
            high = k;
            break;
        }
        pmf *= f64::from(n - k) / f64::from(k + 1) * p / (1.0 - p);
    }
    (low.unwrap_or(0), high)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = UdpSocket::bind("127.0.0.1:0").await?;
    let front = UdpSocket::bind("127.0.0.1:0").await?;
    let relay_addr = front.local_addr()?;
    let impairment = Impairment {
        loss: 0.10,
        duplicate: 0.05,
        reorder: 0.05,
        reorder_hold: Duration::from_millis(5),
        seed: 4,
        ..Impairment::default()
    };
    println!("link: {}", impairment.describe());
    let loss = impairment.loss;
    let config = RelayConfig::new(receiver.local_addr()?, impairment);
    tokio::spawn(relay::run(
        front,
        config,
        tokio::time::sleep(Duration::from_secs(5)),
        |_| {},
    ));

    let sender = UdpSocket::bind("127.0.0.1:0").await?;
    let start = std::time::Instant::now();
    tokio::spawn(async move {
        for seq in 0..SENT {
            let header = DatagramHeader {
                seq,
                timestamp: start.elapsed().as_micros() as u32,
            };
            let datagram = header
                .encode(format!("message {seq}").as_bytes())
                .expect("fits");
            let _ = sender.send_to(&datagram, relay_addr).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });

    let mut tracker = ReceiveTracker::new();
    let mut buf = [0u8; 2048];
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_millis(300), receiver.recv(&mut buf)).await
    {
        let Ok((header, _message)) = DatagramHeader::parse(&buf[..n]) else {
            continue;
        };
        tracker.on_timing(header.timestamp, start.elapsed().as_micros() as u32);
        match tracker.on_arrival(u64::from(header.seq)) {
            Arrival::InOrder { .. } => {}
            other => println!("  seq {:>2}: {other}", header.seq),
        }
    }
    let s = tracker.stats();
    println!(
        "sent {SENT}; received {} datagrams, {} distinct, {} duplicates, {} late; {} never arrived ({:.0}% loss); jitter {:.0} µs",
        s.received, s.unique, s.duplicates, s.late, s.missing, s.loss_rate() * 100.0, s.jitter_us
    );
    let (n, p) = (SENT, loss);
    let (low, high) = binomial_95(n, p);
    let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
    println!(
        "  -> at {:.0}% loss the number lost is binomial: {:.0} on average, standard deviation sqrt(n·p·(1−p)) = {sd:.1}; \
         95% of runs lose {low} to {high} ({:.0}%–{:.0}%), so one run of {n} cannot tell 10% from 15%. \
         For ±1 percentage point (95%) it takes about {} datagrams.",
        p * 100.0,
        f64::from(n) * p,
        f64::from(low) * 100.0 / f64::from(n),
        f64::from(high) * 100.0 / f64::from(n),
        ((1.96f64 / 0.01).powi(2) * p * (1.0 - p)).ceil()
    );
    Ok(())
}
