//! What padding costs and what it hides, measured: SECURITY.md's table
//! ("Length padding") and the README's figure come from these numbers,
//! and the tests fail if the measurements or the docs drift from them.

use sealed_session::{EnvelopeInfo, Keyring, Padding, Sealer};

/// Sealed length of a raw payload of `len` bytes.
fn sealed_len(sealer: &Sealer, len: usize) -> usize {
    sealer.seal_bytes(&vec![0x61; len]).expect("seals").len()
}

/// Average and largest extra bytes a padding adds to the sealed value
/// (base64url) over payloads of 1 to `max` bytes.
fn cost(padding: Padding, max: usize) -> (f64, usize) {
    let plain = Sealer::new(Keyring::ephemeral().expect("rng")).with_max_len(100_000);
    let padded = plain.clone().with_padding(padding);
    let extra: Vec<usize> = (1..=max)
        .map(|len| sealed_len(&padded, len) - sealed_len(&plain, len))
        .collect();
    let sum: usize = extra.iter().sum();
    (
        sum as f64 / extra.len() as f64,
        *extra.iter().max().expect("some"),
    )
}

/// How many distinct value lengths payloads of 1 to `max` bytes give.
fn classes(padding: Padding, max: usize) -> usize {
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"))
        .with_max_len(100_000)
        .with_padding(padding);
    let mut lens: Vec<usize> = (1..=max).map(|len| sealed_len(&sealer, len)).collect();
    lens.dedup();
    lens.len()
}

#[test]
fn padding_costs_what_security_md_says() {
    let mut report = Vec::new();
    // Payloads of 1 to 3,000 bytes: the average and largest extra
    // characters of the sealed value, and how many lengths remain.
    for (name, padding, average, largest, lengths) in [
        ("multiple_of(64)", Padding::multiple_of(64), 45.0, 87, 48),
        (
            "multiple_of(256)",
            Padding::multiple_of(256),
            175.0,
            343,
            12,
        ),
        (
            "multiple_of(1024)",
            Padding::multiple_of(1024),
            696.0,
            1367,
            3,
        ),
        ("power_of_two", Padding::power_of_two(), 983.0, 2732, 9),
    ] {
        let (avg, worst) = cost(padding, 3000);
        let n = classes(padding, 3000);
        report.push(format!(
            "{name}: average {avg:.0} bytes, at most {worst}, {n} lengths"
        ));
        assert!((avg - average).abs() < 1.0, "{name}: {avg}");
        assert_eq!((worst, n), (largest, lengths), "{name}");
    }
    // Without padding, every payload length gives its own value length:
    // the exact size shows.
    assert_eq!(classes(Padding::NONE, 3000), 3000);
    // The benchmark session (88 bytes of postcard): 184 characters
    // unpadded.
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let bench = |padding| sealed_len(&sealer.clone().with_padding(padding), 88);
    assert_eq!(bench(Padding::NONE), 184);
    assert_eq!(
        [
            bench(Padding::multiple_of(64)),
            bench(Padding::multiple_of(256)),
            bench(Padding::power_of_two()),
        ],
        [227, 398, 227]
    );
    println!("{}", report.join("\n"));
}

/// The cells of SECURITY.md's padding table row that begins with `label`,
/// numbers without their thousands commas.
fn security_md_row(label: &str) -> Vec<String> {
    let line = include_str!("../SECURITY.md")
        .lines()
        .find(|line| line.starts_with(&format!("| {label} |")))
        .unwrap_or_else(|| panic!("SECURITY.md has no padding row {label}"));
    line.trim_matches('|')
        .split('|')
        .skip(1)
        .map(|cell| cell.trim().replace(',', ""))
        .collect()
}

/// SECURITY.md's table ("What it costs") and the README's figure say what
/// is measured: the docs are checked against the measurements, not only
/// the measurements against numbers written here.
#[test]
fn the_docs_padding_table_is_what_is_measured() {
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let bench = |padding| sealed_len(&sealer.clone().with_padding(padding), 88);
    for (label, padding, benchmarked) in [
        ("`Padding::multiple_of(64)`", Padding::multiple_of(64), true),
        (
            "`Padding::multiple_of(256)`",
            Padding::multiple_of(256),
            true,
        ),
        (
            "`Padding::multiple_of(1024)`",
            Padding::multiple_of(1024),
            false,
        ),
        ("`Padding::power_of_two()`", Padding::power_of_two(), true),
    ] {
        let (avg, worst) = cost(padding, 3000);
        let measured = [
            format!("{avg:.0}"),
            worst.to_string(),
            classes(padding, 3000).to_string(),
            if benchmarked {
                bench(padding).to_string()
            } else {
                "—".to_owned()
            },
        ];
        assert_eq!(
            security_md_row(label),
            measured,
            "SECURITY.md's row {label}"
        );
    }
    assert_eq!(
        security_md_row("none"),
        ["0", "0", "3000", &bench(Padding::NONE).to_string()]
    );
    let (avg, _) = cost(Padding::multiple_of(256), 3000);
    let readme = include_str!("../README.md");
    assert!(
        readme.contains(&format!("({avg:.0} extra characters")),
        "README's figure for multiple_of(256) is not {avg:.0}"
    );
}

#[test]
fn without_padding_nothing_changes() {
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    assert_eq!(sealer.padding(), Padding::NONE);
    let value = sealer.seal_bytes(b"ada").expect("seals");
    assert_eq!(EnvelopeInfo::inspect(&value).expect("inspects").version, 1);
    // Version, key id, nonce, times (8 bytes today), payload, tag.
    assert_eq!(
        value.len(),
        (1 + 1 + 24 + 8 + 3 + 16usize).div_ceil(3) * 4 - 1
    );
}

/// Configuration at the edge of `usize` is an error when sealing, never an
/// arithmetic overflow (which panics in debug builds).
#[test]
fn extreme_padding_is_too_large_not_an_overflow() {
    for max_len in [4096, usize::MAX] {
        for padding in [
            Padding::multiple_of(usize::MAX),
            Padding::multiple_of(usize::MAX / 2),
        ] {
            let sealer = Sealer::new(Keyring::ephemeral().expect("rng"))
                .with_max_len(max_len)
                .with_padding(padding);
            let error = sealer.seal_bytes(b"x").expect_err("cannot pad that far");
            assert!(error.is_too_large(), "{error:?}");
        }
    }
}

/// A sealer with padding opens values sealed without it (envelope v1), and
/// one without padding opens padded values (v2): turning padding on or off
/// logs nobody out.
#[test]
fn padded_and_unpadded_sealers_open_each_others_values() {
    let ring = std::sync::Arc::new(Keyring::ephemeral().expect("rng"));
    let plain = Sealer::from_shared(ring.clone());
    let padded = Sealer::from_shared(ring).with_padding(Padding::multiple_of(256));
    let v1 = plain.seal(&"a session").expect("seals");
    let v2 = padded.seal(&"a session").expect("seals");
    assert_eq!(EnvelopeInfo::inspect(&v1).expect("clear part").version, 1);
    assert_eq!(EnvelopeInfo::inspect(&v2).expect("clear part").version, 2);
    for (sealer, value) in [(&padded, &v1), (&plain, &v2), (&padded, &v2), (&plain, &v1)] {
        assert_eq!(
            sealer.open::<String>(value).expect("opens").value,
            "a session"
        );
    }
}
