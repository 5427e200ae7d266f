//! Mistake: binary messages are written in base64 without the `=` padding (STANDARD_NO_PAD), which Engine.IO's decoders do not expect.
//! Caught by: padded with `=`

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
pub use netlab::web::engineio::{decode_payload, upgrade_step};
use netlab::web::engineio::{Data, Packet, SEPARATOR};

pub fn encode_payload(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match p {
            Packet::Message(Data::Binary(bytes)) => {
                out.push(b'b');
                out.extend_from_slice(STANDARD_NO_PAD.encode(bytes).as_bytes());
                // should be STANDARD
            }
            other => out.extend_from_slice(other.to_text().unwrap_or_default().as_bytes()),
        }
    }
    out
}
