//! A run's delete markers as its journal holds them ([`RunMarkers`]), and their reading again, a
//! part at a time, as `restore` removes them ([`MarkerReader`]): the markers its answers
//! recorded, then those the end record carries, then the keys of batches never answered; the
//! folders of a run killed before its end are searched last ([`RunMarkers::folders`]).

use super::EndAnswer;
use bucket::{JournalPlace, MadeBetween, MarkerToRemove, RunId, RunPart, S3Error};
use futures::stream::{self, BoxStream, StreamExt};
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};

/// Journal parts read at once (each up to ~5,000 markers, ~0.5 MB).
pub(super) const PARTS_IN_FLIGHT: usize = 8;

/// The delete markers of a run, as its journal holds them: the markers its answers recorded
/// (exact), and for batches sent but never answered on record, their keys ("the current marker,
/// if made since the run began"). Held here are which parts to read again, how many markers
/// each deployment has, and the keys to look up (few: the batches in flight when the run was
/// killed, the keys an answer reports failed).
#[derive(Debug, Clone)]
pub struct RunMarkers {
    pub(super) place: JournalPlace,
    pub(super) run: RunId,
    /// The answer parts, in the order they are read (a batch's first answer is the one taken).
    pub(super) answer_parts: Vec<RunPart>,
    /// The answers the end record carries, taken after those of the parts.
    pub(super) in_end: Vec<EndAnswer>,
    pub(super) not_before: chrono::DateTime<chrono::Utc>,
    /// Markers per deployment, recorded and looked up.
    pub(super) counts: BTreeMap<DeploymentId, u64>,
    /// Its answers recorded at least one marker.
    pub(super) recorded: bool,
    /// Per deployment, the keys to look up, after its recorded markers.
    pub(super) looked_up: BTreeMap<DeploymentId, Vec<MarkerToRemove>>,
    /// The folders of a run killed before its end (it wrote them, not its keys, before its
    /// first delete): what its answers did not record is found there, after the rest — each
    /// key whose current version is a delete marker made between `since` and `until`.
    pub(super) listed: BTreeSet<DeploymentId>,
    /// When S3 wrote the run's start, less a little (`super::folders`).
    pub(super) since: chrono::DateTime<chrono::Utc>,
    /// A little after the next run of the bucket and prefix began, by S3's clock
    /// (`super::folders`): markers made later are not the run's.
    pub(super) until: Option<chrono::DateTime<chrono::Utc>>,
    /// In those folders, per key, the version ids of delete markers later runs recorded as
    /// their own: left, whatever their date.
    pub(super) theirs: BTreeMap<String, Vec<String>>,
}

impl RunMarkers {
    /// The deployments with markers to remove.
    pub fn deployments(&self) -> impl Iterator<Item = &DeploymentId> {
        self.counts.keys()
    }

    /// Whether it has markers of deployment `id`.
    pub fn has(&self, id: &DeploymentId) -> bool {
        self.counts.contains_key(id)
    }

    /// Whether its answers recorded any marker (what makes a run restorable however its
    /// record reads).
    pub fn recorded_any(&self) -> bool {
        self.recorded
    }

    /// The deployments of `only` whose folders are searched for the run's markers (after its
    /// recorded ones are removed), when those markers were made, and the markers there that
    /// are later runs' (per key, their version ids).
    pub fn folders<'a>(&'a self, only: &'a BTreeSet<DeploymentId>) -> FoldersToSearch<'a> {
        FoldersToSearch {
            ids: self.listed.intersection(only).cloned().collect(),
            span: MadeBetween {
                since: self.since,
                until: self.until,
            },
            theirs: &self.theirs,
        }
    }

    /// Takes the window of its folders' search from `fresh`, the run read again once the
    /// restore holds the lease: runs may have begun since it was checked (a prompt waits).
    pub fn search_as(&mut self, fresh: &RunMarkers) {
        self.until = fresh.until;
        self.theirs = fresh.theirs.clone();
    }

    /// Reads the markers of the deployments `only` again, a part at a time, in the order they
    /// were read to check the run: the recorded ones (by answer part, then those of the end
    /// record), then the keys to look up.
    pub fn read<'a>(&'a self, only: &'a BTreeSet<DeploymentId>) -> MarkerReader<'a> {
        MarkerReader {
            markers: self,
            only,
            parts: Some(reads(
                &self.place,
                &self.run,
                &self.answer_parts,
                PARTS_IN_FLIGHT,
            )),
            seen: BTreeSet::new(),
            end_read: false,
            looked_up_read: false,
        }
    }
}

/// [`RunMarkers::folders`]: where the rest of a killed run's markers are searched for.
pub struct FoldersToSearch<'a> {
    pub ids: Vec<DeploymentId>,
    pub span: MadeBetween,
    pub theirs: &'a BTreeMap<String, Vec<String>>,
}

/// A part of the run's journal that could not be read again while restoring.
#[derive(Debug, Clone)]
pub struct Unread {
    /// `s3://BUCKET/…/RUN/PART`.
    pub part: String,
    pub error: String,
}

/// [`RunMarkers::read`]: the markers, a part at a time.
pub struct MarkerReader<'a> {
    markers: &'a RunMarkers,
    only: &'a BTreeSet<DeploymentId>,
    parts: Option<Reads<'a>>,
    /// Batches whose answer was taken (a batch's first answer is the one taken).
    seen: BTreeSet<u64>,
    end_read: bool,
    looked_up_read: bool,
}

impl MarkerReader<'_> {
    /// The markers of the next part (of the deployments asked for), or `None` after the last.
    /// An error names a part that could not be read again: its markers are not restored.
    pub async fn next(&mut self) -> Option<Result<Vec<(DeploymentId, MarkerToRemove)>, Unread>> {
        let not_before = self.markers.not_before;
        if let Some(parts) = self.parts.as_mut() {
            match parts.next().await {
                Some((name, body)) => {
                    let url = format!("{}{name}", self.markers.place.run_url(&self.markers.run));
                    let answers = match body {
                        Ok(body) => crate::answers::answers_of(&name, &body.unwrap_or_default())
                            .unwrap_or(Ok(Vec::new())),
                        Err(e) => Err(e.to_string()),
                    };
                    return Some(
                        answers
                            .map(|a| self.take(a, not_before))
                            .map_err(|error| Unread { part: url, error }),
                    );
                }
                None => self.parts = None,
            }
        }
        if !self.end_read {
            self.end_read = true;
            let answers = self.markers.in_end.clone();
            return Some(Ok(self.take(answers, not_before)));
        }
        if !self.looked_up_read {
            self.looked_up_read = true;
            let keys = self
                .markers
                .looked_up
                .iter()
                .filter(|(id, _)| self.only.contains(*id))
                .flat_map(|(id, ms)| ms.iter().map(move |m| (id.clone(), m.clone())))
                .collect();
            return Some(Ok(keys));
        }
        None
    }

    /// The recorded markers of `answers` not yet taken, of the deployments asked for.
    fn take(
        &mut self,
        answers: Vec<EndAnswer>,
        not_before: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(DeploymentId, MarkerToRemove)> {
        answers
            .into_iter()
            .filter(|a| self.seen.insert(a.n))
            .flat_map(|a| a.outcome.markers)
            .filter(|(id, _)| self.only.contains(id))
            .map(|(id, m)| {
                // Made since the run began, so markers a retried request made beneath it go too.
                let marker = MarkerToRemove {
                    key: m.key,
                    version_id: Some(m.version_id),
                    not_before: Some(not_before),
                    later: Vec::new(),
                };
                (id, marker)
            })
            .collect()
    }
}

/// Parts of a run as they are read: each name with its body (`None`: no such part).
pub(super) type Reads<'a> = BoxStream<'a, (RunPart, Result<Option<Vec<u8>>, S3Error>)>;

/// The bodies of `parts` of `run`, in order, `n` read at once.
pub(super) fn reads<'a>(
    place: &'a JournalPlace,
    run: &'a RunId,
    parts: &'a [RunPart],
    n: usize,
) -> Reads<'a> {
    stream::iter(parts)
        .map(move |p| async move { (p.clone(), place.read(run, p).await) })
        .buffered(n)
        .boxed()
}
