//! A sign-in between the redirect to the provider and its answer, kept in the browser's binding
//! cookie and sealed (HMAC-SHA256, with a key made when the dashboard starts): the server keeps
//! nothing per visit, so visits without a session, however many, cannot push out a sign-in in
//! progress (a table of them, bounded, let anyone reaching the port do so).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// A sign-in started but not finished is refused after this long (seconds).
pub(super) const PENDING_SECS: u64 = 600;

/// Where a sign-in goes back to, at most this long: a longer address (a link with many rules)
/// goes back to its page without the query, so the cookie stays far under a browser's 4 KB.
const RETURN_TO_MAX: usize = 1500;

/// What the answer is checked against, and where the person was going.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Pending {
    /// The `state` sent to the provider: its answer must carry the same.
    pub(super) state: String,
    /// The PKCE verifier of the challenge sent.
    pub(super) verifier: String,
    /// The `nonce` the ID token must carry.
    pub(super) nonce: String,
    pub(super) return_to: String,
    /// When it began (Unix seconds).
    pub(super) created: u64,
}

impl Pending {
    pub(super) fn new(state: String, verifier: String, nonce: String, return_to: &str) -> Self {
        let return_to = if return_to.len() <= RETURN_TO_MAX {
            return_to.to_string()
        } else {
            return_to.split('?').next().unwrap_or("/").to_string()
        };
        Pending {
            state,
            verifier,
            nonce,
            return_to,
            created: now(),
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seals and opens [`Pending`] sign-ins with this process's key.
pub(super) struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    pub(super) fn new() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS random source works");
        Sealer { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// The binding cookie's value: the sign-in and its seal.
    pub(super) fn seal(&self, p: &Pending) -> String {
        let body = serde_json::to_vec(p).expect("a sign-in serializes");
        let mut mac = self.mac();
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The sign-in `cookie` holds, if it was sealed here, is for the answer's `state`, and is
    /// not older than [`PENDING_SECS`].
    pub(super) fn open(&self, cookie: &str, state: &str) -> Option<Pending> {
        let (body, tag) = cookie.split_once('.')?;
        let body = URL_SAFE_NO_PAD.decode(body).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&body);
        mac.verify_slice(&tag).ok()?;
        let p: Pending = serde_json::from_slice(&body).ok()?;
        let fresh = now().saturating_sub(p.created) <= PENDING_SECS;
        (p.state == state && fresh).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending::new("st".into(), "ver".into(), "non".into(), "/?bucket=b")
    }

    #[test]
    fn a_sealed_sign_in_opens_only_here_for_its_state_and_unchanged() {
        let sealer = Sealer::new();
        let cookie = sealer.seal(&pending());
        assert_eq!(sealer.open(&cookie, "st"), Some(pending()));
        assert_eq!(
            sealer.open(&cookie, "other"),
            None,
            "another sign-in's answer"
        );
        assert_eq!(
            Sealer::new().open(&cookie, "st"),
            None,
            "another process's key"
        );
        // The body changed (another return address, say), the seal kept: refused.
        let mut forged = pending();
        forged.return_to = "https://evil.example/".into();
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let tag = cookie.split_once('.').unwrap().1;
        assert_eq!(sealer.open(&format!("{forged_body}.{tag}"), "st"), None);
        assert_eq!(sealer.open("garbage", "st"), None);
    }

    #[test]
    fn a_sign_in_older_than_ten_minutes_is_refused() {
        let sealer = Sealer::new();
        let mut old = pending();
        old.created -= PENDING_SECS + 1;
        assert_eq!(sealer.open(&sealer.seal(&old), "st"), None);
    }

    #[test]
    fn a_long_return_address_keeps_its_page_and_drops_its_query() {
        let long = format!("/history?{}", "x".repeat(3000));
        let p = Pending::new("s".into(), "v".into(), "n".into(), &long);
        assert_eq!(p.return_to, "/history");
    }
}
