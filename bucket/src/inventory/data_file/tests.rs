//! Reading a data file chunk by chunk gives what reading it whole gives, and a damaged file
//! is refused for the right reason.

use super::*;
use crate::inventory::{parse_manifest, tests::MANIFEST};

fn rows(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "\"b\",\"d{}/f{i}.css\",\"v\",\"true\",\"false\",\"{}\",\"2016-11-0{}T20:00:00.000Z\",\"e\"\r\n",
                i % 7,
                i + 1,
                1 + i % 9
            )
        })
        .collect::<String>()
        + "\"b\",\"loose.txt\",\"v\",\"true\",\"false\",\"5\",\"2016-11-06T20:00:00.000Z\",\"e\""
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn file(key: &str, body: &[u8]) -> DataFile {
    DataFile {
        key: key.into(),
        size: body.len() as u64,
        md5: hex(&Md5::digest(body)),
    }
}

/// What the caller does once a file was fed (a Parquet file read straight away).
fn finish(r: DataFileReader<'_>) -> Result<Folded, String> {
    match r.end()? {
        Ended::Folded(f) => Ok(f),
        Ended::Parquet(file) => crate::inventory::parquet_file::fold_file(file, ""),
    }
}

fn read(file: &DataFile, body: &[u8], chunk: usize) -> Result<Folded, String> {
    let m = parse_manifest(MANIFEST).unwrap();
    let mut r = DataFileReader::new(file, &m.schema, "");
    for c in body.chunks(chunk) {
        r.feed(c);
    }
    finish(r)
}

/// The counters as a comparable list.
fn summary(f: &Folded) -> Vec<(String, String)> {
    let mut v: Vec<_> = f
        .aggs
        .iter()
        .map(|(k, a)| (k.clone(), format!("{a:?}")))
        .collect();
    v.sort();
    v.push(("loose".into(), format!("{:?}", f.loose)));
    v
}

fn objects(f: &Folded) -> u64 {
    f.aggs.values().map(|a| a.objects()).sum()
}

#[test]
fn a_file_read_in_chunks_folds_as_the_whole_file_does() {
    let text = rows(500);
    // two gzip members, as large reports are sometimes written
    let (a, b) = text.split_at(text.len() / 2);
    let body = [gz(a), gz(b)].concat();
    let f = file("files/x.csv.gz", &body);
    let whole = read(&f, &body, body.len()).unwrap();
    assert_eq!(whole.aggs.len(), 7);
    assert_eq!(objects(&whole), 500);
    assert_eq!((whole.loose.objects, whole.loose.bytes), (1, 5));
    for chunk in [1, 7, 64, 4096] {
        assert_eq!(
            summary(&read(&f, &body, chunk).unwrap()),
            summary(&whole),
            "chunks of {chunk} B"
        );
    }
    // an uncompressed file, split inside lines and inside "\r\n"
    let plain = file("files/x.csv", text.as_bytes());
    assert_eq!(
        summary(&read(&plain, text.as_bytes(), 3).unwrap()),
        summary(&whole)
    );
}

#[test]
fn files_merge_into_one_count() {
    let body = gz(&rows(10));
    let f = file("f.csv.gz", &body);
    let mut total = read(&f, &body, 100).unwrap();
    total.merge(read(&f, &body, 33).unwrap());
    assert_eq!(objects(&total), 20);
    assert_eq!(total.loose.objects, 2);
}

#[test]
fn a_damaged_file_is_refused_for_its_checksum_first() {
    let body = gz(&rows(50));
    let listed = file("f.csv.gz", &body);
    let cut = &body[..body.len() / 2];
    // cut short: the MD5 says so, before the broken gzip would
    let e = read(&listed, cut, 10).unwrap_err();
    assert!(e.contains("MD5") && e.contains("damaged"), "{e}");
    // cut short but listed with the short file's MD5: the gzip stream ends too soon
    let e = read(&file("f.csv.gz", cut), cut, 10).unwrap_err();
    assert!(e.contains("not valid gzip"), "{e}");
    // a file whose MD5 matches but is no gzip
    let junk = b"not gzip at all";
    let e = read(&file("f.csv.gz", junk), junk, 4).unwrap_err();
    assert!(e.contains("not valid gzip"), "{e}");
    // a bad row names its line, counted across chunks
    let mut text = rows(30);
    text.push_str("\n\"b\",\"d1/x\"\n");
    let body = gz(&text);
    let e = read(&file("f.csv.gz", &body), &body, 5).unwrap_err();
    assert!(e.contains("row 32") && e.contains("2 fields"), "{e}");
    let bad = b"\"b\",\"d1/\xff\"\n";
    let e = read(&file("f.csv", bad), bad, 2).unwrap_err();
    assert!(e.contains("line 1 is not UTF-8"), "{e}");
}

#[test]
fn a_parquet_file_is_spooled_then_read_and_checked_first() {
    use crate::testkit::{parquet_inventory, InventoryObject};
    let rows: Vec<InventoryObject> = (0..300)
        .map(|i| InventoryObject {
            key: format!("d{}/f{i}.css", i % 7),
            size: Some(i + 1),
            last_modified_ms: 1_478_462_400_000 + i * 1000,
            is_latest: true,
            is_delete_marker: false,
        })
        .collect();
    let body = parquet_inventory("b", &rows, ::parquet::basic::Compression::SNAPPY);
    let f = file("files/x.parquet", &body);
    let read = |f: &DataFile, body: &[u8], chunk: usize| {
        let mut r = DataFileReader::new(f, &Schema::Parquet, "");
        for c in body.chunks(chunk) {
            r.feed(c);
        }
        finish(r)
    };
    let whole = read(&f, &body, body.len()).unwrap();
    assert_eq!((whole.aggs.len(), objects(&whole)), (7, 300));
    assert_eq!(summary(&read(&f, &body, 97).unwrap()), summary(&whole));
    // cut short: refused for its MD5, before the missing footer would be
    let e = read(&f, &body[..body.len() - 10], 50).unwrap_err();
    assert!(e.contains("MD5") && e.contains("damaged"), "{e}");
    // cut short but listed so: not Parquet
    let cut = &body[..body.len() - 10];
    let e = read(&file("x.parquet", cut), cut, 50).unwrap_err();
    assert!(e.contains("not a readable Parquet file"), "{e}");
}
