//! A worker's side of `join` (`join.rs`): offering `b` on its own deque,
//! and waiting for it to be done, running it inline when nobody stole it.

use super::WorkerThread;
use std::ffi::{c_int, c_void};

use super::PRIVATE;
use crate::job::{Job, RawFn};
use crate::join::{JoinFrame, SLEEPING, UNSET};
use crate::registry::bump;
use crate::resize::Slot;
use crate::sleep::Woken;
use crate::stack;
use crate::sync::Ordering;

impl WorkerThread {
    /// `join` on this worker (see `join.rs`): `b` on the private stack or
    /// the deque, `a` here, then `b` taken back and run inline, or waited
    /// for. The slot is looked up once (each lookup is a chain of dependent
    /// loads).
    #[inline(always)]
    pub(crate) fn join(&self, a: RawFn, a_arg: *mut c_void, b: RawFn, b_arg: *mut c_void) -> (c_int, c_int) {
        let slot = self.slot();
        let frame = JoinFrame::new(b, b_arg, &*slot.parker);
        self.offer(slot, &frame);
        // SAFETY: the user's function with the user's arg, as joined.
        let ra = unsafe { a(a_arg) };
        if frame.published.get() {
            self.wait_join(slot, &frame);
        } else {
            // Still private: everything `a` pushed above it was taken back.
            let top = self.private_hi.get() - 1;
            self.private_hi.set(top);
            debug_assert!(std::ptr::eq(self.private[top % PRIVATE].get(), &frame));
            frame.run_inline();
        }
        (ra, frame.result())
    }

    /// Offers `b`'s frame: kept private while every worker is busy (see
    /// `join.rs`), else on the deque, after the private frames, so that
    /// thieves take the oldest (largest) pieces first.
    #[inline(always)]
    fn offer(&self, slot: &Slot, frame: &JoinFrame) {
        if self.registry.sleep.all_busy() {
            let hi = self.private_hi.get();
            if hi - self.private_lo.get() < PRIVATE {
                self.private[hi % PRIVATE].set(frame);
                self.private_hi.set(hi + 1);
                return;
            }
        }
        self.flush_private();
        frame.published.set(true);
        self.push_join(slot, frame.job());
    }

    /// Moves the private frames to the deque, oldest first: before this
    /// worker waits or blocks, and when another worker wants work.
    pub(crate) fn flush_private(&self) {
        let (lo, hi) = (self.private_lo.get(), self.private_hi.get());
        if lo == hi {
            return;
        }
        let slot = self.slot();
        for i in lo..hi {
            // SAFETY: a private frame lives on this thread's stack until its
            // join takes it back, which it has not (it is still listed).
            let frame = unsafe { &*self.private[i % PRIVATE].get() };
            frame.published.set(true);
            self.push_join(slot, frame.job());
        }
        self.private_lo.set(hi);
    }

    /// Pushes `b`'s job on this worker's deque. Waking a sleeper is only
    /// worth it if nobody searches: a missed wake-up costs parallelism, never
    /// progress, since the caller runs `b` itself if nobody took it. So a
    /// plain load decides (as rayon's local pushes), not the RMW that
    /// submissions from outside need.
    #[inline(always)]
    fn push_join(&self, slot: &Slot, job: Job) {
        let reg = &*self.registry;
        reg.reserve_accepted();
        self.deque.push(job);
        bump(&slot.stats.pushed);
        let (searching, sleeping) = reg.sleep.counts();
        if searching == 0 && sleeping > 0 {
            reg.notify_new_work();
        }
    }

    /// Waits until `frame`'s latch is set: pops this worker's deque first
    /// (what `a` left above `b`, then `b` itself, run inline), then, once
    /// thieves took `b`, runs other work of the pool, or sleeps.
    #[inline(always)]
    fn wait_join(&self, slot: &Slot, frame: &JoinFrame) {
        while !frame.is_set() {
            // Looked at in place: copying the popped job out costs a stalled
            // load of what `pop` just stored (measured: a quarter of a join).
            let popped = self.deque.pop();
            let Some(job) = &popped else { break };
            self.pop_counted(slot);
            if frame.is_own(job) {
                // Taken back unrun: it only points at our frame.
                if let Some(job) = popped {
                    job.abandon();
                }
                frame.run_inline();
                bump(&slot.stats.ended);
            } else if let Some(job) = popped {
                self.execute_popped(job); // what `a` left above `b`
            }
        }
        if !frame.is_set() {
            self.wait_stolen(frame);
        }
    }

    /// `b` was stolen: help until the thief is done.
    #[inline(never)]
    fn wait_stolen(&self, frame: &JoinFrame) {
        let reg = &*self.registry;
        // Stolen: help until the thief is done (unless the stack is nearly
        // used up: then only wait).
        let help = stack::pointer() >= self.stack_floor;
        let parker = &*self.slot().parker;
        loop {
            if frame.is_set() {
                self.stop_searching();
                return;
            }
            if help {
                if let Some(job) = self.find_work() {
                    self.stop_searching();
                    self.execute_popped(job);
                    continue;
                }
            } else {
                self.before_blocking();
            }
            if frame.latch.compare_exchange(UNSET, SLEEPING, Ordering::AcqRel, Ordering::Acquire).is_err() {
                continue; // set meanwhile
            }
            let searching = help && self.searching.get();
            let woken = reg
                .sleep
                .sleep(self.idx, parker, searching, None, false, &|| frame.is_set() || help && self.has_visible_work());
            crate::monitor::wake(); // as every thread that woke from parking
            self.searching.set(woken == Woken::AsSearcher);
            if !help {
                self.stop_searching(); // a worker that may not take work is no searcher
            }
            // Back to UNSET unless the thief set it: the next sleep asks again.
            let _ = frame.latch.compare_exchange(SLEEPING, UNSET, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Counts a pop of this worker's own deque as `find_work` does.
    #[inline(always)]
    fn pop_counted(&self, slot: &Slot) {
        bump(&slot.stats.popped);
        self.registry.dequeued();
        let hi = self.batch_hi.get();
        if hi > self.batch_lo.get() {
            self.batch_hi.set(hi.min(self.deque.len()));
        }
    }
}
