//! The table's virtual window: only the rows around the scroll position are in the page, and
//! spacer rows above and below stand in for the rest.
//!
//! A control change then repaints the ~40 rows in view instead of 2,000, and scrolling moves
//! the window in steps of `STEP` rows.

use leptos::html::{Div, Tr};
use leptos::prelude::*;

/// The window moves in steps of this many rows.
const STEP: usize = 10;

/// Where the window is: its first row (a position in the table's order), its length `span`
/// (the rows that fit in the scroll box plus a margin above and below; 60 until measured), the
/// measured row height, and the elements it measures and sizes.
#[derive(Clone, Copy)]
pub struct Window {
    pub first: RwSignal<usize>,
    pub span: RwSignal<usize>,
    pub row_h: RwSignal<f64>,
    pub scroller: NodeRef<Div>,
    pub top_pad: NodeRef<Tr>,
    pub bottom_pad: NodeRef<Tr>,
}

impl Window {
    pub fn new() -> Self {
        Window {
            first: RwSignal::new(0usize),
            span: RwSignal::new(60usize),
            row_h: RwSignal::new(33.0f64),
            scroller: NodeRef::new(),
            top_pad: NodeRef::new(),
            bottom_pad: NodeRef::new(),
        }
    }

    /// The positions in view, `start..end`, of a table of `len` rows (tracked).
    pub fn range(self, len: usize) -> std::ops::Range<usize> {
        let start = self.first.get().min(len);
        start..(start + self.span.get()).min(len)
    }

    /// Reads the row height and fits `span` to the scroll box.
    ///
    /// Called while the layout is settled (on mount and before a scroll moves the window),
    /// never between the window's DOM changes: a layout forced half-way would clamp the scroll
    /// position to a momentarily shorter table.
    pub fn measure(self) {
        let Window {
            span,
            row_h,
            scroller,
            ..
        } = self;
        if let Some(el) = scroller.get_untracked() {
            if let Some(h) = el
                .query_selector("tbody tr.row")
                .ok()
                .flatten()
                .map(|r| r.get_bounding_client_rect().height())
                .filter(|h| *h > 0.0 && (*h - row_h.get_untracked()).abs() > 0.01)
            {
                row_h.set(h);
            }
            let fit = (f64::from(el.client_height()) / row_h.get_untracked()).ceil() as usize;
            // `first` trails the top row by STEP..2·STEP rows; one more STEP keeps at least
            // STEP rows below the view, so Tab from the last visible row stays in the table.
            let want = fit.max(10) + 3 * STEP;
            if want != span.get_untracked() {
                span.set(want);
            }
        }
    }

    /// Moves the window after a scroll, in steps of `STEP` rows.
    pub fn on_scroll(self) {
        self.measure();
        if let Some(el) = self.scroller.get_untracked() {
            let top_row =
                (f64::from(el.scroll_top()) / self.row_h.get_untracked()).floor() as usize;
            let f = top_row.saturating_sub(STEP) / STEP * STEP;
            if f != self.first.get_untracked() {
                self.first.set(f);
            }
        }
    }

    /// Back to the top of the table (a new sort or filter).
    pub fn reset(self) {
        self.first.set(0);
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    }

    /// Keeps the spacer rows as tall as the `shown` rows above and below the window. Set from
    /// the browser: a style attribute in the HTML would break the CSP.
    pub fn size_spacers(self, shown: Memo<usize>) {
        Effect::new(move |_| {
            let (f, h, n) = (self.first.get(), self.row_h.get(), shown.get());
            let end = (f + self.span.get()).min(n);
            for (pad, rows_hidden) in [(self.top_pad, f.min(n)), (self.bottom_pad, n - end)] {
                if let Some(tr) = pad.get() {
                    let _ = web_sys::HtmlElement::style(&tr)
                        .set_property("height", &format!("{}px", rows_hidden as f64 * h));
                }
            }
        });
    }
}
