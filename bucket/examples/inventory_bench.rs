//! How fast a plan reads an S3 Inventory report, and in how much memory (issue 14's 10⁹-object
//! estimate in the README starts from this rate). Run by `bench/inventory.sh` against LocalStack:
//!
//! `inventory_bench write ROWS FILES`: writes a report of ROWS objects in 1,000 deployments as
//! FILES data files, once as gzip CSV and once as Parquet (SNAPPY), with a manifest each; prints
//! the two manifest addresses and the data's size.
//! `inventory_bench read s3://…/manifest.json`: folds that report as `plan --inventory` does,
//! then prints wall seconds, rows per second and this process's peak RSS.

use bucket::testkit::{
    csv_inventory, fresh_bucket, localstack, parquet_inventory, InventoryObject, Report,
};
use bucket::{connect, ScanOptions, Target};
use parquet::basic::Compression;
use std::time::Instant;

const DEPLOYMENTS: u64 = 1_000;

fn rows(from: u64, to: u64) -> Vec<InventoryObject> {
    (from..to)
        .map(|i| InventoryObject {
            key: format!(
                "dep{:05}/assets/file{:07}.css",
                i % DEPLOYMENTS,
                i / DEPLOYMENTS
            ),
            size: Some(100),
            last_modified_ms: 1_764_000_000_000 + i as i64,
            is_latest: true,
            is_delete_marker: false,
        })
        .collect()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", n, files] => {
            let (n, files): (u64, u64) = (n.parse().unwrap(), files.parse().unwrap());
            let source = fresh_bucket("inv-bench").await;
            let reports = fresh_bucket("inv-bench-reports").await;
            let (mut csv, mut pq) = (Vec::new(), Vec::new());
            for f in 0..files {
                let part = rows(n * f / files, n * (f + 1) / files);
                csv.push((
                    format!("part-{f}.csv.gz"),
                    csv_inventory(source.name(), &part),
                ));
                let bytes = parquet_inventory(source.name(), &part, Compression::SNAPPY);
                pq.push((format!("part-{f}.parquet"), bytes));
            }
            let size = |v: &[(String, Vec<u8>)]| v.iter().map(|(_, b)| b.len()).sum::<usize>();
            let (csv_mb, pq_mb) = (size(&csv) as f64 / 1e6, size(&pq) as f64 / 1e6);
            let put = |format, schema, files| Report {
                format,
                schema,
                files,
            };
            let csv_at = put("CSV", bucket::testkit::INVENTORY_SCHEMA, csv)
                .put(&source, &reports, None, true, "csv")
                .await;
            let pq_at = put("Parquet", bucket::testkit::PARQUET_INVENTORY_SCHEMA, pq)
                .put(&source, &reports, None, true, "parquet")
                .await;
            println!("csv {csv_at} {csv_mb:.1}");
            println!("parquet {pq_at} {pq_mb:.1}");
        }
        ["read", at] => {
            let at: bucket::inventory::InventoryLocation = at.parse().unwrap();
            // the source bucket's name is the manifest path's second part: inv/<bucket>/<run>/
            let source_name = at.key.split('/').nth(1).unwrap().to_string();
            let source = connect(&localstack(), &Target::new(&source_name, "").unwrap())
                .await
                .unwrap();
            let t = Instant::now();
            let inv = source
                .scan_inventory(&at, &ScanOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let secs = t.elapsed().as_secs_f64();
            let objects: u64 = inv.deployments.iter().map(|d| d.objects).sum();
            println!(
                "{objects} objects in {} deployments: {secs:.2} s, {:.0} rows/s, peak RSS {:.0} MB",
                inv.deployments.len(),
                objects as f64 / secs,
                peak_rss_mb()
            );
        }
        _ => {
            eprintln!("usage: inventory_bench write ROWS FILES | inventory_bench read s3://…/manifest.json");
            std::process::exit(2);
        }
    }
}
