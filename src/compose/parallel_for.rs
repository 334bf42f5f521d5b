//! Parallel loops: `body(lo, hi, ctx)` over `[begin, end)` in chunks of at
//! most `grain` items, split recursively over the work-stealing deques.
//!
//! A range job holds `(loop, lo, hi)`. Run by a worker, it splits off the
//! upper half as a new job on its own deque until at most `grain` items are
//! left, runs those, and subtracts them from `remaining`; thieves take the
//! biggest halves (the oldest), the owner keeps the smallest (LIFO). The job
//! that brings `remaining` to zero ends the loop's latch, a task with no job
//! of its own that the caller waits on.
//!
//! The caller participates. A worker of the pool splits the same way, then
//! waits helping, which runs its own halves first. A thread outside the
//! pool has no deque: it queues its halves on the pool and records each in
//! `claims[depth]` (the half's `lo`, unique over a loop's life since every
//! split point is). After its own chunk it takes back the most recent half
//! nobody has started, by a CAS of its claim to EMPTY, and goes on splitting
//! that. A worker popping a claimable half does the same CAS first; the
//! loser drops its copy. So each half runs once, wherever it is quickest.
//!
//! If the pool drops a job (cancel shutdown), its items count as done but
//! `dropped` is set: the loop reports that part of the range never ran.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::compose::accepts_from_here;
use crate::job::{Job, JobData, Outcome};
use crate::registry::{Registry, SubmitError};
use crate::task::Task;
use crate::worker::WorkerThread;

/// The loop body: called with `[lo, hi)` and the caller's context.
pub(crate) type RangeFn = unsafe extern "C" fn(lo: usize, hi: usize, ctx: *mut c_void);

/// Halves an outside caller can have queued at once: each halves the range.
const SLOTS: usize = 64;
/// A claim slot holding no half. No half starts at usize::MAX (lo < hi).
const EMPTY: usize = usize::MAX;
/// Low bits of a job's loop pointer (the loop is 128-aligned): 0 for a
/// worker's half, `i + 1` for the outside caller's half in claim slot `i`.
const TAG_MASK: usize = 127;

/// Chunks per thread when the caller lets us choose the grain: enough to
/// balance uneven chunks, few enough that splitting costs little.
const CHUNKS_PER_THREAD: usize = 8;

#[repr(align(128))]
struct Loop {
    body: RangeFn,
    ctx: *mut c_void,
    grain: usize,
    /// Items not yet run or dropped.
    remaining: AtomicUsize,
    /// Some items were dropped by a shutdown instead of run.
    dropped: AtomicBool,
    /// Ended when `remaining` reaches zero; this loop owns one reference.
    done: *const Task,
    claims: [AtomicUsize; SLOTS],
}

// SAFETY: `ctx` is the caller's, promised usable from the pool's threads by
// calling bg_parallel_for; `done` is a thread-safe task.
unsafe impl Send for Loop {}
unsafe impl Sync for Loop {}

impl Drop for Loop {
    fn drop(&mut self) {
        // SAFETY: the loop owns one reference to its latch.
        unsafe { Task::release(self.done) };
    }
}

/// Never called: a latch has no function of its own.
unsafe extern "C" fn latch_fn(_: *mut c_void) -> c_int {
    0
}

/// Runs the loop; `Ok(true)` if every chunk ran, `Ok(false)` if a cancel
/// shutdown dropped some. Refused (nothing ran) if the pool does not take
/// work from this thread.
pub(crate) fn parallel_for(
    reg: &Arc<Registry>,
    begin: usize,
    end: usize,
    grain: usize,
    body: RangeFn,
    ctx: *mut c_void,
) -> Result<bool, SubmitError> {
    accepts_from_here(reg)?;
    let n = end - begin;
    let grain = if grain != 0 { grain } else { (n / (CHUNKS_PER_THREAD * reg.target().max(1))).max(1) };
    if n <= grain {
        if n > 0 {
            // SAFETY: the caller's body with the caller's context, as documented.
            unsafe { body(begin, end, ctx) };
        }
        return Ok(true);
    }
    let lp = Arc::new(Loop {
        body,
        ctx,
        grain,
        remaining: AtomicUsize::new(n),
        dropped: AtomicBool::new(false),
        done: Task::new_unqueued(latch_fn, std::ptr::null_mut(), None, reg.id, 1),
        claims: std::array::from_fn(|_| AtomicUsize::new(EMPTY)),
    });
    let own_worker = WorkerThread::current().is_some_and(|w| std::ptr::eq(w.registry(), &**reg));
    if own_worker {
        lp.run(reg, begin, end);
    } else {
        lp.run_as_outside_caller(reg, begin, end);
    }
    // SAFETY: `lp` keeps its latch alive. A worker helps while it waits.
    unsafe { (*lp.done).wait(None, true) };
    Ok(!lp.dropped.load(Ordering::Acquire))
}

impl Loop {
    /// A worker's share: split off upper halves onto its deque, then run the rest.
    fn run(self: &Arc<Self>, reg: &Registry, lo: usize, mut hi: usize) {
        while hi - lo > self.grain {
            let mid = lo + (hi - lo) / 2;
            if !self.push(reg, 0, mid, hi) {
                break; // refused (shutting down): run it all here
            }
            hi = mid;
        }
        self.run_chunks(lo, hi);
    }

    /// The outside caller's share: as `run`, then take back queued halves
    /// that no worker has started, most recent first.
    fn run_as_outside_caller(self: &Arc<Self>, reg: &Registry, mut lo: usize, mut hi: usize) {
        let mut halves = [(0usize, 0usize); SLOTS];
        let mut depth = 0;
        loop {
            while hi - lo > self.grain && depth < SLOTS {
                let mid = lo + (hi - lo) / 2;
                // Published to the worker that pops the job by the queue itself.
                self.claims[depth].store(mid, Ordering::Relaxed);
                if !self.push(reg, depth + 1, mid, hi) {
                    self.claims[depth].store(EMPTY, Ordering::Relaxed);
                    break;
                }
                halves[depth] = (mid, hi);
                depth += 1;
                hi = mid;
            }
            self.run_chunks(lo, hi);
            loop {
                if depth == 0 {
                    return;
                }
                depth -= 1;
                let (l, h) = halves[depth];
                if self.claims[depth].compare_exchange(l, EMPTY, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                    (lo, hi) = (l, h);
                    break;
                }
            }
        }
    }

    /// Runs `[lo, hi)` in chunks of at most `grain` and counts them done.
    fn run_chunks(&self, lo: usize, hi: usize) {
        let mut a = lo;
        while a < hi {
            let b = a + self.grain.min(hi - a);
            // SAFETY: the caller's body with the caller's context, as documented.
            unsafe { (self.body)(a, b, self.ctx) };
            a = b;
        }
        self.account(hi - lo, false);
    }

    fn account(&self, items: usize, dropped: bool) {
        if dropped {
            self.dropped.store(true, Ordering::Relaxed);
        }
        if self.remaining.fetch_sub(items, Ordering::AcqRel) == items {
            // SAFETY: the loop (kept alive by our caller's Arc) owns a reference.
            unsafe { (*self.done).run_with(|_, _| 0) };
        }
    }

    /// Queues `[lo, hi)` as a job (`tag` as in TAG_MASK); false if refused.
    fn push(self: &Arc<Self>, reg: &Registry, tag: usize, lo: usize, hi: usize) -> bool {
        let raw = Arc::into_raw(Arc::clone(self)) as usize;
        debug_assert_eq!(raw & TAG_MASK, 0);
        // SAFETY: exec_range decodes exactly these words and consumes the Arc.
        let job = unsafe { Job::new(exec_range, JobData((raw | tag) as *mut c_void, lo as *mut c_void, hi)) };
        match reg.submit_accepted(job) {
            Ok(()) => true,
            Err((_, job)) => {
                // Never queued: take the Arc back instead of consuming the job.
                job.abandon();
                // SAFETY: `raw` came from Arc::into_raw just above and nothing else took it.
                drop(unsafe { Arc::from_raw(raw as *const Loop) });
                false
            }
        }
    }
}

/// Runs (or, given no worker, drops) one half of a loop.
unsafe fn exec_range(d: JobData, worker: Option<&WorkerThread>) -> Outcome {
    let word = d.0 as usize;
    // SAFETY: `push` leaked one Arc into word 0, tagged in its low bits.
    let lp = Arc::from_raw((word & !TAG_MASK) as *const Loop);
    let (lo, hi) = (d.1 as usize, d.2);
    let tag = word & TAG_MASK;
    if tag != 0 && lp.claims[tag - 1].compare_exchange(lo, EMPTY, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return Outcome::Internal; // the outside caller took this half back
    }
    match worker {
        Some(w) => lp.run(w.registry(), lo, hi),
        None => lp.account(hi - lo, true),
    }
    Outcome::Internal
}
