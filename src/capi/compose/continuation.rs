//! Continuations: bg_then().

use std::ffi::{c_int, c_void};

use crate::capi::castable::{to_c, try_ref};
use crate::capi::pool::submit_error_status;
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_task, end_code};
use crate::capi::{boundary, put};
use crate::compose::continuation::{self, ThenCall};
use crate::job::RawFn;
use crate::task::{Task, TaskEnd};

/// A continuation's function: runs once its antecedent task has ended.
/// `status` is how that task ended (BG_OK, BG_EFAILED, BG_ECANCELLED,
/// BG_ESHUTDOWN or BG_EFORKED, as bg_wait() would report it) and `result`
/// its code (0 unless it ran). The return value is the continuation's own
/// result code.
pub type bg_then_fn = Option<unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int>;

type ThenFn = unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int;

/// A continuation's C function: how the core calls it.
#[derive(Clone, Copy)]
struct CThen(ThenFn);

impl ThenCall for CThen {
    unsafe fn call(self, arg: *mut c_void, antecedent: TaskEnd) -> c_int {
        let (status, result) = end_code(antecedent);
        // SAFETY: the caller's promise: `arg` is the one bg_then took, passed once.
        unsafe { (self.0)(arg, status, result) }
    }
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
        // SAFETY: fn pointers of any type may be stored as another; the
        // core never calls a continuation's stored `func`, only reports its
        // address (the task's `func` field is a RawFn).
        let report = unsafe { std::mem::transmute::<ThenFn, RawFn>(f) };
        // SAFETY: `t` is live (try_ref checked it).
        let c = match unsafe { continuation::then(t, CThen(f), report, arg, drop) } {
            Ok(c) => c,
            Err(e) => return submit_error_status(e),
        };
        if out.is_null() {
            // SAFETY: the reference `then` returned is ours to drop.
            unsafe { Task::release(c) };
        } else {
            put(out, to_c(c));
        }
        BG_OK
    })
}
