//! The sender: says numbered, time-stamped messages (`soak N NANOS`) into
//! the room `soak` at a steady rate, each with an ack id, and keeps the book
//! of which numbers the server accepted — the truth the observers are held
//! against ([`super::ledger`]).

use super::conn::{message, Conn};
use super::plan::SOAK_ROOM;
use super::shared::{stopped, Shared};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// After the load stops, how long the sender waits for its last acks.
const ACK_WAIT: Duration = Duration::from_secs(10);

// Per sender number, its state in the book: not sent, waiting for its ack,
// accepted, refused.
/// Not sent (number 0, which the sender never uses, stays so).
pub(super) const UNSENT: u8 = 0;
/// Sent, no ack yet.
pub(super) const WAITING: u8 = 1;
/// The ack said ok: every observer must get it exactly once.
pub(super) const ACCEPTED: u8 = 2;
/// The ack said no.
pub(super) const REFUSED: u8 = 3;

/// The sender's book when it has finished.
pub(super) struct SenderOutcome {
    /// The state of each number (index = number).
    pub(super) states: Vec<u8>,
    /// What went wrong on the way, if anything.
    pub(super) error: Option<String>,
}

/// Joins `soak` (ack 1), then says `soak N NANOS` with ack id N + 1, `rate`
/// times a second, until the load stops; then waits for the last acks.
pub(super) async fn run(shared: Arc<Shared>, rate: u32) -> Result<SenderOutcome, String> {
    let (mut conn, _welcome) = Conn::open(&shared, 0, None)
        .await
        .ok_or("no connection or no welcome")?;
    let join = json!({"event": "join", "room": SOAK_ROOM, "ack": 1}).to_string();
    if !conn.send(join.as_bytes()).await {
        return Err("the connection failed".into());
    }
    loop {
        match conn.recv().await {
            Some(v) if v["event"] == "ack" && v["ack"] == 1 => {
                if v["ok"] != true {
                    return Err(format!("join refused: {v}"));
                }
                break;
            }
            Some(_) => {}
            None => return Err("closed while joining".into()),
        }
    }
    let states = Arc::new(Mutex::new(vec![UNSENT]));
    let Conn {
        framed,
        open: guard,
    } = conn;
    let (mut sink, mut stream) = framed.split();
    let reader_states = states.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let Ok(v) = serde_json::from_slice::<Value>(&frame) else {
                continue;
            };
            if v["event"] != "ack" {
                continue;
            }
            let Some(n) = v["ack"].as_u64().and_then(|a| a.checked_sub(1)) else {
                continue;
            };
            let mut st = reader_states.lock().expect("sender states");
            if let Some(slot) = st.get_mut(n as usize) {
                *slot = if v["ok"] == true { ACCEPTED } else { REFUSED };
            }
        }
    });
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let mut n: u64 = 0;
    let mut error = None;
    let mut running = shared.running.clone();
    while shared.running() {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped(&mut running) => break,
        }
        n += 1;
        states.lock().expect("sender states").push(WAITING);
        let text = format!("soak {n} {}", shared.now_ns());
        let mut frame = message(SOAK_ROOM, text);
        frame["ack"] = (n + 1).into();
        if sink.send(frame.to_string()).await.is_err() {
            error = Some(format!("the sender's connection failed after {n} messages"));
            break;
        }
    }
    let deadline = Instant::now() + ACK_WAIT;
    while Instant::now() < deadline && !reader.is_finished() {
        if !states.lock().expect("sender states").contains(&WAITING) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reader.abort();
    drop(guard);
    let states = states.lock().expect("sender states").clone();
    Ok(SenderOutcome { states, error })
}

/// The sender's number and send time in a `soak N NANOS` message.
pub(super) fn soak_stamp(event: &Value) -> Option<(u64, u64)> {
    if event["event"] != "message" {
        return None;
    }
    let mut words = event["text"].as_str()?.strip_prefix("soak ")?.split(' ');
    let n = words.next()?.parse().ok()?;
    let ns = words.next()?.parse().ok()?;
    Some((n, ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_the_number_and_the_send_time() {
        let v = json!({"event": "message", "text": "soak 42 123456"});
        assert_eq!(soak_stamp(&v), Some((42, 123456)));
        assert_eq!(soak_stamp(&json!({"event": "message", "text": "hi"})), None);
        assert_eq!(
            soak_stamp(&json!({"event": "joined", "text": "soak 1 2"})),
            None
        );
    }
}
