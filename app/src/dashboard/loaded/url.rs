//! The page's URL follows its controls, so a preview is a link.

use crate::dashboard::browser::{set_url, UrlState};
use crate::dashboard::controls::ControlState;
use crate::dashboard::policy::encode_rules;
use leptos::prelude::*;

/// Writes the controls of bucket `key` into the URL a moment after their last change:
/// Chromium's replaceState costs ~2 ms, an eighth of the frame the preview has to fit in.
pub fn url_follows_controls(key: String, state: ControlState) {
    let ControlState {
        retain,
        days,
        price,
        rules,
        ..
    } = state;
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let (r, d, p) = (retain.get(), days.get(), price.get());
        let compact = rules.with(|r| r.as_deref().map(encode_rules));
        let key = key.clone();
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        let h = set_timeout_with_handle(
            move || {
                set_url(&UrlState {
                    bucket: &key,
                    retain: &r,
                    days: &d,
                    price: &p,
                    rules: compact.as_deref(),
                })
            },
            std::time::Duration::from_millis(150),
        );
        pending.set_value(h.ok());
    });
}
