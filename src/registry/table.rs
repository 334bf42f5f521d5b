//! The process-wide table of pools: ids, the pool with an id (a handle
//! names its pool by id, so a pool can be freed before its handles), and
//! waking some pool's parked worker for the depot.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};

use super::Registry;
use crate::error::{self, Failure};
use crate::fork::GenLock;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static POOLS: GenLock<Vec<(u64, Weak<Registry>)>> = GenLock::new(Vec::new());

/// Reports a failure to the error handler of pool `id`, or to stderr if that
/// pool is gone. Used when the last reference to a failed handle is released.
pub(crate) fn report_by_id(id: u64, f: Failure) {
    match by_id(id) {
        Some(r) => r.report_failure(f),
        None => error::default_report("(gone)", &f),
    }
}

/// The pool with this id, while it exists.
pub(crate) fn by_id(id: u64) -> Option<Arc<Registry>> {
    POOLS.lock().iter().find(|(i, _)| *i == id).and_then(|(_, w)| w.upgrade())
}

/// Every pool that exists now (for the monitor, `monitor.rs`); the
/// caller drops them after the lock is released.
pub(crate) fn live_pools() -> Vec<Arc<Registry>> {
    POOLS.lock().iter().filter_map(|(_, w)| w.upgrade()).collect()
}

/// Wakes one parked worker of some pool for no work: it parks again, and
/// parking is when a worker sees to freed handle memory (`depot.rs`).
pub(crate) fn nudge_a_parked_worker() {
    // Upgraded under the lock, dropped after it: dropping a pool's last
    // reference takes the lock.
    let pools: Vec<Arc<Registry>> = POOLS.lock().iter().filter_map(|(_, w)| w.upgrade()).collect();
    if let Some(r) = pools.iter().find(|r| !r.is_forked() && r.sleep.counts().1 > 0) {
        r.notify_new_work();
    }
}

/// A fresh pool id (never 0, never reused).
pub(super) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub(super) fn add(reg: &Arc<Registry>) {
    POOLS.lock().push((reg.id, Arc::downgrade(reg)));
}

/// Takes pool `id` out of the table; true if it was the last pool, whose
/// going freed the table's storage too.
pub(super) fn remove(id: u64) -> bool {
    let mut pools = POOLS.lock();
    pools.retain(|(i, _)| *i != id);
    pools.is_empty() && std::mem::take(&mut *pools).capacity() != 0
}
