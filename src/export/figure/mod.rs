//! Report figures (PNG, SVG) drawn with plotters and an embedded font, so they render on a
//! fresh machine without system fonts: gnorm against step with the clip line, above-clip points
//! highlighted and every explosion circled and annotated.

mod gnorm;
mod heatmap;

pub use gnorm::{explosion_pixels, gnorm_figure};
pub use heatmap::{similarity_figure, HeatGeometry, FULL_RESOLUTION_MAX};

use plotters::prelude::*;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font once for every figure.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType file checked in with the code; failure would be a
        // build defect, and figures would then only lack text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        let _ = plotters::style::register_font(FAMILY, FontStyle::Bold, FONT);
    });
}

/// Output kind, from the file name or the flag used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

pub const GNORM_BLUE: RGBColor = RGBColor(31, 119, 180);
pub const ABOVE_AMBER: RGBColor = RGBColor(230, 140, 20);
pub const EXPLOSION_RED: RGBColor = RGBColor(214, 39, 40);
pub const CLIP_GREY: RGBColor = RGBColor(90, 90, 90);
pub const NAN_MAGENTA: RGBColor = RGBColor(170, 60, 200);
