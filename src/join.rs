//! Fork-join: `join(a, b)` runs `a` and `b`, possibly in parallel, and
//! returns when both have (rayon's `join_context`).
//!
//! On a worker of the pool nothing is allocated: `b` is a [`JoinFrame`] on
//! the caller's stack, offered to thieves as a job pointing at it (the
//! `StackJob` kind below) on the caller's own deque. The caller runs `a`,
//! then pops its deque: if `b` is still there it runs it inline (the usual
//! case: one push, one pop, no other thread involved), otherwise a thief
//! has it, and the caller runs other work of the pool until the thief sets
//! the frame's latch (`worker/join.rs`). The frame outlives its job: the
//! caller does not return before the latch is set, and whoever sets it
//! touches the frame no more afterwards (it reads what it needs first).
//!
//! While every worker of the pool is busy (none searching, none asleep),
//! nobody could take `b` anyway, and offering it costs the deque's fences
//! (a pop's store-load fence is a third of a join). So `b` is first kept
//! on the worker's private stack of frames (`worker/join.rs`), which no
//! other thread reads: a join then costs no atomic read-modify-write and no
//! fence. The frames go to the deque, oldest first, at the worker's next
//! join once some worker searches or sleeps, and before the worker waits
//! or says it will block (`flush_private`). Lazy publication, as the
//! heartbeat schedulers (spice, chili) do with a timer; here the idle
//! workers' count is the signal. A `b` that waits on `a` (or `a` on `b`)
//! may therefore deadlock, as it may on a one-thread pool.
//!
//! From any other thread `b` is submitted as an ordinary task (one slab
//! slot, no malloc) once a worker could take it (`join/outside.rs`).
//!
//! `b` runs exactly once, whatever happens to the pool meanwhile: a shutdown
//! in cancel mode does not cancel it (the caller is waiting for it, so it is
//! running work, not queued work); a job of `b` that a shutdown would cancel
//! runs `b` instead, and a task of `b` that a shutdown cancelled is run by
//! the caller.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};

use crate::job::{Job, JobBody, Outcome, RawFn};
use crate::registry::{Registry, SubmitError};
use crate::sleep::Parker;
use crate::sync::{AtomicU32, Ordering};
use crate::worker::WorkerThread;

mod outside;
pub(crate) use outside::flush_outside;

/// Why a join did not run both functions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum JoinError {
    /// The pool took nothing from this thread: neither function ran.
    Refused(SubmitError),
    /// `a` ran, but `b`'s task belongs to the parent of this forked process.
    Forked,
    /// The default pool could not start: nothing ran.
    NoPool,
}

/// The latch's states: the owner sleeps only after moving UNSET to SLEEPING,
/// and the setter wakes it only if its swap to SET returned SLEEPING.
pub(crate) const UNSET: u32 = 0;
pub(crate) const SLEEPING: u32 = 1;
pub(crate) const SET: u32 = 2;

/// `b` of a join on a worker, on the caller's stack.
pub(crate) struct JoinFrame {
    f: RawFn,
    arg: *mut c_void,
    result: UnsafeCell<c_int>,
    pub(crate) latch: AtomicU32,
    /// The parker of the worker that waits (in its pool's slot, which
    /// outlives the pool's threads).
    owner: *const Parker,
    /// On the deque (true) or still on the owner's private stack. Only
    /// the owner reads or writes it.
    pub(crate) published: Cell<bool>,
}

impl JoinFrame {
    /// `b(arg)`, to be awaited by the worker parked on `owner`.
    #[inline(always)]
    pub(crate) fn new(f: RawFn, arg: *mut c_void, owner: *const Parker) -> JoinFrame {
        JoinFrame {
            f,
            arg,
            result: UnsafeCell::new(0),
            latch: AtomicU32::new(UNSET),
            owner,
            published: Cell::new(false),
        }
    }

    /// `b`'s job, pointing at this frame, which must outlive it (see the module docs).
    #[inline(always)]
    pub(crate) fn job(&self) -> Job {
        Job::new(StackJob { frame: self })
    }

    /// `b`'s result, once the latch is set.
    #[inline(always)]
    pub(crate) fn result(&self) -> c_int {
        debug_assert!(self.is_set());
        // SAFETY: the latch is set (acquire): `result` was written before it.
        unsafe { *self.result.get() }
    }

    /// Runs `b` (on whichever thread took its job) and sets the latch.
    fn run_b(&self, call: impl FnOnce(RawFn, *mut c_void) -> c_int) {
        let code = call(self.f, self.arg);
        // SAFETY: only the one consumer of the job writes `result`, before the
        // release swap that lets the owner read it.
        unsafe { *self.result.get() = code };
        let owner = self.owner; // read before the swap: the frame may go then
        if self.latch.swap(SET, Ordering::AcqRel) == SLEEPING {
            // SAFETY: the parker lives in the pool's slot; the owner is a
            // worker of that pool, blocked until now, so the pool is alive.
            unsafe { (*owner).unpark() };
        }
    }

    /// True if `job` is this frame's `b`.
    #[inline]
    pub(crate) fn is_own(&self, job: &Job) -> bool {
        job.peek::<StackJob>().is_some_and(|s| std::ptr::eq(s.frame, self))
    }

    /// Runs `b` on the caller, which popped `b`'s job back (and abandons
    /// it): nobody else has seen the frame, so no atomic exchange and no
    /// wake-up.
    #[inline]
    pub(crate) fn run_inline(&self) {
        // SAFETY: the user's function with the user's arg, as joined; and
        // `result` is the owner's alone until the latch is set.
        unsafe { *self.result.get() = (self.f)(self.arg) };
        self.latch.store(SET, Ordering::Relaxed);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.latch.load(Ordering::Acquire) == SET
    }
}

/// The job kind of `b` on a worker's deque: a pointer to its frame.
pub(crate) struct StackJob {
    frame: *const JoinFrame,
}

impl JobBody for StackJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        // SAFETY: the frame lives until its latch is set, which happens last.
        let frame = unsafe { &*self.frame };
        frame.run_b(|f, arg| crate::job::call_probed(w, f, arg, 0));
        // Counted with the task that called join, not as a task of its own.
        Outcome::Internal
    }

    /// `b` is awaited by a running task: a shutdown does not cancel it.
    fn cancel(self) -> Outcome {
        // SAFETY: as in `run`.
        let frame = unsafe { &*self.frame };
        // SAFETY: the user's function with the user's arg, as joined.
        frame.run_b(|f, arg| unsafe { f(arg) });
        Outcome::Internal
    }
}

/// Runs `a(a_arg)` and `b(b_arg)` on `reg`, possibly in parallel; returns
/// both result codes.
pub(crate) fn join(
    reg: &Registry,
    a: RawFn,
    a_arg: *mut c_void,
    b: RawFn,
    b_arg: *mut c_void,
) -> Result<(c_int, c_int), JoinError> {
    match WorkerThread::current_of(reg) {
        Some(w) => Ok(join_on_worker(w, a, a_arg, b, b_arg)),
        _ => outside::join(reg, a, a_arg, b, b_arg),
    }
}

/// `join` on the pool of the calling worker, or on the default pool
/// outside a task (`bg_join`; a task run by its waiter joins on its own
/// pool): the worker is looked up once.
pub(crate) fn join_ambient(
    a: RawFn,
    a_arg: *mut c_void,
    b: RawFn,
    b_arg: *mut c_void,
) -> Result<(c_int, c_int), JoinError> {
    match WorkerThread::current() {
        Some(w) => Ok(join_on_worker(w, a, a_arg, b, b_arg)),
        None => {
            // The default pool, or the pool of the task this thread runs
            // for its waiter (caller-runs), as bg_submit's.
            let reg = crate::default_pool::ambient().map_err(|_| JoinError::NoPool)?;
            outside::join(reg, a, a_arg, b, b_arg)
        }
    }
}

#[inline(always)]
fn join_on_worker(w: &WorkerThread, a: RawFn, a_arg: *mut c_void, b: RawFn, b_arg: *mut c_void) -> (c_int, c_int) {
    w.join(a, a_arg, b, b_arg)
}
