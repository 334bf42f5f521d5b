//! Composition: the ways people combine background work, built from the
//! core's jobs, handles and completion hooks (`task.rs`). One mechanism per
//! file; the C ABI for all of them is `capi/compose/`, split the same way.
//!
//! | file | mechanism |
//! |---|---|
//! | `continuation.rs` | a callback that runs on the pool once a task ends |
//! | `group.rs` | many tasks waited for, failed and cancelled together |
//! | `serial.rs` | serial queues: one task at a time, in submission order |
//! | `lanes.rs` | keyed lanes: a serial queue per busy key, none per idle key |
//! | `limit.rs` | limiters: at most N tasks of a set run at once, in submission order |
//! | `batch.rs` | tasks collected now, run later in order as one unit |
//! | `timer.rs` | delayed tasks: one timer thread per pool |
//! | `parallel_for.rs` | a range split recursively over the work-stealing deques |
//! | `completion.rs` | completion queues: finished records behind an eventfd |
//!
//! Every mechanism keeps the core's contract: each accepted task runs
//! exactly once, or its drop runs exactly once and its handle reports why.

pub(crate) mod batch;
pub(crate) mod completion;
pub(crate) mod continuation;
pub(crate) mod group;
pub(crate) mod lanes;
pub(crate) mod limit;
pub(crate) mod parallel_for;
pub(crate) mod serial;
pub(crate) mod timer;

use std::ffi::c_void;
use std::ptr;

use crate::job::{Job, RawDrop, RawFn};
use crate::registry::{Extension, Registry};
use crate::task::Task;

/// Locks a mutex, ignoring poisoning (as `sync::lock`). Composition uses
/// std's mutexes even under `--cfg loom`: it is not part of the models.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What composition keeps per pool: the registry holds it as its
/// `Extension`, created on first use, and closes it at shutdown.
pub(crate) struct PoolExt {
    pub(crate) lanes: lanes::Lanes,
    pub(crate) timer: timer::TimerSlot,
}

impl Extension for PoolExt {
    /// The pool is shutting down: stop the timer and drop what it holds.
    fn close(&self) {
        self.timer.close();
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Composition's state for `reg`.
pub(crate) fn ext(reg: &Registry) -> &PoolExt {
    reg.extension(|| PoolExt { lanes: lanes::Lanes::new(), timer: timer::TimerSlot::new() })
}

/// A user callback made into a job, with a handle if one was asked for.
pub(crate) struct UserJob {
    /// The handle (one user reference), or null for fire-and-forget.
    pub(crate) task: *const Task,
    pub(crate) job: Job,
}

impl UserJob {
    pub(crate) fn new(reg: &Registry, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>, handle: bool) -> UserJob {
        // The registry's makers: timed and hooked when the pool observes its tasks.
        if handle {
            let (task, job) = reg.task_job(f, arg, drop);
            UserJob { task, job }
        } else {
            UserJob { task: ptr::null(), job: reg.spawn_job(f, arg, drop) }
        }
    }

    /// Undoes `new` after a refusal: neither `fn` nor `drop` runs, `arg`
    /// stays the caller's.
    pub(crate) fn refuse(task: *const Task, job: Job) {
        if task.is_null() {
            job.abandon(); // an inline spawn job owns nothing but the caller's arg
        } else {
            // SAFETY: the pair came from Task::new in `new` and was never queued.
            unsafe { Task::discard_unsubmitted(task, job) };
        }
    }
}
