//! The dashboard's browser files, embedded at build time (see `build.rs`) and served
//! precompressed under a content-hashed name, so the binary alone serves the whole dashboard.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file, in its brotli and gzip forms. The plain form (for a client that takes
/// neither) is not embedded: it is decoded from the gzip form once, when first asked for
/// (embedding it too made the binary 1.9 MB larger; BENCHMARKS.md).
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub br: &'static [u8],
    pub gzip: &'static [u8],
    pub plain: std::sync::OnceLock<Bytes>,
}

impl Asset {
    /// The file uncompressed (a handle to the one decoded copy: cloning it copies nothing).
    pub fn identity(&self) -> Bytes {
        let plain = self.plain.get_or_init(|| {
            let mut out = Vec::new();
            let mut gz = flate2::read::GzDecoder::new(self.gzip);
            // Built by `make site` and embedded: a broken file is a broken build.
            std::io::Read::read_to_end(&mut gz, &mut out).expect("embedded gzip file");
            Bytes::from(out)
        });
        plain.clone()
    }
}

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// Hashed names never change content: a browser may keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Which form of a file to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding the request accepts (brotli, then gzip); `q=0` refuses one.
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let accepts = |wanted: &str| {
            accept.unwrap_or("").split(',').any(|item| {
                let mut parts = item.split(';').map(str::trim);
                let name = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                (name.eq_ignore_ascii_case(wanted) || name == "*") && !refused
            })
        };
        if accepts("br") {
            Encoding::Brotli
        } else if accepts("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

/// `GET /pkg/{file}`: an embedded file in the encoding the browser asked for.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "not found: this file is not part of this build of s3-prune (reload the page)",
        )
            .into_response();
    };
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let (body, encoding) = match Encoding::negotiate(accept) {
        Encoding::Brotli => (Bytes::from_static(asset.br), Some("br")),
        Encoding::Gzip => (Bytes::from_static(asset.gzip), Some("gzip")),
        Encoding::Identity => (asset.identity(), None),
    };
    // The embedded bytes are sent as they are, never copied per request.
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_is_preferred_then_gzip_and_q0_refuses() {
        use Encoding::*;
        assert_eq!(Encoding::negotiate(Some("gzip, deflate, br, zstd")), Brotli);
        assert_eq!(Encoding::negotiate(Some("gzip")), Gzip);
        assert_eq!(Encoding::negotiate(Some("br;q=0, gzip;q=0.5")), Gzip);
        assert_eq!(Encoding::negotiate(Some("identity")), Identity);
        assert_eq!(Encoding::negotiate(None), Identity);
        assert_eq!(Encoding::negotiate(Some("*")), Brotli);
    }

    #[test]
    fn every_embedded_file_has_its_compressed_forms_under_the_hashed_name() {
        assert_eq!(ASSETS.len(), 3);
        for a in &ASSETS {
            assert!(a.name.starts_with(BUNDLE), "{}", a.name);
            assert!(!a.identity().is_empty() && !a.br.is_empty() && !a.gzip.is_empty());
            assert!(
                a.br.len() < a.identity().len(),
                "{} brotli is smaller",
                a.name
            );
            let mut from_br = Vec::new();
            brotli::BrotliDecompress(&mut &a.br[..], &mut from_br).unwrap();
            assert!(
                from_br == a.identity(),
                "{}: both forms hold one file",
                a.name
            );
        }
    }
}
