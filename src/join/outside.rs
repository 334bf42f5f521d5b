//! `join` from a thread that is none of the pool's workers: the main
//! thread, a task that its waiter runs (caller-runs), any other thread.
//!
//! `b` becomes an ordinary task (one slab slot, no malloc), `a` runs on the
//! caller, and the caller then claims `b` if no worker has started it (the
//! QUEUED -> RUNNING transition a cancel uses) and runs it inline; the
//! queued job finds it taken and is skipped.
//!
//! The task is made only once a worker could take it. While every worker
//! of the pool is busy, `b` waits on this thread's private stack of frames,
//! as on a worker (`worker/join.rs`), and a frame still there when `a`
//! returns runs `b` inline: no task, no atomic operation. A later join on
//! this thread that finds a worker idle submits the waiting frames, oldest
//! (largest) first, and so does a wait of this thread (`flush`). Without
//! this, divide and conquer on such a thread paid a task per join: fib(32)
//! through `bg_join` with its root run by its waiter took 1.4–3× as long
//! as with the root on a worker.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::ptr;

use super::JoinError;
use crate::job::{Outcome, RawFn};
use crate::registry::{Registry, SubmitError};
use crate::task::{Task, TaskEnd};

/// How many enclosing joins a thread keeps `b` private for; deeper ones
/// submit it at once.
const PRIVATE: usize = 64;

/// `b` of a join on this thread, on the caller's stack.
struct Frame {
    /// The join's pool: the caller holds it until the join returns.
    reg: *const Registry,
    f: RawFn,
    arg: *mut c_void,
    /// `b`'s task once submitted; null while private, or if the pool took
    /// no task (full, or shut down meanwhile): then the caller runs `b`.
    task: Cell<*const Task>,
}

/// This thread's private frames: `lo..hi` (modulo `PRIVATE`) are waiting
/// to be submitted, innermost last.
struct Private {
    frames: [Cell<*const Frame>; PRIVATE],
    lo: Cell<usize>,
    hi: Cell<usize>,
}

std::thread_local! {
    static PRIVATE_FRAMES: Private = const {
        Private { frames: [const { Cell::new(ptr::null()) }; PRIVATE], lo: Cell::new(0), hi: Cell::new(0) }
    };
}

/// Runs `a(a_arg)` and `b(b_arg)` on `reg` from outside its workers.
pub(super) fn join(
    reg: &Registry,
    a: RawFn,
    a_arg: *mut c_void,
    b: RawFn,
    b_arg: *mut c_void,
) -> Result<(c_int, c_int), JoinError> {
    // What a submit would refuse, refused before anything runs.
    if reg.is_forked() {
        return Err(JoinError::Refused(SubmitError::Forked));
    }
    if !reg.is_open() {
        return Err(JoinError::Refused(SubmitError::Shutdown));
    }
    let frame = Frame { reg, f: b, arg: b_arg, task: Cell::new(ptr::null()) };
    let idle = !reg.sleep.all_busy();
    let kept = PRIVATE_FRAMES.with(|p| {
        if idle {
            flush(p);
            return false;
        }
        let hi = p.hi.get();
        if hi - p.lo.get() == PRIVATE {
            return false;
        }
        p.frames[hi % PRIVATE].set(&frame);
        p.hi.set(hi + 1);
        true
    });
    if !kept {
        match reg.submit_fn(b, b_arg, None) {
            Ok(t) => frame.task.set(t),
            Err(SubmitError::Full) => {} // no room: `b` runs here after `a`
            Err(e) => return Err(JoinError::Refused(e)),
        }
    }
    // SAFETY: the user's function with the user's arg, as joined.
    let ra = unsafe { a(a_arg) };
    PRIVATE_FRAMES.with(|p| {
        // Still private: the innermost, as every join inside `a` has returned.
        let hi = p.hi.get();
        if hi > p.lo.get() && ptr::eq(p.frames[(hi - 1) % PRIVATE].get(), &frame) {
            p.hi.set(hi - 1);
        }
    });
    let t = frame.task.get();
    if t.is_null() {
        // SAFETY: as above; nobody else has seen `b`.
        return Ok((ra, unsafe { b(b_arg) }));
    }
    Ok((ra, finish(reg, t, b, b_arg)?))
}

/// Submits this thread's private frames, oldest first: a worker is idle,
/// or this thread is about to wait.
pub(crate) fn flush_outside() {
    let _ = PRIVATE_FRAMES.try_with(|p| {
        if p.lo.get() != p.hi.get() {
            flush(p);
        }
    });
}

fn flush(p: &Private) {
    let (lo, hi) = (p.lo.get(), p.hi.get());
    p.lo.set(hi);
    for i in lo..hi {
        // SAFETY: a listed frame lives on this thread's stack until its join
        // takes it back or finds it submitted, neither of which has happened.
        let frame = unsafe { &*p.frames[i % PRIVATE].get() };
        // SAFETY: the frame's join holds its pool until it returns.
        let reg = unsafe { &*frame.reg };
        // Refused (full, or shut down meanwhile): `b` stays its caller's to run.
        if let Ok(t) = reg.submit_fn(frame.f, frame.arg, None) {
            frame.task.set(t);
        }
    }
}

/// `b`'s end once `a` has returned: run here if no worker has started it,
/// else waited for. Releases the task.
fn finish(reg: &Registry, t: *const Task, b: RawFn, b_arg: *mut c_void) -> Result<c_int, JoinError> {
    // SAFETY: submit_fn gave us one reference, released below.
    let task = unsafe { &*t };
    // If no worker started `b`, run it here: the queued job will be skipped.
    // SAFETY: the user's function with the user's arg, as joined.
    let outcome = task.run_with(|f, arg| unsafe { f(arg) });
    if matches!(outcome, Outcome::Ok | Outcome::Failed) {
        crate::task::count_ran(reg, outcome);
    }
    let end = task.wait_unchecked(None, true);
    let rb = match end {
        Some(TaskEnd::Ran(code)) => Ok(code),
        // A cancel shutdown dropped the task unrun (it has no drop): `b` is
        // still owed a run, and the caller is the one waiting for it.
        // SAFETY: as above; the task will never run `b`.
        Some(TaskEnd::Shutdown) | Some(TaskEnd::Cancelled) | Some(TaskEnd::Expired) => Ok(unsafe { b(b_arg) }),
        Some(TaskEnd::Forked) | None => Err(JoinError::Forked),
    };
    if let Some(e) = end {
        task.observe(e); // the code goes to the caller, not the error handler
    }
    // SAFETY: our reference from submit_fn.
    unsafe { Task::release(t) };
    rb
}
