//! The page's own address, read once as a page is made: its path (which page) and its query
//! (`?bucket=…&retain=…`), from the request on the server and from `location` in the browser,
//! decoded by the same code on both sides so the two renders agree. Two pages that each read
//! their query once need no router (leptos_router was ~80 KB of the wasm, issue 25): a link
//! from one to the other loads it.

use leptos::prelude::*;

/// A page's path and query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageUrl {
    path: String,
    query: Vec<(String, String)>,
}

impl PageUrl {
    /// `path` as it came, `query` without its `?` (`application/x-www-form-urlencoded`, as
    /// the browser's `URLSearchParams` reads it: `+` is a space, `%XX` a byte).
    pub fn new(path: &str, query: &str) -> PageUrl {
        let decode = |s: &str| crate::dashboard::policy::percent_decode(&s.replace('+', " "));
        PageUrl {
            path: path.to_string(),
            query: query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(key), decode(value))
                })
                .collect(),
        }
    }

    /// The path without a trailing `/` (`/` itself is "").
    pub fn page(&self) -> &str {
        self.path.trim_end_matches('/')
    }

    /// The last value given for `key`, as leptos_router read it and as the server's page cache
    /// keys a page (`?bucket=a&bucket=b` is bucket b's page everywhere).
    pub fn get(&self, key: &str) -> Option<String> {
        self.query
            .iter()
            .rfind(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// The address of the page being made: the request's while the server renders, the
    /// browser's own as it hydrates.
    pub fn read() -> PageUrl {
        #[cfg(feature = "ssr")]
        {
            use_context::<axum::http::request::Parts>()
                .map(|parts| PageUrl::new(parts.uri.path(), parts.uri.query().unwrap_or("")))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            let location = web_sys::window().map(|w| w.location());
            let part = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
                location
                    .as_ref()
                    .and_then(|l| f(l).ok())
                    .unwrap_or_default()
            };
            let search = part(web_sys::Location::search);
            PageUrl::new(
                &part(web_sys::Location::pathname),
                search.strip_prefix('?').unwrap_or(&search),
            )
        }
    }
}

/// The address of the page being made (provided by [`crate::App`]).
pub fn page_url() -> PageUrl {
    use_context::<PageUrl>().unwrap_or_else(PageUrl::read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_reads_as_the_browser_reads_it() {
        let u = PageUrl::new("/", "bucket=a%2Fb&retain=5&days=&x&retain=7&q=a+b%2B");
        assert_eq!(u.get("bucket").as_deref(), Some("a/b"));
        assert_eq!(u.get("retain").as_deref(), Some("7"), "the last value");
        assert_eq!(u.get("days").as_deref(), Some(""));
        assert_eq!(u.get("x").as_deref(), Some(""));
        assert_eq!(u.get("q").as_deref(), Some("a b+"));
        assert_eq!(u.get("price"), None);
        assert_eq!(u.page(), "");
        assert_eq!(PageUrl::new("/history/", "").page(), "/history");
    }

    #[test]
    fn a_rules_link_is_decoded_once_so_its_fields_keep_their_commas() {
        // the page writes each field percent-encoded, then the whole value once more
        let drafts = "r1,*,%5Epr-(%5Cd%7B1%2C3%7D),2,";
        let link = crate::percent_encode(drafts, |b| b.is_ascii_alphanumeric());
        let u = PageUrl::new("/", &format!("rules={link}"));
        assert_eq!(u.get("rules").as_deref(), Some(drafts));
        let rules = crate::dashboard::policy::decode_rules(drafts);
        assert_eq!(rules[0].group, "^pr-(\\d{1,3})");
    }
}
