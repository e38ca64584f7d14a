//! Durations as people type them for `--keep-within`: `30d`, `12h`, `90s`, `1d12h`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A non-negative length of time in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("empty duration: write e.g. 30d, 12h, 90s or 1d12h")]
    Empty,
    #[error("'{0}': expected a number before each unit, e.g. 30d, 12h, 90s or 1d12h")]
    MissingNumber(String),
    #[error("'{input}': unit '{unit}' is not one of y, w, d, h, min, s")]
    BadUnit { input: String, unit: String },
    #[error("'{0}': 'm' is ambiguous (restic reads it as months); write 'min' for minutes or days as 'd'")]
    AmbiguousM(String),
    #[error("'{0}': a number must be followed by a unit (y, w, d, h, min, s), e.g. 30d")]
    MissingUnit(String),
    #[error("'{0}' is too long a duration")]
    Overflow(String),
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

impl Span {
    pub const fn from_secs(secs: u64) -> Self {
        Span { secs }
    }
    /// `--min-retain-days D`; saturates instead of overflowing (10^9 days is still "forever").
    pub const fn from_days(days: u64) -> Self {
        Span {
            secs: days.saturating_mul(DAY),
        }
    }
    pub const fn as_secs(self) -> u64 {
        self.secs
    }

    /// The largest unit that divides this span exactly; ages are shown in it so
    /// `12 d old, younger than 30 d` compares like with like.
    pub(crate) fn unit(self) -> (u64, &'static str) {
        match self.secs {
            0 => (DAY, "d"),
            s if s % DAY == 0 => (DAY, "d"),
            s if s % HOUR == 0 => (HOUR, "h"),
            s if s % MINUTE == 0 => (MINUTE, "min"),
            _ => (1, "s"),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, name) = self.unit();
        write!(f, "{} {name}", self.secs / unit)
    }
}

impl FromStr for Span {
    type Err = SpanError;
    fn from_str(input: &str) -> Result<Self, SpanError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SpanError::Empty);
        }
        // Nothing needs no unit: `--live-grace 0` turns the grace off, as documented.
        if s.bytes().all(|b| b == b'0') {
            return Ok(Span { secs: 0 });
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(SpanError::MissingNumber(input.into()));
            }
            let n: u64 = rest[..digits]
                .parse()
                .map_err(|_| SpanError::Overflow(input.into()))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = rest[..unit_len].trim();
            rest = &rest[unit_len..];
            let mult = match unit {
                "y" => 365 * DAY,
                "w" => 7 * DAY,
                "d" => DAY,
                "h" => HOUR,
                "min" => MINUTE,
                "s" => 1,
                "m" => return Err(SpanError::AmbiguousM(input.into())),
                "" => return Err(SpanError::MissingUnit(input.into())),
                other => {
                    return Err(SpanError::BadUnit {
                        input: input.into(),
                        unit: other.into(),
                    })
                }
            };
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| SpanError::Overflow(input.into()))?;
        }
        Ok(Span { secs: total })
    }
}

/// An age in the unit of the threshold it is compared with. When the whole number would read
/// as equal to the threshold ("30 d > 30 d"), one decimal is shown instead.
pub(crate) fn fmt_age(age_secs: i64, threshold: Span) -> String {
    if age_secs < 0 {
        return "dated in the future".to_string();
    }
    let (unit, name) = threshold.unit();
    let whole = age_secs as u64 / unit;
    let limit = threshold.as_secs() / unit;
    if whole == limit && age_secs as u64 != threshold.as_secs() && unit > 1 {
        // Rounded, but never to .0 (nor up to the next whole): an hour past 30 d reads
        // "30.1 d", never "30.0 d > 30 d".
        let tenths = ((age_secs as u64 % unit) * 10 + unit / 2) / unit;
        let tenths = tenths.clamp(1, 9);
        format!("{whole}.{tenths} {name} old")
    } else {
        format!("{whole} {name} old")
    }
}

/// An age for display without a threshold: the largest whole unit.
pub fn human_age(age_secs: i64) -> String {
    if age_secs < 0 {
        return "future".into();
    }
    let s = age_secs as u64;
    if s >= DAY {
        format!("{} d", s / DAY)
    } else if s >= HOUR {
        format!("{} h", s / HOUR)
    } else if s >= MINUTE {
        format!("{} min", s / MINUTE)
    } else {
        format!("{s} s")
    }
}

/// `2026-12-04 08:30` (UTC), written out by hand: chrono's `format` brings its strftime parser
/// and formatter into the browser's wasm for this one shape.
pub fn minute_utc(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// A byte count for people: `1.5 KiB`, `21.0 MiB`. Every front end shows sizes this way.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_utc_reads_like_chronos_format() {
        use chrono::TimeZone;
        for t in [
            chrono::Utc.with_ymd_and_hms(2026, 12, 4, 8, 5, 59).unwrap(),
            chrono::Utc.with_ymd_and_hms(999, 1, 31, 23, 0, 0).unwrap(),
        ] {
            assert_eq!(minute_utc(&t), t.format("%Y-%m-%d %H:%M").to_string());
        }
    }

    #[test]
    fn parses_restic_style() {
        assert_eq!("30d".parse::<Span>().unwrap().as_secs(), 30 * DAY);
        assert_eq!("12h".parse::<Span>().unwrap().as_secs(), 12 * HOUR);
        assert_eq!("90s".parse::<Span>().unwrap().as_secs(), 90);
        assert_eq!("1d12h".parse::<Span>().unwrap().as_secs(), DAY + 12 * HOUR);
        assert_eq!("2w".parse::<Span>().unwrap().as_secs(), 14 * DAY);
        assert_eq!("1y".parse::<Span>().unwrap().as_secs(), 365 * DAY);
        assert_eq!("5min".parse::<Span>().unwrap().as_secs(), 300);
        assert_eq!("0s".parse::<Span>().unwrap().as_secs(), 0);
    }

    /// `0` is nothing in any unit: `--live-grace 0` and `S3_PRUNE_LIVE_GRACE=0` turn the
    /// grace off, as the help and the README say (a bare `0` was refused, failing every run of
    /// a job configured that way); `10` still needs its unit.
    #[test]
    fn zero_needs_no_unit() {
        assert_eq!("0".parse::<Span>(), Ok(Span::from_secs(0)));
        assert_eq!(" 00 ".parse::<Span>(), Ok(Span::from_secs(0)));
        assert_eq!("0s".parse::<Span>(), Ok(Span::from_secs(0)));
        assert!(matches!(
            "10".parse::<Span>(),
            Err(SpanError::MissingUnit(_))
        ));
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        assert_eq!("".parse::<Span>(), Err(SpanError::Empty));
        assert!(matches!(
            "d".parse::<Span>(),
            Err(SpanError::MissingNumber(_))
        ));
        assert!(matches!(
            "30".parse::<Span>(),
            Err(SpanError::MissingUnit(_))
        ));
        assert!(matches!(
            "30m".parse::<Span>(),
            Err(SpanError::AmbiguousM(_))
        ));
        assert!(matches!(
            "30x".parse::<Span>(),
            Err(SpanError::BadUnit { .. })
        ));
        assert!(matches!(
            "-3d".parse::<Span>(),
            Err(SpanError::MissingNumber(_))
        ));
        assert!(matches!(
            "99999999999999999999d".parse::<Span>(),
            Err(SpanError::Overflow(_))
        ));
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(Span::from_days(30).to_string(), "30 d");
        assert_eq!("12h".parse::<Span>().unwrap().to_string(), "12 h");
        assert_eq!("90s".parse::<Span>().unwrap().to_string(), "90 s");
        assert_eq!("1d12h".parse::<Span>().unwrap().to_string(), "36 h");
    }

    #[test]
    fn ages_never_read_equal_to_a_threshold_they_exceed() {
        let d30 = Span::from_days(30);
        assert_eq!(fmt_age(12 * DAY as i64, d30), "12 d old");
        assert_eq!(
            fmt_age(30 * DAY as i64 + 3 * HOUR as i64, d30),
            "30.1 d old"
        );
        assert_eq!(fmt_age(30 * DAY as i64, d30), "30 d old");
        // Before: "30.0 d old" (rounded down), read as "30.0 d > 30 d".
        assert_eq!(fmt_age(30 * DAY as i64 + HOUR as i64, d30), "30.1 d old");
        assert_eq!(fmt_age(HOUR as i64, Span::from_days(0)), "0.1 d old");
        assert_eq!(fmt_age(31 * DAY as i64 - 60, d30), "30.9 d old");
        assert_eq!(fmt_age(-5, d30), "dated in the future");
        assert_eq!(human_age(3 * DAY as i64 + 5), "3 d");
        assert_eq!(human_age(59), "59 s");
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(22 << 20), "22.0 MiB");
    }
}
