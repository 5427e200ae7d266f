//! Mistake: the separator is pushed after every packet, the last one too, so every payload ends with a stray 0x1e (an empty packet to the server).
//! Caught by: one packet needs no separator

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
pub use netlab::web::engineio::{decode_payload, upgrade_step};
use netlab::web::engineio::{Data, Packet, SEPARATOR};

pub fn encode_payload(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        match p {
            Packet::Message(Data::Binary(bytes)) => {
                out.push(b'b');
                out.extend_from_slice(BASE64.encode(bytes).as_bytes());
            }
            other => out.extend_from_slice(other.to_text().unwrap_or_default().as_bytes()),
        }
        out.push(SEPARATOR); // should go before every packet but the first
    }
    out
}
