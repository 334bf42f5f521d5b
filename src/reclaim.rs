//! What crossbeam-epoch (under crossbeam-deque's work-stealing deques)
//! keeps after the threads that used it are gone, and giving it back.
//!
//! Each thread that touches a deque registers a record with the process's
//! one epoch collector; when the thread exits, its record is only marked
//! deleted and its garbage bag queued: they are freed by a later thread
//! that pins and collects. After the last pool's workers have exited nobody
//! does, so the records of every exited worker stayed allocated for good
//! (40 blocks, 83 KB after a 20-thread pool). [`reap`] collects them.
//!
//! What stays for the life of the process (README, "Memory"): the collector
//! itself (one block, built by `fork::install`, a static that crossbeam-epoch
//! never frees), and the record and last few garbage bags of the collecting
//! handle, which the next collection frees in turn.

/// Collections per call: each frees at most 8 queued bags (one per exited
/// thread) and needs the epoch to have moved on twice since a bag was queued.
const ROUNDS: usize = 2 * crate::registry::MAX_THREADS / 8 + 8;

/// Frees the epoch records and garbage of exited threads, as far as the
/// threads still running allow (one pinned elsewhere holds the epoch back).
/// Called when the last pool is gone; costs some microseconds.
pub(crate) fn reap() {
    let handle = crossbeam_epoch::default_collector().register();
    for _ in 0..ROUNDS {
        handle.pin().flush();
    }
}
