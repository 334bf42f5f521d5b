//! Caller-runs: a thread outside every pool that waits for a task still
//! queued, and asked to (`BG_WAIT_RUN_HERE`, a group's `BG_GROUP_CALLER_RUNS`;
//! it changes which thread the task sees), runs it itself (TBB's waiting
//! threads, GLib's "run in caller"),
//! instead of sleeping until a worker wakes, takes it, runs it and wakes
//! the waiter: two wake-ups saved per wait.
//!
//! The claim is the QUEUED -> RUNNING transition a worker's own run and a
//! cancel use: exactly one of them wins, and the task's job, still in its
//! queue, is skipped when a worker pops it. Only tasks whose job is the
//! plain task job may be claimed (a serial queue's item, a continuation or
//! a limiter's task must start when its mechanism says, not when waited
//! for): the submitter marks them (`allow_caller_runs`), and only for pools
//! with no thread hooks (whose tasks may rely on what the hooks set up per
//! worker) and no task timing or task hooks (which a claimed run would
//! bypass). A paused pool, or one cancelling its queue, is not run from.
//!
//! While it runs there, the task sees its pool as its own: `Pool::current`
//! and the ambient pool of `bg_submit` are the task's pool (`inline_pool`),
//! although the thread is not one of its workers. It is counted in the
//! pool's statistics as it ends, by the thread that ran it (`count_ran`).

use std::cell::Cell;

use super::{Task, TaskJob, CALLER_RUNS, QUEUED};
use crate::job::{Job, Outcome};
use crate::registry::Registry;
use crate::sync::Ordering;
use crate::worker::WorkerThread;

std::thread_local! {
    /// The pool of the task this (non-worker) thread is running for its waiter.
    static INLINE_POOL: Cell<*const Registry> = const { Cell::new(std::ptr::null()) };
}

/// The pool of the task a waiting thread is running in its place, if any.
pub(crate) fn inline_pool() -> Option<&'static Registry> {
    // SAFETY: set only while `run_here` holds a reference to the registry,
    // and read only on this thread, by the task it runs (which may not keep it).
    unsafe { INLINE_POOL.with(|p| p.get()).as_ref() }
}

/// Whether threads outside `reg` may run its tasks: not if its workers set
/// up per-thread state (thread hooks), nor if its tasks are timed or hooked.
pub(crate) fn caller_runs_allowed(reg: &Registry) -> bool {
    reg.config.on_thread_start.is_none() && reg.config.on_thread_stop.is_none() && !reg.is_timed()
}

/// Whether this thread may run queued tasks of a pool in place of a
/// worker: it is no pool's worker, and not already running one so.
pub(crate) fn may_run_inline() -> bool {
    WorkerThread::current().is_none() && INLINE_POOL.with(|p| p.get().is_null())
}

/// Counts a task of `reg` that this thread ran in place of a worker (its
/// queued copy, which a worker meets later, is not counted): at once, so
/// that its waiter sees it in the pool's statistics.
pub(crate) fn count_ran(reg: &Registry, outcome: Outcome) {
    reg.count_outside(if outcome == Outcome::Failed { [0, 1, 0] } else { [1, 0, 0] });
}

/// Runs `f` (a task of `reg` that this thread runs in place of a worker)
/// with `reg` as this thread's pool (see `inline_pool`).
pub(crate) fn run_inline<R>(reg: &Registry, f: impl FnOnce() -> R) -> R {
    // What this thread's joins hold back goes to the workers first, as a
    // worker's wait offers it before it helps (join/outside.rs).
    crate::join::flush_outside();
    INLINE_POOL.with(|p| p.set(reg));
    let r = f();
    INLINE_POOL.with(|p| p.set(std::ptr::null()));
    r
}

impl Task {
    /// Marks a task just made by a plain submit to `reg` as claimable by
    /// waiters, if `reg` allows it: not if its workers set up per-thread
    /// state (thread hooks), nor if its tasks are timed or hooked.
    ///
    /// # Safety
    /// `t` is fresh from `Task::new` and not yet shared (its job not queued).
    #[inline]
    pub(crate) unsafe fn allow_caller_runs(reg: &Registry, t: *const Task) {
        if !caller_runs_allowed(reg) {
            return;
        }
        // SAFETY: the caller's promise: nobody else can see the task yet.
        unsafe { (*(t as *mut Task)).pool_id |= CALLER_RUNS };
    }

    /// Whether this thread could claim the task if it is still queued
    /// (cheap: no lookup of the pool).
    fn may_run_here(&self) -> bool {
        self.pool_id & CALLER_RUNS != 0
            && self.state.load(Ordering::Relaxed) & super::LIFE == QUEUED
            && may_run_inline()
    }

    /// Runs the task on this thread if it is still queued and may be
    /// claimed (see the module docs); true if this call ran it.
    pub(crate) fn run_here(&self) -> bool {
        if !self.may_run_here() {
            return false;
        }
        match crate::registry::by_id(self.pool_id()) {
            Some(reg) => self.run_here_in(&reg),
            None => false,
        }
    }

    /// `run_here` for a caller that holds the task's pool.
    pub(crate) fn run_here_in(&self, reg: &Registry) -> bool {
        if !self.may_run_here() || reg.is_forked() || reg.life.is_paused() || reg.is_cancelling() {
            return false;
        }
        let mut ran = false;
        let outcome = run_inline(reg, || {
            self.run_with(|f, arg| {
                ran = true;
                // SAFETY: the user's function with the user's arg, as submitted.
                unsafe { f(arg) }
            })
        });
        if ran {
            count_ran(reg, outcome);
        }
        ran
    }

    /// `run_here_in` for the job of a task (a group's member) that this
    /// thread took off a queue, so owns: runs the task if it may, and lets
    /// go of the job's reference without the cancel a worker's pop of a
    /// claimed task's job would try. The outcome is what the job's run on
    /// a worker would have counted. The job comes back if its task is still
    /// queued and may not run here (a timed pool's, or one paused
    /// meanwhile), for a worker.
    pub(crate) fn run_job_here(job: Job, reg: &Registry) -> Result<Outcome, Job> {
        let Some(&TaskJob { task }) = job.peek::<TaskJob>() else { return Err(job) };
        // SAFETY: the job holds a reference to its task.
        let t = unsafe { &*task };
        let ran = t.run_here_in(reg);
        if !ran && t.is_queued() {
            return Err(job);
        }
        let outcome = match t.end() {
            // Ran here, or runs or ran for another waiter: counted there.
            None | Some(super::TaskEnd::Ran(_)) => Outcome::Internal,
            // Cancelled: its job, abandoned here, is not counted by a worker.
            Some(_) => Outcome::Skipped,
        };
        job.abandon();
        // SAFETY: the job was consumed here without running: its reference is ours to drop.
        unsafe { Task::release_job(task) };
        Ok(outcome)
    }
}
