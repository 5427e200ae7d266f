//! Tour step for lesson 07: our own acks and retries repair a 20% lossy link.

use super::{explain, ok, say, TourError};
use crate::link::relay::{self, RelayConfig};
use crate::link::Impairment;
use crate::reliable::socket::{self, ReceiveConfig};
use crate::reliable::SenderConfig;
use std::time::Duration;

/// Bytes the step sends: about 80 datagrams.
const STREAM_LEN: usize = 96 * 1024;

/// Sends a stream over real UDP through the impairment relay (20% loss each way).
pub async fn repaired_loss() -> Result<(), TourError> {
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let to = receiver.local_addr()?;
    let front = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let relay_addr = front.local_addr()?;
    let impairment = Impairment {
        loss: 0.20,
        seed: 7,
        ..Impairment::default()
    };
    say(format!(
        "sender → netlab link ({}) → receiver, all UDP on 127.0.0.1",
        impairment.describe()
    ));
    let config = RelayConfig::new(to, impairment);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(relay::run(
        front,
        config,
        async {
            let _ = stop_rx.await;
        },
        |_| {},
    ));

    let data: Vec<u8> = (0..STREAM_LEN as u32)
        .map(|i| (i ^ (i >> 9)) as u8)
        .collect();
    let sent = data.clone();
    let recv = tokio::task::spawn_blocking(move || {
        let config = ReceiveConfig {
            linger: Duration::from_millis(300),
            idle: Duration::from_secs(10),
            ..ReceiveConfig::default()
        };
        socket::receive(&receiver, config)
    });
    let send = tokio::task::spawn_blocking(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
        socket::send(
            &sock,
            relay_addr,
            sent.into(),
            SenderConfig::default(),
            Duration::from_secs(10),
        )
    });
    let failed =
        |e: &dyn std::fmt::Display| TourError::Unexpected(format!("reliable transfer failed: {e}"));
    let report = send
        .await
        .map_err(|e| failed(&e))?
        .map_err(|e| failed(&e))?;
    let (got, _) = recv
        .await
        .map_err(|e| failed(&e))?
        .map_err(|e| failed(&e))?;
    let _ = stop_tx.send(());
    let link = relay.await.map_err(|e| failed(&e))??;
    if got != data {
        return Err(TourError::Unexpected(format!(
            "the receiver got {} bytes that differ from the {} sent",
            got.len(),
            data.len()
        )));
    }
    say(format!(
        "the link dropped {} of the sender's datagrams and {} of the receiver's acks",
        link.forward.lost, link.backward.lost
    ));
    let s = report.stats;
    ok(format!(
        "all {} bytes arrived in order, identical: {} datagrams for {} segments ({} resent: {} on timeout, {} fast) in {:.0?}",
        got.len(),
        s.datagrams_sent,
        s.segments,
        s.retransmissions,
        s.timeouts,
        s.fast_retransmits,
        report.elapsed
    ));
    explain("try it: netlab reliable recv / netlab link --loss 20% / netlab reliable send (netlab lesson 07)");
    Ok(())
}
