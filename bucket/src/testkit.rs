//! Test support: the one helper every integration test starts from (a fresh LocalStack bucket).

use crate::{connect, Bucket, Connect, Target};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A LocalStack bucket nobody has used: LocalStack has no reset, so every test gets its own.
/// Panics with a hint when LocalStack is not running.
pub async fn fresh_bucket(hint: &str) -> Bucket {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let hint: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(30)
        .collect::<String>()
        .to_ascii_lowercase();
    let name = format!("t-{hint}-{}-{n}-{nanos:x}", std::process::id());
    let b = connect(&localstack(), &Target::new(&name, "").unwrap())
        .await
        .unwrap();
    b.create().await.unwrap_or_else(|e| panic!("creating test bucket {name} failed: {e}. Is LocalStack running (make localstack-start)?"));
    b
}

pub fn localstack() -> Connect {
    Connect {
        localstack: true,
        ..Connect::default()
    }
}

/// The same bucket seen under another prefix.
pub async fn with_prefix(b: &Bucket, prefix: &str) -> Bucket {
    connect(&localstack(), &Target::new(b.name(), prefix).unwrap())
        .await
        .unwrap()
}

/// Puts many small objects, 32 at a time.
pub async fn put_many(b: &Bucket, keys: impl IntoIterator<Item = String>, meta: &[(&str, &str)]) {
    use futures::stream::{self, StreamExt};
    let results: Vec<_> = stream::iter(
        keys.into_iter()
            .map(|k| async move { b.put(&k, k.as_bytes().to_vec(), "text/plain", meta).await }),
    )
    .buffer_unordered(32)
    .collect()
    .await;
    for r in results {
        r.unwrap();
    }
}

/// Deletes keys behind s3-prune's back (another user, or S3 finishing a lifecycle rule).
pub async fn remove_keys(b: &Bucket, keys: impl IntoIterator<Item = String>) {
    for k in keys {
        b.client()
            .delete_object()
            .bucket(b.name())
            .key(k)
            .send()
            .await
            .unwrap();
    }
}

/// Removes every delete marker under `prefix` (as a restore does): the objects they hid are
/// current again.
pub async fn remove_markers(b: &Bucket, prefix: &str) {
    remove_versions_under(b, prefix, true).await;
}

/// Removes every version under `prefix` that is not a delete marker (as a noncurrent-version
/// lifecycle rule does once they expire): the markers stay, hiding nothing.
pub async fn remove_object_versions(b: &Bucket, prefix: &str) {
    remove_versions_under(b, prefix, false).await;
}

/// The delete markers (`markers`) or the other versions under `prefix`, removed (one page).
async fn remove_versions_under(b: &Bucket, prefix: &str, markers: bool) {
    let out = b
        .client()
        .list_object_versions()
        .bucket(b.name())
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let found: Vec<(&str, &str)> = if markers {
        let m = out.delete_markers().iter();
        m.filter_map(|m| Some((m.key()?, m.version_id()?)))
            .collect()
    } else {
        let v = out.versions().iter();
        v.filter_map(|v| Some((v.key()?, v.version_id()?)))
            .collect()
    };
    for (key, version_id) in found {
        b.client()
            .delete_object()
            .bucket(b.name())
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .unwrap();
    }
}

/// s3-prune's own bookkeeping, which every apply and restore now writes: the run journal
/// (`<prefix>.s3-prune/runs/…`), the lease, the last successful run of each front end, what
/// scans saw the live pointer name, and the pins (a restore pins what it brought back).
/// Tests look at what the deployments hold.
pub fn is_bookkeeping(key: &str) -> bool {
    key.contains(".s3-prune/runs/")
        || key.ends_with(".s3-prune/lease")
        || key.contains(".s3-prune/last-success-")
        || key.ends_with(".s3-prune/live-seen.json")
        || key.ends_with(".s3-prune/dates.json")
        || key.ends_with(".s3-prune/pins.json")
}

/// The current keys under `prefix`, as listed (one page: up to 1,000), bookkeeping included.
pub async fn keys_under(b: &Bucket, prefix: &str) -> Vec<String> {
    let out = b
        .client()
        .list_objects_v2()
        .bucket(b.name())
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// Every current key in the bucket, sorted (s3-prune's journal and lease left out).
pub async fn all_keys(b: &Bucket) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let out = b
            .client()
            .list_objects_v2()
            .bucket(b.name())
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string))
                .filter(|k| !is_bookkeeping(k)),
        );
        match out.next_continuation_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    keys.sort();
    keys
}

/// Every (key, is_delete_marker) version in the bucket (s3-prune's journal and lease left out).
pub async fn all_versions(b: &Bucket) -> Vec<(String, bool)> {
    let mut v = Vec::new();
    let (mut km, mut vm) = (None, None);
    loop {
        let out = b
            .client()
            .list_object_versions()
            .bucket(b.name())
            .set_key_marker(km)
            .set_version_id_marker(vm)
            .send()
            .await
            .unwrap();
        v.extend(
            out.versions()
                .iter()
                .filter_map(|x| x.key().map(|k| (k.to_string(), false))),
        );
        v.extend(
            out.delete_markers()
                .iter()
                .filter_map(|x| x.key().map(|k| (k.to_string(), true))),
        );
        if !out.is_truncated().unwrap_or(false) {
            break;
        }
        km = out.next_key_marker().map(str::to_string);
        vm = out.next_version_id_marker().map(str::to_string);
    }
    v.retain(|(k, _)| !is_bookkeeping(k));
    v.sort();
    v
}

/// The current content of `key`, or None when it has none (absent or behind a delete marker).
pub async fn object_body(b: &Bucket, key: &str) -> Option<Vec<u8>> {
    let out = b
        .client()
        .get_object()
        .bucket(b.name())
        .key(key)
        .send()
        .await
        .ok()?;
    Some(out.body.collect().await.ok()?.into_bytes().to_vec())
}

mod inventory;
pub use inventory::{
    csv_inventory, parquet_inventory, write_inventory, write_parquet_inventory, InventoryObject,
    Report, INVENTORY_SCHEMA, PARQUET_INVENTORY_SCHEMA,
};

/// Suspends the bucket's versioning (after it was enabled): deletes then overwrite the "null"
/// version with a delete marker, and leave nothing a marker's removal would bring back.
pub async fn suspend_versioning(b: &Bucket) {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    b.client()
        .put_bucket_versioning()
        .bucket(b.name())
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .expect("suspending versioning");
}
