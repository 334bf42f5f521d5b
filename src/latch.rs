//! How the end of work that is not one task is signalled: the last member
//! of a group, the last chunk of a parallel loop (rayon-core's `latch.rs`).
//!
//! A [`Latch`] is set once and waited for by any number of threads, with a
//! deadline; a waiting worker runs other work meanwhile. It is built on a
//! task that has no job (set = the task ends with result 0), so that its
//! waits are the handle's wait protocol (futex, helper parker), which helping
//! waits already know and `task/loom_tests.rs` model-checks. It is not a
//! handle: nobody can cancel it or see it through the C ABI.

use std::ffi::{c_int, c_void};

use crate::task::Task;

/// A one-shot latch; a clone is another reference to the same latch.
pub(crate) struct Latch {
    /// Owns one reference; never queued, never cancelled.
    task: *const Task,
}

// SAFETY: a Task is Send + Sync and reference-counted; the pointer only shares it.
unsafe impl Send for Latch {}
unsafe impl Sync for Latch {}

/// Never called: a latch has no function of its own.
unsafe extern "C" fn no_fn(_: *mut c_void) -> c_int {
    0
}

impl Latch {
    /// An unset latch; `pool_id` names the pool whose workers may wait on it.
    pub(crate) fn new(pool_id: u64) -> Latch {
        Latch { task: Task::new_unqueued(no_fn, std::ptr::null_mut(), None, pool_id, false) }
    }

    fn task(&self) -> &Task {
        // SAFETY: our reference keeps the task alive.
        unsafe { &*self.task }
    }

    /// Sets the latch and wakes every waiter; setting it again does nothing.
    pub(crate) fn set(&self) {
        self.task().end_latch();
    }

    /// Waits until the latch is set (true) or the deadline passes (false).
    /// A worker of the latch's pool runs other work meanwhile.
    pub(crate) fn wait(&self, deadline: Option<u64>) -> bool {
        self.task().wait_unchecked(deadline, true).is_some()
    }
}

impl Clone for Latch {
    fn clone(&self) -> Latch {
        self.task().retain();
        Latch { task: self.task }
    }
}

impl Drop for Latch {
    fn drop(&mut self) {
        // SAFETY: each Latch owns one reference.
        unsafe { Task::release(self.task) };
    }
}
