//! `s3-prune demo BUCKET`: a realistic bucket to try the tool on. Deployments are spread over
//! about six months through `x-amz-meta-deployed-at` (LocalStack cannot backdate LastModified),
//! so use `--date-source meta:deployed-at` to see real ages.

use crate::args::DemoArgs;
use anyhow::Result;
use bucket::Target;
use futures::stream::{self, StreamExt, TryStreamExt};
use std::process::ExitCode;

/// A small deterministic generator: the demo looks the same on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The pages, styles and script of every demo deployment: (key suffix, least size, size spread,
/// content type). Each one's size is the least plus up to the spread.
const PAGES: [(&str, usize, u64, &str); 5] = [
    ("index.html", 2_000, 6_000, "text/html"),
    ("about/index.html", 1_500, 3_000, "text/html"),
    ("css/site.css", 8_000, 20_000, "text/css"),
    ("css/font.css", 1_000, 2_000, "text/css"),
    ("js/app.js", 30_000, 90_000, "application/javascript"),
];

/// A size of at least `least` bytes and less than `least + spread`.
fn size(rng: &mut Rng, least: usize, spread: u64) -> usize {
    least + (rng.next() % spread) as usize
}

/// The objects of one demo deployment: (key suffix, size, content type): the pages, then 3 to 10
/// photos.
fn files(rng: &mut Rng) -> Vec<(String, usize, &'static str)> {
    let mut v: Vec<_> = PAGES
        .iter()
        .map(|&(name, least, spread, ctype)| (name.to_string(), size(rng, least, spread), ctype))
        .collect();
    for i in 0..(3 + rng.next() % 8) {
        v.push((
            format!("img/photo-{i}.png"),
            size(rng, 20_000, 180_000),
            "image/png",
        ));
    }
    v
}

/// One demo deployment: its folder, how many hours old it is, and its objects.
struct Seeded {
    id: String,
    age_hours: i64,
    files: Vec<(String, usize, &'static str)>,
}

/// The first `n` demo deployments, newest first, about 6 months back, a few hours of jitter
/// so dates are distinct. The same on every run: a bucket seeded before is recognised.
fn seeded(n: i64) -> Vec<Seeded> {
    let mut rng = Rng(0x5eed_0fde_910e);
    (0..n)
        .map(|i| {
            let id = format!("{:012x}", rng.next() & 0xffff_ffff_ffff);
            let age_hours = i * (180 * 24) / n.max(1) + (rng.next() % 7) as i64;
            Seeded {
                id,
                age_hours,
                files: files(&mut rng),
            }
        })
        .collect()
}

/// The demo writes only into an empty bucket or one it seeded before: its 30 made-up
/// deployments, dated now, would otherwise rank above a real bucket's and a later apply would
/// delete real deployments in their place.
async fn refuse_unless_demo(bucket: &bucket::Bucket, n: i64) -> Result<()> {
    let ours: std::collections::BTreeSet<String> =
        seeded(n.max(1000)).into_iter().map(|d| d.id).collect();
    let top = bucket.top_level().await?;
    let foreign = top
        .folders
        .iter()
        .filter(|f| !ours.contains(*f) && *f != bucket::RESERVED)
        .map(|f| format!("{f}/"))
        .chain(top.loose.iter().filter(|k| *k != "robots.txt").cloned())
        .next();
    if let Some(foreign) = foreign {
        anyhow::bail!(
            "bucket '{}' already holds '{foreign}', which the demo did not write: the demo seeds \
             only an empty bucket (or one it seeded before), so that made-up deployments never \
             sit among real ones; give it a new bucket name",
            bucket.name()
        );
    }
    Ok(())
}

pub async fn demo(args: DemoArgs) -> Result<ExitCode> {
    let target = Target::new(&args.bucket, "")?;
    let bucket = bucket::connect(&args.endpoint.connect(), &target).await?;
    bucket.create().await?;
    let n = args.deployments.max(1) as i64;
    refuse_unless_demo(&bucket, n).await?;
    let now = chrono::Utc::now();
    let mut puts = Vec::new();
    for d in seeded(n) {
        let deployed_at = (now - chrono::Duration::hours(d.age_hours))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for (name, size, ctype) in d.files {
            puts.push((format!("{}/{name}", d.id), size, ctype, deployed_at.clone()));
        }
    }
    let total = puts.len();
    stream::iter(puts.into_iter().map(|(key, size, ctype, at)| {
        let bucket = &bucket;
        async move {
            bucket
                .put(&key, vec![b'x'; size], ctype, &[("deployed-at", &at)])
                .await
        }
    }))
    .buffer_unordered(args.endpoint.concurrency.into())
    .try_collect::<Vec<()>>()
    .await?;
    bucket
        .put(
            "robots.txt",
            b"User-agent: *\nDisallow:\n".to_vec(),
            "text/plain",
            &[],
        )
        .await?;
    eprintln!(
        "Seeded '{}' with {n} deployments ({total} objects) and a loose robots.txt.\n\
         Try: s3-prune plan {} 5 --min-retain-days 30 --date-source meta:deployed-at{}",
        args.bucket,
        args.bucket,
        if args.endpoint.localstack {
            " --localstack"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
