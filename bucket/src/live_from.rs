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

/// The deployment folder a reference points into: `/<prefix><id>/…` or `<id>/…` (a path, or
/// an absolute URL's path), if any. A reference must go *into* a folder (`id/…`) to count.
fn folder_of<'a>(reference: &'a str, prefix: &str) -> Option<&'a str> {
    let r = reference.trim();
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
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix("./").unwrap_or(path);
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_prefix(prefix).unwrap_or(path);
    let (first, _) = path.split_once('/')?;
    (!first.is_empty() && first != "." && first != "..").then_some(first)
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
        if let Some(id) = folder_of(r, prefix).and_then(|f| DeploymentId::new(f).ok()) {
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
}
