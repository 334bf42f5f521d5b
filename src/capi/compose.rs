//! The C ABI of composition (`src/compose/`): continuations, groups, serial
//! queues and keyed lanes, batches, delayed tasks, parallel loops and
//! completion queues. Same conventions as the rest of the header.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::capi::boundary;
use crate::capi::pool::{bg_pool, pool_ref, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task, task_ref};
use crate::compose::batch::{Batch, BatchError, ItemEnd};
use crate::compose::completion::Cq;
use crate::compose::group::{Group, GroupEnd, GroupRefusal};
use crate::compose::lanes::Lanes;
use crate::compose::serial::Queue;
use crate::compose::timer::{AddError, TimerSlot};
use crate::compose::{continuation, parallel_for, UserJob};
use crate::job::RawFn;
use crate::registry::{self, Registry};
use crate::sync::{deadline_after, now_ns};
use crate::task::{Task, TaskEnd};

// ---- handles ---------------------------------------------------------------

/// What a C pointer to one of these objects points at: a magic word that
/// catches most freed or foreign pointers, and the object.
struct Handle<T> {
    magic: AtomicU64,
    inner: T,
}

const DEAD: u64 = 0x6465_6164_6465_6164;
const GROUP: u64 = 0x6267_5f67_726f_7570; // "bg_group"
const SERIAL: u64 = 0x6267_5f73_6572_6961; // "bg_seria"
const BATCH: u64 = 0x6267_5f62_6174_6368; // "bg_batch"
const CQ: u64 = 0x6267_5f63_715f_5f5f; // "bg_cq___"

fn new_handle<T, C>(magic: u64, inner: T) -> *mut C {
    Box::into_raw(Box::new(Handle { magic: AtomicU64::new(magic), inner })) as *mut C
}

fn handle_ref<'a, T, C>(p: *const C, magic: u64) -> Option<&'a T> {
    // SAFETY: non-null pointers from C are assumed to be handles we returned;
    // the magic check then catches most freed or foreign pointers.
    let h = unsafe { (p as *const Handle<T>).as_ref()? };
    (h.magic.load(Ordering::Relaxed) == magic).then_some(&h.inner)
}

fn free_handle<T, C>(p: *mut C, magic: u64) -> Option<T> {
    handle_ref::<T, C>(p, magic)?;
    // SAFETY: a live handle of this type came from Box::into_raw in new_handle.
    let h = unsafe { Box::from_raw(p as *mut Handle<T>) };
    h.magic.store(DEAD, Ordering::Relaxed);
    Some(h.inner)
}

/// Writes `v` to `*out`.
fn put<T>(out: *mut T, v: T) {
    // SAFETY: every caller checked `out` non-null; C passes writable storage.
    unsafe { *out = v };
}

/// The status and result code a wait reports for `end`.
fn end_code(end: TaskEnd) -> (bg_status, c_int) {
    match end {
        TaskEnd::Ran(0) => (BG_OK, 0),
        TaskEnd::Ran(code) => (BG_EFAILED, code),
        TaskEnd::Cancelled => (BG_ECANCELLED, 0),
        TaskEnd::Shutdown => (BG_ESHUTDOWN, 0),
        TaskEnd::Forked => (BG_EFORKED, 0),
    }
}

// ---- continuations -----------------------------------------------------------

/// A continuation's function: runs once its antecedent task has ended.
/// `status` is how that task ended (BG_OK, BG_EFAILED, BG_ECANCELLED,
/// BG_ESHUTDOWN or BG_EFORKED, as bg_wait() would report it) and `result`
/// its code (0 unless it ran). The return value is the continuation's own
/// result code.
pub type bg_then_fn = Option<unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int>;

type ThenFn = unsafe extern "C" fn(arg: *mut c_void, status: bg_status, result: c_int) -> c_int;

/// How the core calls a continuation: the C function type lives here.
unsafe fn call_then(func: RawFn, arg: *mut c_void, antecedent: TaskEnd) -> c_int {
    // SAFETY: bg_then stored a ThenFn as the task's RawFn; this is its type.
    let f = std::mem::transmute::<RawFn, ThenFn>(func);
    let (status, result) = end_code(antecedent);
    f(arg, status, result)
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
        let Some(t) = task_ref(task) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        let Some(reg) = registry::by_id(t.pool_id()) else { return BG_ESHUTDOWN };
        if let Err(e) = continuation::admits(&reg) {
            return submit_error_status(e);
        }
        // SAFETY: fn pointers of any type may be stored as another; only
        // call_then calls it, as a ThenFn again.
        let func = unsafe { std::mem::transmute::<ThenFn, RawFn>(f) };
        // SAFETY: `t` is live and belongs to `reg`; `func` is what call_then expects.
        let c = unsafe { continuation::then(reg, t, func, call_then, arg, drop) };
        if out.is_null() {
            // SAFETY: the reference `then` returned is ours to drop.
            unsafe { Task::release(c) };
        } else {
            put(out, c as *mut bg_task);
        }
        BG_OK
    })
}

// ---- groups --------------------------------------------------------------------

/// A set of tasks submitted together and waited for, failed and cancelled
/// together (dispatch groups, TBB `task_group`, Go's errgroup).
///
/// Ownership: bg_group_new() gives you the group; bg_group_free() frees
/// it. Its tasks do not need it: freeing it leaves them running and their
/// handles valid.
///
/// Thread safety: every function may be called from any thread at once,
/// except that nothing may use a group during or after its bg_group_free().
///
/// Functions: bg_group_new(), bg_group_submit(), bg_group_wait(),
/// bg_group_cancel(), bg_group_free().
pub struct bg_group {
    _private: [u8; 0],
}

/// Flags for bg_group_new().
#[repr(C)]
pub enum bg_group_flags {
    BG_GROUP_DEFAULT = 0,
    /// At the first task that fails (returns non-zero), cancel the group:
    /// tasks not yet started never run (their drops run) and later submits
    /// are refused (Go's errgroup.WithContext).
    BG_GROUP_CANCEL_ON_ERROR = 1,
}

/// Creates a group whose tasks run on `pool`. `flags`: bg_group_flags.
/// Returns BG_OK and the group in `*out`, or BG_EINVAL (NULL or dead pool,
/// unknown flags, NULL `out`).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_group_new(pool: *mut bg_pool, flags: u32, out: *mut *mut bg_group) -> bg_status {
    boundary(|| {
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        if flags > 1 || out.is_null() {
            return BG_EINVAL;
        }
        let g = Group::new(Arc::clone(p.registry()), flags == 1);
        put(out, new_handle::<_, bg_group>(GROUP, g));
        BG_OK
    })
}

/// Submits `fn(arg)` to the group's pool as a member of the group, as
/// bg_pool_submit() does (same ownership of `arg` and `drop`); `out` is
/// optional. A member's failure is reported through bg_group_wait(), never
/// to the error handler.
///
/// Returns BG_OK, or (nothing queued, `arg` still yours) BG_ECANCELLED
/// (the group was cancelled, explicitly or on error), BG_EINVAL,
/// BG_ESHUTDOWN, BG_EFULL, BG_EFORKED.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_group_submit(
    group: *mut bg_group,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(g) = handle_ref::<Arc<Group>, _>(group, GROUP) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        if g.reg.is_forked() {
            return BG_EFORKED; // before taking a lock a parent thread may have held
        }
        match g.submit(f, arg, drop, !out.is_null()) {
            Ok(t) => {
                if !out.is_null() {
                    put(out, t as *mut bg_task);
                }
                BG_OK
            }
            Err(GroupRefusal::Cancelled) => BG_ECANCELLED,
            Err(GroupRefusal::Pool(e)) => submit_error_status(e),
        }
    })
}

/// Waits until every task submitted to the group so far has ended. Called
/// from a worker thread, it runs other queued work meanwhile (as bg_wait(),
/// and with bg_wait_timeout()'s bound on a timed wait: a zero timeout polls).
///
/// Returns BG_OK (every task ran and returned 0), BG_EFAILED (at least one
/// returned non-zero; the first failure's code goes to `*first_error`),
/// BG_ECANCELLED (none failed, but some never ran: cancelled, or dropped by
/// a cancel shutdown), BG_ETIMEDOUT (`timeout_ns` passed first;
/// BG_FOREVER waits as long as it takes), BG_EFORKED, BG_EINVAL.
/// `first_error` may be NULL. The outcome accumulates over the group's
/// life; a group may be waited for again after more submits.
#[no_mangle]
pub extern "C" fn bg_group_wait(group: *mut bg_group, timeout_ns: u64, first_error: *mut c_int) -> bg_status {
    boundary(|| {
        let Some(g) = handle_ref::<Arc<Group>, _>(group, GROUP) else { return BG_EINVAL };
        if g.reg.is_forked() {
            return BG_EFORKED;
        }
        match g.wait(deadline_after(timeout_ns)) {
            None => BG_ETIMEDOUT,
            Some(GroupEnd::AllOk) => BG_OK,
            Some(GroupEnd::NotRun) => BG_ECANCELLED,
            Some(GroupEnd::Failed(code)) => {
                if !first_error.is_null() {
                    put(first_error, code);
                }
                BG_EFAILED
            }
        }
    })
}

/// Cancels the group: every task of it that has not started never runs
/// (its drop runs on this thread before this returns; its waiters see
/// BG_ECANCELLED); running tasks finish. Later bg_group_submit() calls
/// return BG_ECANCELLED. Returns BG_OK, BG_EFORKED or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_group_cancel(group: *mut bg_group) -> bg_status {
    boundary(|| {
        let Some(g) = handle_ref::<Arc<Group>, _>(group, GROUP) else { return BG_EINVAL };
        if g.reg.is_forked() {
            return BG_EFORKED;
        }
        g.cancel();
        BG_OK
    })
}

/// Frees the group. Its tasks still queued or running are not affected:
/// they run, and their handles stay valid. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_group_free(group: *mut bg_group) -> bg_status {
    boundary(|| match free_handle::<Arc<Group>, _>(group, GROUP) {
        Some(_) => BG_OK,
        None => BG_EINVAL,
    })
}

// ---- serial queues and keyed lanes -------------------------------------------

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

/// Creates a serial queue on `pool`. Returns BG_OK and the queue in
/// `*out`, or BG_EINVAL (NULL or dead pool, NULL `out`).
#[must_use]
#[no_mangle]
pub extern "C" fn bg_serial_new(pool: *mut bg_pool, out: *mut *mut bg_serial) -> bg_status {
    boundary(|| {
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        if out.is_null() {
            return BG_EINVAL;
        }
        put(out, new_handle::<_, bg_serial>(SERIAL, Queue::new(Arc::clone(p.registry()), None)));
        BG_OK
    })
}

/// Writes the handle of a queued user job to `out`, or reports a refusal.
fn queued(
    r: Result<(), (crate::registry::SubmitError, crate::job::Job)>,
    uj_task: *const Task,
    out: *mut *mut bg_task,
) -> bg_status {
    match r {
        Ok(()) => {
            if !out.is_null() {
                put(out, uj_task as *mut bg_task);
            }
            BG_OK
        }
        Err((e, job)) => {
            UserJob::refuse(uj_task, job);
            submit_error_status(e)
        }
    }
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
        let Some(q) = handle_ref::<Arc<Queue>, _>(queue, SERIAL) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        let uj = UserJob::new(&q.reg, f, arg, drop, !out.is_null());
        queued(q.submit(uj.job, uj.task), uj.task, out)
    })
}

/// Lets go of the queue without waiting: tasks already submitted still run,
/// in order, and the queue is freed after the last. Returns BG_OK or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_serial_free(queue: *mut bg_serial) -> bg_status {
    boundary(|| match free_handle::<Arc<Queue>, _>(queue, SERIAL) {
        Some(_) => BG_OK,
        None => BG_EINVAL,
    })
}

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
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        let uj = UserJob::new(p.registry(), f, arg, drop, !out.is_null());
        queued(Lanes::submit(p.registry(), key, uj.job, uj.task), uj.task, out)
    })
}

// ---- batches -------------------------------------------------------------------

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
        put(out, new_handle::<_, bg_batch>(BATCH, Batch::new()));
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
        let Some(b) = handle_ref::<Arc<Batch>, _>(batch, BATCH) else { return BG_EINVAL };
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
    boundary(|| handle_ref::<Arc<Batch>, _>(batch, BATCH).map_or(0, |b| b.len()))
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
        let Some(b) = handle_ref::<Arc<Batch>, _>(batch, BATCH) else { return BG_EINVAL };
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        if policy > 1 || out.is_null() {
            return BG_EINVAL;
        }
        match b.submit(p.registry(), policy == 0) {
            Ok(t) => {
                put(out, t as *mut bg_task);
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
        let Some(b) = handle_ref::<Arc<Batch>, _>(batch, BATCH) else { return BG_EINVAL };
        let (status, code) = match b.item_end(index) {
            Ok(ItemEnd::Ran(code)) => end_code(TaskEnd::Ran(code)),
            Ok(ItemEnd::Skipped) => (BG_ECANCELLED, 0),
            Ok(ItemEnd::Shutdown) => (BG_ESHUTDOWN, 0),
            Ok(ItemEnd::NeverStarted(end)) => end_code(end),
            Err(BatchError::NotEnded) => return BG_ERUNNING,
            Err(_) => return BG_EINVAL,
        };
        if status == BG_EFAILED && !result.is_null() {
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
    boundary(|| match free_handle::<Arc<Batch>, _>(batch, BATCH) {
        Some(b) => {
            b.discard();
            BG_OK
        }
        None => BG_EINVAL,
    })
}

// ---- delayed tasks ---------------------------------------------------------------

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
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        let reg: &Arc<Registry> = p.registry();
        if reg.is_forked() {
            return BG_EFORKED;
        }
        if !reg.is_open() {
            return BG_ESHUTDOWN;
        }
        let uj = UserJob::new(reg, f, arg, drop, !out.is_null());
        let due = now_ns().saturating_add(delay_ns);
        match TimerSlot::add(reg, due, uj.job, uj.task) {
            Ok(()) => {
                if !out.is_null() {
                    put(out, uj.task as *mut bg_task);
                }
                BG_OK
            }
            Err((e, job)) => {
                UserJob::refuse(uj.task, job);
                match e {
                    AddError::Pool(e) => submit_error_status(e),
                    AddError::Shutdown => BG_ESHUTDOWN,
                    AddError::NoThread => BG_ENOMEM,
                }
            }
        }
    })
}

// ---- parallel loops ---------------------------------------------------------------

/// A parallel loop's body: handles the items `[lo, hi)`, with the `ctx`
/// given to bg_parallel_for(). Called from several threads at once, on
/// disjoint ranges.
pub type bg_range_fn = Option<unsafe extern "C" fn(lo: usize, hi: usize, ctx: *mut c_void)>;

/// Runs `body` over `[begin, end)` in chunks of at most `grain` items
/// (0: chosen from the range and the pool's size), splitting the range
/// recursively over the pool's work-stealing deques, and returns once every
/// chunk has run (dispatch_apply, TBB parallel_for). The calling thread
/// runs chunks too: from outside the pool, the first chunk and, if the loop
/// turns out short or every worker is busy, as many as it can; a long loop
/// it leaves to the pool's threads while it waits, so that the loop uses as
/// many threads as the pool has. From inside a task it waits helping, so
/// nested loops work, even on a one-thread pool.
///
/// Returns BG_OK when every chunk ran (also for an empty range);
/// BG_ESHUTDOWN if the pool is shut down (nothing ran) or shut down in
/// cancel mode during the loop (some chunks never ran); BG_EINVAL (NULL
/// pool or body, `begin > end`); BG_EFORKED.
#[no_mangle]
pub extern "C" fn bg_parallel_for(
    pool: *mut bg_pool,
    begin: usize,
    end: usize,
    grain: usize,
    body: bg_range_fn,
    ctx: *mut c_void,
) -> bg_status {
    boundary(|| {
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        let Some(body) = body else { return BG_EINVAL };
        if begin > end {
            return BG_EINVAL;
        }
        match parallel_for::parallel_for(p.registry(), begin, end, grain, body, ctx) {
            Ok(true) => BG_OK,
            Ok(false) => BG_ESHUTDOWN,
            Err(e) => submit_error_status(e),
        }
    })
}

// ---- completion queues ---------------------------------------------------------------

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
                put(out, new_handle::<_, bg_cq>(CQ, cq));
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
    boundary(|| handle_ref::<Arc<Cq>, _>(cq, CQ).map_or(-1, |q| q.fd()))
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
        let Some(q) = handle_ref::<Arc<Cq>, _>(cq, CQ) else { return BG_EINVAL };
        let Some(t) = task_ref(task) else { return BG_EINVAL };
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
        let Some(q) = handle_ref::<Arc<Cq>, _>(cq, CQ) else { return BG_EINVAL };
        let Some(p) = pool_ref(pool) else { return BG_EINVAL };
        let Some(f) = func else { return BG_EINVAL };
        match p.submit(f, arg, drop) {
            Ok(t) => {
                // SAFETY: we hold the reference submit gave us.
                q.watch(unsafe { &*t }, user_data);
                if out.is_null() {
                    // SAFETY: as above; the task keeps running without it.
                    unsafe { Task::release(t) };
                } else {
                    put(out, t as *mut bg_task);
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
        let Some(q) = handle_ref::<Arc<Cq>, _>(cq, CQ) else { return 0 };
        if out.is_null() {
            return 0;
        }
        let mut i = 0;
        q.drain(max, |r| {
            let (status, result) = end_code(r.end);
            let c = bg_completion { task: r.task as *mut bg_task, status, result, user_data: r.user_data };
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
    boundary(|| match free_handle::<Arc<Cq>, _>(cq, CQ) {
        Some(q) => {
            q.close();
            BG_OK
        }
        None => BG_EINVAL,
    })
}
