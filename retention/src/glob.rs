//! Shell-style patterns for `--exclude`: `*`, `?` and `[a-z]` / `[!x]` classes, matched
//! against a whole deployment id. Small on purpose: a regex engine would double the wasm.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Glob(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("empty pattern")]
    Empty,
    #[error("pattern '{0}': '[' without a closing ']'")]
    Unclosed(String),
    /// A `/` can never match: ids are top-level folder names. Refused rather than matching
    /// nothing, which would leave "excluded" deployments to be deleted.
    #[error("pattern '{pattern}' contains '/': patterns match top-level folder names only (write '{hint}')")]
    Slash { pattern: String, hint: String },
    /// A space at either end, kept as written, matches nothing a user meant (a front end that
    /// trimmed it would match what another does not): refused.
    #[error("pattern '{pattern}' has a space at its start or end: write '{hint}' (a folder name with a real space there is matched by '?')")]
    Space { pattern: String, hint: String },
    /// `[^…]` means "not" to bash, Go and regexes, but here only `[!…]` does: read literally it
    /// would match what the user meant to leave out. Refused.
    #[error("pattern '{0}': a class begins with '^': write '[!…]' for \"none of\" (or put '^' later in the class to match it)")]
    Caret(String),
}

impl FromStr for Glob {
    type Err = GlobError;
    fn from_str(s: &str) -> Result<Self, GlobError> {
        if s.is_empty() {
            return Err(GlobError::Empty);
        }
        if s.trim() != s {
            return Err(GlobError::Space {
                pattern: s.into(),
                hint: s.trim().into(),
            });
        }
        if s.contains('/') {
            let hint = s.trim_matches('/');
            return Err(GlobError::Slash {
                pattern: s.into(),
                hint: if hint.is_empty() || hint.contains('/') {
                    "a folder name, e.g. release-*".into()
                } else {
                    hint.into()
                },
            });
        }
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '[' {
                if chars.get(i + 1) == Some(&'^') {
                    return Err(GlobError::Caret(s.into()));
                }
                match class_end(&chars, i) {
                    Some(end) => i = end,
                    None => return Err(GlobError::Unclosed(s.into())),
                }
            }
            i += 1;
        }
        Ok(Glob(s.to_string()))
    }
}

impl TryFrom<String> for Glob {
    type Error = GlobError;
    fn try_from(s: String) -> Result<Self, GlobError> {
        s.parse()
    }
}
impl From<Glob> for String {
    fn from(g: Glob) -> String {
        g.0
    }
}
impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pattern or text symbol: bytes when both are ASCII (no allocation), chars otherwise.
trait Sym: Copy + Ord + From<u8> {}
impl Sym for u8 {}
impl Sym for char {}

fn sym<T: Sym>(c: u8) -> T {
    T::from(c)
}

/// Index of the `]` closing the class opened at `start`, if any.
fn class_end<T: Sym>(p: &[T], start: usize) -> Option<usize> {
    let mut j = start + 1;
    if j < p.len() && p[j] == sym(b'!') {
        j += 1;
    }
    if j < p.len() && p[j] == sym(b']') {
        j += 1; // a leading ']' is a literal member
    }
    while j < p.len() {
        if p[j] == sym(b']') {
            return Some(j);
        }
        j += 1;
    }
    None
}

fn class_matches<T: Sym>(p: &[T], start: usize, end: usize, c: T) -> bool {
    let mut j = start + 1;
    let negate = p.get(j) == Some(&sym(b'!'));
    if negate {
        j += 1;
    }
    let mut hit = false;
    let mut first = true;
    while j < end {
        if (p[j] != sym(b']') || first) && j + 2 < end && p[j + 1] == sym(b'-') {
            if p[j] <= c && c <= p[j + 2] {
                hit = true;
            }
            j += 3;
        } else {
            if p[j] == c {
                hit = true;
            }
            j += 1;
        }
        first = false;
    }
    hit != negate
}

impl Glob {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, text: &str) -> bool {
        if self.0.is_ascii() && text.is_ascii() {
            return matches_in(self.0.as_bytes(), text.as_bytes());
        }
        let p: Vec<char> = self.0.chars().collect();
        let t: Vec<char> = text.chars().collect();
        matches_in(&p, &t)
    }
}

/// Iterative matcher with single-star backtracking: linear-ish, no recursion blowup.
fn matches_in<T: Sym>(p: &[T], t: &[T]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = if pi < p.len() {
            let c = p[pi];
            if c == sym(b'*') {
                star = Some((pi, ti));
                pi += 1;
                continue;
            } else if c == sym(b'?') {
                Some(pi + 1)
            } else if c == sym(b'[') {
                let end = class_end(p, pi).expect("validated at parse");
                class_matches(p, pi, end, t[ti]).then_some(end + 1)
            } else {
                (c == t[ti]).then_some(pi + 1)
            }
        } else {
            None
        };
        match step {
            Some(next) => {
                pi = next;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == sym(b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        p.parse::<Glob>().unwrap().matches(t)
    }

    #[test]
    fn matches_like_a_shell() {
        assert!(m("staging-*", "staging-12"));
        assert!(!m("staging-*", "prod-staging-12"));
        assert!(m("*", ""));
        assert!(m("*-keep", "a-b-keep"));
        assert!(m("v?", "v1"));
        assert!(!m("v?", "v10"));
        assert!(m("v[0-9]", "v7"));
        assert!(!m("v[!0-9]", "v7"));
        assert!(m("v[!0-9]", "vx"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("exact", "exact"));
        assert!(!m("exact", "exactly"));
        assert!(m("dé*", "déploiement"));
    }

    #[test]
    fn rejects_broken_patterns() {
        assert_eq!("".parse::<Glob>(), Err(GlobError::Empty));
        assert!(matches!(
            "v[0-9".parse::<Glob>(),
            Err(GlobError::Unclosed(_))
        ));
    }

    #[test]
    fn a_pattern_or_id_with_a_space_at_either_end_is_refused() {
        // Before: `--exclude 'main-* '` (or in the configuration file) matched nothing and the
        // deployments it was to protect were deleted; the scheduled job trimmed it and kept them.
        let e = "main-* ".parse::<Glob>().unwrap_err();
        assert!(e.to_string().contains("write 'main-*'"), "{e}");
        assert!(matches!(" x".parse::<Glob>(), Err(GlobError::Space { .. })));
        assert!(
            "a b*".parse::<Glob>().is_ok(),
            "a space inside is matched as written"
        );
        let id = "v1.0 ".parse::<crate::DeploymentId>().unwrap_err();
        assert!(id.to_string().contains("write 'v1.0'"), "{id}");
        assert!(
            crate::DeploymentId::new("v1.0 ").is_ok(),
            "a folder read from the bucket"
        );
    }

    #[test]
    fn a_pattern_with_a_slash_is_refused_not_left_to_match_nothing() {
        // Before: `--exclude 'release-*/'` parsed, matched no id, and the deployments it was
        // meant to protect were deleted.
        let e = "release-*/".parse::<Glob>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "pattern 'release-*/' contains '/': patterns match top-level folder names only (write 'release-*')"
        );
        assert!(matches!(
            "site/release-*".parse::<Glob>(),
            Err(GlobError::Slash { .. })
        ));
    }

    #[test]
    fn an_exclude_class_starting_with_a_caret_is_refused_not_matched_literally() {
        // Before: `--exclude 'release-[^0-9]*'` kept release-1 ('^' and digits were the class)
        // and deleted release-rc, the one the user meant to keep, as bash reads it.
        let e = "release-[^0-9]*".parse::<Glob>().unwrap_err();
        assert!(e.to_string().contains("write '[!…]'"), "{e}");
        let not_digit: Glob = "release-[!0-9]*".parse().unwrap();
        assert!(not_digit.matches("release-rc") && !not_digit.matches("release-1"));
        // A '^' later in a class is a member, as before.
        assert!("v[0^]".parse::<Glob>().unwrap().matches("v^"));
    }
}
