//! The slow reader: joins `soak` and `flood` and then never reads, so the
//! server's side of its connection fills at once and stays full — and the
//! server must hold that without holding back anyone else.

use super::conn::Conn;
use super::plan::{FLOOD_ROOM, SOAK_ROOM};
use super::shared::{stopped, Shared};
use serde_json::json;
use std::sync::Arc;

/// Receive buffer of the slow reader's socket: small, so the server's side fills at once.
const SLOW_READER_RCVBUF: u32 = 4096;

/// Joins `soak` and `flood`, then never reads again; holds the socket to the end.
pub(super) async fn run(shared: Arc<Shared>, slot: usize) {
    let Some((mut conn, _)) = Conn::open(&shared, slot, Some(SLOW_READER_RCVBUF)).await else {
        return;
    };
    for room in [SOAK_ROOM, FLOOD_ROOM] {
        let join = json!({"event": "join", "room": room}).to_string();
        if !conn.send(join.as_bytes()).await {
            return;
        }
    }
    let mut running = shared.running.clone();
    let _ = stopped(&mut running).await;
    drop(conn);
}
