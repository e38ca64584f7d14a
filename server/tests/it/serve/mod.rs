//! `s3-prune serve` over raw HTTP: no one gets in without the token, cross-origin writes are
//! refused, read-only refuses apply, security headers are set, the token is never logged, and
//! the binary alone (copied into an empty directory) serves its browser files compressed.

use crate::common::assert_contains;
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod access;
mod setup;
mod sign_in;

pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    token: String,
    pub(crate) stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The built binary copied alone into an empty directory, which is also its working directory:
/// the dashboard must not need anything from the repository.
fn lone_binary() -> &'static (PathBuf, PathBuf) {
    static LONE: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    LONE.get_or_init(|| {
        // A copy is ~150 MB and a static is never dropped: remove the copies of test runs that
        // are gone, so at most the running ones stay.
        if let Ok(dirs) = std::fs::read_dir(std::env::temp_dir()) {
            for d in dirs.flatten() {
                let name = d.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("s3p-lone-") {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(d.path());
                    }
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("s3p-lone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("s3-prune");
        // Linked where it can be (the same file system): every test process has its own.
        let built = env!("CARGO_BIN_EXE_s3-prune");
        if std::fs::hard_link(built, &bin).is_err() {
            std::fs::copy(built, &bin).unwrap();
        }
        let cwd = dir.join("empty");
        std::fs::create_dir_all(&cwd).unwrap();
        (bin, cwd)
    })
}

pub(crate) fn serve(bucket: &str, extra: &[&str]) -> Server {
    serve_env(bucket, extra, &[])
}

/// `serve`, with these environment variables set (e.g. `AWS_ENDPOINT_URL`, for a proxy).
pub(crate) fn serve_env(bucket: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut args = vec!["--localstack", "--bucket", bucket];
    args.extend_from_slice(extra);
    serve_in(&lone_binary().1, &args, env)
}

/// `s3-prune serve ARGS` (the lone binary) with `cwd` as its working directory.
fn serve_in(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let token = format!(
        "t{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let token_file = std::env::temp_dir().join(format!("s3p-test-token-{token}"));
    std::fs::write(&token_file, &token).unwrap();
    // Behind an authenticating proxy there is no token (the proxy signs people in).
    let token_args = match args.contains(&"--trust-user-header") {
        true => vec![],
        false => vec!["--token-file".into(), token_file.clone().into_os_string()],
    };
    let mut cmd = Command::new(&lone_binary().0);
    cmd.current_dir(cwd)
        .env_remove("LEPTOS_SITE_ROOT")
        .env_remove("S3_PRUNE_CONFIG")
        .env_remove("S3_PRUNE_TOKEN")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(token_args)
        .args(args)
        .env("S3_PRUNE_LOG", "debug")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    // The copy was just written: a process another test forks meanwhile holds it open for
    // writing until it execs, and exec then fails with "text file busy" (ETXTBSY).
    let mut tries = 0;
    let mut child = loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            spawned => break spawned.unwrap(),
        }
    };
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server start");
        if let Some(a) = line.strip_prefix("s3-prune dashboard on http://") {
            break a.to_string();
        }
    };
    Server {
        child,
        addr,
        token,
        stderr: rx,
    }
}

pub(crate) struct Res {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// The body's bytes (a server function answers in the wire's binary encoding).
    raw: Vec<u8>,
}

impl Res {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `scan_bucket`'s answer.
    pub(crate) fn scan(&self) -> app::wire::ScanView {
        app::wire::codec::decode(&self.raw).expect("a scan_bucket answer")
    }
}

type ScanAnswer = Result<app::wire::ScanView, leptos::prelude::ServerFnError>;

/// The scans a server-rendered page carries for its hydration: each resource is a JavaScript
/// string after `__RESOLVED_RESOURCES[N] = ` (Rust's `{:?}` of the wire's text, where only `"`
/// and `\\` are escaped).
pub(crate) fn scans_in(html: &str) -> Vec<app::wire::ScanView> {
    use leptos::server::codee::Decoder;
    let mut texts = Vec::new();
    for part in html.split("__RESOLVED_RESOURCES[").skip(1) {
        let Some((_, rest)) = part.split_once("] = \"") else {
            continue;
        };
        let mut text = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => text.extend(chars.next()),
                c => text.push(c),
            }
        }
        texts.push(text);
    }
    texts
        .iter()
        .filter_map(|text| {
            <app::wire::codec::WireText as Decoder<ScanAnswer>>::decode(text)
                .ok()?
                .ok()
        })
        .collect()
}

/// A request's headers, `(name, value)`.
pub(crate) type Headers<'a> = &'a [(&'a str, &'a str)];

/// One HTTP request; the one-bucket redirect (`/` → `/?bucket=KEY`) is followed, as a browser
/// would (see [`request_once`] for the redirect itself).
pub(crate) fn request(addr: &str, method: &str, path: &str, headers: Headers, body: &str) -> Res {
    let r = request_once(addr, method, path, headers, body);
    match r.header("location") {
        Some(to) if r.status == 303 && to.starts_with("/?bucket=") && !path.contains("token=") => {
            let to = to.to_string();
            request_once(addr, method, &to, headers, body)
        }
        _ => r,
    }
}

pub(crate) fn request_once(
    addr: &str,
    method: &str,
    path: &str,
    headers: Headers,
    body: &str,
) -> Res {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, mut body) = match end {
        Some(at) => (
            String::from_utf8_lossy(&raw[..at]).into_owned(),
            raw[at + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&raw).into_owned(), Vec::new()),
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = unchunked(&body);
    }
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        raw: body,
    }
}

/// A chunked body's data (`SIZE\r\nDATA\r\n` … `0\r\n\r\n`).
fn unchunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol]).unwrap_or("0");
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let data = &body[eol + 2..];
        out.extend_from_slice(&data[..size.min(data.len())]);
        body = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// GETs `path` followed by `token=TOKEN`, as a sign-in link does (a token link's redirect is
/// never followed).
fn token_link(s: &Server, path: &str, headers: &[(&str, &str)]) -> Res {
    request_once(
        &s.addr,
        "GET",
        &format!("{path}token={}", s.token),
        headers,
        "",
    )
}

/// Signs in with the token and returns the session cookie.
pub(crate) fn sign_in(s: &Server) -> String {
    let r = token_link(s, "/?bucket=x&", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/?bucket=x"),
        "the token is dropped from the URL"
    );
    let c = r.header("set-cookie").unwrap().to_string();
    assert!(c.contains("HttpOnly"), "{c}");
    assert!(c.contains("SameSite=Strict"), "{c}");
    c.split(';').next().unwrap().to_string()
}

/// Loads the dashboard once in a session of its own, so the bucket's first scan (seconds on a
/// busy machine) is not timed by a test of session limits.
fn warm(s: &Server) {
    let cookie = sign_in(s);
    assert_eq!(
        request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "").status,
        200
    );
}

/// The browser files' path without extension (`/pkg/s3-prune-<hash>`), read from the page.
fn bundle(s: &Server) -> String {
    let cookie = sign_in(s);
    let page = request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    let start = page
        .body
        .find("/pkg/s3-prune-")
        .expect("a hashed bundle link");
    let rest = &page.body[start..];
    let end = rest.find(['.', '_']).unwrap();
    rest[..end].to_string()
}
