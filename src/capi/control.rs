//! Control of a running pool: pause and resume, waiting until it is idle;
//! the blocking hint a task gives its pool.

use crate::capi::boundary;
use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::control::IdleError;
use crate::sync::deadline_after;

/// Pauses `pool`: tasks running now finish, queued tasks wait, and workers
/// take nothing new until bg_pool_resume(); idle workers sleep (no CPU).
/// Submits are still accepted (within `max_queued`); delayed tasks that fall
/// due meanwhile are queued and wait too; a serial queue or keyed lane
/// stops between two of its tasks. A task that waits, inside the pool, for
/// a task still queued waits until the resume. bg_stats.paused is 1
/// while paused.
///
/// Shutting a paused pool down resumes it first: a drain runs what is
/// queued, a cancel shutdown cancels it (drops run, waiters get
/// BG_ESHUTDOWN). Resizing a paused pool is allowed; new workers stay idle.
///
/// Pausing a paused pool is allowed. Returns BG_OK, BG_ESHUTDOWN (shutdown
/// has begun), BG_EFORKED or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_pause(pool: *mut bg_pool) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        p.registry().pause().map_or_else(submit_error_status, |_| BG_OK)
    })
}

/// Lets the workers of a paused pool take queued tasks again. Resuming a
/// pool that is not paused does nothing. Returns BG_OK, BG_EFORKED or BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_resume(pool: *mut bg_pool) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if p.registry().is_forked() {
            return BG_EFORKED;
        }
        p.registry().resume();
        BG_OK
    })
}

/// Waits until `pool` is idle: nothing queued and nothing running (there
/// was an instant with neither), without shutting it down, so it can be
/// used again (zstd's POOL_joinJobs, thpool_wait). Tasks still waiting for
/// their delay, or in a limiter behind a running task, are not queued yet;
/// a task ending queues the next of its serial queue, lane or limiter
/// before it counts as ended. Tasks submitted meanwhile are waited for too:
/// with producers still submitting it may never return.
///
/// The wait polls, with a backoff from 10 µs to 1 ms, and costs the pool
/// nothing while nobody waits. A paused pool with tasks queued is not idle.
///
/// Returns BG_OK; BG_ETIMEDOUT when `timeout_ns` passed first (BG_FOREVER:
/// no limit); BG_EDEADLK from one of the pool's own workers, or from a
/// task of the pool its waiter runs (it is never idle while that task
/// runs); BG_EFORKED; BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_wait_idle(pool: *mut bg_pool, timeout_ns: u64) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        match p.registry().wait_idle(deadline_after(timeout_ns)) {
            Ok(()) => BG_OK,
            Err(IdleError::Timeout) => BG_ETIMEDOUT,
            Err(IdleError::WouldDeadlock) => BG_EDEADLK,
            Err(IdleError::Forked) => BG_EFORKED,
        }
    })
}

/// Tells the pool running the calling task that the task is about to block
/// (a read, a sleep, a lock, a wait) until bg_blocking_end(): if work is
/// waiting, a spare thread takes it now rather than when the monitor
/// notices (up to a millisecond or two later). Never required: blocked
/// tasks are found without it. Trusted: a task inside the hint counts as
/// blocked (bg_stats.blocked) whatever it does, so one that computes
/// inside it puts a thread more on the CPUs. Calls nest; a task that
/// returns with a hint open has it closed. Within `max_threads`: at the cap
/// no spare starts. Outside a pool's threads it does nothing. Returns BG_OK.
#[no_mangle]
pub extern "C" fn bg_blocking_begin() -> bg_status {
    boundary(|| {
        crate::blocking::hint::begin();
        BG_OK
    })
}

/// Ends the innermost bg_blocking_begin() of the calling task. Returns
/// BG_OK, or BG_EINVAL on a pool's thread that has no hint open (outside a
/// pool's threads: BG_OK, as bg_blocking_begin() did nothing there).
#[no_mangle]
pub extern "C" fn bg_blocking_end() -> bg_status {
    boundary(|| if crate::blocking::hint::end() { BG_OK } else { BG_EINVAL })
}
