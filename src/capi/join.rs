//! Fork-join: bg_join() and bg_pool_join() (`join.rs`).

use std::ffi::{c_int, c_void};

use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::bg_fn;
use crate::capi::{boundary, put};
use crate::join::{join, join_ambient, JoinError};
use crate::registry::Registry;
use crate::worker::{AbortIfPanic, WorkerThread};

/// `reg`: the pool named, or None for the ambient one.
#[inline(always)]
fn join_status(
    reg: Option<&Registry>,
    a: bg_fn,
    a_arg: *mut c_void,
    b: bg_fn,
    b_arg: *mut c_void,
    ra: *mut c_int,
    rb: *mut c_int,
) -> bg_status {
    let (Some(a), Some(b)) = (a, b) else { return BG_EINVAL };
    let r = match reg {
        Some(reg) => join(reg, a, a_arg, b, b_arg),
        None => join_ambient(a, a_arg, b, b_arg),
    };
    match r {
        Ok((x, y)) => join_done(x, y, ra, rb),
        Err(JoinError::Refused(e)) => submit_error_status(e),
        Err(JoinError::Forked) => BG_EFORKED,
        Err(JoinError::NoPool) => BG_ENOMEM,
    }
}

/// Hands a join's two codes to the caller.
#[inline(always)]
fn join_done(x: c_int, y: c_int, ra: *mut c_int, rb: *mut c_int) -> bg_status {
    put(ra, x);
    put(rb, y);
    if x == 0 && y == 0 {
        BG_OK
    } else {
        BG_EFAILED
    }
}

/// Runs `a(a_arg)` and `b(b_arg)`, possibly in parallel, and returns once
/// both have returned: divide and conquer without a handle, and without
/// allocating on a worker thread. Runs on the pool of the calling task
/// (bg_current_pool()), or on the default pool outside a task.
///
/// Inside a task of the pool, `b` is offered to the other workers from the
/// caller's stack while `a` runs on the caller; if nobody took `b`, the
/// caller then runs it too, otherwise it runs other queued work of the pool
/// until `b` is done (as bg_wait() does; the same stack bound applies to
/// deep recursion). While every worker of the pool is busy, `b` is not
/// offered yet (nobody could take it, and offering costs a fence): it is
/// offered, with any other such `b` of the caller's enclosing joins, at the
/// caller's next bg_join() once a worker is idle, and whenever the caller
/// waits (bg_wait(), a group, a loop) or calls bg_blocking_begin(). So `a`
/// must not wait for `b` by other means (a lock, a pipe), nor `b` for `a`:
/// they may run one after the other on the caller, as on a one-thread pool.
/// From any other thread, `b` is queued as a task (a slot
/// of the handle memory, no malloc), `a` runs on the caller, and the caller
/// then runs `b` itself unless a worker has started it. While every worker
/// is busy, the task is not made yet: `b` is queued as above at the
/// calling thread's next bg_join() once a worker is idle, or when it waits,
/// and otherwise runs on the caller after `a`. So either function
/// may run on the calling thread, whichever thread that is: code that needs
/// a worker's thread-local state should not be joined from outside.
///
/// Both functions run exactly once once the call is accepted: `a` on the
/// caller, `b` wherever it is taken. A shutdown never cancels `b` (its
/// caller is running and waits for it): if the pool drops its job, the
/// caller runs `b`. If the pool's queue is full, both run on the caller.
///
/// Returns BG_OK (both returned 0), BG_EFAILED (either returned non-zero;
/// both codes are written), BG_EINVAL (`a` or `b` is NULL: nothing ran),
/// BG_ESHUTDOWN (the pool takes no work from this thread: nothing ran),
/// BG_EFORKED (the default pool of a forked parent: nothing ran), BG_ENOMEM.
/// `a_result` and `b_result` may be NULL; they are written on BG_OK and
/// BG_EFAILED. A failure is the caller's to handle: it does not go to the
/// pool's error handler.
#[no_mangle]
pub extern "C" fn bg_join(
    a: bg_fn,
    a_arg: *mut c_void,
    b: bg_fn,
    b_arg: *mut c_void,
    a_result: *mut c_int,
    b_result: *mut c_int,
) -> bg_status {
    // On a worker (the recursive case, every call but the first) the join
    // runs without the boundary's catch_unwind, a tenth of a join's cost:
    // nothing on this path may unwind anyway, since `b`'s job, on the deque
    // or the private stack, points into this frame until the join returns. The guard turns any
    // panic into an abort, as a worker's own panic is (`worker.rs`).
    if let (Some(fa), Some(fb), Some(w)) = (a, b, WorkerThread::current()) {
        let guard = AbortIfPanic;
        let (x, y) = w.join(fa, a_arg, fb, b_arg);
        std::mem::forget(guard);
        return join_done(x, y, a_result, b_result);
    }
    boundary(|| join_status(None, a, a_arg, b, b_arg, a_result, b_result))
}

/// bg_join() on `pool`. From a task of another pool, the call behaves as
/// from outside `pool` (the caller may run `a` and `b`, and helps its own
/// pool while it waits for `b`).
#[no_mangle]
pub extern "C" fn bg_pool_join(
    pool: *mut bg_pool,
    a: bg_fn,
    a_arg: *mut c_void,
    b: bg_fn,
    b_arg: *mut c_void,
    a_result: *mut c_int,
    b_result: *mut c_int,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        join_status(Some(p.registry()), a, a_arg, b, b_arg, a_result, b_result)
    })
}
