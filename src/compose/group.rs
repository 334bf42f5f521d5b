//! Groups: tasks submitted together, waited for together, failed and
//! cancelled together (dispatch groups, TBB `task_group`, Go's errgroup).
//!
//! Each member is an ordinary handle with a completion hook (`task.rs`)
//! that updates the group: the first failure code, whether some member
//! never ran, and one fewer pending. A member's end touches only atomics,
//! so the workers ending members and the thread submitting more never take
//! a lock in turn (three lock round trips per member cost a group of eight
//! short tasks half its time).
//!
//! # Waiting
//! `count` holds the pending members in its low half and, in its high half,
//! the number of times the count fell to zero: the round. A wait reads the
//! round and waits on that round's latch (`latch.rs`), which it creates if
//! no waiter has; the member that ends the round sets it. Both happen under
//! `latch`'s lock, and the waiter checks under it that the round has not
//! ended meanwhile, so no wake-up is lost; the lock is taken once a round,
//! never per member. Whoever holds the lock and finds a latch of a round
//! that has ended sets it: a waiter of the next round may get there before
//! the ender of the last. A waiting worker helps, as on any latch.
//!
//! # Members
//! `members` lists the members a cancel (or a caller-runs wait) may still
//! reach, each holding a task reference, so whatever is found there is
//! alive. Ended members leave the list when a wait returns, or when it
//! has doubled since it was last pruned.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::compose::lock;
use crate::job::{RawDrop, RawFn};
use crate::latch::Latch;
use crate::registry::{Registry, SubmitError};
use crate::task::{Hook, Task, TaskEnd};

/// How a group's tasks ended, so far.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupEnd {
    /// Every task ran and returned 0.
    AllOk,
    /// At least one failed; this is the first failure's code.
    Failed(c_int),
    /// None failed, but some never ran (cancelled, or dropped by a shutdown).
    NotRun,
}

/// Why a submit to a group was refused (nothing was queued).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupRefusal {
    /// The group was cancelled.
    Cancelled,
    Pool(SubmitError),
}

/// Why a wait on a group returned before its tasks ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupWaitError {
    /// The deadline passed first.
    TimedOut,
    /// The group's pool belongs to the parent of this forked process.
    Forked,
}

/// The group's pool belongs to the parent of this forked process: its
/// lock may have been held by a parent thread, so it is not touched.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Forked;

/// The pending members in `count`'s low half; the round is the high half.
const PENDING: u64 = u32::MAX as u64;
const ROUND: u64 = 1 << 32;
/// A failure is recorded in `first_error` as this bit and the code.
const FAILED: u64 = 1 << 32;
/// The fewest members the list holds before a submit prunes it.
const PRUNE_MIN: usize = 64;

pub(crate) struct Group {
    /// Pending members and the round (see the module docs). First, so that
    /// it shares a line with the `Arc`'s count, which members also change.
    count: AtomicU64,
    /// 0, or `FAILED` and the first failure's code.
    first_error: AtomicU64,
    not_run: AtomicBool,
    /// Set under `members`' lock: later submits are refused.
    cancelled: AtomicBool,
    cancel_on_error: bool,
    /// A wait from outside the pool runs members still queued (caller-runs).
    caller_runs: bool,
    pub(crate) reg: Arc<Registry>,
    members: Mutex<Members>,
    /// The latch of the round a waiter waits for, and that round.
    latch: Mutex<Option<(u32, Latch)>>,
}

struct Members {
    /// Each holds one reference to its task.
    tasks: Vec<*const Task>,
    /// Prune when `tasks` grows to this length.
    prune_at: usize,
    /// Caller-runs waits using entries outside the lock: no prune meanwhile.
    scanning: usize,
}

// SAFETY: the task pointers are thread-safe handles that the list owns a
// reference to; it is used under its lock.
unsafe impl Send for Members {}

/// The hook of one member. The group outlives it: the members of a round
/// hold one reference to it between them (see `reserve`).
#[repr(C)]
struct Member {
    hook: Hook,
    group: *const Group,
}

impl Member {
    /// A node on this thread's handle slab (`slab.rs`): a Box costs a
    /// malloc here and a free on the worker that ends the member.
    fn alloc(group: &Group) -> *mut Hook {
        let m = crate::slab::alloc_slot::<Member>();
        // SAFETY: a fresh, aligned, unshared slot that fits a Member.
        unsafe { m.write(Member { hook: Hook::new(member_ended), group }) };
        m as *mut Hook
    }

    /// Frees the node; returns the group it names.
    ///
    /// # Safety
    /// `h` comes from `Member::alloc`, is not attached anywhere, and is freed once.
    unsafe fn free(h: *mut Hook) -> *const Group {
        // SAFETY: the caller's promise; Member is plain data (no drop to run).
        unsafe {
            let group = (*(h as *mut Member)).group;
            crate::slab::free_slot(h as *mut Member);
            group
        }
    }
}

impl Group {
    pub(crate) fn new(reg: Arc<Registry>, cancel_on_error: bool, caller_runs: bool) -> Arc<Group> {
        Arc::new(Group {
            count: AtomicU64::new(0),
            first_error: AtomicU64::new(0),
            not_run: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            cancel_on_error,
            caller_runs,
            reg,
            members: Mutex::new(Members { tasks: Vec::new(), prune_at: PRUNE_MIN, scanning: 0 }),
            latch: Mutex::new(None),
        })
    }

    /// Submits `f(arg)` to the group's pool as a member. Returns its handle
    /// (one user reference) if `handle`, else null.
    pub(crate) fn submit(
        self: &Arc<Self>,
        f: RawFn,
        arg: *mut c_void,
        drop: Option<RawDrop>,
        handle: bool,
    ) -> Result<*const Task, GroupRefusal> {
        if self.reg.is_forked() {
            // Before taking a lock a parent thread may have held.
            return Err(GroupRefusal::Pool(SubmitError::Forked));
        }
        self.reserve().map_err(|()| GroupRefusal::Cancelled)?;
        let hook = Member::alloc(self);
        // SAFETY: `hook` is a fresh node whose `run` owns it.
        let t = match unsafe { self.reg.submit_fn_hooked(f, arg, drop, hook) } {
            Ok(t) => t,
            Err(e) => {
                // SAFETY: refused: the hook will never run and is still ours.
                unsafe { Member::free(hook) };
                self.left();
                return Err(GroupRefusal::Pool(e));
            }
        };
        if handle {
            // SAFETY: we hold the user reference from the submit.
            unsafe { (*t).retain() };
        }
        // SAFETY: the list takes the user reference (or the one just made).
        unsafe { self.list(t) };
        Ok(if handle { t } else { ptr::null() })
    }

    /// The first step of adding a member queued some other way (a submit
    /// with options): one more pending. Then `joined` once the member's
    /// task is queued, or `refused` if it was not. Err if the group was
    /// cancelled.
    pub(crate) fn reserve(self: &Arc<Self>) -> Result<(), ()> {
        if self.cancelled.load(Ordering::Acquire) {
            return Err(());
        }
        // Each pending member holds a 64-byte task: 2^32 of them cannot fit
        // in memory, so the count never carries into the round.
        if self.count.fetch_add(1, Ordering::Relaxed) & PENDING == 0 {
            // The round's first member: one reference for all the round's
            // members, which the last to leave drops (`left`). Taken before
            // the member is queued, so before it can leave. One reference
            // per round, not per member: a count changed by both the
            // submitter and the workers per member costs a transfer of its line.
            std::mem::forget(Arc::clone(self));
        }
        Ok(())
    }

    /// The member's task `t`, reserved, was queued.
    ///
    /// # Safety
    /// The caller holds a reference to `t`.
    pub(crate) unsafe fn joined(self: &Arc<Self>, t: *const Task) {
        // SAFETY: the caller holds a reference to `t`, so it is live; the
        // list gets one of its own, and the hook node is fresh.
        unsafe {
            (*t).retain();
            (*t).add_hook(Member::alloc(self));
            self.list(t);
        }
    }

    /// The member reserved was not queued after all.
    pub(crate) fn refused(&self) {
        self.left();
    }

    /// Lists a queued member, so that a cancel can reach it; cancels it if
    /// the group was cancelled while it was being queued.
    ///
    /// # Safety
    /// `t` is live, and the list takes over one reference to it.
    unsafe fn list(&self, t: *const Task) {
        let cancelled = {
            let mut m = lock(&self.members);
            if m.tasks.len() >= m.prune_at {
                m.prune();
                m.prune_at = (2 * m.tasks.len()).max(PRUNE_MIN);
            }
            m.tasks.push(t);
            self.cancelled.load(Ordering::Relaxed)
        };
        if cancelled {
            // SAFETY: the list's reference keeps it alive.
            let _ = unsafe { (*t).cancel() };
        }
    }

    /// A member ended: its outcome goes into the group's, then one fewer pending.
    fn member_left(&self, end: TaskEnd) {
        match end {
            TaskEnd::Ran(0) => {}
            TaskEnd::Ran(code) => {
                let _ = self.first_error.compare_exchange(
                    0,
                    FAILED | code as u32 as u64,
                    Ordering::Release,
                    Ordering::Relaxed,
                );
                if self.cancel_on_error && !self.cancelled.load(Ordering::Relaxed) {
                    self.cancel_members();
                }
            }
            _ => self.not_run.store(true, Ordering::Release),
        }
        self.left();
    }

    /// One fewer pending; the last of a round sets the round's latch and
    /// drops the round's reference to the group, which may free it.
    fn left(&self) {
        let mut c = self.count.load(Ordering::Relaxed);
        loop {
            let next = if c & PENDING == 1 { (c & !PENDING).wrapping_add(ROUND) } else { c - 1 };
            match self.count.compare_exchange_weak(c, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => c = now,
            }
        }
        if c & PENDING == 1 {
            let due = self.ended_latch(&mut lock(&self.latch));
            if let Some(latch) = due {
                latch.set();
            }
            // SAFETY: the reference `reserve` took for this round; `self`
            // is not used after it.
            unsafe { Arc::decrement_strong_count(self as *const Group) };
        }
    }

    /// Cancels every member that has not started (their drops run here) and
    /// refuses later submits.
    pub(crate) fn cancel(&self) -> Result<(), Forked> {
        if self.reg.is_forked() {
            return Err(Forked);
        }
        self.cancel_members();
        Ok(())
    }

    fn cancel_members(&self) {
        let tasks: Vec<*const Task> = {
            let m = lock(&self.members);
            self.cancelled.store(true, Ordering::Release);
            m.tasks
                .iter()
                .copied()
                // SAFETY: the list holds a reference to each.
                .filter(|&t| unsafe { (*t).end().is_none() })
                .inspect(|&t| {
                    // SAFETY: as above.
                    unsafe { (*t).retain() }
                })
                .collect()
        };
        for t in tasks {
            // SAFETY: retained above. A member already running or ended is left alone.
            unsafe {
                let _ = (*t).cancel();
                Task::release(t);
            }
        }
    }

    /// Waits until no member is pending, or until `deadline`.
    pub(crate) fn wait(&self, deadline: Option<u64>) -> Result<GroupEnd, GroupWaitError> {
        if self.reg.is_forked() {
            return Err(GroupWaitError::Forked);
        }
        let c = self.count.load(Ordering::Acquire);
        if c & PENDING != 0 {
            // Only an untimed wait: a task run here could outlast a deadline.
            if self.caller_runs && deadline.is_none() {
                self.run_queued_here();
            }
            if let Some(latch) = self.round_latch((c >> 32) as u32) {
                if !latch.wait(deadline) {
                    return Err(GroupWaitError::TimedOut);
                }
            }
        }
        lock(&self.members).prune();
        Ok(self.end())
    }

    /// The latch of `round`, or `None` if that round has ended.
    fn round_latch(&self, round: u32) -> Option<Latch> {
        let (due, latch) = {
            let mut l = lock(&self.latch);
            // The member ending a round takes this lock after ending it.
            let due = self.ended_latch(&mut l);
            let latch = match &*l {
                _ if self.round() != round => None,
                Some((_, latch)) => Some(latch.clone()),
                None => {
                    let latch = Latch::new(self.reg.id);
                    *l = Some((round, latch.clone()));
                    Some(latch)
                }
            };
            (due, latch)
        };
        if let Some(due) = due {
            due.set();
        }
        latch
    }

    /// The latch in `slot` if its round has ended, to be set: rounds only
    /// end, so a latch not of the current round is due. Its ender may not
    /// have taken the lock yet when a waiter of the next round replaces it.
    fn ended_latch(&self, slot: &mut Option<(u32, Latch)>) -> Option<Latch> {
        match slot {
            Some((r, _)) if *r != self.round() => slot.take().map(|(_, latch)| latch),
            _ => None,
        }
    }

    fn round(&self) -> u32 {
        (self.count.load(Ordering::Acquire) >> 32) as u32
    }

    fn end(&self) -> GroupEnd {
        match self.first_error.load(Ordering::Acquire) {
            0 if self.not_run.load(Ordering::Acquire) => GroupEnd::NotRun,
            0 => GroupEnd::AllOk,
            e => GroupEnd::Failed(e as u32 as c_int),
        }
    }
}

impl Group {
    /// Caller-runs (`task/caller_runs.rs`): from a thread outside every
    /// pool, runs the members no worker has started. Entries are copied
    /// under the lock, then claimed and run without it (a member may submit
    /// to the group); `scanning` keeps the list's references meanwhile, so
    /// no reference is taken per member.
    fn run_queued_here(&self) {
        if crate::worker::WorkerThread::current().is_some() {
            return; // a worker's wait helps instead
        }
        // In batches on the stack: no allocation per wait. Members pushed
        // while this runs are past `next`, and a member that this misses
        // is run by a worker.
        let mut next = 0;
        let _scan = Scan::begin(&self.members);
        loop {
            let mut batch = [ptr::null::<Task>(); 16];
            let mut n = 0;
            {
                let m = lock(&self.members);
                while next < m.tasks.len() && n < batch.len() {
                    let t = m.tasks[next];
                    next += 1;
                    // SAFETY: the list holds a reference to each.
                    if unsafe { (*t).end().is_none() } {
                        batch[n] = t;
                        n += 1;
                    }
                }
            }
            if n == 0 {
                break;
            }
            for &t in &batch[..n] {
                // SAFETY: no prune while `scanning`, so the list's reference
                // keeps `t` alive.
                unsafe { (*t).run_here_in(&self.reg) };
            }
        }
    }
}

/// A caller-runs wait's use of the list (`Members::scanning`), ended on drop.
struct Scan<'a>(&'a Mutex<Members>);

impl<'a> Scan<'a> {
    fn begin(m: &'a Mutex<Members>) -> Scan<'a> {
        lock(m).scanning += 1;
        Scan(m)
    }
}

impl Drop for Scan<'_> {
    fn drop(&mut self) {
        lock(self.0).scanning -= 1;
    }
}

impl Members {
    /// Drops the members that have ended, unless a caller-runs wait uses
    /// the list.
    fn prune(&mut self) {
        if self.scanning != 0 {
            return;
        }
        self.tasks.retain(|&t| {
            // SAFETY: the list holds a reference to each; an ended one's
            // failure was observed by its hook, so the release reports nothing.
            unsafe {
                if (*t).end().is_none() {
                    return true;
                }
                Task::release(t);
            }
            false
        });
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let m = self.members.get_mut().unwrap_or_else(|e| e.into_inner());
        for &t in &m.tasks {
            // SAFETY: each entry holds a reference, dropped once here.
            unsafe { Task::release(t) };
        }
    }
}

/// A member ended: update its group.
unsafe fn member_ended(h: *mut Hook, task: &Task) {
    // SAFETY: `Member::alloc` made this node, with the Hook first (repr(C)),
    // and this call owns it.
    let group = unsafe { Member::free(h) };
    let end = task.end().unwrap_or(TaskEnd::Forked);
    // The group reports failures through its wait: they are observed.
    task.observe(end);
    // SAFETY: the round's reference keeps the group alive until its last
    // member leaves, which may be this one.
    unsafe { (*group).member_left(end) };
}
