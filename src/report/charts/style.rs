//! Look and output of every chart: the embedded font, the fixed palette, sizes, and writing one
//! chart as both PNG (for viewing) and SVG (for embedding and for text search).
//!
//! Plotters is built without font discovery (`ab_glyph`, no fontconfig), so DejaVu Sans is
//! embedded in the binary and registered as `sans-serif` before the first chart is drawn.

use crate::record::write_atomic;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// DejaVu Sans (Debian `fonts-dejavu-core`; licence in `assets/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
pub const FONT_FAMILY: &str = "sans-serif";

/// Register the embedded font once; every later call returns the first outcome.
pub fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
                .and_then(|()| plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, FONT))
                .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_string())
        })
        .clone()
}

/// Chart size in pixels (PNG) and user units (SVG).
pub const WIDTH: u32 = 1200;

pub const TITLE_SIZE: u32 = 26;
pub const LABEL_SIZE: u32 = 17;
pub const TICK_SIZE: u32 = 14;

// Fixed palette (Okabe–Ito, colour-blind safe), so a colour means the same in every chart.
pub const C_GREEN: RGBColor = RGBColor(0, 158, 115);
pub const C_BLUE: RGBColor = RGBColor(0, 114, 178);
pub const C_SKY: RGBColor = RGBColor(86, 180, 233);
pub const C_ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const C_VERMILION: RGBColor = RGBColor(213, 94, 0);
pub const C_PURPLE: RGBColor = RGBColor(204, 121, 167);
pub const C_YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const C_GREY: RGBColor = RGBColor(150, 150, 150);
pub const C_DARK: RGBColor = RGBColor(40, 40, 40);
pub const C_LIGHT_GREY: RGBColor = RGBColor(235, 235, 235);
/// Shading of the procedure phase.
pub const PROCEDURE_SHADE: RGBColor = RGBColor(255, 236, 200);
/// Shading of an injected fault (`fault:*` marks), distinct from the procedure's.
pub const FAULT_SHADE: RGBColor = RGBColor(214, 204, 235);

/// Colours for series without a fixed meaning (strategies, op kinds), in order.
pub const SERIES: [RGBColor; 7] = [C_BLUE, C_VERMILION, C_GREEN, C_PURPLE, C_ORANGE, C_SKY, C_DARK];

pub fn series_colour(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// A chart that can draw itself on any backend.
pub trait Chart {
    /// File stem, e.g. `throughput`.
    fn stem(&self) -> String;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Paths of one chart written in both formats.
#[derive(Debug, Clone)]
pub struct ChartFiles {
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// Draw `chart` into `<dir>/<stem>.png` and `<dir>/<stem>.svg`.
pub fn save<C: Chart>(chart: &C, dir: &Path) -> Result<ChartFiles, ReportError> {
    let stem = chart.stem();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let fail = |path: &Path, detail: String| ReportError::Chart { path: path.to_path_buf(), detail };
    ensure_font().map_err(|d| fail(&png, d))?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir { path: dir.to_path_buf(), source })?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, chart.size()).into_drawing_area();
        chart.draw(&root).map_err(|e| fail(&svg, e.to_string()))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    write_atomic(&svg, text.as_bytes())?;

    // The bitmap encoder picks the format from the extension, so the temp name ends in .png.
    let tmp = dir.join(format!(".{stem}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, chart.size()).into_drawing_area();
        chart.draw(&root).map_err(|e| fail(&png, e.to_string()))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    std::fs::rename(&tmp, &png).map_err(|source| ReportError::Write { path: png.clone(), source })?;
    Ok(ChartFiles { png, svg })
}

pub fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().into()
}

pub fn title_font() -> TextStyle<'static> {
    (FONT_FAMILY, TITLE_SIZE).into_font().style(FontStyle::Bold).into()
}

/// A message in the middle of an empty chart, so "no data" never looks like a broken image.
pub fn draw_empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_string(), (20, 15), title_font()))?;
    root.draw(&Text::new(message.to_string(), (w as i32 / 2 - 150, h as i32 / 2), font(LABEL_SIZE).color(&C_GREY)))?;
    Ok(())
}

/// Milliseconds as a short human string: `850 ms`, `1.25 s`.
pub fn fmt_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Microseconds as a short human string: `420 µs`, `3.1 ms`, `2.00 s`.
pub fn fmt_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// Axis tick label without needless decimals: `2`, `0.5`, `1400`.
pub fn fmt_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
