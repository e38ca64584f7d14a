//! The scan's deployments as the page carries them: in columns (ids, objects, bytes, dates in
//! milliseconds), so no field name is written once per deployment and no date as a 24-byte
//! string. Used by [`super::ScanView`] through `#[serde(with)]`: the Rust type stays
//! [`Inventory`], only its wire form changes: about a sixth of the plain form's JSON.

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
    sub_ms: Vec<[u32; 2]>,
    /// The `meta:KEY` values; empty when no deployment has one.
    meta: Vec<Option<String>>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    deployments: Columns,
    loose: LooseObjects,
    versioning: Versioning,
    live: Option<DeploymentId>,
    pins: Vec<Pin>,
    live_from: Option<LiveRefs>,
    report_date: Option<DateTime<Utc>>,
    /// The live grace's input: the browser's plan must keep what the server's keeps.
    was_live: Vec<WasLive>,
    /// First-seen dates of deployments whose clock was reset: ranked by them in the browser too.
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

fn wire_of(inv: &Inventory) -> Wire {
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
}

fn inventory_of(w: Wire) -> Result<Inventory, String> {
    Ok(Inventory {
        deployments: deployments(w.deployments)?,
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

/// The inventory's wire form, as bytes of their own inside a [`super::ScanView`], which shares
/// it with the page's parts (an `Arc`: a page render clones the view, and cloning 2,000
/// deployments each time cost ~10 % of the server's CPU under load).
pub mod shared {
    use super::*;
    use crate::wire::codec;

    /// On the server, each scan's bytes are written once and copied into every page that shows
    /// it ([`written`]); the page's other fields (its clock, notes, notice) are written anew.
    pub fn serialize<S: Serializer>(inv: &Arc<Inventory>, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "ssr")]
        let bytes = written::bytes_of(inv);
        #[cfg(not(feature = "ssr"))]
        let bytes = codec::encode(&wire_of(inv));
        s.serialize_bytes(&bytes.map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Inventory>, D::Error> {
        let wire = d.deserialize_bytes(WireBytes)?;
        inventory_of(wire)
            .map(Arc::new)
            .map_err(serde::de::Error::custom)
    }

    struct WireBytes;

    impl serde::de::Visitor<'_> for WireBytes {
        type Value = Wire;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the scan's deployments")
        }

        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Wire, E> {
            codec::decode(bytes).map_err(E::custom)
        }
    }
}

/// The wire form of the inventories the server is showing, written once each. Keyed by the
/// `Arc` itself: a cached scan's inventory is never changed (a new scan is a new `Arc`), and
/// while an entry's `Weak` lives its address cannot be given to another inventory. Entries of
/// inventories no page holds any more are dropped on the next write.
#[cfg(feature = "ssr")]
mod written {
    use super::*;
    use crate::wire::codec::{self, WireError};
    use std::sync::{Mutex, Weak};

    type Written = Vec<(Weak<Inventory>, Arc<[u8]>)>;
    static WRITTEN: Mutex<Written> = Mutex::new(Vec::new());

    /// The registry; a panic elsewhere while it was held cannot leave it unusable (nothing is
    /// half-written under the lock: a lookup, a `retain`, a `push`).
    fn written() -> std::sync::MutexGuard<'static, Written> {
        WRITTEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The bytes `shared::serialize` writes for `inv`, written at most once while `inv` lives.
    pub(super) fn bytes_of(inv: &Arc<Inventory>) -> Result<Arc<[u8]>, WireError> {
        let is = |w: &Weak<Inventory>| std::ptr::eq(w.as_ptr(), Arc::as_ptr(inv));
        if let Some((_, bytes)) = written().iter().find(|(w, _)| is(w)) {
            return Ok(bytes.clone());
        }
        let bytes: Arc<[u8]> = codec::encode(&wire_of(inv))?.into();
        let mut written = written();
        written.retain(|(w, _)| w.strong_count() > 0 && !is(w));
        written.push((Arc::downgrade(inv), bytes.clone()));
        Ok(bytes)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::wire::codec;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder(#[serde(with = "super::shared")] Arc<Inventory>);

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

    fn round_trip(inv: Inventory) -> Vec<u8> {
        let bytes = codec::encode(&Holder(Arc::new(inv.clone()))).unwrap();
        let back: Holder = codec::decode(&bytes).unwrap();
        assert_eq!(*back.0, inv);
        bytes
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
        let without = round_trip(inv.clone()).len();
        inv.deployments[1].meta = Some("2026-01-01T00:00:00Z".into());
        assert!(round_trip(inv.clone()).len() > without, "meta is written");
        // a date below the millisecond is not rounded
        inv.deployments[0].newest += chrono::Duration::nanoseconds(1_500);
        round_trip(inv.clone());
        inv.live_from = Some(LiveRefs {
            key: "index.html".into(),
            ids: vec![DeploymentId::new("b").unwrap()],
        });
        inv.report_date = Some(Utc.timestamp_millis_opt(1_764_000_000_000).unwrap());
        inv.was_live = vec![WasLive {
            id: DeploymentId::new("a").unwrap(),
            until: Utc.timestamp_millis_opt(1_764_000_000_000).unwrap(),
        }];
        inv.remembered = vec![Remembered {
            id: DeploymentId::new("a").unwrap(),
            newest: Utc.timestamp_millis_opt(1_700_000_000_000).unwrap(),
            oldest: Utc.timestamp_millis_opt(1_690_000_000_000).unwrap(),
        }];
        round_trip(inv);
        round_trip(Inventory::default());
    }

    #[test]
    fn the_scan_is_a_fraction_of_its_plain_json() {
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
        let bytes = round_trip(inv.clone());
        let plain = serde_json::to_string(&inv).unwrap();
        assert!(
            bytes.len() * 6 < plain.len(),
            "{} vs {}",
            bytes.len(),
            plain.len()
        );
    }

    #[test]
    fn a_scan_written_once_is_the_scan_of_each_page_that_shows_it() {
        let inv = |ids: &[&str]| Inventory {
            deployments: ids
                .iter()
                .map(|i| deployment(i, 1_700_000_000_000, 0, None))
                .collect(),
            ..Inventory::default()
        };
        let fresh = |i: &Inventory| codec::encode(&wire_of(i)).unwrap();
        let first = Arc::new(inv(&["a1", "a2"]));
        assert_eq!(&*written::bytes_of(&first).unwrap(), fresh(&first));
        let bytes = codec::encode(&Holder(first.clone())).unwrap();
        assert_eq!(codec::encode(&Holder(first.clone())).unwrap(), bytes);
        let back: Holder = codec::decode(&bytes).unwrap();
        assert_eq!(*back.0, *first);
        // Another scan (a new Arc, maybe where the last one was) is written as itself.
        drop(first);
        for n in 0..20 {
            let other = Arc::new(inv(&["b1", &format!("b{}", n + 2)]));
            assert_eq!(&*written::bytes_of(&other).unwrap(), fresh(&other));
        }
    }

    /// Bytes written as a byte string, as `shared::serialize` writes the scan's.
    struct Raw(Vec<u8>);

    impl Serialize for Raw {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    #[test]
    fn columns_of_different_lengths_are_refused() {
        let mut wire = wire_of(&Inventory {
            deployments: vec![
                deployment("a", 1_700_000_000_000, 0, None),
                deployment("b", 1_700_000_000_000, 0, None),
            ],
            ..Inventory::default()
        });
        wire.deployments.objects.pop();
        let bytes = postcard::to_allocvec(&Raw(codec::encode(&wire).unwrap())).unwrap();
        assert!(codec::decode::<Holder>(&bytes).is_err());
        let err = inventory_of(wire).unwrap_err();
        assert!(err.contains("different lengths"), "{err}");
    }
}
