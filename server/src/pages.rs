//! The page cache: a bucket's dashboard page, once rendered from a scan, is served again for
//! the same URL for up to [`PAGE_TTL`] while that scan is the one the page would show, already
//! compressed. A team loading the same dashboard then costs one rendering per second, not one
//! per visit (rendering 2,000 deployments took 21–28 ms of CPU; see BENCHMARKS.md).
//!
//! What keeps it from ever showing a stale plan: the key holds the scan's generation
//! (`AppState::scan_generation`), which changes whenever the cached scan does (a Rescan, an
//! apply, a pin); a page is stored only if that generation was the same before and after it
//! was rendered; and an entry is used for [`PAGE_TTL`] at most (the plan's ages move with the
//! clock). A bucket with no finished scan, or one being scanned, is rendered and streamed as
//! before, uncached.
//!
//! A rendered page carries a per-response CSP nonce; a page served many times cannot. Its
//! Content-Security-Policy instead lists the SHA-256 of each inline script that carried the
//! rendering's nonce (CSP level 2 hashes): exactly the scripts the nonce allowed run, a script
//! that got into the page some other way still does not, and the stored bytes never change.

use app::server::{page_csp, AppState};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::header::{
    CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

mod pieces;
use pieces::Pieces;

/// How long a rendered page is served again.
pub const PAGE_TTL: Duration = Duration::from_secs(2);
/// Pages kept at most (URLs × scans): stale ones are dropped first, then the oldest. At 2,000
/// deployments a page and its two codings are ~300 KB, so ~20 MB at most.
const MAX_PAGES: usize = 64;
/// A page larger than this is served as rendered and not kept.
const MAX_PAGE_BYTES: usize = 32 << 20;

/// The cache, shared by every request.
#[derive(Clone)]
pub struct PageCache {
    state: Arc<AppState>,
    pages: Arc<Mutex<HashMap<PageKey, Arc<Slot>>>>,
    /// The brotli of the pieces pages share (the scan's data), made once.
    pieces: Pieces,
}

/// One dashboard URL rendered from one scan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    query: String,
    generation: u64,
}

/// A page being rendered (the first request renders it, the others wait) or rendered.
struct Slot {
    since: Instant,
    page: OnceCell<Arc<Page>>,
}

/// A rendered page, its hash-based CSP, and each coding made once, when first asked for.
struct Page {
    content_type: HeaderValue,
    csp: HeaderValue,
    plain: Bytes,
    br: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

/// The content codings a request accepts, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

impl PageCache {
    pub fn new(state: Arc<AppState>) -> Self {
        PageCache {
            state,
            pages: Default::default(),
            pieces: Pieces::default(),
        }
    }

    /// The key a request's page would be stored under, or `None` when it is not a dashboard
    /// page of a bucket whose scan is finished and cached.
    fn key(&self, req: &Request) -> Option<(PageKey, String)> {
        if req.method() != Method::GET || req.uri().path() != "/" {
            return None;
        }
        let query = req.uri().query()?;
        let params: Query<HashMap<String, String>> = Query::try_from_uri(req.uri()).ok()?;
        // Only a bucket's dashboard; the sign-in link is the auth layer's business.
        let bucket = params.get("bucket")?.clone();
        if params.contains_key("token") {
            return None;
        }
        let generation = self.state.scan_generation(Some(&bucket))?;
        Some((
            PageKey {
                query: query.to_string(),
                generation,
            },
            bucket,
        ))
    }

    /// The slot for `key`: the stored one while fresh, else a new empty one (stale ones are
    /// dropped when the cache is full).
    fn slot(&self, key: &PageKey) -> Arc<Slot> {
        let mut pages = self.pages.lock().unwrap();
        if let Some(s) = pages.get(key) {
            if s.since.elapsed() < PAGE_TTL {
                return s.clone();
            }
        }
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, s| s.since.elapsed() < PAGE_TTL);
        }
        if pages.len() >= MAX_PAGES {
            let oldest = pages
                .iter()
                .min_by_key(|(_, s)| s.since)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                pages.remove(&k);
            }
        }
        let s = Arc::new(Slot {
            since: Instant::now(),
            page: OnceCell::new(),
        });
        pages.insert(key.clone(), s.clone());
        s
    }
}

/// The middleware: a stored page when there is one, else the rendered page (stored when it
/// may be).
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let Some((key, bucket)) = cache.key(&req) else {
        return next.run(req).await;
    };
    let coding = accepted(req.headers());
    let slot = cache.slot(&key);
    let rendered = slot
        .page
        .get_or_try_init(|| render(&cache, &key, &bucket, req, next))
        .await;
    match rendered {
        Ok(page) => page.response(coding, &cache.pieces),
        // Not storable (an error page, a changed scan): this request's own rendering.
        Err(own) => own,
    }
}

/// Renders the page; `Err` carries the rendered response when it must not be stored.
async fn render(
    cache: &PageCache,
    key: &PageKey,
    bucket: &str,
    req: Request,
    next: Next,
) -> Result<Arc<Page>, Response> {
    let response = next.run(req).await;
    let storable = response.status() == StatusCode::OK
        && !response.headers().contains_key(CONTENT_ENCODING)
        && !response.headers().contains_key(SET_COOKIE);
    if !storable {
        return Err(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("a page could not be read for the page cache: {e}");
            return Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; reload it",
            )
                .into_response());
        }
    };
    let same_scan = cache.state.scan_generation(Some(bucket)) == Some(key.generation);
    let csp = parts
        .headers
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .and_then(nonce_of)
        .and_then(|nonce| HeaderValue::from_str(&page_csp(&script_hashes(&bytes, nonce))).ok());
    let content_type = parts.headers.get(CONTENT_TYPE).cloned();
    let (Some(csp), Some(content_type), true) = (csp, content_type, same_scan) else {
        return Err(Response::from_parts(parts, Body::from(bytes)));
    };
    Ok(Arc::new(Page {
        content_type,
        csp,
        plain: bytes,
        br: OnceLock::new(),
        gzip: OnceLock::new(),
    }))
}

impl Page {
    fn response(&self, coding: Coding, pieces: &Pieces) -> Response {
        // Made by the first request that wants it (a few ms; the others wait for it).
        let (body, encoding) = match coding {
            Coding::Br => (
                self.br
                    .get_or_init(|| pieces.brotli(&self.plain).into())
                    .clone(),
                Some("br"),
            ),
            Coding::Gzip => (
                self.gzip.get_or_init(|| gzip(&self.plain).into()).clone(),
                Some("gzip"),
            ),
            Coding::Identity => (self.plain.clone(), None),
        };
        let mut r = Response::new(Body::from(body));
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, self.content_type.clone());
        h.insert(CONTENT_SECURITY_POLICY, self.csp.clone());
        h.insert(VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(e) = encoding {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        r
    }
}

/// The nonce a Content-Security-Policy allows scripts with.
fn nonce_of(csp: &str) -> Option<&str> {
    let at = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[at..].find('\'')?;
    Some(&csp[at..at + len]).filter(|n| !n.is_empty())
}

/// The CSP sources that allow the same inline scripts as `nonce` did: `'sha256-…'` of each
/// `<script>` without `src` whose tag carries that nonce, over its text as sent.
fn script_hashes(html: &[u8], nonce: &str) -> String {
    let carries = format!(" nonce=\"{nonce}\"");
    let mut sources: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = find(rest, b"<script") {
        let tag = &rest[at..];
        let Some(open_end) = find(tag, b">") else {
            break;
        };
        let attrs = &tag[..open_end];
        let body = &tag[open_end + 1..];
        let Some(close) = find(body, b"</script>") else {
            break;
        };
        if find(attrs, b" src=").is_none() && find(attrs, carries.as_bytes()).is_some() {
            let digest = Sha256::digest(&body[..close]);
            let source = format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            );
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        rest = &body[close..];
    }
    sources.join(" ")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    // Not `windows().position()`: a page is ~200 KB, searched a few times per page rendered
    // (byte by byte that was ~3 % of a new page's CPU).
    memchr::memmem::find(haystack, needle)
}

/// The best coding the request accepts (`q=0` refuses one).
fn accepted(headers: &HeaderMap) -> Coding {
    let mut br = false;
    let mut gzip = false;
    for value in headers.get_all(axum::http::header::ACCEPT_ENCODING) {
        for item in value.to_str().unwrap_or("").split(',') {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            match (name.as_str(), refused) {
                ("br", false) => br = true,
                ("gzip", false) => gzip = true,
                _ => {}
            }
        }
    }
    if br {
        Coding::Br
    } else if gzip {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Gzip at level 3: for that page 50.6 KB in 2.2 ms, against 49.0 KB in 6.0 ms at level 6.
fn gzip(plain: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 4),
        flate2::Compression::new(3),
    );
    let _ = e.write_all(plain);
    e.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests;
