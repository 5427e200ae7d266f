//! Mistake: Total Length is read little-endian, though every multi-byte field of an IP header is big-endian (network byte order).
//! Caught by: bytes 2..4, big-endian

use netlab::inspect::ipv4::Header;
pub use netlab::inspect::layer_at;
pub use netlab::inspect::tcp::flag_names;
use netlab::inspect::WireError;

pub fn decode_ipv4(bytes: &[u8]) -> Result<Header, WireError> {
    let mut header = netlab::inspect::ipv4::decode(bytes)?; // every field right but Total Length
    header.total_len = u16::from_le_bytes([bytes[2], bytes[3]]); // should be from_be_bytes
    Ok(header)
}
