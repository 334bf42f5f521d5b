use std::ffi::{c_int, c_void};

use crate::capi::castable::{to_c, try_ref, Castable};
use crate::capi::pool::submit_error_status;
use crate::capi::status::bg_status::{self, *};
use crate::capi::{boundary, put};
use crate::default_pool;
use crate::sync::deadline_after;
use crate::task::{CancelError, Task, TaskEnd, WaitError};

/// A task's function. It receives the `arg` given at submission, and its
/// return value is the task's result code: 0 for success, anything else is
/// the task's own failure code (as with C11 `thrd_start_t`).
///
/// The same code means the same in every language: the C++ and Go bindings
/// return 0 for success and BG_RESULT_BINDING_FAILED for an exception, an
/// error or a panic, in every construct (spawn, submit, group, serial queue,
/// batch, continuation).
pub type bg_fn = Option<unsafe extern "C" fn(arg: *mut c_void) -> c_int>;

/// The result code the C++ and Go bindings give a task that failed with an
/// exception, an error or a panic (INT_MIN, which C tasks should not use).
/// It counts as any non-zero code: in bg_stats.failed, BG_EFAILED from waits,
/// a failure to groups, batches and continuations, and a handler set with
/// bg_pool_set_error_handler() receives it when nobody observed it. The
/// default handler does not print it: the binding delivers the details
/// itself, to whoever waits, else to its own error handler.
pub const BG_RESULT_BINDING_FAILED: c_int = -0x7fff_ffff - 1;
const _: () = assert!(BG_RESULT_BINDING_FAILED == crate::error::BINDING_FAILED);

/// Frees a task's `arg` when its function will never run (cancelled, or its
/// pool shut down in cancel mode). Runs exactly once in that case and never
/// when the function runs: a function that runs owns its `arg`.
pub type bg_drop_fn = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// A handle to one submitted task: waitable, pollable, cancellable.
///
/// Ownership: reference-counted. bg_submit() and bg_pool_submit() give you
/// one reference; bg_task_retain() adds one; bg_task_release() drops one.
/// Releasing never cancels: the task still runs.
///
/// Thread safety: every function may be called on the same handle from any
/// number of threads at once (each holding its own reference).
///
/// Functions: bg_wait(), bg_wait_timeout(), bg_wait_ex(), bg_done(),
/// bg_cancel(), bg_task_retain(), bg_task_release().
pub struct bg_task {
    _private: [u8; 0],
}

impl Castable for bg_task {
    type Rust = Task;
    fn is_live(t: &Task) -> bool {
        t.is_live()
    }
}

/// Flags for bg_wait_ex().
#[repr(C)]
pub enum bg_wait_flags {
    /// Default: a waiting worker thread runs other queued work meanwhile.
    BG_WAIT_HELP = 0,
    /// Block without running other work, even on a worker thread. For callers
    /// that hold a lock another task might take. A worker blocked like this
    /// counts as blocked: a spare thread runs the work queued behind it
    /// (within the pool's max_threads; at that bound, if every thread of a
    /// pool blocks like this on tasks still queued in it, nothing runs them).
    BG_WAIT_NO_HELP = 1,
    /// With a zero timeout, from a thread outside every pool: run the task
    /// on the calling thread if no worker has started it, else return
    /// BG_ETIMEDOUT at once. With no timeout (BG_FOREVER) that is what a
    /// wait does anyway (see bg_wait()); with any other timeout, no run
    /// here. May be combined with BG_WAIT_NO_HELP.
    BG_WAIT_RUN_HERE = 2,
    /// Never run the task on the calling thread: sleep until a worker has
    /// run it, even where a wait with no timeout would run a task no worker
    /// has started itself (see bg_wait()). For a caller whose thread-local
    /// state the task must not see, or that holds a lock the task takes
    /// (recursively, or for an invariant it breaks). Not with
    /// BG_WAIT_RUN_HERE.
    BG_WAIT_NO_RUN_HERE = 4,
}

const WAIT_NO_HELP: u32 = bg_wait_flags::BG_WAIT_NO_HELP as u32;
const WAIT_RUN_HERE: u32 = bg_wait_flags::BG_WAIT_RUN_HERE as u32;
const WAIT_NO_RUN_HERE: u32 = bg_wait_flags::BG_WAIT_NO_RUN_HERE as u32;

fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

fn errno_of(s: bg_status) -> c_int {
    match s {
        BG_EINVAL => libc::EINVAL,
        BG_ESHUTDOWN => libc::ESHUTDOWN,
        BG_EFULL => libc::EAGAIN,
        BG_EFORKED => libc::ECHILD,
        _ => libc::ENOMEM,
    }
}

/// The pool plain bg_submit()/bg_spawn() use: the calling worker's own pool
/// inside a task (queued on its own deque), the default pool elsewhere.
fn ambient_submit(f: bg_fn, arg: *mut c_void, want_handle: bool) -> Result<*const Task, bg_status> {
    let Some(f) = f else { return Err(BG_EINVAL) };
    let reg = default_pool::ambient().map_err(|_| BG_ENOMEM)?;
    let r =
        if want_handle { reg.submit_fn(f, arg, None) } else { reg.spawn_fn(f, arg, None).map(|_| std::ptr::null()) };
    r.map_err(submit_error_status)
}

/// Submits `fn(arg)` and returns a handle to wait on, poll or cancel.
///
/// Runs on the default pool (started on first use), or, when called from
/// inside a task, on that task's own pool (bg_current_pool()), queued on
/// the calling worker.
/// Returns NULL if the task was not accepted, with errno set: EINVAL (`fn`
/// is NULL), ESHUTDOWN (the pool is shut down), EAGAIN (queue full), ECHILD
/// (default pool of a forked parent), ENOMEM. `arg` stays yours then.
///
/// Release the handle with bg_task_release() when done with it.
#[no_mangle]
pub extern "C" fn bg_submit(func: bg_fn, arg: *mut c_void) -> *mut bg_task {
    boundary(|| match ambient_submit(func, arg, true) {
        Ok(t) => to_c(t),
        Err(s) => {
            set_errno(errno_of(s));
            std::ptr::null_mut()
        }
    })
}

/// Fire and forget: submits `fn(arg)` without a handle (nothing is allocated
/// per task). Same pool choice as bg_submit().
///
/// If `fn` returns non-zero, the failure goes to the pool's error handler
/// (by default one line on stderr). Returns BG_OK, or BG_EINVAL,
/// BG_ESHUTDOWN, BG_EFULL, BG_EFORKED, BG_ENOMEM; on error `arg` stays yours.
#[no_mangle]
pub extern "C" fn bg_spawn(func: bg_fn, arg: *mut c_void) -> bg_status {
    boundary(|| match ambient_submit(func, arg, false) {
        Ok(_) => BG_OK,
        Err(s) => s,
    })
}

/// The status a wait reports for `end`, and the result code (0 unless it ran).
pub(crate) fn end_code(end: TaskEnd) -> (bg_status, c_int) {
    match end {
        TaskEnd::Ran(0) => (BG_OK, 0),
        TaskEnd::Ran(code) => (BG_EFAILED, code),
        TaskEnd::Cancelled => (BG_ECANCELLED, 0),
        TaskEnd::Shutdown => (BG_ESHUTDOWN, 0),
        TaskEnd::Forked => (BG_EFORKED, 0),
        TaskEnd::Expired => (BG_EEXPIRED, 0),
    }
}

/// The status a wait reports for `end`; `*result` gets the code if it ran.
fn end_status(end: TaskEnd, result: *mut c_int) -> bg_status {
    let (status, code) = end_code(end);
    if let TaskEnd::Ran(_) = end {
        put(result, code);
    }
    status
}

fn wait_common(t: *mut bg_task, timeout_ns: u64, flags: u32, result: *mut c_int) -> bg_status {
    let Some(task) = try_ref(t) else { return BG_EINVAL };
    let all = WAIT_NO_HELP | WAIT_RUN_HERE | WAIT_NO_RUN_HERE;
    if flags & !all != 0 || flags & WAIT_RUN_HERE != 0 && flags & WAIT_NO_RUN_HERE != 0 {
        return BG_EINVAL;
    }
    let deadline = deadline_after(timeout_ns);
    // Caller-runs: a task still queued runs here rather than the caller
    // sleeping until a worker has woken, run it, and woken the caller.
    // Not with a deadline, which a task run here could outlast; but, when
    // asked, with a zero timeout (no waiting at all): run it if nobody has
    // started it, else report at once (a caller that waits its own way,
    // as the Go binding does, asks this first).
    let run_here =
        flags & WAIT_NO_RUN_HERE == 0 && (deadline.is_none() || flags & WAIT_RUN_HERE != 0 && timeout_ns == 0);
    if run_here {
        task.run_here();
    }
    match task.wait(deadline, flags & WAIT_NO_HELP == 0) {
        Ok(end) => end_status(task.observe(end), result),
        Err(WaitError::Timeout) => BG_ETIMEDOUT,
        Err(WaitError::WouldDeadlock) => BG_EDEADLK,
    }
}

/// Waits until the task ends (like thrd_join).
///
/// Returns BG_OK (it ran and returned 0; `*result` = 0), BG_EFAILED (it ran
/// and returned non-zero; that code in `*result`), BG_ECANCELLED or
/// BG_ESHUTDOWN (it never ran; `*result` untouched), BG_EFORKED (the task
/// belongs to the parent of this forked process), BG_EDEADLK (called from a
/// task of a serial queue or keyed lane on a task queued after it on the
/// same queue, which cannot start before the caller ends), or BG_EINVAL.
/// `result` may be NULL. Any number of threads may wait on one task.
///
/// Called from a worker thread, the wait runs other queued work of that
/// worker's pool until the task ends, so a task may wait for tasks it
/// submitted even on a one-thread pool. See bg_wait_ex() to opt out.
///
/// A wait with no timeout from a thread that is no pool's worker runs the
/// task itself if no worker has started it (caller-runs, as TBB's and
/// GLib's waits do): no thread is woken to start it and none to wake the
/// caller back. BG_WAIT_NO_RUN_HERE in bg_wait_ex() opts out (read who
/// needs to there); a wait with a timeout never runs it (see
/// BG_WAIT_RUN_HERE for a zero one).
/// The task then runs on the calling thread, exactly once (its queued copy
/// is skipped): bg_current_pool(), bg_submit() and bg_join() inside it see
/// the task's pool as usual, and bg_pool_shutdown() or bg_pool_wait_idle()
/// of that pool from inside it is refused with BG_EDEADLK as on a worker;
/// but the thread, its name and its thread-local state are the caller's.
/// bg_pool_stats() counts it as it ends. Only tasks from bg_submit(),
/// bg_pool_submit() and group submits are run so, on pools without thread
/// hooks (on_thread_start, on_thread_stop) and without task timing or task
/// hooks, and never while the pool is paused or cancelling its queue;
/// others are waited for as usual.
#[no_mangle]
pub extern "C" fn bg_wait(task: *mut bg_task, result: *mut c_int) -> bg_status {
    boundary(|| wait_common(task, u64::MAX, 0, result))
}

/// bg_wait() with a timeout in nanoseconds (BG_FOREVER = no limit); returns
/// BG_ETIMEDOUT if the task has not ended by then.
///
/// On a worker thread the wait runs other queued work only while its
/// deadline has not passed, so it returns late by at most the run time of
/// one task it started before the deadline; a zero timeout never runs
/// other work (it only polls).
#[no_mangle]
pub extern "C" fn bg_wait_timeout(task: *mut bg_task, timeout_ns: u64, result: *mut c_int) -> bg_status {
    boundary(|| wait_common(task, timeout_ns, 0, result))
}

/// bg_wait_timeout() with flags from bg_wait_flags. BG_WAIT_NO_HELP blocks
/// the calling worker without running other work (read its hazard);
/// BG_WAIT_RUN_HERE lets a thread outside the pool run the task itself with
/// a zero timeout, BG_WAIT_NO_RUN_HERE never (see bg_wait()). Other bits,
/// or both of the last two: BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_wait_ex(task: *mut bg_task, timeout_ns: u64, flags: u32, result: *mut c_int) -> bg_status {
    boundary(|| wait_common(task, timeout_ns, flags, result))
}

/// True if the task has ended (ran, was cancelled, or was dropped by a
/// shutdown). Never blocks. False for NULL.
#[no_mangle]
pub extern "C" fn bg_done(task: *const bg_task) -> bool {
    boundary(|| try_ref(task).is_some_and(|t| t.end().is_some()))
}

/// Cancels the task if it has not started: its drop runs (on this thread,
/// before this returns) and every waiter wakes with BG_ECANCELLED.
///
/// Returns BG_OK if this call cancelled it, BG_ERUNNING if it is running
/// (it finishes normally), BG_EDONE if it has already ended, BG_EFORKED if
/// it belongs to the parent of this fork()ed process (nothing runs here),
/// BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_cancel(task: *mut bg_task) -> bg_status {
    boundary(|| {
        let Some(t) = try_ref(task) else { return BG_EINVAL };
        if t.end() == Some(TaskEnd::Forked) {
            return BG_EFORKED;
        }
        match t.cancel() {
            Ok(()) => BG_OK,
            Err(CancelError::Running) => BG_ERUNNING,
            Err(CancelError::Finished) => BG_EDONE,
        }
    })
}

/// Adds a reference to the handle and returns it (NULL for NULL).
#[no_mangle]
pub extern "C" fn bg_task_retain(task: *mut bg_task) -> *mut bg_task {
    boundary(|| match try_ref(task) {
        Some(t) => {
            t.retain();
            task
        }
        None => std::ptr::null_mut(),
    })
}

/// Drops a reference. Never cancels: the task still runs. NULL is a no-op
/// (BG_OK); a pointer that is detectably not a live handle gets BG_EINVAL,
/// and so does a release of a still-queued task that would drop more
/// references than were taken (nothing is freed then).
///
/// If this was the last reference to a task that failed and nobody observed
/// the failure through a wait, the failure goes to the pool's error handler.
#[no_mangle]
pub extern "C" fn bg_task_release(task: *mut bg_task) -> bg_status {
    boundary(|| {
        if task.is_null() {
            return BG_OK;
        }
        let Some(t) = try_ref(task) else { return BG_EINVAL };
        // SAFETY: try_ref found it live; an over-release is refused, not freed.
        match unsafe { Task::release_checked(t) } {
            Ok(()) => BG_OK,
            Err(_) => BG_EINVAL,
        }
    })
}
