//! Mistake: the checksum's 16-bit words are added with wrapping_add, which drops the carries instead of folding them back in (ones'-complement addition).
//! Caught by: carries folded back in

use netlab::inspect::ipv4::Header;
pub use netlab::inspect::layer_at;
pub use netlab::inspect::tcp::flag_names;
use netlab::inspect::WireError;

pub fn decode_ipv4(bytes: &[u8]) -> Result<Header, WireError> {
    // Every field and rule as the library has them, but the checksum:
    let mut header = netlab::inspect::ipv4::decode(bytes)?;
    let mut sum: u16 = 0;
    for word in bytes[..header.header_len].chunks(2) {
        // the carry out of the top bit is lost: it should be added back in at the bottom
        sum = sum.wrapping_add(u16::from_be_bytes([word[0], word[1]]));
    }
    header.checksum_ok = sum == 0xffff;
    Ok(header)
}
