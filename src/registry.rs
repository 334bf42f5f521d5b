//! A pool's shared state: the queues, the worker slots, admission (asked of
//! `lifecycle.rs`), shutdown and the error handler. Resizing and worker
//! slots are in `resize.rs`, the statistics in `stats.rs`, the table of
//! all pools in `registry/table.rs`, admitted submitters in
//! `registry/admission.rs`.
//!
//! Queues: one crossbeam `Injector` for work submitted from outside the pool
//! and one LIFO `Worker` deque per slot for work a worker submits itself.
//! A slot outlives the threads that occupy it: a retiring thread hands its
//! deque back to the slot, so stealers never see a deque disappear and a
//! later thread can take the slot over.

use std::any::Any;
use std::ffi::c_void;
use std::sync::{Arc, OnceLock};

use crossbeam_deque::{Injector, Steal};

use crate::error::{self, ErrorHandler, Failure};
use crate::job::{Job, RawDrop, RawFn};
use crate::lifecycle::{Lifecycle, State, Work};
use crate::probe::probe;
use crate::resize::{Control, Slot};
use crate::sleep::{Parker, Sleep};
use crate::sync::{futex, lock, AtomicU32, AtomicU64, AtomicUsize, CachePadded, Mutex, Ordering};
use crate::task::{Hook, Task};
use crate::worker;

mod admission;
mod table;

pub use crate::lifecycle::{ResizeError, ShutdownError, ShutdownMode, SubmitError};
pub(crate) use crate::stats::bump;
pub(crate) use admission::Admission;
pub(crate) use table::{by_id, live_pools, report_by_id};

/// The most threads a pool can have.
pub const MAX_THREADS: usize = 1024;

pub type ThreadHook = Arc<dyn Fn(usize) + Send + Sync>;

/// What a pool is built from.
#[derive(Clone, Default)]
pub struct Config {
    /// Worker threads (1..=MAX_THREADS).
    pub threads: usize,
    /// Thread names are `<prefix>-<index>` (Linux keeps the first 15 bytes).
    pub name: String,
    /// Stack size per worker in bytes; 0 for the platform default (what
    /// pthread_create gives: glibc derives it from RLIMIT_STACK, typically 8 MiB).
    pub stack_size: usize,
    pub on_thread_start: Option<ThreadHook>,
    pub on_thread_stop: Option<ThreadHook>,
    /// Refuse submissions once this many tasks are queued; 0 for no bound.
    pub max_queued: usize,
    /// Time every task's queue wait and run (see `observe.rs`).
    pub timing: bool,
    /// Caps workers plus spare threads started for blocked workers
    /// (`blocking.rs`); 0 for the default (`default_max_threads`).
    pub max_threads: usize,
    /// The threads' CPU and I/O priority class (`qos.rs`).
    pub qos: crate::qos::Qos,
}

/// What a layer above the core keeps per pool (composition keeps its keyed
/// lanes and delay timer here). The core knows only that it must be told
/// when the pool closes; one extension type per pool.
pub(crate) trait Extension: Send + Sync + 'static {
    /// The pool closed its gate and every admitted submitter is done: drop
    /// what is held outside the queues (delayed tasks not yet due).
    fn close(&self);
    fn as_any(&self) -> &dyn Any;
}

pub struct Registry {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) injector: Injector<Job>,
    pub(crate) life: Lifecycle,
    pub(crate) slots: Box<[OnceLock<Box<Slot>>]>,
    /// Slots ever created: stealers look at `0..slots_hi`.
    pub(crate) slots_hi: AtomicUsize,
    pub(crate) target: AtomicUsize,
    /// Live worker threads; shutdown futex-waits for it to reach 0.
    pub(crate) live: AtomicU32,
    /// Exact count of queued jobs, kept only when `max_queued` is set.
    queued: CachePadded<AtomicUsize>,
    max_queued: usize,
    /// Task timing and hooks (`observe.rs`).
    pub(crate) observe: crate::observe::Observe,
    /// Jobs moved back to the injector by retiring workers and yielding jobs.
    pub(crate) requeued: AtomicU64,
    /// Jobs cancelled by the shutdown sweep.
    pub(crate) swept: AtomicU64,
    /// Tasks that ended off the workers' books: run by a thread outside
    /// the pool from a queue it took them off (a group's caller-runs wait),
    /// or cancelled there. Succeeded, failed, cancelled.
    pub(crate) outside: [AtomicU64; 3],
    pub(crate) sleep: Sleep,
    /// Spare threads for blocked workers (`blocking.rs`).
    pub(crate) blocking: crate::blocking::Blocking,
    pub(crate) control: Mutex<Control>,
    pub(crate) config: Config,
    errors: Mutex<ErrorHandler>,
    ext: OnceLock<Box<dyn Extension>>,
    /// The object users hold for this pool (`pool.rs` sets it), so that a
    /// task can name its own pool (`bg_current_pool`); null if none.
    pub(crate) owner: std::sync::atomic::AtomicPtr<c_void>,
    /// The high and low queues, made on first use (`priority.rs`).
    pub(crate) prio: OnceLock<crate::priority::Priorities>,
}

impl Registry {
    /// Creates a pool and starts its threads.
    pub fn new(config: Config) -> std::io::Result<Arc<Registry>> {
        if config.threads == 0 || config.threads > MAX_THREADS {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
        }
        crate::fork::install();
        crate::depot::set_wake_one(table::nudge_a_parked_worker);
        let id = table::next_id();
        let reg = Arc::new(Registry {
            id,
            name: if config.name.is_empty() { "bg".into() } else { config.name.clone() },
            injector: Injector::new(),
            life: Lifecycle::new(),
            slots: (0..MAX_THREADS).map(|_| OnceLock::new()).collect(),
            slots_hi: AtomicUsize::new(0),
            target: AtomicUsize::new(0),
            live: AtomicU32::new(0),
            queued: CachePadded(AtomicUsize::new(0)),
            max_queued: config.max_queued,
            observe: crate::observe::Observe::new(config.timing),
            requeued: AtomicU64::new(0),
            swept: AtomicU64::new(0),
            outside: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            sleep: Sleep::new(),
            blocking: crate::blocking::Blocking::new(),
            control: Mutex::new(Control::new()),
            errors: Mutex::new(None),
            config,
            ext: OnceLock::new(),
            owner: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            prio: OnceLock::new(),
        });
        table::add(&reg);
        crate::monitor::ensure_started();
        if let Err(e) = reg.set_threads(reg.config.threads) {
            let _ = reg.shutdown(ShutdownMode::Cancel, None);
            return Err(match e {
                ResizeError::NoThreads(e) => e,
                _ => std::io::Error::from(std::io::ErrorKind::InvalidInput),
            });
        }
        Ok(reg)
    }

    pub(crate) fn fork_gen(&self) -> u32 {
        self.life.fork_gen()
    }

    /// True in a forked child for a pool the parent created.
    pub fn is_forked(&self) -> bool {
        self.life.is_forked()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.life.state() == State::Open
    }

    pub(crate) fn is_cancelling(&self) -> bool {
        self.life.state() >= State::Cancelling
    }

    /// True once shutdown began.
    pub fn is_shut_down(&self) -> bool {
        !self.is_open()
    }

    /// This layer's per-pool extension, made by `make` on first use.
    pub(crate) fn extension<T: Extension>(&self, make: impl FnOnce() -> T) -> &T {
        let e = self.ext.get_or_init(|| Box::new(make()));
        e.as_any().downcast_ref::<T>().expect("one extension type per pool")
    }

    /// Hands a job from outside the pool straight to a sleeping worker as
    /// it wakes it (`Sleep::hand_off`), if one sleeps in its main loop and
    /// nobody searches; else it comes back for the shared queue. Not while
    /// paused (a paused pool's jobs wait in its queues), nor while the
    /// shared queue holds jobs: the handed job would start before them, and
    /// a one-thread pool starts one submitter's tasks in order (a worker
    /// may be on the sleepers list, about to leave it for a job it saw).
    #[inline]
    pub(crate) fn hand_off(&self, job: Job) -> Result<(), Job> {
        if self.life.is_paused() {
            return Err(job);
        }
        self.sleep.hand_off(job, &|i| self.parker_of(i), &|| self.injector.is_empty())
    }

    /// Wakes a sleeping worker if work was just published and nobody
    /// searches. With every worker inside a task, some may be blocked: the
    /// monitor, if in its long idle tick, looks now (one load otherwise).
    pub(crate) fn notify_new_work(&self) {
        if !self.sleep.new_work(&|i| self.parker_of(i)) {
            crate::monitor::hurry(|| self.injector.len());
            self.blocking.wake_for_work(self);
        }
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

    /// Counts tasks that ended off the workers' books (see `outside`):
    /// succeeded, failed, cancelled.
    pub(crate) fn count_outside(&self, ended: [u64; 3]) {
        for (c, n) in self.outside.iter().zip(ended) {
            if n != 0 {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Takes one place in the bounded queue for work queued outside the
    /// pool's queues (a group's member): `Full` if none is free.
    pub(crate) fn take_place(&self) -> Result<(), SubmitError> {
        self.reserve(true)
    }

    /// Counts a job the pool already accepted (a join's `b`) as queued.
    pub(crate) fn reserve_accepted(&self) {
        let _ = self.reserve(false);
    }

    /// A job left a queue (popped, stolen or swept).
    pub(crate) fn dequeued(&self) {
        if self.max_queued != 0 {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A job taken off a queue goes back (a surplus worker that must retire).
    pub(crate) fn undequeue(&self, job: Job) {
        let _ = self.reserve(false);
        self.requeue(job);
    }

    /// Queues a job (see `Admission::queue`, bounded). On refusal the job
    /// comes back unconsumed.
    #[inline]
    pub(crate) fn submit(&self, job: Job) -> Result<(), (SubmitError, Job)> {
        match self.admit(Work::Now) {
            Ok(mut a) => a.queue(job, true),
            Err(e) => Err((e, job)),
        }
    }

    /// `submit` for work the pool already accepted once (see `Admission::queue`).
    pub(crate) fn submit_accepted(&self, job: Job) -> Result<(), (SubmitError, Job)> {
        match self.admit(Work::Now) {
            Ok(mut a) => a.queue(job, false),
            Err(e) => Err((e, job)),
        }
    }

    /// Queues a fire-and-forget callback. On refusal nothing ran and nothing
    /// was dropped: `arg` is still the caller's.
    #[inline]
    pub fn spawn_fn(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<(), SubmitError> {
        // Before queueing: after, a worker may start the task first.
        probe!("submit", self.id, f as usize, arg as usize, 0u64);
        self.submit(self.spawn_job(f, arg, drop)).map_err(|(e, job)| {
            job.abandon(); // never queued: the caller keeps arg, drop must not run
            e
        })
    }

    /// Queues a callback with a handle carrying one user reference.
    pub fn submit_fn(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<*const Task, SubmitError> {
        // SAFETY: no hook.
        unsafe { self.submit_fn_hooked(f, arg, drop, std::ptr::null_mut()) }
    }

    /// `submit_fn` with `hook` (unless null) attached before the task is
    /// queued. If the submit is refused the hook never runs: it stays the
    /// caller's to free.
    ///
    /// # Safety
    /// As for `Task::add_hook`.
    #[inline]
    pub(crate) unsafe fn submit_fn_hooked(
        &self,
        f: RawFn,
        arg: *mut c_void,
        drop: Option<RawDrop>,
        hook: *mut Hook,
    ) -> Result<*const Task, SubmitError> {
        let (task, job) = self.task_job(f, arg, drop);
        // SAFETY: fresh from task_job, its job not queued yet; `hook` as the caller promised.
        unsafe {
            Task::allow_caller_runs(self, task);
            if !hook.is_null() {
                (*task).add_hook_unshared(hook);
            }
        }
        probe!("submit", self.id, f as usize, arg as usize, task as usize);
        match self.submit(job) {
            Ok(()) => Ok(task),
            Err((e, job)) => {
                // SAFETY: the pair came from Task::new just above and was never shared.
                unsafe { Task::discard_unsubmitted(task, job) };
                Err(e)
            }
        }
    }

    /// Moves a job to the shared queue from inside the pool (a retiring
    /// worker's leftovers, a yielding job) where every worker will find it.
    pub(crate) fn requeue(&self, job: Job) {
        self.injector.push(job);
        self.requeued.fetch_add(1, Ordering::Relaxed);
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
            self.life.close(if mode == ShutdownMode::Cancel { State::Cancelling } else { State::Draining });
        }
        // Submitters that passed the gate before it closed finish their push
        // (they run no user code meanwhile, so a worker may wait for them too).
        self.life.wait_for_submitters();
        // Work held outside the queues (delayed tasks not yet due) never runs.
        if let Some(ext) = self.ext.get() {
            ext.close();
        }
        // Idle spares park outside the sleep protocol: they see the close too.
        self.blocking.wake_idle(self);
        if worker::is_own_thread(self) {
            self.sleep.wake_all(&|i| self.parker_of(i));
            return Err(ShutdownError::WouldDeadlock);
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
        self.life.joined();
        Ok(())
    }

    /// Cancels every job still queued after the workers are gone.
    fn sweep(&self) {
        let mut n = 0u64;
        loop {
            match self.injector.steal() {
                Steal::Success(job) => {
                    self.dequeued();
                    job.cancel();
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
                    job.cancel();
                    n += 1;
                }
            }
        }
        if let Some(p) = self.priorities() {
            n += p.sweep(self);
        }
        self.swept.fetch_add(n, Ordering::Relaxed);
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

    pub(crate) fn parker_of(&self, idx: usize) -> *const Parker {
        &*self.slot(idx).parker as *const Parker
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if table::remove(self.id) {
            crate::reclaim::reap();
        }
    }
}
