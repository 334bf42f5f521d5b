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
//! The continuation's function is typed by the layer that attaches it (a
//! `ThenCall`: the C layer alone knows how a status is passed to C); its
//! task's `func` only names it in failure reports and is never called.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::default_pool;
use crate::job::{call_probed_with, Job, JobBody, Outcome, RawDrop, RawFn};
use crate::lifecycle::Work;
use crate::observe::{observe_call, Observed, Timed};
use crate::registry::{self, Registry, SubmitError};
use crate::task::{Hook, Task, TaskEnd};
use crate::worker::WorkerThread;

/// A continuation's function, with the argument passing of the layer that
/// attached it.
pub(crate) trait ThenCall: Copy + Send + 'static {
    /// Calls it with its `arg` and how the antecedent ended; returns the
    /// continuation's result code.
    ///
    /// # Safety
    /// As calling the function: `arg` is the one it was attached with,
    /// passed once.
    unsafe fn call(self, arg: *mut c_void, antecedent: TaskEnd) -> c_int;
}

/// The hook that queues the continuation when the antecedent ends.
#[repr(C)]
struct ThenHook<C: ThenCall> {
    hook: Hook,
    reg: Arc<Registry>,
    /// The continuation; the hook owns its job's reference until it queues the job.
    cont: *const Task,
    call: C,
}

/// The pool `t` was submitted to, while it exists. Inside a task of that
/// pool (the common case: chaining from a running task), or on the default
/// pool, no global lookup: the worker or the default pool holds it.
fn pool_of(t: &Task) -> Option<Arc<Registry>> {
    let id = t.pool_id();
    if let Some(w) = WorkerThread::current().filter(|w| w.registry().id == id) {
        return Some(Arc::clone(w.registry_arc()));
    }
    if let Some(p) = default_pool::get_if_started().filter(|p| p.registry().id == id) {
        return Some(Arc::clone(p.registry()));
    }
    registry::by_id(id)
}

/// Attaches a continuation `call(arg, end)` to `ante`, on `ante`'s pool,
/// and returns its handle (one user reference). `report` names it in
/// failure reports. Refused (nothing attached, `arg` still the caller's)
/// if that pool is gone or does not take work from this thread now (asked
/// here; when it falls due, a closed pool ends it as a shutdown).
///
/// # Safety
/// `ante` must be a live task.
pub(crate) unsafe fn then<C: ThenCall>(
    ante: &Task,
    call: C,
    report: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
) -> Result<*const Task, SubmitError> {
    let reg = pool_of(ante).ok_or(SubmitError::Shutdown)?;
    reg.admit(Work::Now).map(std::mem::drop)?;
    let cont = Task::new_unqueued(report, arg, drop, reg.id, true);
    let hook = Box::into_raw(Box::new(ThenHook { hook: Hook::new(fire::<C>), reg, cont, call }));
    // SAFETY: the hook is fresh and attached once; `fire` consumes it.
    unsafe { ante.add_hook(hook as *mut Hook) };
    Ok(cont)
}

/// The antecedent ended: queue the continuation's job on the pool.
unsafe fn fire<C: ThenCall>(h: *mut Hook, ante: &Task) {
    // SAFETY: `then` made this node a Box<ThenHook<C>> with the Hook first (repr(C)).
    let h = unsafe { Box::from_raw(h as *mut ThenHook<C>) };
    ante.retain(); // for the job, which reads how the antecedent ended
    let body = ThenJob { cont: h.cont, ante, call: h.call };
    // Falling due is its submission: a pool that observes its tasks times it from here.
    let job = if h.reg.is_timed() { Job::new(Timed::now(Box::new(body))) } else { Job::new(body) };
    if let Err((_, job)) = h.reg.submit_accepted(job) {
        // Refused (the pool closed): ends the continuation as a shutdown,
        // whose own hooks run later on this thread, not inside this one.
        job.cancel();
    }
}

/// A continuation that fell due; owns the continuation's `JOB_REF` and a
/// reference to the antecedent, whose end it passes on.
struct ThenJob<C: ThenCall> {
    cont: *const Task,
    ante: *const Task,
    call: C,
}

impl<C: ThenCall> ThenJob<C> {
    fn release(self) {
        // SAFETY: the job owns both references, dropped once here.
        unsafe {
            Task::release(self.ante);
            Task::release_job(self.cont);
        }
    }
}

impl<C: ThenCall> ThenJob<C> {
    /// Runs the continuation on `w`, observed as submitted at `at` if not 0.
    fn run_on(self, w: &WorkerThread, at: u64) -> Outcome {
        // SAFETY: the job's references keep both tasks alive.
        let outcome = unsafe {
            let ante = &*self.ante;
            (*self.cont).run_with(|report, arg| {
                let call = || {
                    // The hook fired, so the antecedent has ended.
                    let end = ante.end().unwrap_or(TaskEnd::Forked);
                    // Handing the status to a continuation counts as observing it.
                    self.call.call(arg, ante.observe(end))
                };
                // Hooks and probes name it by `report`, as failure reports do.
                if at != 0 {
                    observe_call(w, report, arg, self.cont, at, call)
                } else {
                    call_probed_with(w, report, arg, self.cont as usize, call)
                }
            })
        };
        self.release();
        outcome
    }
}

impl<C: ThenCall> Observed for Box<ThenJob<C>> {
    fn run_observed(self, w: &WorkerThread, at: u64) -> Outcome {
        (*self).run_on(w, at.max(1))
    }

    fn cancel(self) -> Outcome {
        JobBody::cancel(*self)
    }
}

impl<C: ThenCall> JobBody for ThenJob<C> {
    fn run(self, w: &WorkerThread) -> Outcome {
        self.run_on(w, 0)
    }

    fn cancel(self) -> Outcome {
        // SAFETY: as in `run`.
        let outcome = unsafe { (*self.cont).cancel_for_shutdown() };
        self.release();
        outcome
    }
}
