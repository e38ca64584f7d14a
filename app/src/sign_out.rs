//! The "Sign out" control of every page's navigation: a POST form, so a link on another site
//! cannot sign anyone out (the server signs out only on a same-origin POST to `/logout`).

use leptos::prelude::*;

#[component]
pub fn SignOut() -> impl IntoView {
    let person = crate::signed::person();
    view! {
        {move || person.get().map(|p| view! {
            <span class="person" data-testid="person">{p.name}" · "{p.role.name()}</span>
        })}
        <form class="sign-out" method="post" action="/logout">
            <button type="submit">"Sign out"</button>
        </form>
    }
}
