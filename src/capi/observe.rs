//! Watching a pool's tasks from C: queue-wait and run-time histograms, and
//! hooks around each task (see `observe.rs` in the core).

use std::ffi::{c_int, c_void};

use crate::capi::boundary;
use crate::capi::castable::{to_c, try_ref};
use crate::capi::pool::bg_pool;
use crate::capi::put;
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_fn, bg_task};
use crate::observe::{TaskHook, TaskHooks, TaskInfo};
use crate::stats::Histogram;

/// Buckets of a bg_timing histogram: bucket `i` counts durations from
/// 2^i ns up to (not including) 2^(i+1) ns; bucket 0 also counts 0 ns and
/// the last bucket everything from 2^39 ns (about 9 minutes) up.
pub const BG_TIMING_BUCKETS: usize = 40;
const _: () = assert!(BG_TIMING_BUCKETS == crate::stats::BUCKETS);

/// How long a pool's timed tasks waited in the queue and ran (see
/// bg_pool_timing()). Durations in nanoseconds; percentiles are estimates
/// from the histograms: the upper end of the bucket the percentile falls
/// in, so at most twice the true value, never below it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct bg_timing {
    /// Tasks timed (they ran; counted when they returned).
    pub timed: u64,
    /// Total time those tasks waited from submission to start.
    pub queue_wait_ns: u64,
    /// Total time they ran.
    pub run_ns: u64,
    pub queue_wait_p50_ns: u64,
    pub queue_wait_p99_ns: u64,
    pub run_p50_ns: u64,
    pub run_p99_ns: u64,
    /// Queue waits and run times, by bucket (see BG_TIMING_BUCKETS).
    pub queue_wait_hist: [u64; BG_TIMING_BUCKETS],
    pub run_hist: [u64; BG_TIMING_BUCKETS],
}

/// Writes the pool's task timing to `*out`: all zero unless the pool times
/// its tasks (bg_pool_options.timing, or task hooks set). Returns BG_OK or
/// BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_timing(pool: *const bg_pool, out: *mut bg_timing) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        if out.is_null() {
            return BG_EINVAL;
        }
        let s = p.registry().stats();
        let (w, r): (Histogram, Histogram) = (s.wait_hist, s.run_hist);
        put(
            out,
            bg_timing {
                timed: s.timed,
                queue_wait_ns: s.wait_ns,
                run_ns: s.run_ns,
                queue_wait_p50_ns: w.quantile(0.5),
                queue_wait_p99_ns: w.quantile(0.99),
                run_p50_ns: r.quantile(0.5),
                run_p99_ns: r.quantile(0.99),
                queue_wait_hist: w.0,
                run_hist: r.0,
            },
        );
        BG_OK
    })
}

/// What a task hook is told about a task.
#[repr(C)]
pub struct bg_task_info {
    /// The pool running the task (the pointer given to bg_pool_set_task_hooks()).
    pub pool: *mut bg_pool,
    /// The index of the worker thread running it.
    pub worker: usize,
    /// The task's function and argument (a continuation's bg_then_fn, cast:
    /// a name for the tracer, not to be called as a bg_fn).
    pub func: bg_fn,
    pub arg: *mut c_void,
    /// The task's handle, valid during the call only; NULL for a
    /// fire-and-forget task.
    pub task: *mut bg_task,
    /// Nanoseconds from submission to the start of `func`.
    pub queue_wait_ns: u64,
    /// Nanoseconds `func` ran (0 in on_task_start).
    pub run_ns: u64,
    /// What `func` returned (0 in on_task_start).
    pub result: c_int,
}

/// A hook around each task: `ctx` as given to bg_pool_set_task_hooks(),
/// `info` valid during the call only.
pub type bg_task_hook = Option<unsafe extern "C" fn(ctx: *mut c_void, info: *const bg_task_info)>;

fn c_hook(h: bg_task_hook, pool: usize, ctx: usize) -> Option<TaskHook> {
    let h = h?;
    Some(Box::new(move |i: &TaskInfo| {
        let info = bg_task_info {
            pool: pool as *mut bg_pool,
            worker: i.worker,
            func: Some(i.func),
            arg: i.arg,
            task: if i.task.is_null() { std::ptr::null_mut() } else { to_c(i.task) },
            queue_wait_ns: i.queue_wait_ns,
            run_ns: i.run_ns,
            result: i.result,
        };
        // SAFETY: the user's hook with the user's context, as documented.
        unsafe { h(ctx as *mut c_void, &info) }
    }))
}

/// Sets hooks called around each task of `pool`, for feeding a tracer
/// (OpenTelemetry, perfetto): `on_task_start` just before the task's
/// function, `on_task_end` just after it, both on the worker running it,
/// with the task's queue wait, and at the end its run time and result. A
/// task's end comes on the thread of its start, and tasks a worker runs
/// nested (helping while it waits) start and end in LIFO order.
///
/// Setting hooks turns on timing (bg_pool_timing()). They see every task
/// submitted after this call, whichever call submitted it (bg_submit,
/// bg_pool_submit, bg_pool_submit_ex, bg_pool_submit_wait, groups, serial
/// queues, keyed lanes, limiters, delayed tasks, continuations); tasks that
/// never run (cancelled, expired, dropped by a cancelling shutdown) get no
/// hooks. A batch is one task (its function runs the items in order); a
/// continuation's `func` is its bg_then_fn, cast, and its queue wait counts
/// from its antecedent's end; a delayed task's counts from its submission,
/// the delay included. A task that its waiter runs on the waiting thread
/// (a wait with no timeout from outside the pool, bg_join()'s `b` when no
/// worker took it) is not a worker's and gets no hooks. Either hook may be
/// NULL; both NULL removes them (timing then stays on only if the pool was
/// created with it). A hook running while this is called may still get the
/// old `ctx`: keep it valid until the pool is shut down. Hooks must not
/// block for long: they delay the task and its waiters. Returns BG_OK or
/// BG_EINVAL.
#[no_mangle]
pub extern "C" fn bg_pool_set_task_hooks(
    pool: *mut bg_pool,
    on_task_start: bg_task_hook,
    on_task_end: bg_task_hook,
    ctx: *mut c_void,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let hooks = (on_task_start.is_some() || on_task_end.is_some()).then(|| TaskHooks {
            on_start: c_hook(on_task_start, pool as usize, ctx as usize),
            on_end: c_hook(on_task_end, pool as usize, ctx as usize),
        });
        p.registry().set_task_hooks(hooks);
        BG_OK
    })
}
