//! Start deadlines: a task that no worker takes by its deadline never runs.
//!
//! The deadline travels in the job, not in the task (a `Task` is one full
//! cache line): a task with a deadline is queued as a `DeadlineJob`, its own
//! job kind, which compares the clock with the deadline when a worker takes
//! it. Late, the task ends as `Expired` through the same one CAS out of
//! QUEUED as a cancel, so a deadline racing a worker's take, a `bg_cancel`
//! or a shutdown still ends the task exactly once. Wherever the job waits
//! first (a serial queue, a keyed lane, a limiter, the delay timer, a
//! priority queue) the check is made when a worker finally takes it.

use std::ffi::c_void;

use crate::job::{call_probed, Job, JobBody, Outcome, RawDrop, RawFn};
use crate::observe::call_observed;
use crate::registry::Registry;
use crate::sync::now_ns;
use crate::task::Task;
use crate::worker::WorkerThread;

/// The job of a task with a start deadline; owns the task's job reference.
struct DeadlineJob {
    task: *const Task,
    /// CLOCK_MONOTONIC ns: taken later than this, the task expires.
    deadline: u64,
    /// When it was submitted, if its pool observes its tasks (0: it does not).
    at: u64,
}

impl JobBody for DeadlineJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        // SAFETY: the job's reference keeps the task alive until released here.
        unsafe {
            let t = &*self.task;
            let outcome = if now_ns() > self.deadline {
                t.expire()
            } else if self.at != 0 {
                t.run_with(|f, arg| call_observed(w, f, arg, self.task, self.at))
            } else {
                t.run_with(|f, arg| call_probed(w, f, arg, self.task as usize))
            };
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

/// A task (one user reference) and its job for `reg`, which runs `f(arg)`
/// only if a worker takes it by `deadline` (CLOCK_MONOTONIC ns). The pair is
/// used like `Task::new`'s (`discard_unsubmitted` undoes it).
pub(crate) fn task_with_deadline(
    reg: &Registry,
    f: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
    deadline: u64,
) -> (*const Task, Job) {
    let task = Task::new_unqueued(f, arg, drop, reg.id, true);
    let at = if reg.is_timed() { now_ns().max(1) } else { 0 };
    (task, Job::new(DeadlineJob { task, deadline, at }))
}
