//! Model checks of the park/wake protocol (run with `scripts/loom.sh`).
//!
//! The workers below follow `WorkerThread::run` step by step (look for
//! work, ask for the searching role, look again, sleep through
//! `Sleep::sleep` with a final re-check), with the deques replaced by a
//! counter of queued jobs that loom can see. Pushes and the re-check use
//! Relaxed accesses, weaker than the deques' own, so the protocol's
//! ordering is what keeps wake-ups from being lost: a job left queued while
//! every worker sleeps is a deadlock, which loom reports.

use std::sync::Arc;

use loom::sync::atomic::AtomicUsize;
use loom::thread;

use super::*;

/// A pool without deques: `queued` jobs wait, `taken` were started, and
/// the pool closes (as a shutdown would, with `wake_all`) once all `total`
/// jobs started, so workers that found nothing to do can leave. Every job
/// holds its worker until then, as a long task does: a queued job must get
/// a worker of its own, not wait for a busy one to come back.
struct Model {
    sleep: Sleep,
    parkers: Vec<Parker>,
    queued: AtomicUsize,
    taken: AtomicUsize,
    total: usize,
    /// Submitters hand a job to a sleeping worker when they can
    /// (`Sleep::hand_off`), and workers park taking mail.
    hand_off: bool,
}

unsafe extern "C" fn noop(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    0
}

impl Model {
    fn new(workers: usize, total: usize, hand_off: bool) -> Arc<Model> {
        Arc::new(Model {
            sleep: Sleep::new(),
            parkers: (0..workers).map(|_| Parker::default()).collect(),
            queued: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            total,
            hand_off,
        })
    }

    fn parker(&self, i: usize) -> *const Parker {
        &self.parkers[i] as *const Parker
    }

    /// A submitter: hand the job to a sleeper, or publish it, then tell the
    /// sleep state.
    fn submit(&self) {
        if self.hand_off {
            let job = Job::spawn(noop, std::ptr::null_mut(), None);
            match self.sleep.hand_off(job, &|i| self.parker(i), &|| self.queued.load(Ordering::Relaxed) == 0) {
                Ok(()) => return,
                Err(job) => job.abandon(),
            }
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.sleep.new_work(&|i| self.parker(i));
    }

    /// Counts a started job; the last one closes the pool.
    fn took(&self) {
        if self.taken.fetch_add(1, Ordering::AcqRel) + 1 == self.total {
            self.sleep.wake_all(&|i| self.parker(i));
        }
    }

    fn closed(&self) -> bool {
        self.taken.load(Ordering::Acquire) == self.total
    }

    fn has_work(&self) -> bool {
        self.queued.load(Ordering::Relaxed) > 0 || self.closed()
    }

    /// Runs a popped job: it holds the worker until the pool closes.
    fn run_job(&self) {
        while !self.closed() {
            thread::yield_now();
        }
    }

    /// Pops a job; the one who pops the last job closes the pool.
    fn pop(&self) -> bool {
        let mut n = self.queued.load(Ordering::Relaxed);
        while n > 0 {
            match self.queued.compare_exchange(n, n - 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    self.took();
                    return true;
                }
                Err(now) => n = now,
            }
        }
        false
    }

    /// `WorkerThread::run` and `idle_spin`, with one look per spin.
    fn worker(&self, idx: usize) {
        let mut searching = false;
        let found = |searching: &mut bool| {
            if std::mem::replace(searching, false) {
                self.sleep.stop_searching(&|i| self.parker(i), &|| self.has_work());
            }
        };
        loop {
            if self.pop() {
                found(&mut searching);
                self.run_job();
                continue;
            }
            if self.closed() {
                found(&mut searching);
                return;
            }
            if !searching {
                let (_, sleeping) = self.sleep.counts();
                let awake = (self.parkers.len() as u64).saturating_sub(sleeping).max(1);
                searching = self.sleep.start_searching(awake);
            }
            if searching && self.pop() {
                found(&mut searching);
                self.run_job();
                continue;
            }
            let parker = &self.parkers[idx];
            let woken = self.sleep.sleep(idx, parker, searching, None, self.hand_off, &|| self.has_work());
            searching = woken == Woken::AsSearcher;
            if let Some(job) = parker.take_mail() {
                job.abandon(); // started, as far as the model goes
                self.took();
                found(&mut searching);
                self.run_job();
            }
        }
    }
}

fn run(workers: usize, jobs: usize) {
    run_with(workers, jobs, false);
}

fn run_with(workers: usize, jobs: usize, hand_off: bool) {
    loom::model(move || {
        let m = Model::new(workers, jobs, hand_off);
        let threads: Vec<_> = (0..workers)
            .map(|i| {
                let m = Arc::clone(&m);
                thread::spawn(move || m.worker(i))
            })
            .collect();
        for _ in 0..jobs {
            m.submit();
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(m.taken.load(Ordering::Relaxed), jobs);
        assert_eq!(m.sleep.counts(), (0, 0), "every worker left both roles");
    });
}

/// One worker going to sleep against one submit: the job is never stranded.
#[test]
fn a_submit_wakes_a_sleeping_worker() {
    run(1, 1);
}

/// Two workers, two jobs: the searching role and the wake chain
/// (`stop_searching` waking the next sleeper) leave no job behind.
#[test]
fn a_burst_reaches_every_job() {
    run(2, 2);
}

/// Two workers, one job: a worker that never gets work still leaves when
/// the pool closes (`wake_all` against a worker going to sleep).
#[test]
fn wake_all_reaches_a_worker_going_to_sleep() {
    run(2, 1);
}

/// A job handed to a sleeper as it is woken runs, and a second job submitted
/// behind it (to the queue: the woken worker counts as searching) still
/// reaches a worker: the woken one's `stop_searching` wakes the other.
#[test]
fn a_handed_job_and_the_burst_behind_it_run() {
    run_with(2, 2, true);
}

/// One worker going to sleep against a submit that tries to hand it the job.
#[test]
fn a_hand_off_reaches_a_worker_going_to_sleep() {
    run_with(1, 1, true);
}
