//! What the dashboard shows of a bucket without deployments under its prefix.

use crate::format;
use leptos::prelude::*;
use retention::LooseObjects;

/// "No deployments", and the loose objects there are instead.
#[component]
pub fn EmptyBucket(loose: LooseObjects) -> impl IntoView {
    view! {
        <div class="empty" role="status" data-testid="empty">
            <p><strong>"No deployments"</strong>" in this bucket under this prefix."</p>
            {(loose.objects > 0).then(|| view! {
                <p>{format!("Only {} directly under the prefix ({}); loose objects are never deleted.",
                    format::plural(loose.objects, "loose object", "loose objects"), format::size(loose.bytes))}</p>
            })}
        </div>
    }
}
