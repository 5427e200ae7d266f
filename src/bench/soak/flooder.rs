//! The flooder: says [`FLOOD_TEXT`]-byte messages into `flood` as fast as
//! the rate limit in its `welcome` lets it, counting the refusals, and comes
//! back when the server closes it.

use super::conn::{message, Conn};
use super::plan::FLOOD_ROOM;
use super::shared::{bump, pause, stopped, Shared};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of text in each flood message.
pub const FLOOD_TEXT: usize = 512;

/// Floods `flood` at the rate its `welcome` allows (the burst first), reading
/// and counting refusals; comes back when the server closes it.
pub(super) async fn run(shared: Arc<Shared>, slot: usize) {
    let text = "f".repeat(FLOOD_TEXT);
    while shared.running() {
        let Some((conn, welcome)) = Conn::open(&shared, slot, None).await else {
            if !pause(&shared, Duration::from_secs(1)).await {
                return;
            }
            continue;
        };
        let rate = welcome["limits"]["rate"].as_u64().unwrap_or(100).max(1);
        let burst = welcome["limits"]["burst"].as_u64().unwrap_or(1).max(1);
        let Conn {
            framed,
            open: guard,
        } = conn;
        let (mut sink, mut stream) = framed.split();
        let join = json!({"event": "join", "room": FLOOD_ROOM}).to_string();
        if sink.send(join).await.is_err() {
            continue;
        }
        let counters = shared.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                // Only refusals matter here; the room's own traffic is skipped unparsed.
                if frame.starts_with(br#"{"event":"error""#) {
                    bump(&counters.c.flood_refused);
                }
            }
        });
        // The burst at once (less the join), then one message per 1/rate.
        let mut sent_now = 1u64;
        let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        let mut running = shared.running.clone();
        let frame = message(FLOOD_ROOM, text.clone()).to_string();
        loop {
            if sent_now >= burst {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stopped(&mut running) => break,
                }
            }
            if reader.is_finished() || sink.send(frame.clone()).await.is_err() {
                bump(&shared.c.flood_closed);
                break;
            }
            sent_now += 1;
            bump(&shared.c.flood_sent);
        }
        reader.abort();
        drop(guard);
        if !pause(&shared, Duration::from_secs(1)).await {
            return;
        }
    }
}
