//! Lesson 08: a WebSocket starts life as an HTTP/1.1 request.
//!
//! Run: `cargo run --example 08_handshake`
//!
//! Notice: the client's first bytes on the TCP connection are plain text HTTP;
//! the server's `101 Switching Protocols` carries an accept value you can
//! compute yourself from the key; and the very next bytes are binary frames,
//! on the same connection. A request without `Upgrade: websocket` is refused
//! with an ordinary HTTP error.

use netlab::ws::handshake::{accept_key, WEBSOCKET_GUID};
use netlab::ws::server::{self, EchoConfig};
use std::error::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Prints bytes as the lines they are, with \r\n made visible.
fn show(prefix: &str, bytes: &[u8]) {
    for line in String::from_utf8_lossy(bytes).split_inclusive("\r\n") {
        println!("{prefix} {}", line.replace("\r\n", "\\r\\n"));
    }
}

async fn read_head(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).await? == 1 {
        head.push(b[0]);
    }
    Ok(head)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server::serve_echo(listener, EchoConfig::default(), |_| {}));
    println!("netlab's WebSocket echo server listens on {addr}\n");

    // 1. The client's request: plain text, one header per line, an empty line at the end.
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let request = format!(
        "GET /chat HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    println!("client → server ({} bytes of text):", request.len());
    show("  →", request.as_bytes());

    // 2. The server's answer.
    let head = read_head(&mut s).await?;
    println!("\nserver → client ({} bytes):", head.len());
    show("  ←", &head);

    // 3. The accept value, computed by hand.
    println!("\nSec-WebSocket-Accept = base64(SHA-1(key + GUID))");
    println!("  key  = {key}");
    println!("  GUID = {WEBSOCKET_GUID}");
    println!(
        "  → {}   (RFC 6455 §1.3 gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=)",
        accept_key(key)
    );

    // 4. From now on: frames. A masked text frame "hi" (lesson 09), and its echo.
    let frame = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    s.write_all(&frame).await?;
    let mut echo = [0u8; 4];
    s.read_exact(&mut echo).await?;
    println!("\nsame connection, now binary frames:");
    println!("  → {:02x?}  (text \"hi\", masked)", frame);
    println!(
        "  ← {:02x?}              (text \"{}\", unmasked)",
        echo,
        String::from_utf8_lossy(&echo[2..])
    );

    // 5. A plain HTTP request to the same server.
    let mut plain = TcpStream::connect(addr).await?;
    plain
        .write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut answer = Vec::new();
    plain.read_to_end(&mut answer).await?;
    println!("\na request without `Upgrade: websocket` gets an HTTP error:");
    show("  ←", &answer);
    Ok(())
}
