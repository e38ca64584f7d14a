//! Pinning from the table: each row's Pin (or Unpin) button, and the request it sends.

use crate::api::set_pin;
use crate::dashboard::browser::ask_reason;
use crate::dashboard::server_error;
use leptos::prelude::*;
use retention::DeploymentId;

/// What a pin button needs: the pins as scanned, where to send a change, and how the page
/// hears of it (a rescan, or a notice when it failed).
#[derive(Clone, Copy)]
pub struct Pins {
    pub pinned: StoredValue<Vec<DeploymentId>>,
    pub bucket_key: StoredValue<String>,
    pub rescan: RwSignal<u32>,
    pub notice: RwSignal<Option<String>>,
    pub read_only: Signal<bool>,
}

impl Pins {
    fn is_pinned(self, id: &DeploymentId) -> bool {
        self.pinned.with_value(|p| p.contains(id))
    }

    /// Pins `id` (asking why first; no answer, no pin) or unpins it, then rescans.
    fn toggle(self, id: DeploymentId, pin: bool) {
        let Some(reason) = (if pin {
            ask_reason(&id)
        } else {
            Some(String::new())
        }) else {
            return;
        };
        let key = self.bucket_key.get_value();
        let Pins { rescan, notice, .. } = self;
        leptos::task::spawn_local(async move {
            match set_pin(key, id.to_string(), reason, pin).await {
                Ok(()) => rescan.update(|n| *n += 1),
                // The server says whether it was saved ("nothing pinned", or "saved, but …").
                Err(e) => notice.set(Some(format!("Pin: {}", server_error(&e)))),
            }
        });
    }
}

/// The Pin or Unpin button of deployment `id`.
#[component]
pub fn PinButton(id: DeploymentId, pins: Pins) -> impl IntoView {
    let is_pinned = pins.is_pinned(&id);
    let word = if is_pinned { "Unpin" } else { "Pin" };
    let label = format!("{word} {id}");
    view! {
        <button type="button" class="link" aria-label=label disabled=move || pins.read_only.get()
            on:click=move |_| pins.toggle(id.clone(), !is_pinned)>
            {word}
        </button>
    }
}
