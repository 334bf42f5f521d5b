//! Model checks of the handle state machine (run with `scripts/loom.sh`).
//!
//! Each model runs the real `Task` code on loom's atomics and futex model,
//! in every interleaving up to LOOM_MAX_PREEMPTIONS preemptions. A lost
//! wake-up shows up as a deadlock, a use of a helper's parker after the
//! helper let it go as a causality violation on `Parker::in_use`.
//!
//! The worker side is `run_claimed` below: `exec_task`'s worker branch
//! written with the same primitives, because a `WorkerThread` needs the
//! deques, which loom cannot see.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use loom::sync::atomic::AtomicUsize;
use loom::thread;

use super::*;
use crate::sleep::{Parker, Sleep};

const CODE: c_int = 7;

/// How often the task's function and its drop ran.
#[derive(Default)]
struct Counts {
    ran: AtomicUsize,
    dropped: AtomicUsize,
}

/// # Safety
/// `arg` points at the `Counts` of a live fixture.
unsafe extern "C" fn count_run(arg: *mut c_void) -> c_int {
    // SAFETY: the caller's promise: `arg` is a live fixture's `Counts`.
    unsafe { (*(arg as *const Counts)).ran.fetch_add(1, Ordering::Relaxed) };
    CODE
}

/// # Safety
/// As for `count_run`.
unsafe extern "C" fn count_drop(arg: *mut c_void) {
    // SAFETY: as for `count_run`.
    unsafe { (*(arg as *const Counts)).dropped.fetch_add(1, Ordering::Relaxed) };
}

/// A queued task, its job's reference and the counters behind its `arg`.
struct Fixture {
    task: *const Task,
    counts: Arc<Counts>,
}

// SAFETY: a Task is Send + Sync; the raw pointer is only a way to share it.
unsafe impl Send for Fixture {}
unsafe impl Sync for Fixture {}

impl Fixture {
    /// A queued task with one user reference. The job is handed back as a
    /// task pointer that owns the job's reference (see `run_claimed`).
    fn new() -> (Arc<Fixture>, JobRef) {
        let counts = Arc::new(Counts::default());
        let arg = Arc::as_ptr(&counts) as *mut c_void;
        let (task, job) = Task::new(count_run, arg, Some(count_drop), 0);
        (Arc::new(Fixture { task, counts }), JobRef(Some(job), task))
    }

    fn task(&self) -> &Task {
        // SAFETY: the user reference held by the fixture keeps it alive.
        unsafe { &*self.task }
    }

    fn ran(&self) -> usize {
        self.counts.ran.load(Ordering::Relaxed)
    }

    fn dropped(&self) -> usize {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// A waiter's view: waits, records that it saw the code, checks that
    /// the end agrees with what ran.
    fn wait(&self) -> TaskEnd {
        let end = self.task().wait(None, true).expect("a wait without deadline ends");
        let end = self.task().observe(end);
        match end {
            TaskEnd::Ran(code) => assert_eq!(code, CODE, "the result is published with the end"),
            TaskEnd::Cancelled | TaskEnd::Shutdown => {}
            TaskEnd::Forked => panic!("no fork in a model"),
            TaskEnd::Expired => panic!("no start deadline in a model"),
        }
        end
    }

    /// Exactly one of `fn` and `drop` ran.
    fn check_exactly_once(&self) {
        assert_eq!(self.ran() + self.dropped(), 1, "ran {} dropped {}", self.ran(), self.dropped());
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: the fixture owns one user reference.
        unsafe { Task::release(self.task) };
    }
}

/// The job of a fixture's task, consumed exactly once by one of the methods.
struct JobRef(Option<Job>, *const Task);

// SAFETY: as for Fixture.
unsafe impl Send for JobRef {}

impl JobRef {
    /// What a worker does with a popped job (`exec_task` with a worker).
    fn run_claimed(mut self) {
        std::mem::forget(self.0.take());
        // SAFETY: the forgotten job owned this reference; it is released once, here.
        unsafe {
            let task = &*self.1;
            if task.leave_queued(RUNNING).is_ok() {
                let code = (task.func)(task.arg);
                task.finish(DONE, code);
            }
            Task::release_job(self.1);
        }
    }

    /// What the cancel-mode shutdown sweep does with a queued job.
    fn sweep(mut self) {
        self.0.take().unwrap().cancel();
    }
}

/// Completion against two waiters: both wake and see the result.
#[test]
fn completion_wakes_every_waiter() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let worker = thread::spawn(move || job.run_claimed());
        let f2 = Arc::clone(&f);
        f.task().retain();
        let other = thread::spawn(move || {
            let end = f2.wait();
            // SAFETY: the reference retained for this thread.
            unsafe { Task::release(f2.task) };
            end
        });
        assert_eq!(f.wait(), TaskEnd::Ran(CODE));
        assert_eq!(other.join().unwrap(), TaskEnd::Ran(CODE));
        worker.join().unwrap();
        f.check_exactly_once();
    });
}

/// bg_cancel against a worker claiming the job: exactly one of fn and drop
/// runs, the cancel's answer and the waiter's view agree with which.
#[test]
fn cancel_races_claim() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let worker = thread::spawn(move || job.run_claimed());
        let f2 = Arc::clone(&f);
        let canceller = thread::spawn(move || f2.task().cancel());
        let end = f.wait();
        let cancelled = canceller.join().unwrap();
        worker.join().unwrap();
        f.check_exactly_once();
        match end {
            TaskEnd::Cancelled => {
                assert_eq!(cancelled, Ok(()));
                assert_eq!(f.dropped(), 1);
            }
            TaskEnd::Ran(_) => {
                assert!(matches!(cancelled, Err(CancelError::Running | CancelError::Finished)));
                assert_eq!(f.ran(), 1);
            }
            other => panic!("unexpected end {other:?}"),
        }
        // A second cancel always reports that the task already ended.
        assert_eq!(f.task().cancel(), Err(CancelError::Finished));
    });
}

/// The cancel-mode shutdown sweep against bg_cancel: one drop, one end.
#[test]
fn cancel_races_shutdown_sweep() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let sweeper = thread::spawn(move || job.sweep());
        let f2 = Arc::clone(&f);
        let canceller = thread::spawn(move || f2.task().cancel());
        let end = f.wait();
        let cancelled = canceller.join().unwrap();
        sweeper.join().unwrap();
        assert_eq!((f.ran(), f.dropped()), (0, 1));
        assert_eq!(end == TaskEnd::Cancelled, cancelled.is_ok());
        assert!(matches!(end, TaskEnd::Cancelled | TaskEnd::Shutdown));
    });
}

/// One worker waiting while helping (`WorkerThread::wait_helping` without
/// the queues): register the parker, park through `Sleep::sleep` if the
/// task has not ended, unregister; an unregistered helper polls with a
/// time-out (loom times such waits out at once). Returns once the task
/// ended, and then lets its parker go.
fn help_until_done(task: &Task, sleep: &Sleep, idx: usize, parker: &Parker) {
    loop {
        if task.end().is_some() {
            break;
        }
        let registered = task.add_helper(parker);
        if task.end().is_none() {
            let deadline = if registered { None } else { Some(0) };
            sleep.sleep(idx, parker, false, deadline, false, &|| task.end().is_some());
        }
        if registered {
            task.remove_helper(parker);
        } else {
            // A poll: let the others run before looking again.
            thread::yield_now();
        }
    }
    if let Some(end) = task.end() {
        task.observe(end);
    }
    parker.in_use.with_mut(|_| ());
}

/// A helping waiter against completion: it is woken (no deadlock) and the
/// completer is done with its parker before it leaves.
#[test]
fn completion_wakes_a_helping_waiter() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let sleep = Arc::new(Sleep::new());
        let parker = Arc::new(Parker::default());
        let worker = thread::spawn(move || job.run_claimed());
        help_until_done(f.task(), &sleep, 0, &parker);
        assert!(f.task().end().is_some());
        worker.join().unwrap();
        f.check_exactly_once();
    });
}

/// Two helping waiters on one task (one slot: the second polls) against
/// completion. A helper that registers after the completer already saw the
/// helper flag must not leave while the completer is unparking it.
#[test]
fn completion_races_two_helpers() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let sleep = Arc::new(Sleep::new());
        let parkers: Arc<[Parker; 2]> = Arc::new(Default::default());
        let worker = thread::spawn(move || job.run_claimed());
        let (f2, sleep2, parkers2) = (Arc::clone(&f), Arc::clone(&sleep), Arc::clone(&parkers));
        let other = thread::spawn(move || help_until_done(f2.task(), &sleep2, 1, &parkers2[1]));
        help_until_done(f.task(), &sleep, 0, &parkers[0]);
        other.join().unwrap();
        worker.join().unwrap();
        f.check_exactly_once();
    });
}

/// The case `completion_races_two_helpers` needs three preemptions to
/// reach, set up directly: an earlier helper came and went (the helper
/// flag stays set), then a new helper registers while the completer, which
/// saw the flag, takes the slot to unpark whoever is in it. The new helper
/// finds the task ended and must not leave before the completer is done
/// with its parker.
#[test]
fn a_late_helper_waits_out_the_completer() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let sleep = Sleep::new();
        let earlier = Parker::default();
        assert!(f.task().add_helper(&earlier));
        f.task().remove_helper(&earlier);
        let parker = Arc::new(Parker::default());
        let worker = thread::spawn(move || job.run_claimed());
        help_until_done(f.task(), &sleep, 0, &parker);
        worker.join().unwrap();
        f.check_exactly_once();
    });
}

/// A wait with a deadline against completion (loom's futex times such waits
/// out at once): it returns the end or times out, never anything else, and
/// changes nothing: a later wait still sees the task end.
#[test]
fn a_timed_out_wait_changes_nothing() {
    loom::model(|| {
        let (f, job) = Fixture::new();
        let worker = thread::spawn(move || job.run_claimed());
        if let Ok(end) = f.task().wait(Some(0), true) {
            assert_eq!(f.task().observe(end), TaskEnd::Ran(CODE));
        }
        assert_eq!(f.wait(), TaskEnd::Ran(CODE));
        worker.join().unwrap();
        f.check_exactly_once();
    });
}
