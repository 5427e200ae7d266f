//! The peer for `scripts/bench-tcp`: the same length-prefixed echo service
//! built the idiomatic way on tokio-util's `LengthDelimitedCodec` and `Framed`,
//! batching its writes (feed every frame already received, then flush once).
//!
//! Run: `cargo run --release --example peer_ldc_echo -- 127.0.0.1:0`
//! (prints `listening on ADDR` first, like `netlab tcp echo`).

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let codec = LengthDelimitedCodec::builder()
                .length_field_length(4)
                .max_frame_length(8 * 1024 * 1024)
                .new_codec();
            let mut framed = Framed::new(stream, codec);
            while let Some(Ok(frame)) = framed.next().await {
                if framed.feed(frame.freeze()).await.is_err() {
                    return;
                }
                // Everything already decoded goes into the same write.
                while let Some(Some(Ok(frame))) = framed.next().now_or_never() {
                    if framed.feed(frame.freeze()).await.is_err() {
                        return;
                    }
                }
                if SinkExt::<bytes::Bytes>::flush(&mut framed).await.is_err() {
                    return;
                }
            }
        });
    }
}
