//! The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement
//! sum of 16-bit words. IPv4 covers its header with it; ICMP its message; TCP and
//! UDP their segment plus a "pseudo-header" of addresses (RFC 9293 §3.1,
//! RFC 768, RFC 8200 §8.1).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Adds `data` as big-endian 16-bit words to a running 32-bit-folded sum
/// (an odd last byte is padded with zero, RFC 1071 §4.1).
pub fn sum(mut acc: u64, data: &[u8]) -> u64 {
    // Eight bytes at a time: four words per step, carries kept in the u64 and
    // folded at the end. Safe code the compiler turns into a tight loop.
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]))
            + u64::from(u16::from_be_bytes([c[2], c[3]]))
            + u64::from(u16::from_be_bytes([c[4], c[5]]))
            + u64::from(u16::from_be_bytes([c[6], c[7]]));
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum into 16 bits and complements it: the checksum field's value.
pub fn finish(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The checksum of `data` alone (the IPv4 header, an ICMP message).
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(0, data))
}

/// The IPv4 pseudo-header sum for TCP/UDP: source, destination, zero, protocol, length.
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u32) -> u64 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    acc + u64::from(protocol) + u64::from(len)
}

/// The IPv6 pseudo-header sum (RFC 8200 §8.1): addresses, upper-layer length, next header.
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u64 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    acc + u64::from(len >> 16) + u64::from(len & 0xffff) + u64::from(next_header)
}

/// The outcome of checking a checksum field, as Wireshark reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The field matches the bytes.
    Good,
    /// The field does not match; `expected` is what it should have been.
    Bad {
        /// The value the field should hold.
        expected: u16,
    },
    /// Not checked: the packet was cut short by the capture, or (UDP over IPv4) the sender left it 0.
    Unverified,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simple model: one word at a time, carries folded every step (RFC 1071 §3).
    fn model(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let w = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
            acc += w;
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    #[test]
    fn rfc1071_example_words() {
        // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn fast_sum_matches_model_at_every_length_and_alignment() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + 7) as u8).collect();
        for start in 0..9 {
            for end in start..data.len() {
                assert_eq!(checksum(&data[start..end]), model(&data[start..end]));
            }
        }
    }
}
