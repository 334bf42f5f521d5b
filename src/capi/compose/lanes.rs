//! Keyed lanes: a serial queue per busy key, none per idle key.

use std::ffi::c_void;

use super::submit_user;
use crate::capi::boundary;
use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::compose::lanes::Lanes;

/// Keyed lanes: submits `fn(arg)` to `pool` so that tasks submitted with the
/// same `key` run one at a time in submission order, and tasks with
/// different keys run in parallel (per-account, per-connection, per-file
/// ordering). A key costs nothing while it has no task queued or running:
/// the pool keeps a lane only while it is busy.
///
/// Same ownership, `out`, statuses and BG_EDEADLK detection as
/// bg_serial_submit().
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_submit_keyed(
    pool: *mut bg_pool,
    key: u64,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let reg = p.registry();
        submit_user(reg, func, arg, drop, out, |job, task| Lanes::submit(reg, key, job, task), submit_error_status)
    })
}
