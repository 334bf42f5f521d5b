//! The waitable handle: one allocation per task submitted with a handle.
//!
//! # State machine
//!
//! The `state` word holds a lifecycle in its low three bits, flags above,
//! and in its top half a tag that says the handle is live (see `is_live`):
//!
//! ```text
//!            claim (a worker pops the job)          complete
//!   QUEUED ─────────────────────────────> RUNNING ───────────> DONE(result)
//!     │
//!     │ bg_cancel / shutdown sweep              drop(arg) has run
//!     └───────────────────────────> CANCELLING ─────────────> CANCELLED | SHUTDOWN
//! ```
//!
//! * Only one CAS can move a task out of `QUEUED`, so exactly one of "run
//!   `fn`" and "run `drop`" happens. The job stays in its deque after a
//!   cancel and is skipped when popped (lazy deletion).
//! * DONE, CANCELLED and SHUTDOWN are terminal. `result` is written before
//!   the terminal state is published with a release swap, and read after an
//!   acquire load that saw it.
//! * `HAS_WAITER` is set by a thread about to block on the futex of `state`.
//!   The completer swaps in the terminal state and calls FUTEX_WAKE only if
//!   the swap returned `HAS_WAITER`. A waiter sleeps only while `state` still
//!   equals the value it saw *with* the bit, so it either sees the terminal
//!   state or its futex_wait fails with EAGAIN: no wake-up is lost.
//! * `HAS_HELPER` marks a worker thread waiting on the task while running
//!   other work (see `WorkerThread::wait_helping`); it sleeps on its own
//!   parker, which the completer unparks. `helper` holds that parker; the
//!   completer swaps it to `BUSY` while it unparks so the helper cannot leave
//!   (and its pool go away) in the middle of the unpark.
//! * `OBSERVED` records that a wait reported a non-zero result to someone, so
//!   releasing the handle afterwards is not reported as an unobserved failure.
//!
//! Completion hooks (continuations, groups, completion queues) are in
//! `task/hooks.rs`, waiting in `task/wait.rs`, references in `task/refs.rs`,
//! a waiter running a still-queued task itself in `task/caller_runs.rs`.
//!
//! # Ownership
//!
//! `refs` counts the user's references (one from submit, plus retains) in
//! its low bits, and holds `JOB_REF` for the queued job (or the hook that
//! will queue it) until the job is consumed. Keeping the job's reference
//! apart makes an over-release detectable: a user release that finds no
//! user reference left (`release_checked`) is refused instead of freeing
//! the task under its queued job. The last release
//! frees the task; if the task failed and nobody observed it, that release
//! reports the failure to the pool's error handler first.

mod caller_runs;
mod hooks;
mod refs;
mod wait;

pub(crate) use caller_runs::{caller_runs_allowed, count_ran, inline_pool, may_run_inline, run_inline};

pub(crate) use hooks::Hook;
pub use wait::WaitError;
pub(crate) use wait::{set_wait_rule, WaitRule};

use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void};
use std::ptr;

use crate::fork;
use crate::job::{Job, JobBody, Outcome, RawDrop, RawFn};
use crate::sleep::Parker;
use crate::sync::{futex, AtomicPtr, AtomicU32, Ordering};
use crate::worker::WorkerThread;

const LIFE: u32 = 0b111;
const QUEUED: u32 = 0;
const RUNNING: u32 = 1;
const CANCELLING: u32 = 2;
const DONE: u32 = 3;
const CANCELLED: u32 = 4;
const SHUTDOWN: u32 = 5;
/// Not started by its start deadline (`deadline.rs`); its drop ran.
const EXPIRED: u32 = 6;
const HAS_WAITER: u32 = 1 << 3;
const HAS_HELPER: u32 = 1 << 4;
const OBSERVED: u32 = 1 << 5;
const HAS_HOOKS: u32 = 1 << 6;

/// The top half of `state` while the handle is live ("bg"); a released
/// handle's whole word is `DEAD`. Kept in `state` rather than a field of its
/// own so that a task is one 64-byte cache line.
const LIVE: u32 = 0x6267 << 16;
const TAG: u32 = 0xffff << 16;
/// A released handle's word: not live, and its lifecycle (`FREED`) is no
/// state a task is in, so no transition out of QUEUED can start from it.
const DEAD: u32 = (0xdead << 16) | FREED;
const FREED: u32 = 7;

/// The top bit of `pool_id`: a waiter outside the pool may claim the task
/// and run it (`task/caller_runs.rs`). Pool ids count up from 1.
const CALLER_RUNS: u64 = 1 << 63;

/// The bit of `refs` that is the job's reference (see "Ownership").
const JOB_REF: u32 = 1 << 31;

/// The completer is unparking the helper; see the module docs.
const BUSY: *mut Parker = 1 as *mut Parker;
/// The hooks have run: no more can be attached; see the module docs.
const SEALED: *mut Hook = 1 as *mut Hook;

/// How a task ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskEnd {
    /// The function ran and returned this code (0 = success).
    Ran(c_int),
    /// `bg_cancel` stopped it before it started; its drop ran instead.
    Cancelled,
    /// Its pool shut down in cancel mode before it started; its drop ran instead.
    Shutdown,
    /// The handle was inherited across fork(): the task belongs to the parent.
    Forked,
    /// No worker took it before its start deadline; its drop ran instead.
    Expired,
}

/// Why `cancel` did not cancel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CancelError {
    Running,
    Finished,
}

/// One cache line: a line shared by two tasks would be written by the
/// workers running each (false sharing), and a task spanning two lines costs
/// its worker two misses.
#[repr(align(64))]
pub struct Task {
    state: AtomicU32,
    refs: AtomicU32,
    fork_gen: u32,
    result: UnsafeCell<c_int>,
    helper: AtomicPtr<Parker>,
    hooks: AtomicPtr<Hook>,
    func: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
    pool_id: u64,
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Task>() == 64);

// SAFETY: all shared mutable state is atomic except `result`, which is
// written once before the release that publishes the terminal state and read
// only after an acquire load observes it. `arg` is the user's, promised
// thread-safe by submitting it.
unsafe impl Send for Task {}
unsafe impl Sync for Task {}

impl Task {
    /// Allocates a task and the job that will run it. The returned pointer
    /// carries one user reference; the job carries the other.
    pub(crate) fn new(func: RawFn, arg: *mut c_void, drop: Option<RawDrop>, pool_id: u64) -> (*const Task, Job) {
        let t = Task::new_unqueued(func, arg, drop, pool_id, true);
        let job = Job::new(TaskJob { task: t });
        (t, job)
    }

    /// Allocates a queued task with one user reference, and the job's if
    /// `with_job` (for a job or hook made later), but no job: for a
    /// mechanism that runs it with a job of its own (see `run_with`), or for
    /// a latch (`latch.rs`).
    pub(crate) fn new_unqueued(
        func: RawFn,
        arg: *mut c_void,
        drop: Option<RawDrop>,
        pool_id: u64,
        with_job: bool,
    ) -> *const Task {
        let refs = if with_job { JOB_REF | 1 } else { 1 };
        {
            let t = crate::slab::alloc_slot::<Task>();
            // SAFETY: a fresh, aligned, unshared slot for one Task.
            unsafe {
                t.write(Task {
                    state: AtomicU32::new(LIVE | QUEUED),
                    refs: AtomicU32::new(refs),
                    fork_gen: fork::generation(),
                    result: UnsafeCell::new(0),
                    helper: AtomicPtr::new(ptr::null_mut()),
                    hooks: AtomicPtr::new(ptr::null_mut()),
                    func,
                    arg,
                    drop,
                    pool_id,
                })
            };
            t
        }
    }

    /// Frees a task whose job was never queued (the submit was refused):
    /// both references go at once and neither `fn` nor `drop` runs, because
    /// ownership of `arg` never passed to the library.
    ///
    /// # Safety
    /// `t` and `job` must be the pair returned by `new`, unshared.
    pub(crate) unsafe fn discard_unsubmitted(t: *const Task, job: Job) {
        job.abandon();
        // SAFETY: the caller's promise: nobody else knows `t`, a slab slot
        // holding a Task, so it may be dropped and its slot freed here, once.
        unsafe {
            (*t).state.store(DEAD, Ordering::Relaxed);
            std::ptr::drop_in_place(t as *mut Task);
            crate::slab::free_slot(t as *mut Task);
        }
    }

    /// The id of the pool the task was submitted to.
    pub(crate) fn pool_id(&self) -> u64 {
        self.pool_id & !CALLER_RUNS
    }

    /// True if `t` looks like a live task (best effort: catches most
    /// use-after-release and garbage pointers that still point at memory).
    pub fn is_live(&self) -> bool {
        self.state.load(Ordering::Relaxed) & TAG == LIVE
    }

    /// Moves QUEUED to `to`, keeping the flags. Fails with the current lifecycle.
    fn leave_queued(&self, to: u32) -> Result<(), u32> {
        // Guess the usual word instead of loading it first: on a line another
        // core wrote last, a load then a CAS costs two transfers, a CAS one.
        let mut s = LIVE | QUEUED;
        loop {
            if s & LIFE != QUEUED {
                return Err(s & LIFE);
            }
            match self.state.compare_exchange_weak(s, (s & !LIFE) | to, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(now) => s = now,
            }
        }
    }

    /// Publishes a terminal state and wakes everyone waiting.
    fn finish(&self, life: u32, result: c_int) {
        // SAFETY: only the thread that moved the task out of QUEUED gets here,
        // and no reader looks at `result` before seeing a terminal state.
        unsafe { *self.result.get() = result };
        let prev = self.state.swap(LIVE | life, Ordering::AcqRel);
        if prev & HAS_HELPER != 0 {
            let p = self.helper.swap(BUSY, Ordering::AcqRel);
            if !p.is_null() && p != BUSY {
                // SAFETY: the helper cannot leave while `helper` is BUSY, and its
                // parker lives as long as the helper's pool does.
                unsafe { (*p).unpark() };
            }
            self.helper.store(ptr::null_mut(), Ordering::Release);
        }
        if prev & HAS_WAITER != 0 {
            futex::wake(&self.state, i32::MAX);
        }
        if prev & HAS_HOOKS != 0 {
            self.run_hooks_soon();
        }
    }

    /// Runs the task's body if it is still queued: `body` gets `func` and
    /// `arg` and returns the result code. `Skipped` if it was cancelled.
    pub(crate) fn run_with(&self, body: impl FnOnce(RawFn, *mut c_void) -> c_int) -> Outcome {
        match self.leave_queued(RUNNING) {
            Ok(()) => {
                let code = body(self.func, self.arg);
                self.finish(DONE, code);
                if code == 0 {
                    Outcome::Ok
                } else {
                    Outcome::Failed
                }
            }
            // A waiter claimed it (caller_runs.rs), or a join's caller ran
            // its `b` (join/outside.rs): counted where it ran.
            Err(RUNNING) | Err(DONE) => Outcome::Internal,
            Err(_) => Outcome::Skipped,
        }
    }

    /// Ends a latch's task (see `latch.rs`) as having run with result 0; a
    /// second call finds it ended and does nothing.
    pub(crate) fn end_latch(&self) {
        if self.leave_queued(RUNNING).is_ok() {
            self.finish(DONE, 0);
        }
    }

    /// Ends a still-queued task whose pool refused or dropped it: its drop
    /// runs and its waiters see `Shutdown`. `Skipped` if it already left the queue.
    pub(crate) fn cancel_for_shutdown(&self) -> Outcome {
        match self.cancel_as(SHUTDOWN) {
            Ok(()) => Outcome::Cancelled,
            Err(_) => Outcome::Skipped,
        }
    }

    /// Ends a still-queued task that missed its start deadline: its drop
    /// runs and its waiters see `Expired`. `Skipped` if it already left the queue.
    pub(crate) fn expire(&self) -> Outcome {
        match self.cancel_as(EXPIRED) {
            Ok(()) => Outcome::Expired,
            Err(_) => Outcome::Skipped,
        }
    }

    /// Still queued: neither started, claimed nor ended.
    pub(crate) fn is_queued(&self) -> bool {
        self.state.load(Ordering::Acquire) & LIFE == QUEUED
    }

    /// How the task ended, if it has.
    pub fn end(&self) -> Option<TaskEnd> {
        let s = self.state.load(Ordering::Acquire);
        match s & LIFE {
            // SAFETY: the acquire load saw DONE, published after `result` was written.
            DONE => Some(TaskEnd::Ran(unsafe { *self.result.get() })),
            CANCELLED => Some(TaskEnd::Cancelled),
            SHUTDOWN => Some(TaskEnd::Shutdown),
            EXPIRED => Some(TaskEnd::Expired),
            _ if self.fork_gen != fork::generation() => Some(TaskEnd::Forked),
            _ => None,
        }
    }

    /// Records that a waiter saw this end, so a later release does not
    /// report it as an unobserved failure.
    pub fn observe(&self, end: TaskEnd) -> TaskEnd {
        if matches!(end, TaskEnd::Ran(c) if c != 0) {
            self.state.fetch_or(OBSERVED, Ordering::Relaxed);
        }
        end
    }

    /// Cancels the task if it has not started: its drop runs here and every
    /// waiter wakes with `Cancelled`.
    pub fn cancel(&self) -> Result<(), CancelError> {
        self.cancel_as(CANCELLED).map(|_| ())
    }

    fn cancel_as(&self, life: u32) -> Result<(), CancelError> {
        match self.leave_queued(CANCELLING) {
            Ok(()) => {
                if let Some(d) = self.drop {
                    // SAFETY: the CAS out of QUEUED makes this the only consumer
                    // of `arg`: `func` will never run.
                    unsafe { d(self.arg) };
                }
                self.finish(life, 0);
                Ok(())
            }
            Err(RUNNING) => Err(CancelError::Running),
            Err(_) => Err(CancelError::Finished),
        }
    }
}

/// The job of a task with a handle; owns the task's `JOB_REF`.
struct TaskJob {
    task: *const Task,
}

impl JobBody for TaskJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        // SAFETY: the job's reference keeps the task alive until released here.
        unsafe {
            let outcome = (*self.task).run_with(|f, arg| crate::job::call_probed(w, f, arg, self.task as usize));
            Task::release_job(self.task);
            outcome
        }
    }

    fn cancel(self) -> Outcome {
        // SAFETY: as in `run`.
        unsafe {
            let outcome = (*self.task).cancel_for_shutdown();
            Task::release_job(self.task);
            outcome
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, loom))]
mod hook_loom_tests;
