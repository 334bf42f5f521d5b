//! Limiters: a set of tasks of which at most `width` run at once, started
//! in submission order (Taskflow's semaphores, errgroup's `SetLimit`).
//!
//! A limiter counts its tasks that were started (queued on the pool) and
//! have not ended; the others wait in its FIFO. Each member is a task with
//! a handle and a completion hook (`task.rs`), whatever the caller asked
//! for, so the limiter learns when any member ends, however it ends: ran,
//! cancelled (while queued on the pool or while waiting here), expired, or
//! dropped by a shutdown. A member that ends after it was started frees its
//! slot, and the hook starts the next waiting members; one that ends while
//! still waiting here (a `bg_cancel`) is taken out of the FIFO and takes no
//! slot. Members are numbered in submission order and started in that
//! order, so "was it started?" is `seq < started`, decided under the lock.
//!
//! Started members are queued on the pool as work it already accepted
//! (outside `max_queued`, like a serial queue's items). If the pool refuses
//! one (it is shutting down), the member is cancelled as a shutdown, and
//! its hook goes on to the next: nothing accepted is stranded.
//!
//! Serial queues (`serial.rs`) stay their own mechanism rather than a
//! limiter of width 1: they run items inside one drain job (no hook and no
//! trip through the pool's queue per item) and detect waits that would
//! deadlock on a later item of the same queue.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::compose::lock;
use crate::job::Job;
use crate::lifecycle::Work;
use crate::registry::{Registry, SubmitError};
use crate::task::{Hook, Task};

pub(crate) struct Limit {
    pub(crate) reg: Arc<Registry>,
    width: usize,
    state: Mutex<State>,
}

struct State {
    /// Started members that have not ended.
    running: usize,
    /// The next member's number.
    next_seq: u64,
    /// Members numbered below this were started.
    started: u64,
    /// Members not started yet, in submission order.
    waiting: VecDeque<(u64, Job)>,
}

/// The hook of one member.
#[repr(C)]
struct Member {
    hook: Hook,
    limit: Arc<Limit>,
    seq: u64,
}

impl Limit {
    pub(crate) fn new(reg: Arc<Registry>, width: usize) -> Arc<Limit> {
        Arc::new(Limit {
            reg,
            width,
            state: Mutex::new(State { running: 0, next_seq: 0, started: 0, waiting: VecDeque::new() }),
        })
    }

    /// Members started and not ended, and members waiting.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let st = lock(&self.state);
        (st.running, st.waiting.len())
    }

    /// Adds the job of `task` (which must not be null: the limiter hooks
    /// it) to the set: started now if a slot is free and nobody waits,
    /// else when a slot frees. On refusal the job comes back unconsumed.
    pub(crate) fn submit(self: &Arc<Self>, job: Job, task: *const Task) -> Result<(), (SubmitError, Job)> {
        debug_assert!(!task.is_null());
        // One admission covers the member and its start (see serial.rs).
        let mut adm = match self.reg.admit(Work::Now) {
            Ok(a) => a,
            Err(e) => return Err((e, job)),
        };
        let (seq, now) = {
            let mut st = lock(&self.state);
            let seq = st.next_seq;
            st.next_seq += 1;
            if st.running < self.width && st.waiting.is_empty() {
                st.running += 1;
                st.started = seq + 1;
                (seq, Some(job))
            } else {
                st.waiting.push_back((seq, job));
                (seq, None)
            }
        };
        let m = Box::into_raw(Box::new(Member { hook: Hook::new(member_ended), limit: Arc::clone(self), seq }));
        // SAFETY: the caller holds a reference to `task`; the node is fresh.
        unsafe { (*task).add_hook(m as *mut Hook) };
        if let Some(job) = now {
            if let Err((_, job)) = adm.queue(job, false) {
                job.cancel(); // a cancelling pool: the member ends as a shutdown
            }
        }
        Ok(())
    }

    /// Member `seq` ended: free its slot (or its place in the FIFO) and
    /// start whoever may start now.
    fn member_left(&self, seq: u64) {
        let (gone, start) = {
            let mut st = lock(&self.state);
            let mut gone = None;
            if seq < st.started {
                st.running -= 1;
            } else if let Ok(i) = st.waiting.binary_search_by_key(&seq, |(s, _)| *s) {
                gone = st.waiting.remove(i).map(|(_, j)| j);
            }
            let mut start = Vec::new();
            while st.running < self.width {
                let Some((s, job)) = st.waiting.pop_front() else { break };
                st.running += 1;
                st.started = s + 1;
                start.push(job);
            }
            (gone, start)
        };
        if let Some(job) = gone {
            job.cancel(); // its task already ended: this only drops the job's reference
        }
        for job in start {
            if let Err((_, job)) = self.reg.submit_accepted(job) {
                job.cancel();
            }
        }
    }
}

/// A member ended: tell its limiter.
unsafe fn member_ended(h: *mut Hook, _task: &Task) {
    // SAFETY: `submit` made this node a Box<Member> with the Hook first (repr(C)).
    let m = unsafe { Box::from_raw(h as *mut Member) };
    m.limit.member_left(m.seq);
}
