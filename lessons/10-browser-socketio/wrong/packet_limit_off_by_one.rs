//! Mistake: the packet count is compared with `>` instead of `==`, so a body of max_packets + 1 packets gets through.
//! Caught by: one too many

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
pub use netlab::web::engineio::{encode_payload, upgrade_step};
use netlab::web::engineio::{Data, EngineError, Packet, SEPARATOR};

pub fn decode_payload(body: &[u8], max_packets: usize) -> Result<Vec<Packet>, EngineError> {
    let mut packets = Vec::new();
    for piece in body.split(|&b| b == SEPARATOR) {
        // should be `==`
        if packets.len() > max_packets {
            return Err(EngineError::TooManyPackets(max_packets));
        }
        let packet = match piece.strip_prefix(b"b") {
            Some(b64) => Packet::Message(Data::Binary(
                BASE64.decode(b64).map_err(|_| EngineError::Base64)?.into(),
            )),
            None => Packet::parse_text(std::str::from_utf8(piece).map_err(|_| EngineError::Utf8)?)?,
        };
        packets.push(packet);
    }
    Ok(packets)
}
