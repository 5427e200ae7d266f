//! Lesson 12 — MessagePack, the binary JSON that Socket.IO's Redis adapter
//! puts on the wire.
//!
//! Every value starts with one byte that says its type and, for small values,
//! holds the value or its length too (the spec's "fix" forms):
//!
//! | first byte | what follows | JSON |
//! |---|---|---|
//! | `0x00..=0x7f` | nothing: the byte *is* the number 0–127 | number |
//! | `0xe0..=0xff` | nothing: the number −32…−1 | number |
//! | `0xa0..=0xbf` | a string of `byte & 0x1f` bytes | string |
//! | `0x90..=0x9f` | `byte & 0x0f` values | array |
//! | `0x80..=0x8f` | `byte & 0x0f` key/value pairs | object |
//! | `0xc0` `0xc2` `0xc3` | nothing | `null` `false` `true` |
//! | `0xc4..=0xc6` | a 1/2/4-byte length, then raw bytes | `{"_binary": base64}` |
//! | `0xcc..=0xd3` | an unsigned/signed integer of 1/2/4/8 bytes | number |
//! | `0xca` `0xcb` | a float32 / float64 | number |
//! | `0xd9..=0xdb`, `0xdc` `0xdd`, `0xde` `0xdf` | a longer length, then the string / array / map | |
//!
//! Multi-byte numbers are big-endian (network order, lesson 02). Binary is
//! where MessagePack beats JSON: a `Buffer` goes as its bytes, not as base64.
//! Here it becomes the chat's own binary form `{"_binary": "<base64>"}`
//! ([`crate::chat::protocol::Binary`]), and back.
//!
//! The decoder treats its input as hostile: a length is never trusted
//! further than the bytes that are actually there, nesting is capped at
//! [`MAX_DEPTH`], and every failure is a [`MsgpackError`] saying where.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// Deepest nesting of arrays and maps the decoder follows (a message that
/// nests deeper is refused rather than recursing without end).
pub const MAX_DEPTH: usize = 64;

/// The key of the chat's binary form: `{"_binary": "<base64>"}`.
pub const BINARY_KEY: &str = "_binary";

/// The ext type notepack (the adapter's MessagePack library) writes for
/// JavaScript's `undefined`: `0xd4 0x00 0x00` (fixext 1, type 0, byte 0).
const EXT_UNDEFINED: i8 = 0;

/// Why bytes are not a MessagePack value we take.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MsgpackError {
    /// The bytes ran out inside a value.
    #[error(
        "MessagePack ends early: a value at byte {at} needs {need} more bytes than the message has"
    )]
    Truncated {
        /// Where the value started.
        at: usize,
        /// How many bytes were missing.
        need: usize,
    },
    /// A first byte no MessagePack type starts with (`0xc1` is never used).
    #[error("byte 0x{byte:02x} at {at} starts no MessagePack value")]
    BadType {
        /// The byte.
        byte: u8,
        /// Where.
        at: usize,
    },
    /// Arrays and maps nested deeper than [`MAX_DEPTH`].
    #[error("MessagePack nested deeper than {MAX_DEPTH} levels at byte {at}")]
    TooDeep {
        /// Where.
        at: usize,
    },
    /// A string that is not UTF-8.
    #[error("the string at byte {at} is not UTF-8")]
    NotUtf8 {
        /// Where.
        at: usize,
    },
    /// A map key that is not a string (JSON objects only have string keys).
    #[error("the map at byte {at} has a key that is not a string")]
    KeyNotString {
        /// Where.
        at: usize,
    },
    /// An ext value other than notepack's `undefined`.
    #[error("ext type {kind} at byte {at} is not one this decoder knows")]
    UnknownExt {
        /// The ext type.
        kind: i8,
        /// Where.
        at: usize,
    },
    /// Bytes left over after the value.
    #[error("{extra} bytes follow the MessagePack value")]
    Trailing {
        /// How many.
        extra: usize,
    },
}

/// Encodes a JSON value as MessagePack, `{"_binary": base64}` as binary.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_value(value, &mut out);
    out
}

/// Appends `value` to `out`.
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(false) => out.push(0xc2),
        Value::Bool(true) => out.push(0xc3),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            write_array_header(items.len(), out);
            for v in items {
                write_value(v, out);
            }
        }
        Value::Object(map) => match binary_of(map) {
            Some(bytes) => write_bin(&bytes, out),
            None => {
                write_map_header(map.len(), out);
                for (k, v) in map {
                    write_str(k, out);
                    write_value(v, out);
                }
            }
        },
    }
}

/// The bytes of `{"_binary": "<base64>"}` (`None`: any other object).
fn binary_of(map: &Map<String, Value>) -> Option<Vec<u8>> {
    if map.len() != 1 {
        return None;
    }
    STANDARD.decode(map.get(BINARY_KEY)?.as_str()?).ok()
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        match u {
            0..=0x7f => out.push(u as u8),
            0x80..=0xff => out.extend_from_slice(&[0xcc, u as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(u as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(u as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            }
        }
    } else if let Some(i) = n.as_i64() {
        // Negative (non-negative numbers took the branch above).
        if i >= -32 {
            out.push(i as i8 as u8);
        } else if i >= i64::from(i8::MIN) {
            out.extend_from_slice(&[0xd0, i as i8 as u8]);
        } else if i >= i64::from(i16::MIN) {
            out.push(0xd1);
            out.extend_from_slice(&(i as i16).to_be_bytes());
        } else if i >= i64::from(i32::MIN) {
            out.push(0xd2);
            out.extend_from_slice(&(i as i32).to_be_bytes());
        } else {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_be_bytes());
    }
}

/// Appends a string.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(bytes: &[u8], out: &mut Vec<u8>) {
    let n = bytes.len();
    if n <= 0xff {
        out.extend_from_slice(&[0xc4, n as u8]);
    } else if n <= 0xffff {
        out.push(0xc5);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

/// Appends the header of an array of `n` values (the values follow).
pub fn write_array_header(n: usize, out: &mut Vec<u8>) {
    write_len(n, 0x90, 0xdc, out);
}

/// Appends the header of a map of `n` pairs (keys and values follow, in turn).
pub fn write_map_header(n: usize, out: &mut Vec<u8>) {
    write_len(n, 0x80, 0xde, out);
}

/// An array or map header: the fix form below 16, else 16 or 32 bits.
fn write_len(n: usize, fix: u8, wide: u8, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Decodes one whole MessagePack value as JSON (binary as
/// `{"_binary": base64}`); bytes after it are an error.
pub fn decode(bytes: &[u8]) -> Result<Value, MsgpackError> {
    let mut r = Reader { bytes, at: 0 };
    let v = r.value(0)?;
    match bytes.len() - r.at {
        0 => Ok(v),
        extra => Err(MsgpackError::Trailing { extra }),
    }
}

/// A cursor over the input.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, start: usize) -> Result<&'a [u8], MsgpackError> {
        let left = self.bytes.len() - self.at;
        if n > left {
            return Err(MsgpackError::Truncated {
                at: start,
                need: n - left,
            });
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn be(&mut self, n: usize, start: usize) -> Result<u64, MsgpackError> {
        Ok(self
            .take(n, start)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn value(&mut self, depth: usize) -> Result<Value, MsgpackError> {
        let start = self.at;
        let byte = self.take(1, start)?[0];
        let v = match byte {
            0x00..=0x7f => Value::from(byte),
            0xe0..=0xff => Value::from(byte as i8),
            0x80..=0x8f => self.map(usize::from(byte & 0x0f), depth, start)?,
            0x90..=0x9f => self.array(usize::from(byte & 0x0f), depth, start)?,
            0xa0..=0xbf => self.string(usize::from(byte & 0x1f), start)?,
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => {
                let n = self.be(1 << (byte - 0xc4), start)? as usize;
                let data = self.take(n, start)?;
                binary_value(data)
            }
            0xc7..=0xc9 => {
                let n = self.be(1 << (byte - 0xc7), start)? as usize;
                self.ext(n, start)?
            }
            0xca => float(f64::from(f32::from_bits(self.be(4, start)? as u32))),
            0xcb => float(f64::from_bits(self.be(8, start)?)),
            0xcc..=0xcf => Value::from(self.be(1 << (byte - 0xcc), start)?),
            0xd0..=0xd3 => {
                let width = 1usize << (byte - 0xd0);
                let raw = self.be(width, start)?;
                // Sign-extend from `width` bytes.
                let shift = 64 - 8 * width as u32;
                Value::from(((raw << shift) as i64) >> shift)
            }
            0xd4..=0xd8 => self.ext(1 << (byte - 0xd4), start)?,
            0xd9..=0xdb => {
                let n = self.be(1 << (byte - 0xd9), start)? as usize;
                self.string(n, start)?
            }
            0xdc | 0xdd => {
                let n = self.be(2 << (byte - 0xdc), start)? as usize;
                self.array(n, depth, start)?
            }
            0xde | 0xdf => {
                let n = self.be(2 << (byte - 0xde), start)? as usize;
                self.map(n, depth, start)?
            }
            0xc1 => return Err(MsgpackError::BadType { byte, at: start }),
        };
        Ok(v)
    }

    fn string(&mut self, n: usize, start: usize) -> Result<Value, MsgpackError> {
        let raw = self.take(n, start)?;
        let s = std::str::from_utf8(raw).map_err(|_| MsgpackError::NotUtf8 { at: start })?;
        Ok(Value::String(s.to_string()))
    }

    /// An ext value of `n` data bytes after its type byte: only notepack's
    /// `undefined` is known (as `null`, what JSON makes of it).
    fn ext(&mut self, n: usize, start: usize) -> Result<Value, MsgpackError> {
        let kind = self.take(1, start)?[0] as i8;
        self.take(n, start)?;
        if kind == EXT_UNDEFINED {
            Ok(Value::Null)
        } else {
            Err(MsgpackError::UnknownExt { kind, at: start })
        }
    }

    /// Never reserves more than the bytes left could hold (each value takes
    /// at least one byte), so a header claiming 4 billion items costs nothing.
    fn room_for(&self, n: usize) -> usize {
        n.min(self.bytes.len() - self.at)
    }

    fn array(&mut self, n: usize, depth: usize, start: usize) -> Result<Value, MsgpackError> {
        if depth >= MAX_DEPTH {
            return Err(MsgpackError::TooDeep { at: start });
        }
        let mut items = Vec::with_capacity(self.room_for(n));
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize, start: usize) -> Result<Value, MsgpackError> {
        if depth >= MAX_DEPTH {
            return Err(MsgpackError::TooDeep { at: start });
        }
        let mut map = Map::new();
        for _ in 0..n {
            let Value::String(k) = self.value(depth + 1)? else {
                return Err(MsgpackError::KeyNotString { at: start });
            };
            let v = self.value(depth + 1)?;
            map.insert(k, v);
        }
        Ok(Value::Object(map))
    }
}

/// Bytes as the chat's binary form.
fn binary_value(data: &[u8]) -> Value {
    let mut map = Map::new();
    map.insert(BINARY_KEY.into(), Value::String(STANDARD.encode(data)));
    Value::Object(map)
}

/// A float as JSON: integral values as integers (JavaScript has one number
/// type, so `2` may arrive as float64), NaN and infinities as `null`.
fn float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn the_spec_examples_encode_byte_for_byte() {
        // From the MessagePack spec: {"compact":true,"schema":0}.
        let v = json!({"compact": true, "schema": 0});
        let mut want = vec![0x82, 0xa7];
        want.extend_from_slice(b"compact");
        want.extend_from_slice(&[0xc3, 0xa6]);
        want.extend_from_slice(b"schema");
        want.push(0x00);
        assert_eq!(encode(&v), want);
        assert_eq!(encode(&json!(-1)), [0xff]);
        assert_eq!(encode(&json!(-33)), [0xd0, 0xdf]);
        assert_eq!(encode(&json!(200)), [0xcc, 0xc8]);
        assert_eq!(encode(&json!(70000)), [0xce, 0x00, 0x01, 0x11, 0x70]);
        assert_eq!(encode(&json!(0.5)), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode(&json!({"_binary": "AAH/"})), [0xc4, 3, 0, 1, 0xff]);
    }

    #[test]
    fn what_notepack_writes_decodes() {
        // notepack.io's encoding of [ "ab", undefined, Buffer.from([1,2]), -200, 1.5 ]
        let bytes = [
            0x95, 0xa2, b'a', b'b', 0xd4, 0x00, 0x00, 0xc4, 0x02, 1, 2, 0xd1, 0xff, 0x38, 0xcb,
            0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            decode(&bytes),
            Ok(json!(["ab", null, {"_binary": "AQI="}, -200, 1.5]))
        );
    }

    #[test]
    fn hostile_headers_are_refused_without_allocating_what_they_claim() {
        // An array claiming 4,294,967,295 items, with none there.
        assert_eq!(
            decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
            Err(MsgpackError::Truncated { at: 5, need: 1 })
        );
        // A string claiming 64 KiB.
        assert_eq!(
            decode(&[0xda, 0xff, 0xff, b'x']),
            Err(MsgpackError::Truncated {
                at: 0,
                need: 0xffff - 1
            })
        );
        assert_eq!(
            decode(&[0xc1]),
            Err(MsgpackError::BadType { byte: 0xc1, at: 0 })
        );
        assert_eq!(decode(&[0xa1, 0xff]), Err(MsgpackError::NotUtf8 { at: 0 }));
        assert_eq!(
            decode(&[0x81, 0x01, 0x02]),
            Err(MsgpackError::KeyNotString { at: 0 })
        );
        assert_eq!(
            decode(&[0xc0, 0xc0]),
            Err(MsgpackError::Trailing { extra: 1 })
        );
        assert_eq!(
            decode(&[0xd4, 0x05, 0x00]),
            Err(MsgpackError::UnknownExt { kind: 5, at: 0 })
        );
        let deep = vec![0x91; MAX_DEPTH + 1];
        assert!(matches!(decode(&deep), Err(MsgpackError::TooDeep { .. })));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1.0e12f64..1.0e12).prop_map(|f| float(f + 0.25)),
            ".{0,40}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| binary_value(&b)),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{0,8}", inner, 0..20)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_json_value_survives_a_round_trip(v in json_value()) {
            prop_assert_eq!(decode(&encode(&v)), Ok(v));
        }

        #[test]
        fn any_bytes_decode_to_a_value_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            // What decodes must encode back to something that decodes the same.
            if let Ok(v) = decode(&bytes) {
                prop_assert_eq!(decode(&encode(&v)), Ok(v));
            }
        }
    }
}
