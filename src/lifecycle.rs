//! A pool's lifecycle: which state it is in, and the one decision every
//! submit path asks before it queues anything, "may this thread add work to
//! this pool now?".
//!
//! States, in the order a pool goes through them (never backwards):
//!
//! | state | outside threads | the pool's own workers |
//! |---|---|---|
//! | `Open` | admitted | admitted |
//! | `Draining` | `Shutdown` | admitted for work queued now (it is part of what drains), `Shutdown` for work held until later |
//! | `Cancelling` | `Shutdown` | `Shutdown` |
//! | `Joined` | `Shutdown` | (none left) |
//!
//! and, across all of them, *forked*: a pool created in an earlier fork
//! generation has no threads in this process and answers `Forked`.
//!
//! *Paused* is a flag beside `Open` (`pause`, `resume`; `control.rs`):
//! admission is unchanged (submits are accepted, within `max_queued`), but
//! workers take no queued job. Only an open pool pauses; closing clears the
//! flag, so a drain runs what is queued and a cancel shutdown's workers
//! cancel it, and no closed pool stays paused.
//!
//! An admitted outside submitter stays counted in flight (`Admission`,
//! below) until its jobs are queued: shutdown closes the gate and waits for
//! those in flight, and draining workers do not exit while any is, so
//! whatever an admitted submitter queues, even a serial queue's drain job
//! queued after the item it carries, is seen by the drain.
//!
//! Adding a state (a paused pool, say) is an edit here: a variant of
//! `State`, its row in `admit`, and the C layer's translation of any new
//! `SubmitError`.

use crate::fork;
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, CachePadded, Ordering};

/// Why a submission was refused. Ownership of the job goes back to the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SubmitError {
    /// The pool is shut down (or shutting down).
    Shutdown,
    /// The pool's bound on queued tasks is reached.
    Full,
    /// The pool was created before a fork(): its threads do not exist here.
    Forked,
}

/// Why a shutdown did not complete.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShutdownError {
    /// Called from one of the pool's own workers (or its thread-stop hook):
    /// the close has begun, but a worker cannot join itself. Call again from
    /// outside the pool.
    WouldDeadlock,
    /// The workers did not all finish before the deadline; they go on
    /// finishing, and a later call waits again.
    Timeout,
    /// The pool was created before a fork(): there is nothing to join here.
    Forked,
}

/// Why a resize was refused.
#[derive(Debug)]
pub enum ResizeError {
    /// Not in 1..=MAX_THREADS.
    InvalidSize,
    /// The pool is shut down (or shutting down).
    Shutdown,
    /// The pool was created before a fork().
    Forked,
    /// A thread could not be started; the pool keeps the threads it has.
    NoThreads(std::io::Error),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShutdownMode {
    /// Run everything already queued, refuse new work from outside.
    Drain,
    /// Queued tasks never run: their drop runs and their waiters see Shutdown.
    Cancel,
}

/// Where a pool is in its life (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u32)]
pub(crate) enum State {
    Open = 0,
    Draining = 1,
    Cancelling = 2,
    /// Shut down and every worker joined.
    Joined = 3,
}

/// When admitted work reaches the pool's queues.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Work {
    /// Queued now (a task, a serial queue's drain, a loop's halves).
    Now,
    /// Held outside the queues until later (a delayed task): a drain would
    /// cancel it, so it is refused once the pool closes, even from a worker.
    Later,
}

// The gate: bit 0 closed; bits 1..=20 submitters in flight; bits 21.. count
// every injected job (wrapping off the top). One RMW in and one out per
// outside submit, on a line only submitters write.
const GATE_CLOSED: u64 = 1;
const GATE_ENTER: u64 = 2;
const GATE_INFLIGHT: u64 = ((1 << 20) - 1) << 1;
const GATE_COUNT_SHIFT: u32 = 21;
/// The injected-job counter's mask (after the shift).
pub(crate) const COUNT_MASK: u64 = (1 << (64 - GATE_COUNT_SHIFT)) - 1;

pub(crate) struct Lifecycle {
    state: AtomicU32,
    /// Workers take no queued job while set (see the module docs).
    paused: AtomicBool,
    gate: CachePadded<AtomicU64>,
    fork_gen: u32,
}

/// An admitted submitter. From outside the pool it is counted in flight
/// until dropped; `injected` jobs are added to the gate's count then.
pub(crate) struct Ticket<'a> {
    gate: Option<&'a AtomicU64>,
    injected: u64,
}

impl Ticket<'_> {
    /// True for one of the pool's own workers (no gate held).
    pub(crate) fn is_local(&self) -> bool {
        self.gate.is_none()
    }

    /// One more job went into the shared queue under this ticket.
    pub(crate) fn injected(&mut self) {
        self.injected += 1;
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.gate {
            // Leave the in-flight count and add the injected jobs, in one RMW.
            g.fetch_add((self.injected << GATE_COUNT_SHIFT).wrapping_sub(GATE_ENTER), Ordering::Release);
        }
    }
}

impl Lifecycle {
    pub(crate) fn new() -> Lifecycle {
        Lifecycle {
            state: AtomicU32::new(State::Open as u32),
            paused: AtomicBool::new(false),
            gate: CachePadded(AtomicU64::new(0)),
            fork_gen: fork::generation(),
        }
    }

    pub(crate) fn fork_gen(&self) -> u32 {
        self.fork_gen
    }

    /// True in a forked child for a pool the parent created.
    pub(crate) fn is_forked(&self) -> bool {
        self.fork_gen != fork::generation()
    }

    pub(crate) fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Open,
            1 => State::Draining,
            2 => State::Cancelling,
            _ => State::Joined,
        }
    }

    /// The one admission rule (see the table in the module docs).
    pub(crate) fn admit(&self, own_worker: bool, work: Work) -> Result<Ticket<'_>, SubmitError> {
        if self.is_forked() {
            return Err(SubmitError::Forked);
        }
        if own_worker && work == Work::Now {
            // Our own workers may keep submitting while the pool drains:
            // that work lands on their deques, which they drain.
            return match self.state() {
                State::Open | State::Draining => Ok(Ticket { gate: None, injected: 0 }),
                State::Cancelling | State::Joined => Err(SubmitError::Shutdown),
            };
        }
        let g = self.gate.fetch_add(GATE_ENTER, Ordering::Acquire);
        if g & GATE_CLOSED != 0 {
            self.gate.fetch_sub(GATE_ENTER, Ordering::Release);
            return Err(SubmitError::Shutdown);
        }
        Ok(Ticket { gate: Some(&self.gate), injected: 0 })
    }

    /// Moves to `want` unless already past it, and closes the gate. The
    /// caller serialises this with resizing (the registry's control lock).
    pub(crate) fn close(&self, want: State) {
        self.state.fetch_max(want as u32, Ordering::AcqRel);
        self.gate.fetch_or(GATE_CLOSED, Ordering::AcqRel);
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Pauses an open pool. Serialised with `close` by the caller (the
    /// registry's control lock), so a closed pool is never left paused.
    pub(crate) fn pause(&self) -> Result<(), SubmitError> {
        if self.is_forked() {
            return Err(SubmitError::Forked);
        }
        if self.state() != State::Open {
            return Err(SubmitError::Shutdown);
        }
        self.paused.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Clears the pause; true if the pool was paused. The caller wakes the
    /// workers after this store (see `Registry::resume`).
    pub(crate) fn resume(&self) -> bool {
        self.paused.swap(false, Ordering::SeqCst)
    }

    /// Whether workers may take queued jobs now (one load of a word written
    /// only by pause, resume and close).
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Every worker is joined and the queues swept.
    pub(crate) fn joined(&self) {
        self.state.fetch_max(State::Joined as u32, Ordering::AcqRel);
    }

    /// No admitted outside submitter is between the gate and its push.
    pub(crate) fn no_submitters_in_flight(&self) -> bool {
        self.gate.load(Ordering::Acquire) & GATE_INFLIGHT == 0
    }

    /// Waits until the submitters admitted before the gate closed are done.
    /// They run no user code while admitted, so this is short.
    pub(crate) fn wait_for_submitters(&self) {
        while !self.no_submitters_in_flight() {
            std::thread::yield_now();
        }
    }

    /// Jobs injected by admitted outside submitters so far (wrapping; for
    /// the statistics' queued count).
    pub(crate) fn injected_count(&self) -> u64 {
        self.gate.load(Ordering::Relaxed) >> GATE_COUNT_SHIFT
    }

    /// A retiring worker's leftovers are accepted work being moved: count
    /// it in flight (without asking the gate) so a drain cannot finish in
    /// between. Only while the pool is open; see `Registry::should_retire`.
    pub(crate) fn enter_moving(&self) -> Ticket<'_> {
        self.gate.fetch_add(GATE_ENTER, Ordering::Acquire);
        Ticket { gate: Some(&self.gate), injected: 0 }
    }
}
