//! Per-run charts: throughput by outcome, latency quantiles over time, server modes.
//!
//! Each chart is a plain data struct (computed first, testable without drawing) implementing
//! [`Chart`]; drawing only maps that data to pixels.

use super::overlay::*;
use super::style::*;
use crate::record::timeline::TimelineRow;
use crate::record::{ErrorClass, ModeSample, OpKind, ServerMode};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Fixed colour per error class.
pub fn error_colour(c: ErrorClass) -> RGBColor {
    match c {
        ErrorClass::Timeout => C_VERMILION,
        ErrorClass::ConnectionLoss => C_ORANGE,
        ErrorClass::SessionExpired => C_PURPLE,
        ErrorClass::NotConnected => C_YELLOW,
        ErrorClass::NoNode => C_SKY,
        ErrorClass::NodeExists => C_BLUE,
        ErrorClass::BadVersion => RGBColor(120, 60, 20),
        ErrorClass::NotReadOnly => RGBColor(100, 100, 160),
        ErrorClass::NoAuth => RGBColor(140, 0, 0),
        ErrorClass::Other => C_GREY,
    }
}

/// Fixed colour per server mode.
pub fn mode_colour(m: ServerMode) -> RGBColor {
    match m {
        ServerMode::Leader => C_VERMILION,
        ServerMode::Follower => C_SKY,
        ServerMode::Observer => C_PURPLE,
        ServerMode::Standalone => C_GREEN,
        ServerMode::NotServing => C_ORANGE,
        ServerMode::Unknown => C_LIGHT_GREY,
        ServerMode::Down => RGBColor(70, 70, 70),
    }
}

/// Stacked throughput: successful operations, then each error class seen, per second.
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputChart {
    pub title: String,
    pub subtitle: String,
    /// Interval start times, seconds.
    pub t: Vec<f64>,
    pub interval_s: f64,
    /// Layers bottom-up: label, colour, rate (ops/s) per interval.
    pub layers: Vec<(String, RGBColor, Vec<f64>)>,
    pub x_max: f64,
    pub ann: Annotations,
    /// Intended rate (ops/s) of an open-loop run: the y axis is clipped near twice this, so a
    /// catch-up burst does not squash the steady band and the outage gap.
    pub intended_rate: Option<f64>,
}

/// The y-axis top for a stacked peak: `peak` with headroom, or — when the peak is far above
/// twice the intended rate — 2.2 × the rate, and `true` (the peak is clipped and marked).
pub fn y_cap(peak: f64, intended_rate: Option<f64>) -> (f64, bool) {
    let natural = peak.max(1.0) * 1.12;
    match intended_rate {
        Some(r) if r > 0.0 && natural > 2.2 * r => (2.2 * r, true),
        _ => (natural, false),
    }
}

impl ThroughputChart {
    pub fn from_rows(title: &str, subtitle: &str, rows: &[TimelineRow], interval_us: u64, ann: Annotations) -> Self {
        let interval_s = interval_us.max(1) as f64 / 1e6;
        // Sum over kinds per interval.
        let mut ok: BTreeMap<u64, f64> = BTreeMap::new();
        let mut errs: BTreeMap<ErrorClass, BTreeMap<u64, f64>> = BTreeMap::new();
        for r in rows {
            *ok.entry(r.t_start_us).or_default() += r.ok as f64;
            for (c, n) in &r.errors {
                *errs.entry(*c).or_default().entry(r.t_start_us).or_default() += *n as f64;
            }
        }
        let t: Vec<f64> = ok.keys().map(|&u| u as f64 / 1e6).collect();
        let mut layers = vec![("ok".to_string(), C_GREEN, ok.values().map(|n| n / interval_s).collect::<Vec<_>>())];
        for c in ErrorClass::ALL {
            let Some(series) = errs.get(&c) else { continue };
            if series.values().all(|&n| n == 0.0) {
                continue;
            }
            let v = ok.keys().map(|k| series.get(k).copied().unwrap_or(0.0) / interval_s).collect();
            layers.push((format!("error: {c}"), error_colour(c), v));
        }
        let x_max = t.last().map(|x| x + interval_s).unwrap_or(1.0).max(ann.procedure.map(|p| p.1).unwrap_or(0.0));
        ThroughputChart { title: title.into(), subtitle: subtitle.into(), t, interval_s, layers, x_max, ann, intended_rate: None }
    }

    /// Cumulative tops of each layer.
    fn stacked(&self) -> Vec<Vec<f64>> {
        let mut acc = vec![0.0; self.t.len()];
        self.layers
            .iter()
            .map(|(_, _, v)| {
                for (a, x) in acc.iter_mut().zip(v) {
                    *a += x;
                }
                acc.clone()
            })
            .collect()
    }
}

impl Chart for ThroughputChart {
    fn stem(&self) -> String {
        "throughput".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560 + step_list_height(&self.ann))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.t.is_empty() {
            return draw_empty(root, &self.title, "no operations were recorded");
        }
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let (main, steps_area) = root.split_vertically(h - step_list_height(&self.ann));
        let (plot, legend) = layout(&main, &self.title, &self.subtitle, 220)?;
        let stacked = self.stacked();
        let peak = stacked.last().and_then(|v| v.iter().cloned().reduce(f64::max)).unwrap_or(1.0);
        let (y_max, clipped) = y_cap(peak, self.intended_rate);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(0f64..self.x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .light_line_style(C_LIGHT_GREY.mix(0.5))
            .x_desc("time since run start (s)")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_desc("operations per second")
            .y_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        draw_shading(&mut chart, &self.ann, (0.0, y_max))?;
        // Step-shaped areas (each interval a flat top), top layer first so lower ones overdraw.
        for (i, top) in stacked.iter().enumerate().rev() {
            let colour = self.layers[i].1;
            let mut pts = Vec::with_capacity(top.len() * 2);
            for (t, y) in self.t.iter().zip(top) {
                pts.push((*t, y.min(y_max)));
                pts.push((*t + self.interval_s, y.min(y_max)));
            }
            chart.draw_series(AreaSeries::new(pts, 0.0, colour.mix(0.85).filled()))?;
        }
        if clipped {
            // Mark every clipped interval at the top, and say the highest peak in words.
            let total = stacked.last().cloned().unwrap_or_default();
            for (t, y) in self.t.iter().zip(&total) {
                if *y > y_max {
                    let pos = area_coord(&chart, (*t + self.interval_s / 2.0, y_max));
                    chart.plotting_area().strip_coord_spec().draw(&TriangleMarker::new((pos.0, pos.1 + 5), 5, C_DARK.filled()))?;
                }
            }
        }
        draw_marks(&mut chart, &self.ann, (0.0, y_max), true)?;
        let mut items: Vec<(String, Swatch)> =
            self.layers.iter().rev().map(|(l, c, _)| (l.clone(), Swatch::Box(*c))).collect();
        items.extend(annotation_legend(&self.ann));
        if clipped {
            // Where and how high the clipped peak was, in words beside the plot.
            let total = stacked.last().cloned().unwrap_or_default();
            let at = total.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| self.t[i]).unwrap_or(0.0);
            items.push(("cut off above 2.2× rate".into(), Swatch::Triangle(C_DARK)));
            items.push((format!("peak {peak:.0}/s at {at:.1} s"), Swatch::Triangle(C_DARK)));
        }
        draw_legend(&legend, "", &items, 12)?;
        draw_step_list(&steps_area, &self.ann, 95)?;
        Ok(())
    }
}

/// Interval start (s) and p50, p99, max (ms); `None` when the interval had no successful op.
pub type QuantilePoint = (f64, Option<[f64; 3]>);
/// A span of one server's lane: from (s), to (s), mode.
pub type ModeSpan = (f64, f64, ServerMode);

/// Latency quantiles per interval, one panel per operation kind.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyChart {
    pub title: String,
    pub subtitle: String,
    /// Per kind: interval start (s) and p50, p99, max in milliseconds (None: no ok op then).
    pub panels: Vec<(OpKind, Vec<QuantilePoint>)>,
    pub x_max: f64,
    /// Log-scale y range shared by all panels, ms.
    pub y_range: (f64, f64),
    pub ann: Annotations,
}

impl LatencyChart {
    pub fn from_rows(title: &str, subtitle: &str, rows: &[TimelineRow], x_max: f64, ann: Annotations) -> Self {
        let mut by_kind: BTreeMap<OpKind, Vec<QuantilePoint>> = BTreeMap::new();
        for r in rows {
            let q = (r.ok > 0).then(|| [r.p50_us as f64 / 1e3, r.p99_us as f64 / 1e3, r.max_us as f64 / 1e3]);
            by_kind.entry(r.kind).or_default().push((r.t_start_us as f64 / 1e6, q));
        }
        by_kind.retain(|_, v| v.iter().any(|(_, q)| q.is_some()));
        let vals = || by_kind.values().flatten().filter_map(|(_, q)| *q).flatten().filter(|v| *v > 0.0);
        let lo = vals().fold(f64::INFINITY, f64::min);
        let hi = vals().fold(0.0, f64::max);
        // Whole decades around the data, at least one below the smallest value (sub-ms reads).
        let y_range = if lo.is_finite() && hi > 0.0 {
            (10f64.powf(lo.log10().floor()).max(0.001), 10f64.powf(hi.log10().ceil()).max(lo * 10.0))
        } else {
            (0.1, 1000.0)
        };
        LatencyChart {
            title: title.into(),
            subtitle: subtitle.into(),
            panels: by_kind.into_iter().collect(),
            x_max,
            y_range,
            ann,
        }
    }
}

impl Chart for LatencyChart {
    fn stem(&self) -> String {
        "latency".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 140 + 230 * self.panels.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.panels.is_empty() {
            return draw_empty(root, &self.title, "no successful operations were recorded");
        }
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 220)?;
        let areas = plot.split_evenly((self.panels.len(), 1));
        let names = ["p50", "p99", "max"];
        let colours = [C_BLUE, C_ORANGE, C_VERMILION];
        let (lo, hi) = self.y_range;
        for (n, ((kind, pts), area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            let last = n + 1 == self.panels.len();
            let mut chart = ChartBuilder::on(area)
                .margin(8)
                .caption(format!("{kind}"), font(LABEL_SIZE))
                .x_label_area_size(if last { 45 } else { 20 })
                .y_label_area_size(75)
                .build_cartesian_2d(0f64..self.x_max, (lo..hi).log_scale())?;
            let mut mesh = chart.configure_mesh();
            mesh.light_line_style(C_LIGHT_GREY.mix(0.5))
                .y_desc("latency (log scale)")
                .y_labels(30)
                .y_label_formatter(&|v| fmt_latency_tick(*v))
                .label_style(font(TICK_SIZE))
                .axis_desc_style(font(LABEL_SIZE));
            mesh.x_label_formatter(&|v| fmt_tick(*v));
            if last {
                mesh.x_desc("time since run start (s)");
            }
            mesh.draw()?;
            draw_shading(&mut chart, &self.ann, (lo, hi))?;
            for (qi, colour) in colours.iter().enumerate().rev() {
                // Break the line where an interval had no successful operation.
                for segment in pts.split(|(_, q)| q.is_none()).filter(|s| !s.is_empty()) {
                    let line: Vec<(f64, f64)> =
                        segment.iter().filter_map(|(t, q)| q.map(|q| (*t, q[qi].max(lo)))).collect();
                    if line.len() == 1 {
                        chart.draw_series(std::iter::once(Circle::new(line[0], 2, colour.filled())))?;
                    } else {
                        chart.draw_series(LineSeries::new(line, colour.stroke_width(if qi == 0 { 2 } else { 1 })))?;
                    }
                }
            }
            for (t, label) in &self.ann.steps {
                let _ = label;
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(*t, lo), (*t, hi)],
                    4,
                    3,
                    ShapeStyle::from(&C_DARK.mix(0.55)).stroke_width(1),
                )))?;
            }
            if let Some(t) = self.ann.converged {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(t, lo), (t, hi)],
                    8,
                    4,
                    ShapeStyle::from(&C_GREEN).stroke_width(2),
                )))?;
            }
        }
        let mut items: Vec<(String, Swatch)> =
            names.iter().zip(colours).map(|(n, c)| (format!("{n} (per interval)"), Swatch::Line(c))).collect();
        items.extend(annotation_legend(&Annotations { leader_changes: Vec::new(), ..self.ann.clone() }));
        draw_legend(&legend, "", &items, 12)?;
        Ok(())
    }
}

/// Tick label of a log latency axis in ms, with its unit: decades only (`100 µs`, `1 ms`,
/// `10 ms`, `1 s`, `10 s`); other ticks unlabelled so the axis stays readable.
pub fn fmt_latency_tick(ms: f64) -> String {
    if ms <= 0.0 {
        return String::new();
    }
    let l = ms.log10();
    if (l - l.round()).abs() > 1e-6 {
        return String::new();
    }
    let us = (ms * 1000.0).round();
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else {
        format!("{:.0} s", us / 1_000_000.0)
    }
}

/// One lane per server, coloured by the mode the monitor saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeChart {
    pub title: String,
    pub subtitle: String,
    /// Per server: spans (start s, end s, mode).
    pub lanes: Vec<(u32, Vec<ModeSpan>)>,
    pub x_max: f64,
    pub ann: Annotations,
}

impl ModeChart {
    /// Each sample's mode holds until that server's next sample (the last one for `poll_s`).
    pub fn from_samples(title: &str, subtitle: &str, samples: &[ModeSample], poll_s: f64, x_max: f64, ann: Annotations) -> Self {
        let mut by_server: BTreeMap<u32, Vec<&ModeSample>> = BTreeMap::new();
        for s in samples {
            by_server.entry(s.server).or_default().push(s);
        }
        let lanes = by_server
            .into_iter()
            .map(|(id, mut v)| {
                v.sort_by_key(|s| s.at_us);
                let mut spans: Vec<ModeSpan> = Vec::new();
                for (i, s) in v.iter().enumerate() {
                    let a = s.at_us as f64 / 1e6;
                    let b = v.get(i + 1).map(|n| n.at_us as f64 / 1e6).unwrap_or(a + poll_s);
                    match spans.last_mut() {
                        Some(last) if last.2 == s.mode && (last.1 - a).abs() < 1e-9 => last.1 = b,
                        _ => spans.push((a, b, s.mode)),
                    }
                }
                (id, spans)
            })
            .collect();
        ModeChart { title: title.into(), subtitle: subtitle.into(), lanes, x_max, ann }
    }
}

impl Chart for ModeChart {
    fn stem(&self) -> String {
        "modes".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 200 + 46 * self.lanes.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.lanes.is_empty() {
            return draw_empty(root, &self.title, "no monitor samples were recorded");
        }
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 220)?;
        let n = self.lanes.len() as f64;
        let ids: Vec<u32> = self.lanes.iter().map(|(id, _)| *id).collect();
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(0f64..self.x_max, 0f64..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(C_LIGHT_GREY.mix(0.5))
            .y_labels(self.lanes.len() * 2 + 1)
            .y_label_formatter(&|y| {
                // Label lane centres only (y = i + 0.5).
                let i = (y - 0.5).round();
                if (y - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < ids.len() {
                    format!("zk{}", ids[ids.len() - 1 - i as usize])
                } else {
                    String::new()
                }
            })
            .x_desc("time since run start (s)")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_desc("server")
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        draw_shading(&mut chart, &self.ann, (0.0, n))?;
        for (i, (_, spans)) in self.lanes.iter().enumerate() {
            // First server on top.
            let y0 = n - i as f64 - 0.85;
            let y1 = n - i as f64 - 0.15;
            chart.draw_series(
                spans.iter().map(|(a, b, m)| Rectangle::new([(*a, y0), (*b, y1)], mode_colour(*m).filled())),
            )?;
        }
        draw_marks(&mut chart, &self.ann, (0.0, n), false)?;
        let mut seen: Vec<ServerMode> = Vec::new();
        for m in ServerMode::ALL {
            if self.lanes.iter().any(|(_, s)| s.iter().any(|x| x.2 == m)) {
                seen.push(m);
            }
        }
        let mut items: Vec<(String, Swatch)> =
            seen.iter().map(|m| (m.as_str().to_string(), Swatch::Box(mode_colour(*m)))).collect();
        items.extend(annotation_legend(&self.ann));
        draw_legend(&legend, "", &items, 12)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catch_up_burst_is_clipped_near_twice_the_rate() {
        // 1,000 ops/s intended, a 7,300 ops/s burst: the axis ends at 2,200 and says it clipped.
        assert_eq!(y_cap(7300.0, Some(1000.0)), (2200.0, true));
        // A peak within 2× keeps its own headroom.
        let (top, clipped) = y_cap(1500.0, Some(1000.0));
        assert!(!clipped && (top - 1680.0).abs() < 1e-9);
        // Closed loop: no intended rate, no clipping.
        assert!(!y_cap(7300.0, None).1);
    }

    #[test]
    fn latency_ticks_carry_their_unit_and_go_below_a_millisecond() {
        assert_eq!(fmt_latency_tick(0.1), "100 µs");
        assert_eq!(fmt_latency_tick(1.0), "1 ms");
        assert_eq!(fmt_latency_tick(100.0), "100 ms");
        assert_eq!(fmt_latency_tick(1000.0), "1 s");
        assert_eq!(fmt_latency_tick(10_000.0), "10 s");
        assert_eq!(fmt_latency_tick(20.0), "");
        let row = |t_ms: u64, p50: u64| TimelineRow {
            t_start_us: t_ms * 1000,
            kind: OpKind::Get,
            ok: 1,
            fail: 0,
            indeterminate: 0,
            errors: BTreeMap::new(),
            p50_us: p50,
            p99_us: p50,
            max_us: p50,
        };
        // get p50 0.5 ms: the axis starts at 100 µs, not 1 ms.
        let c = LatencyChart::from_rows("t", "s", &[row(0, 500), row(100, 40_000)], 1.0, Annotations::default());
        assert_eq!(c.y_range, (0.1, 100.0));
    }
}
