//! Hostile values given to `Sealer::open`: huge, not UTF-8, at and over the
//! maximum length, empty, padded, cut short, many cookies in one. Each gets
//! a clear error, in bounded work (the inputs are large; nothing here
//! measures time).

use sealed_session::{Error, Keyring, Sealer, DEFAULT_MAX_LEN};

const MIB: usize = 1 << 20;

fn sealer() -> Sealer {
    Sealer::new(Keyring::ephemeral().expect("os rng"))
        .name("session")
        .purpose("hostile/v1")
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
            Err(Error::TooLarge {
                len: value.len(),
                max: DEFAULT_MAX_LEN
            })
        );
        assert!(matches!(
            sealer.open::<String>(&value),
            Err(Error::TooLarge { .. })
        ));
    }
}

#[test]
fn a_mebibyte_value_under_a_mebibyte_maximum_is_decoded_and_refused() {
    // An operator who raises the maximum still gets a clear error.
    let sealer = sealer().max_len(2 * MIB);
    assert_eq!(sealer.open_bytes(&"!".repeat(MIB)), Err(Error::Malformed));
    // Valid base64 of a version-1 envelope with key id 0 (not in the keyring).
    let mut value = String::from("AQA");
    value.push_str(&"A".repeat(MIB - value.len()));
    assert_eq!(
        sealer.open_bytes(&value),
        Err(Error::UnknownKey(sealed_session::KeyId(0)))
    );
    // The keyring's own key id, then a mebibyte of zeros: authentication.
    let id = sealed(&sealer)[..3].to_owned();
    let value = format!("{id}{}", "A".repeat(MIB));
    assert_eq!(sealer.open_bytes(&value), Err(Error::Authentication));
}

#[test]
fn over_long_values_are_refused_before_decoding() {
    // Not base64 at all: decoding would say Malformed. One character over
    // the maximum it is TooLarge, so nothing was decoded; at the maximum it
    // is decoded, and Malformed.
    for max in [0, 1, 64, 100, DEFAULT_MAX_LEN, 10_000] {
        let sealer = sealer().max_len(max);
        let garbage = "\u{1}".repeat(max + 1);
        assert_eq!(
            sealer.open_bytes(&garbage),
            Err(Error::TooLarge { len: max + 1, max })
        );
        assert_eq!(sealer.open_bytes(&garbage[..max]), Err(Error::Malformed));
    }
}

#[test]
fn a_value_of_exactly_the_maximum_opens_and_one_more_character_does_not() {
    let sealer = sealer();
    let value = sealed(&sealer);
    let exact = sealer.clone().max_len(value.len());
    let opened = exact.open_bytes(&value).expect("exactly the maximum opens");
    assert_eq!(opened.value, b"a session worth attacking");

    let short = sealer.clone().max_len(value.len() - 1);
    assert_eq!(
        short.open_bytes(&value),
        Err(Error::TooLarge {
            len: value.len(),
            max: value.len() - 1
        })
    );
    // Sealing obeys the same maximum.
    assert!(matches!(
        short.seal_bytes(b"a session worth attacking"),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(
        exact
            .seal_bytes(b"a session worth attacking")
            .map(|v| v.len()),
        Ok(value.len())
    );
    // A value one character longer than a sealed value fits the maximum
    // by length but is not a sealed value.
    let longer = sealer.clone().max_len(value.len() + 1);
    assert!(matches!(
        longer.open_bytes(&format!("{value}A")),
        Err(Error::Malformed | Error::Authentication)
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
    assert_eq!(sealer.open_bytes(&lossy), Err(Error::Malformed));
    // Non-ASCII characters anywhere in an otherwise sealed value.
    for at in [0, 1, value.len() / 2, value.len()] {
        let mut text = value.clone();
        text.insert(at, 'é');
        assert_eq!(sealer.open_bytes(&text), Err(Error::Malformed), "at {at}");
    }
    assert_eq!(
        sealer.open_bytes(&"\u{fffd}".repeat(1000)),
        Err(Error::Malformed)
    );
}

#[test]
fn an_empty_value_is_malformed() {
    let sealer = sealer();
    assert_eq!(sealer.open_bytes(""), Err(Error::Malformed));
    assert_eq!(sealer.open::<String>(""), Err(Error::Malformed));
    assert_eq!(
        sealer.clone().max_len(0).open_bytes(""),
        Err(Error::Malformed)
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
        assert_eq!(sealer.open_bytes(&text), Err(Error::Malformed), "{text}");
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
        assert_eq!(sealer.open_bytes(&standard), Err(Error::Malformed));
    }
    for text in [
        format!(" {value}"),
        format!("{value} "),
        format!("\"{value}\""),
        format!("{value}\n"),
    ] {
        assert_eq!(sealer.open_bytes(&text), Err(Error::Malformed), "{text:?}");
    }
    // Every proper prefix is refused.
    for end in 0..value.len() {
        // Refused before authentication succeeds, never as Expired etc.
        let result = sealer.open_bytes(&value[..end]).map(|o| o.value);
        assert!(
            matches!(
                result,
                Err(Error::Malformed | Error::Authentication | Error::UnknownKey(_))
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
            Err(Error::TooLarge {
                len: text.len(),
                max: DEFAULT_MAX_LEN
            })
        );
        // With no maximum to speak of, the decoder refuses it.
        let unbounded = sealer.clone().max_len(usize::MAX);
        assert_eq!(unbounded.open_bytes(text), Err(Error::Malformed));
    }
}

#[test]
fn sealing_a_mebibyte_is_too_large() {
    let sealer = sealer();
    assert!(matches!(
        sealer.seal_bytes(&vec![0u8; MIB]),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        sealer.seal(&"x".repeat(MIB)),
        Err(Error::TooLarge { .. })
    ));
}

/// The same hostile input as whole `Cookie` headers, through the cookie
/// layer every adapter uses: each is "no session" (and, where a cookie of
/// the session's name was sent and refused, the removal cookie).
#[cfg(feature = "cookie")]
mod cookie_layer {
    use super::*;
    use sealed_session::{Session, SessionConfig, MAX_SAME_NAME_COOKIES};

    fn config(sealer: Sealer) -> SessionConfig {
        SessionConfig::new(sealer).expect("valid cookie name")
    }

    fn valid(config: &SessionConfig) -> String {
        config.sealer().seal(&"ada".to_owned()).expect("seals")
    }

    /// Loads a session from `headers`; returns its value and the response's
    /// `Set-Cookie`.
    fn load(config: &SessionConfig, headers: &[&[u8]]) -> (Option<String>, Option<String>) {
        let session = Session::<String>::load(config, headers.iter().copied());
        (session.get(), session.finish())
    }

    #[test]
    fn a_mebibyte_cookie_header_is_no_session() {
        let config = config(sealer());
        let removal = config.removal_cookie();
        let huge = format!("session={}", "A".repeat(MIB));
        assert_eq!(load(&config, &[huge.as_bytes()]), (None, Some(removal)));
        // A mebibyte of other cookies: nothing of ours, nothing to remove.
        let others = format!("junk={}", "A".repeat(MIB));
        assert_eq!(load(&config, &[others.as_bytes()]), (None, None));
    }

    #[test]
    fn ten_thousand_cookies_in_one_header() {
        let config = config(sealer());
        let value = valid(&config);
        // Ten thousand other cookies around ours: ours is found.
        let mut header = (0..10_000)
            .map(|i| format!("c{i}=v{i}"))
            .collect::<Vec<_>>()
            .join("; ");
        header.push_str(&format!("; session={value}"));
        assert_eq!(
            load(&config, &[header.as_bytes()]),
            (Some("ada".to_owned()), None)
        );
        // Ten thousand cookies of the session's name: all ignored unopened.
        let header = vec![format!("session={value}"); 10_000].join("; ");
        const _: () = assert!(10_000 > MAX_SAME_NAME_COOKIES);
        assert_eq!(load(&config, &[header.as_bytes()]), (None, None));
        // Ten thousand headers.
        let headers = vec![b"a=b".as_slice(); 10_000];
        assert_eq!(load(&config, &headers), (None, None));
    }

    /// Only our own values are decoded as UTF-8: one of ours that is not
    /// is a refused cookie, and bytes anywhere else hide nothing.
    #[test]
    fn non_utf8_bytes_hide_no_session() {
        let config = config(sealer());
        let value = valid(&config);
        let removal = config.removal_cookie();
        let mut bad = format!("session={value}").into_bytes();
        bad.push(0xff);
        assert_eq!(load(&config, &[&bad]), (None, Some(removal)));
        let good = format!("session={value}");
        assert_eq!(
            load(&config, &[&bad, good.as_bytes()]),
            (Some("ada".to_owned()), None)
        );
        for header in [
            [b"\xff=\xfe; ".as_slice(), good.as_bytes()].concat(),
            [good.as_bytes(), b"; t=\xff\xfe".as_slice()].concat(),
            [b"\xc3;".as_slice(), good.as_bytes(), b";\x80".as_slice()].concat(),
        ] {
            assert_eq!(
                load(&config, &[&header]),
                (Some("ada".to_owned()), None),
                "{header:?}"
            );
        }
    }

    #[test]
    fn exactly_the_maximum_length_and_one_over() {
        let sealer = sealer();
        let value = sealer.seal(&"ada".to_owned()).expect("seals");
        let header = format!("session={value}");
        let exact = config(sealer.clone().max_len(value.len()));
        assert_eq!(
            load(&exact, &[header.as_bytes()]),
            (Some("ada".to_owned()), None)
        );
        let short = config(sealer.max_len(value.len() - 1));
        assert_eq!(
            load(&short, &[header.as_bytes()]),
            (None, Some(short.removal_cookie()))
        );
    }

    #[test]
    fn empty_and_padded_values_are_refused() {
        let config = config(sealer());
        let value = valid(&config);
        let removal = config.removal_cookie();
        for header in [
            "session=".to_owned(),
            "session=\"\"".to_owned(),
            format!("session={value}="),
            format!("session={value}=="),
            "session==".to_owned(),
        ] {
            assert_eq!(
                load(&config, &[header.as_bytes()]),
                (None, Some(removal.clone())),
                "{header}"
            );
        }
    }
}

/// A huge configured maximum (`usize::MAX` as "no limit") must not make
/// sealing reserve that much memory up front: it used to panic with a
/// capacity overflow, or abort the process when the allocation failed.
#[test]
fn a_huge_maximum_seals_and_opens() {
    let payload = vec![7u8; 100_000];
    for max in [usize::MAX, usize::MAX / 2, 1 << 40, 1 << 20] {
        let sealer = sealer().max_len(max);
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
