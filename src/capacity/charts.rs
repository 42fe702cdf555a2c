//! Sweep charts: data first ([`sweep_charts`] builds plain [`LinesChart`] values from the rows),
//! drawing last (the style of `report::charts`: embedded font, fixed palette, PNG + SVG).
//!
//! - `achieved-vs-offered-r<pct>`: per read ratio, achieved ok ops/s against offered, one line per
//!   (size, state), the diagonal for reference: the knee is where a line leaves the diagonal;
//! - `p99-vs-throughput-r<pct>`: p99 of all issued ops against achieved ops/s, the objective as a
//!   dashed line;
//! - `capacity-vs-size`: max sustainable ops/s against ensemble size, one line per read ratio
//!   (steady) — the shape of the ZooKeeper paper's throughput-vs-reads figure;
//! - `headroom-r<pct>`: max sustainable ops/s against size, one line per state;
//! - `usl-<size>-r<pct>`: closed-loop throughput against concurrency with the fitted USL curve.

use super::results::{CapacityRow, PointResult, StepRow};
use super::sweep::State;
use super::usl;
use crate::report::charts::overlay::{draw_legend, layout, Swatch};
use crate::report::charts::style::*;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

/// One series: label, colour, points, and whether to draw it as points only.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, f64)>,
    pub points_only: bool,
}

/// A line chart on linear (or log-y) axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LinesChart {
    pub stem: String,
    pub title: String,
    pub subtitle: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<Series>,
    /// A dashed horizontal line (the objective) with its label.
    pub hline: Option<(f64, String)>,
    /// Draw y = x (achieved = offered).
    pub diagonal: bool,
    /// Integer categories on x (ensemble sizes).
    pub integer_x: bool,
}

fn state_colour(s: State) -> RGBColor {
    match s {
        State::Steady => C_BLUE,
        State::Degraded => C_VERMILION,
        State::Expanding => C_ORANGE,
    }
}

/// Every chart of a sweep, as data.
pub fn sweep_charts(
    steps: &[StepRow],
    capacity: &[CapacityRow],
    points: &[PointResult],
    p99_ms: f64,
) -> Vec<LinesChart> {
    let mut out = Vec::new();
    let reads: BTreeSet<u32> = capacity.iter().map(|c| c.point.read_pct).collect();
    let combos: BTreeSet<(u32, State)> = capacity.iter().map(|c| (c.point.size, c.point.state)).collect();
    for &r in &reads {
        let open: Vec<&StepRow> = steps.iter().filter(|s| s.point.read_pct == r && s.step.mode == "open").collect();
        let mut achieved = Vec::new();
        let mut p99 = Vec::new();
        for (i, &(size, state)) in combos.iter().enumerate() {
            let mut rows: Vec<&&StepRow> = open.iter().filter(|s| s.point.size == size && s.point.state == state).collect();
            if rows.is_empty() {
                continue;
            }
            rows.sort_by_key(|s| s.step.offered_ops.unwrap_or(0));
            let label = format!("{size} servers, {state}");
            let colour = series_colour(i);
            achieved.push(Series {
                label: label.clone(),
                colour,
                points: rows.iter().map(|s| (s.step.offered_ops.unwrap_or(0) as f64, s.step.achieved_ops)).collect(),
                points_only: false,
            });
            let mut by_x: Vec<(f64, f64)> = rows.iter().map(|s| (s.step.achieved_ops, s.step.p99_ms)).collect();
            by_x.sort_by(|a, b| a.0.total_cmp(&b.0));
            p99.push(Series { label, colour, points: by_x, points_only: false });
        }
        out.push(LinesChart {
            stem: format!("achieved-vs-offered-r{r}"),
            title: format!("Achieved vs offered, {r} % reads"),
            subtitle: "every open-loop step; where a line leaves the diagonal, the ensemble stops keeping up".into(),
            x_desc: "offered ops/s".into(),
            y_desc: "achieved ok ops/s".into(),
            series: achieved,
            hline: None,
            diagonal: true,
            integer_x: false,
        });
        out.push(LinesChart {
            stem: format!("p99-vs-throughput-r{r}"),
            title: format!("p99 latency vs throughput, {r} % reads"),
            subtitle: "p99 of all issued operations (failures included), from the intended start".into(),
            x_desc: "achieved ok ops/s".into(),
            y_desc: "p99 ms".into(),
            series: p99,
            hline: Some((p99_ms, format!("objective p99 ≤ {p99_ms} ms"))),
            diagonal: false,
            integer_x: false,
        });
        let states: BTreeSet<State> = capacity.iter().filter(|c| c.point.read_pct == r).map(|c| c.point.state).collect();
        let headroom = states
            .iter()
            .map(|&st| Series {
                label: st.to_string(),
                colour: state_colour(st),
                points: capacity_line(capacity, |c| c.point.read_pct == r && c.point.state == st),
                points_only: false,
            })
            .collect();
        out.push(LinesChart {
            stem: format!("headroom-r{r}"),
            title: format!("Headroom by state, {r} % reads"),
            subtitle: "offered ops/s met with P ≥ 0.9 under the objective (bounds and points without data omitted)"
                .into(),
            x_desc: "ensemble size".into(),
            y_desc: "sustainable offered ops/s".into(),
            series: headroom,
            hline: None,
            diagonal: false,
            integer_x: true,
        });
    }
    out.push(LinesChart {
        stem: "capacity-vs-size".into(),
        title: "Max sustainable throughput vs ensemble size".into(),
        subtitle: "steady state, one line per read ratio (cf. ZooKeeper ATC'10, Fig. 5)".into(),
        x_desc: "ensemble size".into(),
        y_desc: "sustainable offered ops/s".into(),
        series: reads
            .iter()
            .enumerate()
            .map(|(i, &r)| Series {
                label: format!("{r} % reads"),
                colour: series_colour(i),
                points: capacity_line(capacity, |c| c.point.read_pct == r && c.point.state == State::Steady),
                points_only: false,
            })
            .collect(),
        hline: None,
        diagonal: false,
        integer_x: true,
    });
    out.extend(usl_charts(points));
    out
}

/// One chart per USL fit: the measured levels and the fitted curve.
fn usl_charts(points: &[PointResult]) -> Vec<LinesChart> {
    let mut out = Vec::new();
    for p in points {
        let Some(fit) = &p.usl else { continue };
        let observed: Vec<(f64, f64)> = fit.residuals.iter().map(|r| (r.n, r.observed)).collect();
        let hi = observed.iter().map(|o| o.0).fold(1.0, f64::max);
        let curve: Vec<(f64, f64)> = (0..=100)
            .map(|i| 1.0 + (hi - 1.0) * i as f64 / 100.0)
            .map(|n| (n, usl::predict(fit.lambda, fit.sigma, fit.kappa, n)))
            .collect();
        out.push(LinesChart {
            stem: format!("usl-{}-r{}", p.point.size, p.point.read_pct),
            title: format!("USL fit, {} servers, {} % reads", p.point.size, p.point.read_pct),
            subtitle: format!(
                "σ = {:.4}, κ = {:.6}, R² = {:.3}{}",
                fit.sigma,
                fit.kappa,
                fit.r2,
                fit.poor.as_ref().map(|p| format!(" — poor fit: {p}")).unwrap_or_default()
            ),
            x_desc: "requests in flight (closed loop)".into(),
            y_desc: "ok ops/s".into(),
            series: vec![
                Series { label: "measured".into(), colour: C_DARK, points: observed, points_only: true },
                Series { label: "USL fit".into(), colour: C_BLUE, points: curve, points_only: false },
            ],
            hline: None,
            diagonal: false,
            integer_x: false,
        });
    }
    out
}

fn capacity_line(capacity: &[CapacityRow], pick: impl Fn(&CapacityRow) -> bool) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> =
        capacity
            .iter()
            .filter(|c| pick(c) && c.answer.result == "rate")
            .filter_map(|c| c.answer.offered_ops.map(|m| (c.point.size as f64, m)))
            .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

impl Chart for LinesChart {
    fn stem(&self) -> String {
        self.stem.clone()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 600)
    }
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let all: Vec<(f64, f64)> = self.series.iter().flat_map(|s| s.points.iter().copied()).collect();
        if all.is_empty() {
            return draw_empty(root, &self.title, "no measured values (every point unstable or not run)");
        }
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 260)?;
        let x_max = all.iter().map(|p| p.0).fold(0.0, f64::max).max(1.0);
        let mut y_max = all.iter().map(|p| p.1).fold(0.0, f64::max);
        if let Some((y, _)) = &self.hline {
            y_max = y_max.max(*y);
        }
        if self.diagonal {
            y_max = y_max.max(x_max);
        }
        let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
        let x_lo = if self.integer_x { 0.5 } else { 0.0 };
        let x_hi = if self.integer_x { x_max + 0.5 } else { x_max * 1.05 };
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, 0f64..y_max)?;
        let integer_x = self.integer_x;
        chart
            .configure_mesh()
            .light_line_style(C_LIGHT_GREY.mix(0.5))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .x_label_formatter(&|v| {
                if integer_x && (v - v.round()).abs() > 0.01 {
                    String::new()
                } else {
                    fmt_tick(*v)
                }
            })
            .y_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        let mut items = Vec::new();
        if self.diagonal {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(0.0, 0.0), (x_hi, x_hi)],
                6,
                4,
                C_GREY.stroke_width(1),
            )))?;
            items.push(("achieved = offered".to_string(), Swatch::Dashed(C_GREY)));
        }
        if let Some((y, label)) = &self.hline {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x_lo, *y), (x_hi, *y)],
                6,
                4,
                C_VERMILION.stroke_width(2),
            )))?;
            items.push((label.clone(), Swatch::Dashed(C_VERMILION)));
        }
        for s in &self.series {
            if !s.points_only {
                chart.draw_series(LineSeries::new(s.points.iter().copied(), s.colour.stroke_width(2)))?;
            }
            // A fitted curve (many points) is a line; measured series show every point.
            if s.points_only || s.points.len() <= 40 {
                let r = if s.points_only { 5 } else { 3 };
                chart.draw_series(s.points.iter().map(|p| Circle::new(*p, r, s.colour.filled())))?;
            }
            items.push((s.label.clone(), if s.points_only { Swatch::Dot(s.colour) } else { Swatch::Line(s.colour) }));
        }
        draw_legend(&legend, "", &items, 12)?;
        Ok(())
    }
}

/// Draw every chart into `dir`; returns the stems written.
pub fn write_charts(charts: &[LinesChart], dir: &Path) -> Result<Vec<String>, ReportError> {
    let mut stems = Vec::new();
    for c in charts {
        save(c, dir)?;
        stems.push(c.stem.clone());
    }
    Ok(stems)
}
