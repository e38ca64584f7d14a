//! Listing cursors: one ListObjectsV2 or ListObjectVersions page at a time, so a caller can
//! await between pages (a delete that streams a huge deployment, a scan that stops early).
//! Every page is checked: keys strictly ascend across pages, a page that says "truncated"
//! without saying where to go on is an error, never a silent early end, and so is one holding
//! fewer entries than its `KeyCount`.

use crate::{Bucket, S3Error};
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;

/// The pages of ListObjectsV2 under a prefix (after `start_after`, when given).
pub(crate) struct KeyPages<'a> {
    bucket: &'a Bucket,
    prefix: String,
    delimiter: Option<String>,
    start_after: Option<String>,
    token: Option<String>,
    order: Ascending,
    done: bool,
}

impl<'a> KeyPages<'a> {
    pub(crate) fn new(
        bucket: &'a Bucket,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<String>,
    ) -> Self {
        KeyPages {
            bucket,
            prefix: prefix.to_string(),
            delimiter: delimiter.map(str::to_string),
            order: Ascending::new(prefix, start_after.clone()),
            start_after,
            token: None,
            done: false,
        }
    }

    /// The next page (`max_keys` of it, when given), or `None` after the last one.
    pub(crate) async fn next(
        &mut self,
        max_keys: Option<i32>,
    ) -> Result<Option<ListObjectsV2Output>, S3Error> {
        if self.done {
            return Ok(None);
        }
        let b = self.bucket;
        let out = b
            .client
            .list_objects_v2()
            .bucket(&b.name)
            .prefix(&self.prefix)
            .set_delimiter(self.delimiter.clone())
            .set_start_after(self.start_after.take())
            .set_continuation_token(self.token.take())
            .set_max_keys(max_keys)
            .send()
            .await
            .map_err(|e| b.err(e, "s3:ListBucket"))?;
        whole_page(&out, &self.prefix)?;
        dated(
            out.contents().iter().map(|o| (o.key(), o.last_modified())),
            "s3:ListBucket",
        )?;
        // A page that repeats or goes back would loop or count twice: stop before using it.
        self.order.page(
            out.contents().iter().filter_map(|o| o.key()),
            out.common_prefixes().iter().filter_map(|p| p.prefix()),
        )?;
        match next_token(
            out.is_truncated(),
            out.next_continuation_token(),
            &self.prefix,
        )? {
            Some(t) => self.token = Some(t),
            None => self.done = true,
        }
        Ok(Some(out))
    }
}

/// The pages of ListObjectVersions (versions and delete markers) under a prefix.
pub(crate) struct VersionPages<'a> {
    bucket: &'a Bucket,
    prefix: String,
    key_marker: Option<String>,
    version_marker: Option<String>,
    done: bool,
}

impl<'a> VersionPages<'a> {
    pub(crate) fn new(bucket: &'a Bucket, prefix: &str) -> Self {
        Self::after(bucket, prefix, None)
    }

    /// The pages of the keys after `key_marker` (every version of that key excluded).
    pub(crate) fn after(bucket: &'a Bucket, prefix: &str, key_marker: Option<String>) -> Self {
        VersionPages {
            bucket,
            prefix: prefix.to_string(),
            key_marker,
            version_marker: None,
            done: false,
        }
    }

    /// The last page has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The next page, or `None` after the last one.
    pub(crate) async fn next(&mut self) -> Result<Option<ListObjectVersionsOutput>, S3Error> {
        if self.done {
            return Ok(None);
        }
        let b = self.bucket;
        let (sent_key, sent_version) = (self.key_marker.take(), self.version_marker.take());
        let out = b
            .client
            .list_object_versions()
            .bucket(&b.name)
            .prefix(&self.prefix)
            .set_key_marker(sent_key.clone())
            .set_version_id_marker(sent_version.clone())
            .send()
            .await
            .map_err(|e| b.err(e, "s3:ListBucketVersions"))?;
        let versions = out.versions().iter().map(|v| (v.key(), v.last_modified()));
        let markers = (out.delete_markers().iter()).map(|m| (m.key(), m.last_modified()));
        dated(versions.chain(markers), "s3:ListBucketVersions")?;
        if !out.is_truncated().unwrap_or(false) {
            self.done = true;
        } else {
            match out.next_key_marker() {
                Some(k) if !k.is_empty() => {
                    let version = out.next_version_id_marker().map(str::to_string);
                    // A page that does not move on (the same markers again, or a key before
                    // the last) would loop for ever: stop before using it.
                    let stuck = sent_key
                        .as_deref()
                        .is_some_and(|sent| k < sent || (k == sent && version == sent_version));
                    if stuck {
                        return Err(S3Error::ListingNotAscending {
                            prefix: self.prefix.clone(),
                            key: k.to_string(),
                            after: sent_key.unwrap_or_default(),
                        });
                    }
                    self.key_marker = Some(k.to_string());
                    self.version_marker = version;
                }
                _ => {
                    return Err(S3Error::ListingCut {
                        prefix: self.prefix.clone(),
                    })
                }
            }
        }
        Ok(Some(out))
    }
}

impl Bucket {
    /// Runs `f` on every ListObjectsV2 page under `prefix` (after `start_after`, when given)
    /// until it breaks; `f` may ask for a smaller next page (`Continue(Some(n))`). Pages come
    /// one after another (S3's continuation tokens are sequential).
    pub(crate) async fn each_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<String>,
        mut f: impl FnMut(&ListObjectsV2Output) -> std::ops::ControlFlow<(), Option<i32>>,
    ) -> Result<(), S3Error> {
        let mut pages = KeyPages::new(self, prefix, delimiter, start_after);
        let mut max_keys = None;
        while let Some(out) = pages.next(max_keys.take()).await? {
            match f(&out) {
                std::ops::ControlFlow::Break(()) => return Ok(()),
                std::ops::ControlFlow::Continue(next) => max_keys = next,
            }
        }
        Ok(())
    }

    /// What lies directly under the bucket's prefix: its folders and its loose keys.
    pub async fn top_level(&self) -> Result<TopLevel, S3Error> {
        self.directly_under(self.prefix()).await
    }

    /// The folders and loose keys directly under `prefix` (both without it, folders without
    /// their trailing `/`), from one delimiter listing.
    pub(crate) async fn directly_under(&self, prefix: &str) -> Result<TopLevel, S3Error> {
        let mut top = TopLevel::default();
        let name = |p: &str| p.strip_prefix(prefix).unwrap_or(p).to_string();
        self.each_page(prefix, Some("/"), None, |out| {
            for p in out.common_prefixes().iter().filter_map(|p| p.prefix()) {
                top.folders.push(name(p).trim_end_matches('/').to_string());
            }
            top.loose
                .extend(out.contents().iter().filter_map(|o| o.key()).map(name));
            std::ops::ControlFlow::Continue(None)
        })
        .await?;
        Ok(top)
    }

    /// Each page of ListObjectVersions under `prefix`, in order.
    pub(crate) async fn each_version_page(
        &self,
        prefix: &str,
        mut f: impl FnMut(&ListObjectVersionsOutput),
    ) -> Result<(), S3Error> {
        let mut pages = VersionPages::new(self, prefix);
        while let Some(out) = pages.next().await? {
            f(&out);
        }
        Ok(())
    }
}

/// S3 lists in strictly ascending key order, across pages too; anything else is refused.
/// Keys and common prefixes are each checked in order; a page must start after the last one.
pub(crate) struct Ascending {
    prefix: String,
    last: Option<String>,
}

impl Ascending {
    pub(crate) fn new(prefix: &str, start_after: Option<String>) -> Self {
        Ascending {
            prefix: prefix.to_string(),
            last: start_after,
        }
    }

    pub(crate) fn page<'a>(
        &mut self,
        keys: impl Iterator<Item = &'a str>,
        prefixes: impl Iterator<Item = &'a str>,
    ) -> Result<(), S3Error> {
        let mut page_max: Option<&str> = None;
        for list in [keys.collect::<Vec<_>>(), prefixes.collect::<Vec<_>>()] {
            let mut prev = self.last.as_deref();
            for k in list {
                if let Some(p) = prev.filter(|p| k <= *p) {
                    return Err(S3Error::ListingNotAscending {
                        prefix: self.prefix.clone(),
                        key: k.to_string(),
                        after: p.to_string(),
                    });
                }
                prev = Some(k);
                page_max = page_max.max(Some(k));
            }
        }
        if let Some(m) = page_max {
            self.last = Some(m.to_string());
        }
        Ok(())
    }
}

/// A page that holds fewer entries than its `KeyCount` says lost some (an answer cut short
/// in transit that still parses): planning from it would see a deployment smaller or older
/// than it is, so it is an error. Not checked when the server sends no `KeyCount`. S3 counts
/// the common prefixes of a delimiter listing too; a page holding more than its count (a
/// server that counts only the keys, or under-reports: OpenStack Swift's and old SeaweedFS's
/// `KeyCount` 0) is no sign of a cut and is accepted.
pub(crate) fn whole_page(out: &ListObjectsV2Output, prefix: &str) -> Result<(), S3Error> {
    let Some(count) = out.key_count() else {
        return Ok(());
    };
    let (keys, prefixes) = (out.contents().len(), out.common_prefixes().len());
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count <= keys + prefixes {
        return Ok(());
    }
    Err(S3Error::Service {
        action: "s3:ListBucket".into(),
        code: "ListingIncomplete".into(),
        message: format!(
            "a page of the listing of '{prefix}' says it holds {count} entries but holds {}: \
             its answer lost some on the way. Nothing deleted; run again",
            keys + prefixes
        ),
    })
}

/// Every entry of a page carries its LastModified, or the page is refused: deployments are
/// dated and checked for newer files by it, and an entry without one was read as 1970 — the
/// oldest possible, first to be deleted, never newer than a plan. S3 always sends it; a
/// server that does not cannot be pruned safely.
fn dated<'a>(
    entries: impl Iterator<Item = (Option<&'a str>, Option<&'a aws_smithy_types::DateTime>)>,
    action: &str,
) -> Result<(), S3Error> {
    for (key, modified) in entries {
        if modified.is_none() {
            return Err(S3Error::Service {
                action: action.into(),
                code: "ListingUndated".into(),
                message: format!(
                    "the server listed '{}' without its LastModified: s3-prune dates \
                     deployments and checks them for newer files by it, and deletes nothing \
                     on a guess. Nothing deleted; this server cannot be pruned by s3-prune",
                    key.unwrap_or_default()
                ),
            });
        }
    }
    Ok(())
}

/// The continuation token, or an error when S3 says "truncated" without one: a listing that
/// silently stops early would make a plan over a partial view.
pub(crate) fn next_token(
    truncated: Option<bool>,
    token: Option<&str>,
    prefix: &str,
) -> Result<Option<String>, S3Error> {
    match (truncated.unwrap_or(false), token) {
        (false, _) => Ok(None),
        (true, Some(t)) if !t.is_empty() => Ok(Some(t.to_string())),
        (true, _) => Err(S3Error::ListingCut {
            prefix: prefix.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{dated, next_token, whole_page, Ascending};
    use crate::S3Error;

    #[test]
    fn an_entry_listed_without_its_last_modified_is_refused_not_dated_1970() {
        let t = aws_smithy_types::DateTime::from_secs(1_700_000_000);
        assert!(dated([(Some("p/a"), Some(&t))].into_iter(), "s3:ListBucket").is_ok());
        let said = dated(
            [(Some("p/a"), Some(&t)), (Some("p/b"), None)].into_iter(),
            "s3:ListBucket",
        )
        .unwrap_err()
        .to_string();
        assert!(
            said.contains("listed 'p/b' without its LastModified"),
            "{said}"
        );
        assert!(said.contains("Nothing deleted"), "{said}");
    }

    #[test]
    fn a_listing_that_repeats_or_goes_back_is_an_error() {
        let mut a = Ascending::new("p/", None);
        a.page(["p/a/1", "p/a/2"].into_iter(), [].into_iter())
            .unwrap();
        a.page(["p/b/1"].into_iter(), ["p/c/"].into_iter()).unwrap();
        // the same page again
        assert!(matches!(
            a.page(["p/b/1"].into_iter(), [].into_iter()),
            Err(S3Error::ListingNotAscending { .. })
        ));
        // out of order inside a page
        let mut a = Ascending::new("p/", None);
        assert!(a.page(["p/b", "p/a"].into_iter(), [].into_iter()).is_err());
        // a range listing starts after its start key
        let mut a = Ascending::new("p/", Some("p/m".into()));
        assert!(a.page(["p/a"].into_iter(), [].into_iter()).is_err());
        assert!(a.page(["p/n"].into_iter(), [].into_iter()).is_ok());
    }

    #[test]
    fn a_page_with_fewer_entries_than_its_key_count_is_an_error() {
        use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
        use aws_sdk_s3::types::{CommonPrefix, Object};
        let page = |count: Option<i32>, keys: usize, prefixes: usize| {
            ListObjectsV2Output::builder()
                .set_key_count(count)
                .set_contents(Some(
                    (0..keys)
                        .map(|i| Object::builder().key(format!("p/{i}")).build())
                        .collect(),
                ))
                .set_common_prefixes(Some(
                    (0..prefixes)
                        .map(|i| CommonPrefix::builder().prefix(format!("p/{i}/")).build())
                        .collect(),
                ))
                .build()
        };
        assert!(whole_page(&page(Some(3), 3, 0), "p/").is_ok());
        assert!(whole_page(&page(Some(5), 3, 2), "p/").is_ok());
        assert!(whole_page(&page(Some(3), 3, 2), "p/").is_ok(), "keys alone");
        assert!(whole_page(&page(None, 1, 0), "p/").is_ok(), "no KeyCount");
        let cut = whole_page(&page(Some(4), 2, 0), "p/").unwrap_err();
        assert!(
            cut.to_string().contains("holds 4 entries but holds 2"),
            "{cut}"
        );
        assert!(whole_page(&page(Some(5), 1, 2), "p/").is_err());
        // More entries than counted is no cut: servers that under-report (KeyCount 0).
        assert!(whole_page(&page(Some(0), 3, 0), "p/").is_ok(), "KeyCount 0");
        assert!(whole_page(&page(Some(2), 3, 2), "p/").is_ok());
    }

    #[test]
    fn a_listing_cut_short_is_an_error_not_the_end() {
        assert_eq!(next_token(Some(false), None, "p/").unwrap(), None);
        assert_eq!(next_token(None, None, "p/").unwrap(), None);
        assert_eq!(
            next_token(Some(true), Some("t"), "p/").unwrap(),
            Some("t".into())
        );
        assert!(matches!(
            next_token(Some(true), None, "p/"),
            Err(S3Error::ListingCut { .. })
        ));
        assert!(matches!(
            next_token(Some(true), Some(""), "p/"),
            Err(S3Error::ListingCut { .. })
        ));
    }
}

/// The folders and loose keys directly under a bucket's prefix ([`Bucket::top_level`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TopLevel {
    pub folders: Vec<String>,
    pub loose: Vec<String>,
}
