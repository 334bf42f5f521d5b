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
//! although the thread is not one of its workers.

use std::cell::Cell;

use super::{Task, CALLER_RUNS, QUEUED};
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

impl Task {
    /// Marks a task just made by a plain submit to `reg` as claimable by
    /// waiters, if `reg` allows it: not if its workers set up per-thread
    /// state (thread hooks), nor if its tasks are timed or hooked.
    ///
    /// # Safety
    /// `t` is fresh from `Task::new` and not yet shared (its job not queued).
    #[inline]
    pub(crate) unsafe fn allow_caller_runs(reg: &Registry, t: *const Task) {
        if reg.config.on_thread_start.is_some() || reg.config.on_thread_stop.is_some() || reg.is_timed() {
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
            && WorkerThread::current().is_none()
            && INLINE_POOL.with(|p| p.get().is_null())
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
        INLINE_POOL.with(|p| p.set(reg));
        let mut ran = false;
        self.run_with(|f, arg| {
            ran = true;
            // SAFETY: the user's function with the user's arg, as submitted.
            unsafe { f(arg) }
        });
        INLINE_POOL.with(|p| p.set(std::ptr::null()));
        ran
    }
}
