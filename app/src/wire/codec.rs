//! The wire's encoding: everything the server sends the page — each server function's answer,
//! and the answers a server-rendered page carries for its hydration — is postcard, serde's
//! compact binary form, which the browser reads with one small decoder. JSON's reader, with a
//! field-matching decoder for every answer type, was 137 KB of the wasm's 1.19 MB (issue 25).
//! What the page sends (the server functions' arguments) stays JSON: small, and readable by a
//! test or `curl`.
//!
//! Postcard writes fields by position, not by name, so a type that goes on the wire writes
//! every field (no `skip_serializing_if`) and is never read by its shape (no internally tagged
//! or untagged enums). Debug builds check that each answer they send reads back as itself
//! ([`encode`]): every test that calls a server function checks the types it reaches.

use leptos::server::codee::{Decoder, Encoder};
use leptos::server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// Why bytes from the server could not be read.
pub type WireError = postcard::Error;

/// `value` in the wire's encoding.
pub fn encode<T: Serialize + DeserializeOwned>(value: &T) -> Result<Vec<u8>, WireError> {
    let bytes = postcard::to_allocvec(value)?;
    #[cfg(debug_assertions)]
    reads_back::<T>(&bytes);
    Ok(bytes)
}

/// The value `bytes` encode: all of them, nothing left over.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    match postcard::take_from_bytes(bytes)? {
        (value, []) => Ok(value),
        _ => Err(WireError::DeserializeBadEncoding),
    }
}

/// A written field read back as the next one shifts every field after it: re-encoding what
/// was read then gives other bytes (or reading fails).
#[cfg(debug_assertions)]
fn reads_back<T: Serialize + DeserializeOwned>(bytes: &[u8]) {
    let again = decode::<T>(bytes).and_then(|value| postcard::to_allocvec(&value));
    assert!(
        again.as_deref() == Ok(bytes),
        "{} does not read back as itself from the wire ({:?}): a field skipped when written \
         (`skip_serializing_if`) or an enum read by its shape cannot be read by position",
        std::any::type_name::<T>(),
        again.err()
    );
}

/// The server functions' answers: `#[server(input = Json, output = Wire)]`.
pub type Wire = Post<WireEncoding>;

pub struct WireEncoding;

impl ContentType for WireEncoding {
    const CONTENT_TYPE: &'static str = "application/x-postcard";
}

impl FormatType for WireEncoding {
    const FORMAT_TYPE: Format = Format::Binary;
}

impl<T: Serialize + DeserializeOwned> Encodes<T> for WireEncoding {
    type Error = WireError;

    fn encode(value: &T) -> Result<Bytes, WireError> {
        encode(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for WireEncoding {
    type Error = WireError;

    fn decode(bytes: Bytes) -> Result<T, WireError> {
        decode(&bytes)
    }
}

/// The page's copy of a resource: the wire's bytes as text in the HTML, one character a byte.
/// Printable ASCII stays itself, so the ids, keys and dates the bytes hold compress as they
/// would in JSON (base64 made the page 20 % larger in brotli); every other byte, and `<`, is
/// the character U+0100 above it. Leptos writes the text in a JavaScript string with Rust's
/// `{:?}` (which escapes `"` and `\` alone of these) after turning each `<` into `\u003c`:
/// characters that need neither arrive as they left.
pub struct WireText;

impl<T: Serialize + DeserializeOwned> Encoder<T> for WireText {
    type Error = WireError;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, WireError> {
        encode(value).map(|bytes| text_of(&bytes))
    }
}

impl<T: DeserializeOwned> Decoder<T> for WireText {
    type Error = WireError;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, WireError> {
        decode(&bytes_of(text)?)
    }
}

/// Where the characters of bytes that do not stand for themselves start.
const SHIFTED: u32 = 0x100;

fn text_of(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b' '..=b'~' if b != b'<' => char::from(b),
            _ => char::from_u32(SHIFTED + u32::from(b)).unwrap_or('\0'),
        })
        .collect()
}

fn bytes_of(text: &str) -> Result<Vec<u8>, WireError> {
    text.chars()
        .map(|c| match u32::from(c) {
            b @ 0x20..=0x7e => Ok(b as u8),
            s @ SHIFTED..=0x1ff => Ok((s - SHIFTED) as u8),
            _ => Err(WireError::DeserializeBadEncoding),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_survives_the_pages_text_and_none_needs_escaping_but_quote_and_backslash() {
        let all: Vec<u8> = (0..=255).collect();
        let text = text_of(&all);
        assert_eq!(bytes_of(&text).unwrap(), all);
        assert!(!text.contains('<'));
        // as Leptos writes it: only `"` and `\` come out escaped
        let written = format!("{text:?}");
        assert_eq!(written.len(), text.len() + 2 + 2, "{written}");
        assert!(text_of(b"d-2026-01-01T00:00:00Z").starts_with("d-2026"));
        assert!(bytes_of("\u{2028}").is_err());
    }
}
