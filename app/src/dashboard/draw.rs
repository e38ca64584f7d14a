//! Drawing the timeline's marks: the marks, in time order, come in chunks of [`CHUNK`]; each
//! chunk has one SVG `<path>` per verdict holding its marks of that verdict, and a preview
//! change rewrites only the paths whose marks changed (a retain change: the two or three
//! chunks where the cut moved). No canvas: measured in headless Chromium without a GPU, a
//! canvas update cost a frame ~13 ms, the same marks as paths ~8 ms, and restyling 2,000
//! circles more. Runs in the browser only (from an effect).

use super::marks::{counts, path_of, Mark, CHUNK, CLASSES};

/// Writes `marks` into the paths under `layer` (chunk by chunk, verdict by verdict, as
/// [`CLASSES`] orders them; `last` holds what each path was given last time), and states what
/// it drew in `data-keep`, `data-delete`, `data-pinned` and `data-excluded` on `picture` and in
/// its label.
pub fn draw_marks(
    picture: &web_sys::Element,
    layer: &web_sys::Element,
    marks: &[Mark],
    last: &mut Vec<String>,
) {
    let paths = layer.children();
    for (c, chunk) in marks.chunks(CHUNK).enumerate() {
        for (v, class) in CLASSES.iter().enumerate() {
            let k = c * CLASSES.len() + v;
            let d = path_of(chunk, class);
            if last.get(k) == Some(&d) {
                continue;
            }
            if let Some(path) = paths.item(k as u32) {
                let _ = path.set_attribute("d", &d);
            }
            if last.len() <= k {
                last.resize(k + 1, String::new());
            }
            last[k] = d;
        }
    }
    let [keep, delete, pinned, excluded] = counts(marks);
    for (name, n) in [
        ("data-keep", keep),
        ("data-delete", delete),
        ("data-pinned", pinned),
        ("data-excluded", excluded),
    ] {
        let _ = picture.set_attribute(name, &n.to_string());
    }
    let _ = picture.set_attribute(
        "aria-label",
        &format!(
            "Deployments over time, newest on the right: {keep} kept, {delete} deleted, \
             {pinned} pinned, {excluded} excluded. Arrow keys move between them."
        ),
    );
}

/// Moves the focus ring (`circle.ring` under `layer`) around `focused`, or hides it. A hover
/// or an arrow key costs this, not a redraw of the marks.
pub fn draw_ring(layer: &web_sys::Element, focused: Option<&Mark>) {
    if let Ok(Some(ring)) = layer.query_selector("circle.ring") {
        match focused {
            Some(m) => {
                let _ = ring.set_attribute("cx", &format!("{:.1}", m.x));
                let _ = ring.set_attribute("cy", &format!("{:.1}", m.y));
                let _ = ring.set_attribute("r", &format!("{:.1}", m.r + 2.0));
            }
            None => {
                let _ = ring.set_attribute("r", "0");
            }
        }
    }
}
