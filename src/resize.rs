//! Worker slots and resizing: growing starts threads at once, shrinking
//! lets surplus workers retire at their next task boundary.
//!
//! A slot outlives the threads that occupy it: a retiring thread hands its
//! deque back to the slot, so stealers never see a deque disappear and a
//! later thread can take the slot over.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_deque::{Stealer, Worker};

use crate::job::Job;
use crate::lifecycle::{ResizeError, State, Ticket};
use crate::registry::{Registry, MAX_THREADS};
use crate::sleep::Parker;
use crate::stats::SlotStats;
use crate::sync::{futex, lock, CachePadded, Mutex, Ordering};
use crate::worker;

pub(crate) struct Slot {
    pub(crate) parker: CachePadded<Parker>,
    pub(crate) stealer: Stealer<Job>,
    /// The owner end of the deque while no thread holds it.
    pub(crate) deque: Mutex<Option<Worker<Job>>>,
    pub(crate) stats: CachePadded<SlotStats>,
    /// The kernel thread id of the thread in the slot (0: none), for the
    /// monitor's look at its state (`monitor.rs`).
    pub(crate) tid: std::sync::atomic::AtomicI32,
}

/// What resizing and shutdown change together, under one lock.
pub(crate) struct Control {
    /// Slots with a thread (a worker, or a spare above the size: `blocking.rs`).
    pub(crate) occupied: Vec<bool>,
    pub(crate) threads: Vec<JoinHandle<()>>,
}

impl Control {
    pub(crate) fn new() -> Control {
        Control { occupied: vec![false; MAX_THREADS], threads: Vec::new() }
    }
}

impl Registry {
    pub(crate) fn slot(&self, idx: usize) -> &Slot {
        self.slots[idx].get().expect("slot used before creation")
    }

    pub(crate) fn slots_hi(&self) -> usize {
        self.slots_hi.load(Ordering::Acquire)
    }

    pub(crate) fn target(&self) -> usize {
        self.target.load(Ordering::Acquire)
    }

    pub(crate) fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    /// Sets the thread count: grows at once, shrinks at task boundaries
    /// (an idle surplus worker takes no new task once this returns).
    pub fn set_threads(self: &Arc<Self>, n: usize) -> Result<(), ResizeError> {
        if n == 0 || n > MAX_THREADS {
            return Err(ResizeError::InvalidSize);
        }
        if self.is_forked() {
            return Err(ResizeError::Forked);
        }
        let mut ctl = lock(&self.control);
        if self.life.state() != State::Open {
            return Err(ResizeError::Shutdown);
        }
        // Join threads that already retired so their handles do not pile up.
        let (done, running): (Vec<_>, Vec<_>) = ctl.threads.drain(..).partition(|h| h.is_finished());
        ctl.threads = running;
        for h in done {
            let _ = h.join();
        }
        let old = self.target.swap(n, Ordering::AcqRel);
        for idx in 0..n {
            if !ctl.occupied[idx] {
                if let Err(e) = self.spawn_worker(idx, &mut ctl, false) {
                    // Slots below `idx` have threads: that is the pool's size now.
                    self.target.store(idx, Ordering::Release);
                    return Err(ResizeError::NoThreads(e));
                }
            }
        }
        drop(ctl);
        if n > old {
            // A spare in a slot below the new size is a worker now.
            self.blocking.wake_idle(self);
        }
        if n < old {
            // Sleepers above the new size must wake up to retire.
            self.sleep.wake_all(&|i| self.parker_of(i));
        }
        Ok(())
    }

    /// Starts a spare thread in the lowest free slot above the pool's size
    /// (see `blocking.rs`); false if the pool is closing or none could start.
    pub(crate) fn spawn_spare(self: &Arc<Self>) -> bool {
        let mut ctl = lock(&self.control);
        // Not yet joined (`live` only grows under
        // this lock: a shutdown that saw 0 then finds this thread in the
        // list it joins, and the thread finds nothing to do).
        if self.life.state() == State::Joined || self.live() == 0 {
            return false;
        }
        let (lo, hi) = (self.target(), self.max_threads().min(MAX_THREADS));
        let Some(idx) = (lo..hi).find(|&i| !ctl.occupied[i]) else { return false };
        self.blocking.spares.fetch_add(1, Ordering::AcqRel);
        if self.spawn_worker(idx, &mut ctl, true).is_err() {
            self.blocking.spares.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        self.blocking.started.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn spawn_worker(self: &Arc<Self>, idx: usize, ctl: &mut Control, spare: bool) -> std::io::Result<()> {
        let slot = self.slots[idx].get_or_init(|| {
            let w = Worker::new_lifo();
            Box::new(Slot {
                parker: CachePadded(Parker::default()),
                tid: std::sync::atomic::AtomicI32::new(0),
                stealer: w.stealer(),
                deque: Mutex::new(Some(w)),
                stats: CachePadded(SlotStats::default()),
            })
        });
        self.slots_hi.fetch_max(idx + 1, Ordering::AcqRel);
        // A retiring thread gives its slot up (should_retire) a moment before
        // it hands its deque back (worker_exited), running no user code in
        // between: a grow in that window waits for the deque.
        let deque = loop {
            if let Some(d) = lock(&slot.deque).take() {
                break d;
            }
            std::thread::yield_now();
        };
        let builder = std::thread::Builder::new()
            .name(if spare { format!("{}-s{}", self.name, idx) } else { format!("{}-{}", self.name, idx) })
            .stack_size(crate::stack::size(self.config.stack_size));
        self.live.fetch_add(1, Ordering::AcqRel);
        ctl.occupied[idx] = true;
        // The deque travels into the thread through this cell, so that a failed
        // spawn (whose closure is dropped unrun) leaves it for us to put back.
        let cell = Arc::new(Mutex::new(Some(deque)));
        let reg = Arc::clone(self);
        let handoff = Arc::clone(&cell);
        match builder.spawn(move || {
            let deque = lock(&handoff).take().expect("deque handed to the new worker");
            worker::main_loop(reg, idx, deque, spare)
        }) {
            Ok(h) => {
                ctl.threads.push(h);
                Ok(())
            }
            Err(e) => {
                *lock(&slot.deque) = lock(&cell).take();
                ctl.occupied[idx] = false;
                self.live.fetch_sub(1, Ordering::AcqRel);
                Err(e)
            }
        }
    }

    /// Called by a worker at a task boundary: `Some` if it must retire now
    /// because the pool shrank below its slot. The ticket counts it in
    /// flight while it moves its leftovers to the shared queue, so that a
    /// drain starting meanwhile waits for them. Once the pool is closing no
    /// worker retires: each drains its own deque and exits with the rest.
    pub(crate) fn should_retire(&self, idx: usize) -> Option<Ticket<'_>> {
        if idx < self.target() {
            return None;
        }
        let mut ctl = lock(&self.control);
        // Shutdown changes the state under this lock: open here means the
        // ticket is taken before any drain could look for submitters.
        if idx < self.target() || self.life.state() != State::Open {
            return None;
        }
        ctl.occupied[idx] = false;
        Some(self.life.enter_moving())
    }

    /// A worker thread is leaving: its deque goes back to its slot, then its
    /// stop hook runs (still counted live: a hook that shuts its own pool
    /// down gets WouldDeadlock, see `worker::is_own_thread`).
    pub(crate) fn worker_exited(&self, idx: usize, deque: Worker<Job>) {
        *lock(&self.slot(idx).deque) = Some(deque);
        if let Some(h) = &self.config.on_thread_stop {
            h(idx);
        }
        self.live.fetch_sub(1, Ordering::AcqRel);
        futex::wake(&self.live, i32::MAX);
    }

    pub(crate) fn thread_started(&self, idx: usize) {
        if let Some(h) = &self.config.on_thread_start {
            h(idx);
        }
    }
}
