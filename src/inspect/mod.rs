//! Lesson 11 — the packet inspector: every byte labelled with its OSI and
//! TCP/IP layer.
//!
//! | module | what it reads | reference |
//! |---|---|---|
//! | [`link`] | link types; Linux cooked (SLL/SLL2), loopback/null headers | tcpdump.org/linktypes.html |
//! | [`ethernet`] | Ethernet II, 802.1Q VLAN tags | IEEE 802.3, 802.1Q |
//! | [`arp`] | ARP | RFC 826 |
//! | [`ipv4`] | IPv4: options, fragments, header checksum | RFC 791 |
//! | [`ipv6`] | IPv6 and its extension headers | RFC 8200 |
//! | [`icmp`] | ICMP and ICMPv6 | RFC 792, RFC 4443 |
//! | [`tcp`] | TCP: flags, options (MSS, WS, SACK, timestamps), checksum | RFC 9293, RFC 7323, RFC 2018 |
//! | [`udp`] | UDP, checksum | RFC 768 |
//! | [`http`] | HTTP/1.x heads, the WebSocket upgrade | RFC 9112, RFC 6455 §4 |
//! | [`websocket`] | WebSocket frame headers, payload unmasked | RFC 6455 §5 |
//! | [`netframe`] | netlab length-prefixed frames and chat events | lesson 02 |
//! | [`dns`] | DNS messages, name compression | RFC 1035 §4 |
//! | [`engineio`] | Engine.IO v4 / Socket.IO v5 packet types; long-polling payloads split at `0x1e` | engine.io-protocol v4, socket.io-protocol v5 |
//!
//! [`mod@dissect`] turns bytes into a tree of fields with layers; [`flow`]
//! remembers which TCP connections were upgraded to WebSocket; [`pcap`] reads
//! and writes capture files as a stream; [`render`] prints the tree, the hex
//! dump coloured by layer, summaries, nested boxes and JSON; [`live`] captures
//! from an interface; [`build`] makes whole frames for tests and benchmarks;

pub mod arp;
pub mod build;
pub mod checksum;
pub mod dissect;
pub mod dns;
pub mod engineio;
pub mod ethernet;
pub mod flow;
pub mod http;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod link;
pub mod live;
pub mod netframe;
pub mod pcap;
pub mod render;
pub mod resp;
pub mod tcp;
pub mod udp;
pub mod websocket;
pub mod wire;

pub use dissect::{dissect, Dissection, Dissector, Node, Value};
pub use link::LinkType;
pub use wire::WireError;

/// The OSI layer of the byte at `offset` in an Ethernet frame: the layer of the
/// innermost header (or payload) that covers it; `None` past the end.
pub fn layer_at(frame: &[u8], offset: usize) -> Option<crate::layers::OsiLayer> {
    dissect::osi_layer_at(LinkType::Ethernet, frame, offset)
}

/// Parses a hex dump as pasted from Wireshark, tcpdump -xx or `xxd -p`: hex
/// digit pairs, with whitespace, colons, `0x` prefixes and leading offsets
/// (`0000:` / `0010  `) ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    parse_hex_max(text, usize::MAX)
}

/// How many bytes of hex text may stand for one byte of a packet: a
/// Wireshark dump spends about 4.4 (offset column, spaces, ASCII column).
pub const HEX_TEXT_PER_BYTE: usize = 8;

/// [`parse_hex`] for untrusted input: refuses as soon as the packet would be
/// longer than `max` bytes, so a huge paste costs no more than `max` bytes.
pub fn parse_hex_max(text: &str, max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut line = line.trim();
        // Drop a leading offset column: "0000  45 00" (Wireshark) or "00000000: 4500" (xxd).
        if let Some(idx) = line.find(|c: char| c.is_whitespace() || c == ':') {
            let (first, sep) = line.split_at(idx);
            let f = first.trim_start_matches("0x");
            let is_offset = f.len() >= 4 && f.chars().all(|c| c.is_ascii_hexdigit());
            if is_offset && (sep.starts_with(':') || sep.starts_with("  ")) {
                line = sep.trim_start_matches(':');
            }
        }
        let mut digits = String::new();
        for tok in line.split(|c: char| c.is_whitespace() || c == ':' || c == ',') {
            let tok = tok.trim_start_matches("0x");
            if tok.chars().all(|c| c.is_ascii_hexdigit()) {
                if tok.len() % 2 != 0 {
                    return Err(format!(
                        "odd number of hex digits in `{tok}`: every byte is two digits"
                    ));
                }
                digits.push_str(tok);
            } else {
                // Wireshark's ASCII column: stop reading this line.
                break;
            }
        }
        if digits.len() % 2 != 0 {
            return Err(format!(
                "odd number of hex digits on line `{line}`: every byte is two digits"
            ));
        }
        if out.len() + digits.len() / 2 > max {
            return Err(format!(
                "the hex holds more than {max} bytes: one packet is at most that (raise --max-record)"
            ));
        }
        for pair in digits.as_bytes().chunks(2) {
            let s = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out.push(u8::from_str_radix(s, 16).map_err(|e| e.to_string())?);
        }
    }
    if out.is_empty() {
        return Err("no hex bytes found: paste pairs like `45 00 00 3c`".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_in_the_usual_shapes() {
        assert_eq!(parse_hex("45 00 00 3c").unwrap(), vec![0x45, 0, 0, 0x3c]);
        assert_eq!(parse_hex("4500003c").unwrap(), vec![0x45, 0, 0, 0x3c]);
        assert_eq!(
            parse_hex("0000  45 00\n0010  01 02").unwrap(),
            vec![0x45, 0, 1, 2]
        );
        assert_eq!(parse_hex("0x45, 0x00").unwrap(), vec![0x45, 0]);
        assert_eq!(
            parse_hex("00000000: 4500 003c  E..<").unwrap(),
            vec![0x45, 0, 0, 0x3c]
        );
        assert_eq!(parse_hex("4500 003c").unwrap(), vec![0x45, 0, 0, 0x3c]);
        assert!(parse_hex("450").is_err());
        assert!(parse_hex("").is_err());
        assert_eq!(super::parse_hex_max("45 00 00 3c", 4).unwrap().len(), 4);
        let too_long = super::parse_hex_max("45 00\n00 3c 01", 4).unwrap_err();
        assert!(too_long.contains("more than 4 bytes"), "{too_long}");
    }
}
