//! Completion queues: records of ended tasks, delivered to an event loop
//! through an eventfd instead of a callback on a worker thread (what
//! libuv's after-work callback and GLib's GTask give only inside their own
//! loops).
//!
//! A watch is a completion hook (`task.rs`) that appends a record. The fd
//! is readable exactly while records are pending: the append that makes the
//! queue non-empty writes the eventfd, the drain that empties it reads the
//! eventfd back to zero, both under the queue's lock.
//!
//! Closing the queue discards pending records and closes the fd; watches
//! still attached hold the queue's memory and find it closed when they fire.

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::sync::{Arc, Mutex};

use crate::compose::lock;
use crate::task::{Hook, Task, TaskEnd};

/// One ended task.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    /// Identity only: no reference is held.
    pub(crate) task: *const Task,
    pub(crate) end: TaskEnd,
    pub(crate) user_data: *mut c_void,
}

pub(crate) struct Cq {
    fd: c_int,
    state: Mutex<State>,
}

struct State {
    records: VecDeque<Record>,
    closed: bool,
}

// SAFETY: records carry pointers only as identities for the user.
unsafe impl Send for State {}

#[repr(C)]
struct Watch {
    hook: Hook,
    cq: Arc<Cq>,
    user_data: *mut c_void,
}

impl Cq {
    pub(crate) fn new() -> std::io::Result<Arc<Cq>> {
        // SAFETY: plain syscall; the fd is owned by the queue from here on.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Arc::new(Cq { fd, state: Mutex::new(State { records: VecDeque::new(), closed: false }) }))
    }

    pub(crate) fn fd(&self) -> c_int {
        self.fd
    }

    /// Delivers a record when `task` ends (at once if it has).
    pub(crate) fn watch(self: &Arc<Self>, task: &Task, user_data: *mut c_void) {
        let w = Box::into_raw(Box::new(Watch { hook: Hook::new(deliver), cq: Arc::clone(self), user_data }));
        // SAFETY: a fresh node whose hook takes ownership of it.
        unsafe { task.add_hook(w as *mut Hook) };
    }

    /// Moves up to `max` records to `out`; returns how many.
    pub(crate) fn drain(&self, max: usize, mut out: impl FnMut(Record)) -> usize {
        let mut st = lock(&self.state);
        let n = max.min(st.records.len());
        for r in st.records.drain(..n) {
            out(r);
        }
        if n > 0 && st.records.is_empty() {
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into `count` from our own eventfd; nonblocking.
            unsafe { libc::read(self.fd, &mut count as *mut u64 as *mut c_void, 8) };
        }
        n
    }

    /// Discards pending records and closes the fd.
    pub(crate) fn close(&self) {
        let mut st = lock(&self.state);
        if !st.closed {
            st.closed = true;
            st.records.clear();
            // SAFETY: our own fd, closed once (guarded by `closed`).
            unsafe { libc::close(self.fd) };
        }
    }
}

impl Drop for Cq {
    fn drop(&mut self) {
        self.close();
    }
}

/// A watched task ended: append its record.
unsafe fn deliver(h: *mut Hook, task: &Task) {
    // SAFETY: `watch` made this node a Box<Watch> with the Hook first (repr(C)).
    let w = unsafe { Box::from_raw(h as *mut Watch) };
    let end = task.end().unwrap_or(TaskEnd::Forked);
    let mut st = lock(&w.cq.state);
    if st.closed {
        // Nobody will read a record: the failure stays unobserved, so the
        // last release reports it to the error handler.
        return;
    }
    // The record hands the status to the user: that counts as observing it.
    task.observe(end);
    st.records.push_back(Record { task, end, user_data: w.user_data });
    if st.records.len() == 1 {
        let one = 1u64;
        // SAFETY: writes 8 bytes to our own open eventfd (not closed: checked under the lock).
        unsafe { libc::write(w.cq.fd, &one as *const u64 as *const c_void, 8) };
    }
}
