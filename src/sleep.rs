//! How idle workers park and how they are woken. The protocol, its
//! invariants and why no wake-up is lost are written down in
//! `src/sleep.md`; this file follows it step by step.

use crate::sync::{fence, futex, lock, AtomicBool, AtomicU32, AtomicU64, CachePadded, Mutex, Ordering};

/// A one-token parker on a futex word (the shape of std's futex parker).
#[derive(Default)]
pub(crate) struct Parker {
    state: AtomicU32,
    /// Set by a waker that took this parker's worker off the sleepers list
    /// (under the list's lock, before its unpark), cleared by the worker:
    /// a worker woken so knows its role without taking the lock again.
    handed: AtomicBool,
    /// Model checking only: `unpark` reads this cell and a model's owner
    /// writes it once it lets the parker go, so loom reports any `unpark`
    /// that may still be running at that point (a use after free).
    #[cfg(loom)]
    pub(crate) in_use: loom::cell::UnsafeCell<()>,
}

// SAFETY: `in_use` holds no data; loom only records who accesses it.
#[cfg(loom)]
unsafe impl Sync for Parker {}

const EMPTY: u32 = 0;
const NOTIFIED: u32 = 1;
const PARKED: u32 = u32::MAX;

impl Parker {
    /// Sleeps until a token is available (consuming it) or the deadline
    /// passes. Returns true if a token was consumed.
    pub(crate) fn park(&self, deadline: Option<u64>) -> bool {
        // NOTIFIED -> EMPTY consumes a pending token; EMPTY -> PARKED announces us.
        if self.state.fetch_sub(1, Ordering::Acquire) == NOTIFIED {
            return true;
        }
        loop {
            let alive = futex::wait(&self.state, PARKED, deadline);
            if self.state.compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire).is_ok() {
                return true;
            }
            if !alive {
                // Timed out: withdraw, unless a token raced in.
                return self.state.swap(EMPTY, Ordering::Acquire) == NOTIFIED;
            }
        }
    }

    /// Makes a token available, waking the parked thread if there is one.
    pub(crate) fn unpark(&self) {
        #[cfg(loom)]
        self.in_use.with(|_| ());
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            futex::wake(&self.state, 1);
        }
    }
}

// The packed counters: searching workers in the low half, sleeping in the high.
const SEARCHING_ONE: u64 = 1;
const SLEEPING_ONE: u64 = 1 << 32;

fn searching(c: u64) -> u64 {
    c & 0xffff_ffff
}
fn sleeping(c: u64) -> u64 {
    c >> 32
}

/// The pool-wide sleep state.
pub(crate) struct Sleep {
    counts: CachePadded<AtomicU64>,
    /// Slot indices of parked workers, most recent last (woken first: its
    /// caches are warmest).
    sleepers: Mutex<Vec<usize>>,
}

/// How a worker left `sleep`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Woken {
    /// A submitter chose it, or its final re-check found work: it is now
    /// counted as searching.
    AsSearcher,
    /// A time-out or a helper notification woke it: not searching.
    ByItself,
}

impl Sleep {
    pub(crate) fn new() -> Sleep {
        Sleep { counts: CachePadded(AtomicU64::new(0)), sleepers: Mutex::new(Vec::new()) }
    }

    pub(crate) fn counts(&self) -> (u64, u64) {
        let c = self.counts.load(Ordering::Relaxed);
        (searching(c), sleeping(c))
    }

    /// An idle worker asks to search. Refused once half the awake workers
    /// already search (tokio/Go): more searchers only add contention.
    pub(crate) fn start_searching(&self, awake: u64) -> bool {
        let mut c = self.counts.load(Ordering::Relaxed);
        loop {
            if searching(c) > 0 && 2 * searching(c) >= awake {
                return false;
            }
            match self.counts.compare_exchange_weak(c, c + SEARCHING_ONE, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
    }

    /// A searcher stops searching (it found work, or it leaves). If it was
    /// the last searcher, someone sleeps and work is still queued (`more`),
    /// wake one more: a burst fans out, each woken worker chaining the next,
    /// while a lone task does not wake a second worker for nothing. The
    /// decrement is an RMW on `counts`, so a submitter that saw this searcher
    /// and skipped its wake pushed before `more` looks (see sleep.md).
    pub(crate) fn stop_searching(&self, parkers: &dyn Fn(usize) -> *const Parker, more: &dyn Fn() -> bool) {
        let prev = self.counts.fetch_sub(SEARCHING_ONE, Ordering::AcqRel);
        if searching(prev) == 1 && sleeping(prev) > 0 && more() {
            self.wake_one(parkers);
        }
    }

    /// Called after new work was published. The read is an RMW (tokio's
    /// `fetch_add(0)`): it is ordered with the sleeper's RMW on the same
    /// word, so either this thread sees the sleeper's count, or the sleeper's
    /// RMW reads ours, synchronises with it, and its re-check sees the work.
    ///
    /// False if no worker searches or sleeps: each is inside a task.
    pub(crate) fn new_work(&self, parkers: &dyn Fn(usize) -> *const Parker) -> bool {
        let c = self.counts.fetch_add(0, Ordering::SeqCst);
        if searching(c) == 0 && sleeping(c) > 0 {
            self.wake_one(parkers);
        }
        searching(c) > 0 || sleeping(c) > 0
    }

    /// Wakes one sleeper, handing it the searching role.
    fn wake_one(&self, parkers: &dyn Fn(usize) -> *const Parker) {
        let idx = {
            let mut list = lock(&self.sleepers);
            // Re-check under the lock: another submitter may have woken someone.
            if searching(self.counts.load(Ordering::Relaxed)) > 0 {
                return;
            }
            let Some(idx) = list.pop() else { return };
            self.counts.fetch_add(SEARCHING_ONE.wrapping_sub(SLEEPING_ONE), Ordering::AcqRel);
            // SAFETY: as below.
            unsafe { (*parkers(idx)).handed.store(true, Ordering::Relaxed) };
            idx
        };
        // SAFETY: parkers(idx) points into a slot of the pool, which outlives its workers.
        unsafe { (*parkers(idx)).unpark() };
    }

    /// Wakes every sleeper (shutdown, shrink): each re-reads the pool state.
    pub(crate) fn wake_all(&self, parkers: &dyn Fn(usize) -> *const Parker) {
        let woken: Vec<usize> = {
            let mut list = lock(&self.sleepers);
            let n = list.len() as u64;
            self.counts.fetch_add((n * SEARCHING_ONE).wrapping_sub(n * SLEEPING_ONE), Ordering::AcqRel);
            for &idx in list.iter() {
                // SAFETY: as below.
                unsafe { (*parkers(idx)).handed.store(true, Ordering::Relaxed) };
            }
            std::mem::take(&mut *list)
        };
        for idx in woken {
            // SAFETY: as in wake_one.
            unsafe { (*parkers(idx)).unpark() };
        }
    }

    /// Parks worker `idx` until woken or `deadline`. `has_work` is the final
    /// re-check, run after this worker is visible as a sleeper.
    pub(crate) fn sleep(
        &self,
        idx: usize,
        parker: &Parker,
        was_searching: bool,
        deadline: Option<u64>,
        has_work: &dyn Fn() -> bool,
    ) -> Woken {
        {
            let mut list = lock(&self.sleepers);
            list.push(idx);
            let delta = if was_searching { SLEEPING_ONE - SEARCHING_ONE } else { SLEEPING_ONE };
            self.counts.fetch_add(delta, Ordering::AcqRel);
        }
        fence(Ordering::SeqCst);
        let saw_work = has_work();
        if !saw_work {
            parker.park(deadline);
            // Woken by whoever took us off the list: the unpark's release
            // publishes `handed`, and nobody else sets it while we are off
            // the list. Otherwise (a time-out, a helper's token, a token
            // left from an earlier sleep) the list says.
            if parker.handed.load(Ordering::Acquire) {
                parker.handed.store(false, Ordering::Relaxed);
                return Woken::AsSearcher;
            }
        }
        // Whoever removed us from the list decides our role.
        let mut list = lock(&self.sleepers);
        if let Some(pos) = list.iter().rposition(|&i| i == idx) {
            list.swap_remove(pos);
            if saw_work {
                // A submitter may have counted on the searcher we were to take
                // this work and wake the next sleeper for the rest: stay one.
                self.counts.fetch_add(SEARCHING_ONE.wrapping_sub(SLEEPING_ONE), Ordering::AcqRel);
                return Woken::AsSearcher;
            }
            self.counts.fetch_sub(SLEEPING_ONE, Ordering::AcqRel);
            Woken::ByItself
        } else {
            // A waker took us out and made us a searcher. Its token may still
            // be on its way; left pending, it only makes a later park return
            // early, and every park re-checks its condition. Its `handed`
            // (set under this lock) is cleared, so the next sleep starts clear.
            parker.handed.store(false, Ordering::Relaxed);
            Woken::AsSearcher
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
