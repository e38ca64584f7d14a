//! Brotli for pages that share most of their bytes. Every preview URL of one scan carries the
//! same scan data (~137 KB of the 206 KB page of 2,000 deployments, in JSON columns) and only
//! the rendered HTML around it differs. Compressing the whole page for each new URL was
//! ~13 % of the server's CPU under load (BENCHMARKS.md); here a page is cut into pieces, each
//! piece is compressed as a concatenable brotli stream (the format's `bare`/`catable` mode),
//! and a piece already compressed for an earlier page is reused: only the bytes that changed
//! are compressed again. The result is one ordinary brotli stream.
//!
//! Where to cut is decided by the bytes alone, so equal data cuts the same way in every page:
//! before each `[` and after each `]` (the JSON columns are arrays), pieces gathered until they
//! reach [`MIN_PIECE`]. A piece is kept once it has been seen twice (the HTML of one URL is
//! seen once and never kept). A kept piece is reused only when its bytes equal the page's, so
//! a reused piece can make a page compress worse, never wrong.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// A piece is at least this long (shorter streams cost more than they save).
const MIN_PIECE: usize = 4 << 10;
/// What the store may hold (plain and compressed bytes together, or pieces seen once); past
/// it, it starts again.
const STORE_BYTES: usize = 16 << 20;
const SEEN_ONCE: usize = 4096;
/// Every stream of one page must use the same window (1 MB, as before).
const LGWIN: i32 = 20;
/// Quality 2: for that page 45.3 KB in 1.4 ms whole, against 42.1 KB in 5.4 ms at quality 5.
const QUALITY: i32 = 2;

/// Compressed pieces of recent pages, by their bytes.
#[derive(Clone, Default)]
pub(crate) struct Pieces {
    store: Arc<Mutex<Store>>,
}

#[derive(Default)]
struct Store {
    by_hash: HashMap<u64, Arc<Piece>>,
    bytes: usize,
    /// Pieces seen once, by hash: kept when seen again.
    seen: HashSet<u64>,
}

struct Piece {
    plain: Vec<u8>,
    compressed: Vec<u8>,
}

impl Pieces {
    /// `plain` as one brotli stream, its pieces compressed now or reused.
    pub(crate) fn brotli(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() / 4);
        for (i, piece) in cut(plain).into_iter().enumerate() {
            if i == 0 {
                out.extend_from_slice(&stream(piece, true));
            } else {
                self.compressed(piece, &mut out);
            }
        }
        if out.is_empty() {
            out.extend_from_slice(&stream(&[], true));
        }
        // The last meta-block: an empty one with ISLAST set, ending the stream.
        out.push(0x03);
        out
    }

    /// Appends `piece` (not the first) compressed: the stored copy when there is one, else
    /// compressed now (and kept if it was seen before).
    fn compressed(&self, piece: &[u8], out: &mut Vec<u8>) {
        let mut h = DefaultHasher::new();
        piece.hash(&mut h);
        let key = h.finish();
        let stored = self.store.lock().unwrap().by_hash.get(&key).cloned();
        if let Some(p) = stored.filter(|p| p.plain == piece) {
            out.extend_from_slice(&p.compressed);
            return;
        }
        let compressed = stream(piece, false);
        out.extend_from_slice(&compressed);
        let mut store = self.store.lock().unwrap();
        if store.seen.insert(key) {
            if store.seen.len() > SEEN_ONCE {
                store.seen.clear();
            }
            return;
        }
        let size = piece.len() + compressed.len();
        if store.bytes + size > STORE_BYTES {
            *store = Store::default();
        }
        store.bytes += size;
        let piece = Arc::new(Piece {
            plain: piece.to_vec(),
            compressed,
        });
        store.by_hash.insert(key, piece);
    }
}

/// The pieces of `plain`, in order; together they are `plain`. The bytes between two cut
/// points (before a `[`, after a `]`) are a segment; a segment of [`MIN_PIECE`] or more is a
/// piece of its own (a column: the same in every page of a scan, whatever precedes it), and
/// shorter ones are gathered until they reach [`MIN_PIECE`].
fn cut(plain: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut seg) = (0, 0);
    let points = plain
        .iter()
        .enumerate()
        .filter_map(|(i, b)| match b {
            b'[' => Some(i),
            b']' => Some(i + 1),
            _ => None,
        })
        .chain([plain.len()]);
    for at in points {
        if at == seg {
            continue;
        }
        if at - seg >= MIN_PIECE {
            if seg > start {
                pieces.push(&plain[start..seg]);
            }
            pieces.push(&plain[seg..at]);
            start = at;
        } else if at - start >= MIN_PIECE {
            pieces.push(&plain[start..at]);
            start = at;
        }
        seg = at;
    }
    if start < plain.len() {
        pieces.push(&plain[start..]);
    }
    pieces
}

/// One piece as a bare brotli stream that another may follow: the first with the stream's
/// header, the others without (and without the static dictionary, whose references would
/// depend on what came before).
fn stream(piece: &[u8], first: bool) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: QUALITY,
        lgwin: LGWIN,
        bare_stream: true,
        byte_align: true,
        appendable: true,
        catable: !first,
        use_dictionary: first,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(piece.len() / 4 + 16);
    let mut input = piece;
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbrotli(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &b[..], &mut out).expect("a valid brotli stream");
        out
    }

    /// A page like the dashboard's: HTML that differs per URL around JSON columns that do not.
    fn page(url: u32, deployments: usize) -> Vec<u8> {
        let ids: Vec<String> = (0..deployments)
            .map(|i| format!("\\\"deploy{i:05}\\\""))
            .collect();
        let sizes: Vec<String> = (0..deployments)
            .map(|i| (i * 7_919_993 % 1_000_000_007).to_string())
            .collect();
        format!(
            "<!DOCTYPE html><html><body><main>{}</main><script>__RESOLVED_RESOURCES[0] = \"{{\\\"Ok\\\":{{\\\"inventory\\\":{{\\\"ids\\\":[{}],\\\"bytes\\\":[{}]}},\\\"now\\\":\\\"{url}\\\"}}}}\"</script></body></html>",
            format!("<p>retain {url} [x]</p>").repeat(300),
            ids.join(","),
            sizes.join(","),
        )
        .into_bytes()
    }

    #[test]
    fn a_page_in_pieces_is_one_brotli_stream_of_the_same_bytes() {
        let pieces = Pieces::default();
        for plain in [
            page(1, 2000),
            page(2, 2000),
            page(3, 10),
            Vec::new(),
            b"[]]][[".to_vec(),
        ] {
            let br = pieces.brotli(&plain);
            assert_eq!(unbrotli(&br), plain);
        }
    }

    #[test]
    fn the_shared_columns_are_compressed_once_and_reused() {
        let pieces = Pieces::default();
        let first = pieces.brotli(&page(1, 2000));
        assert_eq!(
            pieces.store.lock().unwrap().by_hash.len(),
            0,
            "seen once: not kept"
        );
        pieces.brotli(&page(2, 2000));
        let kept = pieces.store.lock().unwrap().by_hash.len();
        assert!(
            kept >= 2,
            "the two columns are kept once seen again: {kept}"
        );
        let third = pieces.brotli(&page(3, 2000));
        let store = pieces.store.lock().unwrap();
        assert_eq!(
            store.by_hash.len(),
            kept,
            "reused, not added; the HTML never kept"
        );
        drop(store);
        assert_eq!(unbrotli(&third), page(3, 2000));
        assert!(first.len() < page(1, 2000).len() / 3, "{}", first.len());
    }

    #[test]
    fn a_stored_piece_with_other_bytes_is_not_used() {
        let pieces = Pieces::default();
        let b = page(1, 2000);
        // A stored piece under each of b's pieces' keys, with other bytes (as a hash collision
        // would leave): none may be sent for b.
        for piece in cut(&b) {
            let mut h = DefaultHasher::new();
            piece.hash(&mut h);
            let wrong = Arc::new(Piece {
                plain: b"other bytes".to_vec(),
                compressed: b"not brotli".to_vec(),
            });
            pieces
                .store
                .lock()
                .unwrap()
                .by_hash
                .insert(h.finish(), wrong);
        }
        assert_eq!(unbrotli(&pieces.brotli(&b)), b);
    }
}
