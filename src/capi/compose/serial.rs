//! Serial queues: one task at a time, in submission order.

use std::ffi::c_void;
use std::sync::Arc;

use super::submit_user;
use crate::capi::castable::{free_tagged, new_tagged, tagged_castable, try_ref};
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::capi::{boundary, put};
use crate::compose::serial::Queue;

/// A serial queue: its tasks run one at a time, in submission order, on
/// its pool's threads; different serial queues run in parallel (dispatch
/// serial queues, Orionis BackgroundTasks). A queue holds no thread: a
/// worker drains it while it has tasks, up to 64 before letting the pool's
/// other work go first.
///
/// Waiting, from inside one of its tasks, for a task queued later on the
/// same queue would hang: bg_wait() and friends return BG_EDEADLK instead.
///
/// Ownership: bg_serial_new() gives you the queue; bg_serial_free() lets go
/// of it (queued tasks still run). Thread safety: any number of threads may
/// submit at once; nothing may use it during or after bg_serial_free().
///
/// Functions: bg_serial_new(), bg_serial_submit(), bg_serial_free(); and,
/// without a queue object, bg_pool_submit_keyed().
pub struct bg_serial {
    _private: [u8; 0],
}

tagged_castable!(bg_serial => Arc<Queue>, 0x6267_5f73_6572_6961); // "bg_seria"

/// Creates a serial queue on `pool`. Returns BG_OK and the queue in
/// `*out`, or BG_EINVAL (NULL or dead pool, NULL `out`).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_serial_new(pool: *mut bg_pool, out: *mut *mut bg_serial) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if out.is_null() {
            return BG_EINVAL;
        }
        put(out, new_tagged(Queue::new(Arc::clone(p.registry()), None)));
        BG_OK
    })
}

/// Queues `fn(arg)` on the serial queue: it runs after every task
/// submitted to the queue before it, and before any submitted after it.
/// Ownership of `arg` and `drop`, and `out`, as bg_pool_submit(); a task
/// without a handle that fails goes to the pool's error handler. The pool's
/// `max_queued` bound does not count tasks waiting in a serial queue.
///
/// Returns BG_OK, or (nothing queued, `arg` still yours) BG_EINVAL,
/// BG_ESHUTDOWN (the pool is shut down), BG_EFORKED. If the pool shuts
/// down in cancel mode, tasks still in the queue never run: their drops
/// run and their handles report BG_ESHUTDOWN.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_serial_submit(
    queue: *mut bg_serial,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(q) = try_ref(queue) else { return BG_EINVAL };
        submit_user(&q.reg, func, arg, drop, out, |job, task| q.submit(job, task), submit_error_status)
    })
}

/// Lets go of the queue without waiting: tasks already submitted still run,
/// in order, and the queue is freed after the last. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_serial_free(queue: *mut bg_serial) -> bg_status {
    boundary(|| match free_tagged(queue) {
        Some(_) => BG_OK,
        None => BG_EINVAL,
    })
}
