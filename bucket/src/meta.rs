//! `meta:KEY` dates: the user metadata of each deployment's newest object, read with
//! HeadObject. Values are cached per object version (key, ETag, LastModified), so a rescan of
//! an unchanged bucket sends no HEAD at all; an object rewritten in place (even with the same
//! content) has a new LastModified and is read again.

use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One object as a listing saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObjectRef {
    pub(crate) key: String,
    /// `None` when the source has no ETag (an inventory without the column): never cached.
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: DateTime<Utc>,
}

/// (object, metadata key) → the value, or `None` when the object has no such metadata.
pub(crate) type MetaCache = Arc<Mutex<HashMap<(ObjectRef, String), Option<String>>>>;

impl Bucket {
    /// The value of metadata `key` on `object`: from the cache when this version of the object
    /// was read before, else with one HeadObject.
    pub(crate) async fn meta_of(
        &self,
        object: &ObjectRef,
        key: &str,
    ) -> Result<Option<String>, S3Error> {
        let cache_key = (object.clone(), key.to_string());
        if object.etag.is_some() {
            if let Some(hit) = self.meta_cache.lock().unwrap().get(&cache_key) {
                return Ok(hit.clone());
            }
        }
        let out = self
            .client
            .head_object()
            .bucket(&self.name)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| self.key_err(e, "s3:GetObject", &object.key))?;
        let value = out.metadata().and_then(|m| m.get(key).cloned());
        if object.etag.is_some() {
            let mut cache = self.meta_cache.lock().unwrap();
            // One entry per deployment is what a bucket needs; a cache grown far past that
            // holds objects long gone, so it starts again.
            if cache.len() > 1_000_000 {
                cache.clear();
            }
            cache.insert(cache_key, value.clone());
        }
        Ok(value)
    }
}
