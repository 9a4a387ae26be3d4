use super::*;

fn read<'h>(headers: &[&'h str], max: usize) -> Carried<'h> {
    Carried::read(headers.iter().map(|h| h.as_bytes()), "s", max)
}

fn assemble(headers: &[&str], max: usize) -> Option<Vec<Result<String, Refusal>>> {
    read(headers, max).assemble(10_000)
}

#[test]
fn names_keep_the_prefix_and_compare_strictly() {
    assert_eq!(chunk_name("__Host-s", 0), "__Host-s");
    assert_eq!(chunk_name("__Host-s", 3), "__Host-s.3");
    let i = |n: &str| chunk_index(n.as_bytes(), "s");
    assert_eq!(i("s"), Some(0));
    assert_eq!(i("s.1"), Some(1));
    assert_eq!(i("s.15"), Some(15));
    for not_ours in [
        "s.0",
        "s.01",
        "s.16",
        "s.99",
        "s.+1",
        "s.-1",
        "s.1 ",
        "s.",
        "s1",
        "S.1",
        "s.1.2",
        "s..1",
        "s.100",
        "\u{2000}s.1",
        "s.\u{0661}",
    ] {
        assert_eq!(i(not_ours), None, "{not_ours:?}");
    }
    // Past the reader's maximum: noted for removal, never read.
    let carried = read(&["s.2=b; s.3=c; s.15=d; s.16=e"], 3);
    assert_eq!(carried.chunk_set(), 1 << 2 | 1 << 3 | 1 << 15);
    assert!(!read(&["s.5=x"], 3).is_empty());
    assert_eq!(
        read(&["s=4.a; s.1=b; s.2=c; s.3=d"], 3).assemble(100),
        Some(vec![Err(Refusal::Malformed)]),
        "a count past the maximum"
    );
    // Without chunking the names are noted all the same.
    assert_eq!(read(&["s=a; s.1=b; s.7=c"], 1).chunk_set(), 0b1000_0010);
    assert_eq!(
        chunk_names(b"s.1=b; s=a; x.2=c;s.15 =d; s.16=e; s.01=f", "s"),
        1 << 1 | 1 << 15
    );
}

#[test]
fn reading_keeps_order_and_trims_only_sp_and_htab() {
    let carried = read(&["s.1=b; s=2.a; x=1", " s.2 = c ;s.1\u{a0}=no"], 4);
    assert_eq!(carried.chunk_set(), 0b110);
    assert_eq!(
        assemble(&["s.1=b; s=3.a; x=1", " s.2 = c ;s.1\u{a0}=no"], 4),
        Some(vec![Ok("abc".to_owned())])
    );
    // Without chunking (max 1) only the name itself is read; its chunks
    // are noted, to be removed.
    let carried = read(&["s=2.a; s.1=b"], 1);
    assert_eq!(carried.chunk_set(), 0b10);
    assert_eq!(
        carried.assemble(100),
        Some(vec![Err(Refusal::Malformed)]),
        "a count where none may be: malformed"
    );
}

#[test]
fn a_single_cookie_is_the_value_itself() {
    assert_eq!(assemble(&["s=AQ"], 4), Some(vec![Ok("AQ".to_owned())]));
    // Chunks past the one cookie are stale: ignored here, removed by the
    // next write.
    assert_eq!(
        assemble(&["s=AQ; s.1=x; s.3=y"], 4),
        Some(vec![Ok("AQ".to_owned())])
    );
    assert_eq!(read(&["s=AQ; s.1=x; s.3=y"], 4).chunk_set(), 0b1010);
}

#[test]
fn counts_and_missing_chunks() {
    let malformed = Some(vec![Err(Refusal::Malformed)]);
    for bad in [
        "s=1.a; s.1=b",     // one chunk never has a count
        "s=5.a; s.1=b",     // more than the maximum (4)
        "s=02.a; s.1=b",    // not canonical
        "s=+2.a; s.1=b",    // not canonical
        "s=.a; s.1=b",      // no count
        "s=3.a; s.1=b",     // chunk 2 missing
        "s=3.a; s.2=c",     // chunk 1 missing
        "s=x2.a; s.1=b",    // not a number
        "s=2.a.b; s.1=b.c", // put together, not base64url: malformed later
    ] {
        let got = assemble(&[bad], 4);
        if bad.starts_with("s=2.a.b") {
            assert_eq!(got, Some(vec![Ok("a.bb.c".to_owned())]), "{bad}");
        } else {
            assert_eq!(got, malformed, "{bad}");
        }
    }
    // A chunk set without its first chunk is nothing to open.
    assert_eq!(assemble(&["s.1=b; s.2=c"], 4), Some(vec![]));
    assert!(!read(&["s.1=b"], 4).is_empty());
    assert!(read(&["t.1=b; s1=c"], 4).is_empty());
}

#[test]
fn duplicates_give_every_way_and_too_many_give_none() {
    // Two first chunks, two second chunks: four ways.
    let got = assemble(&["s=2.a; s=2.b; s.1=x; s.1=y"], 4).expect("bounded");
    let mut got: Vec<_> = got.into_iter().map(Result::unwrap).collect();
    got.sort();
    assert_eq!(got, ["ax", "ay", "bx", "by"]);
    // 3 x 3 ways is over MAX_SAME_NAME_COOKIES (8): none is tried.
    assert_eq!(
        assemble(&["s=3.a; s.1=1; s.1=2; s.1=3; s.2=1; s.2=2; s.2=3"], 4),
        None
    );
    // Nine cookies of one chunk name: too many, whatever else.
    let nine = vec!["s.2=x"; MAX_SAME_NAME_COOKIES + 1];
    let mut headers = vec!["s=AQ"];
    headers.extend(nine);
    assert_eq!(assemble(&headers, 4), None);
    // Eight first chunks without counts: eight ways, still tried.
    let eight = vec!["s=AQ"; MAX_SAME_NAME_COOKIES];
    assert_eq!(assemble(&eight, 4).map(|w| w.len()), Some(8));
}

#[test]
fn length_is_bounded_before_joining() {
    let carried = read(&["s=2.aaaa; s.1=bbbb"], 4);
    assert_eq!(carried.assemble(8), Some(vec![Ok("aaaabbbb".to_owned())]));
    assert_eq!(
        carried.assemble(7),
        Some(vec![Err(Refusal::TooLong { len: 8, max: 7 })])
    );
    // A value of one cookie is measured before it is copied too.
    let one = read(&["s=aaaaaaaa"], 4);
    assert_eq!(one.assemble(8), Some(vec![Ok("aaaaaaaa".to_owned())]));
    assert_eq!(
        one.assemble(7),
        Some(vec![Err(Refusal::TooLong { len: 8, max: 7 })])
    );
    let not_utf8: &[u8] = b"s=2.a; s.1=\xff";
    let carried = Carried::read([not_utf8], "s", 4);
    assert_eq!(carried.assemble(100), Some(vec![Err(Refusal::Malformed)]));
}

/// A header of `fixed` bytes around the value for every chunk, as the
/// session layer measures it.
fn fixed(fixed: usize) -> impl Fn(usize) -> usize {
    move |i| {
        fixed
            + if i >= 10 {
                2
            } else if i > 0 {
                1
            } else {
                0
            }
    }
}

#[test]
fn plan_uses_one_cookie_when_it_fits() {
    let c = Chunking::default();
    assert_eq!(plan(4000, "s", &c, fixed(96)), Ok(vec![4000]));
    let two = plan(4001, "s", &c, fixed(96)).expect("fits two");
    assert_eq!(two.len(), 2);
    assert_eq!(two.iter().sum::<usize>(), 4001);
    assert_eq!(two[0], 4000 - 2, "the first chunk holds `2.`");
}

#[test]
fn every_cut_joins_back_and_fits_its_cookie() {
    let c = Chunking::default().with_max_cookies(8).with_budget(40_000);
    let value: String = (0..30_000)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    for len in [1, 100, 3999, 4000, 4001, 7000, 8100, 12_345, 25_000] {
        let pieces = plan(len, "s", &c, fixed(60)).expect("fits");
        let chunks = cut(&value[..len], &pieces);
        assert_eq!(chunks.len(), pieces.len());
        for (i, chunk) in chunks.iter().enumerate() {
            assert!(fixed(60)(i) + chunk.len() <= MAX_COOKIE_BYTES, "{len} {i}");
            assert!(!chunk.is_empty());
        }
        let header: Vec<String> = chunks
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{}={v}", chunk_name("s", i)))
            .collect();
        assert_eq!(
            header.join("; ").len(),
            cookie_header_len("s", &pieces),
            "the budget measures what is sent"
        );
        let header = header.join("; ");
        let carried = Carried::read([header.as_bytes()], "s", 8);
        assert_eq!(
            carried.assemble(40_000),
            Some(vec![Ok(value[..len].to_owned())])
        );
    }
}

#[test]
fn plan_enforces_count_and_budget() {
    let c = Chunking::default();
    // Under the default budget: about 7 KiB of Cookie header.
    let fits = (4000..8000)
        .rev()
        .find(|&len| plan(len, "session", &c, fixed(80)).is_ok())
        .expect("some length fits");
    let used = cookie_header_len(
        "session",
        &plan(fits, "session", &c, fixed(80)).expect("fits"),
    );
    assert!(
        used <= DEFAULT_CHUNK_BUDGET && used > DEFAULT_CHUNK_BUDGET - 4,
        "{used}"
    );
    let over = plan(fits + 1, "session", &c, fixed(80)).expect_err("over the budget");
    assert_eq!(
        over,
        (used + 1, DEFAULT_CHUNK_BUDGET),
        "the bytes it would take"
    );
    // Two cookies at most: the count binds before the budget, and the error
    // says so in value bytes: the value's length, and the longest two
    // cookies hold (4000 + 3999 - 2 for `2.`).
    let two = Chunking::default().with_max_cookies(2).with_budget(100_000);
    assert_eq!(plan(2 * 4000, "s", &two, fixed(96)), Err((8000, 7997)));
    assert!(plan(7997, "s", &two, fixed(96)).is_ok());
    // One cookie at most: chunking that never chunks.
    let one = Chunking::default().with_max_cookies(0);
    assert_eq!(one.max_cookies(), 1);
    assert_eq!(plan(4001, "s", &one, fixed(96)), Err((4001, 4000)));
    assert_eq!(
        Chunking::default().with_max_cookies(99).max_cookies(),
        MAX_CHUNKS
    );
}

#[test]
fn extreme_budgets_and_lengths_do_not_overflow() {
    // A budget of `usize::MAX` with too few cookies: the count binds.
    let c = Chunking::default()
        .with_max_cookies(2)
        .with_budget(usize::MAX);
    assert_eq!(
        plan(usize::MAX, "s", &c, fixed(96)),
        Err((usize::MAX, 7997))
    );
    assert_eq!(plan(9000, "s", &c, fixed(96)), Err((9000, 7997)));
    // Headers that leave no room at all.
    let c = Chunking::default().with_max_cookies(16).with_budget(0);
    assert_eq!(plan(10, "s", &c, |_| usize::MAX), Err((10, 0)));
    assert!(plan(10, "s", &c, fixed(96)).is_err());
}

proptest::proptest! {
    /// Any header: no panic, at most `MAX_SAME_NAME_COOKIES` ways, none
    /// past the maximum.
    #[test]
    fn any_header_reads_within_bounds(
        header in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        max in 0usize..20,
    ) {
        let carried = Carried::read([&header[..]], "s", max.min(MAX_CHUNKS));
        if let Some(ways) = carried.assemble(60) {
            proptest::prop_assert!(ways.len() <= MAX_SAME_NAME_COOKIES);
            for way in ways.iter().flatten() {
                proptest::prop_assert!(way.len() <= 60);
            }
        }
    }

    /// Headers made of chunk-like pairs, with counts, duplicates and gaps:
    /// the ways are exactly those of the reference reading below (each
    /// first chunk's piece, then one value per further chunk it announces,
    /// in index order), or none when there are too many.
    #[test]
    fn chunk_like_headers_join_in_index_order(
        pairs in proptest::collection::vec((0usize..6, "[0-9]{0,2}\\.?[A-Za-z_-]{0,6}"), 0..14),
    ) {
        let header = pairs
            .iter()
            .map(|(i, v)| format!("{}={v}", chunk_name("s", *i)))
            .collect::<Vec<_>>()
            .join("; ");
        let carried = Carried::read([header.as_bytes()], "s", 4);
        let mut got: Vec<Result<String, Refusal>> = match carried.assemble(1000) {
            Some(ways) => ways,
            None => {
                proptest::prop_assert_eq!(reference_ways(&pairs, 4), None);
                return Ok(());
            }
        };
        let mut expected = reference_ways(&pairs, 4).expect("bounded as the reference is");
        let key = |w: &Result<String, Refusal>| format!("{w:?}");
        got.sort_by_key(key);
        expected.sort_by_key(key);
        proptest::prop_assert_eq!(got, expected);
    }
}

/// The reference reading of `(index, value)` pairs (all UTF-8, short):
/// every way SECURITY.md's rule gives, `Malformed` for a first chunk with a
/// bad count or a missing chunk; `None` past eight values of one name or
/// eight ways.
fn reference_ways(pairs: &[(usize, String)], max: usize) -> Option<Vec<Result<String, Refusal>>> {
    let of = |i: usize| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(j, _)| *j == i)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let chunks: Vec<Vec<&str>> = (0..max).map(of).collect();
    if chunks.iter().any(|c| c.len() > MAX_SAME_NAME_COOKIES) {
        return None;
    }
    let mut ways = Vec::new();
    for first in &chunks[0] {
        let Some((count, piece)) = first.split_once('.') else {
            ways.push(Ok((*first).to_owned()));
            continue;
        };
        let count = match count.parse::<usize>() {
            Ok(n) if !count.starts_with('0') && (2..=max).contains(&n) => n,
            _ => {
                ways.push(Err(Refusal::Malformed));
                continue;
            }
        };
        if chunks[1..count].iter().any(Vec::is_empty) {
            ways.push(Err(Refusal::Malformed));
            continue;
        }
        let mut joined = vec![piece.to_owned()];
        for values in &chunks[1..count] {
            joined = joined
                .iter()
                .flat_map(|so_far| values.iter().map(move |v| format!("{so_far}{v}")))
                .collect();
        }
        if ways.len() + joined.len() > MAX_SAME_NAME_COOKIES {
            return None;
        }
        ways.extend(joined.into_iter().map(Ok));
    }
    (ways.len() <= MAX_SAME_NAME_COOKIES).then_some(ways)
}
