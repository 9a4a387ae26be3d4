//! Hostile values given to `Sealer::open`: huge, not UTF-8, at and over the
//! maximum length, empty, padded, cut short, many cookies in one. Each gets
//! a clear error, in bounded work (the inputs are large; nothing here
//! measures time).

use sealed_session::{Error, Keyring, Refusal, SealError, Sealer, DEFAULT_MAX_LEN};

const MIB: usize = 1 << 20;

fn sealer() -> Sealer {
    Sealer::new(Keyring::ephemeral().expect("os rng"))
        .with_name("session")
        .with_purpose("hostile/v1")
}

fn sealed(sealer: &Sealer) -> String {
    sealer
        .seal_bytes(b"a session worth attacking")
        .expect("seals")
}

#[test]
fn a_mebibyte_value_is_too_large() {
    let sealer = sealer();
    for value in [
        "A".repeat(MIB),
        "!".repeat(MIB),
        sealed(&sealer).repeat(MIB / 64),
    ] {
        assert_eq!(
            sealer.open_bytes(&value),
            Err(Error::Refused(Refusal::TooLong {
                len: value.len(),
                max: DEFAULT_MAX_LEN
            }))
        );
        assert!(matches!(
            sealer.open::<String>(&value),
            Err(Error::Refused(Refusal::TooLong { .. }))
        ));
    }
}

#[test]
fn a_mebibyte_value_under_a_mebibyte_maximum_is_decoded_and_refused() {
    // An operator who raises the maximum still gets a clear error.
    let sealer = sealer().with_max_len(2 * MIB);
    assert_eq!(
        sealer.open_bytes(&"!".repeat(MIB)),
        Err(Error::Refused(Refusal::Malformed))
    );
    // Valid base64 of a version-1 envelope with key id 0 (not in the keyring).
    let mut value = String::from("AQA");
    value.push_str(&"A".repeat(MIB - value.len()));
    assert_eq!(
        sealer.open_bytes(&value),
        Err(Error::Refused(Refusal::UnknownKey(sealed_session::KeyId(
            0
        ))))
    );
    // The keyring's own key id, then a mebibyte of zeros: authentication.
    let id = sealed(&sealer)[..3].to_owned();
    let value = format!("{id}{}", "A".repeat(MIB));
    assert_eq!(
        sealer.open_bytes(&value),
        Err(Error::Refused(Refusal::Authentication))
    );
}

#[test]
fn over_long_values_are_refused_before_decoding() {
    // Not base64 at all: decoding would say Malformed. One character over
    // the maximum it is TooLarge, so nothing was decoded; at the maximum it
    // is decoded, and Malformed.
    for max in [0, 1, 64, 100, DEFAULT_MAX_LEN, 10_000] {
        let sealer = sealer().with_max_len(max);
        let garbage = "\u{1}".repeat(max + 1);
        assert_eq!(
            sealer.open_bytes(&garbage),
            Err(Error::Refused(Refusal::TooLong { len: max + 1, max }))
        );
        assert_eq!(
            sealer.open_bytes(&garbage[..max]),
            Err(Error::Refused(Refusal::Malformed))
        );
    }
}

/// The maximum counts bytes, not characters: 60 two-byte characters are
/// 120 bytes, over a maximum of 100, though fewer than 100 characters.
#[test]
fn the_maximum_counts_bytes_not_characters() {
    let sealer = sealer().with_max_len(100);
    let value = "é".repeat(60);
    assert_eq!(
        sealer.open_bytes(&value),
        Err(Error::Refused(Refusal::TooLong { len: 120, max: 100 }))
    );
    assert_eq!(
        sealer.open_bytes(&"é".repeat(50)),
        Err(Error::Refused(Refusal::Malformed))
    );
}

#[test]
fn a_value_of_exactly_the_maximum_opens_and_one_more_character_does_not() {
    let sealer = sealer();
    let value = sealed(&sealer);
    let exact = sealer.clone().with_max_len(value.len());
    let opened = exact.open_bytes(&value).expect("exactly the maximum opens");
    assert_eq!(opened.value, b"a session worth attacking");

    let short = sealer.clone().with_max_len(value.len() - 1);
    assert_eq!(
        short.open_bytes(&value),
        Err(Error::Refused(Refusal::TooLong {
            len: value.len(),
            max: value.len() - 1
        }))
    );
    // Sealing obeys the same maximum.
    assert!(matches!(
        short.seal_bytes(b"a session worth attacking"),
        Err(Error::Seal(SealError::TooLarge { .. }))
    ));
    assert_eq!(
        exact
            .seal_bytes(b"a session worth attacking")
            .map(|v| v.len()),
        Ok(value.len())
    );
    // A value one character longer than a sealed value fits the maximum
    // by length but is not a sealed value.
    let longer = sealer.clone().with_max_len(value.len() + 1);
    assert!(matches!(
        longer.open_bytes(&format!("{value}A")),
        Err(Error::Refused(Refusal::Malformed) | Error::Refused(Refusal::Authentication))
    ));
}

#[test]
fn non_utf8_bytes_are_malformed() {
    let sealer = sealer();
    let value = sealed(&sealer);
    let mut bytes = value.clone().into_bytes();
    bytes[10] = 0xff;
    bytes.extend_from_slice(&[0xc3, 0x28, 0xa0, 0xa1]);
    // `open` takes text: a server that received these bytes can only pass
    // a lossy conversion (or nothing).
    let lossy = String::from_utf8_lossy(&bytes);
    assert_eq!(
        sealer.open_bytes(&lossy),
        Err(Error::Refused(Refusal::Malformed))
    );
    // Non-ASCII characters anywhere in an otherwise sealed value.
    for at in [0, 1, value.len() / 2, value.len()] {
        let mut text = value.clone();
        text.insert(at, 'é');
        assert_eq!(
            sealer.open_bytes(&text),
            Err(Error::Refused(Refusal::Malformed)),
            "at {at}"
        );
    }
    assert_eq!(
        sealer.open_bytes(&"\u{fffd}".repeat(1000)),
        Err(Error::Refused(Refusal::Malformed))
    );
}

#[test]
fn an_empty_value_is_malformed() {
    let sealer = sealer();
    assert_eq!(
        sealer.open_bytes(""),
        Err(Error::Refused(Refusal::Malformed))
    );
    assert_eq!(
        sealer.open::<String>(""),
        Err(Error::Refused(Refusal::Malformed))
    );
    assert_eq!(
        sealer.clone().with_max_len(0).open_bytes(""),
        Err(Error::Refused(Refusal::Malformed))
    );
}

#[test]
fn padding_characters_are_malformed() {
    let sealer = sealer();
    let value = sealed(&sealer);
    for text in [
        format!("{value}="),
        format!("{value}=="),
        format!("{value}==="),
        format!("={value}"),
        format!("{}={}", &value[..4], &value[4..]),
        "=".into(),
        "====".into(),
        "=".repeat(DEFAULT_MAX_LEN),
    ] {
        assert_eq!(
            sealer.open_bytes(&text),
            Err(Error::Refused(Refusal::Malformed)),
            "{text}"
        );
    }
}

#[test]
fn other_spellings_of_a_sealed_value_are_refused() {
    let sealer = sealer();
    let value = sealed(&sealer);
    // The standard alphabet, surrounding spaces, quotes: not the value.
    let standard: String = value
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    if standard != value {
        assert_eq!(
            sealer.open_bytes(&standard),
            Err(Error::Refused(Refusal::Malformed))
        );
    }
    for text in [
        format!(" {value}"),
        format!("{value} "),
        format!("\"{value}\""),
        format!("{value}\n"),
    ] {
        assert_eq!(
            sealer.open_bytes(&text),
            Err(Error::Refused(Refusal::Malformed)),
            "{text:?}"
        );
    }
    // Every proper prefix is refused.
    for end in 0..value.len() {
        // Refused before authentication succeeds, never as Expired etc.
        let result = sealer.open_bytes(&value[..end]).map(|o| o.value);
        assert!(
            matches!(
                result,
                Err(Error::Refused(Refusal::Malformed)
                    | Error::Refused(Refusal::Authentication)
                    | Error::Refused(Refusal::UnknownKey(_)))
            ),
            "prefix {end}: {result:?}"
        );
    }
}

#[test]
fn ten_thousand_cookie_segments_in_one_value_are_refused() {
    let sealer = sealer();
    let value = sealed(&sealer);
    let pairs = vec![format!("session={value}"); 10_000].join("; ");
    let values = vec![value.as_str(); 10_000].join(";");
    let tiny = vec!["a=b"; 10_000].join("; ");
    for text in [&pairs, &values, &tiny] {
        assert_eq!(
            sealer.open_bytes(text),
            Err(Error::Refused(Refusal::TooLong {
                len: text.len(),
                max: DEFAULT_MAX_LEN
            }))
        );
        // With no maximum to speak of, the decoder refuses it.
        let unbounded = sealer.clone().with_max_len(usize::MAX);
        assert_eq!(
            unbounded.open_bytes(text),
            Err(Error::Refused(Refusal::Malformed))
        );
    }
}

#[test]
fn sealing_a_mebibyte_is_too_large() {
    let sealer = sealer();
    assert!(matches!(
        sealer.seal_bytes(&vec![0u8; MIB]),
        Err(Error::Seal(SealError::TooLarge { .. }))
    ));
    assert!(matches!(
        sealer.seal(&"x".repeat(MIB)),
        Err(Error::Seal(SealError::TooLarge { .. }))
    ));
}

/// A huge configured maximum (`usize::MAX` as "no limit") must not make
/// sealing reserve that much memory up front: it used to panic with a
/// capacity overflow, or abort the process when the allocation failed.
#[test]
fn a_huge_maximum_seals_and_opens() {
    let payload = vec![7u8; 100_000];
    for max in [usize::MAX, usize::MAX / 2, 1 << 40, 1 << 20] {
        let sealer = sealer().with_max_len(max);
        for payload in [&b"small"[..], &payload] {
            let value = sealer.seal_bytes(payload).expect("seals");
            let opened = sealer.open_bytes(&value).expect("opens");
            assert_eq!(opened.value, payload, "max {max}");
        }
        let typed = "x".repeat(50_000);
        let value = sealer.seal(&typed).expect("seals");
        assert_eq!(sealer.open::<String>(&value).expect("opens").value, typed);
    }
}
