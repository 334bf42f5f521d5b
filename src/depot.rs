//! Where handle slabs (`slab.rs`) come from, and where they go when freed.
//!
//! Slabs used to come from malloc, 16 KiB aligned to 16 KiB. glibc serves
//! that from a 32 KiB chunk, under the arena lock that workers freeing
//! queue blocks take too. A million handles grew the heap by 122 MiB for
//! 61 MiB of slabs, and that memory was never returned (measured with
//! `mallinfo2` and RSS; bench/README.md). So slabs come from 1 MiB regions
//! mapped here, and a freed slab goes on a free list, its pages still
//! resident, for the next thread that needs one: a burst after a burst costs
//! no page faults.
//!
//! # Giving memory back
//!
//! `low` is the fewest slabs the free list held since the last trim: that
//! many were not needed in the interval. A worker about to park calls
//! [`trim`]; once per `INTERVAL` it returns that surplus to the system with
//! `MADV_DONTNEED` (the pages go, the address range stays ours and reads
//! back as zeroes), at most `STEP` slabs at a time so that no worker spends
//! long in the kernel. While resident free slabs remain, one parking worker
//! sleeps with a deadline instead of forever, so the memory of a burst goes
//! back about a second after the pools go quiet, with no thread of our own.
//! If slabs come back while every worker is already parked (a thread
//! releasing the handles of a finished burst), `give` wakes one so that it
//! parks again and takes up the watch. With no pool at all, nothing is
//! given back until there is one.
//!
//! Regions are never unmapped: address space is retained at the peak, as
//! malloc retains its heap.
//!
//! After fork() a child starts with an empty depot: a parent thread may have
//! been in the middle of changing it. What the parent's lists held stays
//! mapped in the child, unused.

use std::alloc::{handle_alloc_error, Layout};

// Plain std atomics: like fork.rs, not part of the loom-modelled protocols.
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fork::{self, GenGuard, GenLock};
use crate::sync::now_ns;

pub(crate) const SLAB_BYTES: usize = 16 * 1024;
const REGION_BYTES: usize = 1 << 20;
/// How long a surplus must go unused before it is given back.
const INTERVAL_NS: u64 = 1_000_000_000;
/// Slabs given back per step (4 MiB), and the pause between steps.
const STEP: usize = 256;
const STEP_GAP_NS: u64 = 10_000_000;

struct Depot {
    /// The fork generation these lists belong to.
    generation: u32,
    /// Freed slabs whose pages are resident, most recently freed last.
    hot: Vec<usize>,
    /// Freed slabs whose pages were given back.
    clean: Vec<usize>,
    /// The part of the newest region not handed out yet.
    carve: usize,
    carve_end: usize,
    /// Fewest entries `hot` held since the last trim.
    low: usize,
    next_trim: u64,
    /// The parked worker due to call `trim` again at `next_trim` (0: none).
    armed: usize,
    /// Until when `give` will not wake a worker again.
    nudged_until: u64,
}

static DEPOT: GenLock<Depot> = GenLock::new(Depot::new(0));
/// `hot.len()` as of the last change, readable without the lock: a worker
/// parking in a process with no freed slabs (fire-and-forget work only)
/// does not take the lock at all.
static HOT: AtomicUsize = AtomicUsize::new(0);

fn lock() -> GenGuard<'static, Depot> {
    let mut d = DEPOT.lock();
    let g = fork::generation();
    if d.generation != g {
        // The parent's lists may be half updated: leave them, unread.
        std::mem::forget(std::mem::replace(&mut *d, Depot::new(g)));
    }
    d
}

/// A slab: `SLAB_BYTES` of writable memory aligned to `SLAB_BYTES`, contents undefined.
pub(crate) fn take() -> *mut u8 {
    let mut d = lock();
    let s = d.take();
    HOT.store(d.hot.len(), Ordering::Relaxed);
    s as *mut u8
}

/// Takes back a slab from `take` that nothing uses any more.
pub(crate) fn give(slab: *mut u8) {
    let now = now_ns(); // read before the lock, not while others spin on it
    let nudge = {
        let mut d = lock();
        let nudge = d.give(slab as usize, now);
        HOT.store(d.hot.len(), Ordering::Relaxed);
        nudge
    };
    if nudge {
        crate::registry::nudge_a_parked_worker();
    }
}

/// Called by a worker about to park with nothing to do, at time `now`;
/// `worker` identifies it (non-zero). Gives back what went unused for an
/// interval (see the module docs). Returns when this worker should wake to
/// call it again, if it should.
pub(crate) fn trim(worker: usize, now: u64) -> Option<u64> {
    // Nothing resident to give back or to watch (a stale zero only delays
    // the give-back to this worker's next park, or another's).
    if HOT.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let (mut batch, wake) = {
        let mut d = lock();
        let plan = d.plan_trim(worker, now);
        HOT.store(d.hot.len(), Ordering::Relaxed);
        plan
    };
    if !batch.is_empty() {
        release(&mut batch);
        lock().clean.extend(batch);
    }
    wake
}

impl Depot {
    const fn new(generation: u32) -> Depot {
        Depot {
            generation,
            hot: Vec::new(),
            clean: Vec::new(),
            carve: 0,
            carve_end: 0,
            low: 0,
            next_trim: 0,
            armed: 0,
            nudged_until: 0,
        }
    }

    fn take(&mut self) -> usize {
        if let Some(s) = self.hot.pop() {
            self.low = self.low.min(self.hot.len());
            return s;
        }
        if let Some(s) = self.clean.pop() {
            return s;
        }
        if self.carve == self.carve_end {
            (self.carve, self.carve_end) = map_region();
        }
        self.carve += SLAB_BYTES;
        self.carve - SLAB_BYTES
    }

    /// Puts a freed slab on `hot`. True if no worker is keeping the clock
    /// (all were parked before there was anything to watch, or the one that
    /// was is gone): then one must be woken to park again and take it up, at
    /// most once an interval.
    fn give(&mut self, slab: usize, now: u64) -> bool {
        self.hot.push(slab);
        let unwatched = self.armed == 0 || now >= self.next_trim;
        if unwatched && now >= self.nudged_until {
            self.nudged_until = now + INTERVAL_NS;
            return true;
        }
        false
    }

    /// Takes off `hot` the slabs to give back now, and says when the caller
    /// should come back (if it is the worker to do so).
    fn plan_trim(&mut self, worker: usize, now: u64) -> (Vec<usize>, Option<u64>) {
        let mut batch = Vec::new();
        // Also: the armed worker, if any, is overdue.
        let due = now >= self.next_trim;
        if due {
            let n = self.low.min(STEP);
            // The bottom of the stack holds the slabs freed longest ago.
            batch.extend(self.hot.drain(..n));
            self.low -= n;
            if self.low == 0 {
                self.low = self.hot.len();
                self.next_trim = now + INTERVAL_NS;
            } else {
                self.next_trim = now + STEP_GAP_NS;
            }
        }
        // One parked worker at a time keeps the clock. Woken early by work,
        // it keeps the role when it parks again; if it is gone (its pool shut
        // down) or stays busy past its time, the next worker to park takes over.
        let arm = !self.hot.is_empty() && (worker == self.armed || self.armed == 0 || due);
        if arm {
            self.armed = worker;
        } else if self.hot.is_empty() && worker == self.armed {
            self.armed = 0;
        }
        (batch, arm.then_some(self.next_trim))
    }
}

/// Maps a region and returns its slab-aligned part.
fn map_region() -> (usize, usize) {
    let len = REGION_BYTES + SLAB_BYTES;
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing touches no existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        handle_alloc_error(Layout::from_size_align(len, SLAB_BYTES).unwrap());
    }
    let start = (p as usize).next_multiple_of(SLAB_BYTES);
    (start, start + REGION_BYTES)
}

/// Gives the pages of these free slabs back to the system, one call per
/// run of adjacent slabs.
fn release(slabs: &mut [usize]) {
    slabs.sort_unstable();
    let mut i = 0;
    while i < slabs.len() {
        let mut j = i + 1;
        while j < slabs.len() && slabs[j] == slabs[j - 1] + SLAB_BYTES {
            j += 1;
        }
        // SAFETY: these slabs are free (on no list, no slot handed out), so
        // nothing reads or writes them while their pages go; the range stays
        // mapped, and reads back as zeroes when `take` hands one out again.
        unsafe { libc::madvise(slabs[i] as *mut libc::c_void, (j - i) * SLAB_BYTES, libc::MADV_DONTNEED) };
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = INTERVAL_NS;

    #[test]
    fn slabs_are_aligned_distinct_and_reused_most_recent_first() {
        let mut d = Depot::new(0);
        let slabs: Vec<usize> = (0..100).map(|_| d.take()).collect();
        let mut sorted = slabs.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), slabs.len());
        for &s in &slabs {
            assert_eq!(s % SLAB_BYTES, 0);
            // SAFETY: a slab is SLAB_BYTES of writable memory.
            unsafe { std::ptr::write_bytes(s as *mut u8, 0xab, SLAB_BYTES) };
        }
        for &s in &slabs {
            d.give(s, 0);
        }
        assert_eq!(d.take(), slabs[99]);
    }

    #[test]
    fn a_surplus_unused_for_an_interval_goes_back_in_steps() {
        let mut d = Depot::new(0);
        let slabs: Vec<usize> = (0..STEP + 10).map(|_| d.take()).collect();
        d.hot.extend(&slabs);
        // First look: the surplus is only now seen; nothing goes yet, and
        // this worker is to come back in an interval.
        assert_eq!(d.plan_trim(1, 10 * S), (vec![], Some(11 * S)));
        // Another worker parking meanwhile is not armed; the armed one,
        // parking again after work woke it early, still is.
        assert_eq!(d.plan_trim(2, 10 * S + 1).1, None);
        assert_eq!(d.plan_trim(1, 10 * S + 2).1, Some(11 * S));
        // Nothing was taken in the interval: all of it goes, STEP at a time.
        let (first, again) = d.plan_trim(1, 11 * S);
        assert_eq!(first, slabs[..STEP]);
        assert_eq!(again, Some(11 * S + STEP_GAP_NS));
        let (second, again) = d.plan_trim(1, 11 * S + STEP_GAP_NS);
        assert_eq!(second, slabs[STEP..]);
        assert_eq!(again, None, "nothing resident is left to watch");
        assert!(d.hot.is_empty());
    }

    #[test]
    fn a_slab_given_back_with_nobody_watching_wakes_one_worker_an_interval() {
        let mut d = Depot::new(0);
        let [a, b, c, e] = [d.take(), d.take(), d.take(), d.take()];
        assert!(d.give(a, 10 * S), "every worker parked before there was anything to watch");
        assert!(!d.give(b, 10 * S + 1), "one nudge an interval");
        // The nudged worker parks again and takes the watch: no more nudges.
        assert_eq!(d.plan_trim(7, 10 * S + 2).1, Some(11 * S + 2));
        assert!(!d.give(c, 11 * S));
        // Its watch lapsed (its pool shut down): the next give wakes another.
        assert!(d.give(e, 11 * S + 3));
    }

    #[test]
    fn slabs_in_use_during_the_interval_stay() {
        let mut d = Depot::new(0);
        let slabs: Vec<usize> = (0..20).map(|_| d.take()).collect();
        d.hot.extend(&slabs);
        d.plan_trim(1, 10 * S);
        // A burst takes 15 of the 20 and gives them back: only 5 were surplus.
        let burst: Vec<usize> = (0..15).map(|_| d.take()).collect();
        d.hot.extend(&burst);
        let (gone, _) = d.plan_trim(1, 11 * S);
        assert_eq!(gone.len(), 5);
        assert_eq!(d.hot.len(), 15);
    }

    #[test]
    fn a_given_back_slab_reads_as_zeroes_and_is_handed_out_again() {
        let mut d = Depot::new(0);
        let s = d.take();
        // SAFETY: a slab is SLAB_BYTES of writable memory.
        unsafe { std::ptr::write_bytes(s as *mut u8, 0xab, SLAB_BYTES) };
        d.hot.push(s);
        d.plan_trim(1, 10 * S);
        let (mut gone, _) = d.plan_trim(1, 11 * S);
        assert_eq!(gone, [s]);
        release(&mut gone);
        d.clean.extend(gone);
        assert_eq!(d.take(), s);
        // SAFETY: as above; the range is still mapped.
        assert!(unsafe { std::slice::from_raw_parts(s as *const u8, SLAB_BYTES) }.iter().all(|&b| b == 0));
    }
}
