//! The timeline's picture in the browser: the marks drawn as paths per verdict (`draw`), the
//! ring around the focused mark, and which mark the pointer is over.

use crate::dashboard::draw::{draw_marks, draw_ring};
use crate::dashboard::marks::{hit, Mark, Spot, W};
use crate::dashboard::paint::{class_at, lanes_of};
use leptos::prelude::*;
use leptos::svg::{Svg, G};
use retention::Plan;

/// The drawn picture: its `<svg>`, the layer the marks are drawn in, and the marks as last
/// drawn (what the pointer and the keys find) with the paths that drew them.
#[derive(Clone, Copy)]
pub struct Picture {
    pub svg: NodeRef<Svg>,
    pub layer: NodeRef<G>,
    drawn: StoredValue<Vec<Mark>>,
    last_paths: StoredValue<Vec<String>>,
}

impl Picture {
    pub fn new() -> Self {
        Picture {
            svg: NodeRef::new(),
            layer: NodeRef::new(),
            drawn: StoredValue::new(Vec::new()),
            last_paths: StoredValue::new(Vec::new()),
        }
    }

    /// Draws the `n` marks once the picture is in the page and again whenever the plan changes
    /// (rewriting only the paths that changed), and keeps the ring on the focused mark.
    pub fn follow(
        self,
        plan: Memo<Option<Plan>>,
        spots: StoredValue<Vec<Spot>>,
        focused: RwSignal<Option<usize>>,
        n: usize,
    ) {
        let Picture {
            svg,
            layer,
            drawn,
            last_paths,
        } = self;
        Effect::new(move |_| {
            let (Some(svg), Some(g)) = (svg.get(), layer.get()) else {
                return;
            };
            let marks: Vec<Mark> = plan.with(|p| {
                let lanes = lanes_of(p, n);
                spots.with_value(|s| {
                    s.iter()
                        .enumerate()
                        .map(|(i, spot)| Mark::at(*spot, i, lanes[i], class_at(p, i)))
                        .collect()
                })
            });
            last_paths.update_value(|last| draw_marks(&svg, &g, &marks, last));
            // the focused mark may have moved to another lane
            draw_ring(&g, focused.get_untracked().and_then(|i| marks.get(i)));
            drawn.set_value(marks);
        });
        Effect::new(move |_| {
            let f = focused.get();
            if let Some(g) = layer.get() {
                drawn.with_value(|m| draw_ring(&g, f.and_then(|i| m.get(i))));
            }
        });
    }

    /// The mark under the pointer, found in viewBox units (the picture keeps its aspect ratio,
    /// so one scale).
    pub fn at_pointer(self, ev: &leptos::ev::MouseEvent) -> Option<usize> {
        let svg = self.svg.get_untracked()?;
        let rect = svg.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return None;
        }
        let s = rect.width() / W;
        let x = (f64::from(ev.client_x()) - rect.left()) / s;
        let y = (f64::from(ev.client_y()) - rect.top()) / s;
        self.drawn.with_value(|m| hit(m, x, y))
    }
}
