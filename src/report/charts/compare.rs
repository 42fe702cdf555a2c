//! Comparison charts: one category per strategy, every repetition visible.
//!
//! [`BarsChart`]: median bar per (strategy, series) with every repetition as a dot (outage,
//! error rate, convergence); [`CdfChart`]: latency CDF per strategy on a log axis;
//! [`VerdictChart`]: the safety verdicts as a coloured table.

use super::overlay::{area_coord, draw_legend, layout, Swatch};
use super::style::*;
use crate::check::Verdict;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Median of the values (None for none).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

/// Bars (median over repetitions) with a dot per repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsChart {
    pub stem: String,
    pub title: String,
    pub subtitle: String,
    pub y_desc: String,
    /// Category labels (strategies).
    pub groups: Vec<String>,
    /// Series within a category (e.g. read, write), with colours.
    pub series: Vec<(String, RGBColor)>,
    /// `[group][series]` → one value per repetition; `None` = that repetition has no value
    /// (e.g. never converged), shown as a count under the bar.
    pub values: Vec<Vec<Vec<Option<f64>>>>,
    /// What a `None` means, e.g. "never converged".
    pub none_label: String,
}

impl Chart for BarsChart {
    fn stem(&self) -> String {
        self.stem.clone()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH.max(260 * self.groups.len() as u32 + 300), 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.groups.is_empty() {
            return draw_empty(root, &self.title, "no runs to compare");
        }
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 220)?;
        let all = self.values.iter().flatten().flatten().flatten().copied();
        let y_max = all.fold(0.0, f64::max);
        let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
        let n = self.groups.len();
        let groups = self.groups.clone();
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(C_LIGHT_GREY.mix(0.5))
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < groups.len() {
                    groups[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_desc("strategy")
            .y_desc(self.y_desc.as_str())
            .y_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        let k = self.series.len().max(1) as f64;
        let slot = 0.8 / k;
        for (gi, per_series) in self.values.iter().enumerate() {
            for (si, reps) in per_series.iter().enumerate() {
                let colour = self.series.get(si).map(|s| s.1).unwrap_or(C_BLUE);
                let left = gi as f64 - 0.4 + si as f64 * slot;
                let centre = left + slot / 2.0;
                let present: Vec<f64> = reps.iter().flatten().copied().collect();
                if let Some(m) = median(&present) {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(left + slot * 0.08, 0.0), (left + slot * 0.92, m)],
                        colour.mix(0.55).filled(),
                    )))?;
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(left + slot * 0.08, m), (left + slot * 0.92, m)],
                        colour.stroke_width(2),
                    )))?;
                }
                // Every repetition as a dot, spread a little so equal values stay visible.
                let spread = slot * 0.5;
                let count = present.len().max(1) as f64;
                for (ri, v) in present.iter().enumerate() {
                    let dx = if count > 1.0 { spread * (ri as f64 / (count - 1.0) - 0.5) } else { 0.0 };
                    chart.draw_series(std::iter::once(Circle::new((centre + dx, *v), 4, C_DARK.filled())))?;
                }
                let missing = reps.iter().filter(|v| v.is_none()).count();
                if missing > 0 {
                    let pos = area_coord(&chart, (left, 0.0));
                    chart.plotting_area().strip_coord_spec().draw(&Text::new(
                        format!("{missing}× {}", self.none_label),
                        (pos.0 + 2, pos.1 - 18),
                        font(12).color(&C_VERMILION),
                    ))?;
                }
            }
        }
        let mut items: Vec<(String, Swatch)> =
            self.series.iter().map(|(l, c)| (format!("{l} (median)"), Swatch::Box(c.mix(0.55).to_rgba().on_white()))).collect();
        items.push(("one repetition".into(), Swatch::Dot(C_DARK)));
        draw_legend(&legend, "", &items, 12)?;
        Ok(())
    }
}

trait OnWhite {
    fn on_white(&self) -> RGBColor;
}
impl OnWhite for RGBAColor {
    fn on_white(&self) -> RGBColor {
        // Blend onto white so the legend swatch matches the translucent bar.
        let a = self.3;
        let f = |c: u8| (c as f64 * a + 255.0 * (1.0 - a)).round() as u8;
        RGBColor(f(self.0), f(self.1), f(self.2))
    }
}

/// Latency CDF per strategy: x latency (ms, log), y fraction of operations at or below.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfChart {
    pub title: String,
    pub subtitle: String,
    /// Per strategy: points (latency ms, fraction ≤).
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

impl Chart for CdfChart {
    fn stem(&self) -> String {
        "latency_cdf".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 600)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let pts = || self.lines.iter().flat_map(|(_, v)| v.iter().map(|p| p.0)).filter(|x| *x > 0.0);
        let lo = pts().fold(f64::INFINITY, f64::min);
        let hi = pts().fold(0.0, f64::max);
        if !lo.is_finite() || hi <= 0.0 {
            return draw_empty(root, &self.title, "no successful operations in the procedure phase");
        }
        let (lo, hi) = (lo / 1.5, (hi * 1.5).max(lo * 10.0));
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 300)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(C_LIGHT_GREY.mix(0.5))
            .x_desc("latency from intended start (ms, log scale)")
            .y_desc("fraction of operations ≤ latency")
            .x_label_formatter(&|v| fmt_tick(*v))
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        for (i, (_, line)) in self.lines.iter().enumerate() {
            let c = series_colour(i);
            // Step function: the fraction holds until the next recorded value.
            let mut steps = Vec::with_capacity(line.len() * 2);
            let mut prev = 0.0;
            for (x, y) in line.iter().filter(|p| p.0 > 0.0) {
                steps.push((*x, prev));
                steps.push((*x, *y));
                prev = *y;
            }
            chart.draw_series(LineSeries::new(steps, c.stroke_width(2)))?;
        }
        let items: Vec<(String, Swatch)> =
            self.lines.iter().enumerate().map(|(i, (l, _))| (l.clone(), Swatch::Line(series_colour(i)))).collect();
        draw_legend(&legend, "strategy", &items, 12)?;
        Ok(())
    }
}

/// Safety verdicts per strategy as a table of coloured cells.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictChart {
    pub title: String,
    /// Per strategy: data-loss and single-leader verdicts of every repetition.
    pub rows: Vec<(String, Vec<Verdict>, Vec<Verdict>)>,
}

/// `PASS 3/3`, or the worst verdict and how many repetitions had it.
pub fn verdict_cell(v: &[Verdict]) -> (Verdict, String) {
    let worst = Verdict::combine_all(v.iter().copied());
    let n = v.iter().filter(|x| **x == worst).count();
    (worst, format!("{} {}/{}", worst.as_str(), n, v.len()))
}

impl Chart for VerdictChart {
    fn stem(&self) -> String {
        "verdicts".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 130 + 44 * self.rows.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        root.draw(&Text::new(self.title.clone(), (20, 12), title_font().color(&C_DARK)))?;
        let cols = [(20, "strategy"), (520, "runs"), (620, "data loss"), (900, "single leader")];
        let mut y = 62;
        for (x, h) in cols {
            root.draw(&Text::new(h.to_string(), (x + 8, y), font(LABEL_SIZE).color(&C_DARK)))?;
        }
        y += 30;
        for (strategy, loss, leader) in &self.rows {
            root.draw(&Rectangle::new([(20, y - 4), (1180, y + 36)], C_LIGHT_GREY.mix(0.4).filled()))?;
            root.draw(&Text::new(strategy.clone(), (28, y + 8), font(LABEL_SIZE).color(&C_DARK)))?;
            root.draw(&Text::new(loss.len().to_string(), (528, y + 8), font(LABEL_SIZE).color(&C_DARK)))?;
            for (x, v) in [(620, loss), (900, leader)] {
                let (worst, text) = verdict_cell(v);
                let colour = match worst {
                    Verdict::Pass => C_GREEN,
                    Verdict::Fail => C_VERMILION,
                    Verdict::Unknown => C_ORANGE,
                };
                root.draw(&Rectangle::new([(x, y), (x + 260, y + 32)], colour.filled()))?;
                root.draw(&Text::new(text, (x + 10, y + 8), font(LABEL_SIZE).color(&WHITE)))?;
            }
            y += 44;
        }
        Ok(())
    }
}
