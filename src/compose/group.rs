//! Groups: tasks submitted together, waited for together, failed and
//! cancelled together (dispatch groups, TBB `task_group`, Go's errgroup).
//!
//! A member with a handle (or a drop, or on a pool that times its tasks)
//! is an ordinary task with a completion hook (`task.rs`); any other is a
//! bare call (`Call`: no task, no hook, a third of the cost). Either way
//! its end updates the group: the first failure code, whether some member
//! never ran, and one fewer pending. A member's end touches only atomics,
//! so the workers ending members and the thread submitting more never take
//! a lock in turn (three lock round trips per member cost a group of eight
//! short tasks half its time).
//!
//! # The group's queue
//! `bg_group_submit` queues a member on the group's own queue, not the
//! pool's, and keeps one *pump* job on the pool's queue while members wait
//! there: `pump_queued` is set by whoever queues a pump and cleared by the
//! pump as it starts, before it looks at the queue. So a member pushed while
//! the flag is set is found by that pump. A pump runs members in turn; before
//! each, if more wait, it makes sure another pump is queued, so that an idle
//! worker, or a spare standing in for a member that blocks, takes the rest.
//!
//! What this buys over queueing each member on the pool: a waiter outside
//! the pool (caller-runs) pops the members it runs itself, rather than leaving
//! each one's job behind in the pool's queue until a worker pops it (a wait
//! loop with busy workers grew by 165 bytes a member); a cancel pops them
//! too, so the group keeps no list of its members; and a worker takes a pump
//! and then pops members, not one job each from the shared queue.
//!
//! Members submitted with options (a priority, a deadline, a limiter...)
//! take their own route to the pool: they are listed in `others`, where a
//! cancel reaches them; ended ones leave the list when a wait returns, or
//! when it has doubled since it was last pruned.
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

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_deque::{Injector, Steal};

use crate::compose::lock;
use crate::job::{Job, JobBody, Outcome, RawDrop, RawFn};
use crate::latch::Latch;
use crate::lifecycle::Work;
use crate::probe::probe;
use crate::registry::{Admission, Registry, SubmitError};
use crate::task::{Hook, Task, TaskEnd};
use crate::worker::WorkerThread;

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
/// The fewest members `others` holds before a submit prunes it.
const PRUNE_MIN: usize = 64;
/// Members a pump runs before it lets the pool's other work go first.
const PUMP_BATCH: usize = 64;

pub(crate) struct Group {
    /// Pending members and the round (see the module docs). First, so that
    /// it shares a line with the `Arc`'s count, which members also change.
    count: AtomicU64,
    /// 0, or `FAILED` and the first failure's code.
    first_error: AtomicU64,
    not_run: AtomicBool,
    /// Later submits are refused. Set before the queue is emptied (and
    /// under `others`' lock), read by a submit after it queues a member.
    cancelled: AtomicBool,
    cancel_on_error: bool,
    /// A wait from outside the pool runs members still queued (caller-runs).
    caller_runs: bool,
    /// A pump is on the pool's queue and has not started (module docs).
    pump_queued: AtomicBool,
    pub(crate) reg: Arc<Registry>,
    /// Members from `submit`, not yet taken.
    queue: Injector<Entry>,
    /// Members queued with options (`joined`), each holding a task reference.
    others: Mutex<Others>,
    /// The latch of the round a waiter waits for, and that round.
    latch: Mutex<Option<(u32, Latch)>>,
}

/// A member on the group's queue.
enum Entry {
    /// A member with a handle, or on a pool whose tasks only its workers
    /// may run: its task's job (which holds the job's reference), and the task.
    Task { job: Job, task: *const Task },
    /// Any other member: no task.
    Call(Call),
}

/// A member that needs no handle, on a pool whose tasks any thread may run
/// (`caller_runs_allowed`): the call and its group, no task. Most members
/// are this: it saves the task, its hook and their atomics.
struct Call {
    f: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
    /// Kept alive by the round's reference until this member leaves.
    group: *const Group,
}

impl Call {
    /// Runs the call on this thread, outside the pool (caller-runs).
    fn run_here(self, reg: &Registry) -> Outcome {
        // SAFETY: the user's function with the user's arg, as submitted.
        let code = crate::task::run_inline(reg, || unsafe { (self.f)(self.arg) });
        self.ended(code)
    }

    fn ended(self, code: c_int) -> Outcome {
        // SAFETY: the round's reference keeps the group alive until this
        // member leaves, here; nothing touches it after.
        unsafe { (*self.group).member_left(TaskEnd::Ran(code)) };
        if code == 0 {
            Outcome::Ok
        } else {
            Outcome::Failed
        }
    }
}

/// Run by a pump on a worker (`WorkerThread::execute`), which cancels it
/// instead once its pool cancels its queue.
impl JobBody for Call {
    fn run(self, w: &WorkerThread) -> Outcome {
        let code = crate::job::call_probed(w, self.f, self.arg, 0);
        self.ended(code)
    }

    fn cancel(self) -> Outcome {
        if let Some(d) = self.drop {
            // SAFETY: `f` will never run: the drop owns `arg` now.
            unsafe { d(self.arg) };
        }
        // SAFETY: as in `ended`.
        unsafe { (*self.group).member_left(TaskEnd::Cancelled) };
        Outcome::Cancelled
    }
}

impl Entry {
    /// Consumes the member without running it: as a cancelling shutdown
    /// drops a queued task.
    fn drop_unrun(self) -> Outcome {
        match self {
            Entry::Task { job, .. } => job.cancel(),
            Entry::Call(c) => c.cancel(),
        }
    }
}

// SAFETY: the job is Send; the task pointer is a thread-safe handle that
// the job keeps alive; a call's `arg` may go to another thread (the
// submitter promised it), and its group pointer is to a Sync group.
unsafe impl Send for Entry {}

struct Others {
    /// Each holds one reference to its task.
    tasks: Vec<*const Task>,
    /// Prune when `tasks` grows to this length.
    prune_at: usize,
}

// SAFETY: the task pointers are thread-safe handles that the list owns a
// reference to; it is used under its lock.
unsafe impl Send for Others {}

/// Members that ended off the workers' books, for the pool's statistics
/// (`Registry::count_outside`): succeeded, failed, cancelled.
#[derive(Default)]
struct Tally([u64; 3]);

impl Tally {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Ok => self.0[0] += 1,
            Outcome::Failed => self.0[1] += 1,
            Outcome::Cancelled | Outcome::Skipped | Outcome::Expired => self.0[2] += 1,
            Outcome::Internal => {}
        }
    }

    fn flush(self, reg: &Registry) {
        reg.count_outside(self.0);
    }
}

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

/// Runs members from the group's queue on a worker (module docs).
struct PumpJob {
    group: Arc<Group>,
}

impl JobBody for PumpJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        self.group.pump(w);
        Outcome::Internal
    }

    /// The pool shut down in cancel mode (or refused the pump): whatever is
    /// on the group's queue will never run either.
    fn cancel(self) -> Outcome {
        self.group.pump_queued.store(false, Ordering::SeqCst);
        self.group.drop_queued();
        Outcome::Internal
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
            pump_queued: AtomicBool::new(false),
            reg,
            queue: Injector::new(),
            others: Mutex::new(Others { tasks: Vec::new(), prune_at: PRUNE_MIN }),
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
        // One admission covers the member and the pump it may need: a
        // shutdown waits for both, so an accepted member is never stranded.
        let mut adm = self.reg.admit(Work::Now).map_err(GroupRefusal::Pool)?;
        // Members count against the pool's bound on queued tasks.
        self.reg.take_place().map_err(GroupRefusal::Pool)?;
        if self.reserve().is_err() {
            self.reg.dequeued();
            return Err(GroupRefusal::Cancelled);
        }
        let (entry, task) = if !handle && crate::task::caller_runs_allowed(&self.reg) {
            probe!("submit", self.reg.id, f as usize, arg as usize, 0u64);
            (Entry::Call(Call { f, arg, drop, group: Arc::as_ptr(self) }), ptr::null())
        } else {
            let (task, job) = self.reg.task_job(f, arg, drop);
            // SAFETY: fresh from task_job, its job not queued yet; the hook node is fresh.
            unsafe {
                Task::allow_caller_runs(&self.reg, task);
                (*task).add_hook_unshared(Member::alloc(self));
                if !handle {
                    Task::drop_user_ref_unshared(task);
                }
            }
            probe!("submit", self.reg.id, f as usize, arg as usize, task as usize);
            (Entry::Task { job, task }, task)
        };
        self.queue.push(entry);
        // After the push: a cancel that emptied the queue before it is seen
        // here (both SeqCst), and this one's member is not left behind.
        if self.cancelled.load(Ordering::SeqCst) {
            self.cancel_queued();
        } else {
            self.ensure_pump(&mut adm, false);
        }
        Ok(if handle { task } else { ptr::null() })
    }

    /// Queues a pump through `adm` unless one is queued and not started:
    /// as any submit, or `behind` the pool's other work (a pump yielding
    /// after a batch). The flag's load comes after the member's push (the
    /// push's SeqCst CAS, then a SeqCst load), as the pump's clear comes
    /// before its pop.
    fn ensure_pump(self: &Arc<Self>, adm: &mut Admission<'_>, behind: bool) {
        if self.pump_queued.load(Ordering::SeqCst) || self.pump_queued.swap(true, Ordering::SeqCst) {
            return;
        }
        let job = Job::new(PumpJob { group: Arc::clone(self) });
        if behind {
            adm.queue_behind(job);
        } else if let Err((_, job)) = adm.queue(job, false) {
            job.cancel(); // a cancelling pool: nothing queued here will run
        }
    }

    /// `ensure_pump` under an admission of its own; if the pool no longer
    /// takes work, the queued members are dropped as by a shutdown.
    fn ensure_pump_now(self: &Arc<Self>, behind: bool) {
        let reg = Arc::clone(&self.reg);
        let adm = reg.admit(Work::Now);
        match adm {
            Ok(mut adm) => self.ensure_pump(&mut adm, behind),
            Err(_) => self.drop_queued(),
        };
    }

    /// The next member on the group's queue.
    fn pop(&self) -> Option<Entry> {
        loop {
            match self.queue.steal() {
                Steal::Success(e) => {
                    self.reg.dequeued();
                    return Some(e);
                }
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// The pump: runs members on worker `w` (module docs).
    fn pump(self: Arc<Self>, w: &WorkerThread) {
        self.pump_queued.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        for _ in 0..PUMP_BATCH {
            if self.reg.is_paused() {
                break; // a paused pool starts nothing new: yield to the back
            }
            let Some(e) = self.pop() else { return };
            if !self.queue.is_empty() {
                // Before this member, which may block or run long.
                self.ensure_pump_now(false);
            }
            match e {
                Entry::Task { job, .. } => w.execute(job),
                Entry::Call(c) => w.execute(c),
            }
        }
        if !self.queue.is_empty() {
            self.ensure_pump_now(true);
        }
    }

    /// Ends every member on the group's queue as not run, as a pool's
    /// shutdown ends its queued tasks.
    fn drop_queued(&self) {
        let mut t = Tally::default();
        while let Some(e) = self.pop() {
            t.add(e.drop_unrun());
        }
        t.flush(&self.reg);
    }

    /// Cancels every member on the group's queue (their drops run here).
    fn cancel_queued(&self) {
        let mut t = Tally::default();
        while let Some(e) = self.pop() {
            if let Entry::Task { task, .. } = e {
                // SAFETY: the entry's job holds a reference to its task.
                let _ = unsafe { (*task).cancel() };
            }
            // A task's job then finds it ended, and only lets go of its reference.
            t.add(e.drop_unrun());
        }
        t.flush(&self.reg);
    }

    /// The first step of adding a member queued some other way (a submit
    /// with options): one more pending. Then `joined` once the member's
    /// task is queued, or `refused` if it was not. Err if the group was
    /// cancelled.
    pub(crate) fn reserve(self: &Arc<Self>) -> Result<(), ()> {
        if self.cancelled.load(Ordering::Acquire) {
            return Err(());
        }
        // Each pending member holds at least 40 bytes of queue: 2^32 of
        // them cannot fit in memory, so the count never carries into the round.
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
        let cancelled = unsafe {
            (*t).retain();
            (*t).add_hook(Member::alloc(self));
            let mut o = lock(&self.others);
            if o.tasks.len() >= o.prune_at {
                o.prune();
                o.prune_at = (2 * o.tasks.len()).max(PRUNE_MIN);
            }
            o.tasks.push(t);
            self.cancelled.load(Ordering::Relaxed)
        };
        if cancelled {
            // Cancelled while it was being queued. SAFETY: the list's
            // reference keeps it alive.
            let _ = unsafe { (*t).cancel() };
        }
    }

    /// The member reserved was not queued after all.
    pub(crate) fn refused(&self) {
        self.left();
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
            let o = lock(&self.others);
            self.cancelled.store(true, Ordering::SeqCst);
            o.tasks
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
        self.cancel_queued();
        for t in tasks {
            // SAFETY: retained above. A member already running or ended is left alone.
            unsafe {
                let _ = (*t).cancel();
                Task::release(t);
            }
        }
    }

    /// Waits until no member is pending, or until `deadline`.
    pub(crate) fn wait(self: &Arc<Self>, deadline: Option<u64>) -> Result<GroupEnd, GroupWaitError> {
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
        lock(&self.others).prune();
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

    /// Caller-runs (`task/caller_runs.rs`): from a thread outside every
    /// pool, pops the members on the group's queue and runs them here. A
    /// member this thread may not run (its pool times its tasks, or was
    /// paused meanwhile) goes back for a worker, and the scan stops.
    fn run_queued_here(self: &Arc<Self>) {
        if !crate::task::may_run_inline() {
            return; // a worker's wait helps instead; and no nesting
        }
        let reg = &self.reg;
        let mut t = Tally::default();
        while !(reg.is_paused() || reg.is_cancelling()) {
            let (job, task) = match self.pop() {
                None => break,
                Some(Entry::Call(c)) => {
                    t.add(c.run_here(reg));
                    continue;
                }
                Some(Entry::Task { job, task }) => match Task::run_job_here(job, reg) {
                    Ok(o) => {
                        t.add(o);
                        continue;
                    }
                    Err(job) => (job, task),
                },
            };
            // Not to be run here: back for a worker.
            reg.reserve_accepted();
            self.queue.push(Entry::Task { job, task });
            self.ensure_pump_now(false);
            break;
        }
        t.flush(reg);
    }
}

impl Others {
    /// Drops the members that have ended.
    fn prune(&mut self) {
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
        // A pump holds the group while a member is on its queue, so this
        // finds none, except in a forked child, where the parent's pool
        // runs them: there they are left alone, as the pool's queue is.
        if !self.reg.is_forked() {
            self.drop_queued();
        }
        let o = self.others.get_mut().unwrap_or_else(|e| e.into_inner());
        for &t in &o.tasks {
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
