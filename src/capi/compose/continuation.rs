//! Continuations: bg_then().

use std::ffi::{c_int, c_void};

use crate::capi::castable::{to_c, try_ref};
use crate::capi::pool::submit_error_status;
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_task, end_code};
use crate::capi::{boundary, put};
use crate::compose::continuation;
use crate::job::RawFn;
use crate::registry;
use crate::task::{Task, TaskEnd};

/// A continuation's function: runs once its antecedent task has ended.
/// `status` is how that task ended (BG_OK, BG_EFAILED, BG_ECANCELLED,
/// BG_ESHUTDOWN or BG_EFORKED, as bg_wait() would report it) and `result`
/// its code (0 unless it ran). The return value is the continuation's own
/// result code.
pub type bg_then_fn = Option<unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int>;

type ThenFn = unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int;

/// How the core calls a continuation: the C function type lives here.
unsafe fn call_then(func: RawFn, arg: *mut c_void, antecedent: TaskEnd) -> c_int {
    // SAFETY: bg_then stored a ThenFn as the task's RawFn; this is its type.
    let f = std::mem::transmute::<RawFn, ThenFn>(func);
    let (status, result) = end_code(antecedent);
    f(arg, status, result)
}

/// Runs `fn(arg, status, result)` on `task`'s pool once `task` ends; if it
/// has already ended, the continuation is queued at once (never lost, never
/// run twice). Any handle works: bg_submit(), a group's, a batch's, another
/// continuation's (so continuations chain).
///
/// `out` (optional) receives the continuation's own handle (release it
/// with bg_task_release()): wait on it, cancel it while it waits for
/// `task`, or chain another bg_then() on it. Handing `task`'s status to a
/// continuation counts as observing it: no unobserved-failure report.
///
/// On BG_OK the library owns `arg`: `fn` runs exactly once, or, if it never
/// does (cancelled, or its pool refuses it when it falls due because it was
/// shut down), `drop(arg)` runs once instead and the continuation's handle
/// ends with BG_ECANCELLED or BG_ESHUTDOWN. If the continuation returns
/// non-zero and no wait sees it (no `out`, or its handle released
/// unwaited), the pool's error handler gets it, with `fn` as its `func`.
/// Errors (nothing attached, `arg` still yours): BG_EINVAL (NULL or dead
/// `task`, NULL `fn`), BG_ESHUTDOWN (`task`'s pool is shut down or freed),
/// BG_EFORKED (`task` belongs to the parent of this forked process).
/// Thread-safe: any number of continuations may be attached to one task
/// from any threads.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_then(
    task: *mut bg_task,
    func: bg_then_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(t) = try_ref(task) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        let Some(reg) = registry::by_id(t.pool_id()) else { return BG_ESHUTDOWN };
        if let Err(e) = continuation::admits(&reg) {
            return submit_error_status(e);
        }
        // SAFETY: fn pointers of any type may be stored as another; only
        // call_then calls it, as a ThenFn again.
        let func = unsafe { std::mem::transmute::<ThenFn, RawFn>(f) };
        // SAFETY: `t` is live and belongs to `reg`; `func` is what call_then expects.
        let c = unsafe { continuation::then(reg, t, func, call_then, arg, drop) };
        if out.is_null() {
            // SAFETY: the reference `then` returned is ours to drop.
            unsafe { Task::release(c) };
        } else {
            put(out, to_c(c));
        }
        BG_OK
    })
}
