//! The intent parts as runs before 2026-12-08 stored them (written here only by the tests that
//! hold they are read back). Names: `intents-FFFFFF-LLLLLL.json`, the first and last batch number
//! in the name so a reader skips a part when all of those were answered. Its body holds each
//! batch's keys per deployment, written once with the folder they share and then only what follows
//! it: `{"batches": [{"n": 3, "deployments": [{"deployment": "d1", "under": "d1/", "keys":
//! ["index.html", "css/a.css"]}]}]}` (`versions` beside `keys` when the keys have version ids).
//! That is a quarter of the bytes of one object per key (`{"deployment": …, "key": …}`), which
//! parts written before 2026-12-05 hold (`keys` in a batch, or `intent-NNNNNN.json` with `{"keys":
//! [...]}` for one batch); both are still read.

use bucket::BatchKey;
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One batch's keys, as the engine hands them over and a reader gets them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentBatch {
    pub n: u64,
    pub keys: Vec<BatchKey>,
}

/// `intents-FFFFFF-LLLLLL.json`: the keys of several batches, written before any of them is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentsPart {
    pub batches: Vec<StoredBatch>,
}

/// `intent-NNNNNN.json` (parts written before 2026-12-05): one batch's keys, one object each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentPart {
    pub keys: Vec<BatchKey>,
}

/// One batch in an intent part: its keys per deployment (`keys`, one object per key, in parts
/// written before 2026-12-05).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBatch {
    pub n: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<DeploymentKeys>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<BatchKey>,
}

/// One deployment's keys in a batch: each key is `under` followed by one of `keys`; with
/// `versions`, the version id of each key in turn (`null` for none).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentKeys {
    pub deployment: DeploymentId,
    pub under: String,
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Option<String>>,
}

impl StoredBatch {
    /// A batch as it was written: its keys grouped by deployment (in the order each first
    /// appears), each group's shared folder written once.
    #[cfg(test)]
    pub fn of(batch: &IntentBatch) -> StoredBatch {
        let mut groups: Vec<(&DeploymentId, Vec<&BatchKey>)> = Vec::new();
        for k in &batch.keys {
            match groups.iter_mut().find(|(d, _)| **d == k.deployment) {
                Some((_, keys)) => keys.push(k),
                None => groups.push((&k.deployment, vec![k])),
            }
        }
        let deployments = groups
            .into_iter()
            .map(|(deployment, keys)| {
                let under = shared_folder(keys.iter().map(|k| k.key.as_str()));
                let versioned = keys.iter().any(|k| k.version_id.is_some());
                DeploymentKeys {
                    deployment: deployment.clone(),
                    keys: keys
                        .iter()
                        .map(|k| k.key[under.len()..].to_string())
                        .collect(),
                    versions: if versioned {
                        keys.iter().map(|k| k.version_id.clone()).collect()
                    } else {
                        Vec::new()
                    },
                    under,
                }
            })
            .collect();
        StoredBatch {
            n: batch.n,
            deployments,
            keys: Vec::new(),
        }
    }

    /// The batch's keys, from either form; a group whose `versions` do not match its keys
    /// is damaged.
    pub fn into_batch(self) -> Result<IntentBatch, String> {
        if self.keys.is_empty() && self.deployments.is_empty() {
            return Err(format!("batch {} names no keys", self.n));
        }
        let mut keys = self.keys;
        for d in self.deployments {
            if !d.versions.is_empty() && d.versions.len() != d.keys.len() {
                return Err(format!(
                    "batch {}: {} keys of {} but {} version ids",
                    self.n,
                    d.keys.len(),
                    d.deployment,
                    d.versions.len()
                ));
            }
            let mut versions = d.versions.into_iter();
            for rest in d.keys {
                keys.push(BatchKey {
                    deployment: d.deployment.clone(),
                    key: format!("{}{rest}", d.under),
                    version_id: versions.next().flatten(),
                });
            }
        }
        Ok(IntentBatch { n: self.n, keys })
    }
}

/// The longest folder (up to and including a `/`) every key starts with; empty if none.
#[cfg(test)]
fn shared_folder<'k>(mut keys: impl Iterator<Item = &'k str>) -> String {
    let Some(first) = keys.next() else {
        return String::new();
    };
    let mut len = first.rfind('/').map_or(0, |i| i + 1);
    for k in keys {
        let common = first.as_bytes()[..len]
            .iter()
            .zip(k.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        if common < len {
            // By bytes: `common` may end inside a multibyte character, never a `/` one.
            len = first.as_bytes()[..common]
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1);
        }
    }
    first[..len].to_string()
}

/// The part a group of batches was written to.
#[cfg(test)]
pub(crate) fn part_name(group: &[IntentBatch]) -> String {
    crate::journal::numbered_part("intents", group.iter().map(|b| b.n))
}

/// The batch numbers an intent part's name says it may hold (first to last), or `None` for a
/// name that is not an intent part.
pub(crate) fn numbers_in(part: &str) -> Option<std::ops::RangeInclusive<u64>> {
    if let Some(n) = part
        .strip_prefix("intent-")
        .and_then(|s| s.strip_suffix(".json"))
    {
        let n = n.parse().ok()?;
        return Some(n..=n);
    }
    let range = part.strip_prefix("intents-")?.strip_suffix(".json")?;
    let (first, last) = range.split_once('-')?;
    Some(first.parse().ok()?..=last.parse().ok()?)
}

/// Whether an intent part may hold a batch that was never answered (and so must be read).
pub(crate) fn may_hold_unanswered(part: &str, answered: &BTreeSet<u64>) -> bool {
    numbers_in(part).is_some_and(|mut range| range.any(|n| !answered.contains(&n)))
}

/// The batches an intent part holds, in any of its forms.
pub(crate) fn batches_of(part: &str, body: &[u8]) -> Result<Vec<IntentBatch>, String> {
    let range = numbers_in(part).ok_or_else(|| format!("{part} is not an intent part"))?;
    if part.starts_with("intents-") {
        let p: IntentsPart = serde_json::from_slice(body).map_err(|e| format!("{part}: {e}"))?;
        return p
            .batches
            .into_iter()
            .map(|b| b.into_batch().map_err(|e| format!("{part}: {e}")))
            .collect();
    }
    let p: IntentPart = serde_json::from_slice(body).map_err(|e| format!("{part}: {e}"))?;
    Ok(vec![IntentBatch {
        n: *range.start(),
        keys: p.keys,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(deployment: &str, key: &str, version_id: Option<&str>) -> BatchKey {
        BatchKey {
            deployment: DeploymentId::new(deployment).unwrap(),
            key: key.into(),
            version_id: version_id.map(String::from),
        }
    }

    fn batch(n: u64) -> IntentBatch {
        IntentBatch {
            n,
            keys: vec![key(&format!("d{n}"), &format!("d{n}/index.html"), None)],
        }
    }

    fn written(group: &[IntentBatch]) -> Vec<u8> {
        serde_json::to_vec(&IntentsPart {
            batches: group.iter().map(StoredBatch::of).collect(),
        })
        .unwrap()
    }

    #[test]
    fn a_part_names_the_range_of_batches_it_holds() {
        assert_eq!(part_name(&[batch(7)]), "intents-000007-000007.json");
        assert_eq!(
            part_name(&[batch(3), batch(2), batch(5)]),
            "intents-000002-000005.json"
        );
        assert_eq!(numbers_in("intent-000007.json"), Some(7..=7));
        assert_eq!(numbers_in("intents-000007-000007.json"), Some(7..=7));
        assert_eq!(numbers_in("intents-000002-000005.json"), Some(2..=5));
        assert_eq!(numbers_in("answer-000002.json"), None);
        assert_eq!(numbers_in("intents-2.json"), None);
    }

    #[test]
    fn a_part_is_read_only_while_one_of_its_batches_is_unanswered() {
        let answered: BTreeSet<u64> = [2, 3, 5].into();
        assert!(!may_hold_unanswered("intent-000002.json", &answered));
        assert!(may_hold_unanswered("intent-000004.json", &answered));
        assert!(may_hold_unanswered("intents-000002-000005.json", &answered));
        assert!(!may_hold_unanswered(
            "intents-000002-000003.json",
            &answered
        ));
        assert!(!may_hold_unanswered("start.json", &answered));
    }

    #[test]
    fn every_key_and_version_reads_back_as_it_was_written() {
        // Two deployments interleaved in one batch, keys at several depths, one key outside
        // any folder, and version ids on some keys only.
        let mixed = IntentBatch {
            n: 9,
            keys: vec![
                key("d1", "site/d1/index.html", Some("v1")),
                key("d2", "site/d2/a/b.css", None),
                key("d1", "site/d1/css/x.css", None),
                key("d2", "site/d2/a/c/d.js", None),
                key("d3", "top", None),
                key("d1", "site/d1/index.html", Some("v0")),
            ],
        };
        let body = written(&[mixed.clone(), batch(10)]);
        let back = batches_of("intents-000009-000010.json", &body).unwrap();
        assert_eq!(back[1], batch(10));
        // Grouped by deployment, in the order each first appears; nothing lost or changed.
        let mut want = mixed.keys.clone();
        want.sort_by_key(|k| {
            ["d1", "d2", "d3"]
                .iter()
                .position(|d| *d == k.deployment.as_str())
        });
        assert_eq!(back[0].keys, want);
        // Each folder written once: the part is smaller than one object per key.
        let stored: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let d2 = &stored["batches"][0]["deployments"][1];
        assert_eq!(d2["under"], "site/d2/a/");
        assert_eq!(d2["keys"], serde_json::json!(["b.css", "c/d.js"]));
        assert!(d2.get("versions").is_none(), "{d2}");
        assert_eq!(
            stored["batches"][0]["deployments"][0]["versions"],
            serde_json::json!(["v1", null, "v0"])
        );
    }

    #[test]
    fn parts_written_before_the_compact_form_are_still_read() {
        let one = serde_json::to_vec(&IntentPart {
            keys: batch(4).keys,
        })
        .unwrap();
        assert_eq!(
            batches_of("intent-000004.json", &one).unwrap(),
            vec![batch(4)]
        );
        let many = serde_json::json!({"batches": [
            {"n": 2, "keys": [{"deployment": "d2", "key": "d2/index.html"}]},
            {"n": 3, "keys": [{"deployment": "d3", "key": "d3/index.html"}]},
        ]});
        assert_eq!(
            batches_of("intents-000002-000003.json", many.to_string().as_bytes()).unwrap(),
            vec![batch(2), batch(3)]
        );
    }

    #[test]
    fn folders_that_differ_inside_a_multibyte_character_are_cut_at_their_last_shared_slash() {
        let batch = IntentBatch {
            n: 1,
            keys: vec![key("d1", "d1/über/a", None), key("d1", "d1/ärger/b", None)],
        };
        let body = written(std::slice::from_ref(&batch));
        let stored: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(stored["batches"][0]["deployments"][0]["under"], "d1/");
        let back = batches_of("intents-000001-000001.json", &body).unwrap();
        assert_eq!(back, vec![batch]);
    }

    #[test]
    fn a_damaged_part_is_an_error_not_fewer_keys() {
        assert!(batches_of("intents-000002-000003.json", b"{}").is_err());
        let empty = serde_json::json!({"batches": [{"n": 2}]});
        let e = batches_of("intents-000002-000002.json", empty.to_string().as_bytes());
        assert!(e.unwrap_err().contains("batch 2 names no keys"));
        let short = serde_json::json!({"batches": [{"n": 2, "deployments": [
            {"deployment": "d2", "under": "d2/", "keys": ["a", "b"], "versions": ["v1"]},
        ]}]});
        let e = batches_of("intents-000002-000002.json", short.to_string().as_bytes());
        assert!(e.unwrap_err().contains("2 keys of d2 but 1 version ids"));
    }
}
