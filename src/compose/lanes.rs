//! Keyed lanes: tasks submitted with the same key run one at a time in
//! submission order, different keys in parallel.
//!
//! A busy key has a serial queue (`serial.rs`) in a sharded map of its
//! pool; an idle key has nothing. The map entry is created by the submit
//! that finds none and removed by the drain that finds the lane empty, both
//! under the shard's lock (taken before the queue's own lock), so a submit
//! never adds to a lane that is leaving the map, and two lanes for one key
//! never exist at once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::compose::serial::Queue;
use crate::compose::{ext, lock};
use crate::job::Job;
use crate::lifecycle::Work;
use crate::registry::{Registry, SubmitError};
use crate::task::Task;
use std::sync::{Mutex, MutexGuard};

/// Shards of the lane map: enough that producers of different keys rarely
/// meet on one lock.
const SHARDS: usize = 32;

pub(crate) type Shard = HashMap<u64, Arc<Queue>>;

pub(crate) struct Lanes {
    shards: Box<[Mutex<Shard>]>,
}

impl Lanes {
    pub(crate) fn new() -> Lanes {
        Lanes { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }

    pub(crate) fn lock_shard(&self, key: u64) -> MutexGuard<'_, Shard> {
        // Fibonacci hashing: sequential keys spread over the shards.
        let i = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59) as usize % SHARDS;
        lock(&self.shards[i])
    }

    /// Queues a job (of handle `task`, or null) on the lane of `key` of `reg`.
    /// On refusal the job comes back unconsumed.
    pub(crate) fn submit(reg: &Arc<Registry>, key: u64, job: Job, task: *const Task) -> Result<(), (SubmitError, Job)> {
        // One admission for the item and its lane's drain job (see serial.rs).
        let mut adm = match reg.admit(Work::Now) {
            Ok(a) => a,
            Err(e) => return Err((e, job)),
        };
        let (lane, first) = {
            let mut shard = ext(reg).lanes.lock_shard(key);
            let lane = Arc::clone(shard.entry(key).or_insert_with(|| Queue::new(Arc::clone(reg), Some(key))));
            let first = lane.push(job, task);
            (lane, first)
        };
        if first {
            lane.schedule(&mut adm, false);
        }
        Ok(())
    }

    /// Lanes in the map: one per busy key.
    #[cfg(test)]
    pub(crate) fn busy(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::compose::UserJob;
    use crate::registry::{Config, ShutdownMode};

    unsafe extern "C" fn count(arg: *mut c_void) -> c_int {
        // SAFETY: `arg` is the test's counter, alive until every task ran.
        unsafe { &*(arg as *const AtomicUsize) }.fetch_add(1, SeqCst);
        0
    }

    #[test]
    fn an_idle_key_leaves_the_lane_map() {
        let reg = Registry::new(Config { threads: 4, ..Config::default() }).unwrap();
        let ran = AtomicUsize::new(0);
        const TASKS: usize = 4_000;
        for i in 0..TASKS {
            let uj = UserJob::new(&reg, count, &ran as *const AtomicUsize as *mut c_void, None, false);
            assert!(Lanes::submit(&reg, i as u64 % 16, uj.job, uj.task).is_ok());
        }
        let give_up = Instant::now() + Duration::from_secs(60);
        while ran.load(SeqCst) < TASKS || ext(&reg).lanes.busy() != 0 {
            assert!(Instant::now() < give_up, "lanes still busy after every task ran");
            std::thread::sleep(Duration::from_millis(1));
        }
        reg.shutdown(ShutdownMode::Drain, None).unwrap();
    }
}
