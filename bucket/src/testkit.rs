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
        endpoint_url: None,
        max_attempts: None,
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

/// Every current key in the bucket, sorted.
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
                .filter_map(|o| o.key().map(str::to_string)),
        );
        match out.next_continuation_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    keys.sort();
    keys
}

/// Every (key, is_delete_marker) version in the bucket.
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

/// Writes an S3 Inventory report of `b` (AWS's documented layout: a gzip CSV data file and a
/// manifest.json naming it with its MD5) into `reports`, from a listing of `b` plus one old
/// version and one delete marker row (not objects); returns the manifest's s3:// address.
pub async fn write_inventory(
    b: &Bucket,
    reports: &Bucket,
    schema: &str,
    md5_override: Option<&str>,
    write_data: bool,
    run: &str,
) -> String {
    use md5::{Digest, Md5};
    use std::io::Write;
    let mut csv = String::new();
    let out = b
        .client()
        .list_objects_v2()
        .bucket(b.name())
        .send()
        .await
        .unwrap();
    for o in out.contents() {
        let at = o
            .last_modified()
            .unwrap()
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap();
        let key = o.key().unwrap().replace(' ', "+");
        csv.push_str(&format!(
            "\"{}\",\"{key}\",\"v1\",\"true\",\"false\",\"{}\",\"{at}\",\"etag\"\n",
            b.name(),
            o.size().unwrap()
        ));
    }
    csv.push_str(&format!(
        "\"{}\",\"zzz/old.html\",\"v0\",\"false\",\"false\",\"99\",\"2020-01-01T00:00:00.000Z\",\"e\"\n",
        b.name()
    ));
    csv.push_str(&format!(
        "\"{}\",\"zzz/old.html\",\"v1\",\"true\",\"true\",\"\",\"2020-01-02T00:00:00.000Z\",\"\"\n",
        b.name()
    ));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    let data = gz.finish().unwrap();
    let md5: String = Md5::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let data_key = format!("inv/{}/{run}/files/part-1.csv.gz", b.name());
    if write_data {
        reports
            .put(&data_key, data.clone(), "application/gzip", &[])
            .await
            .unwrap();
    }
    let manifest = serde_json::json!({
        "sourceBucket": b.name(),
        "destinationBucket": format!("arn:aws:s3:::{}", reports.name()),
        "version": "2016-11-30",
        "creationTimestamp": "1795651200000",
        "fileFormat": "CSV",
        "fileSchema": schema,
        "files": [{ "key": data_key, "size": data.len(), "MD5checksum": md5_override.unwrap_or(&md5) }],
    });
    let key = format!("inv/{}/{run}/manifest.json", b.name());
    reports
        .put(
            &key,
            manifest.to_string().into_bytes(),
            "application/json",
            &[],
        )
        .await
        .unwrap();
    format!("s3://{}/{key}", reports.name())
}

/// The columns of the reports [`write_inventory`] writes.
pub const INVENTORY_SCHEMA: &str =
    "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag";
