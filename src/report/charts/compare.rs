//! Comparison charts: one category per strategy, every repetition visible.
//!
//! [`BarsChart`]: median bar per (strategy, series) with every repetition as a dot and the median
//! written on the bar (outage and error rate on log axes, convergence linear);
//! [`PercentileChart`]: HdrHistogram's percentile plot per strategy, reads and writes apart;
//! [`VerdictChart`]: the safety verdicts as a coloured table. A strategy with a safety FAIL in any
//! repetition is marked on every chart (shaded and labelled on bars, dashed in the percentile plot).

use super::overlay::{draw_legend, layout, Swatch};
use super::style::*;
use crate::check::Verdict;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
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
#[derive(Debug, Clone)]
pub struct BarsChart {
    pub stem: String,
    pub title: String,
    pub subtitle: String,
    pub y_desc: String,
    /// Category labels (strategies).
    pub groups: Vec<String>,
    /// Per group: a safety check FAILed in some repetition (marked on the chart).
    pub failed: Vec<bool>,
    /// Series within a category (e.g. read, write), with colours.
    pub series: Vec<(String, RGBColor)>,
    /// `[group][series]` → one value per repetition; `None` = that repetition has no value
    /// (e.g. never converged), shown as a count under the bar.
    pub values: Vec<Vec<Vec<Option<f64>>>>,
    /// What a `None` means, e.g. "never converged".
    pub none_label: String,
    /// Log-scale y axis (values spanning decades, e.g. 30 ms next to 18 s).
    pub log: bool,
    /// Formats the value label written on every bar.
    pub value_fmt: fn(f64) -> String,
}

/// Y range of a log axis over `values`: decades around the positive values, with room below
/// the smallest for zeros, which are drawn on the floor and labelled with their value. `None`
/// when no value is positive (a log axis cannot show it: draw linearly).
pub fn log_range(values: &[f64]) -> Option<(f64, f64)> {
    let pos = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
    let lo = pos.clone().fold(f64::INFINITY, f64::min);
    let hi = pos.fold(0.0, f64::max);
    if !lo.is_finite() {
        return None;
    }
    let has_zero = values.contains(&0.0);
    let mut floor = 10f64.powf(lo.log10().floor());
    if has_zero || floor == lo {
        floor /= 10.0;
    }
    let top = 10f64.powf((hi * 2.0).log10().ceil()).max(floor * 100.0);
    Some((floor, top))
}

/// Where a value sits on the chart's y axis: zeros (and values below the floor) on the floor.
pub fn bar_top(v: f64, y_lo: f64) -> f64 {
    v.max(y_lo)
}

/// The x-axis label of a group: its name, with the safety FAIL said in words.
pub fn group_label(name: &str, failed: bool) -> String {
    if failed {
        format!("{name} (safety FAIL)")
    } else {
        name.to_string()
    }
}

impl BarsChart {
    fn y_range(&self) -> (f64, f64, bool) {
        let all: Vec<f64> = self.values.iter().flatten().flatten().flatten().copied().collect();
        if self.log {
            if let Some((lo, hi)) = log_range(&all) {
                return (lo, hi, true);
            }
        }
        let y_max = all.iter().copied().fold(0.0, f64::max);
        (0.0, if y_max > 0.0 { y_max * 1.2 } else { 1.0 }, false)
    }
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
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 240)?;
        let (y_lo, y_hi, log) = self.y_range();
        let n = self.groups.len();
        let groups: Vec<String> =
            self.groups.iter().enumerate().map(|(i, g)| group_label(g, self.failed.get(i).copied().unwrap_or(false))).collect();
        let x_fmt = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < groups.len() {
                groups[i as usize].clone()
            } else {
                String::new()
            }
        };
        let y_desc = if log { format!("{} — log scale", self.y_desc) } else { self.y_desc.clone() };
        // One drawing routine for both axis kinds: `plot_bars` gets the chart context.
        if log {
            let mut chart = ChartBuilder::on(&plot)
                .margin(10)
                .x_label_area_size(55)
                .y_label_area_size(80)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (y_lo..y_hi).log_scale())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(C_LIGHT_GREY.mix(0.5))
                .x_labels(n * 2 + 1)
                .x_label_formatter(&x_fmt)
                .x_desc("strategy")
                .y_desc(y_desc.as_str())
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_SIZE))
                .axis_desc_style(font(LABEL_SIZE))
                .draw()?;
            self.plot_bars(&mut chart, y_lo, y_hi)?;
        } else {
            let mut chart = ChartBuilder::on(&plot)
                .margin(10)
                .x_label_area_size(55)
                .y_label_area_size(80)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y_lo..y_hi)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(C_LIGHT_GREY.mix(0.5))
                .x_labels(n * 2 + 1)
                .x_label_formatter(&x_fmt)
                .x_desc("strategy")
                .y_desc(y_desc.as_str())
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_SIZE))
                .axis_desc_style(font(LABEL_SIZE))
                .draw()?;
            self.plot_bars(&mut chart, y_lo, y_hi)?;
        }
        let mut items: Vec<(String, Swatch)> =
            self.series.iter().map(|(l, c)| (format!("{l} (median)"), Swatch::Box(c.mix(0.55).to_rgba().on_white()))).collect();
        items.push(("one repetition".into(), Swatch::Dot(C_DARK)));
        if self.failed.iter().any(|f| *f) {
            items.push(("safety FAIL".into(), Swatch::Box(FAIL_SHADE)));
        }
        draw_legend(&legend, "", &items, 12)?;
        Ok(())
    }
}

/// Background of a strategy whose safety check failed.
pub const FAIL_SHADE: RGBColor = RGBColor(250, 215, 200);

impl BarsChart {
    fn plot_bars<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
        y_lo: f64,
        y_hi: f64,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let k = self.series.len().max(1) as f64;
        let slot = 0.8 / k;
        for (gi, failed) in self.failed.iter().enumerate() {
            if *failed {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(gi as f64 - 0.48, y_lo), (gi as f64 + 0.48, y_hi)],
                    FAIL_SHADE.filled(),
                )))?;
                let pos = chart.backend_coord(&(gi as f64 - 0.45, y_hi));
                let base = chart.plotting_area().get_base_pixel();
                chart.plotting_area().strip_coord_spec().draw(&Text::new(
                    "safety FAIL".to_string(),
                    (pos.0 - base.0, pos.1 - base.1 + 4),
                    font(LABEL_SIZE).color(&C_VERMILION),
                ))?;
            }
        }
        for (gi, per_series) in self.values.iter().enumerate() {
            for (si, reps) in per_series.iter().enumerate() {
                let colour = self.series.get(si).map(|s| s.1).unwrap_or(C_BLUE);
                let left = gi as f64 - 0.4 + si as f64 * slot;
                let centre = left + slot / 2.0;
                let present: Vec<f64> = reps.iter().flatten().copied().collect();
                if let Some(m) = median(&present) {
                    let top = bar_top(m, y_lo);
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(left + slot * 0.08, y_lo), (left + slot * 0.92, top)],
                        colour.mix(0.55).filled(),
                    )))?;
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(left + slot * 0.08, top), (left + slot * 0.92, top)],
                        colour.stroke_width(2),
                    )))?;
                    let pos = chart.backend_coord(&(left + slot * 0.1, top));
                    let base = chart.plotting_area().get_base_pixel();
                    chart.plotting_area().strip_coord_spec().draw(&Text::new(
                        (self.value_fmt)(m),
                        (pos.0 - base.0, pos.1 - base.1 - 18),
                        font(TICK_SIZE).color(&C_DARK),
                    ))?;
                }
                // Every repetition as a dot, spread a little so equal values stay visible.
                let spread = slot * 0.5;
                let count = present.len().max(1) as f64;
                for (ri, v) in present.iter().enumerate() {
                    let dx = if count > 1.0 { spread * (ri as f64 / (count - 1.0) - 0.5) } else { 0.0 };
                    chart.draw_series(std::iter::once(Circle::new((centre + dx, bar_top(*v, y_lo)), 4, C_DARK.filled())))?;
                }
                let missing = reps.iter().filter(|v| v.is_none()).count();
                if missing > 0 {
                    let pos = chart.backend_coord(&(left, y_lo));
                    let base = chart.plotting_area().get_base_pixel();
                    chart.plotting_area().strip_coord_spec().draw(&Text::new(
                        format!("{missing}× {}", self.none_label),
                        (pos.0 - base.0 + 2, pos.1 - base.1 - 18),
                        font(12).color(&C_VERMILION),
                    ))?;
                }
            }
        }
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

/// HdrHistogram's percentile plot of a histogram: points (x = 1/(1−q), latency ms), from the
/// quantile iteration HdrHistogram's `outputPercentileDistribution` uses (5 ticks per half
/// distance). The maximum is placed at q = 1 − 1/count (the rank of the largest value).
pub fn percentile_points(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let last_x = h.len().max(2) as f64;
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for v in h.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let x = if q >= 1.0 { last_x } else { (1.0 / (1.0 - q)).min(last_x) };
        let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        if pts.last().is_some_and(|p| p.0 >= x) {
            if let Some(p) = pts.last_mut() {
                p.1 = p.1.max(ms);
            }
            continue;
        }
        pts.push((x, ms));
    }
    pts
}

/// Percentile label of an x = 1/(1−q) position: 2 → `50 %`, 100 → `99 %`, 1000 → `99.9 %`.
pub fn percentile_label(x: f64) -> String {
    if x < 1.0 + 1e-9 {
        return "0 %".into();
    }
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.4}");
    format!("{} %", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Input of [`PercentileChart::from_histograms`]: strategy, safety FAIL, one histogram per
/// panel (None: no operation of that class). The lead's "all issued" latency plugs in here.
pub type PercentileSeries = (String, bool, Vec<Option<hdrhistogram::Histogram<u64>>>);

/// One line of the percentile plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileLine {
    pub strategy: String,
    /// A safety check FAILed in some repetition of this strategy.
    pub failed: bool,
    /// Points (1/(1−q), ms).
    pub points: Vec<(f64, f64)>,
}

/// Latency by percentile per strategy, reads and writes in separate panels (HdrHistogram's plot).
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileChart {
    pub title: String,
    pub subtitle: String,
    /// (panel title, lines), e.g. ("reads", …), ("writes", …).
    pub panels: Vec<(String, Vec<PercentileLine>)>,
}

impl PercentileChart {
    /// From one histogram per (strategy, panel): `series[i]` = (strategy, failed, histogram per panel).
    pub fn from_histograms(
        title: &str,
        subtitle: &str,
        panel_names: &[&str],
        series: &[PercentileSeries],
    ) -> Self {
        let panels = panel_names
            .iter()
            .enumerate()
            .map(|(pi, name)| {
                let lines = series
                    .iter()
                    .map(|(strategy, failed, hs)| PercentileLine {
                        strategy: strategy.clone(),
                        failed: *failed,
                        points: hs.get(pi).and_then(|h| h.as_ref()).map(percentile_points).unwrap_or_default(),
                    })
                    .collect();
                (name.to_string(), lines)
            })
            .collect();
        PercentileChart { title: title.into(), subtitle: subtitle.into(), panels }
    }
}

/// Decade x positions with percentile labels up to `x_max`, plus 2 (the median).
pub fn percentile_ticks(x_max: f64) -> Vec<f64> {
    let mut v = vec![2.0];
    let mut x = 10.0;
    while x <= x_max * 1.0001 {
        v.push(x);
        x *= 10.0;
    }
    v
}

impl Chart for PercentileChart {
    fn stem(&self) -> String {
        "latency_cdf".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 140 + 330 * self.panels.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let all = || self.panels.iter().flat_map(|(_, ls)| ls.iter().flat_map(|l| l.points.iter()));
        let x_max = all().map(|p| p.0).fold(1.0, f64::max);
        let y_lo = all().map(|p| p.1).filter(|y| *y > 0.0).fold(f64::INFINITY, f64::min);
        let y_hi = all().map(|p| p.1).fold(0.0, f64::max);
        if !y_lo.is_finite() || y_hi <= 0.0 {
            return draw_empty(root, &self.title, "no successful operations in the procedure phase");
        }
        let y_lo = 10f64.powf(y_lo.log10().floor());
        let y_hi = 10f64.powf(y_hi.log10().ceil()).max(y_lo * 10.0);
        let x_hi = 10f64.powf(x_max.log10().ceil()).max(100.0);
        let (plot, legend) = layout(root, &self.title, &self.subtitle, 300)?;
        let areas = plot.split_evenly((self.panels.len().max(1), 1));
        let ticks = percentile_ticks(x_hi);
        for (pi, ((name, lines), area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            let last = pi + 1 == self.panels.len();
            let mut chart = ChartBuilder::on(area)
                .margin(8)
                .caption(name.clone(), font(LABEL_SIZE))
                .x_label_area_size(if last { 45 } else { 25 })
                .y_label_area_size(80)
                .build_cartesian_2d((1f64..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
            let mut mesh = chart.configure_mesh();
            mesh.disable_x_mesh()
                .light_line_style(C_LIGHT_GREY.mix(0.5))
                .x_label_formatter(&|_| String::new())
                .y_desc("latency (ms, log)")
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_SIZE))
                .axis_desc_style(font(LABEL_SIZE));
            if last {
                mesh.x_desc("percentile (log scale of 1/(1−q))");
            }
            mesh.draw()?;
            // Percentile grid lines and labels, drawn by hand (the log axis would label 1, 10, 100).
            for x in &ticks {
                chart.draw_series(std::iter::once(PathElement::new(vec![(*x, y_lo), (*x, y_hi)], C_LIGHT_GREY.stroke_width(1))))?;
                let pos = chart.backend_coord(&(*x, y_lo));
                let base = area.get_base_pixel();
                area.draw(&Text::new(percentile_label(*x), (pos.0 - base.0 - 14, pos.1 - base.1 + 6), font(TICK_SIZE).color(&C_DARK)))?;
            }
            for (i, line) in lines.iter().enumerate() {
                let c = series_colour(i);
                if line.failed {
                    // Dashed: this strategy failed a safety check (its speed is no recommendation).
                    let style = ShapeStyle::from(&c).stroke_width(2);
                    chart.draw_series(std::iter::once(DashedPathElement::new(line.points.clone(), 6, 4, style)))?;
                } else {
                    chart.draw_series(LineSeries::new(line.points.clone(), c.stroke_width(2)))?;
                }
            }
        }
        let items: Vec<(String, Swatch)> = self
            .panels
            .first()
            .map(|(_, ls)| {
                ls.iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if l.failed {
                            (group_label(&l.strategy, true), Swatch::Dashed(series_colour(i)))
                        } else {
                            (l.strategy.clone(), Swatch::Line(series_colour(i)))
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_range_leaves_room_for_zeros_and_spans_decades() {
        // 32 ms next to 18 s: decades from 10 ms to 100 s.
        assert_eq!(log_range(&[32.0, 86.0, 18_000.0]), Some((10.0, 100_000.0)));
        // A zero lowers the floor one decade; it is drawn on the floor.
        let (lo, hi) = log_range(&[0.0, 0.01]).unwrap();
        assert!((lo - 0.001).abs() < 1e-12 && hi >= 0.1, "{lo} {hi}");
        assert_eq!(bar_top(0.0, lo), lo);
        assert_eq!(log_range(&[0.0, 0.0]), None);
    }

    #[test]
    fn failed_strategies_are_labelled() {
        assert_eq!(group_label("restart-expand/new-first", true), "restart-expand/new-first (safety FAIL)");
        assert_eq!(group_label("reconfig", false), "reconfig");
    }

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(2.0), "50 %");
        assert_eq!(percentile_label(10.0), "90 %");
        assert_eq!(percentile_label(100.0), "99 %");
        assert_eq!(percentile_label(1000.0), "99.9 %");
        assert_eq!(percentile_ticks(1000.0), vec![2.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn percentile_points_rise_and_end_at_the_max() {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap(); // 1 ms .. 1 s
        }
        let pts = percentile_points(&h);
        assert!(pts.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 >= w[0].1), "{pts:?}");
        let median = pts.iter().find(|p| p.0 >= 2.0).unwrap();
        assert!((median.1 - 500.0).abs() < 5.0, "{median:?}");
        let last = pts.last().unwrap();
        assert_eq!(last.0, 1000.0);
        assert!((last.1 - 1000.0).abs() < 2.0, "{last:?}");
    }
}
