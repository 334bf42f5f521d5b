//! Batches: tasks collected now and run later, one after another in
//! insertion order, as one unit (Starlette's and Orionis' BackgroundTasks).
//!
//! Until it is submitted a batch only holds `(fn, arg, drop)` triples;
//! discarding it runs every drop (the request handler failed before the
//! response). Submitted, it becomes one ordinary task whose function runs
//! the items and returns the first failure's code: its handle is waitable,
//! cancellable (every item's drop then runs) and hookable like any other.
//! The per-item ends are written before that task ends, so anyone who sees
//! it ended may read them.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};

use crate::compose::lock;
use crate::job::{RawDrop, RawFn};
use crate::registry::{Registry, SubmitError};
use crate::task::{Task, TaskEnd};
use crate::worker::WorkerThread;

/// How one item of a batch ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ItemEnd {
    /// It ran and returned this code.
    Ran(c_int),
    /// It never ran: an earlier item failed under stop-on-error; its drop ran.
    Skipped,
    /// It never ran: the pool shut down in cancel mode mid-batch; its drop ran.
    Shutdown,
    /// No item ran: the batch's task ended this way before it started
    /// (cancelled, shut down, forked); every drop ran.
    NeverStarted(TaskEnd),
}

/// Why a batch operation was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BatchError {
    /// The batch was already submitted.
    Submitted,
    /// Not ended yet (or never submitted).
    NotEnded,
    /// No item has this index.
    NoSuchItem,
    Pool(SubmitError),
}

struct Item {
    f: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
}

pub(crate) struct Batch {
    state: Mutex<State>,
}

struct State {
    /// Collected items; moved out when the batch runs or is dropped.
    items: Vec<Item>,
    len: usize,
    stop_on_error: bool,
    /// The batch's task once submitted (one reference held by the batch).
    task: *const Task,
    /// Filled in by the run, in insertion order.
    ends: Vec<ItemEnd>,
}

// SAFETY: `arg`s are the user's, promised usable from another thread by
// adding them; `task` is a thread-safe handle.
unsafe impl Send for State {}

impl Batch {
    pub(crate) fn new() -> Arc<Batch> {
        Arc::new(Batch {
            state: Mutex::new(State {
                items: Vec::new(),
                len: 0,
                stop_on_error: true,
                task: ptr::null(),
                ends: Vec::new(),
            }),
        })
    }

    /// Adds an item; nothing runs yet.
    pub(crate) fn add(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<(), BatchError> {
        let mut st = lock(&self.state);
        if !st.task.is_null() {
            return Err(BatchError::Submitted);
        }
        st.items.push(Item { f, arg, drop });
        st.len += 1;
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.state).len
    }

    /// Submits the batch to `reg` as one task; returns its handle (one user reference).
    pub(crate) fn submit(self: &Arc<Self>, reg: &Registry, stop_on_error: bool) -> Result<*const Task, BatchError> {
        let mut st = lock(&self.state);
        if !st.task.is_null() {
            return Err(BatchError::Submitted);
        }
        st.stop_on_error = stop_on_error;
        let arg = Arc::into_raw(Arc::clone(self)) as *mut c_void;
        // The run locks the state only after this returns: we hold the lock.
        match reg.submit_fn(run_batch, arg, Some(drop_batch)) {
            Ok(t) => {
                // SAFETY: a fresh handle; the batch keeps its own reference.
                unsafe { (*t).retain() };
                st.task = t;
                Ok(t)
            }
            Err(e) => {
                // SAFETY: refused, so the Arc leaked above was not taken.
                drop(unsafe { Arc::from_raw(arg as *const Batch) });
                Err(BatchError::Pool(e))
            }
        }
    }

    /// How item `index` ended, once the batch has.
    pub(crate) fn item_end(&self, index: usize) -> Result<ItemEnd, BatchError> {
        let st = lock(&self.state);
        if index >= st.len {
            return Err(BatchError::NoSuchItem);
        }
        if st.task.is_null() {
            return Err(BatchError::NotEnded);
        }
        // SAFETY: the batch holds a reference to its task.
        match unsafe { (*st.task).end() } {
            None => Err(BatchError::NotEnded),
            Some(end) => Ok(st.ends.get(index).copied().unwrap_or(ItemEnd::NeverStarted(end))),
        }
    }

    /// The user lets go of the batch: a batch never submitted runs every
    /// item's drop; a submitted one lives on until its task lets go of it.
    pub(crate) fn discard(&self) {
        let mut st = lock(&self.state);
        let task = std::mem::replace(&mut st.task, ptr::null());
        if task.is_null() {
            let items = std::mem::take(&mut st.items);
            drop(st);
            drop_items(items);
        } else {
            drop(st);
            // SAFETY: the batch's own reference. Its items stay for the run.
            unsafe { Task::release(task) };
        }
    }
}

fn drop_items(items: Vec<Item>) {
    for it in items {
        if let Some(d) = it.drop {
            // SAFETY: the item never ran and never will: its drop owns `arg`.
            unsafe { d(it.arg) };
        }
    }
}

/// The batch task's function: runs the items in order.
unsafe extern "C" fn run_batch(arg: *mut c_void) -> c_int {
    // SAFETY: `submit` leaked one Arc as the task's arg; running consumes it.
    let b = unsafe { Arc::from_raw(arg as *const Batch) };
    let (items, stop_on_error) = {
        let mut st = lock(&b.state);
        (std::mem::take(&mut st.items), st.stop_on_error)
    };
    let cancelling = || WorkerThread::current().is_some_and(|w| w.registry().is_cancelling());
    let mut first_error = 0;
    let mut ends = Vec::with_capacity(items.len());
    for it in items {
        let end = if first_error != 0 && stop_on_error {
            ItemEnd::Skipped
        } else if cancelling() {
            // The pool is dropping queued work: so are we.
            ItemEnd::Shutdown
        } else {
            // SAFETY: the item's submitter promised `f(arg)` may run once; it runs once here.
            let code = unsafe { (it.f)(it.arg) };
            if first_error == 0 {
                first_error = code;
            }
            ends.push(ItemEnd::Ran(code));
            continue;
        };
        if let Some(d) = it.drop {
            // SAFETY: the item will never run: its drop owns `arg`, once.
            unsafe { d(it.arg) };
        }
        ends.push(end);
    }
    lock(&b.state).ends = ends;
    first_error
}

/// The batch task's drop: the batch never ran, so no item does.
unsafe extern "C" fn drop_batch(arg: *mut c_void) {
    // SAFETY: as in run_batch; exactly one of the two consumes the Arc.
    let b = unsafe { Arc::from_raw(arg as *const Batch) };
    let items = std::mem::take(&mut lock(&b.state).items);
    drop_items(items);
}
