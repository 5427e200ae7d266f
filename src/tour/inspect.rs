//! Tour step for lesson 11: the tour's own traffic, captured and labelled by layer.
//!
//! As root the step captures loopback while it talks to an echo server (a real
//! AF_PACKET capture); otherwise it reads the lesson's shipped sample capture,
//! itself recorded from real loopback traffic.

use super::{explain, ok, say, TourError};
use crate::framing::FrameCodec;
use crate::inspect::dissect::{Dissection, Dissector};
use crate::inspect::live::LiveCapture;
use crate::inspect::pcap::Reader;
use crate::inspect::render::{self, Meta};
use crate::inspect::LinkType;
use crate::layers::Protocol;
use crate::tcp::client::FramedClient;
use crate::tcp::echo::{self, EchoConfig};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The lesson's sample capture, built in so the step works from anywhere.
const SAMPLE: &[u8] = include_bytes!("../../lessons/11-inspector/sample.pcap");

/// How long the capture goes on reading queued frames after the traffic ended.
const DRAIN_TIME: Duration = Duration::from_millis(500);

/// Most packets the step keeps from its own capture.
const MAX_TOUR_PACKETS: usize = 64;

/// Captures loopback while the tour talks to an echo server; `None` when not allowed (not root).
async fn capture_own_traffic() -> Result<Option<Vec<Vec<u8>>>, TourError> {
    let Ok(mut cap) = LiveCapture::open("lo") else {
        return Ok(None);
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(echo::serve(listener, EchoConfig::default(), |_| {}));
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let port = addr.port();
    let capture = tokio::task::spawn_blocking(move || {
        let mut kept = Vec::new();
        let mut dissector = Dissector::new();
        let mut d = Dissection::default();
        // Read until told to stop *and* the queue is drained (a read times out):
        // this thread may start late on a busy machine; the kernel keeps the
        // frames queued for it meanwhile.
        // On a loopback that never goes quiet, give up draining after DRAIN_TIME.
        let mut stopped_at: Option<std::time::Instant> = None;
        while kept.len() < MAX_TOUR_PACKETS {
            if stop_flag.load(Ordering::Relaxed) {
                let t = *stopped_at.get_or_insert_with(std::time::Instant::now);
                if t.elapsed() > DRAIN_TIME {
                    break;
                }
            }
            match cap.next_frame() {
                Ok(Some(frame)) => {
                    dissector.dissect(LinkType::Ethernet, frame, &mut d);
                    if d.ports.is_some_and(|(s, t)| s == port || t == port) {
                        kept.push(frame.to_vec());
                    }
                }
                Ok(None) if stop_flag.load(Ordering::Relaxed) => break,
                Ok(None) => {}
                Err(_) => break,
            }
        }
        kept
    });
    // Let the socket start receiving before the traffic begins.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut client = FramedClient::connect(&addr.to_string(), FrameCodec::new())
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    client
        .exchange(&[Bytes::from_static(b"hello"), Bytes::from_static(b"layers")])
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    drop(client);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let kept = capture
        .await
        .map_err(|e| TourError::Unexpected(e.to_string()))?;
    Ok(Some(kept))
}

fn sample_packets() -> Result<Vec<Vec<u8>>, TourError> {
    let mut r = Reader::new(SAMPLE).map_err(|e| TourError::Unexpected(e.to_string()))?;
    let mut out = Vec::new();
    while let Some(rec) = r.next().map_err(|e| TourError::Unexpected(e.to_string()))? {
        out.push(rec.data.to_vec());
    }
    Ok(out)
}

/// Shows the step's packets one line each, then one packet's layers as boxes.
pub async fn own_traffic_by_layer() -> Result<(), TourError> {
    let has_frames = |packets: &[Vec<u8>]| {
        let mut dissector = Dissector::new();
        let mut d = Dissection::default();
        packets.iter().any(|p| {
            dissector.dissect(LinkType::Ethernet, p, &mut d);
            d.protocols().any(|h| h.protocol == Protocol::NetlabFrame)
        })
    };
    let packets = match capture_own_traffic().await? {
        Some(p) if has_frames(&p) => {
            say(format!(
                "captured the tour's own echo traffic on lo: {} packets",
                p.len()
            ));
            p
        }
        Some(p) => {
            // A packet socket sees all of lo; when it is very busy the kernel drops some.
            say(format!(
                "the live capture on lo missed the echo ({} packets kept; loopback is busy): reading the shipped sample instead",
                p.len()
            ));
            sample_packets()?
        }
        None => {
            say("not root, so no live capture: reading the shipped lessons/11-inspector/sample.pcap");
            sample_packets()?
        }
    };
    let mut dissector = Dissector::new();
    let mut d = Dissection::default();
    let mut shown = None;
    for (i, p) in packets.iter().enumerate().take(12) {
        dissector.dissect(LinkType::Ethernet, p, &mut d);
        let meta = Meta {
            number: i as u64 + 1,
            ..Meta::default()
        };
        say(render::summary(&d, &meta));
        if shown.is_none() && d.protocols().any(|h| h.protocol == Protocol::NetlabFrame) {
            shown = Some((d.clone(), p.clone()));
        }
    }
    let Some((d, p)) = shown else {
        return Err(TourError::Unexpected(
            "no packet carried netlab frames: the capture missed the echo".into(),
        ));
    };
    anstream::print!("{}", render::layer_boxes(&d, &p));
    anstream::println!("{}", render::legend());
    anstream::print!("{}", render::hex_dump(&d, &p));
    ok("every byte above belongs to exactly one layer: Ethernet (L2), IPv4 (L3), TCP (L4), netlab frames (L7)");
    explain(
        "try it: netlab inspect lessons/11-inspector/sample.pcap, or sudo netlab inspect --live lo",
    );
    Ok(())
}
