//! Building whole frames (Ethernet + IPv4 + TCP/UDP) from the views' `Repr`
//! emitters, with correct checksums: for tests, benchmarks and lessons that
//! need packets without a network.

use super::checksum;
use super::ethernet::{self, EtherType, Frame};
use super::ipv4::{self, IpProtocol};
use super::tcp;
use super::udp;
use super::wire::MacAddr;
use std::net::Ipv4Addr;

/// The MAC addresses loopback frames carry (all zero).
pub const LOOPBACK_MAC: MacAddr = MacAddr([0; 6]);

fn ether_ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: IpProtocol, l4_len: usize) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv4::HEADER_LEN + l4_len];
    let mut eth = Frame::new_unchecked(&mut f[..]);
    eth.set_destination(LOOPBACK_MAC);
    eth.set_source(LOOPBACK_MAC);
    eth.set_ethertype(EtherType::Ipv4);
    ipv4::Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: proto,
        payload_len: l4_len,
        ttl: 64,
        ident: 0x1234,
        dont_frag: true,
    }
    .emit(&mut f[ethernet::HEADER_LEN..]);
    f
}

/// An Ethernet/IPv4/TCP frame carrying `payload`.
pub fn tcp_frame(
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    ack: u32,
    flags: u16,
    payload: &[u8],
) -> Vec<u8> {
    let l4 = tcp::HEADER_LEN + payload.len();
    let mut f = ether_ipv4(src.0, dst.0, IpProtocol::Tcp, l4);
    let at = ethernet::HEADER_LEN + ipv4::HEADER_LEN;
    f[at + tcp::HEADER_LEN..].copy_from_slice(payload);
    let pseudo = checksum::pseudo_v4(src.0, dst.0, 6, l4 as u32);
    tcp::Repr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 65_000,
    }
    .emit(&mut f[at..], pseudo);
    f
}

/// An Ethernet/IPv4/UDP frame carrying `payload`.
pub fn udp_frame(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
    let l4 = udp::HEADER_LEN + payload.len();
    let mut f = ether_ipv4(src.0, dst.0, IpProtocol::Udp, l4);
    let at = ethernet::HEADER_LEN + ipv4::HEADER_LEN;
    f[at + udp::HEADER_LEN..].copy_from_slice(payload);
    let pseudo = checksum::pseudo_v4(src.0, dst.0, 17, l4 as u32);
    udp::Repr {
        src_port: src.1,
        dst_port: dst.1,
    }
    .emit(&mut f[at..], pseudo);
    f
}
