//! Frame decode + unmask throughput: netlab's `Receiver` against tungstenite's
//! `WebSocket::read` on the same masked client frames (server side).
//!
//! Both turn the same bytes into the same messages: parse each header, check
//! it, unmask the payload and (for text) validate UTF-8. tungstenite reads from
//! an in-memory stream; netlab reads from an in-memory buffer. Run with
//! `cargo bench --bench ws`; the ratio of the two times is the figure to read.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use netlab::ws::frame::{OpCode, Role};
use netlab::ws::protocol::{encode_frame, Limits, Receiver};
use std::io::{Cursor, Read, Write};

/// An in-memory stream: reads come from the input, writes are dropped.
struct Memory(Cursor<Vec<u8>>);

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        if n == 0 && !buf.is_empty() {
            // tungstenite treats 0 as EOF; we stop before that by counting messages.
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `count` masked client frames of `size` bytes each.
fn wire(opcode: OpCode, size: usize, count: usize) -> Vec<u8> {
    let payload: Vec<u8> = match opcode {
        OpCode::Text => "netlab ✓ ".repeat(size / 10 + 1).into_bytes()[..size].to_vec(),
        _ => (0..size).map(|i| (i * 7) as u8).collect(),
    };
    // Keep text valid UTF-8 after the cut above: replace a split character's bytes with ASCII.
    let payload = match opcode {
        OpCode::Text => match std::str::from_utf8(&payload) {
            Ok(_) => payload,
            Err(e) => {
                let mut p = payload;
                for b in &mut p[e.valid_up_to()..] {
                    *b = b'x';
                }
                p
            }
        },
        _ => payload,
    };
    let mut out = BytesMut::new();
    for i in 0..count {
        let key = [0x37, 0xfa, 0x21, i as u8];
        encode_frame(opcode, true, &payload, Some(key), &mut out);
    }
    out.to_vec()
}

fn decode(c: &mut Criterion) {
    let cases = [
        ("binary 16 B x 1000", OpCode::Binary, 16, 1000),
        ("binary 4 KiB x 100", OpCode::Binary, 4096, 100),
        ("binary 1 MiB x 1", OpCode::Binary, 1 << 20, 1),
        ("text 4 KiB x 100", OpCode::Text, 4096, 100),
    ];
    for (name, opcode, size, count) in cases {
        let bytes = wire(opcode, size, count);
        let mut group = c.benchmark_group(format!("ws decode+unmask {name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("netlab", |b| {
            b.iter_batched(
                || BytesMut::from(&bytes[..]),
                |mut inbox| {
                    let mut r = Receiver::new(Role::Server, Limits::default());
                    let mut n = 0;
                    while let Some(m) = r.read(&mut inbox).expect("valid frames") {
                        std::hint::black_box(&m);
                        n += 1;
                    }
                    assert_eq!(n, count);
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("tungstenite", |b| {
            b.iter_batched(
                || Memory(Cursor::new(bytes.clone())),
                |stream| {
                    let config = tungstenite::protocol::WebSocketConfig::default()
                        .max_frame_size(Some(64 << 20))
                        .max_message_size(Some(64 << 20));
                    let mut ws = tungstenite::WebSocket::from_raw_socket(
                        stream,
                        tungstenite::protocol::Role::Server,
                        Some(config),
                    );
                    for _ in 0..count {
                        let m = ws.read().expect("valid frames");
                        std::hint::black_box(&m);
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
