//! The default pool, and the pool of the running task: the pools a caller
//! gets without naming one (bg_submit(), bg_spawn(), the bindings).

use crate::capi::boundary;
use crate::capi::castable::to_c;
use crate::capi::pool::{bg_pool, resize_error_status, shutdown_error_status, shutdown_mode};
use crate::capi::status::bg_status::{self, *};
use crate::default_pool;
use crate::pool::Pool;
use crate::sync::deadline_after;

/// The default pool, started on first use (one worker per available CPU,
/// or BG_THREADS, or what bg_set_threads() asked for). Owned by the library:
/// never pass it to bg_pool_free(). NULL only if its threads could not start.
///
/// At process exit (exit() or a return from main) the default pool drains:
/// tasks already queued run and the workers are joined before the process
/// ends, as with bg_shutdown(BG_SHUTDOWN_DRAIN). The environment variable
/// BG_EXIT_TIMEOUT_MS bounds that wait; tasks still queued then never run
/// (nor do their drops). exit() called from a task of the default pool does
/// not wait (a worker cannot join itself). _exit(), quick_exit() and fatal
/// signals skip the drain; so does a Go program's exit. In a fork() child
/// the drain covers the child's own default pool only.
#[no_mangle]
pub extern "C" fn bg_default_pool() -> *mut bg_pool {
    boundary(|| match default_pool::get() {
        Ok(p) => to_c(p),
        Err(_) => std::ptr::null_mut(),
    })
}

/// The pool of the task running on the calling thread: inside any task
/// (bg_submit(), a group's, a serial queue's, a continuation, a batch...),
/// the pool it runs on; NULL outside a task, and in a fork() child (even
/// one forked from inside a task). This is the pool bg_submit() and
/// bg_spawn() use from inside a task; bindings use it to do the same.
///
/// Starts nothing and adds no reference: the pointer stays valid while the
/// pool does, which is at least until the calling task returns.
/// (From a thread hook, it may be NULL while bg_pool_new() starts the
/// pool's first threads.)
#[no_mangle]
pub extern "C" fn bg_current_pool() -> *mut bg_pool {
    boundary(|| Pool::current().map_or(std::ptr::null_mut(), |p| to_c(p)))
}

/// Sets the default pool's size (1 to 1024), before it starts (remembered)
/// or while it runs (live resize, as bg_pool_set_threads()).
/// Returns BG_OK, BG_EINVAL, BG_ESHUTDOWN or BG_ENOMEM.
#[no_mangle]
pub extern "C" fn bg_set_threads(threads: usize) -> bg_status {
    boundary(|| default_pool::set_threads(threads).map_or_else(resize_error_status, |_| BG_OK))
}

/// The default pool's size; if it has not started, the size it will start
/// with. Does not start it.
#[no_mangle]
pub extern "C" fn bg_threads() -> usize {
    boundary(default_pool::threads)
}

/// Shuts the default pool down, as bg_pool_shutdown(). Afterwards
/// bg_submit() returns NULL and bg_spawn() BG_ESHUTDOWN. If the default pool
/// never started there is nothing to shut down: BG_OK. Without this call the
/// default pool drains at process exit (see bg_default_pool()); call it to
/// choose the mode or the timeout yourself.
#[no_mangle]
pub extern "C" fn bg_shutdown(mode: u32, timeout_ns: u64) -> bg_status {
    boundary(|| {
        let Some(m) = shutdown_mode(mode) else { return BG_EINVAL };
        match default_pool::get_if_started() {
            Some(p) => {
                p.registry().shutdown(m, deadline_after(timeout_ns)).map_or_else(shutdown_error_status, |_| BG_OK)
            }
            None => BG_OK,
        }
    })
}
