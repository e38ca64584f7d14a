//! A fault-injecting HTTP proxy between s3-prune and LocalStack, for tests.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
pub struct Stats {
    /// A switch, not a count: while set, every ListObjectVersions is answered 500
    /// InternalError (a listing that worked for the plan failing mid-run).
    pub fail_version_lists: std::sync::atomic::AtomicBool,
    /// A switch: while set, every ListObjectsV2 is answered 500 InternalError.
    pub fail_lists: std::sync::atomic::AtomicBool,
    pub requests: AtomicU64,
    /// ListObjectsV2 and HeadObject requests seen.
    pub lists: AtomicU64,
    pub heads: AtomicU64,
    pub slowdown: AtomicU64,
    pub internal: AtomicU64,
    pub resets: AtomicU64,
    pub delays: AtomicU64,
    pub key_errors: AtomicU64,
    /// Every key the proxy let through to a DeleteObjects.
    pub deleted_keys: Mutex<BTreeSet<String>>,
    /// The `prefix` of every ListObjectsV2 that reached the proxy (URL-encoded, as sent).
    pub listed_prefixes: Mutex<Vec<String>>,
    /// Keys refused with a non-retryable error (they must show up as failures).
    pub denied_keys: Mutex<BTreeSet<String>>,
    /// DeleteObjects requests being answered right now, and the most there ever were at once.
    pub deletes_now: AtomicU64,
    pub deletes_max: AtomicU64,
    /// PutObject requests that matched `deny_put`.
    pub puts_matched: AtomicU64,
    /// PutObject requests that matched `delay_put` (counted as they begin to wait).
    pub puts_delayed: AtomicU64,
    /// PutObject requests that matched `hang_put`.
    pub puts_hung: AtomicU64,
    /// GetObject requests that matched `delay_get` (counted as they begin to wait).
    pub gets_delayed: AtomicU64,
    /// PutObject requests that matched `conflict_put`.
    pub puts_conflicted: AtomicU64,
    /// PutObject requests that matched `lose_put_answer` (the first one's answer was lost).
    pub puts_answer_lost: AtomicU64,
    /// DeleteObjects requests that reached the proxy (refused ones too).
    pub delete_requests: AtomicU64,
    /// Answers `cut_answers` could cut (of the kind it cuts, with entries to cut).
    pub answers_cuttable: AtomicU64,
    /// Answers `cut_answers` cut short.
    pub answers_cut: AtomicU64,
    /// GetBucketLifecycleConfiguration answered from before the last write (`stale_lifecycle`).
    pub stale_lifecycle_reads: AtomicU64,
    /// The last lifecycle configuration read (status, body), and how many reads are still to
    /// be answered with it.
    lifecycle_read: Mutex<Option<(StatusCode, Bytes)>>,
    lifecycle_stale_left: AtomicU64,
}

/// Counts a DeleteObjects while it is being answered.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(s: &'a Stats) -> Self {
        let now = s.deletes_now.fetch_add(1, Ordering::SeqCst) + 1;
        s.deletes_max.fetch_max(now, Ordering::SeqCst);
        InFlight(s)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.deletes_now.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Proxy {
    pub upstream: String,
    /// One request in `every` gets a fault (0 = none).
    pub every: u64,
    /// Every request waits this long first (to catch an apply in the middle).
    pub delay_all: Option<Duration>,
    /// Every DeleteObjects waits this long more (on S3 a 1,000-key delete takes far longer
    /// than a 1,000-key list page).
    pub delay_delete: Option<Duration>,
    /// Every DeleteObjects answer is held this long after S3 carried it out (keys gone, the
    /// run not yet told).
    pub hold_delete_answers: Option<Duration>,
    /// Answer every ListObjectsV2 with 403 AccessDenied.
    pub deny_list: bool,
    /// Answer every DeleteObjects with 403 AccessDenied.
    pub deny_delete: bool,
    /// Make ListObjectsV2 repeat its first page: pages of 2 keys, continuation tokens dropped
    /// (an endpoint that does not advance).
    pub repeat_list_page: bool,
    /// Make ListObjectVersions repeat its first page: pages of 2, key and version markers
    /// dropped (an endpoint that does not advance).
    pub repeat_version_page: bool,
    /// Refuse (403 AccessDenied) every ListObjectVersions (a role without
    /// s3:ListBucketVersions).
    pub deny_version_list: bool,
    /// Answer GetBucketVersioning with 501 NotImplemented (as s3s-fs does).
    pub no_versioning_api: bool,
    /// Refuse (403 AccessDenied) every PutObject whose path holds this text, after letting the
    /// first `.1` of them through (a journal that stops being writable mid-run).
    pub deny_put: Option<(String, u64)>,
    /// Every PutObject whose path holds this text waits this long first (a slow journal part).
    pub delay_put: Option<(String, Duration)>,
    /// Every GET whose path holds this text waits this long first (a slow pins file).
    pub delay_get: Option<(String, Duration)>,
    /// Every PUT whose query holds this text waits this long first (`lifecycle`: a lifecycle
    /// configuration on its way; counted in `puts_delayed`).
    pub delay_put_query: Option<(String, Duration)>,
    /// Refuse (403 AccessDenied) every PUT and DELETE whose query holds this text (`lifecycle`:
    /// the bucket's lifecycle configuration, which both need s3:PutLifecycleConfiguration for).
    pub deny_put_query: Option<String>,
    /// Answer the first `.1` PUTs whose path holds `.0` 409 ConditionalRequestConflict (another
    /// write of the key under way), not forwarded.
    pub conflict_put: Option<(String, u64)>,
    /// Answer every PUT whose path holds this text 412 PreconditionFailed, whatever its
    /// conditions (a server that answers conditional writes wrongly).
    pub precondition_failed_put: Option<String>,
    /// PutObject requests whose path holds `.0`, after the first `.1` of them, wait `.2` (a
    /// stalled connection: the lease's renewals once it is taken and probed).
    pub hang_put: Option<(String, u64, Duration)>,
    /// Drop `If-None-Match` and `If-Match` from every PUT and DELETE (a server that ignores
    /// conditional writes, as Garage 2.5 does).
    pub ignore_conditions: bool,
    /// Carry out every DeleteObjects, then answer it 500 InternalError: S3 did the work and the
    /// answer was lost (the SDK retries, so each key gets a delete marker per attempt).
    pub lose_delete_answers: bool,
    /// Carry out the first PutObject whose path holds this text, then answer it 500
    /// InternalError: S3 wrote the part and the answer was lost (the SDK sends it again).
    pub lose_put_answer: Option<String>,
    /// With `lose_put_answer`: the answer lost is that of the matching PutObject after this
    /// many (0: the first; 2: a lease's first renewal, after its create and probe).
    pub lose_put_answer_after: u64,
    /// Requests answered here, never forwarded: the first [`Canned`] that matches answers.
    pub canned: Vec<Canned>,
    /// Answers cut short at an element boundary, Content-Length to match (so the transport
    /// does not notice): S3 did the work, the answer lost its second half.
    pub cut_answers: Option<CutAnswers>,
    /// Every answer's `Date` moved by this much: S3's clock apart from this machine's.
    pub shift_date: Option<chrono::Duration>,
    /// Every time S3 gives of an object (`<LastModified>` in listings, the `Last-Modified`
    /// header) moved by this much: with `shift_date`, S3's clock apart from this machine's.
    pub shift_last_modified: Option<chrono::Duration>,
    /// ListObjectsV2 answers without their objects' `<LastModified>` (an S3-compatible server
    /// that leaves it out).
    pub strip_last_modified: bool,
    /// After each write of the bucket's lifecycle configuration (PUT or DELETE), this many
    /// reads of it answer what the last read before the write answered: S3's bucket
    /// configurations are eventually consistent.
    pub stale_lifecycle: Option<u64>,
    pub stats: Stats,
}

/// Which answers [`Proxy::cut_answers`] cuts short, and how.
pub struct CutAnswers {
    /// DeleteObjects answers (else ListObjectsV2 answers).
    pub deletes: bool,
    /// How many of them are cut, the first ones (`u64::MAX`: every one).
    pub times: u64,
    /// Leave out the entries but keep what follows them, the root's closing tag included (an
    /// answer that is whole XML but lost entries), rather than end right after those kept.
    pub close_root: bool,
}

impl CutAnswers {
    /// The first `times` answers to DeleteObjects, ended after half their entries.
    pub fn deletes(times: u64) -> Self {
        CutAnswers {
            deletes: true,
            times,
            close_root: false,
        }
    }
    /// The first `times` answers to ListObjectsV2, ended after half their entries.
    pub fn lists(times: u64) -> Self {
        CutAnswers {
            deletes: false,
            ..Self::deletes(times)
        }
    }
    /// Whole XML that lost entries (see [`CutAnswers::close_root`]).
    pub fn closed(self) -> Self {
        CutAnswers {
            close_root: true,
            ..self
        }
    }
}

/// `text` ended after the first half of its entries (`<Deleted>`, `<Error>`, `<Contents>`,
/// `<CommonPrefixes>`), or with `close_root` only those left out (what follows the entries is
/// kept, the root's closing tag and a trailing `KeyCount` among it); `None` when it has fewer
/// than two entries.
fn cut_short(text: &str, close_root: bool) -> Option<String> {
    let mut ends: Vec<usize> = ["</Deleted>", "</Error>", "</Contents>", "</CommonPrefixes>"]
        .iter()
        .flat_map(|tag| text.match_indices(tag).map(|(i, t)| i + t.len()))
        .collect();
    ends.sort_unstable();
    if ends.len() < 2 {
        return None;
    }
    let (from, to) = (ends[ends.len() / 2 - 1], ends[ends.len() - 1]);
    let rest = if close_root { &text[to..] } else { "" };
    Some(format!("{}{rest}", &text[..from]))
}

/// `res` cut short as [`Proxy::cut_answers`] says, when it is a 200 it applies to.
async fn cut_answer(p: &Proxy, cut: bool, res: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let Some(how) = p.cut_answers.as_ref().filter(|_| cut) else {
        return res;
    };
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let cut = cut_short(&text, how.close_root)
        .filter(|_| p.stats.answers_cuttable.fetch_add(1, Ordering::SeqCst) < how.times);
    let Some(text) = cut else {
        return Response::from_parts(parts, Full::new(bytes));
    };
    p.stats.answers_cut.fetch_add(1, Ordering::SeqCst);
    parts.headers.remove("transfer-encoding");
    parts.headers.insert("content-length", text.len().into());
    Response::from_parts(parts, Full::new(Bytes::from(text)))
}

/// An answer the proxy makes itself to every request of `method` (any when `None`) whose path
/// holds `path` (a wrong region, a refused HEAD, an object gone since the listing).
pub struct Canned {
    pub method: Option<hyper::Method>,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The XML error's code and message; `None`: no body (as a HEAD answer always is).
    pub error: Option<(String, String)>,
}

impl Canned {
    /// `status` with no body for `method` on paths holding `path`.
    pub fn bare(method: hyper::Method, path: &str, status: u16) -> Self {
        Canned {
            method: Some(method),
            path: path.into(),
            status,
            headers: Vec::new(),
            error: None,
        }
    }

    /// `status` with an XML error of `code` and `message`, for any method on paths holding `path`.
    pub fn error(path: &str, status: u16, code: &str, message: &str) -> Self {
        Canned {
            method: None,
            path: path.into(),
            status,
            headers: Vec::new(),
            error: Some((code.into(), message.into())),
        }
    }

    /// With this header too.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn answer(&self, method: &hyper::Method) -> Response<Full<Bytes>> {
        let body = match (&self.error, method == hyper::Method::HEAD) {
            (Some((code, message)), false) => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            ),
            _ => String::new(),
        };
        let mut res = Response::builder()
            .status(self.status)
            .header("content-type", "application/xml");
        for (k, v) in &self.headers {
            res = res.header(k.as_str(), v.as_str());
        }
        res.body(Full::new(Bytes::from(body))).unwrap()
    }
}

impl Proxy {
    pub fn new(every: u64) -> Self {
        Proxy {
            upstream: "127.0.0.1:4566".into(),
            every,
            delay_all: None,
            delay_delete: None,
            hold_delete_answers: None,
            deny_list: false,
            deny_delete: false,
            repeat_list_page: false,
            repeat_version_page: false,
            deny_version_list: false,
            no_versioning_api: false,
            deny_put: None,
            delay_put: None,
            delay_put_query: None,
            delay_get: None,
            precondition_failed_put: None,
            conflict_put: None,
            deny_put_query: None,
            hang_put: None,
            ignore_conditions: false,
            lose_delete_answers: false,
            lose_put_answer: None,
            lose_put_answer_after: 0,
            canned: Vec::new(),
            cut_answers: None,
            shift_date: None,
            stale_lifecycle: None,
            shift_last_modified: None,
            strip_last_modified: false,
            stats: Stats::default(),
        }
    }
}

fn xml_error(status: u16, code: &str) -> Response<Full<Bytes>> {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>");
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// A listing asked from its first page again, two entries a page: its markers (`cursor`, the
/// query keys that say where to go on) and its page size dropped (an endpoint that does not
/// advance).
fn first_page_again(uri: &mut hyper::Uri, cursor: &[&str]) {
    let q: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.starts_with("max-keys=") && !cursor.iter().any(|c| kv.starts_with(c)))
        .collect();
    *uri = format!("{}?{}&max-keys=2", uri.path(), q.join("&"))
        .parse()
        .unwrap();
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    })
}

/// Splits a DeleteObjects body into the objects to forward and the keys withheld (transient
/// or denied), and returns the rewritten body.
fn split_delete(body: &str, n: u64) -> (String, Vec<(String, &'static str)>) {
    let mut kept = String::new();
    let mut withheld = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<Object>") {
        let end = rest[start..].find("</Object>").unwrap() + start + "</Object>".len();
        kept.push_str(&rest[..start]);
        let obj = &rest[start..end];
        let key = obj
            .split("<Key>")
            .nth(1)
            .and_then(|k| k.split("</Key>").next())
            .unwrap_or("")
            .to_string();
        let h = hash(&key);
        if h.is_multiple_of(40) {
            withheld.push((key, "AccessDenied"));
        } else if (h ^ n).is_multiple_of(15) {
            withheld.push((key, "InternalError"));
        } else {
            kept.push_str(obj);
        }
        rest = &rest[end..];
    }
    kept.push_str(rest);
    (kept, withheld)
}

async fn forward(
    p: &Proxy,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, String> {
    let stream = TcpStream::connect(&p.upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut req = Request::builder().method(parts.method).uri(
        parts
            .uri
            .path_and_query()
            .map(|x| x.as_str())
            .unwrap_or("/"),
    );
    for (k, v) in parts.headers.iter() {
        req = req.header(k, v);
    }
    let res = sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .map_err(|e| e.to_string())?;
    let (mut parts, body) = res.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    if let Some(shift) = p.shift_date {
        let date = (parts.headers.get("date"))
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok());
        if let Some(date) = date {
            let moved = (date + shift).with_timezone(&chrono::Utc);
            let text = moved.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            parts.headers.insert("date", text.parse().unwrap());
        }
    }
    if let Some(shift) = p.shift_last_modified {
        let modified = (parts.headers.get("last-modified"))
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok());
        if let Some(at) = modified {
            let moved = (at + shift).with_timezone(&chrono::Utc);
            let text = moved.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            parts.headers.insert("last-modified", text.parse().unwrap());
        }
        if let Some(moved) = shift_times(&bytes, shift) {
            parts.headers.insert("content-length", moved.len().into());
            return Ok(Response::from_parts(parts, Full::new(Bytes::from(moved))));
        }
    }
    if p.strip_last_modified && bytes.starts_with(b"<?xml") {
        let text = String::from_utf8_lossy(&bytes);
        if text.contains("<ListBucketResult") {
            let mut out = String::with_capacity(text.len());
            let mut rest = &text[..];
            while let Some(start) = rest.find("<LastModified>") {
                let end = start + rest[start..].find("</LastModified>").unwrap();
                out.push_str(&rest[..start]);
                rest = &rest[end + "</LastModified>".len()..];
            }
            out.push_str(rest);
            parts.headers.insert("content-length", out.len().into());
            return Ok(Response::from_parts(parts, Full::new(Bytes::from(out))));
        }
    }
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

/// `body` with every `<LastModified>` time moved by `shift`; `None` when it has none.
fn shift_times(body: &[u8], shift: chrono::Duration) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (open, close) = ("<LastModified>", "</LastModified>");
    if !text.contains(open) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let from = start + open.len();
        let end = from + rest[from..].find(close)?;
        let at = chrono::DateTime::parse_from_rfc3339(&rest[from..end]).ok()? + shift;
        out.push_str(&rest[..from]);
        out.push_str(&at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some(out)
}

fn fix_checksums(parts: &mut hyper::http::request::Parts, body: &[u8]) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let h = &mut parts.headers;
    if h.contains_key("content-md5") {
        use md5::Digest;
        h.insert(
            "content-md5",
            b64.encode(md5::Md5::digest(body)).parse().unwrap(),
        );
    }
    if h.contains_key("x-amz-checksum-crc32") {
        h.insert(
            "x-amz-checksum-crc32",
            b64.encode(crc32fast::hash(body).to_be_bytes())
                .parse()
                .unwrap(),
        );
    }
    if h.get("x-amz-content-sha256")
        .is_some_and(|v| v != "UNSIGNED-PAYLOAD")
    {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        h.insert("x-amz-content-sha256", hex.parse().unwrap());
    }
    h.insert("content-length", body.len().into());
}

async fn handle(p: Arc<Proxy>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, String> {
    let (mut parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let writes = [hyper::Method::PUT, hyper::Method::DELETE].contains(&parts.method);
    if p.ignore_conditions && writes {
        parts.headers.remove("if-none-match");
        parts.headers.remove("if-match");
    }
    let n = p.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let s = &p.stats;
    let is_delete_post = parts.method == hyper::Method::POST
        && parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "delete" || kv == "delete="));
    let _counted = is_delete_post.then(|| InFlight::enter(s));
    if let Some(d) = p.delay_all {
        tokio::time::sleep(d).await;
    }
    if let Some(d) = p.delay_delete.filter(|_| is_delete_post) {
        tokio::time::sleep(d).await;
    }
    let is_list = parts.method == hyper::Method::GET
        && parts.uri.query().is_some_and(|q| q.contains("list-type=2"));
    if is_list {
        s.lists.fetch_add(1, Ordering::Relaxed);
        let prefix = (parts.uri.query().unwrap_or(""))
            .split('&')
            .find_map(|kv| kv.strip_prefix("prefix="))
            .unwrap_or("");
        s.listed_prefixes.lock().unwrap().push(prefix.to_string());
    }
    if parts.method == hyper::Method::HEAD {
        s.heads.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(c) = p.canned.iter().find(|c| {
        c.method.as_ref().is_none_or(|m| *m == parts.method)
            && parts.uri.path().contains(c.path.as_str())
    }) {
        return Ok(c.answer(&parts.method));
    }
    let is_delete_req = parts.method == hyper::Method::POST
        && parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "delete" || kv == "delete="));
    let is_versioning = parts.method == hyper::Method::GET
        && parts.uri.query().is_some_and(|q| {
            q.split('&')
                .any(|kv| kv == "versioning" || kv == "versioning=")
        });
    if p.no_versioning_api && is_versioning {
        return Ok(xml_error(501, "NotImplemented"));
    }
    if let Some((text, delay)) = &p.delay_put {
        if parts.method == hyper::Method::PUT && parts.uri.path().contains(text.as_str()) {
            s.puts_delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(*delay).await;
        }
    }
    if let Some((text, delay)) = &p.delay_put_query {
        if parts.method == hyper::Method::PUT
            && parts.uri.query().is_some_and(|q| q.contains(text.as_str()))
        {
            s.puts_delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(*delay).await;
        }
    }
    if let Some((text, delay)) = &p.delay_get {
        if parts.method == hyper::Method::GET && parts.uri.path().contains(text.as_str()) {
            s.gets_delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(*delay).await;
        }
    }
    if let Some((text, first, hang)) = &p.hang_put {
        if parts.method == hyper::Method::PUT && parts.uri.path().contains(text.as_str()) {
            let seen = s.puts_hung.fetch_add(1, Ordering::SeqCst);
            if seen >= *first {
                tokio::time::sleep(*hang).await;
            }
        }
    }
    if let Some(text) = &p.deny_put_query {
        let query = parts.uri.query().unwrap_or("");
        let writes = [hyper::Method::PUT, hyper::Method::DELETE].contains(&parts.method);
        if writes && query.contains(text.as_str()) {
            return Ok(xml_error(403, "AccessDenied"));
        }
    }
    if let Some((text, times)) = &p.conflict_put {
        if parts.method == hyper::Method::PUT
            && parts.uri.path().contains(text.as_str())
            && s.puts_conflicted.fetch_add(1, Ordering::SeqCst) < *times
        {
            return Ok(xml_error(409, "ConditionalRequestConflict"));
        }
    }
    if let Some(text) = &p.precondition_failed_put {
        if parts.method == hyper::Method::PUT && parts.uri.path().contains(text.as_str()) {
            return Ok(xml_error(412, "PreconditionFailed"));
        }
    }
    if let Some((text, allowed)) = &p.deny_put {
        if parts.method == hyper::Method::PUT && parts.uri.path().contains(text.as_str()) {
            let seen = s.puts_matched.fetch_add(1, Ordering::SeqCst);
            if seen >= *allowed {
                return Ok(xml_error(403, "AccessDenied"));
            }
        }
    }
    if is_delete_req {
        s.delete_requests.fetch_add(1, Ordering::SeqCst);
    }
    if (p.deny_list && is_list) || (p.deny_delete && is_delete_req) {
        return Ok(xml_error(403, "AccessDenied"));
    }
    if p.repeat_list_page && is_list {
        first_page_again(&mut parts.uri, &["continuation-token="]);
    }
    let is_version_list = parts.method == hyper::Method::GET
        && parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "versions" || kv == "versions="));
    if p.deny_version_list && is_version_list {
        return Ok(xml_error(403, "AccessDenied"));
    }
    if is_list && s.fail_lists.load(Ordering::SeqCst) {
        return Ok(xml_error(500, "InternalError"));
    }
    if is_version_list && s.fail_version_lists.load(Ordering::SeqCst) {
        return Ok(xml_error(500, "InternalError"));
    }
    if p.repeat_version_page && is_version_list {
        first_page_again(&mut parts.uri, &["key-marker=", "version-id-marker="]);
    }
    if p.every > 0 && n.is_multiple_of(p.every) {
        match (n / p.every) % 4 {
            0 => {
                s.slowdown.fetch_add(1, Ordering::Relaxed);
                return Ok(xml_error(503, "SlowDown"));
            }
            1 => {
                s.internal.fetch_add(1, Ordering::Relaxed);
                return Ok(xml_error(500, "InternalError"));
            }
            2 => {
                s.resets.fetch_add(1, Ordering::Relaxed);
                return Err("injected connection reset".into());
            }
            _ => {
                s.delays.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    let is_delete = parts.method == hyper::Method::POST
        && parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "delete" || kv == "delete="));
    let is_lifecycle = parts.uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv == "lifecycle" || kv == "lifecycle=")
    });
    if let (Some(window), true) = (p.stale_lifecycle, is_lifecycle) {
        return stale_lifecycle(&p, window, parts, body).await;
    }
    if let Some(text) = &p.lose_put_answer {
        if parts.method == hyper::Method::PUT
            && parts.uri.path().contains(text.as_str())
            && s.puts_answer_lost.fetch_add(1, Ordering::SeqCst) == p.lose_put_answer_after
        {
            forward(&p, parts, body).await?;
            return Ok(xml_error(500, "InternalError"));
        }
    }
    if is_delete && p.lose_delete_answers {
        record(s, &String::from_utf8_lossy(&body), &[]);
        forward(&p, parts, body).await?;
        s.internal.fetch_add(1, Ordering::Relaxed);
        return Ok(xml_error(500, "InternalError"));
    }
    if !is_delete || p.every == 0 {
        if is_delete {
            record(s, &String::from_utf8_lossy(&body), &[]);
        }
        let cut = p
            .cut_answers
            .as_ref()
            .is_some_and(|c| if c.deletes { is_delete } else { is_list });
        let res = forward(&p, parts, body).await?;
        if let Some(d) = p.hold_delete_answers.filter(|_| is_delete) {
            tokio::time::sleep(d).await;
        }
        return Ok(cut_answer(&p, cut, res).await);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let (kept, withheld) = split_delete(&text, n);
    record(s, &kept, &withheld);
    let errors: String = withheld
        .iter()
        .map(|(k, code)| {
            format!("<Error><Key>{k}</Key><Code>{code}</Code><Message>injected</Message></Error>")
        })
        .collect();
    if !kept.contains("<Object>") {
        // Every key withheld (a retry round of one key, say): S3 refuses a Delete of no
        // objects (MalformedXML), so the answer is made here, each key an error.
        s.key_errors
            .fetch_add(withheld.len() as u64, Ordering::Relaxed);
        let text = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{errors}</DeleteResult>");
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "application/xml")
            .body(Full::new(Bytes::from(text)))
            .unwrap());
    }
    fix_checksums(&mut parts, kept.as_bytes());
    let res = forward(&p, parts, Bytes::from(kept)).await?;
    if withheld.is_empty() || res.status() != StatusCode::OK {
        return Ok(res);
    }
    s.key_errors
        .fetch_add(withheld.len() as u64, Ordering::Relaxed);
    let (parts, body) = res.into_parts();
    let text = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
    let text = insert_errors(&text, &errors);
    let mut res = Response::from_parts(parts, Full::new(Bytes::from(text.clone())));
    res.headers_mut()
        .insert("content-length", text.len().into());
    Ok(res)
}

/// A request for the bucket's lifecycle configuration, under [`Proxy::stale_lifecycle`]: the
/// first `reads` reads after a write answer what the last read before it answered.
async fn stale_lifecycle(
    p: &Proxy,
    reads: u64,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, String> {
    let s = &p.stats;
    let read = parts.method == hyper::Method::GET;
    let before = s.lifecycle_read.lock().unwrap().clone();
    if let (true, Some((status, body))) = (read, before) {
        let left = s
            .lifecycle_stale_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if left.is_ok() {
            s.stale_lifecycle_reads.fetch_add(1, Ordering::SeqCst);
            return Ok(Response::builder()
                .status(status)
                .header("content-type", "application/xml")
                .body(Full::new(body))
                .unwrap());
        }
    }
    let res = forward(p, parts, body).await?;
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    if read {
        *s.lifecycle_read.lock().unwrap() = Some((parts.status, bytes.clone()));
    } else if parts.status.is_success() {
        s.lifecycle_stale_left.store(reads, Ordering::SeqCst);
    }
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

/// Adds `<Error>` entries to a DeleteResult, open (`<DeleteResult …>…</DeleteResult>`) or
/// self-closing (`<DeleteResult …/>`).
fn insert_errors(text: &str, errors: &str) -> String {
    if let Some(i) = text.find("</DeleteResult>") {
        return format!("{}{errors}{}", &text[..i], &text[i..]);
    }
    let start = text.find("<DeleteResult").expect("a DeleteResult");
    let end = start + text[start..].find('>').unwrap();
    let open = text[start..end].trim_end_matches('/');
    format!(
        "{}{open}>{errors}</DeleteResult>{}",
        &text[..start],
        &text[end + 1..]
    )
}

fn record(s: &Stats, body: &str, withheld: &[(String, &str)]) {
    let mut deleted = s.deleted_keys.lock().unwrap();
    for k in body
        .split("<Key>")
        .skip(1)
        .filter_map(|x| x.split("</Key>").next())
    {
        deleted.insert(unescape(k));
    }
    let mut denied = s.denied_keys.lock().unwrap();
    for (k, code) in withheld {
        if *code == "AccessDenied" {
            denied.insert(unescape(k));
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Starts the proxy on a free port; returns its URL.
pub async fn start(proxy: Proxy) -> (String, Arc<Proxy>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let proxy = Arc::new(proxy);
    let p = proxy.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let p = p.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(p.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), proxy)
}
