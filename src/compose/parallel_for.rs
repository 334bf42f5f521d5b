//! Parallel loops: `body(lo, hi, ctx)` over `[begin, end)` in chunks of at
//! most `grain` items, split recursively over the work-stealing deques.
//!
//! A range job holds `(loop, lo, hi)`. Run by a worker, it splits off the
//! upper half as a new job on its own deque until at most `split` items are
//! left, runs those in chunks of `grain`, and subtracts them from
//! `remaining`; thieves take the biggest halves (the oldest), the owner
//! keeps the smallest (LIFO). The job that brings `remaining` to zero ends
//! the loop's latch (`latch.rs`), which the caller waits on.
//!
//! Between chunks, a worker whose deque is empty (thieves took all it
//! queued, or it ran out of halves of its own) splits its remaining items
//! again, so the end of a loop is shared out in pieces of `grain` rather
//! than left to whoever holds the last big piece (TBB's auto partitioner
//! and rayon's adaptive splitter do the same). With the default grain,
//! `split` is several chunks: the eager splitting queues only as many
//! pieces as balancing needs, and splitting on demand does the rest.
//!
//! The caller takes part. A worker of the pool splits the same way, then
//! waits helping, which runs its own halves first.
//!
//! A thread outside the pool queues everything after the first chunk as one
//! claimable job (see below) and runs that chunk, timing it. If the loop is
//! short (under `LONG_LOOP_NS` a thread, judged by that chunk), it takes the
//! job back unless a worker has already started it, and carries on as
//! below: the loop is over before the workers would be up. If the loop is
//! long, the caller leaves it to the pool and waits: the loop runs on as
//! many threads as the pool has, as with TBB's arena slots. A caller that
//! ran chunks beside every worker would put one thread more than the pool's
//! size on the CPUs, and whichever the OS preempts holds its chunk while the
//! others run out of work (on 2 CPUs: a CPU idle or wasted for 10 % of each
//! pass of the benchmark's loop, 10–15 % slower). Should no worker start on
//! the job within a few chunks' time (every worker busy), the caller takes
//! it back after all, so a loop finishes even if every worker is blocked.
//! (Deciding by whether a worker has arrived alone does worse: on this VM a
//! worker often takes longer to wake than a chunk takes to run.)
//!
//! A caller that takes the job back runs the loop itself, queueing halves
//! as it splits. It has no deque: it records each half in `claims[depth]`
//! (the half's `lo`, unique over a loop's life since every split point is).
//! After its own chunk it takes back the most recent half nobody has
//! started, by a CAS of its claim to EMPTY, and goes on splitting that. A
//! worker popping a claimable job does the same CAS first; the loser drops
//! its copy. So each piece runs once, wherever it is quickest.
//!
//! If the pool drops a job (cancel shutdown), its items count as done but
//! `dropped` is set: the loop reports that part of the range never ran.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::job::{Job, JobBody, Outcome};
use crate::latch::Latch;
use crate::lifecycle::Work;
use crate::registry::{Registry, SubmitError};
use crate::sync::{deadline_after, now_ns};
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

/// Chunks per thread when the caller lets us choose the grain: enough that
/// the last chunks balance the end of the loop, few enough that calling the
/// body costs little.
const CHUNKS_PER_THREAD: usize = 128;
/// With the default grain, pieces split eagerly are this many chunks.
const CHUNKS_PER_SPLIT: usize = 16;

/// An outside caller leaves a loop to the pool if its first chunk says the
/// loop will keep every thread busy at least this long (see the module docs):
/// several times what waking the workers costs.
const LONG_LOOP_NS: u64 = 100_000;
/// How long it then waits for a worker to start on the loop, before taking
/// it back: four chunks' time, within these bounds.
const PATIENCE_MIN_NS: u64 = 50_000;
const PATIENCE_MAX_NS: u64 = 1_000_000;

#[repr(align(128))]
struct Loop {
    body: RangeFn,
    ctx: *mut c_void,
    grain: usize,
    /// Pieces at most this long are no longer split eagerly (>= grain).
    split: usize,
    /// Items not yet run or dropped.
    remaining: AtomicUsize,
    /// Some items were dropped by a shutdown instead of run.
    dropped: AtomicBool,
    /// Set when `remaining` reaches zero.
    done: Latch,
    claims: [AtomicUsize; SLOTS],
}

// SAFETY: `ctx` is the caller's, promised usable from the pool's threads by
// calling bg_parallel_for; `done` is a thread-safe task.
unsafe impl Send for Loop {}
unsafe impl Sync for Loop {}

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
    drop(reg.admit(Work::Now)?);
    let n = end - begin;
    let (grain, split) = if grain != 0 {
        (grain, grain)
    } else {
        let g = (n / (CHUNKS_PER_THREAD * reg.target().max(1))).max(1);
        (g, g * CHUNKS_PER_SPLIT)
    };
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
        split,
        remaining: AtomicUsize::new(n),
        dropped: AtomicBool::new(false),
        done: Latch::new(reg.id),
        claims: std::array::from_fn(|_| AtomicUsize::new(EMPTY)),
    });
    let own_worker = WorkerThread::current_of(reg);
    if let Some(w) = own_worker {
        lp.run(w, begin, end);
    } else {
        lp.run_from_outside(reg, begin, end);
    }
    // A worker helps while it waits.
    lp.done.wait(None);
    if reg.is_forked() {
        // A body forked and this is the child: the parent's threads ran the
        // rest of the loop there, not here.
        return Err(SubmitError::Forked);
    }
    Ok(!lp.dropped.load(Ordering::Acquire))
}

impl Loop {
    /// A worker's share: split off upper halves onto its deque, then run the
    /// rest, splitting again whenever the deque runs dry.
    fn run(self: &Arc<Self>, w: &WorkerThread, lo: usize, mut hi: usize) {
        while hi - lo > self.split {
            let mid = lo + (hi - lo) / 2;
            if !self.push(w.registry(), 0, mid, hi) {
                break; // refused (shutting down): run it all here
            }
            hi = mid;
        }
        self.run_chunks(Some(w), lo, hi);
    }

    /// An outside caller's loop (see the module docs): the rest is queued,
    /// claimable, before the first chunk runs, so that a worker wakes meanwhile.
    fn run_from_outside(self: &Arc<Self>, reg: &Registry, begin: usize, end: usize) {
        let first = begin + self.grain;
        self.claims[0].store(first, Ordering::Relaxed);
        let queued = self.push(reg, 1, first, end);
        let t0 = now_ns();
        self.run_chunks(None, begin, first);
        let chunk_ns = now_ns() - t0;
        let loop_ns = chunk_ns.saturating_mul(((end - begin) / self.grain) as u64) / reg.target().max(1) as u64;
        let take_back = || self.claims[0].compare_exchange(first, EMPTY, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        let join = if !queued {
            true
        } else if loop_ns < LONG_LOOP_NS {
            take_back()
        } else {
            let patience = chunk_ns.saturating_mul(4).clamp(PATIENCE_MIN_NS, PATIENCE_MAX_NS);
            let ended = self.done.wait(deadline_after(patience));
            !ended && take_back()
        };
        if join {
            self.run_as_outside_caller(reg, first, end);
        }
    }

    /// The outside caller's share: as `run`, then take back queued halves
    /// that no worker has started, most recent first.
    fn run_as_outside_caller(self: &Arc<Self>, reg: &Registry, mut lo: usize, mut hi: usize) {
        let mut halves = [(0usize, 0usize); SLOTS];
        let mut depth = 0;
        loop {
            while hi - lo > self.split && depth < SLOTS {
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
            self.run_chunks(None, lo, hi);
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

    /// Runs `[lo, hi)` in chunks of at most `grain` and counts them done. A
    /// worker whose deque is empty queues the upper half of what is left
    /// first (see the module docs).
    fn run_chunks(self: &Arc<Self>, worker: Option<&WorkerThread>, lo: usize, mut hi: usize) {
        let mut a = lo;
        while a < hi {
            if let Some(w) = worker.filter(|w| hi - a >= 2 * self.grain && w.deque_is_empty()) {
                let mid = a + (hi - a) / 2;
                if self.push(w.registry(), 0, mid, hi) {
                    hi = mid;
                }
            }
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
            self.done.set();
        }
    }

    /// Queues `[lo, hi)` as a job (`tag` as in TAG_MASK); false if refused.
    fn push(self: &Arc<Self>, reg: &Registry, tag: usize, lo: usize, hi: usize) -> bool {
        let raw = Arc::into_raw(Arc::clone(self)) as usize;
        debug_assert_eq!(raw & TAG_MASK, 0);
        let job = Job::new(RangeJob { tagged_loop: raw | tag, lo, hi });
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

/// One half `[lo, hi)` of a loop. `tagged_loop` is an `Arc<Loop>` leaked
/// for the job, with the claim tag (see TAG_MASK) in its low bits: the
/// three fields fill a job's payload.
struct RangeJob {
    tagged_loop: usize,
    lo: usize,
    hi: usize,
}

impl RangeJob {
    /// Takes the job's Arc back; `None` if the outside caller took this half
    /// back itself (it claims halves through `claims`).
    fn claim(&self) -> Option<Arc<Loop>> {
        // SAFETY: `push` leaked one Arc into `tagged_loop` for this job.
        let lp = unsafe { Arc::from_raw((self.tagged_loop & !TAG_MASK) as *const Loop) };
        let tag = self.tagged_loop & TAG_MASK;
        if tag != 0 && lp.claims[tag - 1].compare_exchange(self.lo, EMPTY, Ordering::AcqRel, Ordering::Relaxed).is_err()
        {
            return None;
        }
        Some(lp)
    }
}

impl JobBody for RangeJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        if let Some(lp) = self.claim() {
            lp.run(w, self.lo, self.hi);
        }
        Outcome::Internal
    }

    /// The half is dropped: counted as done, the loop reports the drop.
    fn cancel(self) -> Outcome {
        if let Some(lp) = self.claim() {
            lp.account(self.hi - self.lo, true);
        }
        Outcome::Internal
    }
}
