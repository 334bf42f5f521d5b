//! The waitable handle: one allocation per task submitted with a handle.
//!
//! # State machine
//!
//! The `state` word holds a lifecycle in its low three bits, flags above,
//! and in its top half a tag that says the handle is live (see `is_live`):
//!
//! ```text
//!            claim (a worker pops the job)          complete
//!   QUEUED ─────────────────────────────> RUNNING ───────────> DONE(result)
//!     │
//!     │ bg_cancel / shutdown sweep              drop(arg) has run
//!     └───────────────────────────> CANCELLING ─────────────> CANCELLED | SHUTDOWN
//! ```
//!
//! * Only one CAS can move a task out of `QUEUED`, so exactly one of "run
//!   `fn`" and "run `drop`" happens. The job stays in its deque after a
//!   cancel and is skipped when popped (lazy deletion).
//! * DONE, CANCELLED and SHUTDOWN are terminal. `result` is written before
//!   the terminal state is published with a release swap, and read after an
//!   acquire load that saw it.
//! * `HAS_WAITER` is set by a thread about to block on the futex of `state`.
//!   The completer swaps in the terminal state and calls FUTEX_WAKE only if
//!   the swap returned `HAS_WAITER`. A waiter sleeps only while `state` still
//!   equals the value it saw *with* the bit, so it either sees the terminal
//!   state or its futex_wait fails with EAGAIN: no wake-up is lost.
//! * `HAS_HELPER` marks a worker thread waiting on the task while running
//!   other work (see `WorkerThread::wait_helping`); it sleeps on its own
//!   parker, which the completer unparks. `helper` holds that parker; the
//!   completer swaps it to `BUSY` while it unparks so the helper cannot leave
//!   (and its pool go away) in the middle of the unpark.
//! * `OBSERVED` records that a wait reported a non-zero result to someone, so
//!   releasing the handle afterwards is not reported as an unobserved failure.
//!
//! # Completion hooks
//!
//! Continuations, groups and completion queues need "do something once this
//! task ends". Each attaches a `Hook`: an intrusive node pushed on the
//! lock-free stack `hooks`, which is sealed (set to `SEALED`) when drained.
//!
//! * Attach: push the node with a CAS on `hooks`, then `fetch_or(HAS_HOOKS)`
//!   on `state`. If the push finds `SEALED`, the hooks were already run: the
//!   attacher runs its hook itself, at once.
//! * Complete: `finish` swaps in the terminal state; if the word it replaced
//!   had `HAS_HOOKS`, it drains: swaps `hooks` to `SEALED` and runs every node
//!   it took. A task nobody hooked pays one flag test.
//! * If the attacher's `fetch_or` returns a terminal state, the completer's
//!   swap came first and may have missed this node: the attacher drains too.
//!   Otherwise the completer's swap comes later in the order of `state` (every
//!   RMW in between keeps the flags), sees `HAS_HOOKS`, and acquires the
//!   `fetch_or`, so its own swap of `hooks` sees the pushed node.
//! * Completer and attacher may both drain: the swap to `SEALED` hands each
//!   node to exactly one of them. So a hook is never lost and never runs
//!   twice, even when attached to a task that has already ended.
//!
//! Hooks run after the waiters are woken, on the thread that ended the task
//! (a worker, a bg_cancel caller, the shutdown sweep) or on the attacher's,
//! while a reference keeps the task alive. They must be short and never block.
//! A hook that ends another task (a continuation refused by a closed pool)
//! does not run that task's hooks inside itself: they are queued for the
//! outermost drain on the thread, so ending a chain of any length uses
//! constant stack.
//!
//! # Ownership
//!
//! `refs` counts the user's references (one from submit, plus retains) in
//! its low bits, and holds `JOB_REF` for the queued job (or the hook that
//! will queue it) until the job is consumed. Keeping the job's reference
//! apart makes an over-release detectable: a user release that finds no
//! user reference left (`release_checked`) is refused instead of freeing
//! the task under its queued job. The last release
//! frees the task; if the task failed and nobody observed it, that release
//! reports the failure to the pool's error handler first.

use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void};
use std::ptr;

use crate::error::{Failure, FailureKind};
use crate::fork;
use crate::job::{Job, JobBody, Outcome, RawDrop, RawFn};
use crate::sleep::Parker;
use crate::sync::{futex, AtomicPtr, AtomicU32, Ordering};
use crate::worker::WorkerThread;

const LIFE: u32 = 0b111;
const QUEUED: u32 = 0;
const RUNNING: u32 = 1;
const CANCELLING: u32 = 2;
const DONE: u32 = 3;
const CANCELLED: u32 = 4;
const SHUTDOWN: u32 = 5;
const HAS_WAITER: u32 = 1 << 3;
const HAS_HELPER: u32 = 1 << 4;
const OBSERVED: u32 = 1 << 5;
const HAS_HOOKS: u32 = 1 << 6;

/// The top half of `state` while the handle is live ("bg"); a released
/// handle's whole word is `DEAD`. Kept in `state` rather than a field of its
/// own so that a task is one 64-byte cache line.
const LIVE: u32 = 0x6267 << 16;
const TAG: u32 = 0xffff << 16;
/// A released handle's word: not live, and its lifecycle (`FREED`) is no
/// state a task is in, so no transition out of QUEUED can start from it.
const DEAD: u32 = (0xdead << 16) | FREED;
const FREED: u32 = 7;

/// The bit of `refs` that is the job's reference (see "Ownership").
const JOB_REF: u32 = 1 << 31;

/// The completer is unparking the helper; see the module docs.
const BUSY: *mut Parker = 1 as *mut Parker;
/// The hooks have run: no more can be attached; see the module docs.
const SEALED: *mut Hook = 1 as *mut Hook;

#[cfg(not(loom))]
std::thread_local! {
    /// Tasks whose hooks wait for the outermost `run_hooks_soon` on this
    /// thread; `None` when no hooks are running here.
    static ENDING: std::cell::RefCell<Option<Vec<*const Task>>> = const { std::cell::RefCell::new(None) };
}
#[cfg(loom)]
loom::thread_local! {
    static ENDING: std::cell::RefCell<Option<Vec<*const Task>>> = std::cell::RefCell::new(None);
}

type Ending = std::cell::RefCell<Option<Vec<*const Task>>>;

/// Runs `f` on this thread's `ENDING`; `None` once the thread's locals are destroyed.
fn with_ending<R>(f: impl FnOnce(&Ending) -> R) -> Option<R> {
    #[cfg(not(loom))]
    return ENDING.try_with(f).ok();
    #[cfg(loom)]
    return Some(ENDING.with(f));
}

/// A completion hook: a node that a mechanism embeds as the first field of
/// its own `#[repr(C)]` allocation and attaches with [`Task::add_hook`].
#[repr(C)]
pub(crate) struct Hook {
    next: *mut Hook,
    /// Called exactly once, with the node and the ended task; owns the node.
    run: unsafe fn(*mut Hook, &Task),
}

impl Hook {
    pub(crate) const fn new(run: unsafe fn(*mut Hook, &Task)) -> Hook {
        Hook { next: ptr::null_mut(), run }
    }
}

/// How a task ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskEnd {
    /// The function ran and returned this code (0 = success).
    Ran(c_int),
    /// `bg_cancel` stopped it before it started; its drop ran instead.
    Cancelled,
    /// Its pool shut down in cancel mode before it started; its drop ran instead.
    Shutdown,
    /// The handle was inherited across fork(): the task belongs to the parent.
    Forked,
}

/// Why `Task::wait` returned without the task's end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaitError {
    /// The deadline passed first.
    Timeout,
    /// The task is queued behind the caller's own (a serial queue's later
    /// item): it cannot start before the caller ends.
    WouldDeadlock,
}

/// A rule a mechanism that orders tasks sets on a thread while it runs one
/// of its tasks there: `check(ctx, task)` says whether `task` can only start
/// after the running one ends, so that waiting for it would hang. The core
/// asks it in `Task::wait` without knowing which mechanism set it.
#[derive(Clone, Copy)]
pub(crate) struct WaitRule {
    pub(crate) check: unsafe fn(ctx: *const (), task: &Task) -> bool,
    pub(crate) ctx: *const (),
}

std::thread_local! {
    // Plain std even under loom: no model sets a rule.
    static WAIT_RULE: std::cell::Cell<Option<WaitRule>> = const { std::cell::Cell::new(None) };
}

/// Sets this thread's wait rule; returns the one it replaces, for the
/// setter to restore (a helping wait may run another queue's task inside).
pub(crate) fn set_wait_rule(rule: Option<WaitRule>) -> Option<WaitRule> {
    WAIT_RULE.with(|r| r.replace(rule))
}

fn wait_would_deadlock(task: &Task) -> bool {
    match WAIT_RULE.with(|r| r.get()) {
        // SAFETY: the setter keeps `ctx` valid while its rule is set.
        Some(rule) => unsafe { (rule.check)(rule.ctx, task) },
        None => false,
    }
}

/// A release by a caller that held no reference (see `Task::release_checked`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OverRelease;

/// Why `cancel` did not cancel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CancelError {
    Running,
    Finished,
}

/// One cache line: a line shared by two tasks would be written by the
/// workers running each (false sharing), and a task spanning two lines costs
/// its worker two misses.
#[repr(align(64))]
pub struct Task {
    state: AtomicU32,
    refs: AtomicU32,
    fork_gen: u32,
    result: UnsafeCell<c_int>,
    helper: AtomicPtr<Parker>,
    hooks: AtomicPtr<Hook>,
    func: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
    pool_id: u64,
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Task>() == 64);

// SAFETY: all shared mutable state is atomic except `result`, which is
// written once before the release that publishes the terminal state and read
// only after an acquire load observes it. `arg` is the user's, promised
// thread-safe by submitting it.
unsafe impl Send for Task {}
unsafe impl Sync for Task {}

impl Task {
    /// Allocates a task and the job that will run it. The returned pointer
    /// carries one user reference; the job carries the other.
    pub(crate) fn new(func: RawFn, arg: *mut c_void, drop: Option<RawDrop>, pool_id: u64) -> (*const Task, Job) {
        let t = Task::new_unqueued(func, arg, drop, pool_id, true);
        let job = Job::new(TaskJob { task: t });
        (t, job)
    }

    /// Allocates a queued task with one user reference, and the job's if
    /// `with_job` (for a job or hook made later), but no job: for a
    /// mechanism that runs it with a job of its own (see `run_with`), or for
    /// a latch (`latch.rs`).
    pub(crate) fn new_unqueued(
        func: RawFn,
        arg: *mut c_void,
        drop: Option<RawDrop>,
        pool_id: u64,
        with_job: bool,
    ) -> *const Task {
        let refs = if with_job { JOB_REF | 1 } else { 1 };
        {
            let t = crate::slab::alloc_slot::<Task>();
            // SAFETY: a fresh, aligned, unshared slot for one Task.
            unsafe {
                t.write(Task {
                    state: AtomicU32::new(LIVE | QUEUED),
                    refs: AtomicU32::new(refs),
                    fork_gen: fork::generation(),
                    result: UnsafeCell::new(0),
                    helper: AtomicPtr::new(ptr::null_mut()),
                    hooks: AtomicPtr::new(ptr::null_mut()),
                    func,
                    arg,
                    drop,
                    pool_id,
                })
            };
            t
        }
    }

    /// Frees a task whose job was never queued (the submit was refused):
    /// both references go at once and neither `fn` nor `drop` runs, because
    /// ownership of `arg` never passed to the library.
    ///
    /// # Safety
    /// `t` and `job` must be the pair returned by `new`, unshared.
    pub(crate) unsafe fn discard_unsubmitted(t: *const Task, job: Job) {
        job.abandon();
        (*t).state.store(DEAD, Ordering::Relaxed);
        std::ptr::drop_in_place(t as *mut Task);
        crate::slab::free_slot(t as *mut Task);
    }

    /// The id of the pool the task was submitted to.
    pub(crate) fn pool_id(&self) -> u64 {
        self.pool_id
    }

    /// True if `t` looks like a live task (best effort: catches most
    /// use-after-release and garbage pointers that still point at memory).
    pub fn is_live(&self) -> bool {
        self.state.load(Ordering::Relaxed) & TAG == LIVE
    }

    /// Moves QUEUED to `to`, keeping the flags. Fails with the current lifecycle.
    fn leave_queued(&self, to: u32) -> Result<(), u32> {
        // Guess the usual word instead of loading it first: on a line another
        // core wrote last, a load then a CAS costs two transfers, a CAS one.
        let mut s = LIVE | QUEUED;
        loop {
            if s & LIFE != QUEUED {
                return Err(s & LIFE);
            }
            match self.state.compare_exchange_weak(s, (s & !LIFE) | to, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(now) => s = now,
            }
        }
    }

    /// Publishes a terminal state and wakes everyone waiting.
    fn finish(&self, life: u32, result: c_int) {
        // SAFETY: only the thread that moved the task out of QUEUED gets here,
        // and no reader looks at `result` before seeing a terminal state.
        unsafe { *self.result.get() = result };
        let prev = self.state.swap(LIVE | life, Ordering::AcqRel);
        if prev & HAS_HELPER != 0 {
            let p = self.helper.swap(BUSY, Ordering::AcqRel);
            if !p.is_null() && p != BUSY {
                // SAFETY: the helper cannot leave while `helper` is BUSY, and its
                // parker lives as long as the helper's pool does.
                unsafe { (*p).unpark() };
            }
            self.helper.store(ptr::null_mut(), Ordering::Release);
        }
        if prev & HAS_WAITER != 0 {
            futex::wake(&self.state, i32::MAX);
        }
        if prev & HAS_HOOKS != 0 {
            self.run_hooks_soon();
        }
    }

    /// Runs `hook` once this task has ended: later, on the thread that ends
    /// it, or now, on this thread, if it already has (see the module docs).
    ///
    /// # Safety
    /// `hook` must be valid and not attached anywhere; its `run` owns it.
    pub(crate) unsafe fn add_hook(&self, hook: *mut Hook) {
        if self.fork_gen != fork::generation() {
            // Inherited across fork(): nothing in this process will end it.
            return ((*hook).run)(hook, self);
        }
        let mut head = self.hooks.load(Ordering::Acquire);
        loop {
            if head == SEALED {
                return ((*hook).run)(hook, self);
            }
            (*hook).next = head;
            match self.hooks.compare_exchange_weak(head, hook, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        if self.state.fetch_or(HAS_HOOKS, Ordering::AcqRel) & LIFE >= DONE {
            self.run_hooks_soon();
        }
    }

    /// Runs the hooks now, or, if this thread is already running hooks
    /// further up its stack, queues the task for that outermost caller. A
    /// hook may end another task (a continuation refused by a closed pool
    /// ends as a shutdown at once), whose hooks would otherwise run inside
    /// it: a chain of 100,000 continuations overflowed the stack.
    fn run_hooks_soon(&self) {
        let queued = with_ending(|q| {
            let mut q = q.borrow_mut();
            match q.as_mut() {
                Some(later) => {
                    self.retain(); // keeps it alive until the outermost caller runs its hooks
                    later.push(self as *const Task);
                    true
                }
                None => {
                    *q = Some(Vec::new());
                    false
                }
            }
        });
        match queued {
            Some(true) => return,
            // This thread's locals are gone (a thread-exit destructor): run inline.
            None => return self.run_hooks(),
            Some(false) => {}
        }
        self.run_hooks();
        while let Some(Some(t)) = with_ending(|q| q.borrow_mut().as_mut().and_then(|v| v.pop())) {
            // SAFETY: `t` was retained when queued; that reference is dropped here.
            unsafe {
                (*t).run_hooks();
                Task::release(t);
            }
        }
        with_ending(|q| *q.borrow_mut() = None);
    }

    /// Seals the hook list and runs the hooks it held, in attach order.
    fn run_hooks(&self) {
        let mut h = self.hooks.swap(SEALED, Ordering::AcqRel);
        let mut ordered: *mut Hook = ptr::null_mut();
        while !h.is_null() && h != SEALED {
            // SAFETY: the swap made these nodes ours; they stay valid until run.
            unsafe {
                let next = (*h).next;
                (*h).next = ordered;
                ordered = h;
                h = next;
            }
        }
        while !ordered.is_null() {
            // SAFETY: as above; `run` takes the node, so read `next` first.
            unsafe {
                let next = (*ordered).next;
                ((*ordered).run)(ordered, self);
                ordered = next;
            }
        }
    }

    /// Runs the task's body if it is still queued: `body` gets `func` and
    /// `arg` and returns the result code. `Skipped` if it was cancelled.
    pub(crate) fn run_with(&self, body: impl FnOnce(RawFn, *mut c_void) -> c_int) -> Outcome {
        match self.leave_queued(RUNNING) {
            Ok(()) => {
                let code = body(self.func, self.arg);
                self.finish(DONE, code);
                if code == 0 {
                    Outcome::Ok
                } else {
                    Outcome::Failed
                }
            }
            Err(_) => Outcome::Skipped,
        }
    }

    /// Ends a latch's task (see `latch.rs`) as having run with result 0; a
    /// second call finds it ended and does nothing.
    pub(crate) fn end_latch(&self) {
        if self.leave_queued(RUNNING).is_ok() {
            self.finish(DONE, 0);
        }
    }

    /// Ends a still-queued task whose pool refused or dropped it: its drop
    /// runs and its waiters see `Shutdown`. `Skipped` if it already left the queue.
    pub(crate) fn cancel_for_shutdown(&self) -> Outcome {
        match self.cancel_as(SHUTDOWN) {
            Ok(()) => Outcome::Cancelled,
            Err(_) => Outcome::Skipped,
        }
    }

    /// How the task ended, if it has.
    pub fn end(&self) -> Option<TaskEnd> {
        let s = self.state.load(Ordering::Acquire);
        match s & LIFE {
            // SAFETY: the acquire load saw DONE, published after `result` was written.
            DONE => Some(TaskEnd::Ran(unsafe { *self.result.get() })),
            CANCELLED => Some(TaskEnd::Cancelled),
            SHUTDOWN => Some(TaskEnd::Shutdown),
            _ if self.fork_gen != fork::generation() => Some(TaskEnd::Forked),
            _ => None,
        }
    }

    /// Records that a waiter saw this end, so a later release does not
    /// report it as an unobserved failure.
    pub fn observe(&self, end: TaskEnd) -> TaskEnd {
        if matches!(end, TaskEnd::Ran(c) if c != 0) {
            self.state.fetch_or(OBSERVED, Ordering::Relaxed);
        }
        end
    }

    /// Cancels the task if it has not started: its drop runs here and every
    /// waiter wakes with `Cancelled`.
    pub fn cancel(&self) -> Result<(), CancelError> {
        self.cancel_as(CANCELLED).map(|_| ())
    }

    fn cancel_as(&self, life: u32) -> Result<(), CancelError> {
        match self.leave_queued(CANCELLING) {
            Ok(()) => {
                if let Some(d) = self.drop {
                    // SAFETY: the CAS out of QUEUED makes this the only consumer
                    // of `arg`: `func` will never run.
                    unsafe { d(self.arg) };
                }
                self.finish(life, 0);
                Ok(())
            }
            Err(RUNNING) => Err(CancelError::Running),
            Err(_) => Err(CancelError::Finished),
        }
    }

    /// Blocks the calling thread (helping only if told to and it is a
    /// worker) until the task ends or the deadline passes. Refused at once
    /// with `WouldDeadlock` if the task can only start after the caller's
    /// own task ends (see `WaitRule`).
    pub fn wait(&self, deadline: Option<u64>, help: bool) -> Result<TaskEnd, WaitError> {
        if self.end().is_none() && wait_would_deadlock(self) {
            return Err(WaitError::WouldDeadlock);
        }
        self.wait_unchecked(deadline, help).ok_or(WaitError::Timeout)
    }

    /// `wait` without the `WaitRule` check: for the library's own latches,
    /// which no mechanism queues behind anything (`None` = timed out).
    pub(crate) fn wait_unchecked(&self, deadline: Option<u64>, help: bool) -> Option<TaskEnd> {
        if let Some(e) = self.end() {
            return Some(e);
        }
        // A wait whose deadline has already passed (a zero timeout) never
        // runs other work: that could outlast the deadline by a whole task.
        let help = help && deadline.is_none_or(|d| crate::sync::now_ns() < d);
        if help {
            if let Some(w) = WorkerThread::current() {
                return w.wait_helping(self, deadline);
            }
        } else if let Some(w) = WorkerThread::current() {
            // Jobs in this worker's own deque can only run if someone steals
            // them while we block: make sure someone is awake to.
            w.before_blocking();
        }
        self.wait_blocking(deadline)
    }

    /// Spins briefly, then sleeps on the futex of `state`.
    pub(crate) fn wait_blocking(&self, deadline: Option<u64>) -> Option<TaskEnd> {
        // Under loom the polls only multiply the interleavings to explore.
        let spins = if cfg!(loom) { 0 } else { 64 };
        for i in 0..spins {
            if let Some(e) = self.end() {
                return Some(e);
            }
            if i < 16 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        loop {
            let s = self.state.load(Ordering::Acquire);
            if let Some(e) = self.end() {
                return Some(e);
            }
            if s & HAS_WAITER == 0
                && self.state.compare_exchange(s, s | HAS_WAITER, Ordering::AcqRel, Ordering::Acquire).is_err()
            {
                continue;
            }
            if !futex::wait(&self.state, s | HAS_WAITER, deadline) {
                return self.end();
            }
        }
    }

    /// Registers `parker` to be unparked on completion. False if the task
    /// already ended or another helper holds the slot.
    pub(crate) fn add_helper(&self, parker: &Parker) -> bool {
        let me = parker as *const Parker as *mut Parker;
        if self.helper.compare_exchange(ptr::null_mut(), me, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        let prev = self.state.fetch_or(HAS_HELPER, Ordering::AcqRel);
        if prev & LIFE >= DONE {
            // Already ended. A completer that saw the flag of an earlier helper
            // may have taken our parker to unpark it: wait it out before leaving.
            self.remove_helper(parker);
            return false;
        }
        true
    }

    /// Undoes `add_helper`, waiting out a completer that is unparking us.
    pub(crate) fn remove_helper(&self, parker: &Parker) {
        let me = parker as *const Parker as *mut Parker;
        loop {
            match self.helper.compare_exchange(me, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(BUSY) => crate::sync::spin_loop(),
                Err(_) => return, // null: the completer is done with our parker
            }
        }
    }

    /// Adds a user reference.
    pub fn retain(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }

    /// Drops one user reference; the last reference frees the task.
    ///
    /// # Safety
    /// `t` must be a live task and the caller must own the reference it drops.
    pub unsafe fn release(t: *const Task) {
        Task::drop_refs(t, 1)
    }

    /// `release` for a caller that may be wrong about owning a reference (a
    /// C user): refused if no user reference is left, which would otherwise
    /// free the task under its queued job.
    ///
    /// # Safety
    /// `t` must be a live task.
    pub unsafe fn release_checked(t: *const Task) -> Result<(), OverRelease> {
        if (*t).refs.load(Ordering::Relaxed) & !JOB_REF == 0 {
            return Err(OverRelease);
        }
        Task::drop_refs(t, 1);
        Ok(())
    }

    /// Drops the job's reference, once the job is consumed.
    ///
    /// # Safety
    /// `t` must be a live task whose job (or hook) held `JOB_REF` until now.
    pub(crate) unsafe fn release_job(t: *const Task) {
        Task::drop_refs(t, JOB_REF)
    }

    unsafe fn drop_refs(t: *const Task, n: u32) {
        // Holding the only reference, nobody else can change the count: a
        // load does (its acquire pairs with every earlier release's), and a
        // waiter releasing what it waited for skips a locked instruction,
        // which would also hold back its next handle's cache miss (the wait
        // loop of bench/ went from 25 to 18 ns a handle).
        if (*t).refs.load(Ordering::Acquire) != n {
            if (*t).refs.fetch_sub(n, Ordering::Release) != n {
                return;
            }
            crate::sync::fence(Ordering::Acquire);
        }
        let task = &*t;
        let s = task.state.load(Ordering::Relaxed);
        let result = *task.result.get();
        if s & LIFE == DONE && result != 0 && s & OBSERVED == 0 {
            crate::registry::report_by_id(
                task.pool_id,
                Failure {
                    func: task.func as usize,
                    arg: task.arg as usize,
                    code: result,
                    kind: FailureKind::Unobserved,
                },
            );
        }
        task.state.store(DEAD, Ordering::Relaxed);
        std::ptr::drop_in_place(t as *mut Task);
        crate::slab::free_slot(t as *mut Task);
    }
}

/// The job of a task with a handle; owns the task's `JOB_REF`.
struct TaskJob {
    task: *const Task,
}

impl JobBody for TaskJob {
    fn run(self, _: &WorkerThread) -> Outcome {
        // SAFETY: the job's reference keeps the task alive until released here.
        unsafe {
            let outcome = (*self.task).run_with(|f, arg| f(arg));
            Task::release_job(self.task);
            outcome
        }
    }

    fn cancel(self) -> Outcome {
        // SAFETY: as in `run`.
        unsafe {
            let outcome = (*self.task).cancel_for_shutdown();
            Task::release_job(self.task);
            outcome
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, loom))]
mod hook_loom_tests;
