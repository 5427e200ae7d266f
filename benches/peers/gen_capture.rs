//! Writes a synthetic capture for `scripts/bench-inspect`: N packets of the
//! traffic netlab's lessons make — TCP handshakes, netlab frames with chat
//! events, HTTP upgrades then WebSocket frames, DNS queries, UDP chat — as a
//! classic pcap (Ethernet link type), through netlab's own pcap writer.
//!
//! Usage: `cargo run --release --example inspect_gen_capture -- OUT.pcap N`

use netlab::inspect::build::{tcp_frame, udp_frame};
use netlab::inspect::pcap::Writer;
use netlab::inspect::tcp::{FLG_ACK, FLG_FIN, FLG_PSH, FLG_SYN};
use netlab::inspect::LinkType;
use std::io::BufWriter;
use std::net::Ipv4Addr;

/// One conversation of 16 packets; `k` varies ports and sequence numbers.
fn conversation(k: u32) -> Vec<Vec<u8>> {
    let ip = Ipv4Addr::LOCALHOST;
    let c = (ip, 20000 + (k % 40000) as u16);
    let s = (ip, 7000);
    let w = (ip, 8080);
    let wc = (ip, 30000 + (k % 30000) as u16);
    let seq = k.wrapping_mul(7919);
    let event =
        format!(r#"{{"type":"message","room":"lobby","from":"user{k}","text":"hello {k}"}}"#);
    let mut framed = (event.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(event.as_bytes());
    let upgrade = b"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let accept = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let dns_q =
        b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06netlab\x04test\x00\x00\x01\x00\x01";
    vec![
        tcp_frame(c, s, seq, 0, FLG_SYN, b""),
        tcp_frame(s, c, 1000, seq + 1, FLG_SYN | FLG_ACK, b""),
        tcp_frame(c, s, seq + 1, 1001, FLG_ACK, b""),
        tcp_frame(c, s, seq + 1, 1001, FLG_PSH | FLG_ACK, &framed),
        tcp_frame(
            s,
            c,
            1001,
            seq + 1 + framed.len() as u32,
            FLG_PSH | FLG_ACK,
            &framed,
        ),
        tcp_frame(
            c,
            s,
            seq + 1 + framed.len() as u32,
            1001 + framed.len() as u32,
            FLG_FIN | FLG_ACK,
            b"",
        ),
        tcp_frame(
            s,
            c,
            1001 + framed.len() as u32,
            seq + 2 + framed.len() as u32,
            FLG_FIN | FLG_ACK,
            b"",
        ),
        tcp_frame(wc, w, seq, 0, FLG_SYN, b""),
        tcp_frame(w, wc, 5000, seq + 1, FLG_SYN | FLG_ACK, b""),
        tcp_frame(wc, w, seq + 1, 5001, FLG_PSH | FLG_ACK, upgrade),
        tcp_frame(
            w,
            wc,
            5001,
            seq + 1 + upgrade.len() as u32,
            FLG_PSH | FLG_ACK,
            accept,
        ),
        tcp_frame(
            wc,
            w,
            seq + 1 + upgrade.len() as u32,
            5001 + accept.len() as u32,
            FLG_PSH | FLG_ACK,
            &masked,
        ),
        tcp_frame(
            w,
            wc,
            5001 + accept.len() as u32,
            seq + 12 + upgrade.len() as u32,
            FLG_PSH | FLG_ACK,
            b"\x81\x0aHello back",
        ),
        udp_frame(c, (ip, 53), dns_q),
        udp_frame(c, (ip, 9999), event.as_bytes()),
        tcp_frame(
            wc,
            w,
            seq + 12 + upgrade.len() as u32,
            5013 + accept.len() as u32,
            FLG_FIN | FLG_ACK,
            b"",
        ),
    ]
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "bench.pcap".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let mut w = Writer::new(file, LinkType::Ethernet)?;
    let mut written = 0u64;
    let mut k = 0u32;
    'outer: loop {
        for f in conversation(k) {
            if written == n {
                break 'outer;
            }
            w.write(
                1_700_000_000 + written / 100_000,
                (written % 100_000) as u32 * 10_000,
                f.len() as u32,
                &f,
            )?;
            written += 1;
        }
        k += 1;
    }
    w.finish()?;
    eprintln!("wrote {written} packets to {out}");
    Ok(())
}
