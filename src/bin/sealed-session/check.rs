//! `check`: the risks of a planned change from one keyring to the next.
//!
//! The keyrings alone do not say when a key last sealed, so every finding
//! about time is reasoned from the sealing rule (the highest id whose
//! activation has passed) over the period that matters, and the output
//! says which period that is.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::{Algorithm, KeyId, KeyInfo, Keyring, DEFAULT_LEEWAY, DEFAULT_TTL};

use crate::args::{self, Arg, Args};
use crate::keys::KeysFrom;
use crate::{text, Fail, Report};

/// The default propagation window: how long a deploy takes to reach every
/// replica.
const DEFAULT_WINDOW: Duration = Duration::from_secs(10 * 60);

/// A planned change and what is assumed about it.
struct Plan {
    old: Keyring,
    /// `None` for a keyring with no key.
    new: Option<Keyring>,
    now: SystemTime,
    window: Duration,
    ttl: Duration,
    leeway: Duration,
}

pub(crate) fn run(mut args: Args) -> Result<Report, Fail> {
    let mut old = None;
    let mut new = None;
    let mut files = Vec::new();
    let mut window = DEFAULT_WINDOW;
    let mut ttl = DEFAULT_TTL;
    let mut leeway = DEFAULT_LEEWAY;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Positional(path) if files.len() < 2 => files.push(path.to_string()),
            Arg::Flag(flag) if flag == "--old-keys" => {
                old = Some(KeysFrom::Spec(args.value(&flag)?))
            }
            Arg::Flag(flag) if flag == "--new-keys" => {
                new = Some(KeysFrom::Spec(args.value(&flag)?))
            }
            Arg::Flag(flag) if flag == "--window" => window = duration(&flag, &args.value(&flag)?)?,
            Arg::Flag(flag) if flag == "--ttl" => ttl = duration(&flag, &args.value(&flag)?)?,
            Arg::Flag(flag) if flag == "--leeway" => {
                leeway = duration(&flag, &args.value(&flag)?)?;
            }
            Arg::Flag(flag) if crate::is_help(&flag) => return Ok(crate::usage()),
            arg => return Err(args::unexpected("check", &arg)),
        }
    }
    let mut files = files.into_iter().map(KeysFrom::File);
    let (Some(old), Some(new)) = (old.or_else(|| files.next()), new.or_else(|| files.next()))
    else {
        return Err(Fail::Usage(
            "check: give the OLD and the NEW keyring (two files, or --old-keys SPEC --new-keys SPEC)"
                .into(),
        ));
    };
    if files.next().is_some() {
        return Err(Fail::Usage("check: too many arguments".into()));
    }
    if old.is_stdin() && new.is_stdin() {
        return Err(Fail::Usage(
            "check: standard input cannot hold both keyrings".into(),
        ));
    }
    let plan = Plan {
        old: old.load()?,
        new: new.load_maybe_empty()?,
        now: SystemTime::now(),
        window,
        ttl: ttl.min(sealed_session::MAX_TTL),
        leeway,
    };
    let mut report = Report::new();
    report.line(describe("old", &old, Some(&plan.old), plan.now));
    report.line(describe("new", &new, plan.new.as_ref(), plan.now));
    report.line(format!(
        "assuming: ttl {}, leeway {}, propagation window {}, now {}",
        text::duration(plan.ttl),
        text::duration(plan.leeway),
        text::duration(plan.window),
        text::time(plan.now)
    ));
    let mut findings = Findings::default();
    plan.changes(&mut findings);
    plan.removed_keys(&mut findings);
    plan.new_keys(&mut findings);
    plan.reused_ids(&mut findings);
    plan.nonce_sizes(&mut findings);
    plan.can_seal(&mut findings);
    plan.cutoff_in_future(&mut findings);
    let warnings = findings.warnings;
    for line in findings.lines {
        report.line(line);
    }
    report.line(match warnings {
        0 => "result: no warnings".to_owned(),
        1 => "result: 1 warning".to_owned(),
        n => format!("result: {n} warnings"),
    });
    report.status = u8::from(warnings > 0);
    Ok(report)
}

fn duration(flag: &str, value: &str) -> Result<Duration, Fail> {
    text::duration_arg("check", flag, value)
}

/// The `old:` or `new:` line.
fn describe(which: &str, from: &KeysFrom, keyring: Option<&Keyring>, now: SystemTime) -> String {
    let Some(keyring) = keyring else {
        return format!("{which}: {}, no keys", from.describe());
    };
    let sealing = keyring
        .sealing_key_id(now)
        .map_or_else(|_| "none".to_owned(), |id| id.to_string());
    let keys = match keyring.len() {
        1 => "1 key".to_owned(),
        n => format!("{n} keys"),
    };
    format!(
        "{which}: {}, fingerprint {}, {keys}, sealing key now: {sealing}",
        from.describe(),
        keyring.fingerprint(),
    )
}

/// What the check found, in order.
#[derive(Default)]
struct Findings {
    lines: Vec<String>,
    warnings: usize,
}

impl Findings {
    fn warn(&mut self, kind: &str, text: String) {
        self.warnings += 1;
        self.lines.push(format!("warning[{kind}]: {text}"));
    }

    fn note(&mut self, kind: &str, text: String) {
        self.lines.push(format!("note[{kind}]: {text}"));
    }

    fn change(&mut self, text: String) {
        self.lines.push(format!("change: {text}"));
    }
}

/// One stretch of time during which one key seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    id: KeyId,
    start: SystemTime,
    end: SystemTime,
}

/// Which key of `keyring` seals when, from `from` to `to`: the sealing key
/// can change only at an activation time.
fn seal_spans(keyring: &Keyring, from: SystemTime, to: SystemTime) -> Vec<Span> {
    let mut edges: Vec<SystemTime> = keyring
        .keys()
        .filter_map(|k| k.activation)
        .filter(|&at| at > from && at < to)
        .collect();
    edges.push(from);
    edges.sort();
    edges.dedup();
    let mut spans: Vec<Span> = Vec::new();
    for (i, &start) in edges.iter().enumerate() {
        let end = edges.get(i + 1).copied().unwrap_or(to);
        let Ok(id) = keyring.sealing_key_id(start) else {
            continue;
        };
        match spans.last_mut() {
            Some(last) if last.id == id && last.end == start => last.end = end,
            _ => spans.push(Span { id, start, end }),
        }
    }
    spans
}

fn info(keyring: &Keyring, id: KeyId) -> Option<KeyInfo> {
    keyring.keys().find(|k| k.id == id)
}

fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

fn earlier(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_sub(d).unwrap_or(UNIX_EPOCH).max(UNIX_EPOCH)
}

/// `now` or the time.
fn when(t: SystemTime, now: SystemTime) -> String {
    if t <= now {
        "now".into()
    } else {
        text::time(t)
    }
}

impl Plan {
    fn new_keys_iter(&self) -> impl Iterator<Item = KeyInfo> + '_ {
        self.new.iter().flat_map(Keyring::keys)
    }

    /// One `change:` line per difference.
    fn changes(&self, findings: &mut Findings) {
        for key in self.new_keys_iter() {
            match info(&self.old, key.id) {
                None => findings.change(format!(
                    "key {} added ({}, {})",
                    key.id,
                    key.algorithm,
                    crate::fingerprint::activation(&key, self.now)
                )),
                Some(old) if old.activation != key.activation => findings.change(format!(
                    "key {} activation changed ({} -> {})",
                    key.id,
                    crate::fingerprint::activation(&old, self.now),
                    crate::fingerprint::activation(&key, self.now)
                )),
                Some(_) => {}
            }
        }
        for key in self.old.keys() {
            if self.new_info(key.id).is_none() {
                findings.change(format!("key {} removed", key.id));
            }
        }
        let old_cut = self.old.revoked_before();
        let new_cut = self.new.as_ref().and_then(Keyring::revoked_before);
        if old_cut != new_cut {
            let show = |cut: Option<SystemTime>| cut.map_or_else(|| "none".into(), text::time);
            findings.change(format!(
                "revoke-before {} -> {}",
                show(old_cut),
                show(new_cut)
            ));
            if let Some(cut) = new_cut.filter(|&cut| old_cut.is_none_or(|old| cut > old)) {
                findings.note(
                    "revoke-before",
                    format!(
                        "NEW refuses every value issued before {}: those users start new sessions",
                        text::time(cut)
                    ),
                );
            }
            // A cutoff removed or moved back brings back what it refused,
            // until the values it refused have expired anyway; one too far
            // ahead was never in force (servers refused OLD), and a NEW
            // with no key is a finding of its own.
            let lowered = old_cut.filter(|&old| {
                new_cut.is_none_or(|cut| cut < old)
                    && self.new.is_some()
                    && !crate::keys::cutoff_ahead(&self.old, self.now)
            });
            if let Some(old) = lowered {
                let harmless_from = later(old, self.ttl + self.leeway);
                if self.now < harmless_from {
                    let new_refuses = new_cut.map_or_else(
                        || "NEW none of them".to_owned(),
                        |cut| format!("NEW only those before {}", text::time(cut)),
                    );
                    findings.warn(
                        "cutoff-lowered",
                        format!(
                            "OLD refuses every value issued before {}, {new_refuses}: those \
                             still unexpired open again (revoked sessions come back); keep \
                             OLD's cutoff until {} (its time plus the TTL and the leeway)",
                            text::time(old),
                            text::time(harmless_from)
                        ),
                    );
                }
            }
        }
    }

    fn new_info(&self, id: KeyId) -> Option<KeyInfo> {
        self.new.as_ref().and_then(|new| info(new, id))
    }

    /// A removed key that may still have unexpired values.
    fn removed_keys(&self, findings: &mut Findings) {
        let from = earlier(self.now, self.ttl + self.leeway);
        let to = later(self.now, self.window.saturating_add(self.leeway));
        let spans = seal_spans(&self.old, from, to);
        for key in self.old.keys() {
            if self.new_info(key.id).is_some() {
                continue;
            }
            let mine: Vec<&Span> = spans.iter().filter(|s| s.id == key.id).collect();
            if let (Some(first), Some(last)) = (mine.first(), mine.last()) {
                let until = later(last.end, self.ttl + self.leeway);
                findings.warn(
                    "removed-key-in-use",
                    format!(
                        "key {} is removed, but under OLD it is the sealing key between {} and {} \
                         (the period from ttl + leeway ago until the change has reached every \
                         replica, now + window + leeway), so values it sealed may still be \
                         unexpired and their sessions end when it goes; keep it until {} \
                         (its last possible seal + ttl + leeway)",
                        key.id,
                        text::time(first.start.max(from)),
                        text::time(last.end),
                        text::time(until)
                    ),
                );
                continue;
            }
            findings.note("removed-key", self.why_removal_is_safe(&key, from, to));
        }
    }

    /// The reasoning for a removed key that does not seal under OLD in the
    /// period that matters.
    fn why_removal_is_safe(&self, key: &KeyInfo, from: SystemTime, to: SystemTime) -> String {
        if key.activation.is_some_and(|at| at >= to) {
            return format!(
                "key {} is removed before its activation: it never sealed under OLD",
                key.id
            );
        }
        let above = self
            .old
            .sealing_key_id(from)
            .ok()
            .and_then(|id| info(&self.old, id));
        match above {
            Some(above) if above.id > key.id => match above.activation {
                Some(at) => format!(
                    "key {} is removed; under OLD key {} has sealed instead since {}, more than \
                     ttl + leeway ago, so no value of key {} is still valid unless a server \
                     sealed with it after that",
                    key.id,
                    above.id,
                    text::time(at),
                    key.id
                ),
                None => format!(
                    "key {} is removed; under OLD key {} seals instead and has no activation \
                     time, so the keyrings cannot say when key {} last sealed: its values have \
                     expired only if key {} has sealed on every server for more than ttl + \
                     leeway (KeyStats::last_sealed_at of key {} on the servers tells)",
                    key.id, above.id, key.id, above.id, key.id
                ),
            },
            _ => format!(
                "key {} is removed; under OLD it does not seal between {} and {}",
                key.id,
                text::time(from),
                text::time(to)
            ),
        }
    }

    /// A new key that seals before the change has reached every replica.
    fn new_keys(&self, findings: &mut Findings) {
        let Some(new) = &self.new else {
            return;
        };
        let ready = later(self.now, self.window);
        let spans = seal_spans(new, self.now, ready);
        for key in new.keys() {
            if info(&self.old, key.id).is_some() {
                continue;
            }
            let Some(span) = spans.iter().find(|s| s.id == key.id) else {
                continue;
            };
            let from = match key.activation {
                None => "at once (it has no activation time)".to_owned(),
                Some(at) if at <= self.now => {
                    format!("at once (its activation {} has passed)", text::time(at))
                }
                Some(_) => format!("from {}", text::time(span.start)),
            };
            findings.warn(
                "activation-too-soon",
                format!(
                    "key {} is new and seals {from}, before the propagation window ({}) is over: \
                     a replica that does not have key {} yet cannot open what it seals, so those \
                     users lose their session there; give it an activation time of {} or later",
                    key.id,
                    text::duration(self.window),
                    key.id,
                    text::time(ready)
                ),
            );
        }
    }

    /// An id that holds another key in NEW.
    fn reused_ids(&self, findings: &mut Findings) {
        for old in self.old.keys() {
            let Some(new) = self.new_info(old.id) else {
                continue;
            };
            let mut what = Vec::new();
            if new.check != old.check {
                what.push("another secret".to_owned());
            }
            if new.algorithm != old.algorithm {
                what.push(format!("algorithm {} -> {}", old.algorithm, new.algorithm));
            }
            if what.is_empty() {
                continue;
            }
            findings.warn(
                "id-reused",
                format!(
                    "key {} holds other key material in NEW ({}): values sealed by OLD's key {} \
                     fail authentication under NEW, and while both are deployed each replica \
                     refuses the other's; give the new key a new, higher id",
                    old.id,
                    what.join(", "),
                    old.id
                ),
            );
        }
    }

    /// A sealing key that moves to AES-256-GCM's 96-bit nonces.
    fn nonce_sizes(&self, findings: &mut Findings) {
        let Some(new) = &self.new else {
            return;
        };
        // The sealing keys from now on: OLD's now, then NEW's at every
        // activation to come.
        let last = new
            .keys()
            .filter_map(|k| k.activation)
            .max()
            .unwrap_or(self.now)
            .max(self.now);
        let mut sequence: Vec<(KeyId, Algorithm, SystemTime)> = Vec::new();
        if let Ok(id) = self.old.sealing_key_id(self.now) {
            if let Some(algorithm) = self.old.algorithm(id) {
                sequence.push((id, algorithm, self.now));
            }
        }
        for span in seal_spans(new, self.now, later(last, Duration::from_secs(1))) {
            if let Some(algorithm) = new.algorithm(span.id) {
                sequence.push((span.id, algorithm, span.start));
            }
        }
        for pair in sequence.windows(2) {
            let ((before, before_alg, _), (after, after_alg, at)) = (pair[0], pair[1]);
            if before_alg == Algorithm::XChaCha20Poly1305 && after_alg == Algorithm::Aes256Gcm {
                findings.warn(
                    "smaller-nonce",
                    format!(
                        "sealing moves from key {before} ({before_alg}, {}-byte nonces) to key \
                         {after} ({after_alg}, {}-byte random nonces) {}: an AES-256-GCM key may \
                         seal at most 2^32 values, counted over every server, before a repeated \
                         nonce becomes likely enough to matter (SECURITY.md, \"Algorithms and the \
                         AES-256-GCM budget\"); count its seals (Keyring::stats) and rotate it in \
                         time, or keep {before_alg}",
                        before_alg.nonce_len(),
                        after_alg.nonce_len(),
                        match when(at, self.now).as_str() {
                            "now" => "now".to_owned(),
                            t => format!("at {t}"),
                        }
                    ),
                );
            }
        }
    }

    /// A NEW keyring whose `revoke-before` cutoff is more than a minute
    /// ahead (usually a local time written with a `Z`): servers refuse it.
    fn cutoff_in_future(&self, findings: &mut Findings) {
        let Some(new) = &self.new else {
            return;
        };
        let Some(at) = new
            .revoked_before()
            .filter(|_| crate::keys::cutoff_ahead(new, self.now))
        else {
            return;
        };
        findings.warn(
            "cutoff-in-future",
            format!(
                "NEW's revoke-before ({}) is more than a minute ahead: it would refuse every new \
                 session until then, so a server refuses to start with it, and a live keyring \
                 refuses it and keeps the one in force until then (revoke-before is usually \
                 now, in UTC)",
                text::time(at)
            ),
        );
    }

    /// A NEW keyring that cannot seal.
    fn can_seal(&self, findings: &mut Findings) {
        let Some(new) = &self.new else {
            findings.warn(
                "cannot-seal",
                "NEW holds no key: nothing could seal or open, and servers refuse it (a live \
                 keyring keeps the one in force)"
                    .into(),
            );
            return;
        };
        if new.sealing_key_id(self.now).is_ok() {
            return;
        }
        let first = new.keys().filter_map(|k| k.activation).min();
        findings.warn(
            "cannot-seal",
            format!(
                "no key of NEW is active now (the first activates at {}): a server refuses to \
                 start with it, and a live keyring refuses it and keeps the one in force, until \
                 then",
                first.map_or_else(|| "never".into(), text::time)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
    const K2: &str = "Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn spans_follow_the_sealing_rule_across_activations() {
        let spec = format!("1:xchacha20poly1305:{K1} 2:xchacha20poly1305:{K2}@1000");
        let keyring = Keyring::parse_planned(&spec).expect("parses");
        assert_eq!(
            seal_spans(&keyring, at(500), at(2000)),
            [
                Span {
                    id: KeyId(1),
                    start: at(500),
                    end: at(1000)
                },
                Span {
                    id: KeyId(2),
                    start: at(1000),
                    end: at(2000)
                },
            ]
        );
        assert_eq!(
            seal_spans(&keyring, at(1500), at(2000)),
            [Span {
                id: KeyId(2),
                start: at(1500),
                end: at(2000)
            }]
        );
        // Before any key is active, nothing seals.
        let later = format!("2:xchacha20poly1305:{K2}@1000");
        let keyring = Keyring::parse_planned(&later).expect("parses");
        assert_eq!(
            seal_spans(&keyring, at(0), at(2000)),
            [Span {
                id: KeyId(2),
                start: at(1000),
                end: at(2000)
            }]
        );
    }
}
