//! A session over several cookies (opt-in, [`Chunking`]): the chunks'
//! names, the reading of a request's chunks into the candidate values they
//! put together, and the split of one sealed value into chunks. No crypto:
//! the chunks of one write are one sealed value, cut into pieces, and only
//! opening the whole value says whether they belong together.
//! SECURITY.md ("Sessions over several cookies") states the rule.

use core::str::Utf8Error;

use super::{MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES};
use crate::error::Refusal;

/// The most cookies one session may be split into, whatever
/// [`Chunking::with_max_cookies`] says: chunk names run from `NAME` to
/// `NAME.15`.
pub const MAX_CHUNKS: usize = 16;

/// The default [`Chunking::with_max_cookies`]: four cookies.
pub const DEFAULT_MAX_CHUNKS: usize = 4;

/// The default [`Chunking::with_budget`]: 7,168 bytes (7 KiB) of `Cookie`
/// request header for the session's chunks.
///
/// The tightest common limits are per header line: nginx's
/// `large_client_header_buffers` (8 KiB per line) and Apache's
/// `LimitRequestFieldSize` (8,190 bytes). A browser sends all of a site's
/// cookies on one `Cookie:` line, this crate's own companions included:
/// the CSRF cookie (about 120 bytes with its name) and, on the request
/// after a [`Session::set_flash`](crate::Session::set_flash), the flash
/// cookie (its sealed message: up to one cookie, about 4 KiB). With the
/// session at this full budget, the CSRF cookie and a flash message of up
/// to 300 bytes leave at least 256 bytes of an 8,190-byte line for the
/// site's other cookies (measured with the name `__Host-session`:
/// `the_default_budget_leaves_room_for_csrf_and_a_short_flash`). A flash
/// of a few KiB beside a session near the budget passes any 8 KiB line:
/// keep flash messages short, or lower the budget by the flash's length.
/// The default is kept this high because a lower one would leave little
/// that one cookie (about 4,000 bytes of value) does not already hold.
///
/// Limits on the whole request head are looser: Node.js 16 KiB, HAProxy's
/// `tune.bufsize` 16 KiB, AWS ALB 16 KiB per header and 64 KiB in all,
/// Cloudflare 32 KiB, Envoy 60 KiB, hyper about 400 KiB, actix-web 128 KiB.
/// (Tomcat's 8 KiB for the request line and every header together is the
/// exception: behind one, lower the budget.)
pub const DEFAULT_CHUNK_BUDGET: usize = 7 * 1024;

/// How a session too large for one cookie is written over several (see
/// [`CookieOptions::with_chunking`](crate::CookieOptions::with_chunking)).
///
/// A sealed value that fits one cookie is written exactly as without
/// chunking: one cookie named as the sealer's name says. A longer one is cut
/// into chunks: the cookie `NAME` holds the number of chunks, a `.` and the
/// first piece; `NAME.1`, `NAME.2`, ... hold the next pieces (so a
/// `__Host-` name keeps its prefix on every chunk). Each `Set-Cookie` stays
/// within [`MAX_COOKIE_BYTES`](crate::MAX_COOKIE_BYTES), attributes
/// included; the chunks together take at most [`Chunking::budget`] bytes
/// of the `Cookie` header a browser sends back, in at most
/// [`Chunking::max_cookies`] cookies. Past either,
/// [`Session::set`](crate::Session::set) fails with
/// [`SealError::TooLarge`](crate::SealError::TooLarge).
///
/// ```
/// use sealed_session::{Chunking, DEFAULT_CHUNK_BUDGET};
/// let chunking = Chunking::default();
/// assert_eq!(chunking.budget(), DEFAULT_CHUNK_BUDGET);
/// assert_eq!(chunking.max_cookies(), 4);
/// let larger = Chunking::default().with_max_cookies(6).with_budget(20_000);
/// assert_eq!((larger.max_cookies(), larger.budget()), (6, 20_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    max_cookies: usize,
    budget: usize,
}

impl Default for Chunking {
    fn default() -> Self {
        Chunking {
            max_cookies: DEFAULT_MAX_CHUNKS,
            budget: DEFAULT_CHUNK_BUDGET,
        }
    }
}

impl Chunking {
    /// The most cookies a session is written in (default
    /// [`DEFAULT_MAX_CHUNKS`]); kept between 1 and [`MAX_CHUNKS`].
    #[must_use]
    pub fn with_max_cookies(mut self, max_cookies: usize) -> Self {
        self.max_cookies = max_cookies.clamp(1, MAX_CHUNKS);
        self
    }

    /// The most bytes the session's cookies may take in the `Cookie`
    /// header a browser sends: their names, `=`, values and the `; `
    /// between them (default [`DEFAULT_CHUNK_BUDGET`]). It is also the
    /// longest sealed value the session's sealer seals and opens.
    #[must_use]
    pub fn with_budget(mut self, budget: usize) -> Self {
        self.budget = budget;
        self
    }

    /// The most cookies a session is written in.
    pub fn max_cookies(&self) -> usize {
        self.max_cookies
    }

    /// The most bytes of `Cookie` header the session's cookies take.
    pub fn budget(&self) -> usize {
        self.budget
    }
}

/// The name of chunk `index` of the cookie `name`: `name` itself for the
/// first, `name.INDEX` for the others.
pub(crate) fn chunk_name(name: &str, index: usize) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.{index}")
    }
}

/// The chunk index of a cookie called `pair_name`, if it is a chunk of
/// `name`: `name` itself is 0, `name.I` is `I` for a canonical decimal `I`
/// (no sign, no leading zero) from 1 to [`MAX_CHUNKS`]` - 1`, whatever the
/// reader's own maximum (a chunk past it is still ours to remove). Compared
/// byte for byte, as the session layer compares [`pairs`](super::pairs)' names.
fn chunk_index(pair_name: &[u8], name: &str) -> Option<usize> {
    let rest = pair_name.strip_prefix(name.as_bytes())?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix(b".")?;
    parse_count(digits).filter(|i| (1..MAX_CHUNKS).contains(i))
}

/// The chunk cookies (`name.1` to `name.15`) in one `Cookie` header value,
/// as a bit set (bit `i` for chunk `i`): what a server without chunking
/// removes beside the session cookie when it writes it. Never allocates.
#[cfg(test)]
pub(crate) fn chunk_names(header: &[u8], name: &str) -> u32 {
    super::pairs(header)
        .filter_map(|(pair_name, _)| chunk_bit(pair_name, name))
        .fold(0, |set, bit| set | bit)
}

/// The bit of chunk cookie `pair_name` (`name.1` to `name.15`) in a
/// [`chunk_names`] set, if it is one.
pub(crate) fn chunk_bit(pair_name: &[u8], name: &str) -> Option<u32> {
    chunk_index(pair_name, name)
        .filter(|&i| i > 0)
        .map(|i| 1 << i)
}

/// A canonical decimal number of at most two digits (chunk indices and
/// counts are below [`MAX_CHUNKS`]).
fn parse_count(digits: &[u8]) -> Option<usize> {
    match digits {
        [d @ b'1'..=b'9'] => Some(usize::from(d - b'0')),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => {
            Some(usize::from(a - b'0') * 10 + usize::from(b - b'0'))
        }
        _ => None,
    }
}

/// The request's cookies of one session name, by chunk index: what a
/// request carried, read strictly (by [`pairs`](super::pairs)
/// reads one name). At most [`MAX_SAME_NAME_COOKIES`]` + 1` values are kept
/// per index: one more says there were too many.
#[derive(Debug, Default)]
pub(crate) struct Carried<'h> {
    values: Vec<Vec<Result<&'h str, Utf8Error>>>,
    /// The chunks past the reader's maximum (up to [`MAX_CHUNKS`]) that
    /// came, a bit each: never read, but removed by the next write (a
    /// session written when the maximum was higher).
    beyond: u32,
}

impl<'h> Carried<'h> {
    /// Reads the chunks of `name` (below `max`; 1 reads `name` alone) from
    /// the `Cookie` header values, in order; chunks from `max` to
    /// [`MAX_CHUNKS`]` - 1` are only noted, for [`Carried::chunk_set`].
    /// Every other cookie goes to `others` (name, value), in the same pass.
    pub(crate) fn read_with(
        headers: impl IntoIterator<Item = &'h [u8]>,
        name: &str,
        max: usize,
        others: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Self {
        let mut values: Vec<Vec<_>> = (0..max.clamp(1, MAX_CHUNKS)).map(|_| Vec::new()).collect();
        let mut beyond = 0_u32;
        for header in headers {
            for (pair_name, value) in super::pairs(header) {
                let Some(index) = chunk_index(pair_name, name) else {
                    others(pair_name, value);
                    continue;
                };
                let Some(slot) = values.get_mut(index) else {
                    beyond |= 1 << index;
                    continue;
                };
                if slot.len() <= MAX_SAME_NAME_COOKIES {
                    slot.push(core::str::from_utf8(value));
                }
            }
        }
        Carried { values, beyond }
    }

    /// [`Carried::read_with`], the other cookies ignored.
    #[cfg(test)]
    pub(crate) fn read(
        headers: impl IntoIterator<Item = &'h [u8]>,
        name: &str,
        max: usize,
    ) -> Self {
        Carried::read_with(headers, name, max, &mut |_, _| {})
    }

    /// Whether any cookie of the session's name or its chunks came.
    pub(crate) fn is_empty(&self) -> bool {
        self.beyond == 0 && self.values.iter().all(Vec::is_empty)
    }

    /// Whether some name came more than [`MAX_SAME_NAME_COOKIES`] times.
    pub(crate) fn too_many(&self) -> bool {
        self.values.iter().any(|v| v.len() > MAX_SAME_NAME_COOKIES)
    }

    /// The chunk indices from 1 on that came, as a bit set (bit `i` for
    /// chunk `i`), up to [`MAX_CHUNKS`]` - 1` whatever the reader's
    /// maximum: the chunks a write of fewer cookies, or a removal, must
    /// remove.
    pub(crate) fn chunk_set(&self) -> u32 {
        self.values
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, v)| !v.is_empty())
            .fold(self.beyond, |set, (i, _)| set | 1 << i)
    }

    /// The values the carried chunks put together, one per way of picking
    /// a first chunk and one cookie for each further chunk it announces;
    /// `Err` with the reason for a first chunk that announces a count it
    /// may not, or whose chunks are missing, or that is longer than
    /// `max_len` put together. `None` if there are more than
    /// [`MAX_SAME_NAME_COOKIES`] ways (or values of one name): bounded
    /// work, and then none is used.
    pub(crate) fn assemble(&self, max_len: usize) -> Option<Vec<Result<String, Refusal>>> {
        if self.too_many() {
            return None;
        }
        let mut out = Vec::new();
        for first in &self.values[0] {
            let Ok(first) = first else {
                out.push(Err(Refusal::Malformed));
                continue;
            };
            let Some((count, piece)) = split_first(first) else {
                // One cookie: the sealed value itself, measured before it
                // is copied as every way is.
                out.push(join(first, &[], max_len));
                continue;
            };
            let Some(count) = count.filter(|c| (2..=self.values.len()).contains(c)) else {
                out.push(Err(Refusal::Malformed));
                continue;
            };
            let rest = &self.values[1..count];
            if rest.iter().any(Vec::is_empty) {
                out.push(Err(Refusal::Malformed));
                continue;
            }
            let ways = rest
                .iter()
                .try_fold(1_usize, |n, v| n.checked_mul(v.len()))
                .filter(|&n| n <= MAX_SAME_NAME_COOKIES)?;
            if out.len() + ways > MAX_SAME_NAME_COOKIES {
                return None;
            }
            for way in 0..ways {
                // Way `way` picks, for chunk i, value (way / stride) % len.
                let mut stride = 1;
                let mut picked = Vec::with_capacity(rest.len());
                for values in rest {
                    picked.push(&values[(way / stride) % values.len()]);
                    stride *= values.len();
                }
                out.push(join(piece, &picked, max_len));
            }
        }
        (out.len() <= MAX_SAME_NAME_COOKIES).then_some(out)
    }
}

/// The count and the first piece of a first chunk `NAME=COUNT.PIECE`, or
/// `None` for a value without `.` (a single-cookie session: a sealed value
/// never holds a `.`). The count is `None` unless it is a canonical
/// decimal.
fn split_first(value: &str) -> Option<(Option<usize>, &str)> {
    let (count, piece) = value.split_once('.')?;
    Some((parse_count(count.as_bytes()), piece))
}

/// The first piece and the picked further pieces, joined, if every piece
/// is UTF-8 and the whole is at most `max_len` bytes (measured before
/// anything is copied).
fn join(first: &str, rest: &[&Result<&str, Utf8Error>], max_len: usize) -> Result<String, Refusal> {
    let mut len = first.len();
    for piece in rest {
        len = len.saturating_add(piece.as_ref().map_err(|_| Refusal::Malformed)?.len());
    }
    if len > max_len {
        return Err(Refusal::TooLong { len, max: max_len });
    }
    let mut value = String::with_capacity(len);
    value.push_str(first);
    for piece in rest.iter().flat_map(|p| p.as_ref().ok()) {
        value.push_str(piece);
    }
    Ok(value)
}

/// How a sealed value of `len` bytes is cut: the length of each piece,
/// first chunk first. `empty_header(i)` is the length of chunk `i`'s
/// `Set-Cookie` header with an empty value (name and attributes).
///
/// One cookie when its header fits [`MAX_COOKIE_BYTES`]; otherwise the
/// fewest chunks that hold it, each filled as far as its header allows (the
/// first also holds `COUNT.`). `Err` with what binds, as `(len, max)` in
/// one unit: if no count up to `chunking`'s maximum holds it, the sealed
/// value's length and the longest that the maximum count of cookies holds;
/// if the chunks would take more of the `Cookie` header than the budget,
/// the bytes they would take and the budget.
pub(crate) fn plan(
    len: usize,
    name: &str,
    chunking: &Chunking,
    empty_header: impl Fn(usize) -> usize,
) -> Result<Vec<usize>, (usize, usize)> {
    let room = |i: usize| MAX_COOKIE_BYTES.saturating_sub(empty_header(i));
    let plan = if len <= room(0) {
        vec![len]
    } else {
        let mut found = None;
        // The longest value the counts tried so far hold.
        let mut most = room(0);
        for count in 2..=chunking.max_cookies {
            let prefix = count_prefix_len(count);
            let rooms: Vec<usize> = (0..count)
                .map(|i| room(i).saturating_sub(if i == 0 { prefix } else { 0 }))
                .collect();
            let holds = rooms.iter().fold(0_usize, |n, &r| n.saturating_add(r));
            most = most.max(holds);
            if holds >= len {
                let mut left = len;
                let pieces = rooms
                    .iter()
                    .map(|&r| {
                        let take = r.min(left);
                        left -= take;
                        take
                    })
                    .collect::<Vec<_>>();
                found = Some(pieces);
                break;
            }
        }
        match found {
            // Never an empty chunk: the count is the fewest that hold it.
            Some(pieces) => pieces,
            None => return Err((len, most)),
        }
    };
    let used = cookie_header_len(name, &plan);
    if used > chunking.budget {
        return Err((used, chunking.budget));
    }
    Ok(plan)
}

/// Bytes of `COUNT.` before the first piece of `count` chunks.
fn count_prefix_len(count: usize) -> usize {
    if count < 10 {
        2
    } else {
        3
    }
}

/// Bytes the chunks take in a `Cookie` header (`NAME=V; NAME.1=V; ...`),
/// for pieces of the given lengths.
fn cookie_header_len(name: &str, pieces: &[usize]) -> usize {
    let count = pieces.len();
    let prefix = if count > 1 {
        count_prefix_len(count)
    } else {
        0
    };
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| chunk_name(name, i).len() + 1 + piece + if i > 0 { 2 } else { prefix })
        .sum()
}

/// The values of the chunks of `value` cut as `plan` says: `value` itself
/// for one chunk, else `COUNT.` and the first piece, then the others.
pub(crate) fn cut(value: &str, plan: &[usize]) -> Vec<String> {
    if plan.len() == 1 {
        return vec![value.to_owned()];
    }
    let mut at = 0;
    plan.iter()
        .enumerate()
        .map(|(i, &len)| {
            // A sealed value is ASCII: any byte offset is a char boundary.
            let piece = value.get(at..at + len).unwrap_or_default();
            at += len;
            if i == 0 {
                format!("{}.{piece}", plan.len())
            } else {
                piece.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
