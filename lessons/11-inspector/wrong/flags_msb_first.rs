//! Mistake: the TCP flag names are matched to the bits from the top down (FIN = 0x80), though FIN is the lowest bit (0x01) and CWR the highest.
//! Caught by: bit 0 (0x01) is FIN

pub use netlab::inspect::ipv4::decode as decode_ipv4;
pub use netlab::inspect::layer_at;

const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

pub fn flag_names(flags: u8) -> Vec<&'static str> {
    let mut names = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        // should be 1 << i: FIN is bit 0
        if flags & (0x80 >> i) != 0 {
            names.push(*name);
        }
    }
    names
}
