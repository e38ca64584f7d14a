//! The bucket's lease as the page shows it: an apply (or a restore, or an undo-window change)
//! running from the CLI, the scheduled job or another dashboard is named (what, who, from where,
//! since when) before anyone opens the Apply dialog, and Delete waits until it ends. Checked when the page loads, after every scan,
//! when the dialog opens, and every few seconds while someone holds it.

use super::browser::sleep_ms;
use crate::api::lease_holder;
use crate::format;
use crate::wire::LeaseView;
use leptos::prelude::*;

/// How often the page looks again while another run holds the lease.
const RECHECK_MS: u32 = 5_000;

/// The lease as last read; `held` is `Some` only while a live (unexpired) lease is held.
#[derive(Clone, Copy)]
pub struct LeaseWatch {
    pub lease: Signal<Option<LeaseView>>,
    pub held: Signal<Option<LeaseView>>,
    recheck: RwSignal<u32>,
}

impl LeaseWatch {
    /// Reads bucket `key`'s lease now and again whenever `rescan` changes.
    pub fn new(key: String, rescan: RwSignal<u32>) -> Self {
        let recheck = RwSignal::new(0u32);
        let read = RwSignal::new(None::<LeaseView>);
        // An effect: it runs in the browser only, so the server's rendering never waits on it.
        Effect::new(move |_| {
            recheck.track();
            rescan.track();
            let key = key.clone();
            leptos::task::spawn_local(async move {
                if let Ok(l) = lease_holder(key).await {
                    read.set(l);
                }
            });
        });
        let lease: Signal<Option<LeaseView>> = read.into();
        let held = Signal::derive(move || lease.get().filter(|l| !l.expired));
        Effect::new(move |_| {
            if held.with(Option::is_some) {
                leptos::task::spawn_local(async move {
                    sleep_ms(RECHECK_MS).await;
                    recheck.update(|n| *n += 1);
                });
            }
        });
        LeaseWatch {
            lease,
            held,
            recheck,
        }
    }

    /// Looks again (the dialog is opening).
    pub fn check(&self) {
        self.recheck.update(|n| *n += 1);
    }
}

/// One line naming the holder, when there is one.
#[component]
pub fn LeaseNotice(watch: LeaseWatch) -> impl IntoView {
    move || {
        watch.lease.get().map(|l| {
            let text = if l.expired {
                format!(
                    "A stopped run left this bucket's lease ({} from {} on {}, run {}, since {}): the next apply takes it over.",
                    l.who, source_name(&l.source), l.host, l.run, format::date(&l.since)
                )
            } else {
                format!(
                    "{} is running on this bucket: {} from {} on {} (run {}) since {}. Delete waits until it ends.",
                    l.what, l.who, source_name(&l.source), l.host, l.run, format::date(&l.since)
                )
            };
            view! { <p class="lease" role="status" data-testid="lease-holder">{text}</p> }
        })
    }
}

/// A front end's name for people.
fn source_name(source: &str) -> &str {
    match source {
        "cli" => "the CLI",
        "dashboard" => "a dashboard",
        "lambda" => "the scheduled job",
        other => other,
    }
}
