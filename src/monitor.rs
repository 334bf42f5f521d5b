//! The monitor: one thread per process (Go's sysmon) that finds workers
//! blocked in the kernel inside a task and has their pool compensate
//! (`blocking.rs`).
//!
//! Nothing on the submit/run/wait path talks to it. It starts the first
//! time a worker wakes from parking, ticks while some pool has a thread
//! that is not parked, and parks itself once every pool's threads have
//! been parked for a few ticks (an idle process burns nothing); a worker waking from parking
//! wakes it again (one relaxed load while it runs), or, if it woke by its
//! deadline (the depot's watch), as it takes a job: a trim alone needs no look.
//!
//! Blocked, without any hook in user code: a thread whose slot has been in
//! the same task across a tick (its `popped` count unchanged and `running`
//! set at both looks), whose CPU time did not advance over the tick, and
//! which the kernel reports sleeping (`S` or `D` in
//! `/proc/self/task/<tid>/stat`): in a read, a sleep, a lock, a futex (a
//! wait that does not help). A computing thread advances its CPU time, and
//! one that is only preempted is `R`: CPU-bound tasks never count, however
//! long. A spare reads its own CPU clock as it takes each task (spares
//! exist only while tasks block, so the system call is paid only then): it
//! counts as blocked at the first look that finds it in a task it took
//! since the last look, sleeping, with under 20 µs of CPU used since it
//! took it, so a burst of blocking tasks is handed out one tick per task
//! rather than two. A thread whose task returns after it was counted
//! blocked takes itself off the count (`counted_blocked`), so the spare
//! standing in for it stops at once rather than at the next look.
//!
//! A burst of blocking tasks is handed out in doubling rounds: while work
//! is queued and CPUs idle, each thread blocked in its task for 300 µs lets
//! two more spares run on credit, once (see `tick`).
//!
//! The tick is 1 ms while some thread is inside a task (4 ms after 100
//! quiet ticks), 100 µs while some pool hands out a burst (each spare it
//! starts is seen blocked one tick later), backing off to 4 ms once the
//! spares of a burst run or block, and 50 ms while no thread is inside a
//! task: only a thread in a task can block, and under sparse work (a task
//! a millisecond) a 1 ms tick cost 1% of a core and kept the CPUs out of
//! idle, a 10 ms tick a quarter of the pool's CPU. Work that may wait
//! behind a blocked task cuts the long ticks short (`hurry`): a submit
//! that finds every worker inside a task, a worker that takes a batch from
//! the shared queue, the first worker woken for a burst that sees more
//! work queued behind its job. A task that blocks alone, with nothing
//! waiting behind it, needs no spare. The monitor parks once its looks
//! have found every thread parked for 30 ms and no job was taken since the
//! look before: under sparse work every look finds the threads parked, and
//! a parked monitor would be woken by the next worker wake-up, on that
//! worker's way to its task.

// Plain std atomics: the monitor is not part of the loom-modelled protocols.
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::fork::GenLock;
use crate::registry::{self, Registry};

/// How long every thread must stay parked before the monitor parks too.
const IDLE_BEFORE_PARK_US: u64 = 30_000;

/// The tick while no thread is inside a task: nothing can be blocked, and
/// a faster tick would cost CPU under sparse work (a task a millisecond:
/// each look costs about 12 µs of CPU, mostly the timer's wake-up).
const IDLE_TICK_US: u64 = 50_000;

const RUNNING: u32 = 1;
const PARKED: u32 = 2;

/// `(fork generation + 1) << 2 | RUNNING or PARKED`; 0 = never started.
/// A word from an earlier generation names a monitor the child lacks.
static WORD: AtomicU32 = AtomicU32::new(0);
static START: GenLock<()> = GenLock::new(());
/// Held while the monitor looks at the pools (it allocates, reads `/proc`,
/// starts spares), and across a fork by `fork.rs`, so that no fork copies
/// the monitor in the middle of a look.
static TICK: GenLock<()> = GenLock::new(());

/// What `hurry` may cut short now: nothing (0), the idle tick (1: any
/// hurry), or the tick after 100 quiet ones (2: only a hurry for a backlog).
static HURRY: AtomicU32 = AtomicU32::new(0);
const HURRY_ANY: u32 = 1;
const HURRY_BACKLOG: u32 = 2;

/// Jobs in the shared queue that make a backlog worth a look now.
const BACKLOG: usize = 16;
/// At most one look for a backlog this often.
const BACKLOG_HURRY_EVERY_NS: u64 = 20_000_000;

/// Work may wait behind a blocked task: a submit found every worker inside
/// a task, or a worker took a batch from the shared queue (a burst: its
/// tasks may block). If the monitor sleeps its idle tick (50 ms), it looks
/// now; if it sleeps its quiet tick (4 ms), only for a backlog of `BACKLOG`
/// jobs (`queued` says how many, asked only then): a pool busy computing
/// finds every worker in a task at each submit, and pieces of a parallel
/// loop keep coming, neither a reason to look sooner. Otherwise one load.
pub(crate) fn hurry(queued: impl FnOnce() -> usize) {
    let h = HURRY.load(Ordering::Relaxed);
    if (h == HURRY_ANY || h == HURRY_BACKLOG && queued() >= BACKLOG) && HURRY.swap(0, Ordering::AcqRel) != 0 {
        futex_wake(&HURRY);
    }
}

/// fork() is about to run: waits out a look in progress, holds off the next.
pub(crate) fn hold_for_fork() {
    TICK.hold();
}

/// The fork is done, in the parent: the monitor may look again.
pub(crate) fn release_after_fork() {
    TICK.release();
}

fn word(state: u32) -> u32 {
    (crate::fork::generation().wrapping_add(1) << 2) | state
}

/// Starts the monitor if this process (fork generation) has none. Called
/// as a pool is created, on the creating thread: a thread starts with its
/// creator's priority, and a worker's may be lowered (`qos.rs`), which
/// would starve the monitor exactly when the machine is busy.
pub(crate) fn ensure_started() {
    let w = WORD.load(Ordering::Acquire);
    if w != word(RUNNING) && w != word(PARKED) {
        wake();
    }
}

/// Called by a thread that just woke from parking: makes sure the monitor
/// runs. Costs one load while it does.
pub(crate) fn wake() {
    fence(Ordering::SeqCst); // pairs with the monitor's before its last look
    if WORD.load(Ordering::Relaxed) == word(RUNNING) {
        return;
    }
    let _g = START.lock();
    let w = WORD.load(Ordering::Acquire);
    if w == word(RUNNING) {
        return;
    }
    if w == word(PARKED) {
        WORD.store(word(RUNNING), Ordering::Release);
        futex_wake(&WORD);
        return;
    }
    // Never started in this process (or started before a fork: the child lacks it).
    WORD.store(word(RUNNING), Ordering::Release);
    let spawned = std::thread::Builder::new().name("bg-monitor".into()).stack_size(256 << 10).spawn(run);
    if spawned.is_err() {
        // Without a monitor nothing is compensated; a later wake tries again.
        WORD.store(0, Ordering::Release);
    }
}

/// What the monitor remembers of one slot between ticks.
#[derive(Clone, Copy, Default)]
struct Watch {
    tid: i32,
    popped: u64,
    running: bool,
    cpu_ns: u64,
    /// Counted blocked at the last tick.
    blocked: bool,
    /// When it was first counted blocked in this task.
    blocked_at: u64,
    /// It has been counted in a credit (see `tick`).
    credited: bool,
    /// When its clock was last read.
    checked_at: u64,
}

/// What the monitor remembers of one pool between ticks.
struct PoolWatch {
    id: u64,
    slots: Vec<Watch>,
    /// The sum of its slots' `popped` counts at the last look.
    popped: u64,
}

/// A thread seen blocked stays counted blocked, without a clock read, for
/// this long while it stays in the same task: a task that blocks and then
/// computes is over-compensated for at most this long.
const RECHECK_BLOCKED_NS: u64 = 1_000_000;

/// How long a thread must have been blocked in a task before it counts
/// toward a burst's credit (see `tick`): two or three looks at the fast
/// tick. A thread that waits briefly over and over (a Go callback's
/// thread waiting for a P) must not make the spares double.
const CONFIRM_BLOCKED_NS: u64 = 300_000;

fn run() {
    let gen = crate::fork::generation();
    let mut watches: Vec<PoolWatch> = Vec::new();
    let mut quiet = 0u32;
    let mut idle_us = 0u64;
    let mut comp_tick_us = 100u64;
    let mut hurried = false;
    let mut hurried_at = 0u64;
    let mut cpu_use = CpuUse::default();
    loop {
        if crate::fork::generation() != gen {
            return; // cannot happen (a child has no copy of this thread); be safe
        }
        let look = TICK.lock();
        let idle_cpus = cpu_use.idle_cpus();
        let pools = registry::live_pools();
        watches.retain(|w| pools.iter().any(|r| r.id == w.id));
        let mut any = Look::default();
        for reg in &pools {
            if reg.is_forked() {
                continue;
            }
            let w = match watches.iter().position(|w| w.id == reg.id) {
                Some(i) => &mut watches[i],
                None => {
                    watches.push(PoolWatch { id: reg.id, slots: Vec::new(), popped: 0 });
                    watches.last_mut().expect("just pushed")
                }
            };
            let l = tick(reg, w, idle_cpus);
            any.awake |= l.awake;
            any.took_work |= l.took_work;
            any.in_task |= l.in_task;
            any.compensating |= l.compensating;
            any.ramping |= l.ramping;
        }
        drop(pools); // a pool's last reference may go here: not under any pool's lock
        drop(look);
        if !any.awake {
            // Park only once no job was taken since the last look, and
            // every look for 30 ms found every thread parked: under sparse
            // work (a task a millisecond) every look finds them parked, yet
            // a parked monitor would be woken by the next worker wake-up,
            // whose futex call and extra thread come before the woken
            // worker starts its task (issue 15: wake latency). Parking on
            // idle looks alone parked it at every second look, and its
            // wake-ups then cost 15% of the pool's CPU at that rate.
            if idle_us >= IDLE_BEFORE_PARK_US && !any.took_work {
                idle_us = 0;
                if park_unless_awake() {
                    quiet = 0;
                }
                continue;
            }
        } else {
            idle_us = 0;
        }
        quiet = if any.compensating { 0 } else { quiet.saturating_add(1) };
        // A burst of blocking tasks is handed out a spare per blocked
        // thread per tick: fast while that goes on. Once every spare
        // runs or blocks, the tick backs off to 4 ms (each look reads the
        // blocked threads' clocks; a new burst cuts it short, `hurry`).
        comp_tick_us = if any.ramping { 100 } else { (comp_tick_us * 2).min(4_000) };
        let tick_us = if any.compensating {
            comp_tick_us
        } else if !any.in_task {
            IDLE_TICK_US
        } else if quiet < 100 {
            1_000
        } else {
            4_000
        };
        if !any.awake {
            idle_us += tick_us;
        }
        if hurried {
            // Woken for a burst: its first tasks may block now. A worker
            // counts as blocked at its second look, so look again soon.
            hurried = false;
            comp_tick_us = 100;
            std::thread::sleep(Duration::from_micros(100));
        } else if tick_us == IDLE_TICK_US
            || tick_us >= 4_000 && crate::sync::now_ns().saturating_sub(hurried_at) >= BACKLOG_HURRY_EVERY_NS
        {
            // A burst that starts now may be all blocking tasks: `hurry` cuts
            // these long sleeps short (see there for when). For a backlog at
            // most every 20 ms: a pool fed faster than it runs always has
            // one, and its monitor must not tick faster for it.
            let armed = if tick_us == IDLE_TICK_US { HURRY_ANY } else { HURRY_BACKLOG };
            HURRY.store(armed, Ordering::SeqCst);
            futex_wait_for(&HURRY, armed, Some(Duration::from_micros(tick_us)));
            hurried = HURRY.swap(0, Ordering::Relaxed) == 0;
            if hurried {
                hurried_at = crate::sync::now_ns();
            }
        } else {
            std::thread::sleep(Duration::from_micros(tick_us));
        }
    }
}

/// How much CPU the process used between two looks.
#[derive(Default)]
struct CpuUse {
    at_ns: u64,
    cpu_ns: u64,
}

impl CpuUse {
    /// CPUs the process left idle since the last call (the machine's count
    /// less what this process used; other processes are not seen).
    fn idle_cpus(&mut self) -> f64 {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        let cpu = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        let now = crate::sync::now_ns();
        let (dt, dc) = (now.saturating_sub(self.at_ns), cpu.saturating_sub(self.cpu_ns));
        self.at_ns = now;
        self.cpu_ns = cpu;
        if dt == 0 || dt > 1_000_000_000 {
            return 0.0;
        }
        static CPUS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
        let cpus = *CPUS.get_or_init(|| num_cpus::get() as f64);
        cpus - dc as f64 / dt as f64
    }
}

/// Parks until a worker wakes; returns at once (false) if some pool has a
/// thread awake after all.
fn park_unless_awake() -> bool {
    WORD.store(word(PARKED), Ordering::SeqCst);
    fence(Ordering::SeqCst);
    let look = TICK.lock();
    let awake = registry::live_pools().iter().any(|r| !r.is_forked() && pool_awake(r));
    drop(look);
    if awake {
        let _g = START.lock();
        WORD.store(word(RUNNING), Ordering::Release);
        return false;
    }
    while WORD.load(Ordering::Acquire) == word(PARKED) {
        futex_wait(&WORD, word(PARKED));
    }
    true
}

/// True if some thread of the pool is not parked (idle spares are parked
/// outside the sleep protocol, so they are subtracted).
fn pool_awake(reg: &Registry) -> bool {
    let (_, sleeping) = reg.sleep.counts();
    let idle_spares = reg.blocking.idle_count() as u64;
    reg.live() as u64 > sleeping + idle_spares
}

/// What one look at a pool found.
#[derive(Clone, Copy, Default)]
struct Look {
    /// Some thread is not parked.
    awake: bool,
    /// Some thread took a job since the last look.
    took_work: bool,
    /// Some thread is inside a task: only such a thread can be blocked.
    in_task: bool,
    /// The pool is starting spares, or has blocked threads and work waiting.
    compensating: bool,
    /// It started or woke spares, or found more threads blocked than at
    /// the last look.
    ramping: bool,
}

/// One look at one pool: counts its blocked threads and has it compensate.
fn tick(reg: &Arc<Registry>, pw: &mut PoolWatch, idle_cpus: f64) -> Look {
    let n = reg.slots_hi();
    let popped =
        (0..n).map(|i| reg.slot(i).stats.popped.load(crate::sync::Ordering::Relaxed)).fold(0u64, u64::wrapping_add);
    let took_work = std::mem::replace(&mut pw.popped, popped) != popped;
    let watch = &mut pw.slots;
    if !pool_awake(reg) {
        reg.blocking.blocked.store(0, Ordering::Relaxed);
        watch.clear();
        return Look { took_work, ..Look::default() };
    }
    let mut confirmed = 0;
    let mut in_task = false;
    watch.resize(n, Watch::default());
    let mut blocked = 0;
    let now = crate::sync::now_ns();
    for (idx, w) in watch.iter_mut().enumerate() {
        let slot = reg.slot(idx);
        let tid = slot.tid.load(Ordering::Acquire);
        let running = slot.stats.depth.load(crate::sync::Ordering::Relaxed) > 0;
        let popped = slot.stats.popped.load(crate::sync::Ordering::Relaxed);
        // A thread that said it blocks is counted by the pool (`hinted`).
        let hinted = slot.stats.hint_depth.load(crate::sync::Ordering::Relaxed) != 0;
        in_task |= running;
        if tid == 0 || !running || hinted {
            if w.blocked {
                slot.stats.counted_blocked.store(false, crate::sync::Ordering::Relaxed);
            }
            *w = Watch { tid, popped, running, checked_at: now, ..Watch::default() };
            continue;
        }
        let same_task = w.running && w.tid == tid && w.popped == popped;
        if same_task && w.blocked && now.saturating_sub(w.checked_at) < RECHECK_BLOCKED_NS {
            // Still in the task it was blocked in: counted blocked without
            // a clock read (hundreds of blocked spares, a tick each 100 µs).
            blocked += 1;
            if !w.credited && now.saturating_sub(w.blocked_at) >= CONFIRM_BLOCKED_NS {
                w.credited = true;
                confirmed += 1;
            }
            slot.stats.counted_blocked.store(true, crate::sync::Ordering::Relaxed);
            continue;
        }
        let cpu_ns = thread_cpu_ns(tid).unwrap_or(u64::MAX);
        // 20 µs of slack: a blocked thread's clock may tick over a wake-up
        // that found nothing (a futex re-check).
        let idle_cpu = cpu_ns != u64::MAX && cpu_ns.saturating_sub(w.cpu_ns) < 20_000;
        // Still blocked if it was and its clock has not moved at all: no
        // need to ask /proc again (hundreds of spares, each tick).
        let mut is_blocked = same_task && idle_cpu && (w.blocked && cpu_ns == w.cpu_ns || kernel_sleeping(tid))
            || !same_task && spare_blocked_since_start(reg, idx, cpu_ns) && kernel_sleeping(tid);
        if is_blocked || w.blocked {
            let flag = &slot.stats.counted_blocked;
            flag.store(is_blocked, crate::sync::Ordering::Relaxed);
            if is_blocked && !w.blocked {
                // The task may have returned (or opened a hint) since we
                // looked, its thread finding no flag to clear: then the
                // flag goes, and the thread is not counted.
                fence(Ordering::SeqCst);
                let moved_on = slot.stats.popped.load(crate::sync::Ordering::Relaxed) != popped
                    || slot.stats.depth.load(crate::sync::Ordering::Relaxed) == 0
                    || slot.stats.hint_depth.load(crate::sync::Ordering::Relaxed) != 0;
                if moved_on {
                    flag.store(false, crate::sync::Ordering::Relaxed);
                    is_blocked = false;
                }
            }
        }
        blocked += is_blocked as usize;
        let still = is_blocked && same_task && w.blocked;
        let blocked_at = if still { w.blocked_at } else { now };
        let confirm = still && !w.credited && now.saturating_sub(blocked_at) >= CONFIRM_BLOCKED_NS;
        confirmed += confirm as usize;
        let credited = still && (w.credited || confirm);
        *w = Watch { tid, popped, running, cpu_ns, blocked: is_blocked, blocked_at, credited, checked_at: now };
    }
    // Only a pool with work waiting needs help. Parked workers are not
    // counted on: the sleep protocol wakes them within microseconds, so work
    // still waiting a tick later is work they could not take (a parked
    // surplus worker of a shrunk pool takes nothing).
    // A paused pool's queued work waits for the resume, not for a thread.
    let waiting = !reg.life.is_paused() && has_queued_work(reg);
    // A burst whose tasks keep blocking (threads blocked in the same task
    // for `CONFIRM_BLOCKED_NS`, each counted once, work still queued): a spare that blocks in the task it took needs no stand-in
    // (it was extra), so compensation alone hands such a burst out at a
    // constant number of tasks per tick, each holding a run slot until it
    // is seen blocked (issue 14: 100 sleepers took 30-50 ms to start
    // beside a parallel loop, a CPU idle meanwhile). On credit, each such
    // thread lets two more spares run, so the rounds double (log2 of the
    // burst, a few ticks a round). Confirmed, not first seen: threads that
    // wait briefly, as a Go callback's thread waits for a P, would
    // otherwise double the spares on every look (a burst of Go spawns
    // reached `max_threads`). If what follows computes, the credit lapses
    // at the next look and those spares stop after their task: an
    // overshoot of at most twice the threads confirmed, for one task.
    // Never more than the jobs queued: those are all a spare could take.
    // Only while CPUs idle: that is the loss the credit stops, and threads
    // that block because the CPUs are taken (a Go callback's thread waits
    // for a P while the others run) gain nothing from more threads.
    let credit = if waiting && idle_cpus >= 0.5 { (2 * confirmed).min(queued_jobs(reg)) } else { 0 };
    let before = reg.blocking.blocked.load(Ordering::Relaxed);
    let added = reg.compensate(blocked, credit, waiting);
    Look {
        awake: true,
        took_work,
        in_task,
        compensating: blocked > 0 && waiting || added > 0,
        ramping: added > 0 || blocked > before,
    }
}

/// First sight, for a spare: in a task it took since the last look, it has
/// used almost no CPU since it took it. Spares run exactly when tasks block
/// (a burst of sleepers is handed out one spare at a time), so waiting a
/// second tick for each would hold a run slot per sleeper for 100-200 µs.
/// Workers keep the two-look rule: their task start has no clock read.
fn spare_blocked_since_start(reg: &Registry, idx: usize, cpu_ns: u64) -> bool {
    if idx < reg.target() || cpu_ns == u64::MAX {
        return false;
    }
    let start = reg.slot(idx).stats.spare_task_cpu_ns.load(crate::sync::Ordering::Relaxed);
    start != 0 && cpu_ns.saturating_sub(start) < 20_000
}

/// This thread's CPU time, as `thread_cpu_ns` reads another's.
pub(crate) fn own_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Whether any queue of the pool holds a job.
pub(crate) fn has_queued_work(reg: &Registry) -> bool {
    !reg.injector.is_empty() || (0..reg.slots_hi()).any(|i| !reg.slot(i).stealer.is_empty())
}

/// How many jobs the pool's queues hold (a snapshot).
fn queued_jobs(reg: &Registry) -> usize {
    reg.injector.len() + (0..reg.slots_hi()).map(|i| reg.slot(i).stealer.len()).sum::<usize>()
}

/// The CPU time a thread of this process has used (its per-thread CPU
/// clock, named from its tid as glibc's pthread_getcpuclockid does).
fn thread_cpu_ns(tid: i32) -> Option<u64> {
    // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): (~tid << 3) | PERTHREAD (4) | SCHED (2).
    let clock = ((!tid) << 3) | 6;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; a clock id naming a thread
    // that has exited only makes the call fail.
    let r = unsafe { libc::clock_gettime(clock as libc::clockid_t, &mut ts) };
    (r == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// True if the kernel reports the thread sleeping (`S`) or in an
/// uninterruptible wait (`D`) rather than running or runnable.
fn kernel_sleeping(tid: i32) -> bool {
    let Ok(stat) = std::fs::read(format!("/proc/self/task/{tid}/stat")) else { return false };
    // The state follows the command name, which may itself hold ')'.
    let Some(close) = stat.iter().rposition(|&c| c == b')') else { return false };
    matches!(stat.get(close + 2), Some(b'S' | b'D'))
}

fn futex_wait(word: &AtomicU32, expected: u32) {
    futex_wait_for(word, expected, None);
}

/// FUTEX_WAIT for at most `timeout` (None: no limit).
fn futex_wait_for(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|d| libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as _ });
    let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned u32 (a static); `tsp` is null or
    // points at `ts`, alive across the call; FUTEX_WAIT only reads both.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, expected, tsp);
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE uses the address only as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}
