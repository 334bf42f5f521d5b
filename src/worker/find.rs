//! Where a worker looks for work: its own deque, the injector, the other
//! workers' deques (stealing), and whether any of them holds work.

use crossbeam_deque::{Steal, Stealer};

use super::WorkerThread;
use crate::job::Job;
use crate::probe::probe;
use crate::registry::bump;

/// Every 61st look for work starts at the injector, so work submitted from
/// outside is not starved by a worker that keeps feeding its own deque (the
/// Go scheduler's constant: prime, so it does not beat with task patterns),
/// unless the deque still holds jobs of the last batch taken from the
/// injector: those are older, and must start first (see `find_work`).
const INJECTOR_EVERY: u32 = 61;

impl WorkerThread {
    /// Own deque first, then the injector, then the other workers. Every
    /// INJECTOR_EVERY-th call starts at the injector (fairness).
    ///
    /// Outside submissions start in submission order on a one-thread pool:
    /// a batch from the injector lands in the deque so that pops take it
    /// oldest first, and no newer batch is taken while any of it is left
    /// (the fairness look is skipped then; an empty deque has none left).
    /// Tracking costs a length read per pop while a batch is left, nothing
    /// per task on the injector.
    pub(crate) fn find_work(&self) -> Option<Job> {
        let reg = &*self.registry;
        if reg.life.is_paused() {
            return None; // paused: take nothing new (control.rs)
        }
        if let Some(job) = self.held.take() {
            return Some(job); // taken as the last pause began: counted then
        }
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let job = match reg.priorities() {
            None => self.find_normal(tick),
            // Only pools that ever queued a high or low task look further.
            Some(p) => p.pick(tick, || self.find_normal(tick)),
        }?;
        bump(&self.slot().stats.popped);
        reg.dequeued();
        if reg.life.is_paused() {
            // The pause came after the look above and before the take: the
            // job may have been submitted after bg_pool_pause returned, so
            // it must not start. Kept here, in its place, until the resume
            // (queued again it would lose its place in submission order).
            self.held.set(Some(job));
            if self.spare.get() {
                // An idle spare parks where a resume does not wake it.
                self.give_back_held();
            }
            return None;
        }
        Some(job)
    }

    /// Normal-priority work: the deques and the shared queue.
    #[inline]
    fn find_normal(&self, tick: u32) -> Option<Job> {
        if self.spare.get() {
            return self.find_as_spare();
        }
        let job = if tick % INJECTOR_EVERY == 0 && self.batch_hi.get() <= self.batch_lo.get() {
            self.steal_injector().or_else(|| self.pop())
        } else {
            self.pop().or_else(|| self.steal_injector())
        };
        job.or_else(|| self.steal_others())
    }

    /// A spare runs while threads are blocked in tasks, and work queued in
    /// a blocked thread's deque (the rest of a batch it took) waits for a
    /// thief: a spare steals there before it takes newer work from the
    /// shared queue, and takes one job at a time, since it may block in it
    /// too and strand a batch of its own (issue 14: a burst of sleepers
    /// went to blocked spares' deques in batches, and the spares started
    /// for them took a parallel loop's pieces from the shared queue
    /// instead, so the burst started a few tasks a millisecond).
    #[cold]
    fn find_as_spare(&self) -> Option<Job> {
        self.deque.pop().or_else(|| self.steal_others_with(|victim| victim.steal())).or_else(|| loop {
            match self.registry.injector.steal() {
                Steal::Success(j) => return Some(j),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        })
    }

    /// Pops the deque, keeping track of what is left of the injector batch:
    /// a pop that brings the deque below `batch_hi` consumed one of it, and
    /// work pushed afterwards sits above it.
    fn pop(&self) -> Option<Job> {
        let job = self.deque.pop();
        let hi = self.batch_hi.get();
        if hi > self.batch_lo.get() {
            self.batch_hi.set(hi.min(self.deque.len()));
        }
        job
    }

    fn steal_injector(&self) -> Option<Job> {
        let lo = self.deque.len();
        loop {
            match self.registry.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(j) => {
                    self.batch_lo.set(lo);
                    let hi = self.deque.len();
                    self.batch_hi.set(hi);
                    if hi > lo {
                        crate::monitor::hurry(|| self.registry.injector.len()); // a burst: its tasks may block
                    }
                    return Some(j);
                }
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    fn steal_others(&self) -> Option<Job> {
        self.steal_others_with(|victim| victim.steal_batch_and_pop(&self.deque))
    }

    /// Tries every other slot's deque once, from a random one, with
    /// `steal`; again while some attempt lost a race.
    #[inline]
    fn steal_others_with(&self, steal: impl Fn(&Stealer<Job>) -> Steal<Job>) -> Option<Job> {
        let reg = &*self.registry;
        let n = reg.slots_hi();
        if n <= 1 {
            return None;
        }
        loop {
            let mut retry = false;
            let start = self.next_random() as usize % n;
            for k in 0..n {
                let victim = (start + k) % n;
                let stealer = &reg.slot(victim).stealer;
                // An empty deque is skipped on two loads: a steal pins
                // crossbeam's epoch first (a fence, and now and then a
                // collection), which an idle worker's last look paid per
                // worker before every park.
                if victim == self.idx || stealer.is_empty() {
                    continue;
                }
                match steal(stealer) {
                    Steal::Success(j) => {
                        bump(&self.slot().stats.steals);
                        probe!("steal", reg.id, self.idx, victim);
                        return Some(j);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Whether any queue holds work this worker may take now (the last
    /// check before parking): none while the pool is paused.
    pub(crate) fn has_visible_work(&self) -> bool {
        let reg = &*self.registry;
        if reg.life.is_paused() {
            return false;
        }
        self.holds_job()
            || !self.deque.is_empty()
            || !reg.injector.is_empty()
            || reg.priorities().is_some_and(|p| p.has_work())
            || (0..reg.slots_hi()).any(|i| i != self.idx && !reg.slot(i).stealer.is_empty())
    }

    fn next_random(&self) -> u64 {
        // xorshift64*
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
