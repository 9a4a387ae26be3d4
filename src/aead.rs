//! The two AEADs and the nonces they are used with: which algorithm a key
//! is used with, its backend (ring or RustCrypto), each thread's nonce
//! stream per key, the synthetic nonce, and the XChaCha20 subkeys a thread
//! keeps for opening. Nothing here knows the envelope's byte layout.

use core::cell::{Cell, RefCell};

use rand::{RngCore as _, SeedableRng as _, TryRngCore as _};
use thread_local::ThreadLocal;
use zeroize::Zeroize;

use crate::key::{Algorithm, Key};

mod backend;
#[cfg(feature = "ring")]
use backend::ring as imp;
#[cfg(not(feature = "ring"))]
use backend::rust_crypto as imp;
/// Length of the authentication tag of both algorithms.
pub(crate) use backend::TAG_LEN;

/// An AEAD failure: a message beyond the algorithm's length limit when
/// sealing, a forgery when opening. Carries nothing, on purpose.
pub(crate) use backend::Failed;

/// A key made ready for one algorithm (key schedule computed once), with
/// the key that derives its synthetic nonces and the nonce streams of the
/// threads that sealed under it.
pub(crate) struct Cipher {
    aead: Aead,
    nonce_key: NonceKey,
    streams: ThreadLocal<RefCell<Stream>>,
    subkeys: ThreadLocal<RefCell<Subkeys>>,
}

/// How many XChaCha20 subkeys each thread keeps for opening, per key.
const SUBKEYS: usize = 8;

/// The XChaCha20 subkeys of the nonce prefixes under which this thread
/// most recently opened values that authenticated (see
/// [`Cipher::decrypt`]). Values sealed by one stream share its prefix, so a
/// server whose cookies come from a few dozen streams (its own threads, its
/// fleet's) rarely derives a subkey. The least recently used entry makes
/// room for a new prefix.
struct Subkeys {
    /// Allocated once at its full size: a reallocation would leave copies
    /// of subkeys behind, unwiped.
    entries: Vec<Kept>,
    /// Counts lookups, to tell which entry was used least recently.
    clock: u64,
}

struct Kept {
    prefix: [u8; backend::PREFIX_LEN],
    aead: imp::Subkeyed,
    used: u64,
}

impl Default for Subkeys {
    fn default() -> Self {
        Subkeys {
            entries: Vec::with_capacity(SUBKEYS),
            clock: 0,
        }
    }
}

impl Subkeys {
    fn find(&mut self, prefix: &[u8; backend::PREFIX_LEN]) -> Option<&imp::Subkeyed> {
        self.clock += 1;
        let clock = self.clock;
        let kept = self.entries.iter_mut().find(|k| k.prefix == *prefix)?;
        kept.used = clock;
        Some(&kept.aead)
    }

    fn insert(&mut self, prefix: [u8; backend::PREFIX_LEN], aead: imp::Subkeyed) {
        let kept = Kept {
            prefix,
            aead,
            used: self.clock,
        };
        if self.entries.len() < SUBKEYS {
            self.entries.push(kept);
        } else if let Some(oldest) = self.entries.iter_mut().min_by_key(|k| k.used) {
            *oldest = kept;
        }
    }
}

/// One thread's nonces under one key (see [`NonceSource::PerThread`]).
///
/// * XChaCha20-Poly1305: a random 16-byte prefix drawn from the operating
///   system, then a 64-bit counter: `prefix || u64le(n)`. The subkey
///   HChaCha20 makes of the prefix is computed once, not per seal.
/// * AES-256-GCM: 12 random bytes per seal from rand's `StdRng` (ChaCha12
///   in rand 0.9) seeded from the operating system (a counter under a short
///   random prefix would collide between threads far sooner than random
///   nonces).
///
/// A stream is drawn again whenever the process has forked since it was
/// drawn, before its next nonce: the child of a `fork` holds a copy of
/// its parent's stream, and must not continue it.
struct Stream {
    /// Tells a forked child from the process that drew the stream.
    fork: forkguard::Guard,
    nonces: StreamNonces,
}

// One per thread and key, never moved once made: the sizes of the variants
// do not matter, and a box would add a load per seal.
#[allow(clippy::large_enum_variant)]
enum StreamNonces {
    XChaCha {
        prefix: [u8; backend::PREFIX_LEN],
        next: u64,
        aead: imp::Subkeyed,
    },
    Aes(rand::rngs::StdRng),
}

enum Aead {
    XChaCha(imp::XChaCha),
    Aes(Box<imp::Aes>),
}

/// The BLAKE3 key that turns a message into its nonce, derived from the
/// secret key (BLAKE3's key derivation mode with a context string of its
/// own, so it is independent of the AEAD key). Zeroized on drop.
struct NonceKey([u8; 32]);

impl Drop for NonceKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The context string of the nonce key's derivation. Changing it changes
/// no value on the wire (openers never derive nonces), only which nonces a
/// sealer picks.
const NONCE_KEY_CONTEXT: &str = "sealed-session 2026-11-27 synthetic nonce key v1";

/// Why a seal from a thread's nonce stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamFailed {
    /// A new stream was due and the operating system gave no randomness
    /// (or the fork handler could not be registered).
    Rng,
    /// The AEAD refused: a message beyond its length limit, which no
    /// capped seal reaches.
    Aead,
    /// The thread is tearing down its thread-local storage and cannot
    /// reach a stream (see [`thread_slots_usable`]); nothing was written.
    Unreachable,
}

/// How a seal picks its nonce.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NonceSource<'a> {
    /// A fresh seal from the calling thread's nonce stream (the default):
    /// no hash of the message, no per-message subkey.
    PerThread,
    /// A fresh seal: fresh random bytes enter the nonce's hash with the
    /// whole message.
    Fresh,
    /// A re-seal: the nonce is a function of the whole message alone, so
    /// re-sealing the same value twice gives the same output and spends no
    /// new nonce.
    Deterministic,
    /// Known-answer tests only: exactly these bytes.
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(&'a [u8]),
}

impl NonceSource<'_> {
    /// Writes the nonce's seed: fresh random bytes, zeros, or the fixed
    /// nonce itself. [`StreamFailed::Rng`] if fresh bytes are due and the
    /// operating system gives none.
    pub(crate) fn seed(self, seed: &mut [u8]) -> Result<(), StreamFailed> {
        match self {
            NonceSource::Fresh => fresh_bytes(seed)?,
            NonceSource::Deterministic => seed.fill(0),
            // The encryption writes a stream's nonce over this area.
            NonceSource::PerThread => {}
            NonceSource::Fixed(fixed) => seed.copy_from_slice(fixed),
        }
        Ok(())
    }
}

/// Fresh random bytes for a synthetic nonce's seed: from a generator of
/// the calling thread seeded by the operating system, or straight from the
/// operating system where that generator is gone (a seal from a
/// thread-local's destructor; rand's own thread generator panics there).
/// A generator a `fork` duplicated is harmless here: the seed is hashed
/// with the whole message.
fn fresh_bytes(out: &mut [u8]) -> Result<(), StreamFailed> {
    std::thread_local! {
        static GENERATOR: RefCell<Option<rand::rngs::StdRng>> = const { RefCell::new(None) };
    }
    let from_thread = GENERATOR.try_with(|cell| {
        let mut generator = cell.try_borrow_mut().ok()?;
        if generator.is_none() {
            *generator = Some(rand::rngs::StdRng::try_from_os_rng().ok()?);
        }
        generator.as_mut().map(|g| g.fill_bytes(out))
    });
    match from_thread {
        Ok(Some(())) => Ok(()),
        _ => rand::rngs::OsRng
            .try_fill_bytes(out)
            .map_err(|_| StreamFailed::Rng),
    }
}

/// Has an entry for the `thread_local` id of every thread in which
/// [`ENTERED`] is set (entries outlive their threads: an id taken over by
/// a new thread comes with one).
static PROBE: ThreadLocal<()> = ThreadLocal::new();

std::thread_local! {
    /// Whether this thread has held a `thread_local` id with an entry in
    /// [`PROBE`]: a value with no destructor, so it can be read to the
    /// thread's very end.
    static ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// Notes that this thread holds a `thread_local` id (it just reached one of
/// its slots): from then on [`thread_slots_usable`] knows when it gives
/// the id back. One load of a thread-local after the first time. A thread
/// can hold an id without ever having called [`thread_slots_usable`]:
/// one taken over from an exited thread whose slots were already filled.
fn note_thread_slots() {
    ENTERED.with(|entered| {
        if !entered.get() {
            PROBE.get_or(|| ());
            entered.set(true);
        }
    });
}

/// Whether this thread's slots in a `ThreadLocal` can still be reached:
/// false once the thread is tearing down its thread-local storage and
/// `thread_local` has released its id (reaching for a slot then panics,
/// and a panic in a thread-local's destructor aborts the process). A seal
/// or an open from a thread-local's destructor then does without them.
/// Called only where a thread has no slot yet: a thread's first seal under
/// a key, its first XChaCha20 open under a key, and every one of them
/// during teardown.
pub(crate) fn thread_slots_usable() -> bool {
    if PROBE.get().is_some() {
        // The thread holds its id.
        note_thread_slots();
        return true;
    }
    if ENTERED.with(Cell::get) {
        // It held one and gave it back: the thread is ending.
        return false;
    }
    // It never held one while we looked. Taking one panics only if this
    // is teardown and another crate's `thread_local` use released the id
    // already; with unwinding on, that panic is caught here (and reported
    // by the panic hook) and the thread does without its slots. The id
    // taken then is never released, so it stays this thread's alone.
    let took = std::panic::catch_unwind(|| PROBE.get_or(|| ()).to_owned()).is_ok();
    if took {
        ENTERED.with(|entered| entered.set(true));
    }
    took
}

impl Cipher {
    pub(crate) fn new(algorithm: Algorithm, key: &Key) -> Self {
        let bytes = key.bytes();
        let aead = match algorithm {
            Algorithm::XChaCha20Poly1305 => Aead::XChaCha(imp::XChaCha::new(bytes)),
            Algorithm::Aes256Gcm => Aead::Aes(Box::new(imp::Aes::new(bytes))),
        };
        Cipher {
            aead,
            nonce_key: NonceKey(blake3::derive_key(NONCE_KEY_CONTEXT, bytes)),
            streams: ThreadLocal::new(),
            subkeys: ThreadLocal::new(),
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self.aead {
            Aead::XChaCha(_) => Algorithm::XChaCha20Poly1305,
            Aead::Aes(_) => Algorithm::Aes256Gcm,
        }
    }

    /// The synthetic nonce of a message, from the bytes laid out as
    /// `seed || plaintext || aad || u64le(len(aad))` (the layout [`seal`]
    /// builds in place): `BLAKE3-keyed(nonce_key, those bytes)`, truncated
    /// to the nonce's length. `seed` is as long as the nonce: fresh random
    /// bytes for a fresh seal, zeros for a re-seal. The length suffix makes
    /// the layout unambiguous, whatever the name and purpose.
    ///
    /// Two seals under one key share a nonce only if their seeds *and*
    /// their whole messages are equal, and then they produce the same
    /// ciphertext, which reveals nothing new (or by a collision of the
    /// truncated hash, which for distinct inputs is the birthday bound of
    /// random nonces of that length). A generator state duplicated
    /// by `fork` (or a cloned virtual machine) therefore never reuses a
    /// nonce for two different messages, and re-sealing the same value
    /// again spends no new nonce.
    ///
    /// [`seal`]: crate::envelope::seal
    pub(crate) fn synthetic_nonce(&self, laid_out: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.nonce_key.0, laid_out)
    }

    /// Encrypts `buf` in place under `nonce` and `aad`; returns the tag.
    /// Fails only for messages beyond the algorithms' length limits, which
    /// no capped seal reaches, or a nonce of the wrong length.
    pub(crate) fn encrypt(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Failed> {
        let mut tag = [0u8; TAG_LEN];
        match &self.aead {
            Aead::XChaCha(c) => c.seal(nonce.try_into().map_err(|_| Failed)?, aad, buf, &mut tag),
            Aead::Aes(c) => c.seal(nonce.try_into().map_err(|_| Failed)?, aad, buf, &mut tag),
        }?;
        Ok(tag)
    }

    /// Encrypts `buf` in place under `aad` and the next nonce of this
    /// thread's stream, which it writes to `nonce`; writes the tag to `tag`.
    /// [`StreamFailed::Rng`] if a new stream is due (the thread's first
    /// seal under this key, a fork, the counter's end) and the operating
    /// system gives no randomness: then nothing is sealed, and the next
    /// seal tries again (a forked child never falls back on its parent's
    /// stream). [`StreamFailed::Unreachable`] if the thread is tearing down
    /// its thread-local storage: nothing is written, and the caller seals
    /// another way.
    pub(crate) fn encrypt_per_thread(
        &self,
        nonce: &mut [u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8; TAG_LEN],
    ) -> Result<(), StreamFailed> {
        let cell = match self.streams.get() {
            Some(cell) => {
                note_thread_slots();
                cell
            }
            None if thread_slots_usable() => {
                self.streams.get_or_try(|| self.draw().map(RefCell::new))?
            }
            None => return Err(StreamFailed::Unreachable),
        };
        // Only this thread borrows its stream, and nothing it calls seals.
        let mut stream = cell.try_borrow_mut().map_err(|_| StreamFailed::Aead)?;
        let exhausted = matches!(stream.nonces, StreamNonces::XChaCha { next: u64::MAX, .. });
        // A copy of the guard is asked: the fork it reports is forgotten
        // only when a new stream replaces the old one, so a draw that fails
        // in a child fails every seal until one succeeds.
        if stream.fork.clone().detected_fork() || exhausted {
            *stream = self.draw()?;
        }
        match &mut stream.nonces {
            StreamNonces::XChaCha { prefix, next, aead } => {
                let nonce: &mut [u8; backend::XCHACHA_NONCE_LEN] =
                    nonce.try_into().map_err(|_| StreamFailed::Aead)?;
                let tail = next.to_le_bytes();
                *next += 1;
                nonce[..backend::PREFIX_LEN].copy_from_slice(prefix);
                nonce[backend::PREFIX_LEN..].copy_from_slice(&tail);
                aead.seal(&tail, aad, buf, tag)
            }
            StreamNonces::Aes(rng) => {
                let nonce: &mut [u8; backend::AES_NONCE_LEN] =
                    nonce.try_into().map_err(|_| StreamFailed::Aead)?;
                // Two words rather than `fill_bytes`, whose byte-slice
                // path costs four times as many instructions for 12 bytes.
                let (head, tail) = nonce.split_at_mut(8);
                head.copy_from_slice(&rng.next_u64().to_le_bytes());
                tail.copy_from_slice(&rng.next_u32().to_le_bytes());
                let Aead::Aes(c) = &self.aead else {
                    return Err(StreamFailed::Aead);
                };
                c.seal(nonce, aad, buf, tag)
            }
        }
        .map_err(|_| StreamFailed::Aead)
    }

    /// A new nonce stream for the calling thread, from the operating
    /// system's generator (never from a generator a `fork` may have
    /// duplicated).
    fn draw(&self) -> Result<Stream, StreamFailed> {
        let fork = forkguard::Guard::try_new().map_err(|_| StreamFailed::Rng)?;
        let nonces = match &self.aead {
            Aead::XChaCha(c) => {
                let mut prefix = [0u8; backend::PREFIX_LEN];
                rand::rngs::OsRng
                    .try_fill_bytes(&mut prefix)
                    .map_err(|_| StreamFailed::Rng)?;
                StreamNonces::XChaCha {
                    aead: c.subkeyed(&prefix),
                    prefix,
                    next: 0,
                }
            }
            Aead::Aes(_) => StreamNonces::Aes(
                rand::rngs::StdRng::try_from_os_rng().map_err(|_| StreamFailed::Rng)?,
            ),
        };
        Ok(Stream { fork, nonces })
    }

    /// Checks `tag` and decrypts `buf` in place; fails for anything
    /// inauthentic. An XChaCha20 subkey is looked up among the
    /// [`SUBKEYS`] prefixes the thread most recently opened authentic
    /// values under, and derived (HChaCha20) otherwise.
    pub(crate) fn decrypt(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), Failed> {
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Failed)?;
        match &self.aead {
            Aead::XChaCha(c) => {
                let nonce = nonce.try_into().map_err(|_| Failed)?;
                let (prefix, tail) = backend::split_nonce(nonce);
                let cell = match self.subkeys.get() {
                    Some(cell) => {
                        note_thread_slots();
                        cell
                    }
                    None if thread_slots_usable() => self.subkeys.get_or(RefCell::default),
                    // The thread is ending: no subkey is kept.
                    None => return c.open(nonce, aad, buf, tag),
                };
                // Only this thread borrows its subkeys, and nothing it calls
                // opens: the fallback is for form's sake.
                let Ok(mut subkeys) = cell.try_borrow_mut() else {
                    return c.open(nonce, aad, buf, tag);
                };
                if let Some(aead) = subkeys.find(prefix) {
                    return aead.open(tail, aad, buf, tag);
                }
                let aead = c.subkeyed(prefix);
                aead.open(tail, aad, buf, tag)?;
                // Only values that authenticate enter: forged prefixes cannot
                // push out the ones in use.
                subkeys.insert(*prefix, aead);
                Ok(())
            }
            Aead::Aes(c) => c.open(nonce.try_into().map_err(|_| Failed)?, aad, buf, tag),
        }
    }
}

#[cfg(test)]
mod tests;
