//! The synchronisation primitives the protocols are written against.
//!
//! Under `--cfg loom` the atomics, mutexes and the futex come from loom, so
//! the handle state machine (`task.rs`) and the sleep protocol (`sleep.rs`)
//! are model-checked as written. crossbeam-deque is invisible to loom; the
//! model tests drive the protocols directly instead of through the deques.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// Locks a mutex, ignoring poisoning: our critical sections never leave
/// state half-updated, and a panic inside one already aborts the process.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    #[cfg(loom)]
    {
        m.lock().unwrap()
    }
}

/// A busy-wait hint. Under loom a spinning thread must hand the model's
/// scheduler to the thread it waits for, or the model never ends.
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Pads and aligns a value to 128 bytes so hot atomics written by different
/// threads do not share a cache line (two lines: adjacent-line prefetch).
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct CachePadded<T>(pub T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC, the futex deadline clock).
pub(crate) fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Deadline `timeout_ns` from now; `None` means forever (and absorbs overflow).
pub(crate) fn deadline_after(timeout_ns: u64) -> Option<u64> {
    if timeout_ns == u64::MAX {
        None
    } else {
        now_ns().checked_add(timeout_ns)
    }
}

#[cfg(not(loom))]
pub(crate) mod futex {
    //! Linux futex: block while a 32-bit word holds an expected value.
    use super::AtomicU32;

    /// Blocks while `*word == expected`, until woken or until the absolute
    /// CLOCK_MONOTONIC `deadline`. Returns false only when the deadline
    /// passed. Spurious returns happen: callers re-check their condition.
    pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<u64>) -> bool {
        let ts = deadline.map(|d| libc::timespec {
            tv_sec: (d / 1_000_000_000) as libc::time_t,
            tv_nsec: (d % 1_000_000_000) as libc::c_long,
        });
        let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `word` is a live, aligned u32 for the duration of the call;
        // FUTEX_WAIT_BITSET reads it and takes an absolute timeout (or NULL).
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                expected,
                tsp,
                std::ptr::null::<u32>(),
                libc::FUTEX_BITSET_MATCH_ANY,
            )
        };
        !(r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT))
    }

    /// Wakes up to `n` threads blocked in `wait` on `word`.
    pub(crate) fn wake(word: &AtomicU32, n: i32) {
        // SAFETY: FUTEX_WAKE only uses the address as a key; it never dereferences
        // memory on our behalf beyond validating the mapping.
        unsafe {
            libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, n);
        }
    }
}

#[cfg(loom)]
pub(crate) mod futex {
    //! A futex model for loom: one condition variable for every word. The
    //! value check and the sleep happen under the same mutex that `wake`
    //! takes, exactly the atomicity the kernel gives, so a lost wake-up shows
    //! up as a deadlock that loom reports.
    use super::{AtomicU32, Ordering};
    use loom::sync::{Condvar, Mutex};

    loom::lazy_static! {
        static ref TABLE: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
    }

    pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<u64>) -> bool {
        let guard = TABLE.0.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected {
            return true;
        }
        if deadline.is_some() {
            // Timed waits are modelled as an immediate time-out: the caller's
            // time-out path is then explored too.
            return false;
        }
        drop(TABLE.1.wait(guard).unwrap());
        true
    }

    pub(crate) fn wake(_word: &AtomicU32, _n: i32) {
        let _guard = TABLE.0.lock().unwrap();
        TABLE.1.notify_all();
    }
}
