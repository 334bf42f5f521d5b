//! What a unit of work is.
//!
//! A [`Job`] is four words stored *by value* in the deques: a function that
//! knows how to execute or cancel it, and three words of data. A
//! fire-and-forget C callback `(fn, arg, drop)` fits inline, so `bg_spawn`
//! allocates nothing; a job with a handle carries a pointer to its
//! [`Task`](crate::task::Task).
//!
//! **Exactly once.** Every `Job` that is created must be consumed exactly
//! once, by [`Job::run`] or by [`Job::cancel`]. Running it calls the user's
//! function; cancelling it calls the user's `drop` instead. Dropping a `Job`
//! without either would leak the user's `arg`, so `Job` has no `Drop` impl
//! and no `Clone`: the queues and the shutdown sweep are the only places that
//! consume jobs, and they consume every one.

use std::ffi::{c_int, c_void};

use crate::worker::WorkerThread;

/// A user callback: its return value is the task's result code (0 = success).
pub type RawFn = unsafe extern "C" fn(arg: *mut c_void) -> c_int;
/// Frees a callback's `arg` when the callback will never run.
pub type RawDrop = unsafe extern "C" fn(arg: *mut c_void);

/// How a job ended, for the pool's statistics.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Outcome {
    /// The callback ran and returned 0.
    Ok,
    /// The callback ran and returned non-zero.
    Failed,
    /// The callback never ran; its drop ran in its place.
    Cancelled,
    /// Nothing ran here: the job's task had already been cancelled elsewhere.
    Skipped,
    /// A job of a composition mechanism (a serial queue's drain, a slice of a
    /// parallel loop): the tasks it runs are counted one by one instead.
    Internal,
}

/// Why a job is being consumed without running.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CancelReason {
    /// Its pool shut down in cancel mode, or was torn down after fork().
    Shutdown,
}

pub(crate) type ExecFn = unsafe fn(JobData, Option<&WorkerThread>) -> Outcome;

#[derive(Clone, Copy)]
pub(crate) struct JobData(pub *mut c_void, pub *mut c_void, pub usize);

pub(crate) struct Job {
    /// Runs the job when given the worker, cancels it when given `None`.
    exec: ExecFn,
    data: JobData,
}

// SAFETY: a job is handed from the submitting thread to exactly one consumer.
// The submitter promised (by calling bg_submit) that `arg` may be used from
// another thread; task pointers are reference-counted and thread-safe.
unsafe impl Send for Job {}

impl Job {
    /// # Safety
    /// `exec` must accept `data` and consume it exactly once per call.
    pub(crate) unsafe fn new(exec: ExecFn, data: JobData) -> Job {
        Job { exec, data }
    }

    /// A fire-and-forget C callback, stored inline.
    pub(crate) fn spawn(f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Job {
        let drop_word = drop.map_or(0, |d| d as usize);
        // SAFETY: exec_spawn decodes exactly the words encoded here.
        unsafe { Job::new(exec_spawn, JobData(f as *mut c_void, arg, drop_word)) }
    }

    pub(crate) fn run(self, worker: &WorkerThread) -> Outcome {
        // SAFETY: consumes the job exactly once (self is moved in).
        unsafe { (self.exec)(self.data, Some(worker)) }
    }

    /// Lets go of a job that was never queued (its submission was refused,
    /// or its owner took it back unrun): neither `fn` nor `drop` runs,
    /// because whoever made the job still owns what it refers to.
    pub(crate) fn abandon(self) {}

    pub(crate) fn cancel(self, _why: CancelReason) -> Outcome {
        // SAFETY: consumes the job exactly once (self is moved in).
        unsafe { (self.exec)(self.data, None) }
    }
}

unsafe fn exec_spawn(d: JobData, worker: Option<&WorkerThread>) -> Outcome {
    // SAFETY: Job::spawn stored a RawFn in word 0 and an optional RawDrop in word 2.
    let f: RawFn = std::mem::transmute::<*mut c_void, RawFn>(d.0);
    let arg = d.1;
    match worker {
        Some(w) => {
            let code = f(arg);
            if code == 0 {
                Outcome::Ok
            } else {
                w.registry().report_failure(crate::error::Failure {
                    func: f as usize,
                    arg: arg as usize,
                    code,
                    kind: crate::error::FailureKind::FireAndForget,
                });
                Outcome::Failed
            }
        }
        None => {
            if d.2 != 0 {
                let drop: RawDrop = std::mem::transmute::<usize, RawDrop>(d.2);
                drop(arg);
            }
            Outcome::Cancelled
        }
    }
}
