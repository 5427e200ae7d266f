//! Identity: every connection gets an id of 128 random bits from the operating
//! system's generator (`getrandom`), chosen by the server, never by the client.
//!
//! 128 bits make an id unguessable: a client that wants to read someone
//! else's private messages would have to guess one of 2^128 values. The hub also
//! refuses to hand out an id that is still in use, so two live connections never
//! share one (with 128 random bits a repeat is astronomically unlikely anyway;
//! see [`Hub::with_id_source`](super::hub::Hub::with_id_source) for the test
//! that forces one).
//!
//! Like Socket.IO's `socket.id`, the id is also the name of a room that holds
//! exactly that connection: "send to room `<id>`" is how a server reaches one
//! connection. It is written as 32 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

/// Number of hex digits in a written id (128 bits = 32 nibbles).
pub const ID_HEX_LEN: usize = 32;

/// A connection's id: 128 random bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u128);

impl ConnId {
    /// A fresh id from the operating system's random generator.
    ///
    /// Fails only if the OS generator is unavailable (it never silently falls
    /// back to a predictable source).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes)?;
        Ok(Self(u128::from_be_bytes(bytes)))
    }

    /// The id as its room name / wire form: 32 lowercase hex digits.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// The first 8 hex digits: enough to tell people apart in a log or on a screen.
    pub fn short(self) -> String {
        format!("{:08x}", self.0 >> 96)
    }

    /// Whether `text` has the shape of an id (32 lowercase hex digits).
    ///
    /// Rooms with such names are the connections' own rooms: nobody may join them.
    pub fn looks_like_id(text: &str) -> bool {
        text.len() == ID_HEX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// Length of a Socket.IO socket id: 15 random bytes in base64 (`base64id`).
pub const SOCKETIO_ID_LEN: usize = 20;

/// Whether `text` has the shape of a Node Socket.IO socket's id: 20
/// characters of base64url (`A–Z a–z 0–9 - _`). With rooms shared over
/// Redis (lesson 12) such a name addresses that socket, wherever it is, as a
/// 32-hex-digit name addresses a netlab connection; so it cannot be a room.
pub fn looks_like_socketio_id(text: &str) -> bool {
    text.len() == SOCKETIO_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnId({:032x})", self.0)
    }
}

/// Why a text is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a connection id: an id is 32 lowercase hex digits")]
pub struct NotAnId(pub String);

impl FromStr for ConnId {
    type Err = NotAnId;

    fn from_str(s: &str) -> Result<Self, NotAnId> {
        if !Self::looks_like_id(s) {
            return Err(NotAnId(s.to_string()));
        }
        u128::from_str_radix(s, 16)
            .map(ConnId)
            .map_err(|_| NotAnId(s.to_string()))
    }
}

impl serde::Serialize for ConnId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ConnId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketio_ids_are_twenty_base64url_characters() {
        assert!(looks_like_socketio_id("Xw3a_8hPq-aaAAABcdEf"));
        assert!(!looks_like_socketio_id("Xw3a_8hPq-aaAAABcdE"));
        assert!(!looks_like_socketio_id("Xw3a_8hPq-aaAAABcdEfg"));
        assert!(!looks_like_socketio_id("Xw3a/8hPq+aaAAABcdEf"));
    }

    #[test]
    fn ids_are_32_hex_digits_and_parse_back() {
        let id = ConnId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(id.to_hex(), "0123456789abcdef0011223344556677");
        assert_eq!("0123456789abcdef0011223344556677".parse(), Ok(id));
        assert_eq!(ConnId(1).to_hex(), "00000000000000000000000000000001");
        assert_eq!(
            id.short(),
            "01234567",
            "the short form is the first 8 digits"
        );
        assert_eq!(ConnId(1).short(), "00000000");
    }

    #[test]
    fn only_the_exact_shape_is_an_id() {
        assert!(ConnId::looks_like_id("00000000000000000000000000000001"));
        assert!(
            !ConnId::looks_like_id("0000000000000000000000000000001"),
            "31 digits"
        );
        assert!(
            !ConnId::looks_like_id("000000000000000000000000000000001"),
            "33 digits"
        );
        assert!(
            !ConnId::looks_like_id("0000000000000000000000000000000A"),
            "upper case"
        );
        assert!(!ConnId::looks_like_id("0000000000000000000000000000000g"));
        assert!("+0000000000000000000000000000001"
            .parse::<ConnId>()
            .is_err());
    }

    #[test]
    fn random_ids_differ() {
        let a = ConnId::random().unwrap();
        let b = ConnId::random().unwrap();
        assert_ne!(a, b);
    }
}
