//! Priorities within a pool: high, normal and low.
//!
//! Normal work is what it always was: the per-worker deques and the shared
//! queue, with work stealing. High and low work each have a shared FIFO
//! queue of their own, made the first time a pool queues a high or low job
//! (`Registry::priorities`); until then a worker's search costs one load of
//! an empty `OnceLock`, and pools that never use priorities pay nothing more.
//!
//! Order, and the bound on starvation: a worker's search normally looks at
//! high, then normal, then low. Every `NORMAL_EVERY`-th search of a worker
//! looks at normal first, and every `LOW_EVERY`-th at low first: with
//! every class busy, normal gets at least 1/4 and low at least 1/16 of each
//! worker's takes, so a stream of high (or normal) tasks delays a low task
//! by a bounded number of takes and never forever.

use crossbeam_deque::{Injector, Steal};

use crate::job::Job;
use crate::registry::{Admission, Registry, SubmitError};

/// Every this many searches a worker looks at normal work before high.
const NORMAL_EVERY: u32 = 4;
/// Every this many searches a worker looks at low work first.
const LOW_EVERY: u32 = 16;

/// A task's priority within its pool.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Priority {
    High,
    Normal,
    Low,
}

pub(crate) struct Priorities {
    high: Injector<Job>,
    low: Injector<Job>,
}

fn take(q: &Injector<Job>) -> Option<Job> {
    // Plain loads first: a steal from an empty injector still pays a
    // SeqCst fence, on every search of a pool that once queued a high task.
    if q.is_empty() {
        return None;
    }
    loop {
        match q.steal() {
            Steal::Success(j) => return Some(j),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

impl Priorities {
    fn new() -> Priorities {
        Priorities { high: Injector::new(), low: Injector::new() }
    }

    fn queue(&self, p: Priority) -> &Injector<Job> {
        match p {
            Priority::High => &self.high,
            _ => &self.low,
        }
    }

    /// The next job for a worker on its `tick`-th search (see the module
    /// docs); `normal` looks at the normal queues.
    pub(crate) fn pick(&self, tick: u32, normal: impl FnOnce() -> Option<Job>) -> Option<Job> {
        if tick % LOW_EVERY == 0 {
            take(&self.low).or_else(normal).or_else(|| take(&self.high))
        } else if tick % NORMAL_EVERY == 0 {
            normal().or_else(|| take(&self.high)).or_else(|| take(&self.low))
        } else {
            take(&self.high).or_else(normal).or_else(|| take(&self.low))
        }
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.high.is_empty() || !self.low.is_empty()
    }

    /// Cancels what is left after the workers are gone; returns how many.
    pub(crate) fn sweep(&self, reg: &Registry) -> u64 {
        let mut n = 0;
        for q in [&self.high, &self.low] {
            while let Some(job) = take(q) {
                reg.dequeued();
                job.cancel();
                n += 1;
            }
        }
        n
    }
}

impl Registry {
    /// The high and low queues, once the pool has used them.
    #[inline]
    pub(crate) fn priorities(&self) -> Option<&Priorities> {
        self.prio.get()
    }

    /// Queues `job` at priority `p` (normal: as `submit`, bounded), or
    /// gives it back on refusal.
    pub(crate) fn submit_at(&self, job: Job, p: Priority, bounded: bool) -> Result<(), (SubmitError, Job)> {
        let mut adm = match self.admit(crate::lifecycle::Work::Now) {
            Ok(a) => a,
            Err(e) => return Err((e, job)),
        };
        adm.queue_at(job, p, bounded)
    }
}

impl Admission<'_> {
    /// `queue` at priority `p`: high and low jobs go to their shared queue
    /// even from a worker (a priority is an order across the pool).
    pub(crate) fn queue_at(&mut self, job: Job, p: Priority, bounded: bool) -> Result<(), (SubmitError, Job)> {
        if p == Priority::Normal {
            return self.queue(job, bounded);
        }
        let reg = self.registry();
        let q = reg.prio.get_or_init(Priorities::new).queue(p);
        self.queue_shared(job, bounded, q)
    }
}
