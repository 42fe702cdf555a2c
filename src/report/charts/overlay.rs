//! What every time-series chart of a run shares: the procedure interval shaded, injected faults
//! (`fault:*` Start/End marks) shaded in their own colour, procedure steps as numbered vertical
//! lines (the numbers refer to a step list printed under the chart), leader changes and
//! convergence marked (Jepsen's `with-nemeses`), and a legend drawn beside the plot so it never
//! covers data.

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
    /// Per step: Start → its End, seconds (None for a point or a step that never ended).
    pub step_durations: Vec<Option<f64>>,
    /// Injected faults: `fault:*` Start → End, seconds (end = last recorded time if it never
    /// ended), with the label.
    pub faults: Vec<(f64, f64, String)>,
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
        let mut sorted: Vec<&Mark> = marks.iter().collect();
        sorted.sort_by_key(|m| m.at_us);
        let end_of = |i: usize, m: &Mark| -> Option<f64> {
            if m.kind != MarkKind::Start {
                return None;
            }
            sorted[i + 1..].iter().find(|e| e.kind == MarkKind::End && e.label == m.label).map(|e| s(e.at_us))
        };
        let mut steps = Vec::new();
        let mut step_durations = Vec::new();
        let mut faults = Vec::new();
        for (i, m) in sorted.iter().enumerate() {
            if m.kind == MarkKind::End {
                continue;
            }
            if m.label.starts_with(FAULT_PREFIX) && m.kind == MarkKind::Start {
                let a = s(m.at_us);
                faults.push((a, end_of(i, m).unwrap_or(end_s).max(a), m.label.clone()));
            }
            if is_step(&m.label) {
                steps.push((s(m.at_us), m.label.clone()));
                step_durations.push(end_of(i, m).map(|e| e - s(m.at_us)));
            }
        }
        let converged = marks.iter().find(|m| m.label == labels::CONVERGED).map(|m| s(m.at_us));
        Annotations {
            procedure,
            steps,
            step_durations,
            faults,
            leader_changes: leader_changes_us.iter().map(|&u| s(u)).collect(),
            converged,
        }
    }

    /// The step list printed under a chart: `number  at  label  (duration)`.
    pub fn step_lines(&self) -> Vec<String> {
        self.steps
            .iter()
            .zip(self.step_durations.iter().chain(std::iter::repeat(&None)))
            .enumerate()
            .map(|(i, ((t, label), d))| match d {
                Some(d) => format!("{}  {t:.2} s  {label}  ({})", i + 1, fmt_ms(d * 1000.0)),
                None => format!("{}  {t:.2} s  {label}", i + 1),
            })
            .collect()
    }
}

/// Label prefix of fault marks (Start/End pairs), shaded on every time-series chart.
pub const FAULT_PREFIX: &str = "fault:";

/// Shade the procedure interval, then the faults over it. Call before drawing series.
pub fn draw_shading<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    ann: &Annotations,
    y: (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if let Some((a, b)) = ann.procedure {
        chart.draw_series(std::iter::once(Rectangle::new([(a, y.0), (b, y.1)], PROCEDURE_SHADE.filled())))?;
    }
    for (a, b, _) in &ann.faults {
        chart.draw_series(std::iter::once(Rectangle::new([(*a, y.0), (*b, y.1)], FAULT_SHADE.filled())))?;
    }
    Ok(())
}

/// Step numbers placed over the plot: (x, row) per step, the row chosen so that a number never
/// overlaps the previous one in its row (`min_gap` in x units). Rows are 0, 1, 2 (then reused).
pub fn step_number_rows(xs: &[f64], min_gap: f64) -> Vec<usize> {
    let mut last_in_row: Vec<f64> = vec![f64::NEG_INFINITY; 3];
    xs.iter()
        .map(|x| {
            let row = (0..3).find(|r| x - last_in_row[*r] >= min_gap).unwrap_or_else(|| {
                // All rows busy: the row whose last number is farthest left.
                (0..3).min_by(|a, b| last_in_row[*a].total_cmp(&last_in_row[*b])).unwrap_or(0)
            });
            last_in_row[row] = *x;
            row
        })
        .collect()
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
    let (x0, x1) = (chart.x_range().start, chart.x_range().end);
    let px = chart.plotting_area().dim_in_pixel().0.max(1) as f64;
    let rows = step_number_rows(&ann.steps.iter().map(|s| s.0).collect::<Vec<_>>(), 24.0 * (x1 - x0) / px);
    for (t, _) in &ann.steps {
        chart.draw_series(std::iter::once(DashedPathElement::new(vec![(*t, y.0), (*t, y.1)], 4, 3, step_style)))?;
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
    if labels {
        // Numbers last, so no line covers them. They refer to the step list under the chart;
        // rows keep close steps apart; below the top markers (leader changes, cut-off peaks).
        for (i, (t, _)) in ann.steps.iter().enumerate() {
            let pos = area_coord(chart, (*t, y.1));
            let label = format!("{}", i + 1);
            let (x, yy) = (pos.0 + 2, pos.1 + 14 + rows[i] as i32 * 17);
            let w = 9 * label.len() as i32 + 4;
            let area = chart.plotting_area().strip_coord_spec();
            area.draw(&Rectangle::new([(x - 1, yy - 1), (x + w, yy + 15)], WHITE.mix(0.85).filled()))?;
            area.draw(&Text::new(label, (x + 1, yy), font(13).color(&C_DARK)))?;
        }
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
    if !ann.faults.is_empty() {
        v.push(("fault injected".to_string(), Swatch::Box(FAULT_SHADE)));
    }
    if !ann.steps.is_empty() {
        v.push(("procedure step (#)".to_string(), Swatch::Dashed(C_GREY)));
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

/// Draw the numbered step list into `area` (a strip under the plot), in columns.
pub fn draw_step_list<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ann: &Annotations,
    left: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let lines = ann.step_lines();
    if lines.is_empty() {
        return Ok(());
    }
    let (w, _) = area.dim_in_pixel();
    let cols = STEP_LIST_COLUMNS;
    let col_w = (w as i32 - left - 10) / cols as i32;
    area.draw(&Text::new("procedure steps (number, time since run start, label, duration)".to_string(), (left, 2), font(TICK_SIZE).color(&C_GREY)))?;
    let per_col = lines.len().div_ceil(cols);
    for (i, line) in lines.iter().enumerate() {
        let (c, r) = (i / per_col, i % per_col);
        area.draw(&Text::new(line.clone(), (left + c as i32 * col_w, 24 + r as i32 * STEP_LINE_PX), font(13).color(&C_DARK)))?;
    }
    Ok(())
}

/// Columns of the step list and the height of one of its lines.
pub const STEP_LIST_COLUMNS: usize = 2;
pub const STEP_LINE_PX: i32 = 18;

/// Pixels the step list needs under a chart (0 without steps).
pub fn step_list_height(ann: &Annotations) -> u32 {
    if ann.steps.is_empty() {
        0
    } else {
        (34 + ann.steps.len().div_ceil(STEP_LIST_COLUMNS) as i32 * STEP_LINE_PX) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(at_s: f64, kind: MarkKind, label: &str) -> Mark {
        Mark::new((at_s * 1e6) as u64, kind, label, None)
    }

    #[test]
    fn steps_are_numbered_with_durations_and_faults_paired() {
        let marks = vec![
            m(5.0, MarkKind::Start, labels::PHASE_PROCEDURE),
            m(5.6, MarkKind::Start, "start zk2"),
            m(6.5, MarkKind::End, "start zk2"),
            m(6.5, MarkKind::Point, "restart zk1"),
            m(7.0, MarkKind::Start, "fault:pause zk1"),
            m(9.5, MarkKind::End, "fault:pause zk1"),
            m(11.0, MarkKind::Start, "fault:partition zk2"),
            m(12.0, MarkKind::End, labels::PHASE_PROCEDURE),
        ];
        let ann = Annotations::from_marks(&marks, &[], 20.0);
        assert_eq!(ann.procedure, Some((5.0, 12.0)));
        assert_eq!(ann.faults, vec![(7.0, 9.5, "fault:pause zk1".to_string()), (11.0, 20.0, "fault:partition zk2".to_string())]);
        let lines = ann.step_lines();
        assert_eq!(lines[0], "1  5.60 s  start zk2  (900 ms)");
        assert_eq!(lines[1], "2  6.50 s  restart zk1");
        assert_eq!(lines[2], "3  7.00 s  fault:pause zk1  (2.50 s)");
        assert!(annotation_legend(&ann).iter().any(|(l, _)| l == "fault injected"));
    }

    #[test]
    fn close_step_numbers_go_to_other_rows() {
        // 0.1 s apart with a 0.5 s minimum gap: three rows, then the oldest row again.
        assert_eq!(step_number_rows(&[1.0, 1.1, 1.2, 1.3, 3.0], 0.5), vec![0, 1, 2, 0, 0]);
        assert_eq!(step_number_rows(&[1.0, 2.0, 3.0], 0.5), vec![0, 0, 0]);
    }
}
