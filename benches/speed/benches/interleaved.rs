//! Same-moment ratios: sealed-session (both algorithms) against `cookie`
//! 0.18 PrivateJar with serde_json, on the shared small and large
//! workloads. A noisy host moves every timing, but not the ratio of two
//! rows timed at the same moment: each round runs a short burst of every
//! row, in an order that rotates from round to round, and the ratio is
//! taken within the round. The table gives the median ratio over the
//! rounds (and the middle half of them), and the median time per row.
//!
//! The last cell is the tower session layer in process (see `--count`
//! below): one request with a cookie, `get`, `set`, the `Set-Cookie`
//! appended, against the same request and response without the layer.
//!
//! ```text
//! cargo bench --bench interleaved                      # the table
//! cargo bench --bench interleaved -- --rounds 400      # longer
//! cargo bench --bench interleaved -- --count seal/small/xchacha 100000
//! ```
//!
//! `--count ROW N` runs one row N times and nothing else, for instruction
//! counts: run it under `valgrind --tool=callgrind` with N and with 0, and
//! divide the difference by N. Rows: `{seal,open}/{small,large}/{xchacha,
//! aesgcm,cookie}`, `open/{small,large}/xchacha-cold` (XChaCha20 opens that
//! derive their subkey every time), `seal/{small,large}/xchacha-synthetic`
//! (seals with `NonceScheme::Synthetic`), and `layer/small/{xchacha,aesgcm}`: one request through
//! the tower `SessionLayer` (its cookie opened, the session read with `get`
//! and written with `set`, the `Set-Cookie` appended), in process, as the
//! load benches' handler does; the same request's open and seal alone are
//! what it costs beyond the adapter.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

#[path = "../../common/mod.rs"]
mod common;
mod schemes;

use schemes::{CookieJar, Ours, Peer};

/// One row: a scheme's seal or open of one workload, as a closure.
struct Row<'a> {
    name: String,
    run: Box<dyn FnMut() + 'a>,
}

/// The three schemes, in the order the table prints them.
fn schemes() -> [(&'static str, Scheme); 3] {
    [
        (
            "xchacha",
            Scheme::Ours(Ours(common::sealer(common::ALGORITHMS[0].0))),
        ),
        (
            "aesgcm",
            Scheme::Ours(Ours(common::sealer(common::ALGORITHMS[1].0))),
        ),
        (
            "cookie",
            Scheme::Cookie(CookieJar(cookie::Key::from(&[0x42; 64]))),
        ),
    ]
}

enum Scheme {
    Ours(Ours),
    Cookie(CookieJar),
}

impl Scheme {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        match self {
            Scheme::Ours(p) => p.seal(value),
            Scheme::Cookie(p) => p.seal(value),
        }
    }

    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        match self {
            Scheme::Ours(p) => p.open(value),
            Scheme::Cookie(p) => p.open(value),
        }
    }
}

/// The rows of one cell (an operation on a workload), one per scheme.
fn rows<'a, T>(
    schemes: &'a [(&'static str, Scheme); 3],
    op: &str,
    size: &str,
    value: &'a T,
) -> Vec<Row<'a>>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    schemes
        .iter()
        .map(|(name, scheme)| {
            let sealed = scheme.seal(value);
            assert_eq!(scheme.open::<T>(&sealed).as_ref(), Some(value), "{name}");
            let run: Box<dyn FnMut() + 'a> = if op == "seal" {
                Box::new(move || {
                    black_box(scheme.seal(black_box(value)));
                })
            } else {
                Box::new(move || {
                    black_box(scheme.open::<T>(black_box(&sealed)).expect("opens"));
                })
            };
            Row {
                name: format!("{op}/{size}/{name}"),
                run,
            }
        })
        .collect()
}

/// XChaCha20 opens that never find their subkey kept: 64 values, each
/// sealed with a synthetic nonce (a random prefix of its own), opened in
/// turn.
fn cold_open_row<'a, T>(size: &str, value: &'a T) -> Row<'a>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let sealer =
        common::sealer(common::ALGORITHMS[0].0).with_nonces(sealed_session::NonceScheme::Synthetic);
    let values: Vec<String> = (0..64)
        .map(|_| sealer.seal(value).expect("seals"))
        .collect();
    let ours = Ours(sealer);
    assert_eq!(ours.open::<T>(&values[0]).as_ref(), Some(value));
    let mut next = 0;
    Row {
        name: format!("open/{size}/xchacha-cold"),
        run: Box::new(move || {
            next = (next + 1) % values.len();
            black_box(ours.open::<T>(black_box(&values[next])).expect("opens"));
        }),
    }
}

/// XChaCha20 seals with synthetic nonces (`NonceScheme::Synthetic`).
fn synthetic_seal_row<'a, T: Serialize>(size: &str, value: &'a T) -> Row<'a> {
    let ours = Ours(
        common::sealer(common::ALGORITHMS[0].0).with_nonces(sealed_session::NonceScheme::Synthetic),
    );
    Row {
        name: format!("seal/{size}/xchacha-synthetic"),
        run: Box::new(move || {
            black_box(ours.seal(black_box(value)));
        }),
    }
}

/// Iterations that take about `target` for `row`.
fn calibrate(row: &mut Row<'_>, target: Duration) -> u32 {
    let mut n = 1u32;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            (row.run)();
        }
        let took = start.elapsed();
        if took >= target || n >= 1 << 24 {
            let per = took.as_nanos().max(1) / u128::from(n);
            return u32::try_from(target.as_nanos() / per.max(1))
                .unwrap_or(u32::MAX)
                .max(1);
        }
        n *= 2;
    }
}

/// The median and the quartiles of `values`.
fn quartiles(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

/// Nanoseconds per iteration of every row in every round: each round runs
/// a 2 ms burst of each row, starting from a row that rotates by one each
/// round.
fn time_rounds(rows: &mut [Row<'_>], rounds: usize) -> Vec<Vec<f64>> {
    let burst = Duration::from_millis(2);
    let iters: Vec<u32> = rows.iter_mut().map(|r| calibrate(r, burst)).collect();
    let mut times = vec![Vec::with_capacity(rounds); rows.len()];
    for round in 0..rounds {
        for k in 0..rows.len() {
            let i = (round + k) % rows.len();
            let start = Instant::now();
            for _ in 0..iters[i] {
                (rows[i].run)();
            }
            times[i].push(start.elapsed().as_nanos() as f64 / f64::from(iters[i]));
        }
    }
    times
}

/// Times one cell: `rounds` rounds of one burst per row in rotated order;
/// prints each row's median time and each of our rows' ratio to the last
/// row (`cookie`), taken within every round.
fn cell(mut rows: Vec<Row<'_>>, rounds: usize) {
    let times = time_rounds(&mut rows, rounds);
    let peer = rows.len() - 1;
    for (i, row) in rows.iter().enumerate() {
        let (_, median, _) = quartiles(&mut times[i].clone());
        if i == peer {
            println!("{:<30} {median:>10.0} ns", row.name);
            continue;
        }
        let mut ratios: Vec<f64> = times[peer]
            .iter()
            .zip(&times[i])
            .map(|(cookie, ours)| cookie / ours)
            .collect();
        let (q1, ratio, q3) = quartiles(&mut ratios);
        println!(
            "{:<30} {median:>10.0} ns   cookie / this: {ratio:.2}x (middle half {q1:.2}-{q3:.2})",
            row.name
        );
    }
}

/// The tower session layer over a handler that reads and writes the
/// session (`get`, then `set`, as `benches/load_hyper` does), called with
/// a request that carries the session's cookie.
fn layer_row(algorithm: sealed_session::Algorithm, name: &str) -> Row<'static> {
    use core::future::Future as _;
    use core::task::{Context, Poll, Waker};
    use sealed_session::tower::{SessionExt, SessionLayer};
    use sealed_session::SessionConfig;
    use tower_layer::Layer;
    use tower_service::Service;

    #[derive(Clone)]
    struct Handler;

    impl Service<http::Request<()>> for Handler {
        type Response = http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<http::Response<()>, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<()>) -> Self::Future {
            let session = req.session::<common::Session>().expect("the layer ran");
            let mut value = session.get().unwrap_or_else(common::small);
            value.user_id += 1;
            session.set(value).expect("fits");
            std::future::ready(Ok(http::Response::new(())))
        }
    }

    let sealer = common::sealer(algorithm);
    let cookie = format!(
        "{}={}",
        common::NAME,
        sealer.seal(&common::small()).expect("seals")
    );
    let config = SessionConfig::new(sealer).expect("valid");
    let mut service = SessionLayer::<common::Session>::new(config).layer(Handler);
    let run = Box::new(move || {
        let req = http::Request::builder()
            .header(http::header::COOKIE, cookie.as_str())
            .body(())
            .expect("valid");
        let mut future = std::pin::pin!(service.call(req));
        let Poll::Ready(Ok(response)) = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        else {
            panic!("the handler answers at once");
        };
        assert!(response.headers().contains_key(http::header::SET_COOKIE));
        black_box(response);
    });
    Row {
        name: format!("layer/small/{name}"),
        run,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let schemes = schemes();
    let small = common::small();
    let large = common::large();
    let mut cells = Vec::new();
    for op in ["seal", "open"] {
        cells.push(rows(&schemes, op, "small", &small));
        cells.push(rows(&schemes, op, "large", &large));
    }
    // The XChaCha20 opens above reuse the subkey of their value's nonce
    // prefix (each thread keeps its last eight): the cold rows open values
    // of 64 different prefixes in turn, so every open derives its subkey.
    cells[2].insert(1, cold_open_row("small", &small));
    cells[3].insert(1, cold_open_row("large", &large));
    // What `NonceScheme::Synthetic` costs a seal.
    cells[0].insert(1, synthetic_seal_row("small", &small));
    cells[1].insert(1, synthetic_seal_row("large", &large));

    let mut layers = vec![
        layer_row(common::ALGORITHMS[0].0, "xchacha"),
        layer_row(common::ALGORITHMS[1].0, "aesgcm"),
    ];

    if let Some(row) = arg("--count") {
        let n: u64 = args
            .iter()
            .skip_while(|a| *a != "--count")
            .nth(2)
            .and_then(|n| n.parse().ok())
            .expect("--count ROW N");
        let run = cells
            .iter_mut()
            .flatten()
            .chain(layers.iter_mut())
            .find(|r| r.name == *row)
            .unwrap_or_else(|| panic!("no row {row}"));
        for _ in 0..n {
            (run.run)();
        }
        return;
    }
    // `cargo bench` passes `--bench`; any other argument but ours is
    // ignored, so `cargo bench` with a filter still runs.
    let rounds = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(150);
    println!(
        "interleaved, {rounds} rounds of 2 ms bursts per row (ratios are cookie 0.18 PrivateJar+JSON time / this row's time)"
    );
    for rows in cells {
        cell(rows, rounds);
    }
    layers.insert(0, bare_row());
    overhead_cell(layers, rounds);
}

/// The same request and response without the layer: a handler that only
/// answers, the floor of the layer rows.
fn bare_row() -> Row<'static> {
    Row {
        name: "layer/small/none".to_owned(),
        run: Box::new(|| {
            let req = http::Request::builder()
                .header(http::header::COOKIE, "session=x")
                .body(())
                .expect("valid");
            black_box(req);
            black_box(http::Response::new(()));
        }),
    }
}

/// Times the layer rows as [`cell`] does, and prints each row's time over
/// the first row's (the request without the layer), taken within rounds.
fn overhead_cell(mut rows: Vec<Row<'_>>, rounds: usize) {
    let times = time_rounds(&mut rows, rounds);
    for (i, row) in rows.iter().enumerate() {
        let (_, median, _) = quartiles(&mut times[i].clone());
        if i == 0 {
            println!("{:<30} {median:>10.0} ns", row.name);
            continue;
        }
        let mut extra: Vec<f64> = times[i]
            .iter()
            .zip(&times[0])
            .map(|(t, bare)| t - bare)
            .collect();
        let (q1, extra, q3) = quartiles(&mut extra);
        println!(
            "{:<30} {median:>10.0} ns   over none: {extra:.0} ns (middle half {q1:.0}-{q3:.0})",
            row.name
        );
    }
}
