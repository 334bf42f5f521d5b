//! A pool's statistics: per-slot counters written without RMW by the thread
//! in the slot, summed into a snapshot on demand.
//!
//! Task timing (queue wait and run time, `observe.rs`) is kept per slot the
//! same way: totals and a log2 histogram, written only for timed tasks.

use crate::registry::Registry;
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Buckets of a timing histogram: bucket `i` counts durations in
/// `[2^i, 2^(i+1))` ns (bucket 0 also counts 0 ns); the last one counts
/// everything from `2^39` ns (about 9 minutes) up.
pub(crate) const BUCKETS: usize = 40;

/// Counters owned by one slot: written only by the thread in the slot
/// (plain load+store, no RMW), summed by `stats`. `repr(C)` keeps the
/// counters every task writes together at the front.
#[derive(Default)]
#[repr(C)]
pub(crate) struct SlotStats {
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) pushed: AtomicU64,
    pub(crate) popped: AtomicU64,
    /// Popped jobs that ended (or went back): `popped - ended` are between
    /// their take and their end (`control.rs`, wait_idle).
    pub(crate) ended: AtomicU64,
    /// Tasks taken after their start deadline (`deadline.rs`).
    pub(crate) expired: AtomicU64,
    /// Tasks this worker is inside: more than one while a waiting task
    /// helps by running others on top of itself.
    pub(crate) depth: AtomicU32,
    /// A spare's CPU time when it took the job it runs (0: none): the
    /// monitor counts a spare blocked at first sight from it (`monitor.rs`).
    pub(crate) spare_task_cpu_ns: AtomicU64,
    /// The monitor counted this thread blocked in its task (in `blocked`):
    /// a thread whose task returns, or that opens a blocking hint, takes
    /// itself off that count at once. `bg_stats.blocked` counts these.
    pub(crate) counted_blocked: AtomicBool,
    /// Open `bg_blocking_begin` calls on this thread (`blocking/hint.rs`).
    pub(crate) hint_depth: AtomicU32,
    /// The task depth (`depth`) of the task that opened the outermost one.
    pub(crate) hint_task_depth: AtomicU32,
    pub(crate) timing: SlotTiming,
}

/// Timing of the timed tasks a slot ran; written only by its thread.
pub(crate) struct SlotTiming {
    timed: AtomicU64,
    wait_ns: AtomicU64,
    run_ns: AtomicU64,
    wait_hist: [AtomicU64; BUCKETS],
    run_hist: [AtomicU64; BUCKETS],
}

pub(crate) fn bump(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

fn add(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

fn bucket(ns: u64) -> usize {
    ((63 - (ns | 1).leading_zeros()) as usize).min(BUCKETS - 1)
}

impl Default for SlotTiming {
    fn default() -> Self {
        let zero = || std::array::from_fn(|_| AtomicU64::new(0));
        SlotTiming {
            timed: AtomicU64::new(0),
            wait_ns: AtomicU64::new(0),
            run_ns: AtomicU64::new(0),
            wait_hist: zero(),
            run_hist: zero(),
        }
    }
}

impl SlotTiming {
    /// Records one task that waited `wait` ns in the queue and ran `run` ns.
    pub(crate) fn record(&self, wait: u64, run: u64) {
        bump(&self.timed);
        add(&self.wait_ns, wait);
        add(&self.run_ns, run);
        bump(&self.wait_hist[bucket(wait)]);
        bump(&self.run_hist[bucket(run)]);
    }
}

/// A log2 histogram of durations (see `BUCKETS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Histogram(pub [u64; BUCKETS]);

impl Default for Histogram {
    fn default() -> Self {
        Histogram([0; BUCKETS])
    }
}

impl Histogram {
    /// An upper bound for the `q`-quantile (0 < q <= 1), within a factor of
    /// two: the upper end of the bucket it falls in; 0 if empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let total: u64 = self.0.iter().sum();
        if total == 0 {
            return 0;
        }
        let want = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in self.0.iter().enumerate() {
            seen += n;
            if seen >= want {
                return 1u64 << (i + 1);
            }
        }
        1u64 << BUCKETS
    }
}

/// A snapshot of a pool's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub threads: u64,
    pub queued: u64,
    /// Tasks running (a worker helping while it waits runs two or more).
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub steals: u64,
    /// Tasks that never ran because no worker took them by their start deadline.
    pub expired: u64,
    /// 1 while the pool is paused.
    pub paused: u64,
    /// Workers inside a task (running it, or waiting inside it).
    pub busy: u64,
    /// Tasks timed (see `observe.rs`), and their total queue wait and run time.
    pub timed: u64,
    pub wait_ns: u64,
    pub run_ns: u64,
    pub wait_hist: Histogram,
    pub run_hist: Histogram,
    /// Threads the monitor last saw blocked inside a task (`monitor.rs`).
    pub blocked: u64,
    /// Spare threads running for blocked ones (`blocking.rs`).
    pub spares: u64,
}

impl Registry {
    pub fn stats(&self) -> Stats {
        let mut s = Stats { threads: self.target() as u64, ..Stats::default() };
        let (mut pushed, mut popped, mut counted_blocked) = (0u64, 0u64, 0u64);
        for idx in 0..self.slots_hi() {
            let st = &self.slot(idx).stats;
            s.completed += st.completed.load(Ordering::Relaxed);
            s.failed += st.failed.load(Ordering::Relaxed);
            s.cancelled += st.cancelled.load(Ordering::Relaxed);
            s.steals += st.steals.load(Ordering::Relaxed);
            s.expired += st.expired.load(Ordering::Relaxed);
            let depth = st.depth.load(Ordering::Relaxed) as u64;
            s.running += depth;
            s.busy += (depth > 0) as u64;
            counted_blocked += st.counted_blocked.load(Ordering::Relaxed) as u64;
            pushed = pushed.wrapping_add(st.pushed.load(Ordering::Relaxed));
            popped = popped.wrapping_add(st.popped.load(Ordering::Relaxed));
            let t = &st.timing;
            s.timed += t.timed.load(Ordering::Relaxed);
            s.wait_ns = s.wait_ns.wrapping_add(t.wait_ns.load(Ordering::Relaxed));
            s.run_ns = s.run_ns.wrapping_add(t.run_ns.load(Ordering::Relaxed));
            for b in 0..BUCKETS {
                s.wait_hist.0[b] += t.wait_hist[b].load(Ordering::Relaxed);
                s.run_hist.0[b] += t.run_hist[b].load(Ordering::Relaxed);
            }
        }
        s.paused = self.life.is_paused() as u64;
        // Each thread the monitor counted clears its own flag as its task
        // returns: the flags, not the monitor's last total, are current.
        s.blocked = counted_blocked + self.blocking.hinted.load(Ordering::Relaxed) as u64;
        s.spares = self.blocking.spares.load(Ordering::Relaxed) as u64;
        s.completed += self.outside[0].load(Ordering::Relaxed);
        s.failed += self.outside[1].load(Ordering::Relaxed);
        s.cancelled += self.outside[2].load(Ordering::Relaxed);
        let swept = self.swept.load(Ordering::Relaxed);
        s.cancelled += swept;
        if self.is_shut_down() && self.live() == 0 {
            s.threads = 0;
        }
        let injected = self.life.injected_count();
        let inflow = injected.wrapping_add(self.requeued.load(Ordering::Relaxed)).wrapping_add(pushed);
        let outflow = popped.wrapping_add(swept);
        // Counters are read one by one while workers run: clamp the skew.
        let mask = crate::lifecycle::COUNT_MASK;
        let q = inflow.wrapping_sub(outflow) & mask;
        s.queued = if q > mask / 2 { 0 } else { q };
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 1);
        assert_eq!(bucket(1023), 9);
        assert_eq!(bucket(1024), 10);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), 0);
        h.0[bucket(1000)] = 99; // [512, 1024)
        h.0[bucket(1_000_000)] = 1; // [2^19, 2^20)
        assert_eq!(h.quantile(0.5), 1024);
        assert_eq!(h.quantile(0.99), 1024);
        assert_eq!(h.quantile(1.0), 1 << 20);
    }
}
