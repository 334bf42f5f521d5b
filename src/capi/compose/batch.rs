//! Batches: tasks collected now, run later in order as one unit.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::capi::castable::{free_tagged, new_tagged, tagged_castable, to_c, try_ref};
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task, end_code};
use crate::capi::{boundary, put};
use crate::compose::batch::{Batch, BatchError, ItemEnd};
use crate::task::TaskEnd;

/// A batch: tasks collected now and run later, one after another in
/// insertion order, as one unit (Starlette's and FastAPI's BackgroundTasks:
/// queued while the request is handled, run after the response, or
/// discarded if the handler fails first).
///
/// Ownership: bg_batch_new() gives you the batch; bg_batch_free() frees it
/// (running every drop if it was never submitted). bg_batch_submit() gives
/// you a handle to the running batch. Thread safety: every function may be
/// called from any thread; nothing may use a batch during or after its
/// bg_batch_free().
///
/// Functions: bg_batch_new(), bg_batch_add(), bg_batch_size(),
/// bg_batch_submit(), bg_batch_status(), bg_batch_free().
pub struct bg_batch {
    _private: [u8; 0],
}

tagged_castable!(bg_batch => Arc<Batch>, 0x6267_5f62_6174_6368); // "bg_batch"

/// What a batch does after one of its tasks fails (returns non-zero).
#[repr(C)]
pub enum bg_batch_policy {
    /// The rest never run: their drops run, their status is BG_ECANCELLED
    /// (Starlette's behaviour).
    BG_BATCH_STOP_ON_ERROR = 0,
    /// The rest run anyway; each task's status is recorded.
    BG_BATCH_RUN_ALL = 1,
}

/// Creates an empty batch. Returns BG_OK and the batch in `*out`, or BG_EINVAL.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_batch_new(out: *mut *mut bg_batch) -> bg_status {
    boundary(|| {
        if out.is_null() {
            return BG_EINVAL;
        }
        put(out, new_tagged(Batch::new()));
        BG_OK
    })
}

/// Adds `fn(arg)` to the batch; nothing runs yet. On BG_OK the batch owns
/// `arg`: `fn` runs once when the batch runs, or else `drop(arg)` runs once
/// (the batch is freed unsubmitted, cancelled, stopped by an earlier
/// failure, or dropped by a cancel shutdown). Returns BG_OK, or BG_EINVAL
/// (NULL batch or `fn`, or the batch was already submitted; `arg` stays yours).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_batch_add(batch: *mut bg_batch, func: bg_fn, arg: *mut c_void, drop: bg_drop_fn) -> bg_status {
    boundary(|| {
        let Some(b) = try_ref(batch) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        match b.add(f, arg, drop) {
            Ok(()) => BG_OK,
            Err(_) => BG_EINVAL,
        }
    })
}

/// The number of tasks added to the batch; 0 for NULL.
#[no_mangle]
pub extern "C" fn bg_batch_size(batch: *const bg_batch) -> usize {
    boundary(|| try_ref(batch).map_or(0, |b| b.len()))
}

/// Submits the batch to `pool` as one task: its tasks run one after another
/// in insertion order on one worker, following `policy` (bg_batch_policy).
/// `*out` gets the batch's handle: its wait returns BG_OK if every task
/// returned 0, else BG_EFAILED with the first failure's code; bg_cancel()
/// on it before it starts runs every task's drop. If the pool shuts down in
/// cancel mode mid-batch, the tasks not yet started are dropped.
///
/// If the batch fails and its handle is released without a wait seeing it,
/// the error handler gets the first failure's code (with the batch's
/// internal runner as `func` and `arg`: check bg_batch_status() for which).
///
/// A batch is submitted at most once. Returns BG_OK, or (nothing queued)
/// BG_EINVAL (NULL argument, unknown policy, already submitted),
/// BG_ESHUTDOWN, BG_EFULL, BG_EFORKED.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_batch_submit(
    batch: *mut bg_batch,
    pool: *mut bg_pool,
    policy: u32,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(b) = try_ref(batch) else { return BG_EINVAL };
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if policy > 1 || out.is_null() {
            return BG_EINVAL;
        }
        match b.submit(p.registry(), policy == 0) {
            Ok(t) => {
                put(out, to_c(t));
                BG_OK
            }
            Err(BatchError::Pool(e)) => submit_error_status(e),
            Err(_) => BG_EINVAL,
        }
    })
}

/// How task `index` (insertion order, from 0) of an ended batch ended:
/// BG_OK; BG_EFAILED (its code in `*result`); BG_ECANCELLED (it never ran:
/// an earlier task failed under BG_BATCH_STOP_ON_ERROR, or the batch was
/// cancelled); BG_ESHUTDOWN (dropped by a cancel shutdown); BG_EFORKED.
/// BG_ERUNNING if the batch has not ended (or was not submitted);
/// BG_EINVAL for a bad index or batch. `result` may be NULL.
#[no_mangle]
pub extern "C" fn bg_batch_status(batch: *const bg_batch, index: usize, result: *mut c_int) -> bg_status {
    boundary(|| {
        let Some(b) = try_ref(batch) else { return BG_EINVAL };
        let (status, code) = match b.item_end(index) {
            Ok(ItemEnd::Ran(code)) => end_code(TaskEnd::Ran(code)),
            Ok(ItemEnd::Skipped) => (BG_ECANCELLED, 0),
            Ok(ItemEnd::Shutdown) => (BG_ESHUTDOWN, 0),
            Ok(ItemEnd::NeverStarted(end)) => end_code(end),
            Err(BatchError::NotEnded) => return BG_ERUNNING,
            Err(_) => return BG_EINVAL,
        };
        if status == BG_EFAILED {
            put(result, code);
        }
        status
    })
}

/// Frees the batch. Never submitted: nothing runs and every task's drop
/// runs now. Submitted: its tasks go on as submitted and the memory is
/// freed once the batch has ended; its handle stays valid. Returns BG_OK or
/// BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_batch_free(batch: *mut bg_batch) -> bg_status {
    boundary(|| match free_tagged(batch) {
        Some(b) => {
            b.discard();
            BG_OK
        }
        None => BG_EINVAL,
    })
}
