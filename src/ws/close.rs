//! Lesson 09 — the closing handshake and its status codes (RFC 6455 §5.5.1, §7.4).
//!
//! Either side may start closing by sending a Close frame; the other answers
//! with a Close frame of its own, and then the server closes the TCP
//! connection. A Close payload is empty, or a 2-byte big-endian status code
//! followed by a UTF-8 reason (at most 123 bytes, so the frame stays within
//! the 125 bytes of a control frame). A 1-byte payload cannot hold a code and
//! is a protocol error, as is a code no one may send (§7.4.1–§7.4.2).

use thiserror::Error;

/// Longest close reason in bytes: a control payload is at most 125 bytes, two of which are the code.
pub const MAX_REASON_LEN: usize = 123;

/// The close status codes (§7.4.1 and the IANA registry, §11.7), written out as a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    Normal,
    /// 1001: the endpoint is going away (server shutting down, page navigated away).
    GoingAway,
    /// 1002: the peer broke the protocol.
    ProtocolError,
    /// 1003: a data type this endpoint cannot accept (e.g. binary when it only takes text).
    Unsupported,
    /// 1005: "no status code was present" — only for reporting, never sent.
    NoStatus,
    /// 1006: "closed abnormally, without a Close frame" — only for reporting, never sent.
    Abnormal,
    /// 1007: a text message (or close reason) was not valid UTF-8.
    InvalidPayload,
    /// 1008: the message violates the endpoint's policy.
    PolicyViolation,
    /// 1009: the message is too big to process.
    MessageTooBig,
    /// 1010: (client) the server did not negotiate an extension the client needs.
    MandatoryExtension,
    /// 1011: (server) an unexpected condition prevented fulfilling the request.
    InternalError,
    /// 1012: the service is restarting (IANA registry).
    ServiceRestart,
    /// 1013: try again later (IANA registry).
    TryAgainLater,
    /// 1014: bad gateway (IANA registry).
    BadGateway,
    /// 1015: "TLS handshake failed" — only for reporting, never sent.
    TlsHandshake,
    /// 3000–3999: registered with IANA for libraries and frameworks.
    Library(u16),
    /// 4000–4999: private use by applications.
    Private(u16),
    /// Any other number: reserved (0–999 unused, 1004, 1016–2999 for the RFC and extensions, 5000+).
    Reserved(u16),
}

impl CloseCode {
    /// The code for a number on the wire.
    pub fn from_u16(n: u16) -> CloseCode {
        match n {
            1000 => CloseCode::Normal,
            1001 => CloseCode::GoingAway,
            1002 => CloseCode::ProtocolError,
            1003 => CloseCode::Unsupported,
            1005 => CloseCode::NoStatus,
            1006 => CloseCode::Abnormal,
            1007 => CloseCode::InvalidPayload,
            1008 => CloseCode::PolicyViolation,
            1009 => CloseCode::MessageTooBig,
            1010 => CloseCode::MandatoryExtension,
            1011 => CloseCode::InternalError,
            1012 => CloseCode::ServiceRestart,
            1013 => CloseCode::TryAgainLater,
            1014 => CloseCode::BadGateway,
            1015 => CloseCode::TlsHandshake,
            3000..=3999 => CloseCode::Library(n),
            4000..=4999 => CloseCode::Private(n),
            n => CloseCode::Reserved(n),
        }
    }

    /// The number on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::Unsupported => 1003,
            CloseCode::NoStatus => 1005,
            CloseCode::Abnormal => 1006,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::MessageTooBig => 1009,
            CloseCode::MandatoryExtension => 1010,
            CloseCode::InternalError => 1011,
            CloseCode::ServiceRestart => 1012,
            CloseCode::TryAgainLater => 1013,
            CloseCode::BadGateway => 1014,
            CloseCode::TlsHandshake => 1015,
            CloseCode::Library(n) | CloseCode::Private(n) | CloseCode::Reserved(n) => n,
        }
    }

    /// May this code appear in a Close frame? (§7.4.1: 1005, 1006 and 1015
    /// "MUST NOT be set as a status code in a Close control frame"; reserved
    /// numbers have no meaning yet.)
    pub fn is_sendable(self) -> bool {
        !matches!(
            self,
            CloseCode::NoStatus
                | CloseCode::Abnormal
                | CloseCode::TlsHandshake
                | CloseCode::Reserved(_)
        )
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            CloseCode::Normal => "normal closure",
            CloseCode::GoingAway => "going away",
            CloseCode::ProtocolError => "protocol error",
            CloseCode::Unsupported => "unsupported data",
            CloseCode::NoStatus => "no status received",
            CloseCode::Abnormal => "abnormal closure",
            CloseCode::InvalidPayload => "invalid payload data",
            CloseCode::PolicyViolation => "policy violation",
            CloseCode::MessageTooBig => "message too big",
            CloseCode::MandatoryExtension => "mandatory extension",
            CloseCode::InternalError => "internal error",
            CloseCode::ServiceRestart => "service restart",
            CloseCode::TryAgainLater => "try again later",
            CloseCode::BadGateway => "bad gateway",
            CloseCode::TlsHandshake => "TLS handshake failure",
            CloseCode::Library(_) => "library-defined",
            CloseCode::Private(_) => "application-defined",
            CloseCode::Reserved(_) => "reserved",
        };
        write!(f, "{} ({name})", self.as_u16())
    }
}

/// A Close frame's contents: a status code and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// Why the connection is closing.
    pub code: CloseCode,
    /// A human-readable reason (UTF-8, at most [`MAX_REASON_LEN`] bytes).
    pub reason: String,
}

/// A Close payload that breaks a rule of §5.5.1 / §7.4.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CloseError {
    /// §5.5.1: a body "MUST" start with a 2-byte code, so 1 byte is impossible.
    #[error("close payload of 1 byte: it must be empty or start with a 2-byte status code (RFC 6455 §5.5.1)")]
    OneBytePayload,
    /// §7.4: the code is reserved or may not be sent on the wire.
    #[error("close code {0} may not be sent in a Close frame (RFC 6455 §7.4.1)")]
    InvalidCode(u16),
    /// §5.5.1: the reason "is not guaranteed to be human readable" but MUST be UTF-8.
    #[error("close reason is not valid UTF-8 (RFC 6455 §5.5.1)")]
    ReasonNotUtf8,
}

impl CloseError {
    /// The status the connection is failed with: 1007 for bad UTF-8, else 1002.
    pub fn close_code(&self) -> CloseCode {
        match self {
            CloseError::ReasonNotUtf8 => CloseCode::InvalidPayload,
            _ => CloseCode::ProtocolError,
        }
    }
}

/// Reads a Close payload: `Ok(None)` for an empty one (no status code).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, CloseError> {
    match payload {
        [] => Ok(None),
        [_] => Err(CloseError::OneBytePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::from_u16(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(CloseError::InvalidCode(code.as_u16()));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| CloseError::ReasonNotUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_string(),
            }))
        }
    }
}

/// Writes a Close payload: the code, then the reason cut to [`MAX_REASON_LEN`]
/// bytes at a character boundary. `None` gives an empty payload.
pub fn close_payload(frame: Option<&CloseFrame>) -> Vec<u8> {
    let Some(frame) = frame else {
        return Vec::new();
    };
    let mut cut = frame.reason.len().min(MAX_REASON_LEN);
    while !frame.reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = Vec::with_capacity(2 + cut);
    out.extend_from_slice(&frame.code.as_u16().to_be_bytes());
    out.extend_from_slice(&frame.reason.as_bytes()[..cut]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_the_table() {
        for n in 0..=u16::MAX {
            assert_eq!(CloseCode::from_u16(n).as_u16(), n);
        }
    }

    #[test]
    fn which_codes_may_be_sent() {
        let valid = [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ];
        let invalid = [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ];
        for n in valid {
            assert!(CloseCode::from_u16(n).is_sendable(), "{n}");
        }
        for n in invalid {
            assert!(!CloseCode::from_u16(n).is_sendable(), "{n}");
            assert_eq!(
                parse_close_payload(&n.to_be_bytes()),
                Err(CloseError::InvalidCode(n))
            );
        }
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
        assert_eq!(
            parse_close_payload(&[0x03]),
            Err(CloseError::OneBytePayload)
        );
        assert_eq!(
            parse_close_payload(&[0x03, 0xe8, b'b', b'y', b'e']),
            Ok(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into()
            }))
        );
        assert_eq!(
            parse_close_payload(&[0x03, 0xe8, 0xff]),
            Err(CloseError::ReasonNotUtf8)
        );
    }

    #[test]
    fn long_reasons_are_cut_at_a_character_boundary() {
        let frame = CloseFrame {
            code: CloseCode::GoingAway,
            reason: "é".repeat(100),
        };
        let p = close_payload(Some(&frame));
        assert!(p.len() <= 125);
        assert_eq!(p.len(), 2 + 122, "61 two-byte characters fit in 123 bytes");
        assert!(parse_close_payload(&p).is_ok());
    }
}
