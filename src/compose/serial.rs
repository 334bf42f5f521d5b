//! Serial queues: tasks of one queue run one at a time, in submission
//! order, on the pool's threads; different queues run in parallel.
//!
//! A queue is a FIFO of jobs and a `scheduled` flag under one mutex. The
//! submit that finds the flag clear sets it and queues a drain job on the
//! pool. The drain runs up to `DRAIN_BATCH` items, then requeues itself at
//! the back of the pool's shared queue (so a busy queue cannot starve the
//! rest, not even the local work of the worker draining it);
//! it clears the flag in the same critical section in which it finds the
//! FIFO empty. A drain exists exactly while the flag is set, so one item at
//! most runs at a time, and no item is left without a drain.
//!
//! If the pool refuses or drops the drain job (shutdown), every queued
//! item is cancelled: its drop runs and its handle ends with `Shutdown`.
//!
//! While a drain runs an item, it sets the core's wait rule
//! (`task::WaitRule`): a wait, from that item, on a task still in the same
//! FIFO could only end after the waiting item does, so `Task::wait` refuses it.

use std::collections::VecDeque;
use std::ptr;
use std::sync::Arc;

use crate::compose::{ext, lock};
use crate::job::{Job, JobBody, Outcome};
use crate::lifecycle::Work;
use crate::registry::{Admission, Registry, SubmitError};
use crate::task::{set_wait_rule, Task, WaitRule};
use crate::worker::WorkerThread;
use std::sync::Mutex;

/// Items a drain runs before it lets the pool's other work go first.
const DRAIN_BATCH: usize = 64;

pub(crate) struct Queue {
    pub(crate) reg: Arc<Registry>,
    /// A keyed lane's key: the lane sits in its pool's lane map while busy.
    lane: Option<u64>,
    state: Mutex<State>,
}

pub(crate) struct State {
    items: VecDeque<Item>,
    scheduled: bool,
}

struct Item {
    job: Job,
    /// The item's handle, for deadlock detection only (no reference held:
    /// the job holds one while the item is queued); null without a handle.
    task: *const Task,
}

// SAFETY: `task` is only compared by address, never dereferenced.
unsafe impl Send for Item {}

/// Marks this thread as running an item of a queue, as the core's wait
/// rule; restores the previous rule when dropped (a helping wait can run
/// another queue's drain inside).
struct RunningGuard(Option<WaitRule>);

impl RunningGuard {
    fn enter(q: &Queue) -> RunningGuard {
        let rule = WaitRule { check: queued_behind, ctx: q as *const Queue as *const () };
        RunningGuard(set_wait_rule(Some(rule)))
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        set_wait_rule(self.0);
    }
}

/// The wait rule while an item of queue `q` runs: `task` still queued
/// behind it on the same queue could only start after it ends.
///
/// # Safety
/// `q` must point at a live Queue.
unsafe fn queued_behind(q: *const (), task: &Task) -> bool {
    // SAFETY: the rule is set only while a drain, which holds an Arc of the
    // queue, runs an item on this thread.
    let q = unsafe { &*(q as *const Queue) };
    lock(&q.state).items.iter().any(|it| ptr::eq(it.task, task))
}

impl Queue {
    pub(crate) fn new(reg: Arc<Registry>, lane: Option<u64>) -> Arc<Queue> {
        Arc::new(Queue { reg, lane, state: Mutex::new(State { items: VecDeque::new(), scheduled: false }) })
    }

    /// Queues a job (of handle `task`, or null) behind the others. On
    /// refusal (the pool does not take work from this thread) the job comes
    /// back unconsumed.
    pub(crate) fn submit(self: &Arc<Self>, job: Job, task: *const Task) -> Result<(), (SubmitError, Job)> {
        // One admission covers the item and the drain job it may need: a
        // shutdown waits for both, so an accepted item is never stranded.
        let mut adm = match self.reg.admit(Work::Now) {
            Ok(a) => a,
            Err(e) => return Err((e, job)),
        };
        if self.push(job, task) {
            Arc::clone(self).schedule(&mut adm, false);
        }
        Ok(())
    }

    /// Appends an item; true if the caller must schedule the drain.
    /// For a lane, the caller holds the lane map's shard lock.
    pub(crate) fn push(&self, job: Job, task: *const Task) -> bool {
        let mut st = lock(&self.state);
        st.items.push_back(Item { job, task });
        !std::mem::replace(&mut st.scheduled, true)
    }

    /// Queues the drain job on the pool through `adm` (`behind` the work
    /// already waiting, when a drain yields). Only a cancelling pool refuses
    /// it (an outside admission cannot fail); then everything queued is
    /// cancelled.
    pub(crate) fn schedule(self: Arc<Self>, adm: &mut Admission<'_>, behind: bool) {
        let job = Job::new(DrainJob { queue: self });
        if behind {
            adm.queue_behind(job);
        } else if let Err((_, job)) = adm.queue(job, false) {
            job.cancel();
        }
    }

    fn drain(self: Arc<Self>, w: &WorkerThread) {
        {
            let _running = RunningGuard::enter(&self);
            for _ in 0..DRAIN_BATCH {
                if self.reg.is_paused() {
                    break; // a paused pool starts nothing new: yield to the back
                }
                match self.next_or_idle() {
                    Some(item) => w.execute(item.job),
                    None => return,
                }
            }
        }
        let reg = Arc::clone(&self.reg);
        let adm = reg.admit(Work::Now);
        match adm {
            Ok(mut adm) => self.schedule(&mut adm, true),
            Err(_) => self.cancel_all(),
        };
    }

    /// The next item; or, if there is none, ends the drain: clears
    /// `scheduled` (and takes a lane out of the lane map) in the critical
    /// section that saw the FIFO empty, so no submit can slip in between.
    fn next_or_idle(&self) -> Option<Item> {
        if let Some(item) = lock(&self.state).items.pop_front() {
            return Some(item);
        }
        let mut shard = self.lane.map(|key| ext(&self.reg).lanes.lock_shard(key));
        let mut st = lock(&self.state);
        let item = st.items.pop_front();
        if item.is_none() {
            st.scheduled = false;
            if let (Some(key), Some(map)) = (self.lane, shard.as_mut()) {
                map.remove(&key);
            }
        }
        item
    }

    /// The drain job was refused or dropped: cancel every queued item.
    fn cancel_all(&self) {
        let items = {
            let mut shard = self.lane.map(|key| ext(&self.reg).lanes.lock_shard(key));
            let mut st = lock(&self.state);
            st.scheduled = false;
            if let (Some(key), Some(map)) = (self.lane, shard.as_mut()) {
                map.remove(&key);
            }
            std::mem::take(&mut st.items)
        };
        for item in items {
            item.job.cancel();
        }
    }
}

/// A queue's drain: runs items, or, cancelled, cancels them all.
struct DrainJob {
    queue: Arc<Queue>,
}

impl JobBody for DrainJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        self.queue.drain(w);
        Outcome::Internal
    }

    fn cancel(self) -> Outcome {
        self.queue.cancel_all();
        Outcome::Internal
    }
}
