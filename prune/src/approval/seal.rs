//! The seal on an approval request: an HMAC-SHA256 of the request, made with the approval key of
//! the dashboard that filed it. Whoever may write under the bucket's `.s3-prune/` (a deploy
//! pipeline's PutObject) could otherwise write a request in another person's name and approve
//! it themself; a dashboard runs only requests sealed with its own key, so dashboards that
//! take each other's requests share one key (`serve --approval-key-file`).

use super::ApprovalRequest;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key a dashboard seals its approval requests with. Never printed.
#[derive(Clone)]
pub struct ApprovalKey(Vec<u8>);

impl std::fmt::Debug for ApprovalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApprovalKey(..)")
    }
}

/// A key too short to be a secret.
#[derive(Debug, thiserror::Error)]
#[error("an approval key needs at least {MIN_KEY} bytes (it has {0}): generate one with `head -c 32 /dev/urandom | base64`")]
pub struct ShortKey(usize);

/// Bytes an approval key has at least.
pub const MIN_KEY: usize = 16;

impl ApprovalKey {
    /// A key from its bytes (a key file's contents, surrounding whitespace left out).
    pub fn new(bytes: &[u8]) -> Result<ApprovalKey, ShortKey> {
        let bytes = bytes.trim_ascii();
        if bytes.len() < MIN_KEY {
            return Err(ShortKey(bytes.len()));
        }
        Ok(ApprovalKey(bytes.to_vec()))
    }

    fn mac(&self, request: &ApprovalRequest) -> Hmac<Sha256> {
        let unsealed = ApprovalRequest {
            seal: None,
            ..request.clone()
        };
        let body = serde_json::to_vec(&unsealed).expect("a request serializes");
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(&body);
        mac
    }

    /// `request` with its seal.
    pub fn seal(&self, request: ApprovalRequest) -> ApprovalRequest {
        let seal = hex(&self.mac(&request).finalize().into_bytes());
        ApprovalRequest {
            seal: Some(seal),
            ..request
        }
    }

    /// Whether `request` carries this key's seal of exactly what it says (compared in constant
    /// time).
    pub fn sealed(&self, request: &ApprovalRequest) -> bool {
        let Some(seal) = request.seal.as_deref().and_then(unhex) else {
            return false;
        };
        self.mac(request).verify_slice(&seal).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::Asked;
    use chrono::Utc;

    fn request(by: &str) -> ApprovalRequest {
        ApprovalRequest {
            id: "20261205T000000000Z-00000001".into(),
            bucket: "b".into(),
            prefix: String::new(),
            requested_by: by.into(),
            requested_at: Utc::now(),
            expires_at: Utc::now(),
            asked: Asked {
                retain: 3,
                min_days: None,
                policy: None,
            },
            confirmed: Vec::new(),
            plan_fingerprint: "f".into(),
            requested_by_account: None,
            seal: None,
        }
    }

    #[test]
    fn only_a_request_sealed_with_the_key_and_unchanged_since_holds() {
        let key = ApprovalKey::new(b"0123456789abcdef0123").unwrap();
        let other = ApprovalKey::new(b"another key of 16+ bytes").unwrap();
        let sealed = key.seal(request("alice"));
        assert!(key.sealed(&sealed));
        assert!(!other.sealed(&sealed), "another dashboard's key");
        assert!(!key.sealed(&request("alice")), "no seal");
        let renamed = ApprovalRequest {
            requested_by: "carol".into(),
            ..sealed.clone()
        };
        assert!(!key.sealed(&renamed), "a sealed request changed afterwards");
        let bad = ApprovalRequest {
            seal: Some("zz".into()),
            ..sealed
        };
        assert!(!key.sealed(&bad));
    }

    #[test]
    fn a_short_key_is_refused_saying_how_to_make_one() {
        let e = ApprovalKey::new(b"  short \n").unwrap_err().to_string();
        assert!(e.contains("at least 16 bytes (it has 5)"), "{e}");
        assert!(e.contains("/dev/urandom"), "{e}");
    }
}
