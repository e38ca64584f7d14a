//! Display helpers: numbers and dates for people. No policy here.

use chrono::{DateTime, Utc};

/// Sizes read the same in every front end.
pub fn size(bytes: u64) -> String {
    retention::human_size(bytes)
}

pub fn date(t: &DateTime<Utc>) -> String {
    retention::minute_utc(t)
}

pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Storage cost per month of `bytes` at `price` USD per GB-month (AWS bills GB as 2^30 bytes).
pub fn monthly_cost(bytes: u64, price: f64) -> String {
    let usd = bytes as f64 / (1u64 << 30) as f64 * price;
    if usd > 0.0 && usd < 0.01 {
        "< $0.01".into()
    } else {
        format!("${usd:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_costs() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(monthly_cost(10 << 30, 0.023), "$0.23");
        assert_eq!(monthly_cost(1 << 20, 0.023), "< $0.01");
        assert_eq!(monthly_cost(0, 0.023), "$0.00");
    }
}
