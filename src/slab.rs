//! Memory for task handles: slabs carved by the allocating thread.
//!
//! A handle is one small allocation made by the submitting thread and freed
//! by whichever thread drops the last reference. Through malloc that costs
//! ~300 instructions a task (callgrind) once a burst outruns the per-thread
//! cache. Here each thread carves handles off a 16 KiB slab aligned to its
//! size, so a handle finds its slab by masking its address: no header per
//! handle, and no atomic on allocation. Slabs come from `depot.rs`.
//!
//! A slab's `live` count starts at its number of slots. Every free takes one
//! off; when the carving thread moves on (slab full, or the thread exits) it
//! takes off the slots it never handed out. Whoever brings it to zero gives
//! the slab back, so a slab lives as long as its longest-lived handle.

use std::cell::Cell;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::depot::{self, SLAB_BYTES};

const HEADER_BYTES: usize = 64;

struct Header {
    live: AtomicUsize,
}

/// Bytes per slot for `T`, a multiple of its alignment.
const fn stride<T>() -> usize {
    let a = std::mem::align_of::<T>();
    std::mem::size_of::<T>().div_ceil(a) * a
}

const fn slots<T>() -> usize {
    (SLAB_BYTES - HEADER_BYTES) / stride::<T>()
}

/// The thread's slab being carved: its base and the next free slot.
struct Carver {
    slab: Cell<*mut u8>,
    next: Cell<usize>,
    slots: Cell<usize>,
}

impl Drop for Carver {
    fn drop(&mut self) {
        let slab = self.slab.get();
        if !slab.is_null() {
            // SAFETY: the slab is live: its unhanded slots are still counted.
            unsafe { put(slab, self.slots.get() - self.next.get()) };
        }
    }
}

thread_local! {
    static CARVER: Carver = const { Carver { slab: Cell::new(std::ptr::null_mut()), next: Cell::new(0), slots: Cell::new(0) } };
}

/// A fresh slab with `count` slots accounted for.
fn new_slab(count: usize) -> *mut u8 {
    let slab = depot::take();
    // SAFETY: the slab is at least HEADER_BYTES long and suitably aligned for Header.
    unsafe { (slab as *mut Header).write(Header { live: AtomicUsize::new(count) }) };
    slab
}

/// Takes `n` slots off a slab's count, giving it back when none is left.
///
/// # Safety
/// `slab` must be a live slab holding at least `n` counted slots.
unsafe fn put(slab: *mut u8, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: the caller's promise: `slab` is live, so its header is too.
    let h = unsafe { &*(slab as *const Header) };
    if h.live.fetch_sub(n, Ordering::Release) == n {
        fence(Ordering::Acquire);
        depot::give(slab);
    }
}

/// Uninitialised memory for one `T`, from this thread's slab.
pub(crate) fn alloc_slot<T>() -> *mut T {
    debug_assert!(std::mem::align_of::<T>() <= HEADER_BYTES && slots::<T>() >= 16);
    let carved = CARVER.try_with(|c| {
        if c.slab.get().is_null() || c.next.get() == c.slots.get() {
            let old = c.slab.get();
            if !old.is_null() {
                // SAFETY: every slot of `old` has been handed out: none left to take off.
                unsafe { put(old, c.slots.get() - c.next.get()) };
            }
            c.slab.set(new_slab(slots::<T>()));
            c.next.set(0);
            c.slots.set(slots::<T>());
        }
        let i = c.next.get();
        c.next.set(i + 1);
        // SAFETY: slot i lies inside the slab, past the header.
        unsafe { c.slab.get().add(HEADER_BYTES + i * stride::<T>()) as *mut T }
    });
    // While the thread's locals are being destroyed: a slab of one slot.
    carved.unwrap_or_else(|_| {
        // SAFETY: the slab is big enough for the header and one slot.
        unsafe { new_slab(1).add(HEADER_BYTES) as *mut T }
    })
}

/// Returns a slot from `alloc_slot`. Any thread may call it.
///
/// # Safety
/// `p` must come from `alloc_slot::<T>()`, be dropped already, and be freed once.
pub(crate) unsafe fn free_slot<T>(p: *mut T) {
    // SAFETY: `p` lies in a live slab (the caller's promise) whose start is
    // SLAB_BYTES-aligned, and holds one counted slot that is freed once.
    unsafe { put((p as usize & !(SLAB_BYTES - 1)) as *mut u8, 1) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_and_slabs_are_freed_from_any_thread() {
        let ptrs: Vec<usize> = (0..10_000).map(|_| alloc_slot::<[u64; 9]>() as usize).collect();
        let mut sorted = ptrs.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ptrs.len());
        for &p in &ptrs {
            assert_eq!(p % std::mem::align_of::<[u64; 9]>(), 0);
            assert!(p % SLAB_BYTES >= HEADER_BYTES);
        }
        // Free them on another thread, as a worker dropping the last reference would.
        std::thread::spawn(move || {
            for p in ptrs {
                // SAFETY: each came from alloc_slot and is freed once.
                unsafe { free_slot(p as *mut [u64; 9]) };
            }
        })
        .join()
        .unwrap();
    }
}
