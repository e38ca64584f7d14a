//! The timeline's time ticks between its two end dates: days, weeks, months, quarters or years,
//! whichever keeps them to about ten, on round boundaries (midnight UTC, Mondays, the 1st).
//! Drawn as short lines on the axis and as labels under it; every other label is left out on
//! a narrow screen (CSS `.tick.minor`).

use crate::dashboard::marks::{Scale, W};
use leptos::prelude::*;

const DAY: i64 = 86_400;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One tick: where (a timestamp), what it says, and whether a narrow screen may leave it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub ts: i64,
    pub label: String,
    pub minor: bool,
}

/// How far apart ticks are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Days,
    Weeks(i64),
    Months(u32),
    Years(i64),
}

/// The step that gives at most about ten ticks over `span` seconds; `None` under two days (the
/// end labels say enough).
fn step_for(span: i64) -> Option<Step> {
    let days = span / DAY;
    Some(match days {
        ..=1 => return None,
        2..=10 => Step::Days,
        11..=70 => Step::Weeks(1),
        71..=140 => Step::Weeks(2),
        141..=300 => Step::Months(1),
        301..=900 => Step::Months(3),
        _ => Step::Years((days / 365) / 10 + 1),
    })
}

/// A calendar day (UTC), as days since 1970-01-01 and as year, month (1-12), day.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Day {
    n: i64,
    y: i64,
    m: u32,
    d: u32,
}

impl Day {
    /// The civil date of day `n` since the epoch (Howard Hinnant's `civil_from_days`; plain
    /// integer arithmetic keeps a date library out of the browser's bundle).
    fn from_days(n: i64) -> Day {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        Day { n, y, m, d }
    }

    /// The day of `y`-`m`-`d` (`days_from_civil`).
    fn of(y: i64, m: u32, d: u32) -> Day {
        let yy = if m <= 2 { y - 1 } else { y };
        let era = yy.div_euclid(400);
        let yoe = yy.rem_euclid(400);
        let mp = i64::from((m + 9) % 12);
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day {
            n: era * 146_097 + doe - 719_468,
            y,
            m,
            d,
        }
    }

    fn ts(self) -> i64 {
        self.n * DAY
    }

    /// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
    fn weekday(self) -> i64 {
        (self.n + 3).rem_euclid(7)
    }

    /// The 1st of the month `k` months on.
    fn months_on(self, k: u32) -> Day {
        let m0 = i64::from(self.m - 1) + i64::from(k);
        Day::of(
            self.y + m0.div_euclid(12),
            (m0.rem_euclid(12) + 1) as u32,
            1,
        )
    }
}

/// The first boundary of `step` at or after `ts`.
fn first_boundary(ts: i64, step: Step) -> Day {
    let day = Day::from_days((ts + DAY - 1).div_euclid(DAY));
    match step {
        Step::Days => day,
        Step::Weeks(_) => Day::from_days(day.n + (7 - day.weekday()) % 7),
        Step::Months(k) => {
            let mut first = if day.d == 1 { day } else { day.months_on(1) };
            while (first.m - 1) % k != 0 {
                first = first.months_on(1);
            }
            first
        }
        Step::Years(k) => {
            let y = if (day.m, day.d) == (1, 1) {
                day.y
            } else {
                day.y + 1
            };
            Day::of(y + (k - y.rem_euclid(k)) % k, 1, 1)
        }
    }
}

fn next(day: Day, step: Step) -> Day {
    match step {
        Step::Days => Day::from_days(day.n + 1),
        Step::Weeks(k) => Day::from_days(day.n + 7 * k),
        Step::Months(k) => day.months_on(k),
        Step::Years(k) => Day::of(day.y + k, 1, 1),
    }
}

fn label(day: Day, step: Step) -> String {
    let month = MONTHS[(day.m - 1) as usize];
    match step {
        Step::Days | Step::Weeks(_) => format!("{month} {}", day.d),
        Step::Months(_) if day.m == 1 => format!("{month} {}", day.y),
        Step::Months(_) => month.to_string(),
        Step::Years(_) => day.y.to_string(),
    }
}

/// The ticks strictly between `min` and `max` (timestamps), none within 6 % of either end
/// (where the end dates are written).
pub fn ticks(min: i64, max: i64) -> Vec<Tick> {
    let Some(step) = step_for(max - min) else {
        return Vec::new();
    };
    let margin = (max - min) * 6 / 100;
    let mut out = Vec::new();
    let mut day = first_boundary(min, step);
    loop {
        let ts = day.ts();
        if ts >= max - margin {
            break;
        }
        if ts > min + margin {
            out.push(Tick {
                ts,
                label: label(day, step),
                minor: out.len() % 2 == 1,
            });
        }
        day = next(day, step);
    }
    out
}

/// The ticks' short lines on the axis at `y`.
#[component]
pub fn TickLines(ticks: Vec<Tick>, scale: Scale, y: Signal<f64>) -> impl IntoView {
    ticks
        .into_iter()
        .map(|t| {
            let x = scale.x(t.ts);
            view! { <line class="tick-line" x1=x x2=x y1=move || y.get() - 5.0 y2=move || y.get() + 3.0 /> }
        })
        .collect_view()
}

/// The ticks' labels under their lines: an SVG without a viewBox, so the text keeps its size
/// at any width while `x` is a share of the width the picture spans (the page's CSP allows no
/// inline style to place HTML labels).
#[component]
pub fn TickLabels(ticks: Vec<Tick>, scale: Scale) -> impl IntoView {
    view! {
        <svg class="tick-labels" aria-hidden="true">
            {ticks
                .into_iter()
                .map(|t| {
                    let x = format!("{:.2}%", scale.x(t.ts) / W * 100.0);
                    let class = if t.minor { "tick minor" } else { "tick" };
                    view! { <text class=class x=x y="1em" text-anchor="middle">{t.label}</text> }
                })
                .collect_view()}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i64, m: u32, d: u32) -> i64 {
        Day::of(y, m, d).ts()
    }

    #[test]
    fn calendar_days_agree_with_chrono_over_centuries() {
        use chrono::Datelike;
        for n in (-800_000..800_000).step_by(997) {
            let ours = Day::from_days(n);
            let theirs = chrono::DateTime::from_timestamp(n * DAY, 0)
                .unwrap()
                .date_naive();
            assert_eq!(
                (ours.y, ours.m, ours.d, ours.weekday()),
                (
                    i64::from(theirs.year()),
                    theirs.month(),
                    theirs.day(),
                    i64::from(theirs.weekday().num_days_from_monday())
                ),
                "day {n}"
            );
            assert_eq!(Day::of(ours.y, ours.m, ours.d).n, n);
        }
    }

    #[test]
    fn a_short_span_has_no_ticks_between_its_end_dates() {
        assert!(ticks(ts(2026, 12, 1), ts(2026, 12, 2) + 3600).is_empty());
        assert!(ticks(5, 5).is_empty());
    }

    #[test]
    fn ninety_days_are_ticked_every_other_monday() {
        let t = ticks(ts(2026, 9, 3) + 3600, ts(2026, 12, 2));
        assert!(!t.is_empty() && t.len() <= 10, "{t:?}");
        for tick in &t {
            assert_eq!(
                Day::from_days(tick.ts / DAY).weekday(),
                0,
                "a Monday: {tick:?}"
            );
        }
        assert_eq!(t[1].ts - t[0].ts, 14 * DAY);
        assert_eq!(t[0].label, "Sep 21", "Sep 7 is too near the start");
    }

    #[test]
    fn two_years_are_ticked_by_quarter_with_the_year_at_january() {
        let t = ticks(ts(2024, 11, 20), ts(2026, 12, 2));
        let labels: Vec<&str> = t.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Apr", "Jul", "Oct", "Jan 2026", "Apr", "Jul", "Oct"],
            "the first and last quarters are too near the ends"
        );
    }

    #[test]
    fn every_span_gets_at_most_a_dozen_ticks_strictly_inside_it() {
        let min = ts(2020, 2, 29) + 12_345;
        for days in [
            2, 3, 9, 10, 11, 40, 70, 71, 139, 141, 299, 301, 899, 901, 4000, 20000,
        ] {
            let max = min + days * DAY;
            let t = ticks(min, max);
            assert!(t.len() <= 12, "{days} days: {} ticks", t.len());
            assert!(t.iter().all(|t| t.ts > min && t.ts < max), "{days} days");
            assert!(t.windows(2).all(|w| w[0].ts < w[1].ts), "{days} days");
            assert!(t.iter().step_by(2).all(|t| !t.minor), "{days} days");
        }
    }
}
