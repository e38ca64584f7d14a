//! The timeline's legend: what each colour of mark means.

use leptos::prelude::*;

/// The colours of the marks and of the region old enough to delete.
#[component]
pub fn Legend() -> impl IntoView {
    view! {
        <ul class="legend">
            <li><span class="swatch keep"></span>"kept"</li>
            <li><span class="swatch delete"></span>"deleted"</li>
            <li><span class="swatch pinned"></span>"pinned"</li>
            <li><span class="swatch excluded"></span>"excluded"</li>
            <li><span class="swatch old-region"></span>"old enough to delete"</li>
            <li class="hint">"size = bytes; newest on the right"</li>
        </ul>
    }
}
