//! Lesson 02: a length prefix puts message boundaries back.
//!
//! Run: `cargo run --example 02_framing`
//!
//! Notice: the same three messages that TCP glued together in lesson 01 come
//! back as three messages, even when the bytes are fed to the decoder one at a
//! time — and a header announcing 4 GiB is refused from its 4 bytes alone.

use bytes::BytesMut;
use netlab::framing::{decode_frame, encode_frame, FrameError, DEFAULT_MAX_FRAME};

fn main() -> Result<(), FrameError> {
    let messages: [&[u8]; 3] = [b"GET", b" /chat", b" please"];
    let mut wire = BytesMut::new();
    for m in messages {
        encode_frame(m, &mut wire, DEFAULT_MAX_FRAME)?;
    }
    println!("On the wire ({} bytes):", wire.len());
    for chunk in wire.chunks(8) {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        println!("  {}", hex.join(" "));
    }

    // Feed the decoder one byte at a time, the worst a TCP stream can do.
    let mut inbox = BytesMut::new();
    for (i, byte) in wire.iter().enumerate() {
        inbox.extend_from_slice(&[*byte]);
        while let Some(msg) = decode_frame(&mut inbox, DEFAULT_MAX_FRAME)? {
            println!(
                "after byte {:>2}: message {:?}",
                i + 1,
                String::from_utf8_lossy(&msg)
            );
        }
    }
    println!("  -> three messages out, exactly as sent, however the bytes arrived.\n");

    let mut hostile = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
    match decode_frame(&mut hostile, DEFAULT_MAX_FRAME) {
        Err(e) => println!("header ff ff ff ff: {e}"),
        Ok(_) => println!("header ff ff ff ff was accepted?!"),
    }
    println!("  -> refused from the header alone; nothing of the 4 GiB was allocated.");
    Ok(())
}
