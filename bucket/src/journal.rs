//! The run journal's objects: `<prefix>.s3-prune/runs/<run-id>/<part>` — or, with a journal
//! kept elsewhere (`--journal s3://AUDIT-BUCKET/PATH/`), `PATH/<bucket>/<prefix>runs/…` in that
//! bucket — written once each (`If-None-Match: *`: nothing rewrites a part, another run's or its
//! own) and read back by every front end. What the parts hold is `prune`'s business; here they
//! are named bytes. Approval requests (the dashboard's two-person rule) are kept the same way
//! beside the runs, under `approvals/<id>/`.

use crate::state::RESERVED;
use crate::{Bucket, S3Error};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use std::hash::{BuildHasher, Hasher};

/// A run's id: its start time (UTC, to the millisecond) and 8 random hex digits, so ids sort
/// by time and two hosts starting in the same millisecond still differ.
/// `20261204T013000123Z-9f3a61c2`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(String);

impl RunId {
    pub fn new(at: DateTime<Utc>) -> RunId {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(at.timestamp_nanos_opt().unwrap_or_default() as u128);
        h.write_u32(std::process::id());
        let random = h.finish() as u32;
        RunId(format!("{}-{random:08x}", at.format("%Y%m%dT%H%M%S%3fZ")))
    }

    /// Only ids of this shape name a run (anything else under `runs/` is foreign).
    pub fn parse(s: &str) -> Option<RunId> {
        let (time, random) = s.split_once('-')?;
        let ok = time.len() == 19
            && time.ends_with('Z')
            && time.as_bytes()[8] == b'T'
            && time
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 8 || i == 18 || b.is_ascii_digit())
            && random.len() == 8
            && random.bytes().all(|b| b.is_ascii_hexdigit())
            // a real time (no month 13): `started` reads it
            && chrono::NaiveDateTime::parse_from_str(&time[..15], "%Y%m%dT%H%M%S").is_ok();
        ok.then(|| RunId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the run began at or before `at` (to the millisecond its id holds).
    pub fn began_by(&self, at: DateTime<Utc>) -> bool {
        self.0[..19] <= *at.format("%Y%m%dT%H%M%S%3fZ").to_string()
    }

    /// When the run began, to the millisecond.
    pub fn started(&self) -> DateTime<Utc> {
        let second = chrono::NaiveDateTime::parse_from_str(&self.0[..15], "%Y%m%dT%H%M%S")
            .expect("a parsed run id holds a time");
        let ms: i64 = self.0[15..18].parse().expect("three digits");
        (second + chrono::TimeDelta::milliseconds(ms)).and_utc()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A part's name within a run (`start.json`, `intents-000001-000001.json`, …).
pub type RunPart = String;

/// Where to keep the run journal instead of beside the deployments: `s3://BUCKET/PATH/`, e.g.
/// an audit bucket with S3 Object Lock so that nobody can rewrite history. The runs of
/// `<bucket>/<prefix>` go under `PATH/<bucket>/<prefix>runs/` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLocation {
    pub bucket: String,
    /// Empty, or ending in `/`.
    pub path: String,
}

/// `s3://BUCKET/PATH`, as it is given.
impl std::fmt::Display for JournalLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.path)
    }
}

impl std::str::FromStr for JournalLocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let help = "give s3://BUCKET/ or s3://BUCKET/PATH/ (an audit bucket, for example)";
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{s}' is not an s3:// address: {help}"))?;
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        crate::validate_bucket_name(bucket).map_err(|e| format!("'{s}': {e}"))?;
        Ok(JournalLocation {
            bucket: bucket.to_string(),
            path: crate::normalize_prefix(path),
        })
    }
}

/// Where runs are journalled: a bucket and the folder that holds `runs/`.
#[derive(Debug, Clone)]
pub struct JournalPlace {
    bucket: Bucket,
    /// Ends in `/`: `<prefix>.s3-prune/runs/`.
    root: String,
}

/// S3's answer to a PutObject, as the SDK gives it.
type PutAnswer = Result<
    aws_sdk_s3::operation::put_object::PutObjectOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::put_object::PutObjectError,
        aws_sdk_s3::config::http::HttpResponse,
    >,
>;

impl JournalPlace {
    /// Where `bucket`'s runs are: beside the deployments (`<prefix>.s3-prune/runs/`), or
    /// where it was connected with a journal location.
    pub fn of(bucket: &Bucket) -> JournalPlace {
        match &bucket.journal {
            Some(place) => (**place).clone(),
            None => JournalPlace {
                bucket: bucket.clone(),
                root: format!("{}{RESERVED}/runs/", bucket.prefix()),
            },
        }
    }

    /// The runs of `of` kept in `journal` (a bucket without prefix) at `at`.
    pub(crate) fn elsewhere(journal: Bucket, at: &JournalLocation, of: &Bucket) -> JournalPlace {
        JournalPlace {
            bucket: journal,
            root: format!("{}{}/{}runs/", at.path, of.name(), of.prefix()),
        }
    }

    /// The approval requests kept beside these runs: `…/approvals/` instead of `…/runs/`.
    pub fn approvals(&self) -> JournalPlace {
        let parent = self.root.strip_suffix("runs/").unwrap_or(&self.root);
        JournalPlace {
            bucket: self.bucket.clone(),
            root: format!("{parent}approvals/"),
        }
    }

    /// `s3://BUCKET/ROOT/` for messages.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket.name(), self.root)
    }

    /// `s3://BUCKET/ROOT/RUN/`: where one run's parts are, for answers and messages.
    pub fn run_url(&self, run: &RunId) -> String {
        format!("{}{run}/", self.url())
    }

    fn key(&self, run: &RunId, part: &str) -> String {
        format!("{}{run}/{part}", self.root)
    }

    /// Writes a part once: an existing part is never replaced (`If-None-Match: *`). A part
    /// already there with these very bytes is this write's own (S3 wrote it, its answer was
    /// lost, and the SDK's retry was refused): on record, not a failure.
    pub async fn write(&self, run: &RunId, part: &str, body: Vec<u8>) -> Result<(), S3Error> {
        match self.put_once(run, part, body.clone()).await {
            Ok(_) => Ok(()),
            Err(e) if crate::state::condition_refused(&e) => {
                let refused = self.bucket.err(e, "s3:PutObject");
                match self.read(run, part).await {
                    Ok(Some(there)) if there == body => Ok(()),
                    _ => Err(refused),
                }
            }
            Err(e) => Err(self.bucket.err(e, "s3:PutObject")),
        }
    }

    /// An `If-None-Match: *` PUT of a part, sent again (up to 3 times, 0.2 s apart and more)
    /// while S3 answers 409 ConditionalRequestConflict: another write of the key was under way
    /// — this one's own first attempt, whose answer was lost — and had not landed yet.
    async fn put_once(&self, run: &RunId, part: &str, body: Vec<u8>) -> PutAnswer {
        let mut pause = std::time::Duration::from_millis(200);
        for _ in 0..3 {
            match self.put_part(run, part, body.clone()).await {
                Err(e) if crate::state::write_conflict(&e) => {
                    tracing::debug!(
                        part,
                        "S3 answered 409 ConditionalRequestConflict: sent again"
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                answer => return answer,
            }
        }
        self.put_part(run, part, body).await
    }

    /// One `If-None-Match: *` PUT of a part.
    async fn put_part(&self, run: &RunId, part: &str, body: Vec<u8>) -> PutAnswer {
        let b = &self.bucket;
        b.client
            .put_object()
            .bucket(&b.name)
            .key(self.key(run, part))
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await
    }

    /// Writes a part unless it exists: `false` when another writer was first (a decision on an
    /// approval request is taken once, whoever sends it first).
    pub async fn write_first(
        &self,
        run: &RunId,
        part: &str,
        body: Vec<u8>,
    ) -> Result<bool, S3Error> {
        match self.put_once(run, part, body.clone()).await {
            Ok(_) => Ok(true),
            // Ours when it holds these very bytes (the SDK sent it again after a lost answer).
            Err(e) if crate::state::condition_refused(&e) => {
                Ok(self.read(run, part).await? == Some(body))
            }
            Err(e) => Err(self.bucket.err(e, "s3:PutObject")),
        }
    }

    /// A part's body; `None` when the run has no such part.
    pub async fn read(&self, run: &RunId, part: &str) -> Result<Option<Vec<u8>>, S3Error> {
        self.bucket.get_body(&self.key(run, part)).await
    }

    /// Several parts at once (16 requests in flight), in the order asked.
    pub async fn read_many(
        &self,
        run: &RunId,
        parts: &[RunPart],
    ) -> Vec<(RunPart, Result<Option<Vec<u8>>, S3Error>)> {
        stream::iter(parts.iter().cloned())
            .map(|p| async move {
                let body = self.read(run, &p).await;
                (p, body)
            })
            .buffered(16)
            .collect()
            .await
    }

    /// Every run on record, oldest first, and the names under `runs/` that are not run ids: a
    /// folder of another name, or an object lying directly under `runs/` (named as it is).
    pub async fn runs(&self) -> Result<(Vec<RunId>, Vec<String>), S3Error> {
        let under = self.bucket.directly_under(&self.root).await?;
        let mut runs = Vec::new();
        let mut foreign = Vec::new();
        for f in under.folders {
            match RunId::parse(&f) {
                Some(id) => runs.push(id),
                None => foreign.push(f),
            }
        }
        foreign.extend(under.loose);
        runs.sort();
        Ok((runs, foreign))
    }

    /// The parts of one run, by name.
    pub async fn parts(&self, run: &RunId) -> Result<Vec<RunPart>, S3Error> {
        Ok(self
            .parts_dated(run)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    /// [`parts`](Self::parts), each with the time S3 wrote it (by S3's clock, not the
    /// writer's: what a run's delete markers are dated by too).
    pub async fn parts_dated(&self, run: &RunId) -> Result<Vec<(RunPart, DateTime<Utc>)>, S3Error> {
        let prefix = format!("{}{run}/", self.root);
        let mut parts = Vec::new();
        self.bucket
            .each_page(&prefix, None, None, |out| {
                for o in out.contents() {
                    if let Some(name) = o.key().and_then(|k| k.strip_prefix(prefix.as_str())) {
                        let at = crate::server_clock::to_chrono(o.last_modified());
                        parts.push((name.to_string(), at));
                    }
                }
                std::ops::ControlFlow::Continue(None)
            })
            .await?;
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_began_by_a_time_to_the_millisecond_its_id_holds() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T01:30:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = RunId::new(at);
        assert!(id.began_by(at));
        assert!(
            id.began_by(at - chrono::TimeDelta::microseconds(400)),
            "same millisecond"
        );
        assert!(!id.began_by(at - chrono::TimeDelta::milliseconds(1)));
        assert!(id.began_by(at + chrono::TimeDelta::days(400)));
        assert_eq!(id.started(), at - chrono::TimeDelta::microseconds(456));
    }

    /// A folder under `runs/` named like a run but holding no real time (month 13, hour 25)
    /// is foreign, not a run whose start cannot be read (History read it and panicked).
    #[test]
    fn only_a_real_time_names_a_run() {
        for foreign in [
            "20261332T000000000Z-00000000",
            "20261231T250000000Z-00000000",
            "20260230T000000000Z-00000000",
        ] {
            assert_eq!(RunId::parse(foreign), None, "{foreign}");
        }
        let id = RunId::parse("20261231T235959999Z-0a1b2c3d").unwrap();
        assert_eq!(id.started().to_rfc3339(), "2026-12-31T23:59:59.999+00:00");
    }
}
