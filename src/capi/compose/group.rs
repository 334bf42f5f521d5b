//! Groups: tasks waited for, failed and cancelled together.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::capi::castable::{free_tagged, new_tagged, tagged_castable, to_c, try_ref};
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::capi::{boundary, put};
use crate::compose::group::{Group, GroupEnd, GroupRefusal, GroupWaitError};
use crate::sync::deadline_after;

/// A set of tasks submitted together and waited for, failed and cancelled
/// together (dispatch groups, TBB `task_group`, Go's errgroup).
///
/// Ownership: bg_group_new() gives you the group; bg_group_free() frees
/// it. Its tasks do not need it: freeing it leaves them running and their
/// handles valid.
///
/// Thread safety: every function may be called from any thread at once,
/// except that nothing may use a group during or after its bg_group_free().
///
/// Functions: bg_group_new(), bg_group_submit(), bg_group_wait(),
/// bg_group_cancel(), bg_group_free().
pub struct bg_group {
    _private: [u8; 0],
}

tagged_castable!(bg_group => Arc<Group>, 0x6267_5f67_726f_7570); // "bg_group"

/// Flags for bg_group_new().
#[repr(C)]
pub enum bg_group_flags {
    /// bg_group_wait() with BG_FOREVER from a thread outside every pool
    /// runs the group's tasks that no worker has started yet itself, on the
    /// calling thread, then waits for the rest, as TBB's task_group::wait()
    /// does: a round of short tasks costs no thread wake-up. What such a
    /// task sees is as with bg_wait()'s caller-runs. Not on pools with
    /// thread hooks, task timing or task hooks, nor while the pool is
    /// paused; tasks that joined the group through bg_pool_submit_ex()
    /// options are left to the workers. BG_GROUP_NO_CALLER_RUNS opts out.
    BG_GROUP_DEFAULT = 0,
    /// At the first task that fails (returns non-zero), cancel the group:
    /// tasks not yet started never run (their drops run) and later submits
    /// are refused (Go's errgroup.WithContext).
    BG_GROUP_CANCEL_ON_ERROR = 1,
    /// The default, named (see BG_GROUP_DEFAULT); kept for code written
    /// when waits ran tasks only on request.
    BG_GROUP_CALLER_RUNS = 2,
    /// bg_group_wait() never runs the group's tasks on the calling thread:
    /// it sleeps until workers have run them. For a waiter that must not
    /// run tasks: one holding a lock that a task may take, or whose
    /// thread-local state a task must not see or change.
    BG_GROUP_NO_CALLER_RUNS = 4,
}

/// Creates a group whose tasks run on `pool`. `flags`: bg_group_flags.
/// Returns BG_OK and the group in `*out`, or BG_EINVAL (NULL or dead pool,
/// unknown flags, BG_GROUP_CALLER_RUNS with BG_GROUP_NO_CALLER_RUNS, NULL
/// `out`).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_group_new(pool: *mut bg_pool, flags: u32, out: *mut *mut bg_group) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if flags > 7 || flags & 6 == 6 || out.is_null() {
            return BG_EINVAL;
        }
        let g = Group::new(Arc::clone(p.registry()), flags & 1 != 0, flags & 4 == 0);
        put(out, new_tagged(g));
        BG_OK
    })
}

/// Submits `fn(arg)` to the group's pool as a member of the group, as
/// bg_pool_submit() does (same ownership of `arg` and `drop`); `out` is
/// optional. A member's failure is reported through bg_group_wait(), never
/// to the error handler.
///
/// Returns BG_OK, or (nothing queued, `arg` still yours) BG_ECANCELLED
/// (the group was cancelled, explicitly or on error), BG_EINVAL,
/// BG_ESHUTDOWN, BG_EFULL, BG_EFORKED.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_group_submit(
    group: *mut bg_group,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(g) = try_ref(group) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        match g.submit(f, arg, drop, !out.is_null()) {
            Ok(t) => {
                put(out, to_c(t));
                BG_OK
            }
            Err(GroupRefusal::Cancelled) => BG_ECANCELLED,
            Err(GroupRefusal::Pool(e)) => submit_error_status(e),
        }
    })
}

/// Waits until every task submitted to the group so far has ended. Called
/// from a worker thread, it runs other queued work meanwhile (as bg_wait(),
/// and with bg_wait_timeout()'s bound on a timed wait: a zero timeout polls).
///
/// Returns BG_OK (every task ran and returned 0), BG_EFAILED (at least one
/// returned non-zero; the first failure's code goes to `*first_error`),
/// BG_ECANCELLED (none failed, but some never ran: cancelled, or dropped by
/// a cancel shutdown), BG_ETIMEDOUT (`timeout_ns` passed first;
/// BG_FOREVER waits as long as it takes), BG_EFORKED, BG_EINVAL.
/// `first_error` may be NULL. The outcome accumulates over the group's
/// life; a group may be waited for again after more submits.
///
/// Waited for with BG_FOREVER from a thread that is no pool's worker, a
/// group first runs its tasks still queued on the calling thread, unless
/// it was created with BG_GROUP_NO_CALLER_RUNS (see bg_group_flags).
#[no_mangle]
pub extern "C" fn bg_group_wait(group: *mut bg_group, timeout_ns: u64, first_error: *mut c_int) -> bg_status {
    boundary(|| {
        let Some(g) = try_ref(group) else { return BG_EINVAL };
        match g.wait(deadline_after(timeout_ns)) {
            Err(GroupWaitError::TimedOut) => BG_ETIMEDOUT,
            Err(GroupWaitError::Forked) => BG_EFORKED,
            Ok(GroupEnd::AllOk) => BG_OK,
            Ok(GroupEnd::NotRun) => BG_ECANCELLED,
            Ok(GroupEnd::Failed(code)) => {
                put(first_error, code);
                BG_EFAILED
            }
        }
    })
}

/// Cancels the group: every task of it that has not started never runs
/// (its drop runs on this thread before this returns; its waiters see
/// BG_ECANCELLED); running tasks finish. Later bg_group_submit() calls
/// return BG_ECANCELLED. Returns BG_OK, BG_EFORKED or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_group_cancel(group: *mut bg_group) -> bg_status {
    boundary(|| {
        let Some(g) = try_ref(group) else { return BG_EINVAL };
        match g.cancel() {
            Ok(()) => BG_OK,
            Err(_forked) => BG_EFORKED,
        }
    })
}

/// Frees the group. Its tasks still queued or running are not affected:
/// they run, and their handles stay valid. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_group_free(group: *mut bg_group) -> bg_status {
    boundary(|| match free_tagged(group) {
        Some(_) => BG_OK,
        None => BG_EINVAL,
    })
}
