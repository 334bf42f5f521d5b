//! How idle workers park and how they are woken. The protocol, its
//! invariants and why no wake-up is lost are written down in
//! `src/sleep.md`; this file follows it step by step.

use crate::job::Job;
use crate::sync::{fence, futex, lock, AtomicBool, AtomicU32, AtomicU64, CachePadded, Mutex, Ordering};

/// A one-token parker on a futex word (the shape of std's futex parker).
#[derive(Default)]
pub(crate) struct Parker {
    state: AtomicU32,
    /// Set by a waker that took this parker's worker off the sleepers list
    /// (under the list's lock, before its unpark), cleared by the worker:
    /// a worker woken so knows its role without taking the lock again.
    handed: AtomicBool,
    /// The worker parked in its main loop, where it takes a job handed to
    /// it (`mail`); not while it waits inside a task. Set under the
    /// sleepers lock as it goes on the list.
    takes_mail: AtomicBool,
    /// A job a submitter handed to this parker's worker with the wake-up
    /// (`Sleep::hand_off`): written by that waker while the worker is off
    /// the list and before the unpark, taken by the worker once woken.
    mail: std::cell::UnsafeCell<Option<Job>>,
    /// Model checking only: `unpark` reads this cell and a model's owner
    /// writes it once it lets the parker go, so loom reports any `unpark`
    /// that may still be running at that point (a use after free).
    #[cfg(loom)]
    pub(crate) in_use: loom::cell::UnsafeCell<()>,
}

// SAFETY: `in_use` holds no data; loom only records who accesses it. `mail`
// has one writer at a time, ordered by the protocol on its field.
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

    /// The job handed with the last wake-up, if any: for the parked worker,
    /// once `Sleep::sleep` has returned (its waker wrote it before the
    /// unpark, or under the lock the worker then took).
    pub(crate) fn take_mail(&self) -> Option<Job> {
        // SAFETY: nobody writes `mail` while the worker is off the list, and
        // the waker's write happens before this (see above).
        unsafe { (*self.mail.get()).take() }
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

    /// True while every worker is inside a task (none searches or sleeps):
    /// nobody could take a join's `b` now, so it stays private.
    #[inline]
    pub(crate) fn all_busy(&self) -> bool {
        let (searching, sleeping) = self.counts();
        searching == 0 && sleeping == 0
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

    /// Hands `job` to the most recent sleeper, if it sleeps in its main loop
    /// and nobody searches, and wakes it: it starts the job at once, without
    /// looking in the queues, where the job never went (the submitter skips
    /// its push too). Otherwise the job comes back, for the queue and
    /// `new_work`. The woken worker is counted as searching, as `wake_one`'s,
    /// until it has taken the job; it is off the list, so nobody else can
    /// hand it one, and it is sure to wake, so nothing needs to find the job.
    /// `queue_empty` is asked only once a sleeper is seen: on a busy pool
    /// the counts' line, which every submit touches anyway, settles it.
    pub(crate) fn hand_off(
        &self,
        job: Job,
        parkers: &dyn Fn(usize) -> *const Parker,
        queue_empty: &dyn Fn() -> bool,
    ) -> Result<(), Job> {
        let c = self.counts.load(Ordering::Relaxed);
        if searching(c) > 0 || sleeping(c) == 0 || !queue_empty() {
            return Err(job);
        }
        let mut job = Some(job);
        let woken = self.wake_if(parkers, |parker| {
            if !parker.takes_mail.load(Ordering::Relaxed) {
                return false;
            }
            // SAFETY: the worker leaves the list in this critical section:
            // only this waker writes its mail, and the worker reads it after
            // the unpark (or after taking this lock, if it never parked).
            unsafe { *parker.mail.get() = job.take() };
            true
        });
        match job {
            Some(job) => Err(job),
            None => {
                debug_assert!(woken);
                Ok(())
            }
        }
    }

    /// Wakes one sleeper, handing it the searching role.
    fn wake_one(&self, parkers: &dyn Fn(usize) -> *const Parker) {
        self.wake_if(parkers, |_| true);
    }

    /// Takes the most recent sleeper off the list and wakes it as a
    /// searcher, unless someone searches (re-checked under the lock: another
    /// submitter may have woken someone) or `pick`, run under the lock on
    /// its parker, declines it. True if it woke one.
    fn wake_if(&self, parkers: &dyn Fn(usize) -> *const Parker, pick: impl FnOnce(&Parker) -> bool) -> bool {
        let idx = {
            let mut list = lock(&self.sleepers);
            if searching(self.counts.load(Ordering::Relaxed)) > 0 {
                return false;
            }
            let Some(&idx) = list.last() else { return false };
            // SAFETY: parkers(idx) points into a slot of the pool, which outlives its workers.
            let parker = unsafe { &*parkers(idx) };
            if !pick(parker) {
                return false;
            }
            list.pop();
            self.counts.fetch_add(SEARCHING_ONE.wrapping_sub(SLEEPING_ONE), Ordering::AcqRel);
            parker.handed.store(true, Ordering::Relaxed);
            idx
        };
        // SAFETY: as above.
        unsafe { (*parkers(idx)).unpark() };
        true
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
    /// re-check, run after this worker is visible as a sleeper. With
    /// `takes_mail` (a worker in its main loop) a submitter may hand it a
    /// job (`hand_off`), which it takes with `Parker::take_mail` once this
    /// returns.
    pub(crate) fn sleep(
        &self,
        idx: usize,
        parker: &Parker,
        was_searching: bool,
        deadline: Option<u64>,
        takes_mail: bool,
        has_work: &dyn Fn() -> bool,
    ) -> Woken {
        {
            let mut list = lock(&self.sleepers);
            parker.takes_mail.store(takes_mail, Ordering::Relaxed);
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
