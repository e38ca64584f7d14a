//! Values checked while the arguments are parsed: a bad bucket, prefix, endpoint, policy file,
//! day count or limit is a usage error (exit 2) that says what to write instead, before any
//! request.

use retention::Span;

/// `--endpoint-url`, checked while the arguments are parsed (a usage error, before any
/// request): http or https, and a host.
pub fn parse_endpoint_url(s: &str) -> Result<String, String> {
    let bad = || "not a URL: give http(s)://host:port (e.g. http://localhost:4566)".to_string();
    let uri: axum::http::Uri = s.parse().map_err(|_| bad())?;
    let web = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    match uri.host() {
        Some(host) if web && !host.is_empty() => Ok(s.to_string()),
        _ => Err(bad()),
    }
}

/// A policy file, read and checked while the arguments are parsed (a bad one is a usage error).
pub fn load_policy(path: &str) -> Result<retention::Rules, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    retention::parse_policy(&text).map_err(|e| e.to_string())
}

/// BUCKET, checked once the arguments are parsed (`main`) and in the configuration file: a bad
/// name is a usage error (exit 2) before any request. `s3://NAME` and `NAME/PREFIX` are
/// answered with what to write instead.
pub fn parse_bucket(s: &str) -> Result<String, String> {
    if let Some((bare, prefix)) = without_scheme(s) {
        return Err(match prefix {
            Some(p) => {
                format!("write {bare} --prefix {p}, not {s}: a prefix goes in --prefix")
            }
            None => format!("write {bare}, not {s}: BUCKET is the bucket's name alone"),
        });
    }
    if let Some((name, prefix)) = s.split_once('/') {
        if bucket::validate_bucket_name(name).is_ok() {
            let prefix = prefix.trim_end_matches('/');
            return Err(if prefix.is_empty() {
                format!("write {name}, not {s}: BUCKET is the bucket's name alone")
            } else {
                format!("write {name} --prefix {prefix}, not {s}: a prefix goes in --prefix")
            });
        }
    }
    check_bucket_name(s)?;
    Ok(s.to_string())
}

/// `--prefix`: a folder of the bucket. An `s3://` address there is the bucket named twice —
/// taken as a key prefix, it found no deployments and the run said nothing was to delete.
pub fn parse_prefix(s: &str) -> Result<String, String> {
    match without_scheme(s) {
        Some((bare, Some(prefix))) => Err(format!(
            "write --prefix {prefix}, not {s}: the prefix is a folder of the bucket \
             (its name goes in BUCKET: {bare})"
        )),
        Some((bare, None)) => Err(format!(
            "{s} is a bucket, not a prefix: write BUCKET {bare} and leave out --prefix"
        )),
        None => Ok(s.to_string()),
    }
}

/// `serve --bucket NAME[/PREFIX]`, checked like BUCKET.
pub fn parse_served_bucket(s: &str) -> Result<String, String> {
    if let Some((bare, prefix)) = without_scheme(s) {
        let write = match prefix {
            Some(p) => format!("{bare}/{p}"),
            None => bare.to_string(),
        };
        return Err(format!(
            "write {write}, not {s}: NAME or NAME/PREFIX, without s3://"
        ));
    }
    check_bucket_name(s.split_once('/').map_or(s, |(name, _)| name))?;
    Ok(s.to_string())
}

/// `s3://NAME[/PREFIX]` as its name and prefix (without its last `/`).
fn without_scheme(s: &str) -> Option<(&str, Option<&str>)> {
    let rest = s.get(..5).filter(|p| p.eq_ignore_ascii_case("s3://"))?;
    let rest = s[rest.len()..].trim_end_matches('/');
    Some(match rest.split_once('/') {
        Some((name, prefix)) => (name, Some(prefix)),
        None => (rest, None),
    })
}

/// The bucket crate's check, its message saying what a name may be.
fn check_bucket_name(name: &str) -> Result<(), String> {
    bucket::validate_bucket_name(name).map_err(|e| e.to_string())
}

/// `history --limit N`: a whole number ≥ 1 (0 would show no run however many there are).
pub(super) fn parse_limit(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => {
            Err("--limit must be at least 1: it is how many runs to show, newest first".into())
        }
        Ok(n) => Ok(n),
        Err(_) => Err("--limit must be a whole number ≥ 1 (how many runs to show)".into()),
    }
}

pub(super) fn parse_days(s: &str) -> Result<Span, String> {
    retention::parse_days(s).map_err(|e| e.to_string())
}
