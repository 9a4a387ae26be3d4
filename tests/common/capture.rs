//! The library's `tracing` events in this test binary, from every thread
//! (an actix test server runs on a thread of its own, so a thread-local
//! subscriber would miss its events): one process-wide subscriber,
//! installed once, that keeps each event of the `sealed_session` crate
//! (not the frameworks' own) as a `LEVEL field=value ...` line. Tests running
//! in parallel share it, so a test picks out its own events by something
//! only it uses, such as its cookie name ([`lines_with`]), or, where its
//! events carry nothing of the kind, takes its turn ([`alone`]) and reads
//! the events of its turn.

use core::fmt;
use std::sync::{Mutex, Once, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("sealed_session")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        struct Fields<'a>(&'a mut String);
        impl Visit for Fields<'_> {
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                self.0.push_str(&format!(" {}={:?}", field.name(), value));
            }
        }
        let mut line = event.metadata().level().to_string();
        event.record(&mut Fields(&mut line));
        LINES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Installs the subscriber for the whole process (once; later calls do
/// nothing).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::subscriber::set_global_default(Capture)
            .expect("no other global subscriber in this test binary");
    });
}

/// The events so far, as lines, that contain `needle`.
pub(crate) fn lines_with(needle: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|line| line.contains(needle))
        .cloned()
        .collect()
}

/// A stretch of the log that belongs to one check alone: the checks of a
/// binary that read their events this way (because the events carry
/// nothing that only they use, such as a cookie name) take turns, so every
/// event in [`Alone::lines`] comes from the holder's own requests. Checks
/// that do not take a turn must not run in the same binary.
pub(crate) struct Alone {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    from: usize,
}

/// Waits for this check's turn (installing the subscriber first).
pub(crate) async fn alone() -> Alone {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    install();
    let turn = TURN.lock().await;
    let from = LINES.lock().unwrap_or_else(PoisonError::into_inner).len();
    Alone { _turn: turn, from }
}

impl Alone {
    /// The events since the turn began.
    pub(crate) fn lines(&self) -> Vec<String> {
        LINES.lock().unwrap_or_else(PoisonError::into_inner)[self.from..].to_vec()
    }
}
