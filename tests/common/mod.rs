//! Helpers shared by the Rust tests that drive the library through its C
//! ABI, as a C program would: pools, Rust closures passed as (fn, arg,
//! drop), waits that fail a test instead of hanging, and latches.
#![allow(dead_code)] // each test file uses its own subset

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use background::capi::pool::*;
use background::capi::status::bg_status::{self, *};
use background::capi::task::*;

pub const SEC: u64 = 1_000_000_000;
pub const MS: u64 = 1_000_000;

/// A pool built from the default options, changed by `f`.
pub fn pool_with(f: impl FnOnce(&mut bg_pool_options)) -> *mut bg_pool {
    let mut o: bg_pool_options = unsafe { std::mem::zeroed() };
    bg_pool_options_init(&mut o);
    f(&mut o);
    let mut p = std::ptr::null_mut();
    assert_eq!(bg_pool_new(&o, &mut p), BG_OK);
    p
}

pub fn pool_named(threads: usize, name: &'static CStr) -> *mut bg_pool {
    pool_with(|o| {
        o.threads = threads;
        o.name_prefix = name.as_ptr();
    })
}

pub fn free(p: *mut bg_pool) {
    assert_eq!(bg_pool_free(p), BG_OK);
}

/// A Rust closure as a task's (fn, arg, drop).
pub type Body = Box<dyn FnOnce() -> c_int + Send>;

pub unsafe extern "C" fn run_body(arg: *mut c_void) -> c_int {
    (Box::from_raw(arg as *mut Body))()
}

pub unsafe extern "C" fn drop_body(arg: *mut c_void) {
    drop(Box::from_raw(arg as *mut Body));
}

pub fn body(f: impl FnOnce() -> c_int + Send + 'static) -> *mut c_void {
    Box::into_raw(Box::new(Box::new(f) as Body)) as *mut c_void
}

/// Submits `f` with a handle; the submission must be accepted.
pub fn submit(p: *mut bg_pool, f: impl FnOnce() -> c_int + Send + 'static) -> *mut bg_task {
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_pool_submit(p, Some(run_body), body(f), Some(drop_body), &mut t), BG_OK);
    t
}

/// Submits `f` fire-and-forget; on refusal frees it (it is still ours) and returns the status.
pub fn try_spawn(p: *mut bg_pool, f: impl FnOnce() -> c_int + Send + 'static) -> bg_status {
    let arg = body(f);
    let s = bg_pool_submit(p, Some(run_body), arg, Some(drop_body), std::ptr::null_mut());
    if s != BG_OK {
        unsafe { drop_body(arg) };
    }
    s
}

/// Waits up to 30 s (a test fails rather than hangs): the status and result.
pub fn wait(t: *mut bg_task) -> (bg_status, c_int) {
    let mut rc = -12345;
    let s = bg_wait_timeout(t, 30 * SEC, &mut rc);
    assert_ne!(s, BG_ETIMEDOUT, "task did not finish within 30 s");
    (s, rc)
}

pub fn release(t: *mut bg_task) {
    assert_eq!(bg_task_release(t), BG_OK);
}

/// Counts its own drops, to check "exactly once".
pub struct DropCount(pub Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A latch that tasks block on, so a test decides when they finish.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);
impl Gate {
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }
    pub fn wait(&self) {
        let mut g = self.0 .0.lock().unwrap();
        while !*g {
            g = self.0 .1.wait(g).unwrap();
        }
    }
    /// Waits computing (yielding), not asleep: a pool's monitor counts a
    /// thread asleep in a task as blocked and has a spare run what is
    /// queued behind it, within a millisecond; a thread that computes it
    /// never counts. For tests that need work to stay queued behind a busy
    /// worker.
    pub fn spin_wait(&self) {
        while !*self.0 .0.lock().unwrap() {
            std::thread::yield_now();
        }
    }
}

/// Occupies one worker until the returned gate opens; returns once it
/// runs. The worker stays busy (`Gate::spin_wait`): no spare stands in.
pub fn block_one_worker(p: *mut bg_pool) -> (Gate, *mut bg_task) {
    let (gate, started) = (Gate::default(), Gate::default());
    let (g, s) = (gate.clone(), started.clone());
    let t = submit(p, move || {
        s.open();
        g.spin_wait();
        0
    });
    started.wait();
    (gate, t)
}

/// Polls `f` until it holds, failing the test after 30 s.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
