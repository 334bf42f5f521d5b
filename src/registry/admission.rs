//! Admitted submitters: `Registry::admit` asks the lifecycle whether this
//! thread may add work now, and the `Admission` it returns queues the jobs.

use crossbeam_deque::Injector;

use super::{Registry, SubmitError};
use crate::job::Job;
use crate::lifecycle::{Ticket, Work};
use crate::sync::Ordering;
use crate::worker::WorkerThread;

/// A submitter admitted by the pool's lifecycle (`Registry::admit`): queue
/// jobs through it. From outside the pool it keeps the submitter counted
/// in flight until dropped, so a shutdown waits for what it queues.
pub(crate) struct Admission<'a> {
    reg: &'a Registry,
    /// The calling worker, when it is one of this pool's.
    local: Option<&'a WorkerThread>,
    ticket: Ticket<'a>,
}

impl<'a> Admission<'a> {
    pub(crate) fn registry(&self) -> &'a Registry {
        self.reg
    }
}

impl Admission<'_> {
    /// Queues a job: on the calling worker's own deque if it is one of
    /// ours, on the injector otherwise. `bounded`: refuse with `Full` when
    /// the pool's bound on queued tasks is reached (false for work the pool
    /// already accepted once: a continuation or a delayed task falling due,
    /// a serial queue scheduling its drain, a loop splitting its range).
    #[inline]
    pub(crate) fn queue(&mut self, job: Job, bounded: bool) -> Result<(), (SubmitError, Job)> {
        if let Err(e) = self.reg.reserve(bounded) {
            return Err((e, job));
        }
        if let (Some(w), true) = (self.local, self.ticket.is_local()) {
            w.push_local(job);
            return Ok(());
        }
        // Counted as a job of the shared queue either way (stats.rs).
        self.ticket.injected();
        if let Err(job) = self.reg.hand_off(job) {
            self.reg.injector.push(job);
            self.reg.notify_new_work();
        }
        Ok(())
    }

    /// `queue` on the shared queue `inj` of this pool (a priority's), even
    /// from a worker.
    pub(crate) fn queue_shared(
        &mut self,
        job: Job,
        bounded: bool,
        inj: &Injector<Job>,
    ) -> Result<(), (SubmitError, Job)> {
        if let Err(e) = self.reg.reserve(bounded) {
            return Err((e, job));
        }
        inj.push(job);
        if self.ticket.is_local() {
            self.reg.requeued.fetch_add(1, Ordering::Relaxed); // counted as queued (stats.rs)
        } else {
            self.ticket.injected();
        }
        self.reg.notify_new_work();
        Ok(())
    }

    /// `queue(job, false)` at the back of the shared queue, behind the work
    /// waiting there, even from a worker (whose own deque is LIFO): for a
    /// job that yields, like a serial queue's drain after a batch of items.
    pub(crate) fn queue_behind(&mut self, job: Job) {
        if !self.ticket.is_local() {
            return self.queue(job, false).unwrap_or_else(|_| unreachable!("unbounded queue refused"));
        }
        let _ = self.reg.reserve(false);
        self.reg.requeue(job);
        self.reg.notify_new_work();
    }
}

impl Registry {
    /// Asks the lifecycle whether this thread may add `work` to this pool
    /// now. Every submit path, Rust or C, goes through here.
    #[inline]
    pub(crate) fn admit(&self, work: Work) -> Result<Admission<'_>, SubmitError> {
        let local = WorkerThread::current_of(self);
        let ticket = self.life.admit(local.is_some(), work)?;
        Ok(Admission { reg: self, local, ticket })
    }
}
