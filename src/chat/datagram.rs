//! The datagrams UDP adds to the chat protocol (lesson 05): a session opens
//! with a padded `hello`, lives on `heartbeat`s and ends with `bye`, and the
//! server says how often to beat in its `session` datagram. These are the wire
//! types both ends share; the rules the server applies to them (expiry, the
//! anti-amplification gate) are in `transport::udp`, the client in `client::udp`.

use crate::udp::HEADER_LEN;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Smallest `hello` datagram (header included) the server answers: 1200 bytes,
/// QUIC's figure (RFC 9000 §14.1). The answer is far smaller, so a spoofed
/// `hello` cannot make the server send a victim more than the attacker sent.
pub const HELLO_MIN_LEN: usize = 1200;

/// Default silence after which a session expires: three heartbeats.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(30);

/// Default interval at which clients are asked to send a heartbeat.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// The datagrams the UDP transport adds to the chat protocol (client → server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Control {
    /// Opens a session; must be padded to [`HELLO_MIN_LEN`] (JSON allows trailing spaces).
    Hello,
    /// "I am still here", echoing the id from the welcome (this verifies the address).
    Heartbeat {
        /// The id the welcome gave.
        id: String,
    },
    /// Ends the session now.
    Bye,
}

/// The server's UDP-only datagram, the answer to a heartbeat that echoes the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Always `"session"`.
    #[serde(with = "session_tag")]
    pub event: (),
    /// Send a heartbeat this often (milliseconds).
    pub heartbeat_ms: u64,
    /// The session expires after this much silence (milliseconds).
    pub expiry_ms: u64,
    /// Largest message that fits one datagram.
    pub max_message: usize,
}

mod session_tag {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(_: &(), s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("session")
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = <&str>::deserialize(d)?;
        if s == "session" {
            Ok(())
        } else {
            Err(serde::de::Error::custom("not a session event"))
        }
    }
}

impl Control {
    /// The message bytes of this control datagram (a `hello` comes padded).
    pub fn to_message(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec(self).unwrap_or_default();
        if *self == Control::Hello {
            json.resize(HELLO_MIN_LEN - HEADER_LEN, b' ');
        }
        json
    }

    /// A control datagram's message, or `None` for anything else (a chat event).
    pub fn parse(message: &[u8]) -> Option<Control> {
        // Cheap pre-check: chat events never start with these bytes.
        if !message.starts_with(b"{\"event\":\"") {
            return None;
        }
        let rest = &message[10..];
        if !(rest.starts_with(b"hello\"")
            || rest.starts_with(b"heartbeat\"")
            || rest.starts_with(b"bye\""))
        {
            return None;
        }
        serde_json::from_slice(message).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn control_datagrams_on_the_wire() {
        assert_eq!(
            Control::Heartbeat { id: "ab".into() }.to_message(),
            br#"{"event":"heartbeat","id":"ab"}"#.to_vec()
        );
        assert_eq!(Control::Bye.to_message(), br#"{"event":"bye"}"#.to_vec());
        let hello = Control::Hello.to_message();
        assert_eq!(hello.len() + HEADER_LEN, HELLO_MIN_LEN);
        assert!(hello.starts_with(br#"{"event":"hello"} "#));
        assert_eq!(Control::parse(&hello), Some(Control::Hello));
        assert_eq!(Control::parse(br#"{"event":"bye"}"#), Some(Control::Bye));
        assert_eq!(
            Control::parse(br#"{"event":"heartbeat","id":"x"}"#),
            Some(Control::Heartbeat { id: "x".into() })
        );
        // Chat events and garbage are not control datagrams.
        assert_eq!(Control::parse(br#"{"event":"join","room":"a"}"#), None);
        assert_eq!(Control::parse(br#"{"event":"heartbeat"}"#), None);
        assert_eq!(Control::parse(b"\xff\xfe"), None);
        assert_eq!(Control::parse(b""), None);
    }

    proptest::proptest! {
        #[test]
        fn control_parse_never_panics_and_only_takes_control_events(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            prefix in 0usize..4,
        ) {
            let prefixes: [&[u8]; 4] = [b"", br#"{"event":"hello""#, br#"{"event":"heartbeat","id":""#, br#"{"event":"bye""#];
            let mut m = prefixes[prefix].to_vec();
            m.extend_from_slice(&bytes);
            if let Some(c) = Control::parse(&m) {
                // Whatever was taken re-parses to itself from its own encoding.
                proptest::prop_assert_eq!(Control::parse(&c.to_message()), Some(c));
            }
        }
    }
}
