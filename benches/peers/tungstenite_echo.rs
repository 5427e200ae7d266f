//! A peer for `netlab bench ws`: a WebSocket echo server built on
//! tokio-tungstenite, so netlab's server can be measured side by side with a
//! well-known implementation (scripts/bench-ws).
//!
//! Run: `cargo run --release --example peer_tungstenite_echo -- 127.0.0.1:9002`
//! Prints `listening on ADDR` first, like `netlab ws echo`.
//!
//! Echoes are forwarded with `StreamExt::forward`, which feeds the sink while
//! messages are ready and flushes when the stream has nothing more: pipelined
//! messages go back in one write, as in netlab's server.

use futures_util::{future, StreamExt, TryStreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    // The same limits as netlab's defaults: 16 MiB frames, 64 MiB messages.
    let config = WebSocketConfig::default()
        .max_frame_size(Some(16 << 20))
        .max_message_size(Some(64 << 20));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            let (sink, stream) = ws.split();
            let _ = stream
                .try_filter(|m| future::ready(m.is_text() || m.is_binary()))
                .forward(sink)
                .await;
        });
    }
}
