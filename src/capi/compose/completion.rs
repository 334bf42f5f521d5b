//! Completion queues: records of ended tasks behind an eventfd.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::capi::castable::{free_tagged, new_tagged, tagged_castable, to_c, try_ref};
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task, end_code};
use crate::capi::{boundary, put};
use crate::compose::completion::Cq;
use crate::task::Task;

/// A completion queue: records of ended tasks, for an event loop (epoll,
/// libuv, GLib, Go) to collect on its own thread instead of receiving
/// callbacks on worker threads. Its file descriptor (an eventfd) is
/// readable exactly while records are pending; bg_cq_drain() takes them.
///
/// Ownership: bg_cq_new() gives you the queue; bg_cq_free() frees it (and
/// closes the fd). Thread safety: every function may be called from any
/// thread at once; nothing may use a queue during or after its bg_cq_free().
///
/// Functions: bg_cq_new(), bg_cq_fd(), bg_cq_watch(), bg_cq_submit(),
/// bg_cq_drain(), bg_cq_free().
pub struct bg_cq {
    _private: [u8; 0],
}

tagged_castable!(bg_cq => Arc<Cq>, 0x6267_5f63_715f_5f5f); // "bg_cq___"

/// One ended task, as bg_cq_drain() returns it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct bg_completion {
    /// The handle this record is about, as an identity only: no reference
    /// is added, so it may already be freed if you kept none.
    pub task: *mut bg_task,
    /// How it ended, as bg_wait() would return it.
    pub status: bg_status,
    /// Its result code (0 unless it ran).
    pub result: c_int,
    /// The `user_data` given when it was watched.
    pub user_data: *mut c_void,
}

/// Creates a completion queue. Returns BG_OK and the queue in `*out`,
/// BG_EINVAL (NULL `out`) or BG_ENOMEM (no eventfd).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_cq_new(out: *mut *mut bg_cq) -> bg_status {
    boundary(|| {
        if out.is_null() {
            return BG_EINVAL;
        }
        match Cq::new() {
            Ok(cq) => {
                put(out, new_tagged(cq));
                BG_OK
            }
            Err(_) => BG_ENOMEM,
        }
    })
}

/// The queue's eventfd, for epoll/poll/select (EPOLLIN), uv_poll, a GLib
/// source or Go's netpoller: readable while records are pending. Owned by
/// the queue: do not close it or read it yourself. -1 for NULL.
#[no_mangle]
pub extern "C" fn bg_cq_fd(cq: *const bg_cq) -> c_int {
    boundary(|| try_ref(cq).map_or(-1, |q| q.fd()))
}

/// Delivers a record to `cq` when `task` ends (at once if it has): any
/// handle works (bg_submit(), a group's, a batch's, a continuation's). The
/// record carries `user_data`. Watching does not keep the handle alive;
/// delivering its status to a queue not yet freed counts as observing it
/// (no unobserved-failure report). Returns BG_OK or BG_EINVAL.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_cq_watch(cq: *mut bg_cq, task: *mut bg_task, user_data: *mut c_void) -> bg_status {
    boundary(|| {
        let Some(q) = try_ref(cq) else { return BG_EINVAL };
        let Some(t) = try_ref(task) else { return BG_EINVAL };
        q.watch(t, user_data);
        BG_OK
    })
}

/// bg_pool_submit() followed by bg_cq_watch(): the record arrives when the
/// task ends. `out` is optional; without it the record's `task` is only an
/// identity. Same statuses as bg_pool_submit(), plus BG_EINVAL for a NULL or
/// dead `cq`; on error nothing was queued and `arg` is still yours.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_cq_submit(
    cq: *mut bg_cq,
    pool: *mut bg_pool,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    user_data: *mut c_void,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(q) = try_ref(cq) else { return BG_EINVAL };
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        match p.submit(f, arg, drop) {
            Ok(t) => {
                // SAFETY: we hold the reference submit gave us.
                q.watch(unsafe { &*t }, user_data);
                if out.is_null() {
                    // SAFETY: as above; the task keeps running without it.
                    unsafe { Task::release(t) };
                } else {
                    put(out, to_c(t));
                }
                BG_OK
            }
            Err(e) => submit_error_status(e),
        }
    })
}

/// Moves up to `max` records, oldest first, into `out[0..]` and returns
/// how many (0 if none, or for NULL arguments). When it takes the last
/// pending record the fd stops being readable. Never blocks. Call it from
/// the loop when the fd is readable, until it returns less than `max`.
#[no_mangle]
pub extern "C" fn bg_cq_drain(cq: *mut bg_cq, out: *mut bg_completion, max: usize) -> usize {
    boundary(|| {
        let Some(q) = try_ref(cq) else { return 0 };
        if out.is_null() {
            return 0;
        }
        let mut i = 0;
        q.drain(max, |r| {
            let (status, result) = end_code(r.end);
            let c = bg_completion { task: to_c(r.task), status, result, user_data: r.user_data };
            // SAFETY: the caller passes room for `max` records; drain gives at most `max`.
            unsafe { out.add(i).write(c) };
            i += 1;
        })
    })
}

/// Frees the queue and closes its fd. Records not yet drained are
/// discarded; tasks still watched run as usual and their records are
/// dropped when they end. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_cq_free(cq: *mut bg_cq) -> bg_status {
    boundary(|| match free_tagged(cq) {
        Some(q) => {
            q.close();
            BG_OK
        }
        None => BG_EINVAL,
    })
}
