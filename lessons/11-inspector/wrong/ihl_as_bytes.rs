//! Mistake: layer_at takes IHL (5) as the IPv4 header's length in bytes, though it counts 4-byte words (5 × 4 = 20 bytes).
//! Caught by: IHL 5 × 4 = 20 bytes

pub use netlab::inspect::ipv4::decode as decode_ipv4;
pub use netlab::inspect::tcp::flag_names;
use netlab::layers::OsiLayer;

pub fn layer_at(frame: &[u8], offset: usize) -> Option<OsiLayer> {
    if offset >= frame.len() {
        return None;
    }
    if offset < 14 {
        return Some(OsiLayer::DataLink);
    }
    let ip_len = usize::from(frame[14] & 0x0f); // should be × 4
    let transport = 14 + ip_len;
    if offset < transport {
        return Some(OsiLayer::Network);
    }
    let transport_len = match frame[14 + 9] {
        6 => usize::from(frame[transport + 12] >> 4) * 4, // TCP's data offset, in words
        _ => 8,                                           // UDP
    };
    if offset < transport + transport_len {
        Some(OsiLayer::Transport)
    } else {
        Some(OsiLayer::Application)
    }
}
