//! A pool's shared state: the queues, the worker slots, the gate that
//! refuses new work at shutdown, resizing, and the statistics.
//!
//! Queues: one crossbeam `Injector` for work submitted from outside the pool
//! and one LIFO `Worker` deque per slot for work a worker submits itself.
//! A slot outlives the threads that occupy it: a retiring thread hands its
//! deque back to the slot, so stealers never see a deque disappear and a
//! later thread can take the slot over.

use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::error::{self, ErrorHandler, Failure};
use crate::fork::{self, GenLock};
use std::ffi::c_void;

use crate::job::{CancelReason, Job, RawDrop, RawFn};
use crate::sleep::{Parker, Sleep};
use crate::sync::{futex, lock, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, CachePadded, Mutex, Ordering};
use crate::task::Task;
use crate::worker::{self, WorkerThread};

/// The most threads a pool can have.
pub const MAX_THREADS: usize = 1024;

/// Why a submission was refused. Ownership of the job goes back to the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SubmitError {
    /// The pool is shut down (or shutting down).
    Shutdown,
    /// The pool's bound on queued tasks is reached.
    Full,
    /// The pool was created before a fork(): its threads do not exist here.
    Forked,
}

/// Why a shutdown did not complete.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShutdownError {
    /// Called from one of the pool's own workers: the close has begun, but a
    /// worker cannot join itself. Call again from outside the pool.
    WouldDeadlock,
    /// The workers did not all finish before the deadline; they go on
    /// finishing, and a later call waits again.
    Timeout,
    /// The pool was created before a fork(): there is nothing to join here.
    Forked,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShutdownMode {
    /// Run everything already queued, refuse new work from outside.
    Drain,
    /// Queued tasks never run: their drop runs and their waiters see Shutdown.
    Cancel,
}

const OPEN: u32 = 0;
const DRAINING: u32 = 1;
const CANCELLING: u32 = 2;

// The gate: bit 0 closed; bits 1..=20 submitters in flight; bits 21.. count
// every injected job (wrapping off the top). One RMW in and one out per
// outside submit, on a line only submitters write.
const GATE_CLOSED: u64 = 1;
const GATE_ENTER: u64 = 2;
const GATE_INFLIGHT: u64 = ((1 << 20) - 1) << 1;
const GATE_COUNT_SHIFT: u32 = 21;
const GATE_EXIT: u64 = (1 << GATE_COUNT_SHIFT) - GATE_ENTER;
const COUNT_MASK: u64 = (1 << (64 - GATE_COUNT_SHIFT)) - 1;

pub type ThreadHook = Arc<dyn Fn(usize) + Send + Sync>;

/// What a pool is built from.
#[derive(Clone, Default)]
pub struct Config {
    /// Worker threads (1..=MAX_THREADS).
    pub threads: usize,
    /// Thread names are `<prefix>-<index>` (Linux keeps the first 15 bytes).
    pub name: String,
    /// Stack size per worker in bytes; 0 for the platform default.
    pub stack_size: usize,
    pub on_thread_start: Option<ThreadHook>,
    pub on_thread_stop: Option<ThreadHook>,
    /// Refuse submissions once this many tasks are queued; 0 for no bound.
    pub max_queued: usize,
}

/// Counters owned by one slot: written only by the thread in the slot
/// (plain load+store, no RMW), summed by `stats`.
#[derive(Default)]
pub(crate) struct SlotStats {
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) pushed: AtomicU64,
    pub(crate) popped: AtomicU64,
    pub(crate) running: AtomicBool,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

pub(crate) struct Slot {
    pub(crate) parker: CachePadded<Parker>,
    pub(crate) stealer: Stealer<Job>,
    /// The owner end of the deque while no thread holds it.
    deque: Mutex<Option<Worker<Job>>>,
    pub(crate) stats: CachePadded<SlotStats>,
}

struct Control {
    occupied: Vec<bool>,
    threads: Vec<JoinHandle<()>>,
}

/// A snapshot of a pool's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub threads: u64,
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub steals: u64,
}

pub struct Registry {
    pub(crate) id: u64,
    pub(crate) fork_gen: u32,
    pub(crate) name: String,
    pub(crate) injector: Injector<Job>,
    slots: Box<[OnceLock<Box<Slot>>]>,
    /// Slots ever created: stealers look at `0..slots_hi`.
    slots_hi: AtomicUsize,
    target: AtomicUsize,
    /// Live worker threads; shutdown futex-waits for it to reach 0.
    live: AtomicU32,
    mode: AtomicU32,
    gate: CachePadded<AtomicU64>,
    /// Exact count of queued jobs, kept only when `max_queued` is set.
    queued: CachePadded<AtomicUsize>,
    max_queued: usize,
    /// Jobs moved back to the injector by retiring workers.
    requeued: AtomicU64,
    /// Jobs cancelled by the shutdown sweep.
    swept: AtomicU64,
    pub(crate) sleep: Sleep,
    control: Mutex<Control>,
    config: Config,
    errors: Mutex<ErrorHandler>,
    /// What composition keeps per pool: keyed lanes and the delay timer.
    pub(crate) compose: crate::compose::PoolExt,
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
static POOLS: GenLock<Vec<(u64, Weak<Registry>)>> = GenLock::new(Vec::new());

/// Reports a failure to the error handler of pool `id`, or to stderr if that
/// pool is gone. Used when the last reference to a failed handle is released.
pub(crate) fn report_by_id(id: u64, f: Failure) {
    match by_id(id) {
        Some(r) => r.report_failure(f),
        None => error::default_report("(gone)", &f),
    }
}

/// The pool with this id, while it exists.
pub(crate) fn by_id(id: u64) -> Option<Arc<Registry>> {
    POOLS.lock().iter().find(|(i, _)| *i == id).and_then(|(_, w)| w.upgrade())
}

/// Wakes one parked worker of some pool for no work: it parks again, and
/// parking is when a worker sees to freed handle memory (`depot.rs`).
pub(crate) fn nudge_a_parked_worker() {
    // Upgraded under the lock, dropped after it: dropping a pool's last
    // reference takes the lock.
    let pools: Vec<Arc<Registry>> = POOLS.lock().iter().filter_map(|(_, w)| w.upgrade()).collect();
    if let Some(r) = pools.iter().find(|r| !r.is_forked() && r.sleep.counts().1 > 0) {
        r.notify_new_work();
    }
}

impl Registry {
    /// Creates a pool and starts its threads.
    pub fn new(config: Config) -> std::io::Result<Arc<Registry>> {
        if config.threads == 0 || config.threads > MAX_THREADS {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
        }
        fork::install();
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reg = Arc::new(Registry {
            id,
            fork_gen: fork::generation(),
            name: if config.name.is_empty() { "bg".into() } else { config.name.clone() },
            injector: Injector::new(),
            slots: (0..MAX_THREADS).map(|_| OnceLock::new()).collect(),
            slots_hi: AtomicUsize::new(0),
            target: AtomicUsize::new(0),
            live: AtomicU32::new(0),
            mode: AtomicU32::new(OPEN),
            gate: CachePadded(AtomicU64::new(0)),
            queued: CachePadded(AtomicUsize::new(0)),
            max_queued: config.max_queued,
            requeued: AtomicU64::new(0),
            swept: AtomicU64::new(0),
            sleep: Sleep::new(),
            control: Mutex::new(Control { occupied: vec![false; MAX_THREADS], threads: Vec::new() }),
            errors: Mutex::new(None),
            config,
            compose: crate::compose::PoolExt::new(),
        });
        POOLS.lock().push((id, Arc::downgrade(&reg)));
        if let Err(e) = reg.set_threads(reg.config.threads) {
            let _ = reg.shutdown(ShutdownMode::Cancel, None);
            return Err(e);
        }
        Ok(reg)
    }

    pub(crate) fn slot(&self, idx: usize) -> &Slot {
        self.slots[idx].get().expect("slot used before creation")
    }

    pub(crate) fn slots_hi(&self) -> usize {
        self.slots_hi.load(Ordering::Acquire)
    }

    pub(crate) fn parker_of(&self, idx: usize) -> *const Parker {
        &*self.slot(idx).parker as *const Parker
    }

    pub(crate) fn target(&self) -> usize {
        self.target.load(Ordering::Relaxed)
    }

    pub(crate) fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    /// True in a forked child for a pool the parent created.
    pub fn is_forked(&self) -> bool {
        self.fork_gen != fork::generation()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.mode.load(Ordering::Acquire) == OPEN
    }

    pub(crate) fn is_cancelling(&self) -> bool {
        self.mode.load(Ordering::Acquire) == CANCELLING
    }

    /// No outside submitter is between the gate and its push.
    pub(crate) fn no_submitters_in_flight(&self) -> bool {
        self.gate.load(Ordering::Acquire) & GATE_INFLIGHT == 0
    }

    /// Wakes a sleeping worker if work was just published and nobody searches.
    pub(crate) fn notify_new_work(&self) {
        self.sleep.new_work(&|i| self.parker_of(i));
    }

    /// Takes one place in the bounded queue, if there is a bound (and,
    /// unless `bounded` is false, only if a place is free).
    fn reserve(&self, bounded: bool) -> Result<(), SubmitError> {
        if self.max_queued != 0 {
            let before = self.queued.fetch_add(1, Ordering::Relaxed);
            if bounded && before >= self.max_queued {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(SubmitError::Full);
            }
        }
        Ok(())
    }

    /// A job left a queue (popped, stolen or swept).
    pub(crate) fn dequeued(&self) {
        if self.max_queued != 0 {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Queues a job: on the calling worker's own deque if it is one of ours,
    /// on the injector otherwise. On refusal the job comes back unconsumed.
    pub(crate) fn submit(&self, job: Job) -> Result<(), (SubmitError, Job)> {
        self.submit_inner(job, true)
    }

    /// `submit` for work the pool already accepted once: a continuation or a
    /// delayed task falling due, a serial queue rescheduling its drain, a
    /// parallel loop splitting its range. The bound on queued tasks applied
    /// when the user submitted; refusing now would strand accepted work.
    pub(crate) fn submit_accepted(&self, job: Job) -> Result<(), (SubmitError, Job)> {
        self.submit_inner(job, false)
    }

    /// `submit_accepted` at the back of the shared queue, behind the work
    /// waiting there, even from a worker (whose own deque is LIFO): for a
    /// job that yields, like a serial queue's drain after a batch of items.
    pub(crate) fn submit_behind(&self, job: Job) -> Result<(), (SubmitError, Job)> {
        if let Some(w) = WorkerThread::current() {
            if std::ptr::eq(w.registry(), self) {
                // As in `submit`: our own workers may add work while we drain.
                if self.mode.load(Ordering::Acquire) == CANCELLING {
                    return Err((SubmitError::Shutdown, job));
                }
                let _ = self.reserve(false);
                self.requeue(job);
                self.notify_new_work();
                return Ok(());
            }
        }
        self.submit_accepted(job)
    }

    fn submit_inner(&self, job: Job, bounded: bool) -> Result<(), (SubmitError, Job)> {
        if self.is_forked() {
            return Err((SubmitError::Forked, job));
        }
        if let Some(w) = WorkerThread::current() {
            if std::ptr::eq(w.registry(), self) {
                // Our own workers may keep submitting while the pool drains:
                // that work is part of what is being drained.
                if self.mode.load(Ordering::Acquire) == CANCELLING {
                    return Err((SubmitError::Shutdown, job));
                }
                if let Err(e) = self.reserve(bounded) {
                    return Err((e, job));
                }
                w.push_local(job);
                return Ok(());
            }
        }
        self.inject(job, bounded)
    }

    /// Queues a fire-and-forget callback. On refusal nothing ran and nothing
    /// was dropped: `arg` is still the caller's.
    pub fn spawn_fn(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<(), SubmitError> {
        self.submit(Job::spawn(f, arg, drop)).map_err(|(e, job)| {
            job.abandon(); // never queued: the caller keeps arg, drop must not run
            e
        })
    }

    /// Queues a callback with a handle carrying one user reference.
    pub fn submit_fn(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<*const Task, SubmitError> {
        let (task, job) = Task::new(f, arg, drop, self.id);
        match self.submit(job) {
            Ok(()) => Ok(task),
            Err((e, job)) => {
                // SAFETY: the pair came from Task::new just above and was never shared.
                unsafe { Task::discard_unsubmitted(task, job) };
                Err(e)
            }
        }
    }

    fn inject(&self, job: Job, bounded: bool) -> Result<(), (SubmitError, Job)> {
        let g = self.gate.fetch_add(GATE_ENTER, Ordering::Acquire);
        if g & GATE_CLOSED != 0 {
            self.gate.fetch_sub(GATE_ENTER, Ordering::Release);
            return Err((SubmitError::Shutdown, job));
        }
        if let Err(e) = self.reserve(bounded) {
            self.gate.fetch_sub(GATE_ENTER, Ordering::Release);
            return Err((e, job));
        }
        self.injector.push(job);
        self.gate.fetch_add(GATE_EXIT, Ordering::Release);
        self.notify_new_work();
        Ok(())
    }

    /// Moves a job to the shared queue from inside the pool (a retiring
    /// worker's leftovers, a yielding job) where every worker will find it.
    pub(crate) fn requeue(&self, job: Job) {
        self.injector.push(job);
        self.requeued.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the thread count: grows at once, shrinks at task boundaries.
    pub fn set_threads(self: &Arc<Self>, n: usize) -> std::io::Result<()> {
        if n == 0 || n > MAX_THREADS {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
        }
        if self.is_forked() {
            return Err(std::io::Error::from(std::io::ErrorKind::NotConnected));
        }
        let mut ctl = lock(&self.control);
        if !self.is_open() {
            return Err(std::io::Error::from(std::io::ErrorKind::NotConnected));
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
                if let Err(e) = self.spawn_worker(idx, &mut ctl) {
                    // Slots below `idx` have threads: that is the pool's size now.
                    self.target.store(idx, Ordering::Release);
                    return Err(e);
                }
            }
        }
        drop(ctl);
        if n < old {
            // Sleepers above the new size must wake up to retire.
            self.sleep.wake_all(&|i| self.parker_of(i));
        }
        Ok(())
    }

    fn spawn_worker(self: &Arc<Self>, idx: usize, ctl: &mut Control) -> std::io::Result<()> {
        let slot = self.slots[idx].get_or_init(|| {
            let w = Worker::new_lifo();
            Box::new(Slot {
                parker: CachePadded(Parker::default()),
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
        let mut builder = std::thread::Builder::new().name(format!("{}-{}", self.name, idx));
        if self.config.stack_size != 0 {
            builder = builder.stack_size(self.config.stack_size);
        }
        self.live.fetch_add(1, Ordering::AcqRel);
        ctl.occupied[idx] = true;
        // The deque travels into the thread through this cell, so that a failed
        // spawn (whose closure is dropped unrun) leaves it for us to put back.
        let cell = Arc::new(Mutex::new(Some(deque)));
        let reg = Arc::clone(self);
        let handoff = Arc::clone(&cell);
        match builder.spawn(move || {
            let deque = lock(&handoff).take().expect("deque handed to the new worker");
            worker::main_loop(reg, idx, deque)
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

    /// Called by a worker at a task boundary: true if it must retire now
    /// because the pool shrank below its slot.
    pub(crate) fn should_retire(&self, idx: usize) -> bool {
        if idx < self.target.load(Ordering::Relaxed) {
            return false;
        }
        let mut ctl = lock(&self.control);
        if idx < self.target.load(Ordering::Relaxed) {
            return false;
        }
        ctl.occupied[idx] = false;
        true
    }

    /// A worker thread is leaving: its deque goes back to its slot.
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

    /// Closes the pool and joins its threads (see `ShutdownMode`). Calling it
    /// again is allowed: it waits for whatever is still running; a cancel
    /// after a drain that timed out escalates to cancelling.
    pub fn shutdown(&self, mode: ShutdownMode, deadline: Option<u64>) -> Result<(), ShutdownError> {
        if self.is_forked() {
            return Err(ShutdownError::Forked);
        }
        {
            let _ctl = lock(&self.control);
            let want = if mode == ShutdownMode::Cancel { CANCELLING } else { DRAINING };
            if self.mode.load(Ordering::Acquire) < want {
                self.mode.store(want, Ordering::Release);
            }
            self.gate.fetch_or(GATE_CLOSED, Ordering::AcqRel);
        }
        // Delayed tasks not yet due never run: their drops run now.
        self.compose.close();
        if let Some(w) = WorkerThread::current() {
            if std::ptr::eq(w.registry(), self) {
                self.sleep.wake_all(&|i| self.parker_of(i));
                return Err(ShutdownError::WouldDeadlock);
            }
        }
        // Submitters that passed the gate before it closed finish their push.
        while !self.no_submitters_in_flight() {
            std::thread::yield_now();
        }
        self.sleep.wake_all(&|i| self.parker_of(i));
        loop {
            let n = self.live.load(Ordering::Acquire);
            if n == 0 {
                break;
            }
            if !futex::wait(&self.live, n, deadline) && self.live.load(Ordering::Acquire) != 0 {
                return Err(ShutdownError::Timeout);
            }
        }
        let threads = std::mem::take(&mut lock(&self.control).threads);
        for h in threads {
            let _ = h.join();
        }
        self.sweep();
        Ok(())
    }

    /// Cancels every job still queued after the workers are gone.
    fn sweep(&self) {
        let mut n = 0u64;
        loop {
            match self.injector.steal() {
                Steal::Success(job) => {
                    self.dequeued();
                    job.cancel(CancelReason::Shutdown);
                    n += 1;
                }
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        for idx in 0..self.slots_hi() {
            let slot = self.slot(idx);
            if let Some(deque) = lock(&slot.deque).as_ref() {
                while let Some(job) = deque.pop() {
                    self.dequeued();
                    job.cancel(CancelReason::Shutdown);
                    n += 1;
                }
            }
        }
        self.swept.fetch_add(n, Ordering::Relaxed);
    }

    /// True once shutdown began.
    pub fn is_shut_down(&self) -> bool {
        !self.is_open()
    }

    pub fn set_error_handler(&self, h: ErrorHandler) {
        *lock(&self.errors) = h;
    }

    pub(crate) fn report_failure(&self, f: Failure) {
        let h = lock(&self.errors).clone();
        match h {
            Some(h) => h(&f),
            None => error::default_report(&self.name, &f),
        }
    }

    pub fn stats(&self) -> Stats {
        let mut s = Stats { threads: self.target() as u64, ..Stats::default() };
        let (mut pushed, mut popped) = (0u64, 0u64);
        for idx in 0..self.slots_hi() {
            let st = &self.slot(idx).stats;
            s.completed += st.completed.load(Ordering::Relaxed);
            s.failed += st.failed.load(Ordering::Relaxed);
            s.cancelled += st.cancelled.load(Ordering::Relaxed);
            s.steals += st.steals.load(Ordering::Relaxed);
            s.running += st.running.load(Ordering::Relaxed) as u64;
            pushed = pushed.wrapping_add(st.pushed.load(Ordering::Relaxed));
            popped = popped.wrapping_add(st.popped.load(Ordering::Relaxed));
        }
        let swept = self.swept.load(Ordering::Relaxed);
        s.cancelled += swept;
        if self.is_shut_down() && self.live() == 0 {
            s.threads = 0;
        }
        let injected = self.gate.load(Ordering::Relaxed) >> GATE_COUNT_SHIFT;
        let inflow = injected.wrapping_add(self.requeued.load(Ordering::Relaxed)).wrapping_add(pushed);
        let outflow = popped.wrapping_add(swept);
        // Counters are read one by one while workers run: clamp the skew.
        let q = inflow.wrapping_sub(outflow) & COUNT_MASK;
        s.queued = if q > COUNT_MASK / 2 { 0 } else { q };
        s
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        POOLS.lock().retain(|(id, _)| *id != self.id);
    }
}
