//! A pool's statistics: per-slot counters written without RMW by the thread
//! in the slot, summed into a snapshot on demand.

use crate::registry::Registry;
use crate::sync::{AtomicBool, AtomicU64, Ordering};

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
    /// Threads the monitor last saw blocked inside a task (`monitor.rs`).
    pub blocked: u64,
    /// Spare threads running for blocked ones (`blocking.rs`).
    pub spares: u64,
}

impl Registry {
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
        s.blocked = self.blocking.blocked.load(Ordering::Relaxed) as u64;
        s.spares = self.blocking.spares.load(Ordering::Relaxed) as u64;
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
