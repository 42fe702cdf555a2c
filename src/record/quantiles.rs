//! [`Quantiles`]: the summary quantiles of a latency distribution, µs — one shape for the
//! recorder's live snapshot, the summary and every report.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Summary quantiles, µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Quantiles {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Quantiles {
    pub fn from_histogram(h: &Histogram<u64>) -> Quantiles {
        if h.is_empty() {
            return Quantiles::default();
        }
        Quantiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }

    /// Exact nearest-rank quantiles of raw values (sorts them).
    pub fn exact(mut values: Vec<u64>) -> Quantiles {
        values.sort_unstable();
        use super::timeline::nearest_rank;
        Quantiles {
            count: values.len() as u64,
            p50: nearest_rank(&values, 0.50),
            p99: nearest_rank(&values, 0.99),
            p999: nearest_rank(&values, 0.999),
            max: values.last().copied().unwrap_or(0),
        }
    }
}

