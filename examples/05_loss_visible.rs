//! Lesson 05: UDP loses, duplicates and reorders — and sequence numbers show it.
//!
//! Run: `cargo run --example 05_loss_visible`
//!
//! A sender and a receiver on 127.0.0.1 talk through netlab's impairment relay
//! (the same code as `netlab link`) set to 10% loss, 5% duplication and 5%
//! reordering. Every datagram carries a sequence number; the receiver's tracker
//! prints what the network did, line by line. Change the seed and run again.

use netlab::link::relay::{self, RelayConfig};
use netlab::link::Impairment;
use netlab::udp::{Arrival, DatagramHeader, ReceiveTracker};
use std::time::Duration;
use tokio::net::UdpSocket;

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
        for seq in 0..60u32 {
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
        "sent 60; received {} datagrams, {} distinct, {} duplicates, {} late; {} never arrived ({:.0}% loss); jitter {:.0} µs",
        s.received, s.unique, s.duplicates, s.late, s.missing, s.loss_rate() * 100.0, s.jitter_us
    );
    Ok(())
}
