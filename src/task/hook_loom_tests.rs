//! Model checks of the completion-hook protocol (see "Completion hooks" in
//! `task.rs`), run with `scripts/loom.sh`: attaching a hook races the task's
//! end, and every hook must run exactly once, after the end is visible.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use loom::sync::atomic::AtomicUsize;
use loom::thread;

use super::*;

unsafe extern "C" fn returns_seven(_: *mut c_void) -> c_int {
    7
}

/// A hook that counts its runs and checks the task's end is visible to it.
#[repr(C)]
struct CountingHook {
    hook: Hook,
    runs: Arc<AtomicUsize>,
}

unsafe fn count_run(h: *mut Hook, task: &Task) {
    // SAFETY: the model made this node a Box<CountingHook> with the Hook first.
    let h = unsafe { Box::from_raw(h as *mut CountingHook) };
    assert!(task.end().is_some(), "a hook ran before its task's end was visible");
    h.runs.fetch_add(1, Ordering::Relaxed);
}

/// A shared user reference to a task.
struct Shared(*const Task);
// SAFETY: a Task is Send + Sync; the pointer is only a way to share it.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}
impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: each Shared owns one reference.
        unsafe { Task::release(self.0) };
    }
}

fn attach(task: &Task, runs: &Arc<AtomicUsize>) {
    let h = Box::into_raw(Box::new(CountingHook { hook: Hook::new(count_run), runs: Arc::clone(runs) }));
    // SAFETY: a fresh node, handed over.
    unsafe { task.add_hook(h as *mut Hook) };
}

/// The job's reference to a task.
struct JobShared(*const Task);
// SAFETY: as for Shared.
unsafe impl Send for JobShared {}
impl Drop for JobShared {
    fn drop(&mut self) {
        // SAFETY: each JobShared owns the job's reference.
        unsafe { Task::release_job(self.0) };
    }
}

/// A queued task and its job's reference, as a worker would hold it.
fn queued() -> (Arc<Shared>, JobShared) {
    let (t, job) = Task::new(returns_seven, std::ptr::null_mut(), None, 0);
    job.abandon(); // its reference is the JobShared
    (Arc::new(Shared(t)), JobShared(t))
}

/// A worker runs the task while another thread attaches a hook.
#[test]
fn attach_races_completion() {
    loom::model(|| {
        let (user, job) = queued();
        let worker = thread::spawn(move || {
            // SAFETY: `job` holds the job's reference until it drops.
            unsafe { (*job.0).run_with(|f, arg| f(arg)) };
        });
        let runs = Arc::new(AtomicUsize::new(0));
        attach(
            // SAFETY: `user` holds a reference.
            unsafe { &*user.0 },
            &runs,
        );
        worker.join().unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}

/// Two attachers and a canceller: each hook runs once, none is lost.
#[test]
fn two_attachers_race_cancel() {
    loom::model(|| {
        let (user, job) = queued();
        let runs = Arc::new(AtomicUsize::new(0));
        let (u2, r2) = (Arc::clone(&user), Arc::clone(&runs));
        let other = thread::spawn(move || {
            // SAFETY: `u2` holds a reference.
            attach(unsafe { &*u2.0 }, &r2);
        });
        let canceller = thread::spawn(move || {
            // SAFETY: `job` holds the job's reference until it drops.
            let _ = unsafe { (*job.0).cancel() };
        });
        // SAFETY: `user` holds a reference.
        attach(unsafe { &*user.0 }, &runs);
        other.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 2);
    });
}
