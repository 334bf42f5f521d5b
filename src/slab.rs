//! Memory for task handles (and other one-line objects made per task, such
//! as a group member's hook): slabs carved by the allocating thread.
//!
//! A handle is one small allocation made by the submitting thread and freed
//! by whichever thread drops the last reference. Through malloc that costs
//! ~300 instructions a task (callgrind) once a burst outruns the per-thread
//! cache. Here each thread carves 64-byte lines off a 16 KiB slab aligned
//! to its size, so a slot finds its slab by masking its address: no header
//! per slot, and no atomic on allocation. Every slot is one line, whatever
//! it holds, so one slab serves every type and no two slots share a line.
//! Slabs come from `depot.rs`.
//!
//! A slab's `live` count starts at its number of slots. Every free takes one
//! off; when the carving thread moves on (slab full, or the thread exits) it
//! takes off the slots it never handed out. Whoever brings it to zero gives
//! the slab back, so a slab lives as long as its longest-lived handle.

use std::cell::Cell;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::depot::{self, SLAB_BYTES};

const HEADER_BYTES: usize = 64;
/// Bytes per slot: one cache line.
#[cfg(not(loom))]
const LINE: usize = 64;
/// Under loom a task's atomics are loom's, several times larger.
#[cfg(loom)]
const LINE: usize = 1024;
const SLOTS: usize = (SLAB_BYTES - HEADER_BYTES) / LINE;

struct Header {
    live: AtomicUsize,
}

/// Whether a `T` fits a slot (checked at compile time by `alloc_slot`).
struct Fits<T>(std::marker::PhantomData<T>);
impl<T> Fits<T> {
    const OK: () = assert!(std::mem::size_of::<T>() <= LINE && std::mem::align_of::<T>() <= LINE);
}

/// The thread's slab being carved: its base and the next free slot.
struct Carver {
    slab: Cell<*mut u8>,
    next: Cell<usize>,
}

impl Drop for Carver {
    fn drop(&mut self) {
        let slab = self.slab.get();
        if !slab.is_null() {
            // SAFETY: the slab is live: its unhanded slots are still counted.
            unsafe { put(slab, SLOTS - self.next.get()) };
        }
    }
}

thread_local! {
    static CARVER: Carver = const { Carver { slab: Cell::new(std::ptr::null_mut()), next: Cell::new(0) } };
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

/// Uninitialised memory for one `T` (at most a line), from this thread's slab.
pub(crate) fn alloc_slot<T>() -> *mut T {
    #[allow(clippy::let_unit_value)]
    let () = Fits::<T>::OK;
    let carved = CARVER.try_with(|c| {
        if c.slab.get().is_null() || c.next.get() == SLOTS {
            let old = c.slab.get();
            if !old.is_null() {
                // SAFETY: every slot of `old` has been handed out: none left to take off.
                unsafe { put(old, SLOTS - c.next.get()) };
            }
            c.slab.set(new_slab(SLOTS));
            c.next.set(0);
        }
        let i = c.next.get();
        c.next.set(i + 1);
        // SAFETY: slot i lies inside the slab, past the header.
        unsafe { c.slab.get().add(HEADER_BYTES + i * LINE) as *mut T }
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
        let ptrs: Vec<usize> = (0..10_000).map(|_| alloc_slot::<[u64; 8]>() as usize).collect();
        let mut sorted = ptrs.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ptrs.len());
        for &p in &ptrs {
            assert_eq!(p % std::mem::align_of::<[u64; 8]>(), 0);
            assert!(p % SLAB_BYTES >= HEADER_BYTES);
        }
        // Free them on another thread, as a worker dropping the last reference would.
        std::thread::spawn(move || {
            for p in ptrs {
                // SAFETY: each came from alloc_slot and is freed once.
                unsafe { free_slot(p as *mut [u64; 8]) };
            }
        })
        .join()
        .unwrap();
    }
}
