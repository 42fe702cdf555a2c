//! What every time-series chart of a run shares: the procedure interval shaded, procedure steps as
//! vertical lines, leader changes and convergence marked (Jepsen's `with-nemeses`), and a legend
//! drawn beside the plot so it never covers data.

use super::style::*;
use crate::record::{labels, Mark, MarkKind};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Timeline annotations, in seconds since the run's epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations {
    /// `phase:procedure` start and end (end = last recorded time if it never ended).
    pub procedure: Option<(f64, f64)>,
    /// Procedure steps (Start and Point marks that are not phases), with their labels.
    pub steps: Vec<(f64, String)>,
    /// Instants the monitor saw a new leader.
    pub leader_changes: Vec<f64>,
    /// The `converged` mark.
    pub converged: Option<f64>,
}

/// Whether a mark is a procedure step worth a line: not a phase boundary, not convergence, not
/// client-side session events or informational points (they are in marks.json, not on charts).
fn is_step(label: &str) -> bool {
    labels::is_step(label) && !label.starts_with("session-")
}

impl Annotations {
    /// Derive annotations from marks; `end_s` closes an unterminated procedure phase.
    pub fn from_marks(marks: &[Mark], leader_changes_us: &[u64], end_s: f64) -> Annotations {
        let s = |us: u64| us as f64 / 1e6;
        let start = marks.iter().find(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::Start).map(|m| s(m.at_us));
        let end = marks.iter().find(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::End).map(|m| s(m.at_us));
        let procedure = start.map(|a| (a, end.unwrap_or(end_s).max(a)));
        let steps = marks
            .iter()
            .filter(|m| m.kind != MarkKind::End && is_step(&m.label))
            .map(|m| (s(m.at_us), m.label.clone()))
            .collect();
        let converged = marks.iter().find(|m| m.label == labels::CONVERGED).map(|m| s(m.at_us));
        Annotations { procedure, steps, leader_changes: leader_changes_us.iter().map(|&u| s(u)).collect(), converged }
    }
}

/// Shade the procedure interval. Call before drawing series.
pub fn draw_shading<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    ann: &Annotations,
    y: (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if let Some((a, b)) = ann.procedure {
        chart.draw_series(std::iter::once(Rectangle::new([(a, y.0), (b, y.1)], PROCEDURE_SHADE.filled())))?;
    }
    Ok(())
}

/// Step lines, convergence line and leader-change markers. Call after drawing series.
/// `labels`: write step labels (only on the top panel of a multi-panel chart).
pub fn draw_marks<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    ann: &Annotations,
    y: (f64, f64),
    labels: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let step_style = ShapeStyle::from(&C_DARK.mix(0.55)).stroke_width(1);
    for (i, (t, label)) in ann.steps.iter().enumerate() {
        chart.draw_series(std::iter::once(DashedPathElement::new(vec![(*t, y.0), (*t, y.1)], 4, 3, step_style)))?;
        if labels {
            // Stagger labels over three rows so close steps stay legible.
            let row = (i % 3) as i32;
            let pos = area_coord(chart, (*t, y.1));
            let text = Text::new(format!(" {label}"), (pos.0, pos.1 + 2 + row * 15), font(12).color(&C_DARK));
            chart.plotting_area().strip_coord_spec().draw(&text)?;
        }
    }
    if let Some(t) = ann.converged {
        let style = ShapeStyle::from(&C_GREEN).stroke_width(2);
        chart.draw_series(std::iter::once(DashedPathElement::new(vec![(t, y.0), (t, y.1)], 8, 4, style)))?;
    }
    for t in &ann.leader_changes {
        let pos = area_coord(chart, (*t, y.1));
        let tri = TriangleMarker::new((pos.0, pos.1 + 6), 6, C_PURPLE.filled());
        chart.plotting_area().strip_coord_spec().draw(&tri)?;
    }
    Ok(())
}

/// Pixel position of a data point within the chart's plotting area (for drawing on
/// `plotting_area().strip_coord_spec()`, whose origin is the area's corner, not the image's).
pub fn area_coord<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    p: (f64, f64),
) -> (i32, i32) {
    let abs = chart.backend_coord(&p);
    let base = chart.plotting_area().get_base_pixel();
    (abs.0 - base.0, abs.1 - base.1)
}

/// A legend entry: a filled box, a line, a dashed line or a triangle.
#[derive(Debug, Clone)]
pub enum Swatch {
    Box(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Triangle(RGBColor),
    Dot(RGBColor),
}

/// Legend entries for the annotations that are present.
pub fn annotation_legend(ann: &Annotations) -> Vec<(String, Swatch)> {
    let mut v = Vec::new();
    if ann.procedure.is_some() {
        v.push(("procedure phase".to_string(), Swatch::Box(PROCEDURE_SHADE)));
    }
    if !ann.steps.is_empty() {
        v.push(("procedure step".to_string(), Swatch::Dashed(C_GREY)));
    }
    if ann.converged.is_some() {
        v.push(("converged".to_string(), Swatch::Dashed(C_GREEN)));
    }
    if !ann.leader_changes.is_empty() {
        v.push(("leader change".to_string(), Swatch::Triangle(C_PURPLE)));
    }
    v
}

/// Draw a vertical legend into `area` (a strip beside the plot).
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    items: &[(String, Swatch)],
    top: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let x = 10;
    let mut y = top;
    if !title.is_empty() {
        area.draw(&Text::new(title.to_string(), (x, y), font(LABEL_SIZE).color(&C_DARK)))?;
        y += 26;
    }
    for (label, swatch) in items {
        let c = (x + 12, y + 8);
        match swatch {
            Swatch::Box(col) => {
                area.draw(&Rectangle::new([(x, y + 1), (x + 24, y + 15)], col.filled()))?;
                area.draw(&Rectangle::new([(x, y + 1), (x + 24, y + 15)], C_GREY.stroke_width(1)))?;
            }
            Swatch::Line(col) => area.draw(&PathElement::new(vec![(x, c.1), (x + 24, c.1)], col.stroke_width(3)))?,
            Swatch::Dashed(col) => {
                area.draw(&DashedPathElement::new(vec![(x, c.1), (x + 24, c.1)], 4, 3, col.stroke_width(2)))?
            }
            Swatch::Triangle(col) => area.draw(&TriangleMarker::new(c, 6, col.filled()))?,
            Swatch::Dot(col) => area.draw(&Circle::new(c, 5, col.filled()))?,
        }
        area.draw(&Text::new(label.clone(), (x + 32, y), font(TICK_SIZE).color(&C_DARK)))?;
        y += 22;
    }
    Ok(())
}

/// The plot area and the legend strip beside it.
pub type PlotAndLegend<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// Split `root` into a title strip, a plot area and a legend strip on the right.
pub fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    legend_width: u32,
) -> Result<PlotAndLegend<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(if subtitle.is_empty() { 50 } else { 72 });
    top.draw(&Text::new(title.to_string(), (20, 12), title_font().color(&C_DARK)))?;
    if !subtitle.is_empty() {
        top.draw(&Text::new(subtitle.to_string(), (20, 46), font(TICK_SIZE).color(&C_GREY)))?;
    }
    let (w, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(w.saturating_sub(legend_width));
    Ok((plot, legend))
}
