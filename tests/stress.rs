//! Stress and soak: many threads abuse one pool at once, round after round,
//! and every promise is counted.
//!
//! A round (one seed) builds a pool of random size and queue bound, and at
//! the same time runs
//! * producers: outside threads submitting tasks with handles,
//!   fire-and-forget tasks, tasks that submit and wait for children of their
//!   own, groups (waited with random time-outs, sometimes cancelled), and
//!   tasks on the default pool that wait for this pool's tasks; they wait
//!   with random time-outs and cancel at random;
//! * a resizer: live `bg_pool_set_threads` (and `bg_set_threads`) up and down;
//! * a closer: `bg_pool_shutdown` at a random moment, in drain or cancel
//!   mode, with a short time-out or none.
//!
//! Then it waits for everything and checks that every accepted task either
//! ran once or had its drop run once (never both, and refused ones
//! neither), that every wait's status, every cancel's answer and every group
//! wait agree with what happened, and that the error handler saw exactly the
//! failures of fire-and-forget tasks. A watchdog ends the process with a
//! dump of what was pending if a round outlives its budget. Memory must stay
//! flat: live heap bytes (a counting allocator) after each round, once
//! warm, and VmRSS with slack.
//!
//! `cargo test` runs the short form (a few seconds). The soak:
//! `BG_SOAK_SECS=600 cargo test --release --test stress -- --nocapture`.
//! Rounds are seeded `BG_STRESS_SEED + round`; a failure prints the seed,
//! and `BG_STRESS_SEED=<seed> BG_STRESS_ROUNDS=1` replays that round's
//! choices (thread interleavings differ from run to run).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use background::capi::compose::*;
use background::capi::pool::*;
use background::capi::status::bg_status::{self, *};
use background::capi::task::*;

/// Counts live heap bytes of the whole process (the library included).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; the counter
// is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(l);
        if !p.is_null() {
            LIVE.fetch_add(l.size() as isize, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        LIVE.fetch_sub(l.size() as isize, Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        let q = System.realloc(p, l, size);
        if !q.is_null() {
            LIVE.fetch_add(size as isize - l.size() as isize, Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const FOREVER: u64 = u64::MAX;
const MS: u64 = 1_000_000;
/// Waits with these time-outs (ns) are meant to time out sometimes.
const TIMEOUTS: [u64; 5] = [0, 1_000, 100_000, MS, 5 * MS];
const PRODUCERS: usize = 3;
const OPS: usize = 120;
const MAX_IDS: usize = 1 << 15;
/// A round that takes longer than this is stuck (a normal one takes well under a second).
const ROUND_BUDGET: Duration = Duration::from_secs(60);
/// Rounds before the heap baseline is taken (the default pool, slabs and
/// thread-locals of the test's threads settle in the first ones).
const WARM_ROUNDS: usize = 3;
/// Heap growth allowed over the baseline. Live bytes between rounds jitter
/// by up to ~180 KiB (deferred epoch garbage, per-thread caches; measured
/// over 6600 rounds, no trend); a leak of one allocation per task (a round
/// has hundreds) crosses this within a few dozen rounds.
const HEAP_SLACK: isize = 512 << 10;
const RSS_SLACK_KB: u64 = 64 << 10;

/// xorshift64*: the round's choices, reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    fn timeout(&mut self) -> u64 {
        TIMEOUTS[self.below(TIMEOUTS.len() as u64) as usize]
    }
}

/// The paths a run must have taken before it may end (it goes on, up to
/// COVERAGE_LIMIT, until each was seen): a stress run that never cancelled
/// or never hit a shutdown would prove little.
const EVENTS: [&str; 11] = [
    "refused: shut down",
    "refused: queue full",
    "dropped by a cancel shutdown",
    "cancelled by bg_cancel",
    "bg_cancel of a running task",
    "wait timed out",
    "group wait ok",
    "group wait failed",
    "group wait cancelled",
    "shutdown timed out",
    "task waited inside a task",
];
const EV_SHUT: usize = 0;
const EV_FULL: usize = 1;
const EV_DROPPED: usize = 2;
const EV_CANCELLED: usize = 3;
const EV_RUNNING: usize = 4;
const EV_TIMEOUT: usize = 5;
const EV_GROUP_OK: usize = 6;
const EV_GROUP_FAILED: usize = 7;
const EV_GROUP_CANCELLED: usize = 8;
const EV_SHUTDOWN_TIMEOUT: usize = 9;
const EV_NESTED_WAIT: usize = 10;
static SEEN: [AtomicUsize; EVENTS.len()] = [const { AtomicUsize::new(0) }; EVENTS.len()];
const COVERAGE_LIMIT: Duration = Duration::from_secs(60);

fn seen(ev: usize) {
    SEEN[ev].fetch_add(1, Relaxed);
}

const UNUSED: u8 = 0;
const ACCEPTED: u8 = 1;
const REFUSED: u8 = 2;

const PHASES: [&str; 3] = ["producing and waiting", "closing the pool", "checking"];

/// Everything one round counts. Tasks find it through their `Rec`.
struct Round {
    seed: u64,
    pool: *mut bg_pool,
    next_id: AtomicUsize,
    fate: Vec<AtomicU8>,
    kind: Vec<AtomicU8>,
    ran: Vec<AtomicU8>,
    dropped: Vec<AtomicU8>,
    /// Fire-and-forget tasks that ran and returned non-zero.
    ff_failed: AtomicUsize,
    /// Failures the pool's error handler received.
    reported: AtomicUsize,
    phase: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

// SAFETY: the pool pointer is only used through the thread-safe C API.
unsafe impl Send for Round {}
unsafe impl Sync for Round {}

impl Round {
    fn new(seed: u64, pool: *mut bg_pool) -> Round {
        let counters = || (0..MAX_IDS).map(|_| AtomicU8::new(0)).collect::<Vec<_>>();
        Round {
            seed,
            pool,
            next_id: AtomicUsize::new(0),
            fate: counters(),
            kind: counters(),
            ran: counters(),
            dropped: counters(),
            ff_failed: AtomicUsize::new(0),
            reported: AtomicUsize::new(0),
            phase: AtomicUsize::new(0),
            violations: Mutex::new(Vec::new()),
        }
    }

    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    /// A new task record (boxed: it is the task's `arg`) and its id. Once
    /// submitted, the record belongs to the task, which frees it.
    fn rec(&self, what: What) -> (usize, *mut Rec) {
        let id = self.next_id.fetch_add(1, Relaxed);
        assert!(id < MAX_IDS, "MAX_IDS too small for this round");
        self.kind[id].store(what.kind(), Relaxed);
        (id, Box::into_raw(Box::new(Rec { id, round: self, what })))
    }

    /// Records what a submission answered. A refused record is still the
    /// caller's: it is freed here, and must never run or be dropped.
    fn settle(&self, (id, rec): (usize, *mut Rec), s: bg_status, may_refuse: &[bg_status]) -> bool {
        if s == BG_OK {
            self.fate[id].store(ACCEPTED, Relaxed);
            return true;
        }
        self.fate[id].store(REFUSED, Relaxed);
        match s {
            BG_ESHUTDOWN => seen(EV_SHUT),
            BG_EFULL => seen(EV_FULL),
            _ => {}
        }
        if !may_refuse.contains(&s) {
            self.violation(format!("task {id}: submission answered {s:?}"));
        }
        // SAFETY: refused: the library did not take ownership of the record.
        drop(unsafe { Box::from_raw(rec) });
        false
    }

    fn ran(&self, id: usize) -> u8 {
        self.ran[id].load(Relaxed)
    }

    fn dropped(&self, id: usize) -> u8 {
        self.dropped[id].load(Relaxed)
    }

    /// A wait reported `s` (with `code`) for task `id` whose function returns `want`.
    fn check_end(&self, id: usize, want: c_int, s: bg_status, code: c_int) {
        let (ran, dropped) = (self.ran(id), self.dropped(id));
        let ok = match s {
            BG_OK => ran == 1 && dropped == 0 && want == 0,
            BG_EFAILED => ran == 1 && dropped == 0 && want != 0 && code == want,
            BG_ECANCELLED | BG_ESHUTDOWN => ran == 0 && dropped == 1,
            _ => false,
        };
        if s == BG_ESHUTDOWN {
            seen(EV_DROPPED);
        }
        if !ok {
            self.violation(format!(
                "task {id}: wait said {s:?} (code {code}, want {want}) but ran={ran} dropped={dropped}"
            ));
        }
    }
}

struct Rec {
    id: usize,
    round: *const Round,
    what: What,
}

enum What {
    /// Spins a little (or, if `nap`, sleeps 2 ms: long enough for waits to
    /// time out and cancels to find it running, even on one CPU) and
    /// returns `code`; `ff`: submitted without a handle.
    Leaf { code: c_int, spin: u32, nap: bool, ff: bool },
    /// Submits `children` leaves to its own pool and waits for some of them.
    Parent { children: u32, seed: u64 },
    /// Runs on the default pool: waits for a task of the round's pool.
    Waiter { target: *mut bg_task, timeout: u64 },
}

impl What {
    fn kind(&self) -> u8 {
        match self {
            What::Leaf { ff: false, .. } => 1,
            What::Leaf { ff: true, .. } => 2,
            What::Parent { .. } => 3,
            What::Waiter { .. } => 4,
        }
    }
}

const KIND_NAMES: [&str; 5] = ["?", "leaf", "fire-and-forget leaf", "parent", "default-pool waiter"];

fn leaf(rng: &mut Rng, fail_percent: u64, ff: bool) -> What {
    let code = if rng.percent(fail_percent) { 1 + rng.below(1000) as c_int } else { 0 };
    What::Leaf { code, spin: rng.below(2000) as u32, nap: rng.percent(5), ff }
}

/// # Safety
/// `arg` is a record from `Round::rec` whose submission was accepted; its
/// round outlives every task of the round.
unsafe extern "C" fn run_rec(arg: *mut c_void) -> c_int {
    let rec = Box::from_raw(arg as *mut Rec);
    let r = &*rec.round;
    r.ran[rec.id].fetch_add(1, Relaxed);
    match rec.what {
        What::Leaf { code, spin, nap, ff } => {
            for i in 0..spin {
                std::hint::black_box(i);
            }
            if nap {
                std::thread::sleep(Duration::from_millis(2));
            }
            if ff && code != 0 {
                r.ff_failed.fetch_add(1, Relaxed);
            }
            code
        }
        What::Parent { children, seed } => {
            run_parent(r, children, seed);
            0
        }
        What::Waiter { target, timeout } => {
            let mut s = bg_wait_timeout(target, timeout, null_mut());
            if s == BG_ETIMEDOUT {
                s = bg_wait(target, null_mut());
            }
            if !matches!(s, BG_OK | BG_EFAILED | BG_ECANCELLED | BG_ESHUTDOWN) {
                r.violation(format!("waiter {}: bg_wait said {s:?}", rec.id));
            }
            bg_task_release(target);
            0
        }
    }
}

/// # Safety
/// As for `run_rec`.
unsafe extern "C" fn drop_rec(arg: *mut c_void) {
    let rec = Box::from_raw(arg as *mut Rec);
    let r = &*rec.round;
    r.dropped[rec.id].fetch_add(1, Relaxed);
    if let What::Waiter { target, .. } = rec.what {
        bg_task_release(target);
    }
}

/// # Safety
/// `ctx` is the round the handler was installed with; `f` is valid for the call.
unsafe extern "C" fn count_failure(ctx: *mut c_void, f: *const bg_failure) {
    let r = &*(ctx as *const Round);
    r.reported.fetch_add(1, Relaxed);
    if (*f).unobserved_handle != 0 {
        r.violation(format!("unexpected unobserved-handle failure report (code {})", (*f).code));
    }
}

/// Inside a task: submit leaves to our own pool (they go on this worker's
/// deque), wait for some of them while helping, release the rest unwaited.
fn run_parent(r: &Round, children: u32, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut kids = Vec::new();
    for _ in 0..children {
        let want = rng.percent(60);
        let (id, rec) = r.rec(What::Leaf { code: 0, spin: rng.below(500) as u32, nap: false, ff: !want });
        let mut h = null_mut();
        let out = if want { &mut h as *mut _ } else { null_mut() };
        let s = bg_pool_submit(r.pool, Some(run_rec), rec as *mut c_void, Some(drop_rec), out);
        if r.settle((id, rec), s, &[BG_ESHUTDOWN, BG_EFULL]) && want {
            kids.push((id, h));
        }
    }
    for (id, h) in kids {
        if rng.percent(60) {
            let mut code = 0;
            let s = bg_wait(h, &mut code);
            r.check_end(id, 0, s, code);
            seen(EV_NESTED_WAIT);
        }
        bg_task_release(h);
    }
}

/// A handle a producer holds: its task and what the function returns.
struct Held {
    id: usize,
    h: *mut bg_task,
    want: c_int,
}

fn producer(r: &Round, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut held: Vec<Held> = Vec::new();
    let mut waiters: Vec<(usize, *mut bg_task)> = Vec::new();
    let full_or_shut: &[bg_status] = &[BG_ESHUTDOWN, BG_EFULL];
    for _ in 0..OPS {
        match rng.below(100) {
            0..=29 => {
                let what = leaf(&mut rng, 20, false);
                let want = match what {
                    What::Leaf { code, .. } => code,
                    _ => unreachable!(),
                };
                let (id, rec) = r.rec(what);
                let mut h = null_mut();
                let s = bg_pool_submit(r.pool, Some(run_rec), rec as *mut c_void, Some(drop_rec), &mut h);
                if r.settle((id, rec), s, full_or_shut) {
                    held.push(Held { id, h, want });
                }
            }
            30..=44 => {
                let (id, rec) = r.rec(leaf(&mut rng, 25, true));
                let s = bg_pool_submit(r.pool, Some(run_rec), rec as *mut c_void, Some(drop_rec), null_mut());
                r.settle((id, rec), s, full_or_shut);
            }
            45..=54 => {
                let (id, rec) = r.rec(What::Parent { children: 1 + rng.below(6) as u32, seed: rng.next() });
                let mut h = null_mut();
                let s = bg_pool_submit(r.pool, Some(run_rec), rec as *mut c_void, Some(drop_rec), &mut h);
                if r.settle((id, rec), s, full_or_shut) {
                    held.push(Held { id, h, want: 0 });
                }
            }
            55..=64 => group_op(r, &mut rng),
            65..=76 if !held.is_empty() => {
                let x = &held[rng.below(held.len() as u64) as usize];
                let mut code = 0;
                let s = bg_wait_timeout(x.h, rng.timeout(), &mut code);
                if s == BG_ETIMEDOUT {
                    seen(EV_TIMEOUT);
                } else {
                    r.check_end(x.id, x.want, s, code);
                }
            }
            77..=86 if !held.is_empty() => {
                let x = &held[rng.below(held.len() as u64) as usize];
                let s = bg_cancel(x.h);
                match s {
                    BG_OK => seen(EV_CANCELLED),
                    BG_ERUNNING => seen(EV_RUNNING),
                    _ => {}
                }
                let (ran, dropped) = (r.ran(x.id), r.dropped(x.id));
                let ok = match s {
                    BG_OK => dropped == 1 && ran == 0,
                    // Its function may not have reached its first line yet.
                    BG_ERUNNING => dropped == 0,
                    BG_EDONE => ran + dropped == 1,
                    _ => false,
                };
                if !ok {
                    r.violation(format!("task {}: bg_cancel said {s:?} with ran={ran} dropped={dropped}", x.id));
                }
            }
            87..=95 if !held.is_empty() => {
                // A task on the default pool waits for one of ours.
                let x = &held[rng.below(held.len() as u64) as usize];
                let target = bg_task_retain(x.h);
                let (id, rec) = r.rec(What::Waiter { target, timeout: rng.timeout() });
                let t = bg_submit(Some(run_rec), rec as *mut c_void);
                if r.settle((id, rec), if t.is_null() { BG_ENOMEM } else { BG_OK }, &[]) {
                    waiters.push((id, t));
                } else {
                    bg_task_release(target);
                }
            }
            _ if !held.is_empty() && held.iter().any(|x| x.want == 0) => {
                // Releasing never cancels: the task still runs (or is dropped
                // by a cancel shutdown). Only successful ones: a failure
                // released unobserved would go to the error handler.
                let i = held.iter().position(|x| x.want == 0).unwrap();
                let x = held.swap_remove(i);
                bg_task_release(x.h);
            }
            _ => {}
        }
    }
    // Everything accepted ends, whatever the closer does meanwhile.
    for x in held {
        let mut code = 0;
        let s = bg_wait(x.h, &mut code);
        r.check_end(x.id, x.want, s, code);
        bg_task_release(x.h);
    }
    for (id, t) in waiters {
        let s = bg_wait(t, null_mut());
        r.check_end(id, 0, s, 0);
        bg_task_release(t);
    }
}

/// A group: members, maybe a cancel, a wait with a random time-out, then a
/// wait to the end whose outcome must match what the members did.
fn group_op(r: &Round, rng: &mut Rng) {
    let flags = if rng.percent(30) { 1 } else { 0 };
    let mut g = null_mut();
    let s = bg_group_new(r.pool, flags, &mut g);
    if s != BG_OK {
        r.violation(format!("bg_group_new said {s:?}"));
        return;
    }
    let mut members = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let what = leaf(rng, 15, false);
        let want = match what {
            What::Leaf { code, .. } => code,
            _ => unreachable!(),
        };
        let (id, rec) = r.rec(what);
        let s = bg_group_submit(g, Some(run_rec), rec as *mut c_void, Some(drop_rec), null_mut());
        if r.settle((id, rec), s, &[BG_ESHUTDOWN, BG_EFULL, BG_ECANCELLED]) {
            members.push((id, want));
        }
    }
    if rng.percent(20) && bg_group_cancel(g) != BG_OK {
        r.violation("bg_group_cancel failed".into());
    }
    let mut first = 0;
    let s = bg_group_wait(g, rng.timeout(), &mut first);
    if !matches!(s, BG_OK | BG_EFAILED | BG_ECANCELLED | BG_ETIMEDOUT) {
        r.violation(format!("bg_group_wait said {s:?}"));
    }
    let s = bg_group_wait(g, FOREVER, &mut first);
    let failed: Vec<c_int> = members.iter().filter(|&&(id, want)| want != 0 && r.ran(id) == 1).map(|m| m.1).collect();
    let not_run = members.iter().any(|&(id, _)| r.dropped(id) == 1);
    let all_ended = members.iter().all(|&(id, _)| r.ran(id) + r.dropped(id) == 1);
    let expect = if !failed.is_empty() {
        BG_EFAILED
    } else if not_run {
        BG_ECANCELLED
    } else {
        BG_OK
    };
    if s != expect || !all_ended || (s == BG_EFAILED && !failed.contains(&first)) {
        r.violation(format!(
            "group wait said {s:?} (first error {first}), members said {expect:?} (failed {failed:?}, all ended {all_ended})"
        ));
    }
    match s {
        BG_OK => seen(EV_GROUP_OK),
        BG_EFAILED => seen(EV_GROUP_FAILED),
        BG_ECANCELLED => seen(EV_GROUP_CANCELLED),
        _ => {}
    }
    if bg_group_free(g) != BG_OK {
        r.violation("bg_group_free failed".into());
    }
}

fn resizer(r: &Round, seed: u64, stop: &AtomicBool) {
    let mut rng = Rng::new(seed);
    while !stop.load(Relaxed) {
        let s = bg_pool_set_threads(r.pool, 1 + rng.below(6) as usize);
        if !matches!(s, BG_OK | BG_ESHUTDOWN) {
            r.violation(format!("bg_pool_set_threads said {s:?}"));
        }
        if rng.percent(20) && bg_set_threads(1 + rng.below(3) as usize) != BG_OK {
            r.violation("bg_set_threads failed".into());
        }
        std::thread::sleep(Duration::from_micros(rng.below(300)));
    }
}

fn closer(r: &Round, seed: u64) {
    let mut rng = Rng::new(seed);
    std::thread::sleep(Duration::from_micros(rng.below(15_000)));
    let mode = if rng.percent(50) { 0 } else { 1 };
    let timeout = [0, MS, FOREVER][rng.below(3) as usize];
    let s = bg_pool_shutdown(r.pool, mode, timeout);
    if s == BG_ETIMEDOUT {
        seen(EV_SHUTDOWN_TIMEOUT);
    }
    if !matches!(s, BG_OK | BG_ETIMEDOUT) {
        r.violation(format!("bg_pool_shutdown said {s:?}"));
    }
}

/// Fails the test, with a dump of the round, if `done` is not signalled in time.
fn watchdog(r: Arc<Round>, done: mpsc::Receiver<()>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(ROUND_BUDGET) {
            eprintln!(
                "stress: round with seed {} exceeded {ROUND_BUDGET:?} while {}",
                r.seed,
                PHASES[r.phase.load(Relaxed)]
            );
            let mut pending = 0;
            for id in 0..r.next_id.load(Relaxed).min(MAX_IDS) {
                if r.fate[id].load(Relaxed) == ACCEPTED && r.ran(id) + r.dropped(id) == 0 {
                    pending += 1;
                    if pending <= 20 {
                        eprintln!("  pending: task {id} ({})", KIND_NAMES[r.kind[id].load(Relaxed) as usize]);
                    }
                }
            }
            eprintln!("  {pending} accepted tasks neither ran nor were dropped");
            for (name, p) in [("round pool", r.pool), ("default pool", bg_default_pool())] {
                // SAFETY: a C struct of integers: all zeros is a valid value.
                let mut st: bg_stats = unsafe { std::mem::zeroed() };
                if bg_pool_stats(p, &mut st) == BG_OK {
                    eprintln!(
                        "  {name}: threads {} queued {} running {} completed {} failed {} cancelled {}",
                        st.threads, st.queued, st.running, st.completed, st.failed, st.cancelled
                    );
                }
            }
            // _exit: a normal exit would drain the default pool, which may be what hangs.
            // SAFETY: ends the process at once; nothing here needs cleaning up.
            unsafe { libc::_exit(101) };
        }
    })
}

fn round(seed: u64) {
    let mut rng = Rng::new(seed);
    // SAFETY: a C struct of integers, pointers and nullable function pointers: all zeros is valid.
    let mut o: bg_pool_options = unsafe { std::mem::zeroed() };
    bg_pool_options_init(&mut o);
    o.threads = 1 + rng.below(4) as usize;
    o.max_queued = [0, 0, 16, 256][rng.below(4) as usize];
    let mut pool = null_mut();
    assert_eq!(bg_pool_new(&o, &mut pool), BG_OK);
    let r = Arc::new(Round::new(seed, pool));
    assert_eq!(bg_pool_set_error_handler(pool, Some(count_failure), Arc::as_ptr(&r) as *mut c_void), BG_OK);
    let (done_tx, done_rx) = mpsc::channel();
    let dog = watchdog(Arc::clone(&r), done_rx);

    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let seed = rng.next();
                let r = &*r;
                s.spawn(move || producer(r, seed))
            })
            .collect();
        let (rs, cs) = (rng.next(), rng.next());
        let (r, stop) = (&*r, &stop);
        let resize = s.spawn(move || resizer(r, rs, stop));
        let close = s.spawn(move || closer(r, cs));
        for p in producers {
            p.join().unwrap();
        }
        close.join().unwrap();
        stop.store(true, Relaxed);
        resize.join().unwrap();
    });
    // Whatever the closer did (a drain or a cancel, maybe timed out), this
    // ends the pool: a drain after a cancel keeps cancelling.
    r.phase.store(1, Relaxed);
    assert_eq!(bg_pool_shutdown(pool, 0, FOREVER), BG_OK);
    r.phase.store(2, Relaxed);
    // SAFETY: as in the watchdog.
    let mut st: bg_stats = unsafe { std::mem::zeroed() };
    assert_eq!(bg_pool_stats(pool, &mut st), BG_OK);
    assert_eq!(bg_pool_free(pool), BG_OK);
    done_tx.send(()).unwrap();
    dog.join().unwrap();

    let n = r.next_id.load(Relaxed);
    for id in 0..n {
        let (fate, ran, dropped) = (r.fate[id].load(Relaxed), r.ran(id), r.dropped(id));
        let ok = match fate {
            ACCEPTED => ran + dropped == 1,
            REFUSED => ran + dropped == 0,
            UNUSED => false,
            _ => unreachable!(),
        };
        if !ok {
            r.violation(format!(
                "task {id} ({}): fate {fate} but ran {ran} times and was dropped {dropped} times",
                KIND_NAMES[r.kind[id].load(Relaxed) as usize]
            ));
        }
    }
    let (ff, reported) = (r.ff_failed.load(Relaxed), r.reported.load(Relaxed));
    if ff != reported {
        r.violation(format!("{ff} fire-and-forget tasks failed but the error handler saw {reported}"));
    }
    if st.queued != 0 || st.threads != 0 {
        r.violation(format!("after shutdown: {} queued, {} threads", st.queued, st.threads));
    }
    let v = r.violations.lock().unwrap();
    assert!(v.is_empty(), "round with seed {seed} ({n} tasks):\n  {}", v.join("\n  "));
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

fn vm_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn stress_rounds() {
    let soak = env_u64("BG_SOAK_SECS");
    let budget = Duration::from_secs(soak.unwrap_or(3));
    let max_rounds = env_u64("BG_STRESS_ROUNDS").map(|n| n as usize);
    let min_rounds = max_rounds.unwrap_or(WARM_ROUNDS + 3);
    let base = env_u64("BG_STRESS_SEED").unwrap_or(0x5eed);
    let start = Instant::now();
    let (mut heap_base, mut rss_base) = (None, 0);
    let mut rounds = 0;
    let covered = || SEEN.iter().all(|n| n.load(Relaxed) > 0);
    while max_rounds.map_or(true, |m| rounds < m)
        && (rounds < min_rounds || start.elapsed() < budget || !covered() && start.elapsed() < COVERAGE_LIMIT)
    {
        round(base + rounds as u64);
        rounds += 1;
        let live = LIVE.load(Relaxed);
        if rounds == WARM_ROUNDS {
            heap_base = Some(live);
            rss_base = vm_rss_kb();
        } else if let Some(b) = heap_base {
            assert!(
                live - b <= HEAP_SLACK,
                "live heap grew by {} bytes over {} rounds (seed {})",
                live - b,
                rounds - WARM_ROUNDS,
                base + rounds as u64 - 1
            );
        }
        if soak.is_some() && rounds % 100 == 0 {
            eprintln!("stress: {rounds} rounds, {:?}, live heap {live} B, VmRSS {} kB", start.elapsed(), vm_rss_kb());
        }
    }
    if heap_base.is_some() {
        let rss = vm_rss_kb();
        assert!(rss <= rss_base + RSS_SLACK_KB, "VmRSS grew from {rss_base} kB to {rss} kB");
    }
    eprintln!(
        "stress: {rounds} rounds in {:?}; live heap {} B (baseline {:?}), VmRSS {} kB",
        start.elapsed(),
        LIVE.load(Relaxed),
        heap_base,
        vm_rss_kb()
    );
    for (name, n) in EVENTS.iter().zip(&SEEN) {
        eprintln!("stress:   {name}: {}", n.load(Relaxed));
    }
    if max_rounds.is_none() {
        assert!(covered(), "some paths were never taken in {COVERAGE_LIMIT:?} (counts above)");
    }
}
