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

use base64::Engine;
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

/// The page's copy of a resource: the wire's bytes as base64 text in the HTML.
pub struct WireText;

impl<T: Serialize + DeserializeOwned> Encoder<T> for WireText {
    type Error = WireError;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, WireError> {
        encode(value).map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

impl<T: DeserializeOwned> Decoder<T> for WireText {
    type Error = WireError;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, WireError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| WireError::DeserializeBadEncoding)?;
        decode(&bytes)
    }
}
