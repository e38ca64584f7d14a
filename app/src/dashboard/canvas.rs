//! Drawing the timeline's marks into one `<canvas>`: one path per verdict, so a preview change
//! costs a few canvas calls instead of restyling and repainting thousands of SVG circles.
//! Runs in the browser only (from an effect).

use super::marks::{counts, Mark, W};
use wasm_bindgen::JsCast;

/// The verdict classes in drawing order, with the CSS variable holding each one's colour.
const FILLS: [(&str, &str); 4] = [
    ("excluded", "--excluded"),
    ("keep", "--keep"),
    ("pinned", "--pinned"),
    ("delete", "--delete"),
];

/// Draws `marks` (viewBox units) scaled to the canvas's CSS width, sharp on any pixel ratio,
/// with a ring around `focused`; states what it drew in `data-keep`, `data-delete`,
/// `data-pinned`, `data-excluded` and the canvas's label.
pub fn draw(canvas: &web_sys::HtmlCanvasElement, marks: &[Mark], focused: Option<usize>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let css_w = f64::from(canvas.client_width());
    let css_h = f64::from(canvas.client_height());
    if css_w <= 0.0 || css_h <= 0.0 {
        return;
    }
    let dpr = window.device_pixel_ratio().max(1.0);
    let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let style = window.get_computed_style(canvas).ok().flatten();
    let colour = |var: &str| {
        style
            .as_ref()
            .and_then(|s| s.get_property_value(var).ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "#888".into())
    };
    let scale = css_w / W * dpr;
    let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, f64::from(pw), f64::from(ph));
    let _ = ctx.set_transform(scale, 0.0, 0.0, scale, 0.0, 0.0);
    ctx.set_global_alpha(0.8);
    for (class, var) in FILLS {
        ctx.set_fill_style_str(&colour(var));
        ctx.begin_path();
        for m in marks.iter().filter(|m| m.class == class) {
            ctx.move_to(m.x + m.r, m.y);
            let _ = ctx.arc(m.x, m.y, m.r, 0.0, std::f64::consts::TAU);
        }
        ctx.fill();
    }
    ctx.set_global_alpha(1.0);
    if let Some(m) = focused.and_then(|i| marks.get(i)) {
        ctx.set_stroke_style_str(&colour("--fg"));
        ctx.set_line_width(2.0 * css_w.recip() * W);
        ctx.begin_path();
        let _ = ctx.arc(m.x, m.y, m.r + 2.0, 0.0, std::f64::consts::TAU);
        ctx.stroke();
    }
    let [keep, delete, pinned, excluded] = counts(marks);
    for (name, n) in [
        ("data-keep", keep),
        ("data-delete", delete),
        ("data-pinned", pinned),
        ("data-excluded", excluded),
    ] {
        let _ = canvas.set_attribute(name, &n.to_string());
    }
    let _ = canvas.set_attribute(
        "aria-label",
        &format!(
            "Deployments over time, newest on the right: {keep} kept, {delete} deleted, \
             {pinned} pinned, {excluded} excluded. Arrow keys move between them."
        ),
    );
}
