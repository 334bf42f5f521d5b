//! A task's references (see "Ownership" in `task.rs`): retain, release,
//! and the release that frees it and reports an unobserved failure.

use super::{Task, DEAD, DONE, JOB_REF, LIFE, OBSERVED};
use crate::error::{Failure, FailureKind};
use crate::sync::Ordering;

/// A release by a caller that held no reference (see `Task::release_checked`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OverRelease;

impl Task {
    /// Adds a user reference.
    pub fn retain(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }

    /// Drops one user reference; the last reference frees the task.
    ///
    /// # Safety
    /// `t` must be a live task and the caller must own the reference it drops.
    pub unsafe fn release(t: *const Task) {
        // SAFETY: the caller's promise.
        unsafe { Task::drop_refs(t, 1) }
    }

    /// `release` for a caller that may be wrong about owning a reference (a
    /// C user): refused if no user reference is left, which would otherwise
    /// free the task under its queued job.
    ///
    /// # Safety
    /// `t` must be a live task.
    pub unsafe fn release_checked(t: *const Task) -> Result<(), OverRelease> {
        // SAFETY: `t` is live (the caller's promise)...
        if unsafe { (*t).refs.load(Ordering::Relaxed) } & !JOB_REF == 0 {
            return Err(OverRelease);
        }
        // SAFETY: ...and holds a user reference, which is the caller's to drop.
        unsafe { Task::drop_refs(t, 1) };
        Ok(())
    }

    /// Drops the user reference of a task nobody else can see yet (a
    /// member whose submitter wants no handle): its job's keeps it alive.
    ///
    /// # Safety
    /// `t` is fresh from `Task::new` and not yet shared (its job not queued).
    pub(crate) unsafe fn drop_user_ref_unshared(t: *const Task) {
        // SAFETY: the caller's promise: only this thread can see the count.
        unsafe { (*t).refs.store(JOB_REF, Ordering::Relaxed) };
    }

    /// Drops the job's reference, once the job is consumed.
    ///
    /// # Safety
    /// `t` must be a live task whose job (or hook) held `JOB_REF` until now.
    pub(crate) unsafe fn release_job(t: *const Task) {
        // SAFETY: the caller's promise.
        unsafe { Task::drop_refs(t, JOB_REF) }
    }

    /// # Safety
    /// `t` must be a live task on which the caller owns the references `n`.
    unsafe fn drop_refs(t: *const Task, n: u32) {
        // Holding the only reference, nobody else can change the count: a
        // load does (its acquire pairs with every earlier release's), and a
        // waiter releasing what it waited for skips a locked instruction,
        // which would also hold back its next handle's cache miss (the wait
        // loop of bench/ went from 25 to 18 ns a handle).
        // SAFETY: `t` is live until the last of its references is dropped.
        let task = unsafe { &*t };
        if task.refs.load(Ordering::Acquire) != n {
            if task.refs.fetch_sub(n, Ordering::Release) != n {
                return;
            }
            crate::sync::fence(Ordering::Acquire);
        }
        // We dropped the last reference: the task is ours alone.
        let s = task.state.load(Ordering::Relaxed);
        // SAFETY: `result` was written before the release that made the state
        // terminal, and nobody else holds the task now.
        let result = unsafe { *task.result.get() };
        if s & LIFE == DONE && result != 0 && s & OBSERVED == 0 {
            crate::registry::report_by_id(
                task.pool_id(),
                Failure {
                    func: task.func as usize,
                    arg: task.arg as usize,
                    code: result,
                    kind: FailureKind::Unobserved,
                },
            );
        }
        task.state.store(DEAD, Ordering::Relaxed);
        // SAFETY: no reference is left: the slab slot is dropped and freed once.
        unsafe {
            std::ptr::drop_in_place(t as *mut Task);
            crate::slab::free_slot(t as *mut Task);
        }
    }
}
