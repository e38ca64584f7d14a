//! The signed-in person on the page: asked once per page load (`whoami`), shown beside Sign out,
//! and what decides whether controls that change the bucket are offered. The server checks the
//! role on every server function; this only spares a viewer buttons that would be refused.
//! Read in the browser only: a page the server serves to many (the page cache) names nobody.

use crate::api::whoami;
use crate::wire::Person;
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct SignedIn(Signal<Option<Person>>);

/// Asks who is signed in (in the browser, once hydrated: an effect never runs on the server,
/// so the server's rendering never waits for it); call once, at the top of the app.
pub fn provide() {
    let me = RwSignal::new(None::<Person>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(p) = whoami().await {
                me.set(Some(p));
            }
        });
    });
    provide_context(SignedIn(me.into()));
}

/// The signed-in person, once known.
pub fn person() -> Signal<Option<Person>> {
    use_context::<SignedIn>()
        .map(|s| s.0)
        .unwrap_or_else(|| Signal::derive(|| None))
}

/// May the signed-in person apply, restore, pin or rescan on bucket `key` (false until known).
pub fn may_change_in(key: String) -> Signal<bool> {
    let p = person();
    Signal::derive(move || p.with(|p| p.as_ref().is_some_and(|p| p.role_in(&key).may_change())))
}
