//! Waiting for a task: blocking on the futex of `state`, or, on a worker,
//! helping (see "State machine" in `task.rs` for `HAS_WAITER`, `HAS_HELPER`
//! and `BUSY`); and the rule that refuses a wait that could never end.

use std::ptr;

use super::{Task, TaskEnd, BUSY, DONE, HAS_HELPER, HAS_WAITER, LIFE};
use crate::sleep::Parker;
use crate::sync::{futex, Ordering};
use crate::worker::WorkerThread;

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

impl Task {
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
        let help = help && deadline.map_or(true, |d| crate::sync::now_ns() < d);
        match WorkerThread::current() {
            Some(w) if help => return w.wait_helping(self, deadline),
            // Jobs in this worker's own deque can only run if someone steals
            // them while we block: make sure someone is awake to.
            Some(w) => w.before_blocking(),
            // What this thread's joins hold back goes to the workers.
            None => crate::join::flush_outside(),
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
}
