//! Delayed tasks: one timer thread per pool.

use std::ffi::c_void;

use super::submit_user;
use crate::capi::boundary;
use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::compose::timer::{AddError, Due, TimerSlot};
use crate::priority::Priority;
use crate::sync::now_ns;

/// Submits `fn(arg)` to `pool` to run `delay_ns` nanoseconds from now
/// (CLOCK_MONOTONIC; at the earliest then, as soon as a worker is free).
/// bg_cancel() on the handle stops it while it waits (its drop runs at
/// once). One timer thread per pool, started on first use, serves every
/// delayed task; none is started per task.
///
/// Ownership of `arg` and `drop`, and `out`, as bg_pool_submit(). When the
/// pool shuts down (either mode), delayed tasks not yet due never run:
/// their drops run and their handles report BG_ESHUTDOWN. The pool's
/// `max_queued` bound does not count tasks still waiting for their time.
///
/// Returns BG_OK, or (nothing queued, `arg` still yours) BG_EINVAL,
/// BG_ESHUTDOWN, BG_EFORKED, BG_ENOMEM (the timer thread could not start).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_submit_after(
    pool: *mut bg_pool,
    delay_ns: u64,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        // TimerSlot::add asks the pool's gate (closed, forked) before anything else.
        let reg = p.registry();
        let due = now_ns().saturating_add(delay_ns);
        let status = |e| match e {
            AddError::Pool(e) => submit_error_status(e),
            AddError::Shutdown => BG_ESHUTDOWN,
            AddError::NoThread => BG_ENOMEM,
        };
        submit_user(
            reg,
            func,
            arg,
            drop,
            out,
            |job, task| TimerSlot::add(reg, due, job, task, Due::Pool(Priority::Normal)),
            status,
        )
    })
}
