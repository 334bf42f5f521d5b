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

use crate::job::{Job, JobBody, Outcome, RawDrop, RawFn};
use crate::sync::now_ns;
use crate::task::Task;
use crate::worker::WorkerThread;

/// The job of a task with a start deadline; owns the task's job reference.
struct DeadlineJob {
    task: *const Task,
    /// CLOCK_MONOTONIC ns: taken later than this, the task expires.
    deadline: u64,
}

impl JobBody for DeadlineJob {
    fn run(self, _: &WorkerThread) -> Outcome {
        // SAFETY: the job's reference keeps the task alive until released here.
        unsafe {
            let t = &*self.task;
            let outcome = if now_ns() > self.deadline { t.expire() } else { t.run_with(|f, arg| f(arg)) };
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

/// A task (one user reference) and its job, which runs `f(arg)` only if a
/// worker takes it by `deadline` (CLOCK_MONOTONIC ns). The pair is used
/// like `Task::new`'s (`discard_unsubmitted` undoes it).
pub(crate) fn task_with_deadline(
    f: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
    pool_id: u64,
    deadline: u64,
) -> (*const Task, Job) {
    let task = Task::new_unqueued(f, arg, drop, pool_id, true);
    (task, Job::new(DeadlineJob { task, deadline }))
}
