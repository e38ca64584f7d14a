//! Moving between the timeline's marks with the keyboard.

/// The mark a key moves the focus to among `n` marks (rows are newest first, the picture has
/// the newest on the right): arrows walk in time, Home and End jump to the ends; `None` for
/// any other key, or when there are no marks.
pub fn next_focus(key: &str, cur: Option<usize>, n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    match key {
        "ArrowLeft" => Some(cur.map_or(0, |i| (i + 1).min(n - 1))),
        "ArrowRight" => Some(cur.map_or(0, |i| i.saturating_sub(1))),
        "Home" => Some(n - 1),
        "End" => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::next_focus;

    #[test]
    fn arrows_walk_in_time_and_stop_at_the_ends() {
        assert_eq!(next_focus("ArrowLeft", Some(2), 5), Some(3));
        assert_eq!(next_focus("ArrowLeft", Some(4), 5), Some(4));
        assert_eq!(next_focus("ArrowRight", Some(2), 5), Some(1));
        assert_eq!(next_focus("ArrowRight", Some(0), 5), Some(0));
        assert_eq!(next_focus("ArrowLeft", None, 5), Some(0));
        assert_eq!(next_focus("ArrowRight", None, 5), Some(0));
    }

    #[test]
    fn home_is_the_oldest_end_the_newest_and_other_keys_do_nothing() {
        assert_eq!(next_focus("Home", Some(1), 5), Some(4));
        assert_eq!(next_focus("End", Some(1), 5), Some(0));
        assert_eq!(next_focus("Enter", Some(1), 5), None);
        assert_eq!(next_focus("Home", None, 0), None);
    }
}
