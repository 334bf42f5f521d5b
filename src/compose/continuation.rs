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

use crate::job::{CancelReason, Job, JobData, Outcome, RawDrop, RawFn};
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
    let data = JobData(h.cont as *mut c_void, ante as *const Task as *mut c_void, h.call as usize);
    // SAFETY: exec_then decodes these words and consumes both references.
    let job = Job::new(exec_then, data);
    if let Err((_, job)) = h.reg.submit_accepted(job) {
        job.cancel(CancelReason::Shutdown);
    }
}

/// Runs the continuation (or, given no worker, ends it as a shutdown).
unsafe fn exec_then(d: JobData, worker: Option<&WorkerThread>) -> Outcome {
    let cont = d.0 as *const Task;
    let ante = d.1 as *const Task;
    // SAFETY: `fire` stored a ThenCall in word 2.
    let call = std::mem::transmute::<usize, ThenCall>(d.2);
    let outcome = match worker {
        Some(_) => (*cont).run_with(|func, arg| {
            // The hook fired, so the antecedent has ended.
            let end = (*ante).end().unwrap_or(TaskEnd::Forked);
            // Handing the status to a continuation counts as observing it.
            call(func, arg, (*ante).observe(end))
        }),
        None => (*cont).cancel_for_shutdown(),
    };
    Task::release(ante);
    Task::release_job(cont);
    outcome
}
