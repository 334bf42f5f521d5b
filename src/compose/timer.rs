//! Delayed tasks: one timer thread per pool, started on first use.
//!
//! The thread keeps a min-heap of (due time, job) and sleeps on a condition
//! variable until the earliest is due, then moves it to the pool's queue.
//! A delayed task is an ordinary handle: `bg_cancel` ends it while it waits
//! and its job, left in the heap, is skipped when due (lazy deletion, as in
//! the deques). So that cancelled long delays do not pile up, the heap is
//! purged of ended tasks whenever it has doubled since the last purge.
//!
//! When the pool shuts down (either mode) the thread stops and every job
//! still waiting is cancelled: its drop runs, its handle ends `Shutdown`.
//!
//! A due job goes where its submitter routed it (`Due`): the pool's queue
//! at a priority, a keyed lane, or a limiter. There it waits as if it had
//! been submitted at its due time.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::compose::lanes::Lanes;
use crate::compose::limit::Limit;
use crate::compose::{ext, lock};
use crate::job::Job;
use crate::lifecycle::Work;
use crate::priority::Priority;
use crate::registry::{Registry, SubmitError};
use crate::sync::now_ns;
use crate::task::Task;

/// Why a delayed task was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AddError {
    /// The pool's lifecycle refused it (shut down, or forked).
    Pool(SubmitError),
    /// The timer closed (the pool is shutting down).
    Shutdown,
    /// The timer thread could not be started.
    NoThread,
}

/// Where a delayed job goes when it falls due.
pub(crate) enum Due {
    /// The pool's queue, at this priority.
    Pool(Priority),
    /// The keyed lane `key` (`bg_pool_submit_keyed`).
    Lane(u64),
    /// A limiter (`bg_limit_submit`).
    Limit(Arc<Limit>),
}

impl Due {
    /// Queues `job` (of handle `task`) where it was routed; gives it back on refusal.
    fn queue(self, reg: &Arc<Registry>, job: Job, task: *const Task) -> Result<(), (SubmitError, Job)> {
        match self {
            Due::Pool(Priority::Normal) => reg.submit_accepted(job),
            Due::Pool(p) => match reg.admit(Work::Now) {
                Ok(mut a) => a.queue_at(job, p, false),
                Err(e) => Err((e, job)),
            },
            Due::Lane(key) => Lanes::submit(reg, key, job, task),
            Due::Limit(l) => l.submit(job, task),
        }
    }
}

pub(crate) struct TimerSlot {
    state: Mutex<Slot>,
}

enum Slot {
    NotStarted,
    Running(Arc<Shared>, JoinHandle<()>),
    Closed,
}

struct Shared {
    state: Mutex<Heap>,
    wake: Condvar,
}

struct Heap {
    entries: BinaryHeap<Entry>,
    closed: bool,
    seq: u64,
    /// Purge ended tasks when the heap reaches this size.
    purge_at: usize,
}

struct Entry {
    due: u64,
    /// Submission order, so equal due times fire first-come first-served.
    seq: u64,
    job: Job,
    /// The handle (its job holds a reference), or null: for purging, and
    /// for a lane or a limiter.
    task: *const Task,
    then: Due,
}

// SAFETY: `task` is kept alive by the job's reference and only read
// through `Task::end`, which is thread-safe.
unsafe impl Send for Entry {}

impl Entry {
    fn ended(&self) -> bool {
        // SAFETY: see the Send impl.
        !self.task.is_null() && unsafe { (*self.task).end().is_some() }
    }
}

// A min-heap on (due, seq): BinaryHeap is a max-heap, so compare reversed.
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}

const MIN_PURGE: usize = 64;

impl TimerSlot {
    pub(crate) fn new() -> TimerSlot {
        TimerSlot { state: Mutex::new(Slot::NotStarted) }
    }

    /// Queues `job` (of handle `task`, or null) on `reg` at `due`
    /// (CLOCK_MONOTONIC ns), to go where `then` says. On refusal the job
    /// comes back unconsumed.
    pub(crate) fn add(
        reg: &Arc<Registry>,
        due: u64,
        job: Job,
        task: *const Task,
        then: Due,
    ) -> Result<(), (AddError, Job)> {
        // Admitted as work held until later: refused once the pool closes,
        // even from its own workers (a drain would only cancel it).
        let adm = match reg.admit(Work::Later) {
            Ok(a) => a,
            Err(e) => return Err((AddError::Pool(e), job)),
        };
        let shared = {
            let mut slot = lock(&ext(reg).timer.state);
            if matches!(*slot, Slot::NotStarted) {
                let shared = Arc::new(Shared {
                    state: Mutex::new(Heap { entries: BinaryHeap::new(), closed: false, seq: 0, purge_at: MIN_PURGE }),
                    wake: Condvar::new(),
                });
                let (r, s) = (Arc::clone(reg), Arc::clone(&shared));
                match std::thread::Builder::new().name(format!("{}-timer", reg.name)).spawn(move || timer_main(r, s)) {
                    Ok(h) => *slot = Slot::Running(shared, h),
                    Err(_) => return Err((AddError::NoThread, job)),
                }
            }
            match &*slot {
                Slot::Running(shared, _) => Arc::clone(shared),
                _ => return Err((AddError::Shutdown, job)),
            }
        };
        let ended = {
            let mut heap = lock(&shared.state);
            if heap.closed {
                return Err((AddError::Shutdown, job));
            }
            heap.seq += 1;
            let seq = heap.seq;
            let earliest = heap.entries.peek().map_or(true, |e| due < e.due);
            heap.entries.push(Entry { due, seq, job, task, then });
            if earliest {
                shared.wake.notify_one();
            }
            purge(&mut heap)
        };
        drop(adm);
        // Jobs of ended tasks only drop their reference (outside the lock).
        for e in ended {
            e.job.cancel();
        }
        Ok(())
    }

    /// Stops the timer thread and cancels every job still waiting.
    pub(crate) fn close(&self) {
        let slot = std::mem::replace(&mut *lock(&self.state), Slot::Closed);
        if let Slot::Running(shared, thread) = slot {
            let waiting = {
                let mut heap = lock(&shared.state);
                heap.closed = true;
                std::mem::take(&mut heap.entries)
            };
            shared.wake.notify_all();
            let _ = thread.join();
            for e in waiting {
                e.job.cancel();
            }
        }
    }
}

/// Takes the entries of tasks that already ended out of the heap once it
/// has doubled since the last purge (amortised O(1) per add).
fn purge(heap: &mut Heap) -> Vec<Entry> {
    if heap.entries.len() < heap.purge_at {
        return Vec::new();
    }
    let (ended, live): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut heap.entries).into_iter().partition(Entry::ended);
    heap.entries = live.into();
    heap.purge_at = (2 * heap.entries.len()).max(MIN_PURGE);
    ended
}

fn timer_main(reg: Arc<Registry>, shared: Arc<Shared>) {
    let mut heap = lock(&shared.state);
    loop {
        if heap.closed {
            return; // `close` cancels what is left
        }
        let now = now_ns();
        let next_due = heap.entries.peek().map(|e| e.due);
        match next_due {
            Some(due) if due <= now => {
                let e = heap.entries.pop().expect("peeked");
                drop(heap);
                if let Err((_, job)) = e.then.queue(&reg, e.job, e.task) {
                    job.cancel();
                }
                heap = lock(&shared.state);
            }
            Some(due) => {
                heap = shared
                    .wake
                    .wait_timeout(heap, Duration::from_nanos(due - now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            None => heap = shared.wake.wait(heap).unwrap_or_else(|e| e.into_inner()),
        }
    }
}
