//! Where each deployment's mark sits in the timeline (viewBox units, 1000 wide): x from its
//! date, radius from its bytes, y from its lane. Pure arithmetic, shared by the drawing
//! (`canvas`) and the pointer (`hit`), and tested natively.

use super::paint::{lane_y, LANE_H, TOP};
use super::row::Row;

/// The picture's width in viewBox units; the canvas scales it to its CSS width.
pub const W: f64 = 1000.0;
/// Room left and right of the first and last mark.
pub const PAD: f64 = 24.0;
/// Room below the last lane for the axis.
pub const AXIS: f64 = 26.0;

/// Marks per drawn chunk (see `draw`).
pub const CHUNK: usize = 100;
/// The verdicts in drawing order (later ones on top).
pub const CLASSES: [&str; 4] = ["excluded", "keep", "pinned", "delete"];

/// A mark's place, independent of the policy (the lane is not: see [`Mark::y`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    pub x: f64,
    pub r: f64,
}

/// A mark as drawn: its place, its lane's height and its verdict's class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub class: &'static str,
}

/// The x of a date: oldest at the left pad, newest at the right one, one date in the middle.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    min: i64,
    span: f64,
}

impl Scale {
    pub fn of(rows: &[Row]) -> Scale {
        let min = rows.iter().map(|r| r.date_ts).min().unwrap_or(0);
        let max = rows.iter().map(|r| r.date_ts).max().unwrap_or(0);
        Scale {
            min,
            span: (max - min) as f64,
        }
    }
    pub fn x(&self, ts: i64) -> f64 {
        if self.span == 0.0 {
            W / 2.0
        } else {
            PAD + (ts - self.min) as f64 / self.span * (W - 2.0 * PAD)
        }
    }
}

/// Every row's spot: area follows bytes; marks get smaller as there are more of them.
pub fn spots(rows: &[Row]) -> Vec<Spot> {
    let scale = Scale::of(rows);
    let max_bytes = rows.iter().map(|r| r.bytes).max().unwrap_or(1).max(1) as f64;
    let rmax = if rows.len() > 400 {
        5.0
    } else if rows.len() > 60 {
        8.0
    } else {
        12.0
    };
    rows.iter()
        .map(|r| Spot {
            x: scale.x(r.date_ts),
            r: 2.0 + (rmax - 2.0) * (r.bytes as f64 / max_bytes).sqrt(),
        })
        .collect()
}

impl Mark {
    pub fn at(spot: Spot, i: usize, lane: usize, class: &'static str) -> Mark {
        Mark {
            x: spot.x,
            y: lane_y(lane, i),
            r: spot.r,
            class,
        }
    }
}

/// The picture's height for `lanes` lanes.
pub fn height(lanes: usize) -> f64 {
    TOP + lanes.max(1) as f64 * LANE_H + AXIS
}

/// The mark under the pointer at (`x`, `y`): the nearest whose circle, grown by a little slack
/// for small marks, contains the point; the later (drawn on top) wins a tie.
pub fn hit(marks: &[Mark], x: f64, y: f64) -> Option<usize> {
    const SLACK: f64 = 3.0;
    let mut best: Option<(usize, f64)> = None;
    for (i, m) in marks.iter().enumerate() {
        let d = ((m.x - x).powi(2) + (m.y - y).powi(2)).sqrt();
        if d <= m.r + SLACK && best.is_none_or(|(_, b)| d <= b) {
            best = Some((i, d));
        }
    }
    best.map(|(i, _)| i)
}

/// The marks of one verdict as one SVG path (two half-circle arcs each), for a `Path2D`: the
/// canvas gets one call per verdict instead of two per mark (4,000 calls from wasm to the
/// browser for 2,000 marks). Numbers in tenths, written digit by digit ([`Tenths`]).
pub fn path_of(marks: &[Mark], class: &str) -> String {
    let mut d = String::with_capacity(marks.len() * 40);
    for m in marks.iter().filter(|m| m.class == class) {
        let (r, across) = (Tenths::of(m.r), Tenths::of(2.0 * m.r));
        d.push('M');
        Tenths::of(m.x - m.r).push_to(&mut d);
        d.push(' ');
        Tenths::of(m.y).push_to(&mut d);
        for sign in ["", "-"] {
            d.push('a');
            r.push_to(&mut d);
            d.push(' ');
            r.push_to(&mut d);
            d.push_str(" 0 1 0 ");
            d.push_str(sign);
            across.push_to(&mut d);
            d.push_str(" 0");
        }
    }
    d
}

/// A number rounded to tenths, written as `{:.1}` writes it ("12.3", "-0.5"), digit by
/// digit: core's float formatter, six calls a mark, took ~2.5 ms of a 2,000-deployment
/// preview's frame in the browser (BENCHMARKS.md, eighteenth session). Halfway cases may round
/// the other way (a twentieth of a viewBox unit); a mark's coordinates are finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tenths(i64);

impl Tenths {
    pub fn of(v: f64) -> Self {
        Tenths((v * 10.0).round() as i64)
    }

    /// Appends the number to `s` digit by digit (no formatter: this runs six times a mark).
    pub fn push_to(self, s: &mut String) {
        if self.0 < 0 {
            s.push('-');
        }
        let n = self.0.unsigned_abs();
        let (mut whole, mut digits, mut at) = (n / 10, [0u8; 20], 20);
        loop {
            at -= 1;
            digits[at] = b'0' + (whole % 10) as u8;
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        s.extend(digits[at..].iter().map(|&b| b as char));
        s.push('.');
        s.push((b'0' + (n % 10) as u8) as char);
    }
}

/// How many marks show each verdict: `[keep, delete, pinned, excluded]`.
pub fn counts(marks: &[Mark]) -> [usize; 4] {
    let mut c = [0; 4];
    for m in marks {
        match m.class {
            "keep" => c[0] += 1,
            "delete" => c[1] += 1,
            "pinned" => c[2] += 1,
            "excluded" => c[3] += 1,
            _ => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use retention::DeploymentId;

    fn mark(x: f64, y: f64, r: f64, class: &'static str) -> Mark {
        Mark { x, y, r, class }
    }

    fn row(id: &str, ts: i64, bytes: u64) -> Row {
        Row {
            id: DeploymentId::new(id).unwrap(),
            at: chrono::DateTime::from_timestamp(ts, 0).unwrap(),
            date_ts: ts,
            age_secs: 0,
            objects: 1,
            bytes,
        }
    }

    #[test]
    fn newest_is_right_oldest_left_and_a_single_date_is_centred() {
        let rows = [row("b", 200, 1), row("a", 100, 1)];
        let s = spots(&rows);
        assert_eq!(s[0].x, W - PAD);
        assert_eq!(s[1].x, PAD);
        assert_eq!(spots(&[row("a", 5, 1)])[0].x, W / 2.0);
    }

    #[test]
    fn bigger_deployments_get_bigger_marks() {
        let s = spots(&[row("a", 1, 10), row("b", 2, 1_000)]);
        assert!(s[1].r > s[0].r, "{s:?}");
    }

    #[test]
    fn the_pointer_finds_the_mark_under_it_and_nothing_between_marks() {
        let marks = [
            mark(100.0, 20.0, 5.0, "keep"),
            mark(110.0, 20.0, 5.0, "delete"),
            mark(500.0, 60.0, 2.0, "keep"),
        ];
        assert_eq!(hit(&marks, 101.0, 21.0), Some(0));
        assert_eq!(hit(&marks, 109.0, 20.0), Some(1));
        // the small mark is found with a little slack
        assert_eq!(hit(&marks, 504.0, 60.0), Some(2));
        assert_eq!(hit(&marks, 300.0, 40.0), None);
        // the same lane height in another lane is not a hit
        assert_eq!(hit(&marks, 500.0, 20.0), None);
    }

    #[test]
    fn a_mark_is_drawn_inside_its_lanes_band_whatever_its_row() {
        let spot = Spot { x: 10.0, r: 5.0 };
        for lane in 0..5 {
            for i in 0..6 {
                let m = Mark::at(spot, i, lane, "keep");
                let top = TOP + lane as f64 * LANE_H;
                assert!(
                    m.y - m.r >= top && m.y + m.r <= top + LANE_H,
                    "{lane} {i} {m:?}"
                );
            }
        }
        assert!(height(3) >= TOP + 3.0 * LANE_H);
    }

    #[test]
    fn a_verdicts_path_holds_one_circle_per_mark_of_that_verdict() {
        let marks = [
            mark(100.0, 20.0, 5.0, "keep"),
            mark(110.0, 30.0, 2.5, "delete"),
            mark(120.0, 40.0, 3.0, "keep"),
        ];
        assert_eq!(
            path_of(&marks, "keep"),
            "M95.0 20.0a5.0 5.0 0 1 0 10.0 0a5.0 5.0 0 1 0 -10.0 0\
             M117.0 40.0a3.0 3.0 0 1 0 6.0 0a3.0 3.0 0 1 0 -6.0 0"
        );
        assert_eq!(path_of(&marks, "pinned"), "");
    }

    fn written(v: f64) -> String {
        let mut s = String::new();
        Tenths::of(v).push_to(&mut s);
        s
    }

    #[test]
    fn tenths_are_written_as_the_float_formatter_writes_them() {
        for i in -20_000..20_000 {
            let v = i as f64 * 0.0173;
            // away from a halfway case, where the two may round differently
            let frac = (v * 10.0).abs().fract();
            if (frac - 0.5).abs() < 1e-6 {
                continue;
            }
            let want = format!("{v:.1}");
            // `{:.1}` writes "-0.0" for small negatives; the path means the same with "0.0"
            let want = if want == "-0.0" {
                "0.0".to_string()
            } else {
                want
            };
            assert_eq!(written(v), want, "{v}");
        }
        assert_eq!(written(-12.34), "-12.3");
        assert_eq!(written(1000.0), "1000.0");
    }

    #[test]
    fn counts_are_per_verdict() {
        let m = |class| mark(0.0, 0.0, 1.0, class);
        assert_eq!(
            counts(&[m("keep"), m("delete"), m("delete"), m("excluded")]),
            [1, 2, 0, 1]
        );
    }
}
