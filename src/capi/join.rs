//! Fork-join: bg_join() and bg_pool_join() (`join.rs`).

use std::ffi::{c_int, c_void};

use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::bg_fn;
use crate::capi::{boundary, put};
use crate::join::{join, join_ambient, JoinError};
use crate::registry::Registry;

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
        Ok((x, y)) => {
            put(ra, x);
            put(rb, y);
            if x == 0 && y == 0 {
                BG_OK
            } else {
                BG_EFAILED
            }
        }
        Err(JoinError::Refused(e)) => submit_error_status(e),
        Err(JoinError::Forked) => BG_EFORKED,
        Err(JoinError::NoPool) => BG_ENOMEM,
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
/// deep recursion). From any other thread, `b` is queued as a task (a slot
/// of the handle memory, no malloc), `a` runs on the caller, and the caller
/// then runs `b` itself unless a worker has started it. So either function
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
