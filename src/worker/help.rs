//! How a worker waits for a task while running others of its pool
//! (helping), so that a task waiting for its own subtasks never deadlocks,
//! and how it makes sure its work is seen when it blocks instead.

use super::WorkerThread;
use crate::sleep::Woken;
use crate::stack;
use crate::sync::now_ns;
use crate::task::{Task, TaskEnd};

impl WorkerThread {
    /// Runs one job of this pool's queues, if one may be taken now (a
    /// worker waiting for room in its own full pool makes room itself).
    pub(crate) fn help_once(&self) -> bool {
        match self.find_work() {
            Some(job) => {
                self.execute_popped(job);
                true
            }
            None => false,
        }
    }

    /// Before this worker blocks without helping: if its deque holds work,
    /// make sure some other worker is awake to steal it.
    pub(crate) fn before_blocking(&self) {
        self.flush_private();
        if !self.deque.is_empty() {
            self.registry.notify_new_work();
        }
    }

    /// Waits for `task` while running other work of this pool, so that a task
    /// waiting for its own subtasks never deadlocks, even with one thread.
    ///
    /// Each nested help runs a task on top of the waiter's frames; once the
    /// stack is nearly used up (`stack_floor`), the wait blocks instead.
    pub(crate) fn wait_helping(&self, task: &Task, deadline: Option<u64>) -> Option<TaskEnd> {
        self.flush_private(); // the frames of joins around this wait
        if stack::pointer() < self.stack_floor {
            self.before_blocking();
            return task.wait_blocking(deadline);
        }
        let reg = &*self.registry;
        let parker = &*self.slot().parker;
        loop {
            if let Some(e) = task.end() {
                self.stop_searching();
                return Some(e);
            }
            // The deadline is checked before taking work, so a timed wait
            // overruns it by at most one task it started in time.
            if deadline.is_some_and(|d| now_ns() >= d) {
                self.stop_searching();
                return None;
            }
            if let Some(job) = self.find_work() {
                self.stop_searching();
                self.execute_popped(job);
                continue;
            }
            // Park until the task completes or new work appears. If another
            // helper already holds the task's slot, poll every 100 µs instead.
            let helper = task.add_helper(parker);
            let wake_by = if helper { deadline } else { Some(now_ns() + 100_000).min(deadline.or(Some(u64::MAX))) };
            if task.end().is_none() {
                let woken = reg.sleep.sleep(self.idx, parker, self.searching.get(), wake_by, false, &|| {
                    task.end().is_some() || self.has_visible_work()
                });
                crate::monitor::wake();
                self.searching.set(woken == Woken::AsSearcher);
            }
            if helper {
                task.remove_helper(parker);
            }
        }
    }
}
