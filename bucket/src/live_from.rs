//! `--live-from KEY`: the live deployment read from the site itself. A root page that sends
//! visitors to the current deployment's folder (`<meta http-equiv="refresh" content="0;
//! url=/abc123/">`, `<script src="abc123/app.js">`, `<a href="/sites/abc123/">`) names the
//! folders that are serving; each is kept. Small on purpose: attribute values of `src`, `href`
//! and the refresh's `url=`, no HTML engine.

use crate::{Bucket, S3Error};
use retention::{DeploymentId, LiveRefs};

/// Every attribute value after `name=` (quoted with `"` or `'`, or bare), case-insensitive.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let lower = html.to_ascii_lowercase();
    let pat = format!("{name}=");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&pat) {
        let start = from + i + pat.len();
        from = start;
        // `href=` must be a whole attribute name (not `data-href=`)
        let before = lower[..start - pat.len()].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            continue;
        }
        let rest = &html[start..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        out.push(value);
    }
    out
}

/// The URL of a `<meta http-equiv="refresh" content="0; url=...">`, from a `content` value.
fn refresh_url(content: &str) -> Option<&str> {
    let lower = content.to_ascii_lowercase();
    let i = lower.find("url=")?;
    Some(
        content[i + 4..]
            .trim()
            .trim_matches(|c| c == '\'' || c == '"'),
    )
}

/// An attribute's value as the browser reads it: the character references `&amp;`, `&lt;`,
/// `&gt;`, `&quot;`, `&apos;`, `&#NN;` and `&#xHH;` replaced; any other `&` is left as written.
fn unescape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let n = match name.strip_prefix(['#']) {
                        Some(hex) if hex.starts_with(['x', 'X']) => {
                            u32::from_str_radix(&hex[1..], 16).ok()
                        }
                        Some(dec) => dec.parse().ok(),
                        None => None,
                    };
                    n.and_then(char::from_u32)
                }
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A URL path as the key it names: `%XX` escapes decoded (`release%202/` is the folder
/// `release 2/`). Escapes that do not make UTF-8 leave the path as written.
fn percent_decode(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
}

/// The deployment folder a reference points into: `/<prefix><id>/…` or `<id>/…` (a path, or
/// an absolute URL's path), if any. A reference must go *into* a folder (`id/…`) to count.
/// `reference` is the attribute's value as written: its character references and the path's
/// `%XX` escapes are decoded first, as a browser would before asking for the key.
fn folder_of(reference: &str, prefix: &str) -> Option<String> {
    let unescaped = unescape_html(reference);
    let r = unescaped.trim();
    let lower = r.to_ascii_lowercase();
    if ["mailto:", "data:", "javascript:", "tel:", "#"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return None;
    }
    let path = match r.find("://") {
        Some(i) => {
            let after = &r[i + 3..];
            &after[after.find('/')?..]
        }
        None if r.starts_with("//") => {
            let after = &r[2..];
            &after[after.find('/')?..]
        }
        None => r,
    };
    let path = percent_decode(path.split(['?', '#']).next().unwrap_or(""));
    let path = path.strip_prefix("./").unwrap_or(&path);
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_prefix(prefix).unwrap_or(path);
    let (first, _) = path.split_once('/')?;
    (!first.is_empty() && first != "." && first != "..").then(|| first.to_string())
}

/// The deployment ids the page references, in order of first appearance, without repeats.
pub fn referenced_ids(html: &str, prefix: &str) -> Vec<DeploymentId> {
    let mut refs: Vec<&str> = attribute_values(html, "src");
    refs.extend(attribute_values(html, "href"));
    refs.extend(
        attribute_values(html, "content")
            .into_iter()
            .filter_map(refresh_url),
    );
    let mut ids: Vec<DeploymentId> = Vec::new();
    for r in refs {
        if let Some(id) = folder_of(r, prefix).and_then(|f| DeploymentId::new(&f).ok()) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

impl Bucket {
    /// Reads `key` (a page of the site) and the deployments it references. Missing or not
    /// UTF-8: an error, so nothing is deleted on a guess.
    pub async fn read_live_from(&self, key: &str) -> Result<LiveRefs, S3Error> {
        let body = self.get_body(key).await?.ok_or_else(|| S3Error::Pointer {
            key: key.to_string(),
            problem: "it does not exist".into(),
        })?;
        let html = String::from_utf8(body).map_err(|_| S3Error::Pointer {
            key: key.into(),
            problem: "it is not UTF-8 text".into(),
        })?;
        Ok(LiveRefs {
            key: key.to_string(),
            ids: referenced_ids(&html, &self.prefix),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::referenced_ids;

    fn ids(html: &str, prefix: &str) -> Vec<String> {
        referenced_ids(html, prefix)
            .into_iter()
            .map(|i| i.to_string())
            .collect()
    }

    #[test]
    fn a_meta_refresh_scripts_and_links_name_their_folders() {
        let html = r##"<!doctype html><html><head>
            <meta http-equiv="refresh" content="0; url=/abc123/index.html">
            <link rel="stylesheet" href='abc123/css/site.css'>
            <script src=/def456/app.js></script>
            <a href="https://example.com/ghi789/page.html?x=1">old</a>
            <a href="/loose.html">not a folder</a><a href="#top">anchor</a>
            <a href="mailto:x@y/z">mail</a><img data-src="zzz/a.png">
            </head></html>"##;
        assert_eq!(ids(html, ""), ["def456", "abc123", "ghi789"]);
    }

    #[test]
    fn the_prefix_is_stripped_and_a_page_naming_nothing_names_nothing() {
        assert_eq!(
            ids(
                r#"<meta http-equiv="Refresh" CONTENT="0;URL='/sites/v2/'">"#,
                "sites/"
            ),
            ["v2"]
        );
        assert!(ids("<p>hello</p>", "").is_empty());
        assert!(ids(r#"<a href="../x">up</a>"#, "").is_empty());
    }

    #[test]
    fn escaped_references_name_the_folders_a_browser_asks_for() {
        // Before: "release%202" and "r&amp;d" were taken as written, named no deployment, and
        // the folders the live page loads were deleted.
        let html = r#"<script src="/release%202/app.js"></script>
            <link href="/r&amp;d/app.css"><img src="/caf&#xe9;/a.png"><img src="/&#118;4/b.png">
            <a href="/100%/x">not an escape</a><a href="/a&b/c">a bare ampersand</a>
            <a href="/%E9t%E9/x">not UTF-8 once decoded</a>"#;
        assert_eq!(
            ids(html, ""),
            ["release 2", "café", "v4", "r&d", "100%", "a&b", "%E9t%E9"]
        );
        assert_eq!(
            ids(r#"<a href="/my%20sites/v%2B1/">"#, "my sites/"),
            ["v+1"]
        );
    }
}
