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
//! The depot knows nothing of pools or workers: the scheduler calls `trim`,
//! and registers how to wake one of its parked workers (`set_wake_one`), so
//! that memory never drives the scheduler through its types or its locks.
//!
//! Fire-and-forget jobs do not use slabs: they live in the queues' blocks,
//! which malloc serves and which stay resident when freed. A worker that
//! ran a burst reports it when it parks ([`trim`]'s `ran`), and the worker
//! keeping the clock calls `malloc_trim` once the pools have been quiet for
//! an interval after the last burst.
//!
//! Regions are never unmapped: address space is retained at the peak, as
//! malloc retains its heap.
//!
//! After fork() a child starts with an empty depot: a parent thread may have
//! been in the middle of changing it. What the parent's lists held stays
//! mapped in the child, unused.

use std::alloc::{handle_alloc_error, Layout};

// Plain std atomics: like fork.rs, not part of the loom-modelled protocols.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::fork::{self, GenGuard, GenLock};
use crate::sync::now_ns;

pub(crate) const SLAB_BYTES: usize = 16 * 1024;
const REGION_BYTES: usize = 1 << 20;
/// How long a surplus must go unused before it is given back.
const INTERVAL_NS: u64 = 1_000_000_000;
/// Slabs given back per step (4 MiB), and the pause between steps.
const STEP: usize = 256;
const STEP_GAP_NS: u64 = 10_000_000;
/// Jobs one worker runs without parking that count as a burst: its queue
/// was at least that deep, some 16 blocks of malloc's heap (see `trim_heap`).
const HEAP_BURST: u64 = 1024;

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
    /// A worker ran a burst of jobs since the last heap trim: queue blocks
    /// may sit free on malloc's heap.
    heap_dirty: bool,
    /// When the heap is due its trim: an interval after the last burst.
    heap_due: u64,
}

static DEPOT: GenLock<Depot> = GenLock::new(Depot::new(0));
/// `hot.len()` as of the last change, readable without the lock: a worker
/// parking in a process with no freed slabs (fire-and-forget work only)
/// does not take the lock at all.
static HOT: AtomicUsize = AtomicUsize::new(0);
/// `heap_dirty` as of the last change, readable without the lock.
static HEAP: AtomicBool = AtomicBool::new(false);

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
        if let Some(wake) = WAKE_ONE.get() {
            wake();
        }
    }
}

/// How the depot gets a parked worker woken (to take up the watch, see
/// `give`) without knowing what a pool or a worker is: the scheduler
/// registers it when it creates its first pool. Before that there is no
/// worker to wake.
static WAKE_ONE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Registers `wake`: it wakes one parked worker of some pool for no work,
/// so that it parks again and calls `trim`. Only the first call counts.
pub(crate) fn set_wake_one(wake: fn()) {
    let _ = WAKE_ONE.set(wake);
}

/// Called by a worker about to park with nothing to do, at time `now`;
/// `worker` identifies it (non-zero), `ran` is how many jobs it ran since it
/// last parked. Gives back what went unused for an interval (see the module
/// docs). Returns when this worker should wake to call it again, if it should.
pub(crate) fn trim(worker: usize, now: u64, ran: u64) -> Option<u64> {
    let burst = ran >= HEAP_BURST;
    // Nothing resident to give back or to watch (a stale zero only delays
    // the give-back to this worker's next park, or another's).
    if !burst && HOT.load(Ordering::Relaxed) == 0 && !HEAP.load(Ordering::Relaxed) {
        return None;
    }
    let plan = {
        let mut d = lock();
        if burst {
            d.heap_dirty = true;
            d.heap_due = now + INTERVAL_NS;
        }
        let plan = d.plan_trim(worker, now, burst);
        HOT.store(d.hot.len(), Ordering::Relaxed);
        HEAP.store(d.heap_dirty, Ordering::Relaxed);
        plan
    };
    let Plan { mut slabs, heap, wake } = plan;
    if heap {
        trim_heap();
    }
    if !slabs.is_empty() {
        release(&mut slabs);
        lock().clean.extend(slabs);
    }
    wake
}

/// What a parking worker is to do now, and when to come back.
#[derive(Debug, PartialEq)]
struct Plan {
    /// Free slabs whose pages go back now.
    slabs: Vec<usize>,
    /// Whether to give back malloc's free pages now.
    heap: bool,
    /// When this worker should call `trim` again, if it keeps the watch.
    wake: Option<u64>,
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
            heap_dirty: false,
            heap_due: 0,
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

    /// Takes off `hot` the slabs to give back now, says whether malloc's
    /// heap is due a trim, and when the caller should come back (if it is
    /// the worker to do so). `burst`: the caller just reported one.
    fn plan_trim(&mut self, worker: usize, now: u64, burst: bool) -> Plan {
        let mut slabs = Vec::new();
        // Also: the armed worker, if any, is overdue.
        let due = now >= self.next_trim;
        if due {
            let n = self.low.min(STEP);
            // The bottom of the stack holds the slabs freed longest ago.
            slabs.extend(self.hot.drain(..n));
            self.low -= n;
            if self.low == 0 {
                self.low = self.hot.len();
                self.next_trim = now + INTERVAL_NS;
            } else {
                self.next_trim = now + STEP_GAP_NS;
            }
        }
        let heap = self.heap_dirty && now >= self.heap_due;
        if heap {
            self.heap_dirty = false;
        }
        // One parked worker at a time keeps the clock. Woken early by work,
        // it keeps the role when it parks again; if it is gone (its pool shut
        // down) or stays busy past its time, the next worker to park takes
        // over. A worker that ran a burst takes it: it parks last.
        let watching = !self.hot.is_empty() || self.heap_dirty;
        let mine = worker == self.armed || self.armed == 0;
        let arm = !self.hot.is_empty() && (mine || due) || self.heap_dirty && (mine || burst);
        if arm {
            self.armed = worker;
        } else if !watching && worker == self.armed {
            self.armed = 0;
        }
        let slab_wake = (!self.hot.is_empty()).then_some(self.next_trim);
        let heap_wake = self.heap_dirty.then_some(self.heap_due);
        let wake = slab_wake.into_iter().chain(heap_wake).min();
        Plan { slabs, heap, wake: wake.filter(|_| arm) }
    }
}

/// Gives malloc's free pages back to the system. Fire-and-forget jobs live
/// in the queues' blocks, which malloc serves: after a burst they are free
/// but stay resident below the queue's live block (10 M queued jobs left
/// 385 MB), and only `malloc_trim` returns them. It walks malloc's arenas
/// under their locks, so it runs once after a burst, when the pools have
/// been quiet for an interval, never on the submit or run path.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns pages of chunks malloc holds free;
    // it takes malloc's own locks and touches no memory of ours.
    unsafe {
        libc::malloc_trim(0);
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
mod tests;
