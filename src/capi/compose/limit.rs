//! Limiters: at most N tasks of a set run at once.

use std::ffi::c_void;
use std::sync::Arc;

use super::submit_options::{submit_routed, Route};
use crate::capi::boundary;
use crate::capi::castable::{free_tagged, new_tagged, tagged_castable, try_ref};
use crate::capi::pool::bg_pool;
use crate::capi::put;
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::compose::limit::Limit;

/// A limiter: of the tasks submitted through it, at most `n` run at once,
/// started in submission order; the others wait in the limiter, holding no
/// thread (Taskflow's semaphores, Go errgroup's SetLimit). A serial queue is
/// the ordered special case n = 1 with deadlock detection; a limiter of
/// width 1 runs its tasks one at a time in order too.
///
/// A task leaves its slot when it ends in any way: it ran, was cancelled
/// (bg_cancel() on a task waiting in the limiter takes it out at once, its
/// drop runs; on one queued on the pool frees its slot for the next),
/// expired (start deadline), or was dropped by a shutdown. Tasks waiting in
/// a limiter are not counted by the pool's `max_queued`. When the pool shuts
/// down draining, waiting tasks still run; in cancel mode they never run:
/// their drops run and their handles report BG_ESHUTDOWN.
///
/// Ownership: bg_limit_new() gives you the limiter; bg_limit_free() lets go
/// of it (tasks already submitted still run, within the limit). Thread
/// safety: any number of threads may submit at once; nothing may use it
/// during or after bg_limit_free().
///
/// Functions: bg_limit_new(), bg_limit_submit(), bg_limit_free(); or set
/// bg_submit_options.limit for bg_pool_submit_ex().
pub struct bg_limit {
    _private: [u8; 0],
}

tagged_castable!(bg_limit => Arc<Limit>, 0x6267_5f6c_696d_6974); // "bg_limit"

/// Creates a limiter of width `n` (at least 1) on `pool`. Returns BG_OK and
/// the limiter in `*out`, or BG_EINVAL (NULL or dead pool, `n` = 0, NULL `out`).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_limit_new(pool: *mut bg_pool, n: usize, out: *mut *mut bg_limit) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if n == 0 || out.is_null() {
            return BG_EINVAL;
        }
        put(out, new_tagged(Limit::new(Arc::clone(p.registry()), n)));
        BG_OK
    })
}

/// Submits `fn(arg)` through the limiter: it starts once fewer than `n` of
/// the limiter's tasks run and every task submitted before it has started.
/// Ownership of `arg` and `drop`, and `out`, as bg_pool_submit(). Returns
/// BG_OK, or (nothing queued, `arg` still yours) BG_EINVAL, BG_ESHUTDOWN,
/// BG_EFORKED. The same as bg_pool_submit_ex() with only `drop` and
/// `limit` set.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_limit_submit(
    limit: *mut bg_limit,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(l) = try_ref(limit) else { return BG_EINVAL };
        let route = Route { drop, limit: Some(l), ..Route::default() };
        submit_routed(&l.reg, func, arg, &route, out)
    })
}

/// Tasks of the limiter running (started and not ended) and waiting, as a
/// snapshot; either pointer may be NULL. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_limit_counts(limit: *const bg_limit, running: *mut usize, waiting: *mut usize) -> bg_status {
    boundary(|| {
        let Some(l) = try_ref(limit) else { return BG_EINVAL };
        let (r, w) = l.counts();
        put(running, r);
        put(waiting, w);
        BG_OK
    })
}

/// Lets go of the limiter without waiting: tasks already submitted still
/// run, within the limit, and it is freed after the last. Returns BG_OK or
/// BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_limit_free(limit: *mut bg_limit) -> bg_status {
    boundary(|| match free_tagged(limit) {
        Some(_) => BG_OK,
        None => BG_EINVAL,
    })
}
