//! Each front end's last successful run, as the overview's rows and a bucket's facts show it.

use crate::format;
use crate::wire::SourceSuccess;
use leptos::prelude::*;

/// Each front end's last run that ended well; red when older than two days (a nightly job that
/// stopped), "none on record" when no front end has one.
#[component]
pub(crate) fn LastSuccesses(last: Vec<SourceSuccess>) -> impl IntoView {
    if last.is_empty() {
        return view! { <span class="late">"none on record"</span> }.into_any();
    }
    last.into_iter()
        .map(|l| {
            let late = l.late;
            let text = format!("{} {} UTC", l.source, format::date(&l.at));
            view! { <span class="success" class:late=late data-source=l.source.clone()>{text}</span> }
        })
        .collect_view()
        .into_any()
}
