//! fork(): what a child inherits and how it goes on.
//!
//! A forked child has none of the parent's threads, so every pool created
//! before the fork is dead in the child. A `pthread_atfork` child handler
//! bumps a generation counter; pools and handles remember the generation
//! they were born in and report `Forked` instead of hanging, and the default
//! pool is rebuilt lazily on first use in the child.
//!
//! Locks that the child may need (pool creation, the pool table) are
//! [`GenLock`]s: a lock taken in an earlier generation was held by a thread
//! that does not exist in the child, so the child treats it as free.

use std::cell::UnsafeCell;
use std::sync::Once;

// Plain std atomics: fork handling is not part of the loom-modelled protocols.
use std::sync::atomic::{AtomicU32, Ordering};

static GENERATION: AtomicU32 = AtomicU32::new(0);
static REGISTER: Once = Once::new();

/// The current fork generation (0 in the original process).
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Acquire)
}

/// Runs in the forking thread just before fork(). The work-stealing deques
/// share crossbeam-epoch's global collector, built once by whichever worker
/// first needs it. Had a fork copied that build half done, the child's
/// workers would wait forever for a builder that does not exist there (seen
/// as a hung exit drain). Asking for the collector here waits the build out.
///
/// It also waits for the monitor thread to finish a tick in progress and
/// keeps it from starting one until the fork is done: a tick allocates,
/// and an allocator without fork handlers (ASan's, seen) copied while the
/// monitor held its lock hangs the child's first thread that allocates.
extern "C" fn prepare() {
    crossbeam_epoch::default_collector();
    crate::monitor::hold_for_fork();
}

extern "C" fn parent() {
    crate::monitor::release_after_fork();
}

extern "C" fn child() {
    // The monitor's hold is released by the generation change (`GenLock`).
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Installs the atfork handlers (once per process; inherited by children).
pub(crate) fn install() {
    REGISTER.call_once(|| {
        // SAFETY: `child` is a plain function touching one atomic: it is
        // async-signal-safe, as a handler that runs in a forked child must be.
        // `prepare` runs before the fork, where waiting and allocating are
        // allowed; `parent` only stores to an atomic.
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        // Built here, before this pool's workers exist, so it is never in
        // progress on one of them; `prepare` covers a fork from another thread
        // racing with this first pool.
        crossbeam_epoch::default_collector();
    });
}

/// A spin lock that a forked child may take even if a parent thread held it.
pub(crate) struct GenLock<T> {
    /// 0 = free, else 1 + generation of the holder.
    word: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialised by `word`.
unsafe impl<T: Send> Sync for GenLock<T> {}

pub(crate) struct GenGuard<'a, T> {
    lock: &'a GenLock<T>,
}

impl<T> GenLock<T> {
    pub(crate) const fn new(v: T) -> GenLock<T> {
        GenLock { word: AtomicU32::new(0), data: UnsafeCell::new(v) }
    }

    pub(crate) fn lock(&self) -> GenGuard<'_, T> {
        let mine = generation().wrapping_add(1);
        let mut spins = 0u32;
        loop {
            let cur = self.word.load(Ordering::Relaxed);
            // Free, or held in an earlier generation by a thread the child lacks.
            if cur != mine && self.word.compare_exchange_weak(cur, mine, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return GenGuard { lock: self };
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

impl GenLock<()> {
    /// Takes the lock with no guard: for a hold across calls (a fork's
    /// prepare and parent handlers). `release` ends it.
    pub(crate) fn hold(&self) {
        std::mem::forget(self.lock());
    }

    /// Ends a `hold` of this thread's.
    pub(crate) fn release(&self) {
        self.word.store(0, Ordering::Release);
    }
}

impl<T> std::ops::Deref for GenGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> std::ops::DerefMut for GenGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for GenGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.word.store(0, Ordering::Release);
    }
}
