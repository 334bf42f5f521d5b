//! Completion hooks: "do something once this task ends".
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

use std::ptr;

use super::{Task, DONE, HAS_HOOKS, LIFE, SEALED};
use crate::fork;
use crate::sync::Ordering;

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

impl Task {
    /// Runs `hook` once this task has ended: later, on the thread that ends
    /// it, or now, on this thread, if it already has (see the module docs).
    ///
    /// # Safety
    /// `hook` must be valid and not attached anywhere; its `run` owns it.
    pub(crate) unsafe fn add_hook(&self, hook: *mut Hook) {
        if self.fork_gen != fork::generation() {
            // Inherited across fork(): nothing in this process will end it.
            // SAFETY: the caller's promise: `hook` is valid, and its `run` owns it.
            return unsafe { ((*hook).run)(hook, self) };
        }
        let mut head = self.hooks.load(Ordering::Acquire);
        loop {
            if head == SEALED {
                // SAFETY: as above.
                return unsafe { ((*hook).run)(hook, self) };
            }
            // SAFETY: `hook` is valid and not yet published: only we touch it.
            unsafe { (*hook).next = head };
            match self.hooks.compare_exchange_weak(head, hook, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        if self.state.fetch_or(HAS_HOOKS, Ordering::AcqRel) & LIFE >= DONE {
            self.run_hooks_soon();
        }
    }

    /// `add_hook` for a task nobody else can see yet: plain stores, where
    /// `add_hook` needs two atomic operations on a line a worker may be
    /// running the task from.
    ///
    /// # Safety
    /// As for `add_hook`, and `self` is fresh from `Task::new` with its job
    /// not yet queued (queueing it publishes these stores).
    pub(crate) unsafe fn add_hook_unshared(&self, hook: *mut Hook) {
        // SAFETY: the caller's promise: `hook` is valid and only we touch it.
        unsafe { (*hook).next = self.hooks.load(Ordering::Relaxed) };
        self.hooks.store(hook, Ordering::Relaxed);
        self.state.store(self.state.load(Ordering::Relaxed) | HAS_HOOKS, Ordering::Relaxed);
    }

    /// Runs the hooks now, or, if this thread is already running hooks
    /// further up its stack, queues the task for that outermost caller. A
    /// hook may end another task (a continuation refused by a closed pool
    /// ends as a shutdown at once), whose hooks would otherwise run inside
    /// it: a chain of 100,000 continuations overflowed the stack.
    pub(super) fn run_hooks_soon(&self) {
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
}
