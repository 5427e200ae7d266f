//! Each network/transport view on its own: after `new_checked` succeeds, no getter may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netlab::inspect::ipv4::IpProtocol;
use netlab::inspect::{arp, ethernet, icmp, ipv4, ipv6, tcp, udp};
use netlab::layers::Protocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = ethernet::Frame::new_checked(data) {
        let _ = (f.destination(), f.source(), f.ethertype(), f.payload());
    }
    if let Ok(t) = ethernet::VlanTag::new_checked(data) {
        let _ = (t.priority(), t.drop_eligible(), t.vlan_id(), t.ethertype());
    }
    if let Ok(a) = arp::Packet::new_checked(data) {
        let _ = (
            a.operation(),
            a.sender_hardware_addr(),
            a.sender_protocol_addr(),
        );
        let _ = (a.target_hardware_addr(), a.target_protocol_addr());
    }
    if let Ok(p) = ipv4::Packet::new_checked(data) {
        let _ = (
            p.src_addr(),
            p.dst_addr(),
            p.frag_offset(),
            p.options(),
            p.payload(),
        );
        let _ = (p.verify_checksum(), ipv4::parse_options(p.options()));
    }
    if let Ok(p) = ipv6::Packet::new_checked(data) {
        let _ = (
            p.flow_label(),
            p.traffic_class(),
            p.next_header(),
            p.payload(),
        );
    }
    for kind in [
        IpProtocol::HopByHop,
        IpProtocol::Ipv6Frag,
        IpProtocol::Ipv6Route,
        IpProtocol::Ah,
    ] {
        if let Ok(h) = ipv6::ExtHeader::new_checked(data, kind) {
            let _ = (
                h.next_header(),
                h.header_len(),
                h.frag_offset(),
                h.frag_ident(),
            );
        }
    }
    if let Ok(m) = icmp::Packet::new_checked(data, Protocol::Icmp) {
        let _ = (
            m.type_name(),
            m.echo_ident(),
            m.verify_checksum(0, data.len()),
        );
    }
    if let Ok(t) = tcp::Packet::new_checked(data) {
        let _ = (
            t.flags(),
            t.options(),
            t.payload(),
            t.verify_checksum(0, data.len()),
        );
        let _ = tcp::parse_options(t.options());
    }
    if let Ok(u) = udp::Packet::new_checked(data) {
        let _ = (u.len(), u.payload(), u.verify_checksum(0, true));
    }
});
