//! The "Sign out" control of every page's navigation: a POST form, so a link on another site
//! cannot sign anyone out (the server signs out only on a same-origin POST to `/logout`).

use leptos::prelude::*;

#[component]
pub fn SignOut() -> impl IntoView {
    view! {
        <form class="sign-out" method="post" action="/logout">
            <button type="submit">"Sign out"</button>
        </form>
    }
}
