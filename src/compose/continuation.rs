//! Continuations: a callback that runs on a task's pool once the task ends,
//! given how it ended (`Future.add_done_callback`, `background.callback`).
//!
//! A continuation is a handle of its own, created queued but with no job.
//! A completion hook on the antecedent (`task.rs`) queues its job once the
//! antecedent ends; attached to a task that already ended, the hook runs at
//! once. The job runs the continuation through `Task::run_with`, so
//! `bg_cancel`, waits and chaining work on it as on any handle. If the pool
//! refuses the job when it falls due (shut down), the continuation ends
//! as a shutdown: its drop runs and its handle reports `Shutdown`.
//!
//! The core stores the continuation's C function as the task's `func` (for
//! failure reports) and calls it through a `ThenCall` supplied by the C
//! layer, which alone knows how a status is passed to C.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::job::{Job, JobBody, Outcome, RawDrop, RawFn};
use crate::lifecycle::Work;
use crate::registry::{Registry, SubmitError};
use crate::task::{Hook, Task, TaskEnd};
use crate::worker::WorkerThread;

/// Calls a continuation's function `func` (as stored in its task) with its
/// `arg` and the antecedent's end; returns the continuation's result code.
pub(crate) type ThenCall = unsafe fn(func: RawFn, arg: *mut c_void, antecedent: TaskEnd) -> c_int;

/// The hook that queues the continuation when the antecedent ends.
#[repr(C)]
struct ThenHook {
    hook: Hook,
    reg: Arc<Registry>,
    /// The continuation; the hook owns its job's reference until it queues the job.
    cont: *const Task,
    call: ThenCall,
}

/// Whether `reg` takes a continuation from this thread now (asked when it
/// is attached; when it falls due, a closed pool ends it as a shutdown).
pub(crate) fn admits(reg: &Registry) -> Result<(), SubmitError> {
    reg.admit(Work::Now).map(drop)
}

/// Attaches a continuation to `ante` on `reg` and returns its handle (one
/// user reference). `func` is only stored: `call` is what invokes it.
///
/// # Safety
/// `ante` must be a live task of `reg`; `func` must be what `call` expects.
pub(crate) unsafe fn then(
    reg: Arc<Registry>,
    ante: &Task,
    func: RawFn,
    call: ThenCall,
    arg: *mut c_void,
    drop: Option<RawDrop>,
) -> *const Task {
    let cont = Task::new_unqueued(func, arg, drop, reg.id, true);
    let hook = Box::into_raw(Box::new(ThenHook { hook: Hook::new(fire), reg, cont, call }));
    ante.add_hook(hook as *mut Hook);
    cont
}

/// The antecedent ended: queue the continuation's job on the pool.
unsafe fn fire(h: *mut Hook, ante: &Task) {
    // SAFETY: `then` made this node a Box<ThenHook> with the Hook first (repr(C)).
    let h = Box::from_raw(h as *mut ThenHook);
    ante.retain(); // for the job, which reads how the antecedent ended
    let job = Job::new(ThenJob { cont: h.cont, ante, call: h.call });
    if let Err((_, job)) = h.reg.submit_accepted(job) {
        // Refused (the pool closed): ends the continuation as a shutdown,
        // whose own hooks run later on this thread, not inside this one.
        job.cancel();
    }
}

/// A continuation that fell due; owns the continuation's `JOB_REF` and a
/// reference to the antecedent, whose end it passes on.
struct ThenJob {
    cont: *const Task,
    ante: *const Task,
    call: ThenCall,
}

impl ThenJob {
    fn release(self) {
        // SAFETY: the job owns both references, dropped once here.
        unsafe {
            Task::release(self.ante);
            Task::release_job(self.cont);
        }
    }
}

impl JobBody for ThenJob {
    fn run(self, _: &WorkerThread) -> Outcome {
        // SAFETY: the job's references keep both tasks alive.
        let outcome = unsafe {
            let ante = &*self.ante;
            (*self.cont).run_with(|func, arg| {
                // The hook fired, so the antecedent has ended.
                let end = ante.end().unwrap_or(TaskEnd::Forked);
                // Handing the status to a continuation counts as observing it.
                (self.call)(func, arg, ante.observe(end))
            })
        };
        self.release();
        outcome
    }

    fn cancel(self) -> Outcome {
        // SAFETY: as in `run`.
        let outcome = unsafe { (*self.cont).cancel_for_shutdown() };
        self.release();
        outcome
    }
}
