//! The signed-in person on the page: asked once per page load (`whoami`), shown beside Sign out,
//! and what decides whether controls that change the bucket are offered. The server checks the
//! role on every server function; this only spares a viewer buttons that would be refused.
//! Read in the browser only: a page the server serves to many (the page cache) names nobody.

use crate::api::whoami;
use crate::wire::Person;
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct SignedIn(Signal<Option<Person>>);

/// Asks who is signed in; call once, at the top of the app.
pub fn provide() {
    let me = LocalResource::new(whoami);
    provide_context(SignedIn(Signal::derive(move || {
        me.get().and_then(Result::ok)
    })));
}

/// The signed-in person, once known.
pub fn person() -> Signal<Option<Person>> {
    use_context::<SignedIn>()
        .map(|s| s.0)
        .unwrap_or_else(|| Signal::derive(|| None))
}

/// May the signed-in person apply, restore, pin or rescan (false until known).
pub fn may_change() -> Signal<bool> {
    let p = person();
    Signal::derive(move || p.with(|p| p.as_ref().is_some_and(|p| p.role.may_change())))
}
