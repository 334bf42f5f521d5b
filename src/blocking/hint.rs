//! The blocking hint: a task that knows it is about to block says so
//! (`bg_blocking_begin`), and its pool compensates at once instead of at the
//! monitor's next look (Java's `ForkJoinPool.managedBlock`, tokio's
//! `block_in_place`). Never required: the monitor finds blocked threads
//! without it. The pool trusts it: a thread inside a hint counts as blocked
//! whatever it does, and the monitor does not look at it.
//!
//! Hints nest; the outermost opens and closes the count. A task that returns
//! with a hint still open has it closed as it returns (a leaked hint would
//! keep a spare running for good).

use crate::sync::Ordering;
use crate::worker::WorkerThread;

/// `bg_blocking_begin` on the calling thread; nothing outside a pool's threads.
pub(crate) fn begin() {
    if let Some(w) = WorkerThread::current() {
        w.blocking_begin();
    }
}

/// `bg_blocking_end`: false if the calling thread, a pool's, has no hint
/// open; true elsewhere (where `begin` did nothing).
pub(crate) fn end() -> bool {
    WorkerThread::current().map_or(true, |w| w.blocking_end())
}

impl WorkerThread {
    /// Opens a hint on this thread (see the module docs).
    pub(crate) fn blocking_begin(&self) {
        self.flush_private(); // what this thread's joins hold back goes to thieves
        let reg = self.registry_arc();
        let st = &reg.slot(self.index()).stats;
        let open = st.hint_depth.load(Ordering::Relaxed);
        st.hint_depth.store(open + 1, Ordering::Relaxed);
        if open > 0 {
            return;
        }
        st.hint_task_depth.store(st.depth.load(Ordering::Relaxed), Ordering::Relaxed);
        // Counted once: as hinted from here, no longer as seen blocked (a
        // Go callback's thread is often seen blocked waiting for a P).
        self.uncount_blocked();
        reg.blocking.hinted.fetch_add(1, Ordering::AcqRel);
        // Now, not at the next tick: a spare takes what waits behind us.
        let seen = reg.blocking.blocked.load(Ordering::Relaxed);
        reg.compensate(seen, reg.blocking.credit(), crate::monitor::has_queued_work(reg));
        // It keeps the books from here (a spare going idle, the pool closing).
        crate::monitor::wake();
    }

    /// Closes the innermost hint; false if this thread has none open.
    pub(crate) fn blocking_end(&self) -> bool {
        let st = &self.registry().slot(self.index()).stats;
        let open = st.hint_depth.load(Ordering::Relaxed);
        if open == 0 {
            return false;
        }
        st.hint_depth.store(open - 1, Ordering::Relaxed);
        if open == 1 {
            self.uncount_hint();
        }
        true
    }

    /// After a task at `task_depth` returned: closes a hint it left open.
    #[cold]
    pub(crate) fn close_hints_of(&self, task_depth: u32) {
        let st = &self.registry().slot(self.index()).stats;
        if st.hint_task_depth.load(Ordering::Relaxed) == task_depth {
            st.hint_depth.store(0, Ordering::Relaxed);
            self.uncount_hint();
        }
    }

    fn uncount_hint(&self) {
        let reg = self.registry();
        reg.blocking.hinted.fetch_sub(1, Ordering::AcqRel);
        // Spares above the new count finish their task and go idle.
        reg.recount_allowed();
    }
}
