//! The buckets `s3-prune serve` offers, as given on its command line (`--bucket NAME[/PREFIX]`).

use crate::wire::BucketChoice;
use bucket::Target;

/// Parses `NAME` or `NAME/PREFIX`.
pub fn parse_bucket_arg(arg: &str) -> Result<BucketChoice, String> {
    let (name, prefix) = arg.split_once('/').unwrap_or((arg, ""));
    let target = Target::new(name, prefix).map_err(|e| e.to_string())?;
    let key = if target.prefix.is_empty() {
        target.bucket.clone()
    } else {
        format!("{}/{}", target.bucket, target.prefix)
    };
    Ok(BucketChoice {
        key,
        name: target.bucket,
        prefix: target.prefix,
    })
}

/// Refuses two choices of one bucket where one prefix holds the other: the outer one would see
/// the inner folder as one deletable deployment (pins file and all).
pub fn check_overlaps(choices: &[BucketChoice]) -> Result<(), String> {
    for (i, a) in choices.iter().enumerate() {
        for b in &choices[i + 1..] {
            if a.name == b.name
                && (a.prefix.starts_with(&b.prefix) || b.prefix.starts_with(&a.prefix))
            {
                return Err(format!(
                    "--bucket {} and --bucket {} overlap: the deployments of one would be inside a \
                     deployment of the other. Offer each folder of a bucket once, without nesting.",
                    a.key, b.key
                ));
            }
        }
    }
    Ok(())
}
