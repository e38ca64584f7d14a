//! The scan's deployments as the page carries them: in columns (ids, objects, bytes, dates in
//! milliseconds), so no field name is written once per deployment and no date as a 24-byte
//! string. Used by [`super::ScanView`] through `#[serde(with)]`: the Rust type stays
//! [`Inventory`], only its wire form changes. For 2,000 deployments with `meta:` dates it is
//! about half the JSON of the plain form.

use chrono::{DateTime, TimeZone, Utc};
use retention::{
    Deployment, DeploymentId, Inventory, LiveRefs, LooseObjects, Pin, Remembered, Versioning,
    WasLive,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct Columns {
    ids: Vec<DeploymentId>,
    objects: Vec<u64>,
    bytes: Vec<u64>,
    /// Newest LastModified, milliseconds since the epoch.
    newest: Vec<i64>,
    /// Newest minus oldest LastModified, milliseconds (mostly 0 or small).
    spread: Vec<i64>,
    /// Below the millisecond (S3 never sends it; kept so nothing is rounded): only when some
    /// date has it, `[newest, oldest]` nanoseconds within their millisecond.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sub_ms: Vec<[u32; 2]>,
    /// The `meta:KEY` values; empty when no deployment has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    meta: Vec<Option<String>>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    deployments: Columns,
    loose: LooseObjects,
    versioning: Versioning,
    #[serde(default)]
    live: Option<DeploymentId>,
    #[serde(default)]
    pins: Vec<Pin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live_from: Option<LiveRefs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    report_date: Option<DateTime<Utc>>,
    /// The live grace's input: the browser's plan must keep what the server's keeps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    was_live: Vec<WasLive>,
    /// First-seen dates of deployments whose clock was reset: ranked by them in the browser too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    remembered: Vec<Remembered>,
}

fn sub_ms(t: &DateTime<Utc>) -> u32 {
    t.timestamp_subsec_nanos() % 1_000_000
}

fn columns(ds: &[Deployment]) -> Columns {
    let any_sub_ms = ds
        .iter()
        .any(|d| sub_ms(&d.newest) != 0 || sub_ms(&d.oldest) != 0);
    let any_meta = ds.iter().any(|d| d.meta.is_some());
    Columns {
        ids: ds.iter().map(|d| d.id.clone()).collect(),
        objects: ds.iter().map(|d| d.objects).collect(),
        bytes: ds.iter().map(|d| d.bytes).collect(),
        newest: ds.iter().map(|d| d.newest.timestamp_millis()).collect(),
        spread: ds
            .iter()
            .map(|d| d.newest.timestamp_millis() - d.oldest.timestamp_millis())
            .collect(),
        sub_ms: if any_sub_ms {
            ds.iter()
                .map(|d| [sub_ms(&d.newest), sub_ms(&d.oldest)])
                .collect()
        } else {
            Vec::new()
        },
        meta: if any_meta {
            ds.iter().map(|d| d.meta.clone()).collect()
        } else {
            Vec::new()
        },
    }
}

fn at(ms: i64, sub: u32) -> Result<DateTime<Utc>, String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .and_then(|t| t.checked_add_signed(chrono::Duration::nanoseconds(i64::from(sub))))
        .ok_or_else(|| format!("date out of range: {ms} ms"))
}

fn deployments(c: Columns) -> Result<Vec<Deployment>, String> {
    let n = c.ids.len();
    let same = [
        c.objects.len(),
        c.bytes.len(),
        c.newest.len(),
        c.spread.len(),
    ];
    if same.iter().any(|&l| l != n)
        || (!c.sub_ms.is_empty() && c.sub_ms.len() != n)
        || (!c.meta.is_empty() && c.meta.len() != n)
    {
        return Err(format!("deployment columns of different lengths ({n} ids)"));
    }
    let mut meta = c.meta.into_iter();
    let mut out = Vec::with_capacity(n);
    for (i, id) in c.ids.into_iter().enumerate() {
        let [sn, so] = c.sub_ms.get(i).copied().unwrap_or([0, 0]);
        out.push(Deployment {
            id,
            objects: c.objects[i],
            bytes: c.bytes[i],
            newest: at(c.newest[i], sn)?,
            oldest: at(c.newest[i] - c.spread[i], so)?,
            meta: meta.next().flatten(),
        });
    }
    Ok(out)
}

pub fn serialize<S: Serializer>(inv: &Inventory, s: S) -> Result<S::Ok, S::Error> {
    Wire {
        deployments: columns(&inv.deployments),
        loose: inv.loose,
        versioning: inv.versioning,
        live: inv.live.clone(),
        pins: inv.pins.clone(),
        live_from: inv.live_from.clone(),
        report_date: inv.report_date,
        was_live: inv.was_live.clone(),
        remembered: inv.remembered.clone(),
    }
    .serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Inventory, D::Error> {
    let w = Wire::deserialize(d)?;
    Ok(Inventory {
        deployments: deployments(w.deployments).map_err(serde::de::Error::custom)?,
        loose: w.loose,
        versioning: w.versioning,
        live: w.live,
        pins: w.pins,
        live_from: w.live_from,
        report_date: w.report_date,
        was_live: w.was_live,
        remembered: w.remembered,
    })
}

/// The same wire form for the inventory a [`super::ScanView`] shares with the page's parts (an
/// `Arc`: a page render clones the view, and cloning 2,000 deployments each time cost ~10 % of
/// the server's CPU under load).
pub mod shared {
    use super::*;

    /// On the server, each scan's JSON is written once and copied into every page that shows
    /// it ([`written`]); the page's other fields (its clock, notes, notice) are written anew.
    pub fn serialize<S: Serializer>(inv: &Arc<Inventory>, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "ssr")]
        {
            written::json_of(inv)
                .map_err(serde::ser::Error::custom)?
                .serialize(s)
        }
        #[cfg(not(feature = "ssr"))]
        super::serialize(inv, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Inventory>, D::Error> {
        super::deserialize(d).map(Arc::new)
    }
}

/// The wire form of the inventories the server is showing, written once each. Keyed by the
/// `Arc` itself: a cached scan's inventory is never changed (a new scan is a new `Arc`), and
/// while an entry's `Weak` lives its address cannot be given to another inventory. Entries of
/// inventories no page holds any more are dropped on the next write.
#[cfg(feature = "ssr")]
mod written {
    use super::*;
    use serde_json::value::RawValue;
    use std::sync::{Mutex, Weak};

    type Written = Vec<(Weak<Inventory>, Arc<RawValue>)>;
    static WRITTEN: Mutex<Written> = Mutex::new(Vec::new());

    /// The registry; a panic elsewhere while it was held cannot leave it unusable (nothing is
    /// half-written under the lock: a lookup, a `retain`, a `push`).
    fn written() -> std::sync::MutexGuard<'static, Written> {
        WRITTEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The JSON `serialize` writes for `inv`, written at most once while `inv` lives.
    pub(super) fn json_of(inv: &Arc<Inventory>) -> Result<Arc<RawValue>, serde_json::Error> {
        let is = |w: &Weak<Inventory>| std::ptr::eq(w.as_ptr(), Arc::as_ptr(inv));
        if let Some((_, json)) = written().iter().find(|(w, _)| is(w)) {
            return Ok(json.clone());
        }
        let json: Arc<RawValue> = serde_json::value::to_raw_value(&Whole(inv))?.into();
        let mut written = written();
        written.retain(|(w, _)| w.strong_count() > 0 && !is(w));
        written.push((Arc::downgrade(inv), json.clone()));
        Ok(json)
    }

    /// The inventory in its wire form, as a value of its own.
    struct Whole<'a>(&'a Inventory);

    impl Serialize for Whole<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, s)
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder(#[serde(with = "super")] Inventory);

    fn deployment(id: &str, newest_ms: i64, spread: i64, meta: Option<&str>) -> Deployment {
        Deployment {
            id: DeploymentId::new(id).unwrap(),
            objects: 3,
            bytes: 1234,
            newest: Utc.timestamp_millis_opt(newest_ms).unwrap(),
            oldest: Utc.timestamp_millis_opt(newest_ms - spread).unwrap(),
            meta: meta.map(str::to_string),
        }
    }

    fn round_trip(inv: Inventory) -> String {
        let json = serde_json::to_string(&Holder(inv.clone())).unwrap();
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, inv, "{json}");
        json
    }

    #[test]
    fn every_field_survives_the_trip_with_and_without_meta_and_pins() {
        let mut inv = Inventory {
            deployments: vec![
                deployment("b", 1_764_000_000_123, 5_000, None),
                deployment("a", 1_763_000_000_000, 0, None),
            ],
            live: Some(DeploymentId::new("b").unwrap()),
            pins: vec![Pin {
                id: DeploymentId::new("a").unwrap(),
                reason: "audit".into(),
                by: "ann".into(),
                at: None,
            }],
            versioning: Versioning::Enabled,
            ..Inventory::default()
        };
        let json = round_trip(inv.clone());
        assert!(!json.contains("meta"), "{json}");
        assert!(!json.contains("sub_ms"), "{json}");
        inv.deployments[1].meta = Some("2026-01-01T00:00:00Z".into());
        round_trip(inv.clone());
        // a date below the millisecond is not rounded
        inv.deployments[0].newest += chrono::Duration::nanoseconds(1_500);
        let json = round_trip(inv);
        assert!(json.contains("sub_ms"), "{json}");
        round_trip(Inventory::default());
    }

    #[test]
    fn no_field_name_is_written_per_deployment() {
        let inv = Inventory {
            deployments: (0..100)
                .map(|i| {
                    deployment(
                        &format!("d{i:03}"),
                        1_764_000_000_000 - i * 60_000,
                        0,
                        Some("x"),
                    )
                })
                .collect(),
            ..Inventory::default()
        };
        let json = round_trip(inv.clone());
        assert_eq!(json.matches("\"newest\"").count(), 1, "{json}");
        let plain = serde_json::to_string(&inv).unwrap();
        assert!(
            json.len() * 2 < plain.len(),
            "{} vs {}",
            json.len(),
            plain.len()
        );
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct SharedHolder(#[serde(with = "super::shared")] Arc<Inventory>);

    #[test]
    fn a_scan_written_once_is_the_scan_of_each_page_that_shows_it() {
        let inv = |ids: &[&str]| Inventory {
            deployments: ids
                .iter()
                .map(|i| deployment(i, 1_700_000_000_000, 0, None))
                .collect(),
            ..Inventory::default()
        };
        let plain = |i: &Inventory| serde_json::to_string(&Holder(i.clone())).unwrap();
        let first = Arc::new(inv(&["a1", "a2"]));
        let json = serde_json::to_string(&SharedHolder(first.clone())).unwrap();
        assert_eq!(json, plain(&first));
        assert_eq!(
            serde_json::to_string(&SharedHolder(first.clone())).unwrap(),
            json
        );
        let back: SharedHolder = serde_json::from_str(&json).unwrap();
        assert_eq!(*back.0, *first);
        // Another scan (a new Arc, maybe where the last one was) is written as itself.
        drop(first);
        for n in 0..20 {
            let other = Arc::new(inv(&["b1", &format!("b{}", n + 2)]));
            let json = serde_json::to_string(&SharedHolder(other.clone())).unwrap();
            assert_eq!(json, plain(&other));
        }
    }

    #[test]
    fn columns_of_different_lengths_are_refused() {
        let bad = r#"{"deployments":{"ids":["a","b"],"objects":[1],"bytes":[1,1],"newest":[0,0],"spread":[0,0]},"loose":{"objects":0,"bytes":0},"versioning":"unversioned"}"#;
        let err = serde_json::from_str::<Holder>(bad).unwrap_err().to_string();
        assert!(err.contains("different lengths"), "{err}");
    }
}
