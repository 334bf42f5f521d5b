//! One extensible submit: bg_submit_options and bg_pool_submit_ex().
//!
//! The options name what the task needs (a drop, a key, a delay, a start
//! deadline, a priority, a group, a limiter, waiting for room); this file
//! checks them, makes the task and routes it to the one mechanism that
//! queues it. A new option is a field at the end of the struct and a line
//! in `read`; the short forms (bg_pool_submit(), bg_pool_submit_keyed(),
//! bg_pool_submit_after(), bg_group_submit(), bg_limit_submit()) stay.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use crate::capi::castable::{to_c, try_ref};
use crate::capi::compose::group::bg_group;
use crate::capi::compose::limit::bg_limit;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::capi::{boundary, put};
use crate::compose::group::Group;
use crate::compose::lanes::Lanes;
use crate::compose::limit::Limit;
use crate::compose::timer::{AddError, Due, TimerSlot};
use crate::control::RoomError;
use crate::priority::Priority;
use crate::registry::Registry;
use crate::sync::{deadline_after, now_ns};
use crate::task::Task;

/// A task's priority within its pool (bg_submit_options.priority).
#[repr(C)]
pub enum bg_priority {
    /// The default: the pool's deques and work stealing.
    BG_PRIORITY_NORMAL = 0,
    /// Taken before normal and low tasks, except that every 4th take of a
    /// worker looks at normal tasks first and every 16th at low ones first,
    /// so high tasks never starve the others.
    BG_PRIORITY_HIGH = 1,
    /// Taken when nothing else is queued, and on every 16th take of a worker.
    BG_PRIORITY_LOW = 2,
}

/// Flags for bg_submit_options.flags.
#[repr(C)]
pub enum bg_submit_flags {
    BG_SUBMIT_DEFAULT = 0,
    /// Use `key`: run on the keyed lane of `key` (see bg_pool_submit_keyed()).
    BG_SUBMIT_KEYED = 1,
    /// When the pool's `max_queued` bound is reached, wait up to
    /// `wait_timeout_ns` for room instead of returning BG_EFULL (BG_ETIMEDOUT
    /// then). See bg_pool_submit_wait().
    BG_SUBMIT_WAIT = 2,
}

/// What a task submitted with bg_pool_submit_ex() needs. Always initialise
/// with bg_submit_options_init() and then change fields: the struct grows
/// at the end in later versions, and `struct_size` tells the library which
/// version you compiled against.
///
/// Combinations: `deadline_ns` and `group` go with every other option.
/// `delay_ns` goes with a key, a limiter or a priority: when due, the task
/// joins its lane, its limiter or the pool's queue at its priority, and
/// waits there as if submitted then. At most one of `limit` and
/// `BG_SUBMIT_KEYED` may be set (each decides when the task is queued). A
/// `priority` other than normal applies to a task queued on the pool: with
/// `limit` or a key it is BG_EINVAL. `BG_SUBMIT_WAIT` applies to a task
/// queued straight on the pool: with `limit`, a key or a delay it is
/// BG_EINVAL.
#[repr(C)]
pub struct bg_submit_options {
    /// sizeof(bg_submit_options) as your program sees it; set by bg_submit_options_init().
    pub struct_size: usize,
    /// Frees `arg` if the task never runs (as bg_pool_submit()'s `drop`); may be NULL.
    pub drop: bg_drop_fn,
    /// bg_submit_flags, or-ed.
    pub flags: u32,
    /// With BG_SUBMIT_KEYED: the keyed lane.
    pub key: u64,
    /// Queue the task this many nanoseconds from now (as bg_pool_submit_after();
    /// with a key, a limiter or a priority, it goes there when due); 0: now.
    pub delay_ns: u64,
    /// A start deadline, in nanoseconds from now: a task no worker has taken
    /// by then never runs; its drop runs and its waiters get BG_EEXPIRED
    /// (counted in bg_stats.expired). 0: none. Checked when a worker
    /// takes the task, wherever it waited first (a delay, a lane, a limiter).
    pub deadline_ns: u64,
    /// bg_priority.
    pub priority: u32,
    /// Join this group (as bg_group_submit()); NULL: none. It must belong to the same pool.
    pub group: *mut bg_group,
    /// Run within this limiter (as bg_limit_submit()); NULL: none. It must belong to the same pool.
    pub limit: *mut bg_limit,
    /// With BG_SUBMIT_WAIT: how long to wait for room (BG_FOREVER: as long as it takes).
    pub wait_timeout_ns: u64,
}

/// Fills `options` with the defaults (a plain submit) and sets its `struct_size`.
#[no_mangle]
pub extern "C" fn bg_submit_options_init(options: *mut bg_submit_options) {
    boundary(|| {
        put(
            options,
            bg_submit_options {
                struct_size: std::mem::size_of::<bg_submit_options>(),
                drop: None,
                flags: 0,
                key: 0,
                delay_ns: 0,
                deadline_ns: 0,
                priority: 0,
                group: ptr::null_mut(),
                limit: ptr::null_mut(),
                wait_timeout_ns: 0,
            },
        )
    })
}

/// A submit's options, checked.
#[derive(Default)]
pub(crate) struct Route<'a> {
    pub(crate) drop: bg_drop_fn,
    pub(crate) key: Option<u64>,
    pub(crate) delay_ns: u64,
    pub(crate) deadline_ns: u64,
    pub(crate) priority: Option<Priority>,
    pub(crate) group: Option<&'a Arc<Group>>,
    pub(crate) limit: Option<&'a Arc<Limit>>,
    /// Wait for room until this deadline (`Some(None)`: forever).
    pub(crate) wait: Option<Option<u64>>,
}

const KNOWN_FLAGS: u32 = 1 | 2;

/// Reads options from C, checking the size the caller compiled against as
/// bg_pool_options is checked, and the combinations (see bg_submit_options).
fn read<'a>(reg: &Arc<Registry>, o: *const bg_submit_options) -> Result<Route<'a>, bg_status> {
    // SAFETY: the caller passes a readable options struct (or NULL, checked);
    // struct_size is read first and bounds every other read.
    let Some(o) = (unsafe { o.as_ref() }) else { return Ok(Route::default()) };
    let ours = std::mem::size_of::<bg_submit_options>();
    if o.struct_size < ours || o.struct_size > 4096 {
        return Err(BG_EINVAL);
    }
    if o.struct_size > ours {
        // SAFETY: the caller declared struct_size readable bytes at `o`.
        let extra = unsafe { std::slice::from_raw_parts((o as *const _ as *const u8).add(ours), o.struct_size - ours) };
        if extra.iter().any(|&b| b != 0) {
            return Err(BG_EINVAL);
        }
    }
    if o.flags & !KNOWN_FLAGS != 0 {
        return Err(BG_EINVAL);
    }
    let priority = match o.priority {
        0 => None,
        1 => Some(Priority::High),
        2 => Some(Priority::Low),
        _ => return Err(BG_EINVAL),
    };
    let group: Option<&'a Arc<Group>> = match o.group.is_null() {
        true => None,
        false => Some(try_ref::<bg_group>(o.group).ok_or(BG_EINVAL)?),
    };
    let limit: Option<&'a Arc<Limit>> = match o.limit.is_null() {
        true => None,
        false => Some(try_ref::<bg_limit>(o.limit).ok_or(BG_EINVAL)?),
    };
    if group.is_some_and(|g| !Arc::ptr_eq(&g.reg, reg)) || limit.is_some_and(|l| !Arc::ptr_eq(&l.reg, reg)) {
        return Err(BG_EINVAL);
    }
    let key = (o.flags & 1 != 0).then_some(o.key);
    // A lane or a limiter decides when the task is queued, after any delay.
    let routes = key.is_some() as u32 + limit.is_some() as u32;
    let wait = (o.flags & 2 != 0).then(|| deadline_after(o.wait_timeout_ns));
    let delayed = o.delay_ns != 0;
    if routes > 1 || (routes == 1 && priority.is_some()) || (wait.is_some() && (routes == 1 || delayed)) {
        return Err(BG_EINVAL);
    }
    Ok(Route { drop: o.drop, key, delay_ns: o.delay_ns, deadline_ns: o.deadline_ns, priority, group, limit, wait })
}

/// Submits `fn(arg)` to `pool` with `options` (NULL: as bg_pool_submit()
/// with no drop). `out` is optional, as for bg_pool_submit(); ownership of
/// `arg` and `options->drop` too: on BG_OK the library owns `arg` until
/// `fn` runs or, if it never runs, `drop(arg)` runs exactly once; on any
/// error nothing was queued and `arg` is still yours.
///
/// Returns BG_OK, or BG_EINVAL (bad arguments, a wrong `struct_size`, an
/// unknown flag or priority, a group or limiter of another pool, or an
/// unsupported combination: see bg_submit_options), BG_ESHUTDOWN,
/// BG_EFULL, BG_ETIMEDOUT (BG_SUBMIT_WAIT: still full at the timeout),
/// BG_ECANCELLED (the group was cancelled), BG_EFORKED, BG_ENOMEM (the
/// delay timer could not start).
///
/// A task with a deadline, a group or a limiter always has a handle inside
/// (the mechanism needs it); without `out`, a failure of it reaches the
/// pool's error handler as an unobserved handle's (`unobserved_handle` = 1),
/// unless it is a group's member.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_submit_ex(
    pool: *mut bg_pool,
    func: bg_fn,
    arg: *mut c_void,
    options: *const bg_submit_options,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let reg = p.registry();
        if reg.is_forked() {
            return BG_EFORKED; // before taking a lock a parent thread may have held
        }
        match read(reg, options) {
            Ok(route) => submit_routed(reg, func, arg, &route, out),
            Err(s) => s,
        }
    })
}

/// Submits `fn(arg)` to `pool`, waiting up to `timeout_ns` (BG_FOREVER: as
/// long as it takes) while the pool's `max_queued` bound is reached, where
/// bg_pool_submit() would return BG_EFULL. Ownership and `out` as
/// bg_pool_submit(). Returns BG_OK, or (nothing queued, `arg` still yours)
/// BG_ETIMEDOUT, BG_EINVAL, BG_ESHUTDOWN, BG_EFORKED.
///
/// `max_queued` counts tasks waiting in the pool's queues, never running
/// ones; an idle worker is not room by itself, but it takes a queued task
/// within microseconds, and that makes room (so with `max_queued` = 1 and
/// N workers, N tasks run and one waits). The wait polls with a backoff
/// from 10 µs to 1 ms. Called from a worker of `pool`, it runs queued tasks
/// of the pool itself while it waits, so it cannot deadlock the pool.
#[must_use]
#[no_mangle]
pub extern "C" fn bg_pool_submit_wait(
    pool: *mut bg_pool,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    timeout_ns: u64,
    out: *mut *mut bg_task,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let route = Route { drop, wait: Some(deadline_after(timeout_ns)), ..Route::default() };
        submit_routed(p.registry(), func, arg, &route, out)
    })
}

/// Makes the task and hands it to the mechanism `r` names.
pub(crate) fn submit_routed(
    reg: &Arc<Registry>,
    func: bg_fn,
    arg: *mut c_void,
    r: &Route<'_>,
    out: *mut *mut bg_task,
) -> bg_status {
    let Some(f) = func else { return BG_EINVAL };
    // A deadline, a group or a limiter needs a handle, whether or not the caller wants one.
    let handle = !out.is_null() || r.deadline_ns != 0 || r.group.is_some() || r.limit.is_some();
    let uj = if r.deadline_ns != 0 {
        let deadline = now_ns().saturating_add(r.deadline_ns);
        let (task, job) = crate::deadline::task_with_deadline(reg, f, arg, r.drop, deadline);
        crate::compose::UserJob { task, job }
    } else {
        crate::compose::UserJob::new(reg, f, arg, r.drop, handle)
    };
    if let Some(Err(())) = r.group.map(|g| g.reserve()) {
        crate::compose::UserJob::refuse(uj.task, uj.job);
        return BG_ECANCELLED;
    }
    let (task, job) = (uj.task, uj.job);
    let queued = if r.delay_ns != 0 {
        let due = now_ns().saturating_add(r.delay_ns);
        // When due it goes where it would have gone undelayed.
        let then = match (r.limit, r.key) {
            (Some(l), _) => Due::Limit(Arc::clone(l)),
            (None, Some(key)) => Due::Lane(key),
            (None, None) => Due::Pool(r.priority.unwrap_or(Priority::Normal)),
        };
        TimerSlot::add(reg, due, job, task, then).map_err(|(e, j)| {
            let s = match e {
                AddError::Pool(e) => submit_error_status(e),
                AddError::Shutdown => BG_ESHUTDOWN,
                AddError::NoThread => BG_ENOMEM,
            };
            (s, j)
        })
    } else if let Some(l) = r.limit {
        l.submit(job, task).map_err(|(e, j)| (submit_error_status(e), j))
    } else if let Some(key) = r.key {
        Lanes::submit(reg, key, job, task).map_err(|(e, j)| (submit_error_status(e), j))
    } else {
        let prio = r.priority.unwrap_or(Priority::Normal);
        match r.wait {
            Some(deadline) => reg.submit_waiting(job, prio, deadline).map_err(|(e, j)| match e {
                RoomError::Refused(e) => (submit_error_status(e), j),
                RoomError::Timeout => (BG_ETIMEDOUT, j),
            }),
            None => reg.submit_at(job, prio, true).map_err(|(e, j)| (submit_error_status(e), j)),
        }
    };
    if let Err((status, job)) = queued {
        if let Some(g) = r.group {
            g.refused();
        }
        crate::compose::UserJob::refuse(task, job);
        return status;
    }
    if let Some(g) = r.group {
        // SAFETY: we hold the user reference to `task` (non-null: a group needs a handle).
        unsafe { g.joined(task) };
    }
    if out.is_null() {
        if !task.is_null() {
            // SAFETY: the user reference we made for the mechanism; the task lives on.
            unsafe { Task::release(task) };
        }
    } else {
        put(out, to_c(task));
    }
    BG_OK
}
