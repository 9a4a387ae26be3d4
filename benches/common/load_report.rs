//! The table both load benches print: per variant, the median round's
//! requests per second, and the cost per request over the baseline (the
//! first variant) both as the medians' difference and paired within each
//! round (the variants of a round run one after another, so a host that
//! drifts between rounds moves the paired figure less).
//!
//! Shared by path (`#[path]`) by `benches/load_hyper` and
//! `benches/load_actix`.

/// One variant's measurement in one round.
pub(crate) struct Measured {
    pub(crate) requests: u64,
    pub(crate) seconds: f64,
    /// The `Set-Cookie` length it saw (0 for none).
    pub(crate) cookie_len: usize,
}

impl Measured {
    pub(crate) fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// One variant's rounds: requests per second, and the `Set-Cookie` length
/// it saw, per round.
struct Rounds {
    name: &'static str,
    rps: Vec<f64>,
    cookie_len: Vec<usize>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Prints the table of each variant's name and rounds; the first variant is
/// the baseline.
pub(crate) fn print(measured: impl IntoIterator<Item = (&'static str, Vec<Measured>)>) {
    let variants: Vec<Rounds> = measured
        .into_iter()
        .map(|(name, runs)| Rounds {
            name,
            rps: runs.iter().map(Measured::rps).collect(),
            cookie_len: runs.iter().map(|m| m.cookie_len).collect(),
        })
        .collect();
    println!(
        "| {:<36} | {:>8} | {:>8} | {:>12} | {:>26} | {:>10} | {:>22} |",
        "variant",
        "req/s",
        "µs/req",
        "vs baseline",
        "paired per round (min–max)",
        "Set-Cookie",
        "req/s of every round"
    );
    println!(
        "|{:-<38}|{:->10}|{:->10}|{:->14}|{:->28}|{:->12}|{:->24}|",
        "", "", "", "", "", "", ""
    );
    let base = &variants[0];
    let base_us: Vec<f64> = base.rps.iter().map(|r| 1e6 / r).collect();
    for variant in &variants {
        let rps = median(&variant.rps);
        let us = 1e6 / rps;
        let (overhead, paired) = if std::ptr::eq(variant, base) {
            ("-".to_owned(), "-".to_owned())
        } else {
            let deltas: Vec<f64> = variant
                .rps
                .iter()
                .zip(&base_us)
                .map(|(r, b)| 1e6 / r - b)
                .collect();
            let low = deltas.iter().copied().fold(f64::INFINITY, f64::min);
            let high = deltas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (
                format!("{:+.1} µs", us - 1e6 / median(&base.rps)),
                format!("{:+.1} µs ({low:+.1} to {high:+.1})", median(&deltas)),
            )
        };
        let cookie = variant.cookie_len.iter().copied().max().unwrap_or(0);
        let cookie = if cookie == 0 {
            "-".to_owned()
        } else {
            format!("{cookie} B")
        };
        let every: Vec<String> = variant.rps.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "| {:<36} | {:>8.0} | {:>8.1} | {:>12} | {:>26} | {:>10} | {:>22} |",
            variant.name,
            rps,
            us,
            overhead,
            paired,
            cookie,
            every.join(" ")
        );
    }
}
