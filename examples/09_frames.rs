//! Lesson 09: WebSocket frames, drawn bit by bit.
//!
//! Run: `cargo run --example 09_frames`
//!
//! Notice: the first two bytes of every frame hold FIN, the opcode, MASK and a
//! 7-bit length; longer lengths take 2 or 8 more bytes; client frames carry a
//! key and their payload is scrambled by it. Then the same frames go to a real
//! echo server, and its answers are drawn too: unmasked, and a pong for the ping.

use bytes::BytesMut;
use netlab::ws::frame::{draw_bits, FrameHeader, OpCode};
use netlab::ws::mask::apply_mask;
use netlab::ws::protocol::encode_frame;
use netlab::ws::server::{self, EchoConfig};
use std::error::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 24 { " …" } else { "" };
    format!("{}{more}", shown.join(" "))
}

/// Draws one encoded frame: its header fields, its bits, its bytes.
fn draw(title: &str, wire: &[u8]) {
    let (h, n) = FrameHeader::parse(wire).expect("valid").expect("complete");
    println!("{title}");
    println!("  {h}");
    for line in draw_bits(&h).lines() {
        println!("    {line}");
    }
    println!("  header  {}   ({n} bytes)", hex(&wire[..n]));
    let mut payload = wire[n..].to_vec();
    if let Some(key) = h.mask {
        println!("  masked  {}", hex(&payload));
        apply_mask(&mut payload, key);
    }
    println!(
        "  payload {}   \"{}\"\n",
        hex(&payload),
        netlab::term::printable(&payload, 24)
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let key = Some([0x37, 0xfa, 0x21, 0x3d]); // the key of RFC 6455 §5.7
    let frames: Vec<(&str, Vec<u8>)> = vec![
        (
            "text \"Hello\", masked (RFC §5.7)",
            frame(OpCode::Text, true, b"Hello", key),
        ),
        (
            "first fragment \"Hel\" (FIN=0)",
            frame(OpCode::Text, false, b"Hel", key),
        ),
        (
            "ping \"are you there?\" between the fragments",
            frame(OpCode::Ping, true, b"are you there?", key),
        ),
        (
            "last fragment \"lo\" (continuation, FIN=1)",
            frame(OpCode::Continuation, true, b"lo", key),
        ),
        (
            "binary, 300 bytes: the 16-bit length form",
            frame(OpCode::Binary, true, &[0xab; 300], key),
        ),
        (
            "close 1000 \"bye\"",
            frame(OpCode::Close, true, &[0x03, 0xe8, b'b', b'y', b'e'], key),
        ),
    ];
    println!("=== what the client sends ===\n");
    for (title, wire) in &frames {
        draw(title, wire);
    }

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server::serve_echo(listener, EchoConfig::default(), |_| {}));
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").as_bytes()).await?;
    let mut all = Vec::new();
    for (_, wire) in &frames {
        all.extend_from_slice(wire);
    }
    s.write_all(&all).await?;
    let mut got = Vec::new();
    s.read_to_end(&mut got).await?; // the server closes after the Close exchange
    let start = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    println!("=== what the echo server at {addr} answers ===\n");
    let mut rest = &got[start..];
    while let Ok(Some((h, n))) = FrameHeader::parse(rest) {
        let end = n + h.payload_len as usize;
        let name = match h.opcode {
            OpCode::Pong => "pong: the ping's data, answered at once",
            OpCode::Text => "a text message, unmasked (the fragmented one comes back joined)",
            OpCode::Binary => "the 300 bytes back",
            OpCode::Close => "close: our code echoed, then the server closes TCP",
            _ => "a frame",
        };
        draw(name, &rest[..end.min(rest.len())]);
        rest = &rest[end.min(rest.len())..];
    }
    Ok(())
}

fn frame(op: OpCode, fin: bool, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_frame(op, fin, payload, key, &mut b);
    b.to_vec()
}
