//! A worker thread: how it runs work, how it idles, and how it waits for a
//! task while running others (helping). Where it looks for work: `find.rs`;
//! the helping wait: `help.rs`.

use std::cell::Cell;
use std::ptr;
use std::sync::Arc;

use crossbeam_deque::Worker;

use crate::job::{Job, JobBody, Outcome};
use crate::probe::probe;
use crate::registry::{bump, Registry};
use crate::resize::Slot;
use crate::sleep::Woken;
use crate::stack;
use crate::sync::now_ns;

mod find;
mod help;
mod join;

thread_local! {
    static CURRENT: Cell<*const WorkerThread> = const { Cell::new(std::ptr::null()) };
    /// The pool whose thread-stop hook runs on this thread: no longer a
    /// worker (its deque is handed back) but still counted live.
    static STOPPING: Cell<*const Registry> = const { Cell::new(std::ptr::null()) };
}

/// True on one of `reg`'s threads, which a shutdown of `reg` would wait for:
/// a worker, or a worker that is running its thread-stop hook; or on a
/// thread running a task of `reg` for its waiter (caller-runs), which is
/// refused what the task would be refused on a worker.
pub(crate) fn is_own_thread(reg: &Registry) -> bool {
    WorkerThread::current_of(reg).is_some()
        || STOPPING.with(|s| ptr::eq(s.get(), reg))
        || crate::task::inline_pool().is_some_and(|r| ptr::eq(r, reg))
}

/// How long an idle searcher keeps looking before it parks: adaptive, per
/// worker, between these bounds. Work that arrives within the window is
/// picked up without a futex wake-up; past it, spinning only burns CPU. A
/// worker woken soon after it parked (within `SHORT_SLEEP_NS`) spun too
/// briefly: it doubles its window. One that slept longer halves it. Sparse work (a task every millisecond) thus keeps the
/// 2 µs floor, where a worker that ran one job since it woke does not spin
/// at all (see `idle_spin`; a fixed 5 µs cost 1.0% of a core at 1 task/ms,
/// a fixed 30 µs 3.3-5.6%), while request/response
/// cycles with short gaps (submit a few tasks, wait, repeat) spin through
/// their gaps instead of paying a wake-up each round.
const SPIN_MIN_NS: u64 = 2_000;
const SPIN_MAX_NS: u64 = 32_000;
const SHORT_SLEEP_NS: u64 = 100_000;

pub struct WorkerThread {
    registry: Arc<Registry>,
    /// Below this stack address a helping wait stops taking work (the
    /// stack grows down from near main_loop's frame).
    stack_floor: usize,
    idx: usize,
    /// `registry.slot(idx)`, looked up once: read on every job.
    slot: *const Slot,
    deque: Worker<Job>,
    tick: Cell<u32>,
    rng: Cell<u64>,
    searching: Cell<bool>,
    /// The current idle search window (SPIN_MIN_NS..=SPIN_MAX_NS).
    spin_ns: Cell<u64>,
    /// Deque positions (counted from the bottom) of what is left of the
    /// last batch taken from the injector: `batch_lo..batch_hi`, empty
    /// once consumed. Only this thread's pops count: stealers may shift
    /// it, but a one-thread pool has none.
    batch_lo: Cell<usize>,
    batch_hi: Cell<usize>,
    /// The slot's `popped` count when this worker last parked.
    popped_at_park: Cell<u64>,
    /// Woke from parking and has not taken a job since (`monitor::hurry`).
    just_woke: Cell<bool>,
    /// Runs as a spare (`blocking.rs`): looks for work as one (`find.rs`).
    pub(crate) spare: Cell<bool>,
    /// The slot's `popped` count when this worker last woke from parking.
    popped_at_wake: Cell<u64>,
    /// Its last wake-up came with a job (`took_mail`).
    handed_job: Cell<bool>,
    /// It woke by itself and has not woken the monitor yet (`run`).
    monitor_owed: Cell<bool>,
    /// Join frames not yet offered to thieves (`join.rs`): a ring of
    /// PRIVATE, `private_lo..private_hi` in use, the newest on top.
    private: [Cell<*const crate::join::JoinFrame>; PRIVATE],
    private_lo: Cell<usize>,
    private_hi: Cell<usize>,
    /// A job taken just as a pause began (`find.rs`), kept in its place in
    /// the order until the resume.
    held: Cell<Option<Job>>,
}

/// How many join frames a worker keeps private before it offers the
/// oldest: deeper recursion than this publishes as it goes.
const PRIVATE: usize = 32;

/// Aborts the process if the scheduler itself panics: a worker that unwound
/// would strand queued tasks and their waiters (and a join, `b`'s frame).
pub(crate) struct AbortIfPanic;

impl Drop for AbortIfPanic {
    fn drop(&mut self) {
        eprintln!("background: internal error: a worker thread panicked; aborting");
        std::process::abort();
    }
}

pub(crate) fn main_loop(registry: Arc<Registry>, idx: usize, deque: Worker<Job>, spare: bool) {
    let guard = AbortIfPanic;
    let w = WorkerThread {
        stack_floor: stack::helping_floor(registry.config.stack_size),
        slot: registry.slot(idx),
        registry,
        idx,
        deque,
        tick: Cell::new(0),
        rng: Cell::new(0x9e37_79b9_7f4a_7c15 ^ (idx as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9)),
        searching: Cell::new(false),
        spin_ns: Cell::new(SPIN_MIN_NS),
        batch_lo: Cell::new(0),
        batch_hi: Cell::new(0),
        popped_at_park: Cell::new(0),
        just_woke: Cell::new(false),
        spare: Cell::new(false),
        popped_at_wake: Cell::new(0),
        handed_job: Cell::new(false),
        monitor_owed: Cell::new(false),
        private: std::array::from_fn(|_| Cell::new(ptr::null())),
        private_lo: Cell::new(0),
        private_hi: Cell::new(0),
        held: Cell::new(None),
    };
    // The slot may have had a thread before: count from here.
    w.popped_at_park.set(w.popped());
    CURRENT.with(|c| c.set(&w));
    crate::qos::apply_to_current_thread(w.registry.config.qos);
    // SAFETY: gettid takes no arguments and cannot fail.
    w.slot().tid.store(unsafe { libc::gettid() }, std::sync::atomic::Ordering::Release);
    w.registry.thread_started(idx);
    // The monitor runs while any thread is not parked: this one is not.
    crate::monitor::wake();
    // A spare that a grow turned into a worker goes on as one.
    if !spare || w.run_spare() {
        w.run();
    }
    // Every way out looks at a held job first; should one not, it is queued
    // again rather than lost.
    w.give_back_held();
    w.slot().tid.store(0, std::sync::atomic::Ordering::Release);
    CURRENT.with(|c| c.set(std::ptr::null()));
    let WorkerThread { registry, deque, .. } = w;
    STOPPING.with(|s| s.set(&*registry));
    registry.worker_exited(idx, deque);
    STOPPING.with(|s| s.set(ptr::null()));
    std::mem::forget(guard);
}

impl WorkerThread {
    /// The worker running on this thread, if this is a worker thread. In a
    /// child forked from inside a task this thread is a copy of a worker of
    /// a pool that is dead here: it is not that pool's worker any more.
    pub(crate) fn current() -> Option<&'static WorkerThread> {
        let p = CURRENT.with(|c| c.get());
        // SAFETY: CURRENT points at the WorkerThread on main_loop's stack and is
        // cleared before it goes away; only this thread reads it.
        unsafe { p.as_ref() }.filter(|w| !w.registry.is_forked())
    }

    /// The worker running on this thread if it is one of `reg`'s.
    pub(crate) fn current_of(reg: &Registry) -> Option<&'static WorkerThread> {
        WorkerThread::current().filter(|w| ptr::eq(w.registry(), reg))
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// This worker's pool, to keep.
    pub(crate) fn registry_arc(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// True if this worker's deque holds nothing, and it holds no job taken
    /// as a pause began: whatever it queued has been run or stolen.
    pub(crate) fn deque_is_empty(&self) -> bool {
        self.deque.is_empty() && !self.holds_job()
    }

    pub(super) fn holds_job(&self) -> bool {
        let job = self.held.take();
        let held = job.is_some();
        self.held.set(job);
        held
    }

    /// Queues a held job again (a worker that leaves): its take was
    /// counted, so only its end is, and it counts as queued again.
    pub(super) fn give_back_held(&self) {
        if let Some(job) = self.held.take() {
            bump(&self.slot().stats.ended);
            self.registry.undequeue(job);
            self.registry.notify_new_work();
        }
    }

    /// A submitter handed `job` to this worker as it woke it (`Sleep::hand_off`):
    /// taken as from a queue, and run first, unless a job held over a pause
    /// is older (then it goes to the shared queue, behind that one).
    #[inline]
    fn took_mail(&self, job: Job) {
        let st = &self.slot().stats;
        bump(&st.popped);
        self.registry.dequeued();
        match self.held.take() {
            None => self.held.set(Some(job)),
            Some(older) => {
                self.held.set(Some(older));
                bump(&st.ended);
                self.registry.undequeue(job);
                self.registry.notify_new_work();
            }
        }
    }

    fn slot(&self) -> &Slot {
        // SAFETY: a pool's slots are boxed, made once and freed only with
        // the pool, which `self.registry` keeps alive.
        unsafe { &*self.slot }
    }

    /// This worker's index in its pool.
    pub(crate) fn index(&self) -> usize {
        self.idx
    }

    /// Where this worker records the timing of the tasks it runs.
    pub(crate) fn timing(&self) -> &crate::stats::SlotTiming {
        &self.slot().stats.timing
    }

    fn run(&self) {
        let reg = &*self.registry;
        loop {
            if let Some(_moving) = reg.should_retire(self.idx) {
                self.stop_searching();
                // Nothing is lost: leftovers go where the others will find
                // them, counted in flight so that a drain waits for them.
                self.give_back_held();
                while let Some(job) = self.deque.pop() {
                    bump(&self.slot().stats.popped);
                    bump(&self.slot().stats.ended);
                    reg.requeue(job);
                }
                reg.notify_new_work();
                return;
            }
            // After the job handed with a wake-up, when it is the only one
            // taken since, no search: the hand-off found the shared queue
            // empty, and the park's re-check (or the spin) looks at every
            // queue anyway. The search cost 0.14 µs of a ~3 µs wake-up
            // cycle, run time the scheduler counts against this worker's
            // next wake-up (see `idle_spin`).
            let job = if self.ran_handed_job() { None } else { self.find_work_unless_surplus() };
            if let Some(job) = job {
                self.stop_searching();
                if self.just_woke.replace(false) && !reg.injector.is_empty() {
                    crate::monitor::hurry(|| reg.injector.len()); // a burst: its tasks may block
                }
                self.run_found(job);
                continue;
            }
            if self.is_surplus() && !reg.is_open() {
                // Closing, and what this surplus worker's tasks left is done.
                self.stop_searching();
                return;
            }
            if self.idle_spin() {
                continue;
            }
            if !reg.is_open() && reg.life.no_submitters_in_flight() && !self.has_visible_work() {
                // Draining and nothing left that we can see: anything a busy
                // worker still pushes lands in its own deque, which it drains.
                self.stop_searching();
                return;
            }
            let parked_at = now_ns();
            // Freed handle memory goes back to the system once unused for a
            // while; this worker may be the one to wake and see to it.
            let trim_at = self.trim_memory(parked_at);
            probe!("park", reg.id, self.idx);
            let woken = reg.sleep.sleep(self.idx, &self.slot().parker, self.searching.get(), trim_at, true, &|| {
                self.has_visible_work() || !reg.is_open() || self.idx >= reg.target()
            });
            probe!("wake", reg.id, self.idx);
            // Woken by its deadline (the depot's watch), it wakes the
            // monitor only once it takes a job (`run_found`): waking it for
            // a trim cost two looks of an idle process's second.
            let as_searcher = woken == Woken::AsSearcher;
            self.monitor_owed.set(!as_searcher);
            if as_searcher {
                crate::monitor::wake();
            }
            self.just_woke.set(true);
            self.popped_at_wake.set(self.popped());
            self.searching.set(as_searcher);
            // After the count above: the handed job is the first of this wake.
            let mail = self.slot().parker.take_mail();
            self.handed_job.set(mail.is_some());
            if let Some(job) = mail {
                self.took_mail(job);
            }
            let window = self.spin_ns.get();
            self.spin_ns.set(if now_ns() - parked_at < SHORT_SLEEP_NS {
                (window * 2).min(SPIN_MAX_NS)
            } else {
                (window / 2).max(SPIN_MIN_NS)
            });
        }
    }

    /// Before parking: lets the depot give back memory unused for a while
    /// (freed handle slabs; malloc's free queue blocks after a burst this
    /// worker ran). Returns when to wake to see to it again, if this worker
    /// keeps the watch.
    fn trim_memory(&self, now: u64) -> Option<u64> {
        let popped = self.popped();
        let ran = popped.wrapping_sub(self.popped_at_park.replace(popped));
        crate::depot::trim(&self.slot().parker as *const _ as usize, now, ran)
    }

    /// Looks for work while counted as a searcher, for up to its window.
    ///
    /// Not at all under sparse work: a worker at the smallest window that
    /// ran exactly one job since it woke parks at once. Spinning then costs
    /// more than its CPU: the spin's run time counts against this thread
    /// at the scheduler (EEVDF), so that when the next submit wakes it on
    /// the submitter's CPU it no longer preempts the submitter but waits
    /// for it to block (wake p50 9–10 µs with the 2 µs spin, 3–4 µs
    /// without, at 0.3% of a core less; the futex floor is 2.5 µs). A
    /// worker woken for a burst runs more than one job, and one woken
    /// soon after parking doubles its window: both keep spinning.
    fn idle_spin(&self) -> bool {
        let reg = &*self.registry;
        if self.spin_ns.get() <= SPIN_MIN_NS && self.popped() - self.popped_at_wake.get() == 1 {
            return false;
        }
        if !self.searching.get() {
            let (_, sleeping) = reg.sleep.counts();
            let awake = (reg.live() as u64).saturating_sub(sleeping).max(1);
            if !reg.sleep.start_searching(awake) {
                return false;
            }
            self.searching.set(true);
        }
        let start = now_ns();
        let mut round = 0u32;
        loop {
            if round < 6 {
                for _ in 0..(1 << round) {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            round += 1;
            if self.is_surplus() {
                return true; // back to the loop, which retires
            }
            if let Some(job) = self.find_work_unless_surplus() {
                self.stop_searching();
                self.run_found(job);
                return true;
            }
            if !reg.is_open() || round % 8 == 0 && now_ns() - start > self.spin_ns.get() {
                return false;
            }
        }
    }

    /// The only job this worker took since it woke was handed to it with
    /// the wake-up, and it has run it: it holds no job (`took_mail` keeps
    /// the handed one in `held` until it runs; a pause may keep one there)
    /// and its deque is empty (the job may have pushed children, which the
    /// surplus worker's exit and the fork's locality need found here).
    fn ran_handed_job(&self) -> bool {
        self.handed_job.get()
            && self.popped() - self.popped_at_wake.get() == 1
            && !self.holds_job()
            && self.deque.is_empty()
    }

    /// Jobs this worker has taken off queues, ever.
    fn popped(&self) -> u64 {
        self.slot().stats.popped.load(crate::sync::Ordering::Relaxed)
    }

    /// True once a shrink put this worker's slot above the pool's size.
    fn is_surplus(&self) -> bool {
        self.idx >= self.registry.target()
    }

    /// `find_work` for the idle loop. A surplus worker starts no new task:
    /// checked before, and again after taking a job (a shrink that returned
    /// before the job was submitted is seen then), and the job goes back to
    /// the shared queue. Once the pool is closing, surplus workers no longer
    /// retire (see `Registry::should_retire`) but take only what their own
    /// tasks left on their deque, and exit when it is empty.
    fn find_work_unless_surplus(&self) -> Option<Job> {
        let reg = &*self.registry;
        if self.is_surplus() {
            if reg.is_open() {
                return None;
            }
            if let Some(job) = self.held.take() {
                return Some(job); // counted when it was taken
            }
            let job = self.deque.pop()?;
            bump(&self.slot().stats.popped);
            reg.dequeued();
            return Some(job);
        }
        let job = self.find_work()?;
        if self.is_surplus() && reg.is_open() {
            bump(&self.slot().stats.ended);
            reg.undequeue(job);
            reg.notify_new_work();
            return None;
        }
        Some(job)
    }

    /// Runs a job the idle loop found, waking the monitor first if this
    /// worker still owes it that since it woke by itself (`run`).
    fn run_found(&self, job: Job) {
        if self.monitor_owed.replace(false) {
            crate::monitor::wake(); // as every thread that woke from parking, before its task
        }
        self.execute_popped(job);
    }

    /// Leaves the searching role, if this worker has it (see Sleep::stop_searching).
    fn stop_searching(&self) {
        if self.searching.replace(false) {
            let reg = &*self.registry;
            reg.sleep.stop_searching(&|i| reg.parker_of(i), &|| self.has_visible_work());
        }
    }

    /// Runs a job (or a job's body), or cancels it if the pool is shutting
    /// down in cancel mode.
    pub(crate) fn execute(&self, job: impl JobBody) {
        let st = &self.slot().stats;
        let outcome = if self.registry.is_cancelling() {
            job.cancel()
        } else {
            // A count, not a flag: a task that waits may run others nested.
            let depth = st.depth.load(crate::sync::Ordering::Relaxed);
            st.depth.store(depth + 1, crate::sync::Ordering::Relaxed);
            let o = job.run(self);
            if self.registry.is_forked() {
                // A child forked inside the job returned from it. This thread
                // is the child's only one and its pool is dead here: end the
                // child as exit(0) would rather than run the parent's work.
                std::process::exit(0);
            }
            if st.hint_depth.load(crate::sync::Ordering::Relaxed) != 0 {
                self.close_hints_of(depth + 1);
            }
            st.depth.store(depth, crate::sync::Ordering::Relaxed);
            o
        };
        match outcome {
            Outcome::Ok => bump(&st.completed),
            Outcome::Failed => bump(&st.failed),
            Outcome::Cancelled | Outcome::Skipped => bump(&st.cancelled),
            Outcome::Expired => bump(&st.expired),
            Outcome::Internal => {}
        }
    }

    /// `execute` for a job this worker took off a queue (`find_work`):
    /// counted as ended, so `Registry::wait_idle` sees no job between its
    /// take and its end (`control.rs`).
    pub(crate) fn execute_popped(&self, job: Job) {
        self.execute(job);
        let stats = &self.slot().stats;
        bump(&stats.ended);
        if stats.counted_blocked.load(crate::sync::Ordering::Relaxed) {
            self.uncount_blocked();
        }
    }

    /// The task returned (or opened a blocking hint) after the monitor
    /// counted this thread blocked in it: the count drops now rather than
    /// at its next look, up to a millisecond away, so that the spare
    /// standing in for this thread stops taking tasks (else one thread too
    /// many runs meanwhile).
    #[cold]
    pub(crate) fn uncount_blocked(&self) {
        let reg = self.registry();
        if self.slot().stats.counted_blocked.swap(false, crate::sync::Ordering::Relaxed) {
            let b = &reg.blocking.blocked;
            let _ = b.fetch_update(crate::sync::Ordering::AcqRel, crate::sync::Ordering::Relaxed, |n| n.checked_sub(1));
            reg.recount_allowed();
        }
    }

    pub(crate) fn push_local(&self, job: Job) {
        self.deque.push(job);
        bump(&self.slot().stats.pushed);
        self.registry.notify_new_work();
    }
}
