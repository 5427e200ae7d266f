//! Mistake: the 7-bit length is used only below 125 (`< 125` instead of `<= 125`), so a 125-byte payload gets a 16-bit length it does not need.
//! Caught by: in the shortest form

pub use netlab::ws::frame::decode_header;
use netlab::ws::frame::FrameHeader;
pub use netlab::ws::mask::apply_mask;

pub fn encode_header(header: &FrameHeader, dst: &mut Vec<u8>) {
    let mut b0 = header.opcode.bits();
    for (set, bit) in [
        (header.fin, 0x80),
        (header.rsv1, 0x40),
        (header.rsv2, 0x20),
        (header.rsv3, 0x10),
    ] {
        if set {
            b0 |= bit;
        }
    }
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    dst.push(b0);
    let n = header.payload_len;
    // should be n <= 125
    if n < 125 {
        dst.push(mask_bit | n as u8);
    } else if n <= 0xffff {
        dst.push(mask_bit | 126);
        dst.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        dst.push(mask_bit | 127);
        dst.extend_from_slice(&n.to_be_bytes());
    }
    if let Some(key) = header.mask {
        dst.extend_from_slice(&key);
    }
}
