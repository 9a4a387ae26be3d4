//! Hostile `Cookie` headers, bigger than any HTTP server lets through,
//! straight into the protocol every adapter uses: each is "no session"
//! (and, where a cookie of the session's name was sent and refused, the
//! removal cookie), in bounded work.

use super::*;
use crate::cookie::MAX_SAME_NAME_COOKIES;

const MIB: usize = 1 << 20;

fn sealer() -> Sealer {
    Sealer::new(Keyring::ephemeral().expect("os rng"))
        .with_name("session")
        .with_purpose("hostile/v1")
}

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
    (session.get(), session.finish_one())
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
    let exact = config(sealer.clone().with_max_len(value.len()));
    assert_eq!(
        load(&exact, &[header.as_bytes()]),
        (Some("ada".to_owned()), None)
    );
    let short = config(sealer.with_max_len(value.len() - 1));
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
