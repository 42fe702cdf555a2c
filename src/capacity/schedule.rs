//! How the points that share one ensemble are scheduled on it (the sweep file's `[ensemble]`
//! table), and what a whole sweep will cost in steps and time (`zkchaos sweep --dry-run`).
//!
//! A repetition starts one ensemble per (image, size) and measures its `steady` and `degraded`
//! points on it; `degraded` is entered by stopping a follower, and `steady` after `degraded` by
//! starting it again. Two things are decided here:
//! - **the order** of the two states ([`StateOrder`]): always steady first, always degraded
//!   first, or alternating over sizes and repetitions ([`turn`]) so that neither state always
//!   meets a fresh ensemble first;
//! - **the discarded load** before the first measured step of a state ([`Transition`],
//!   [`EnsembleSchedule::warmup_for`]): `warmup_s` whenever a JVM was just started (a fresh
//!   ensemble, or the stopped follower started again), `rewarm_s` after a follower was stopped,
//!   and `settle_s` of idle time after every state change before that load.
//!
//! Why: on 0.2 CPU per server, the p99 of a freshly started ensemble is far above that of the same
//! servers minutes later (measured 2026-12-07, docs/capacity.md "Why degraded came out above
//! steady"); with steady always first, every steady point paid that and degraded never did.
//!
//! [`time_plan`] counts the steps a sweep file asks for and prices them with per-step costs
//! measured on this host ([`StepCost::MEASURED`]), so the planned duration is derived from
//! measurements, not guessed.

use super::sweep::{State, SweepError, SweepFile};
use serde::{Deserialize, Serialize};

/// Which state a repetition measures first on its shared ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateOrder {
    SteadyFirst,
    DegradedFirst,
    /// Steady first on even [`turn`]s, degraded first on odd ones.
    Alternate,
}

/// The turn of a shared ensemble that measures both states: its repetition plus its index among
/// such ensembles within the repetition. Consecutive sizes alternate within a repetition, and
/// each size alternates over repetitions (with two sizes: rep 0 steady/degraded first, rep 1
/// degraded/steady first).
pub fn turn(rep: u32, index_in_rep: u32) -> u32 {
    rep + index_in_rep
}

/// Put one state's points of a shared ensemble in the order they are measured: as the axes list
/// them, or — with `alternate` on an odd `turn` — reversed. The points of one state are measured
/// one after another on the same JVMs, which are still warming (docs/capacity.md, "What the two
/// runs say together"): the first mix meets the coldest ensemble. Alternating the mixes with the
/// states turns that bias into disagreement between sizes and repetitions, which the intervals
/// and the physics checks see, instead of a push in one direction.
pub fn mix_order<T>(points: &mut [T], order: StateOrder, turn: u32) {
    if order == StateOrder::Alternate && turn % 2 == 1 {
        points.reverse();
    }
}

impl StateOrder {
    /// As written in a sweep file.
    pub fn as_str(self) -> &'static str {
        match self {
            StateOrder::SteadyFirst => "steady-first",
            StateOrder::DegradedFirst => "degraded-first",
            StateOrder::Alternate => "alternate",
        }
    }

    /// The order of the shared states on the ensemble of turn `turn` ([`turn`]).
    pub fn states(self, turn: u32) -> [State; 2] {
        let steady_first = match self {
            StateOrder::SteadyFirst => true,
            StateOrder::DegradedFirst => false,
            StateOrder::Alternate => turn % 2 == 0,
        };
        if steady_first {
            [State::Steady, State::Degraded]
        } else {
            [State::Degraded, State::Steady]
        }
    }
}

/// The `[ensemble]` table: state order, warm-up load and settle time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleSchedule {
    pub order: StateOrder,
    /// Discarded load after a JVM was started (a fresh ensemble, a follower started again), s.
    pub warmup_s: f64,
    /// Discarded load after a follower was stopped, s.
    pub rewarm_s: f64,
    /// Idle time after a state change (a follower stopped or started), before its warm-up, s.
    pub settle_s: f64,
    /// The warm-up load: closed loop with this many requests in flight (it takes what the servers
    /// give, so it never overloads a small budget, and enough in flight to reach their budget: a
    /// JIT compiles a method after a number of calls, not after a time), at this read share (reads
    /// `get`, writes `set`, so both paths are exercised).
    pub warmup_in_flight: u32,
    pub warmup_read_pct: u32,
    /// After its length, a warm-up goes on slice by slice until one slice's ok ops/s is within
    /// this many percent of the slice before it (0: never extended). Under a small CPU quota a
    /// fresh JVM's throughput still rises fourfold after a minute (JIT compilation costs
    /// CPU-seconds, which the quota stretches).
    pub plateau_pct: f64,
    /// At most this much extension of any warm-up, s; one that ends here still rising is recorded
    /// and shown as not settled.
    pub extend_max_s: f64,
    /// Lift the servers' CPU quota (`[cpu] server_cpus`; their cpuset stays) for the warm-up and
    /// put it back before the settle and the first measured step, so that compilation finishes in
    /// fewer wall seconds. Nothing measured runs without the quota.
    pub lift_quota: bool,
}

impl Default for EnsembleSchedule {
    fn default() -> Self {
        EnsembleSchedule {
            order: StateOrder::Alternate,
            warmup_s: 60.0,
            rewarm_s: 15.0,
            settle_s: 5.0,
            warmup_in_flight: 32,
            warmup_read_pct: 50,
            plateau_pct: 10.0,
            extend_max_s: 60.0,
            lift_quota: true,
        }
    }
}

/// What happened to a shared ensemble since its last measured step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Just created and serving.
    Fresh,
    /// Follower `id` stopped.
    Stopped(u32),
    /// Follower `id` started again (a fresh JVM among warm ones).
    Started(u32),
}

impl Transition {
    /// `fresh ensemble`, `follower 2 stopped`, `follower 2 started again`.
    pub fn describe(self) -> String {
        match self {
            Transition::Fresh => "fresh ensemble".into(),
            Transition::Stopped(id) => format!("follower {id} stopped"),
            Transition::Started(id) => format!("follower {id} started again"),
        }
    }
}

/// The settle time and warm-up length owed before measuring after `changes`, s.
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    pub settle_s: f64,
    pub seconds: f64,
    /// The changes, in words, joined by ", then ".
    pub after: String,
}

impl EnsembleSchedule {
    /// Settle and warm-up owed after `changes` (in the order they happened): the longest warm-up
    /// any of them asks for (a started JVM: `warmup_s`; a stop: `rewarm_s`), and `settle_s` if
    /// any is a state change (a fresh ensemble was already waited for until it served).
    pub fn warmup_for(&self, changes: &[Transition]) -> Warmup {
        let seconds = changes
            .iter()
            .map(|t| match t {
                Transition::Fresh | Transition::Started(_) => self.warmup_s,
                Transition::Stopped(_) => self.rewarm_s,
            })
            .fold(0.0, f64::max);
        let changed = changes.iter().any(|t| !matches!(t, Transition::Fresh));
        let after = changes.iter().map(|t| t.describe()).collect::<Vec<_>>().join(", then ");
        Warmup { settle_s: if changed { self.settle_s } else { 0.0 }, seconds, after }
    }

    pub(crate) fn validate(&self, bad: &dyn Fn(&str, String, &str) -> SweepError) -> Result<(), SweepError> {
        for (field, v, max) in [
            ("ensemble.warmup_s", self.warmup_s, 1800.0),
            ("ensemble.rewarm_s", self.rewarm_s, 1800.0),
            ("ensemble.settle_s", self.settle_s, 600.0),
            ("ensemble.extend_max_s", self.extend_max_s, 1800.0),
        ] {
            if !(0.0..=max).contains(&v) {
                return Err(bad(field, v.to_string(), &format!("must be 0–{max} s (0 = none)")));
            }
        }
        if !(1..=4096).contains(&self.warmup_in_flight) {
            return Err(bad(
                "ensemble.warmup_in_flight",
                self.warmup_in_flight.to_string(),
                "must be 1–4096 requests in flight (the warm-up is closed loop), e.g. 4",
            ));
        }
        if !(0.0..=100.0).contains(&self.plateau_pct) {
            return Err(bad("ensemble.plateau_pct", self.plateau_pct.to_string(), "must be a percentage between 0 (never extend a warm-up) and 100, e.g. 10"));
        }
        if self.warmup_read_pct > 100 {
            return Err(bad("ensemble.warmup_read_pct", self.warmup_read_pct.to_string(), "must be a percentage between 0 and 100"));
        }
        Ok(())
    }
}

/// Length of one slice of a warm-up (its throughput and p99 are recorded per slice), s.
pub const WARMUP_SLICE_S: f64 = 5.0;

/// Whether a warm-up whose slices achieved `ok_rates` (ok ops/s, in order) has levelled off:
/// its last slice is within `plateau_pct` percent of the one before (a rise or a fall).
pub fn levelled(ok_rates: &[f64], plateau_pct: f64) -> bool {
    match ok_rates {
        [.., before, last] if *before > 0.0 => (last - before).abs() / before * 100.0 <= plateau_pct,
        _ => false,
    }
}

/// The windows `[start, end)` of a warm-up of `seconds`, in slices of at most `slice` s.
pub fn slices(seconds: f64, slice: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut t = 0.0;
    while t + 1e-9 < seconds {
        let end = (t + slice).min(seconds);
        out.push((t, end));
        t = end;
    }
    out
}

/// Wall-time costs of a sweep beyond the load it holds, s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepCost {
    /// Per step (connecting its sessions, preparing the key space, judging, saving), beyond its
    /// warm-up and measured window.
    pub per_step_s: f64,
    /// Per shared ensemble: creating, starting and removing it.
    pub ensemble_s: f64,
    /// Per state change (stopping or starting a follower and waiting for the ensemble).
    pub state_change_s: f64,
    /// Per `expanding` step, beyond its warm-up and window: its own ensemble, the reconfig to
    /// size + 2 beyond the window, convergence and removal.
    pub expanding_step_s: f64,
}

impl StepCost {
    /// Measured on this 2-core host, 2026-12-07 (docs/capacity.md "Time"): `capacity-quick`
    /// (release build, load average 6–8) took 575 s for 255 steps holding 462 s of load, 3
    /// ensembles and 2 stops: 113 s beyond the load, here 0.3 s per step + 15 s per ensemble +
    /// 3 s per stop (128 s, erring long). Three `expanding` steps at `capacity-full`'s lengths
    /// (3 s + 10 s, 3 → 5 servers, 0.1 CPU; debug build, load average 7–25) took 273 s: 91 s each,
    /// 78 s beyond their load.
    pub const MEASURED: StepCost = StepCost { per_step_s: 0.3, ensemble_s: 15.0, state_change_s: 3.0, expanding_step_s: 78.0 };
}

/// What a sweep file will run: counts and the estimated wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePlan {
    pub ensembles: u32,
    pub state_changes: u32,
    pub warmups: u32,
    /// Closed-loop steps, open-loop steps without and with every extension round.
    pub closed_steps: u32,
    pub open_steps: u32,
    pub open_steps_max: u32,
    /// Seconds of discarded warm-up load and idle settle time.
    pub warmup_s: f64,
    /// Seconds the warm-ups may add at most until they level off (`[ensemble] extend_max_s`).
    #[serde(default)]
    pub warmup_extend_max_s: f64,
    /// Estimated wall time without and with every extension round, s.
    pub seconds: f64,
    pub seconds_max: f64,
    /// Per repetition, the state order of each size that measures both: `3 servers steady first`.
    pub orders: Vec<Vec<String>>,
}

/// Count the steps, ensembles, state changes and warm-ups of `file` and price them with `cost`.
pub fn time_plan(file: &SweepFile, cost: &StepCost) -> TimePlan {
    let points = file.points();
    let reps = file.repeat;
    let (st, cl, en) = (&file.steps, &file.closed_loop, &file.ensemble);
    let closed_s = cl.warmup_s + cl.measure_s;
    let open_s = st.warmup_s + st.measure_s;
    let levels = |s: State| (if s == State::Steady { cl.in_flight.len() } else { usize::from(!cl.in_flight.is_empty()) }) as u32;
    let mut groups: Vec<(&str, u32)> = points.iter().map(|p| (p.image.as_str(), p.size)).collect();
    groups.dedup();
    let mut plan = TimePlan {
        ensembles: 0,
        state_changes: 0,
        warmups: 0,
        closed_steps: 0,
        open_steps: 0,
        open_steps_max: 0,
        warmup_s: 0.0,
        warmup_extend_max_s: 0.0,
        seconds: 0.0,
        seconds_max: 0.0,
        orders: vec![Vec::new(); reps as usize],
    };
    let mut expanding_steps = 0u32;
    let mut both_index = 0u32;
    for (image, size) in groups {
        let group: Vec<_> = points.iter().filter(|p| p.image == image && p.size == size).collect();
        let has = |s: State| group.iter().any(|p| p.state == s);
        for p in &group {
            plan.closed_steps += levels(p.state) * reps;
            plan.open_steps += st.count * reps;
            plan.open_steps_max += (st.count + st.extend) * reps;
            if p.state == State::Expanding {
                expanding_steps += (levels(p.state) + st.count + st.extend) * reps;
            }
        }
        if has(State::Steady) || has(State::Degraded) {
            plan.ensembles += reps;
            let both = has(State::Steady) && has(State::Degraded);
            for rep in 0..reps {
                let t = turn(rep, both_index);
                let order = en.order.states(t);
                if both {
                    let mixes = if en.order == StateOrder::Alternate && t % 2 == 1 { ", mixes reversed" } else { "" };
                    plan.orders[rep as usize].push(format!("{size} servers {} first{mixes}", order[0]));
                }
                // Degraded alone, or first: one stop; both: one change between them, plus the
                // stop before degraded when it comes first.
                // Degraded first: the stop joins the fresh ensemble's warm-up, and the follower
                // started again for steady gets a full one.
                let (changes, second) = match (both, order[0]) {
                    (true, State::Degraded) => (2, Some(en.warmup_s)),
                    (true, _) => (1, Some(en.rewarm_s)),
                    (false, _) => (u32::from(has(State::Degraded)), None),
                };
                plan.state_changes += changes;
                plan.warmups += 1 + u32::from(second.is_some());
                plan.warmup_s += en.warmup_s + second.unwrap_or(0.0) + en.settle_s * f64::from(changes);
                if en.plateau_pct > 0.0 {
                    plan.warmup_extend_max_s += en.extend_max_s * f64::from(1 + u32::from(second.is_some()));
                }
            }
            both_index += u32::from(both);
        }
    }
    let fixed = f64::from(plan.ensembles) * cost.ensemble_s
        + f64::from(plan.state_changes) * cost.state_change_s
        + plan.warmup_s
        + f64::from(plan.closed_steps) * (closed_s + cost.per_step_s);
    let open = |n: u32| f64::from(n) * (open_s + cost.per_step_s);
    let expanding_extra = |n: u32| f64::from(n) * (cost.expanding_step_s - cost.per_step_s);
    let expanding_min = expanding_steps.saturating_sub(st.extend * reps * points.iter().filter(|p| p.state == State::Expanding).count() as u32);
    plan.seconds = fixed + open(plan.open_steps) + expanding_extra(expanding_min);
    plan.seconds_max = fixed + plan.warmup_extend_max_s + open(plan.open_steps_max) + expanding_extra(expanding_steps);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_alternate_over_sizes_and_repetitions() {
        assert_eq!(StateOrder::SteadyFirst.states(1), [State::Steady, State::Degraded]);
        assert_eq!(StateOrder::DegradedFirst.states(0), [State::Degraded, State::Steady]);
        let first = |rep, i| StateOrder::Alternate.states(turn(rep, i))[0];
        // capacity-quick (sizes 3 and 5 measure both states, one repetition): one order each.
        assert_eq!([first(0, 0), first(0, 1)], [State::Steady, State::Degraded]);
        // Two sizes, two repetitions: each size gets both orders.
        assert_eq!([first(1, 0), first(1, 1)], [State::Degraded, State::Steady]);
        // capacity-full (sizes 3, 5, 7; three repetitions): size 3 s/d/s, size 5 d/s/d, size 7 s/d/s.
        let by_size: Vec<Vec<State>> = (0..3).map(|i| (0..3).map(|rep| first(rep, i)).collect()).collect();
        assert_eq!(by_size[0], [State::Steady, State::Degraded, State::Steady]);
        assert_eq!(by_size[1], [State::Degraded, State::Steady, State::Degraded]);
        assert_eq!(by_size[2], [State::Steady, State::Degraded, State::Steady]);
    }

    #[test]
    fn a_started_jvm_gets_the_full_warmup_a_stop_the_short_one() {
        let s = EnsembleSchedule { warmup_s: 60.0, rewarm_s: 15.0, settle_s: 5.0, ..EnsembleSchedule::default() };
        assert_eq!(s.warmup_for(&[Transition::Fresh]), Warmup { settle_s: 0.0, seconds: 60.0, after: "fresh ensemble".into() });
        assert_eq!(s.warmup_for(&[Transition::Stopped(1)]), Warmup { settle_s: 5.0, seconds: 15.0, after: "follower 1 stopped".into() });
        assert_eq!(
            s.warmup_for(&[Transition::Started(2)]),
            Warmup { settle_s: 5.0, seconds: 60.0, after: "follower 2 started again".into() }
        );
        // Degraded first: the fresh ensemble loses a follower before anything was measured.
        let w = s.warmup_for(&[Transition::Fresh, Transition::Stopped(1)]);
        assert_eq!((w.settle_s, w.seconds), (5.0, 60.0));
        assert_eq!(w.after, "fresh ensemble, then follower 1 stopped");
        let none = EnsembleSchedule { warmup_s: 0.0, rewarm_s: 0.0, settle_s: 0.0, ..s };
        assert_eq!(none.warmup_for(&[Transition::Stopped(3)]).seconds, 0.0);
    }

    #[test]
    fn slices_cover_the_warmup() {
        assert_eq!(slices(12.0, 5.0), [(0.0, 5.0), (5.0, 10.0), (10.0, 12.0)]);
        assert_eq!(slices(3.0, 5.0), [(0.0, 3.0)]);
        assert!(slices(0.0, 5.0).is_empty());
    }

    const FILE: &str = r#"
name = "t"
repeat = 2
[axes]
size = [1, 3]
read_pct = [100, 0]
state = ["steady", "degraded"]
[steps]
count = 10
warmup_s = 0.5
measure_s = 1.5
extend = 4
[closed_loop]
in_flight = [1, 2, 4]
warmup_s = 0.5
measure_s = 1.0
[ensemble]
order = "alternate"
warmup_s = 30
rewarm_s = 10
settle_s = 2
"#;

    #[test]
    fn time_plan_counts_and_prices_every_step() {
        let f = SweepFile::parse(FILE, "t.toml").unwrap();
        let cost = StepCost { per_step_s: 0.5, ensemble_s: 10.0, state_change_s: 3.0, expanding_step_s: 30.0 };
        let p = time_plan(&f, &cost);
        // Points: 1 server steady ×2 mixes, 3 servers steady ×2 and degraded ×2; two repetitions.
        assert_eq!(p.ensembles, 4);
        // 3 servers (the first size with both states): rep 0 steady first (one stop), rep 1
        // degraded first (stop, start).
        assert_eq!(p.state_changes, 3);
        assert_eq!(p.warmups, 2 + 4);
        assert_eq!(p.orders, [vec!["3 servers steady first".to_string()], vec!["3 servers degraded first, mixes reversed".to_string()]]);
        // 4 steady points × 3 levels + 2 degraded × 1, per repetition.
        assert_eq!(p.closed_steps, 2 * (4 * 3 + 2));
        assert_eq!(p.open_steps, 2 * 6 * 10);
        assert_eq!(p.open_steps_max, 2 * 6 * 14);
        // Warm-ups: 1 server 30 s ×2; 3 servers 30 + 10 (steady first), 30 + 30 (degraded
        // first: the follower started again is a fresh JVM); settles 3 × 2 s.
        assert_eq!(p.warmup_s, 2.0 * 30.0 + 40.0 + 60.0 + 6.0);
        let fixed = 4.0 * 10.0 + 3.0 * 3.0 + p.warmup_s + 28.0 * 2.0;
        assert!((p.seconds - (fixed + 120.0 * 2.5)).abs() < 1e-9, "{p:?}");
        // Each of the 6 warm-ups may be extended by `extend_max_s` (default 60 s) to level off.
        assert_eq!(p.warmup_extend_max_s, 6.0 * 60.0);
        assert!((p.seconds_max - (fixed + 360.0 + 168.0 * 2.5)).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn expanding_steps_pay_their_own_ensemble() {
        let f = SweepFile::parse(
            "name = \"e\"\nrepeat = 1\n[axes]\nsize = [3]\nread_pct = [90]\nstate = [\"expanding\"]\n[steps]\ncount = 3\nwarmup_s = 3.0\nmeasure_s = 10.0\nextend = 0\n[closed_loop]\nin_flight = [8]\nwarmup_s = 2.0\nmeasure_s = 5.0\n",
            "e.toml",
        )
        .unwrap();
        let cost = StepCost { per_step_s: 0.5, ensemble_s: 10.0, state_change_s: 3.0, expanding_step_s: 30.0 };
        let p = time_plan(&f, &cost);
        assert_eq!((p.ensembles, p.warmups, p.closed_steps, p.open_steps), (0, 0, 1, 3));
        // 1 closed (7 s) + 3 open (13 s) steps, each also paying the expanding cost.
        assert!((p.seconds - (7.0 + 0.5 + 3.0 * 13.5 + 4.0 * 29.5)).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn bad_values_name_the_field() {
        let bad = |field: &str, value: String, reason: &str| SweepError::Invalid {
            path: "x".into(),
            field: field.into(),
            value,
            reason: reason.into(),
        };
        let e = EnsembleSchedule { warmup_s: -1.0, ..EnsembleSchedule::default() }.validate(&bad).unwrap_err().to_string();
        assert!(e.contains("ensemble.warmup_s = -1") && e.contains("0–1800 s"), "{e}");
        let e = EnsembleSchedule { warmup_in_flight: 0, ..EnsembleSchedule::default() }.validate(&bad).unwrap_err().to_string();
        assert!(e.contains("ensemble.warmup_in_flight = 0"), "{e}");
        let e = EnsembleSchedule { warmup_read_pct: 101, ..EnsembleSchedule::default() }.validate(&bad).unwrap_err().to_string();
        assert!(e.contains("ensemble.warmup_read_pct = 101"), "{e}");
    }

    #[test]
    fn a_warm_up_levels_off_when_its_last_slice_is_within_the_plateau_of_the_one_before() {
        // Slices of the quiet-host quick sweep's 3-server warm-up (ok ops/s), still rising at 60 s.
        let rising = [537.0, 980.0, 1450.0, 1890.0, 2298.0];
        assert!(!levelled(&rising, 10.0), "a 22 % rise is not level");
        assert!(levelled(&[2298.0, 2400.0], 10.0), "+4.4 %");
        assert!(levelled(&[2400.0, 2200.0], 10.0), "-8.3 %: a fall within the band is level too");
        assert!(!levelled(&[2400.0, 2100.0], 10.0), "-12.5 %");
        assert!(!levelled(&[2298.0], 10.0), "one slice cannot show a plateau");
        assert!(!levelled(&[0.0, 0.0], 10.0), "no throughput is not a plateau");
        let bad = |f: &str, v: String, r: &str| SweepError::Invalid { path: "x".into(), field: f.into(), value: v, reason: r.into() };
        let e = EnsembleSchedule { plateau_pct: 150.0, ..EnsembleSchedule::default() }.validate(&bad).unwrap_err().to_string();
        assert!(e.contains("ensemble.plateau_pct = 150"), "{e}");
        let e = EnsembleSchedule { extend_max_s: -1.0, ..EnsembleSchedule::default() }.validate(&bad).unwrap_err().to_string();
        assert!(e.contains("ensemble.extend_max_s = -1"), "{e}");
    }


    #[test]
    fn alternate_reverses_the_mixes_on_odd_turns_only() {
        let listed = [100, 80, 0];
        let order = |o: StateOrder, turn: u32| {
            let mut p = listed;
            mix_order(&mut p, o, turn);
            p
        };
        assert_eq!(order(StateOrder::Alternate, 0), [100, 80, 0]);
        assert_eq!(order(StateOrder::Alternate, 1), [0, 80, 100]);
        assert_eq!(order(StateOrder::Alternate, 2), [100, 80, 0]);
        assert_eq!(order(StateOrder::SteadyFirst, 1), [100, 80, 0], "a fixed state order keeps the mixes as listed");
        assert_eq!(order(StateOrder::DegradedFirst, 1), [100, 80, 0]);
    }

}
