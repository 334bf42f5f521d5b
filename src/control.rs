//! Control of a running pool: pause and resume, a submit that waits for
//! room in a bounded pool, and waiting until the pool is idle.
//!
//! **Pause.** The flag is the lifecycle's (`lifecycle.rs`); this file sets
//! it under the control lock, as shutdown and resizing change the pool. A
//! worker looks at it before each take (`WorkerThread::find_work`) and, while
//! it is set, finds no work, so it parks after its usual short spin and burns
//! no CPU: submits still wake one, which finds nothing and parks again.
//! Resume clears the flag and wakes every parked worker; a worker parking at
//! that moment either is woken or, having pushed itself on the sleepers'
//! list after the wake took its lock, sees the flag clear in its re-check.
//!
//! **Room.** `max_queued` counts jobs waiting in the queues, never running
//! ones: a job leaves the count when a worker takes it. An idle worker is
//! not counted as room (that would cost every submit a claim on a worker);
//! it takes a queued job within microseconds, which makes room, and
//! `submit_waiting` waits for exactly that. Waiting polls with a backoff
//! from 10 µs to 1 ms, so a pool with room costs nothing extra; a worker of
//! the pool that waits runs queued work of the pool itself meanwhile.
//!
//! **Idle.** A pool is idle when nothing is queued and no worker is between
//! taking a job and ending it. Each worker counts the jobs it took
//! (`popped`) and the ones that ended (`ended`) in its own slot, so the
//! check costs the task path one more slot-local increment and nothing
//! shared: `popped == ended` summed over the slots, with `popped` read again
//! after the queue count unchanged, means there was an instant with no job
//! in a worker and none queued. Waiting polls like the submit above.

use std::time::Duration;

use crate::job::Job;
use crate::lifecycle::SubmitError;
use crate::priority::Priority;
use crate::registry::Registry;
use crate::sync::{lock, now_ns, Ordering};
use crate::worker::{self, WorkerThread};

/// Why a submit that waits for room did not queue its job.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RoomError {
    /// Refused for another reason (shut down, forked).
    Refused(SubmitError),
    /// Still full at the deadline.
    Timeout,
}

/// Why `wait_idle` returned without the pool being idle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdleError {
    /// The deadline passed first.
    Timeout,
    /// Called from one of the pool's own workers: it is never idle while
    /// that worker runs a task.
    WouldDeadlock,
    /// The pool belongs to the parent of this fork()ed process.
    Forked,
}

/// Sleeps for the next step of a 10 µs .. 1 ms backoff, not past `deadline`.
fn backoff(step: &mut u32, deadline: Option<u64>) {
    let ns = (10_000u64 << (*step).min(7)).min(1_000_000);
    *step += 1;
    let ns = deadline.map_or(ns, |d| ns.min(d.saturating_sub(now_ns())));
    std::thread::sleep(Duration::from_nanos(ns.max(1)));
}

impl Registry {
    /// Pauses the pool: running tasks finish, queued ones wait, submits are
    /// still accepted. Pausing a paused pool is allowed. Refused once the
    /// pool is shutting down.
    pub fn pause(&self) -> Result<(), SubmitError> {
        let _ctl = lock(&self.control);
        self.life.pause()
    }

    /// Lets the workers take queued work again. Resuming a pool that is not
    /// paused does nothing.
    pub fn resume(&self) {
        let was = {
            let _ctl = lock(&self.control);
            self.life.resume()
        };
        if was {
            self.sleep.wake_all(&|i| self.parker_of(i));
        }
    }

    pub fn is_paused(&self) -> bool {
        self.life.is_paused()
    }

    /// Queues `job` at priority `p`, waiting until `deadline` while the
    /// pool's bound on queued jobs is reached (see the module docs).
    pub(crate) fn submit_waiting(
        &self,
        mut job: Job,
        p: Priority,
        deadline: Option<u64>,
    ) -> Result<(), (RoomError, Job)> {
        let own = WorkerThread::current_of(self);
        let mut step = 0;
        loop {
            match self.submit_at(job, p, true) {
                Ok(()) => return Ok(()),
                Err((SubmitError::Full, j)) => job = j,
                Err((e, j)) => return Err((RoomError::Refused(e), j)),
            }
            if deadline.is_some_and(|d| now_ns() >= d) {
                return Err((RoomError::Timeout, job));
            }
            if !own.is_some_and(|w| w.help_once()) {
                backoff(&mut step, deadline);
            }
        }
    }

    /// Waits until nothing is queued and nothing runs (see the module docs).
    /// Tasks waiting for their delay are not counted until they fall due.
    pub fn wait_idle(&self, deadline: Option<u64>) -> Result<(), IdleError> {
        if self.is_forked() {
            return Err(IdleError::Forked);
        }
        if worker::is_own_thread(self) {
            return Err(IdleError::WouldDeadlock);
        }
        let mut step = 0;
        loop {
            if self.is_idle() {
                return Ok(());
            }
            if deadline.is_some_and(|d| now_ns() >= d) {
                return Err(IdleError::Timeout);
            }
            backoff(&mut step, deadline);
        }
    }

    fn taken_and_ended(&self) -> (u64, u64) {
        // Every `ended` first, then every `popped`: a slot whose two agree
        // had no job in hand from its first read to its second, and those
        // intervals share the instant between the two passes.
        let n = self.slots_hi();
        let sum = |f: &dyn Fn(usize) -> u64| (0..n).fold(0u64, |a, i| a.wrapping_add(f(i)));
        let ended = sum(&|i| self.slot(i).stats.ended.load(Ordering::Acquire));
        let popped = sum(&|i| self.slot(i).stats.popped.load(Ordering::Acquire));
        (popped, ended)
    }

    fn is_idle(&self) -> bool {
        let (popped, ended) = self.taken_and_ended();
        if popped != ended || self.stats().queued != 0 {
            return false;
        }
        self.taken_and_ended().0 == popped
    }
}
