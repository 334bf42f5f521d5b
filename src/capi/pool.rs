use std::ffi::{c_int, c_void};
use std::sync::Arc;

use crate::capi::castable::{take_box, to_c, try_ref, Castable};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::capi::{boundary, put};
use crate::error::{Failure, FailureKind};
use crate::pool::Pool;
use crate::registry::{ResizeError, ShutdownError, ShutdownMode, SubmitError};
use crate::sync::deadline_after;

// The default pool's functions live beside it; tests and users reach them here too.
pub use crate::capi::default_pool::*;
pub use crate::capi::options::*;

/// A pool of worker threads with its own queues, size and error handler.
///
/// Ownership: bg_pool_new() gives you the pool; bg_pool_free() shuts it down
/// (draining) and frees it. The default pool, from bg_default_pool(), is
/// owned by the library and never freed. Handles may outlive their pool.
///
/// Thread safety: every function may be called from any thread at once,
/// except that nothing may use a pool during or after its bg_pool_free().
///
/// Functions: bg_pool_options_init(), bg_pool_new(), bg_pool_submit(),
/// bg_pool_shutdown(), bg_pool_free(), bg_pool_set_threads(),
/// bg_pool_threads(), bg_pool_stats(), bg_pool_set_error_handler(),
/// bg_pool_timing(), bg_pool_set_task_hooks(), bg_default_pool(),
/// bg_current_pool().
pub struct bg_pool {
    _private: [u8; 0],
}

impl Castable for bg_pool {
    type Rust = Pool;
    fn is_live(p: &Pool) -> bool {
        p.is_live()
    }
}

/// How bg_pool_shutdown() treats tasks still queued.
#[repr(C)]
pub enum bg_shutdown_mode {
    /// Run everything already queued (and what those tasks submit), refuse new work.
    BG_SHUTDOWN_DRAIN = 0,
    /// Queued tasks never run: each one's drop runs and its waiters get
    /// BG_ESHUTDOWN. Running tasks finish.
    BG_SHUTDOWN_CANCEL = 1,
}

/// A pool's counters (a snapshot; each is read separately while workers run,
/// and a task's outcome is counted just after its waiters wake, so a count
/// read right after bg_wait() may not include that task yet).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct bg_stats {
    /// Worker threads the pool is sized to (0 once shut down and joined).
    pub threads: u64,
    /// Tasks waiting in the queues (including cancelled ones not yet skipped).
    pub queued: u64,
    /// Tasks running right now (a worker that waits inside a task while
    /// it helps by running another counts both).
    pub running: u64,
    /// Tasks that ran and returned 0.
    pub completed: u64,
    /// Tasks that ran and returned non-zero.
    pub failed: u64,
    /// Tasks that never ran: cancelled, or dropped by a cancel shutdown.
    pub cancelled: u64,
    /// Times a worker took work from another worker's deque.
    pub steals: u64,
    /// Threads (workers and spares) blocked in the kernel inside a task, as
    /// the pool's monitor last saw them (a sleep, a read, a lock, a wait
    /// that does not help). Was reserved[0].
    pub blocked: u64,
    /// Spare threads running now, started to stand in for blocked ones;
    /// they exit after 5 s idle. Was reserved[1].
    pub spares: u64,
    /// Tasks that expired: no worker took them by their start deadline
    /// (bg_submit_options.deadline_ns), so they never ran and their drops ran
    /// (not counted in `cancelled`).
    pub expired: u64,
    /// 1 while the pool is paused (bg_pool_pause()), else 0.
    pub paused: u64,
    /// Worker threads inside a task right now (running it, or waiting in it).
    pub busy: u64,
    /// Tasks timed, when the pool times its tasks (bg_pool_options.timing or
    /// task hooks; zero otherwise): counted when they return.
    pub timed: u64,
    /// Total nanoseconds the timed tasks waited in the queue, from
    /// submission to start (percentiles: bg_pool_timing()).
    pub queue_wait_ns: u64,
    /// Total nanoseconds the timed tasks ran.
    pub run_ns: u64,
    /// Reserved for later counters; zero.
    pub reserved: [u64; 1],
}

const _: () = assert!(std::mem::size_of::<bg_stats>() == 16 * 8, "bg_stats keeps its size");

/// What the error handler is told about a failure nobody waited for.
#[repr(C)]
pub struct bg_failure {
    /// The task's function and argument.
    pub func: bg_fn,
    pub arg: *mut c_void,
    /// The non-zero code it returned.
    pub code: c_int,
    /// 0: a fire-and-forget task (bg_spawn); 1: a task whose handle was
    /// released without a wait seeing its failure.
    pub unobserved_handle: c_int,
}

/// Receives failures nobody waited for. Runs on the thread where the failure
/// became unobservable (a worker, or the thread releasing the last handle).
pub type bg_error_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, failure: *const bg_failure)>;

pub(crate) fn submit_error_status(e: SubmitError) -> bg_status {
    match e {
        SubmitError::Shutdown => BG_ESHUTDOWN,
        SubmitError::Full => BG_EFULL,
        SubmitError::Forked => BG_EFORKED,
    }
}

pub(crate) fn shutdown_error_status(e: ShutdownError) -> bg_status {
    match e {
        ShutdownError::WouldDeadlock => BG_EDEADLK,
        ShutdownError::Timeout => BG_ETIMEDOUT,
        ShutdownError::Forked => BG_EFORKED,
    }
}

pub(crate) fn resize_error_status(e: ResizeError) -> bg_status {
    match e {
        ResizeError::InvalidSize => BG_EINVAL,
        ResizeError::Shutdown => BG_ESHUTDOWN,
        ResizeError::Forked => BG_EFORKED,
        ResizeError::NoThreads(_) => BG_ENOMEM,
    }
}

fn io_status(e: std::io::Error) -> bg_status {
    match e.kind() {
        std::io::ErrorKind::InvalidInput => BG_EINVAL,
        std::io::ErrorKind::NotConnected => BG_ESHUTDOWN,
        _ => BG_ENOMEM,
    }
}

/// Creates a pool and starts its threads. `options` may be NULL for the
/// defaults. On success writes the pool to `*pool_out` and returns BG_OK;
/// otherwise BG_EINVAL (bad options, wrong `struct_size`, NULL `pool_out`)
/// or BG_ENOMEM (threads could not be created).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_new(options: *const bg_pool_options, pool_out: *mut *mut bg_pool) -> bg_status {
    boundary(|| {
        if pool_out.is_null() {
            return BG_EINVAL;
        }
        let cfg = match read_options(options) {
            Ok(c) => c,
            Err(s) => return s,
        };
        match Pool::new(cfg) {
            Ok(p) => {
                put(pool_out, to_c(Box::into_raw(p)));
                BG_OK
            }
            Err(e) => io_status(e),
        }
    })
}

/// Submits `fn(arg)` to `pool`. If `task_out` is not NULL, a handle is
/// written there (release it with bg_task_release()); if it is NULL the task
/// is fire-and-forget and its failures go to the pool's error handler.
///
/// On BG_OK the library owns `arg` until `fn` runs, or, if `fn` never runs
/// (cancelled, cancel shutdown), `drop(arg)` runs exactly once (`drop` may be
/// NULL). On any error nothing was queued, `drop` is not called and `arg` is
/// still yours: BG_EINVAL, BG_ESHUTDOWN, BG_EFULL, BG_EFORKED.
///
/// Called from a worker of `pool` the task goes on that worker's own deque
/// (and is accepted while the pool drains); elsewhere on the pool's queue.
///
/// Order: tasks submitted from outside a one-thread pool start in submission
/// order (a background serial executor), as long as it has had one thread
/// since they were queued. They also run one at a time only if
/// `max_threads` is 1: otherwise a task that blocks lets a spare thread
/// start the next (see bg_pool_options.max_threads). With more threads they
/// are taken oldest first but start in parallel, with no order promised
/// (use a serial queue or a keyed lane for that); a task's own submissions
/// run newest first on its worker.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_submit(
    pool: *mut bg_pool,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    task_out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        if task_out.is_null() {
            return p.spawn(f, arg, drop).map_or_else(submit_error_status, |_| BG_OK);
        }
        match p.submit(f, arg, drop) {
            Ok(t) => {
                put(task_out, to_c(t));
                BG_OK
            }
            Err(e) => submit_error_status(e),
        }
    })
}

pub(crate) fn shutdown_mode(mode: u32) -> Option<ShutdownMode> {
    match mode {
        0 => Some(ShutdownMode::Drain),
        1 => Some(ShutdownMode::Cancel),
        _ => None,
    }
}

/// Shuts `pool` down and joins its threads (see bg_shutdown_mode for `mode`).
/// New submissions from outside the pool are refused from the moment this
/// is called.
///
/// Returns BG_OK once every worker has exited; BG_ETIMEDOUT if they had not
/// within `timeout_ns` (BG_FOREVER = no limit): they keep finishing, and a
/// later call waits again (a cancel after a timed-out drain escalates);
/// BG_EDEADLK if called from one of the pool's own workers, or from a task
/// of the pool its waiter runs (see bg_wait()) (the close has begun; join
/// from outside); BG_EFORKED for a pool of a fork() parent;
/// BG_EINVAL. Calling it again after BG_OK returns BG_OK.
#[no_mangle]
pub extern "C" fn bg_pool_shutdown(pool: *mut bg_pool, mode: u32, timeout_ns: u64) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let Some(m) = shutdown_mode(mode) else { return BG_EINVAL };
        p.registry().shutdown(m, deadline_after(timeout_ns)).map_or_else(shutdown_error_status, |_| BG_OK)
    })
}

/// Shuts the pool down in drain mode if that is not done yet (waiting as long
/// as it takes), then frees it. Handles of its tasks stay valid.
///
/// Returns BG_OK; BG_EDEADLK from one of the pool's own workers or a task
/// of the pool its waiter runs (nothing is freed); BG_EINVAL for NULL, a
/// freed pool or the default pool. A pool of a fork() parent is freed
/// without joining threads the child does not have.
#[no_mangle]
pub extern "C" fn bg_pool_free(pool: *mut bg_pool) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if p.is_default {
            return BG_EINVAL;
        }
        match p.registry().shutdown(ShutdownMode::Drain, None) {
            Ok(()) => {
                p.mark_dead();
                // SAFETY: a live, non-default pool came from Box::into_raw in
                // bg_pool_new, and the caller gives it up with this call.
                drop(unsafe { take_box(pool) });
                BG_OK
            }
            Err(ShutdownError::Forked) => {
                // Inherited from a fork() parent: its locks and thread handles
                // belong to threads this process does not have. Leak it.
                p.mark_dead();
                BG_OK
            }
            Err(e) => shutdown_error_status(e),
        }
    })
}

/// Resizes a live pool to `threads` (1 to 1024): grows at once; shrinks as
/// surplus workers finish their current task. Never drains, never loses work.
/// Returns BG_OK, BG_EINVAL, BG_ESHUTDOWN, BG_EFORKED or BG_ENOMEM.
#[no_mangle]
pub extern "C" fn bg_pool_set_threads(pool: *mut bg_pool, threads: usize) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        p.registry().set_threads(threads).map_or_else(resize_error_status, |_| BG_OK)
    })
}

/// The number of worker threads `pool` is sized to; 0 for NULL.
#[no_mangle]
pub extern "C" fn bg_pool_threads(pool: *const bg_pool) -> usize {
    boundary(|| try_ref(pool).map_or(0, |p| p.registry().target()))
}

/// Writes a snapshot of the pool's counters to `*out`.
#[no_mangle]
pub extern "C" fn bg_pool_stats(pool: *const bg_pool, out: *mut bg_stats) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if out.is_null() {
            return BG_EINVAL;
        }
        let s = p.registry().stats();
        let v = bg_stats {
            threads: s.threads,
            queued: s.queued,
            running: s.running,
            completed: s.completed,
            failed: s.failed,
            cancelled: s.cancelled,
            steals: s.steals,
            blocked: s.blocked,
            spares: s.spares,
            expired: s.expired,
            paused: s.paused,
            busy: s.busy,
            timed: s.timed,
            queue_wait_ns: s.wait_ns,
            run_ns: s.run_ns,
            reserved: [0; 1],
        };
        put(out, v);
        BG_OK
    })
}

/// An error handler that ignores every failure: pass it to
/// bg_pool_set_error_handler() to silence a pool.
#[no_mangle]
pub extern "C" fn bg_error_ignore(ctx: *mut c_void, failure: *const bg_failure) {
    let _ = (ctx, failure);
}

/// Replaces the pool's error handler, which receives failures nobody waited
/// for: fire-and-forget tasks that returned non-zero, and failed tasks whose
/// last handle was released without a wait seeing the failure. NULL
/// restores the default (one line on stderr naming the task and its code);
/// bg_error_ignore silences. `ctx` is passed to every call; it must stay
/// valid while the handler is installed. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_set_error_handler(pool: *mut bg_pool, handler: bg_error_fn, ctx: *mut c_void) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let h = handler.map(|h| {
            let ctx = ctx as usize;
            Arc::new(move |f: &Failure| {
                let info = bg_failure {
                    // SAFETY: `func` is the address of the task's bg_fn, non-null by construction.
                    func: Some(unsafe {
                        std::mem::transmute::<usize, unsafe extern "C" fn(*mut c_void) -> c_int>(f.func)
                    }),
                    arg: f.arg as *mut c_void,
                    code: f.code,
                    unobserved_handle: (f.kind == FailureKind::Unobserved) as c_int,
                };
                // SAFETY: the user's handler with the user's context, as documented.
                unsafe { h(ctx as *mut c_void, &info) }
            }) as Arc<dyn Fn(&Failure) + Send + Sync>
        });
        p.registry().set_error_handler(h);
        BG_OK
    })
}
