//! Compensation for blocked workers: spare threads, and what a pool keeps
//! about them. The monitor (`monitor.rs`) decides who is blocked; this file
//! is what a pool does about it.
//!
//! A spare is a worker thread in a slot above the pool's size, named
//! `<prefix>-s<slot>`. It takes a task only while the monitor counts more
//! blocked threads in the pool than spares running tasks (`allowed` against
//! `in_task`; plus the monitor's credit while a burst keeps blocking), so
//! the threads that can run stay at the pool's size: when blockers return,
//! spares finish their current task and go idle. A spare looks in the
//! other threads' deques before the shared queue and takes one job at a
//! time (`find_as_spare`): what a blocked thread holds waits for thieves.
//! An admitted spare that finds nothing looks again for 50 µs, as a worker
//! spins, and then parks on its slot's parker, outside the pool's sleep
//! protocol (so a submit never wakes a spare instead of a worker), until
//! the monitor, or a submit that finds no worker to wake while spares may
//! run (`wake_for_work`), wakes it. It exits after `keep_alive_ns` (5 s;
//! `BG_SPARE_KEEPALIVE_MS`). Spares keep a deque like any worker; what an
//! idle spare leaves there stays visible to the workers' steals and to a
//! drain.
//!
//! While the pool closes spares work like workers: they take any work and
//! exit once they see none (a drain waits for them: they are counted live).
//! A grow that reaches a spare's slot makes it a worker (`promoted`).
//!
//! On the submit/run/wait path only two loads: `allowed` when a submit
//! finds no worker to wake, and a task's end reads its slot's
//! `counted_blocked`. A pool in which nothing blocks never has a spare.

use std::sync::Arc;

use crate::registry::Registry;
use crate::sync::{lock, now_ns, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::worker::WorkerThread;

pub(crate) mod hint;

/// What a pool keeps about its spares.
pub(crate) struct Blocking {
    /// Threads (workers and spares) the monitor last saw blocked in a task,
    /// not counting those that said so themselves (`hinted`).
    pub(crate) blocked: AtomicUsize,
    /// Threads inside `bg_blocking_begin`/`end` (`blocking/hint.rs`).
    pub(crate) hinted: AtomicUsize,
    /// How many spares may be running tasks now (the monitor's decision).
    allowed: AtomicUsize,
    /// Spares allowed beyond the blocked count while a burst keeps
    /// blocking (`monitor.rs`, `tick`).
    credit: AtomicUsize,
    /// Spares running a task while the pool is open.
    in_task: AtomicUsize,
    /// Spares woken or started by the monitor that have not yet tried to take a task.
    starting: AtomicUsize,
    /// Live spare threads.
    pub(crate) spares: AtomicUsize,
    /// Slots of idle spares, parked.
    idle: Mutex<Vec<usize>>,
    /// Spare threads ever started (statistics, tests).
    pub(crate) started: AtomicU64,
}

/// How long an admitted spare that finds nothing looks again before it
/// parks (a worker's longest idle search window).
const SPARE_SPIN_NS: u64 = 50_000;

/// How long an idle spare waits for work before it exits.
fn keep_alive_ns() -> u64 {
    static MS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let ms = *MS.get_or_init(|| match std::env::var("BG_SPARE_KEEPALIVE_MS") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("background: ignoring BG_SPARE_KEEPALIVE_MS={v:?}: expected milliseconds");
            5_000
        }),
        Err(_) => 5_000,
    });
    ms.saturating_mul(1_000_000)
}

impl Blocking {
    pub(crate) fn new() -> Blocking {
        Blocking {
            blocked: AtomicUsize::new(0),
            hinted: AtomicUsize::new(0),
            allowed: AtomicUsize::new(0),
            credit: AtomicUsize::new(0),
            in_task: AtomicUsize::new(0),
            starting: AtomicUsize::new(0),
            spares: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
            started: AtomicU64::new(0),
        }
    }

    /// A spare asks to run one task while the pool is open.
    fn enter_task(&self) -> bool {
        if self.in_task.fetch_add(1, Ordering::AcqRel) < self.allowed.load(Ordering::Acquire) {
            return true;
        }
        self.in_task.fetch_sub(1, Ordering::AcqRel);
        false
    }

    fn leave_task(&self) {
        self.in_task.fetch_sub(1, Ordering::AcqRel);
    }

    /// Threads blocked in a task now: seen by the monitor, or said so.
    pub(crate) fn blocked_now(&self) -> usize {
        self.blocked.load(Ordering::Relaxed) + self.hinted.load(Ordering::Relaxed)
    }

    /// The monitor's current credit (see `compensate`).
    pub(crate) fn credit(&self) -> usize {
        self.credit.load(Ordering::Relaxed)
    }

    pub(crate) fn idle_count(&self) -> usize {
        lock(&self.idle).len()
    }

    /// Work was queued and no worker searches or sleeps. If spares may run
    /// more tasks than they do (workers are blocked), an idle spare takes
    /// it now, as a worker would, rather than at the monitor's next look.
    /// One load while nothing blocks.
    pub(crate) fn wake_for_work(&self, reg: &Registry) {
        let allowed = self.allowed.load(Ordering::Relaxed);
        if allowed == 0 || self.in_task.load(Ordering::Acquire) + self.starting.load(Ordering::Acquire) >= allowed {
            return;
        }
        let idle = lock(&self.idle).pop();
        if let Some(idx) = idle {
            reg.slot(idx).parker.unpark();
        }
    }

    /// Wakes every idle spare (the pool closes, or grows over a spare's slot).
    pub(crate) fn wake_idle(&self, reg: &Registry) {
        let woken = std::mem::take(&mut *lock(&self.idle));
        for idx in woken {
            reg.slot(idx).parker.unpark();
        }
    }
}

impl Registry {
    /// The monitor's decision for this pool: `blocked` threads are blocked
    /// in tasks and `waiting` says whether work is queued. Wakes or starts
    /// spares so that as many run tasks as there are blockers, plus
    /// `credit` while a burst keeps blocking, within `max_threads`.
    pub(crate) fn compensate(self: &Arc<Self>, blocked: usize, credit: usize, waiting: bool) -> usize {
        let b = &self.blocking;
        b.blocked.store(blocked, Ordering::Relaxed);
        b.credit.store(credit, Ordering::Relaxed);
        let cap = self.max_threads().saturating_sub(self.target());
        let allowed = self.recount_allowed();
        // Closing pools are compensated too: a drain of blocking tasks must
        // not crawl, and in a cancel someone must take the queued jobs to
        // cancel them (a task blocked waiting for one would wait forever).
        if !waiting {
            return 0;
        }
        let busy = b.in_task.load(Ordering::Acquire) + b.starting.load(Ordering::Acquire);
        let mut need = allowed.saturating_sub(busy);
        // The counts keep the pool's own number of threads unblocked, its
        // workers. A closing pool's workers leave once they see no work,
        // and a spare blocked in its task counts as a spare at work: if it
        // then queues work on its own deque and waits for it without
        // helping, nobody is left to take it (`tests/c/rel_drain_nohelp.c`;
        // `rel_stress` hung here under load). So where every live thread
        // of a closing pool is blocked, one more starts, whatever the counts.
        if need == 0 && !self.is_open() && self.live() as usize <= b.blocked_now() {
            need = 1;
        }
        let mut added = 0;
        while need > 0 {
            // An idle spare takes work within microseconds of its wake-up;
            // a new thread takes longer: `starting` counts it until its
            // first try, so the next tick does not start another for it.
            // The list's lock is not held past the pop: starting a spare
            // takes the control lock, and a resize holding that one
            // submits, which may wake a spare (`wake_for_work`).
            let idle = lock(&b.idle).pop();
            if let Some(idx) = idle {
                self.slot(idx).parker.unpark();
            } else {
                b.starting.fetch_add(1, Ordering::AcqRel);
                if b.spares.load(Ordering::Acquire) >= cap || !self.spawn_spare() {
                    b.starting.fetch_sub(1, Ordering::AcqRel);
                    break;
                }
            }
            need -= 1;
            added += 1;
        }
        added
    }

    /// How many spares may run tasks: one per blocked thread, seen or said,
    /// and the monitor's credit, within `max_threads`.
    pub(crate) fn recount_allowed(&self) -> usize {
        let b = &self.blocking;
        let cap = self.max_threads().saturating_sub(self.target());
        let allowed = (b.blocked_now() + b.credit.load(Ordering::Relaxed)).min(cap);
        b.allowed.store(allowed, Ordering::Release);
        allowed
    }

    /// Caps workers plus spares (0 in the config: the default).
    pub(crate) fn max_threads(&self) -> usize {
        match self.config.max_threads {
            0 => default_max_threads(self.target()),
            n => n,
        }
    }
}

/// `max_threads` when the options leave it 0: 4 per worker, at least 256,
/// at most the slots a pool has.
pub(crate) fn default_max_threads(threads: usize) -> usize {
    (4 * threads).clamp(256, crate::registry::MAX_THREADS)
}

impl WorkerThread {
    /// A spare's life. Returns true if a grow made it a worker (its slot is
    /// now below the pool's size): it goes on as one. False: it exits.
    pub(crate) fn run_spare(&self) -> bool {
        let id = self.registry().id;
        crate::probe::spare_start(id, self.index());
        self.spare.set(true);
        let promoted = self.spare_loop();
        self.spare.set(false);
        // Exits, or goes on as a worker: a spare no more either way.
        crate::probe::spare_stop(id, self.index());
        promoted
    }

    /// An admitted spare that found nothing looks again for a while before
    /// it parks, as a worker does: the worker it stands in for would still
    /// be there for the next piece of a loop, and a parked spare is woken
    /// wherever the kernel puts it (two spares stacked on one CPU while the
    /// other idles, a millisecond at a time, until the balancer moves one).
    fn spare_spin(&self) -> Option<crate::job::Job> {
        let reg = self.registry();
        let start = now_ns();
        while reg.is_open() && now_ns() - start < SPARE_SPIN_NS {
            if reg.blocking.in_task.load(Ordering::Acquire) > reg.blocking.allowed.load(Ordering::Acquire) {
                return None; // a blocker returned: this spare is one too many
            }
            std::thread::yield_now();
            if let Some(job) = self.find_work() {
                return Some(job);
            }
        }
        None
    }

    fn spare_loop(&self) -> bool {
        let reg = self.registry();
        let b = &reg.blocking;
        // Started by the monitor: counted in `starting` until the first try.
        let mut starting = true;
        let mut idle_since = now_ns();
        loop {
            if self.index() < reg.target() {
                if starting {
                    b.starting.fetch_sub(1, Ordering::AcqRel);
                }
                b.spares.fetch_sub(1, Ordering::AcqRel);
                return true;
            }
            let open = reg.is_open();
            let admitted = !open || b.enter_task();
            if std::mem::replace(&mut starting, false) {
                b.starting.fetch_sub(1, Ordering::AcqRel);
            }
            if admitted {
                let ran = match self.find_work().or_else(|| self.spare_spin()) {
                    Some(job) => {
                        // Spares run while tasks block: the clock read per
                        // task (a system call) lets the monitor see this
                        // one blocked at its first look, not its second.
                        let cpu = &reg.slot(self.index()).stats.spare_task_cpu_ns;
                        cpu.store(crate::monitor::own_cpu_ns().max(1), Ordering::Relaxed);
                        // Counted ended as well as taken, or `wait_idle`
                        // would never see the pool idle (`control.rs`).
                        self.execute_popped(job);
                        cpu.store(0, Ordering::Relaxed);
                        true
                    }
                    None => false,
                };
                if open {
                    b.leave_task();
                }
                if ran {
                    idle_since = now_ns();
                    continue;
                }
            }
            if !open && !self.has_visible_work() {
                // Closing and nothing left that we can see: workers handle
                // whatever admitted submitters still push.
                return self.spare_exit(true);
            }
            if !open {
                std::thread::yield_now();
                continue;
            }
            if !self.deque_is_empty() {
                // Leftovers of our last task stay stealable: wake a worker for them.
                reg.notify_new_work();
            }
            // Idle: park until the monitor wants us, or the keep-alive passes.
            let deadline = idle_since.saturating_add(keep_alive_ns());
            if now_ns() >= deadline {
                if let Some(promoted) = self.try_spare_exit() {
                    return promoted;
                }
                idle_since = now_ns();
                continue;
            }
            lock(&b.idle).push(self.index());
            // A close or grow that emptied the list before our push is seen
            // here (its state change precedes its take of the list lock).
            if reg.is_open() && self.index() >= reg.target() {
                reg.slot(self.index()).parker.park(Some(deadline));
                crate::monitor::wake();
            }
            let mut idle = lock(&b.idle);
            if let Some(pos) = idle.iter().position(|&i| i == self.index()) {
                idle.swap_remove(pos); // a time-out or a stale token
            }
        }
    }

    /// Exits after the keep-alive unless a grow made this spare a worker
    /// meanwhile: `None` if the spare should go on waiting (a racing wake).
    fn try_spare_exit(&self) -> Option<bool> {
        let reg = self.registry();
        let mut ctl = lock(&reg.control);
        if self.index() < reg.target() {
            drop(ctl);
            reg.blocking.spares.fetch_sub(1, Ordering::AcqRel);
            return Some(true);
        }
        if !self.deque_is_empty() {
            return None; // leftovers: a worker will take them, then we may go
        }
        ctl.occupied[self.index()] = false;
        drop(ctl);
        Some(self.spare_exit(false))
    }

    fn spare_exit(&self, release_slot: bool) -> bool {
        let reg = self.registry();
        if release_slot {
            let mut ctl = lock(&reg.control);
            if self.index() < reg.target() && reg.is_open() {
                drop(ctl);
                reg.blocking.spares.fetch_sub(1, Ordering::AcqRel);
                return true;
            }
            ctl.occupied[self.index()] = false;
        }
        reg.blocking.spares.fetch_sub(1, Ordering::AcqRel);
        false
    }
}
