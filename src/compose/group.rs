//! Groups: tasks submitted together, waited for together, failed and
//! cancelled together (dispatch groups, TBB `task_group`, Go's errgroup).
//!
//! Each member is an ordinary handle with a completion hook (`task.rs`)
//! that updates the group: one fewer pending, the first failure code, and
//! whether some member never ran. Waiting uses a latch (`latch.rs`) that
//! the hook ending the last pending member sets, so a wait from a worker
//! helps like any wait on a handle. The next submit arms a new
//! latch, so a group can be waited for again after more submits.
//!
//! Members that have not ended sit in a slab so that a cancel can reach
//! them. An entry is present only while its task is alive: it is filled by
//! the submitter (holding a reference) and emptied by the member's hook,
//! which runs before the task's last job reference goes. So the cancel may
//! retain any task it finds there, under the group's lock.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};

use crate::compose::lock;
use crate::job::{RawDrop, RawFn};
use crate::latch::Latch;
use crate::registry::{Registry, SubmitError};
use crate::task::{Hook, Task, TaskEnd};

/// How a group's tasks ended, so far.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupEnd {
    /// Every task ran and returned 0.
    AllOk,
    /// At least one failed; this is the first failure's code.
    Failed(c_int),
    /// None failed, but some never ran (cancelled, or dropped by a shutdown).
    NotRun,
}

/// Why a submit to a group was refused (nothing was queued).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupRefusal {
    /// The group was cancelled.
    Cancelled,
    Pool(SubmitError),
}

/// Why a wait on a group returned before its tasks ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GroupWaitError {
    /// The deadline passed first.
    TimedOut,
    /// The group's pool belongs to the parent of this forked process.
    Forked,
}

/// The group's pool belongs to the parent of this forked process: its
/// lock may have been held by a parent thread, so it is not touched.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Forked;

pub(crate) struct Group {
    pub(crate) reg: Arc<Registry>,
    cancel_on_error: bool,
    /// A wait from outside the pool runs members still queued (caller-runs).
    caller_runs: bool,
    state: Mutex<State>,
}

struct State {
    /// Tasks submitted and not yet ended.
    pending: usize,
    first_error: Option<c_int>,
    not_run: bool,
    cancelled: bool,
    /// Tasks not yet ended, by slot; null for a free or reserved slot.
    members: Vec<*const Task>,
    free: Vec<usize>,
    /// Set when `pending` drops to zero; `None` when nothing is pending.
    latch: Option<Latch>,
}

// SAFETY: the task pointers are thread-safe handles, used under the lock
// as the module docs describe.
unsafe impl Send for State {}

/// The hook of one member.
#[repr(C)]
struct Member {
    hook: Hook,
    group: Arc<Group>,
    slot: usize,
}

impl Group {
    pub(crate) fn new(reg: Arc<Registry>, cancel_on_error: bool, caller_runs: bool) -> Arc<Group> {
        Arc::new(Group {
            reg,
            cancel_on_error,
            caller_runs,
            state: Mutex::new(State {
                pending: 0,
                first_error: None,
                not_run: false,
                cancelled: false,
                members: Vec::new(),
                free: Vec::new(),
                latch: None,
            }),
        })
    }

    /// Submits `f(arg)` to the group's pool as a member. Returns its handle
    /// (one user reference) if `handle`, else null.
    pub(crate) fn submit(
        self: &Arc<Self>,
        f: RawFn,
        arg: *mut c_void,
        drop: Option<RawDrop>,
        handle: bool,
    ) -> Result<*const Task, GroupRefusal> {
        if self.reg.is_forked() {
            // Before taking a lock a parent thread may have held.
            return Err(GroupRefusal::Pool(SubmitError::Forked));
        }
        let slot = self.reserve().map_err(|()| GroupRefusal::Cancelled)?;
        let t = match self.reg.submit_fn(f, arg, drop) {
            Ok(t) => t,
            Err(e) => {
                self.refused(slot);
                return Err(GroupRefusal::Pool(e));
            }
        };
        // SAFETY: we hold the user reference from submit_fn.
        unsafe {
            self.joined(slot, t);
            if !handle {
                Task::release(t);
                return Ok(ptr::null());
            }
        }
        Ok(t)
    }

    /// The first step of adding a member queued some other way (a submit
    /// with options): a place in the group, pending. Then `joined` once the
    /// member's task is queued, or `refused` if it was not. Err if the group
    /// was cancelled.
    pub(crate) fn reserve(&self) -> Result<usize, ()> {
        let mut st = lock(&self.state);
        if st.cancelled {
            return Err(());
        }
        st.pending += 1;
        if st.latch.is_none() {
            st.latch = Some(Latch::new(self.reg.id));
        }
        Ok(match st.free.pop() {
            Some(i) => i,
            None => {
                st.members.push(ptr::null());
                st.members.len() - 1
            }
        })
    }

    /// The member's task `t` for place `slot` was queued.
    ///
    /// # Safety
    /// The caller holds a reference to `t`.
    pub(crate) unsafe fn joined(self: &Arc<Self>, slot: usize, t: *const Task) {
        let cancelled = {
            let mut st = lock(&self.state);
            st.members[slot] = t;
            st.cancelled
        };
        // SAFETY: the caller holds a reference to `t`, so it is live.
        let task = unsafe { &*t };
        if cancelled {
            let _ = task.cancel(); // the group was cancelled while we queued it
        }
        let m = Box::into_raw(Box::new(Member { hook: Hook::new(member_ended), group: Arc::clone(self), slot }));
        // SAFETY: `m` is a fresh node, attached nowhere; its `run` owns it.
        unsafe { task.add_hook(m as *mut Hook) };
    }

    /// The member for place `slot` was not queued after all.
    pub(crate) fn refused(&self, slot: usize) {
        self.member_left(slot, None);
    }

    /// A member left the group (it ended, or its submit was refused: `None`).
    fn member_left(&self, slot: usize, end: Option<TaskEnd>) {
        let (latch, cancel) = {
            let mut st = lock(&self.state);
            st.members[slot] = ptr::null();
            st.free.push(slot);
            let failed = match end {
                Some(TaskEnd::Ran(0)) | None => false,
                Some(TaskEnd::Ran(code)) => {
                    st.first_error.get_or_insert(code);
                    true
                }
                Some(_) => {
                    st.not_run = true;
                    false
                }
            };
            st.pending -= 1;
            let latch = if st.pending == 0 { st.latch.take() } else { None };
            (latch, failed && self.cancel_on_error && !st.cancelled)
        };
        if cancel {
            self.cancel_members();
        }
        if let Some(latch) = latch {
            latch.set();
        }
    }

    /// Cancels every member that has not started (their drops run here) and
    /// refuses later submits.
    pub(crate) fn cancel(&self) -> Result<(), Forked> {
        if self.reg.is_forked() {
            return Err(Forked);
        }
        self.cancel_members();
        Ok(())
    }

    fn cancel_members(&self) {
        let tasks: Vec<*const Task> = {
            let mut st = lock(&self.state);
            st.cancelled = true;
            st.members
                .iter()
                .copied()
                .filter(|t| !t.is_null())
                .inspect(|&t| {
                    // SAFETY: a task in the slab is alive (module docs).
                    unsafe { (*t).retain() }
                })
                .collect()
        };
        for t in tasks {
            // SAFETY: retained above. A member already running or ended is left alone.
            unsafe {
                let _ = (*t).cancel();
                Task::release(t);
            }
        }
    }

    /// Waits until no member is pending, or until `deadline`.
    pub(crate) fn wait(&self, deadline: Option<u64>) -> Result<GroupEnd, GroupWaitError> {
        if self.reg.is_forked() {
            return Err(GroupWaitError::Forked);
        }
        let latch = {
            let st = lock(&self.state);
            match &st.latch {
                Some(latch) if st.pending != 0 => latch.clone(),
                _ => return Ok(st.end()),
            }
        };
        // Only an untimed wait: a task run here could outlast a deadline.
        if self.caller_runs && deadline.is_none() {
            self.run_queued_here();
        }
        if !latch.wait(deadline) {
            return Err(GroupWaitError::TimedOut);
        }
        Ok(lock(&self.state).end())
    }
}

impl Group {
    /// Caller-runs (`task/caller_runs.rs`): from a thread outside every
    /// pool, runs the members no worker has started. Each is
    /// retained under the lock, then claimed and run without it (its hook
    /// takes the lock).
    fn run_queued_here(&self) {
        if crate::worker::WorkerThread::current().is_some() {
            return; // a worker's wait helps instead
        }
        // In batches on the stack: no allocation per wait. A member that a
        // batch misses is run by a worker (the wait then waits for it).
        let mut next = 0;
        loop {
            let mut batch = [ptr::null::<Task>(); 16];
            let mut n = 0;
            {
                let st = lock(&self.state);
                while next < st.members.len() && n < batch.len() {
                    let t = st.members[next];
                    next += 1;
                    // SAFETY: a task in the slab is alive (module docs).
                    if !t.is_null() && unsafe { (*t).end().is_none() } {
                        // SAFETY: as above.
                        unsafe { (*t).retain() };
                        batch[n] = t;
                        n += 1;
                    }
                }
            }
            if n == 0 {
                return;
            }
            for &t in &batch[..n] {
                // SAFETY: retained above; released once here.
                unsafe {
                    (*t).run_here_in(&self.reg);
                    Task::release(t);
                }
            }
        }
    }
}

impl State {
    fn end(&self) -> GroupEnd {
        match (self.first_error, self.not_run) {
            (Some(code), _) => GroupEnd::Failed(code),
            (None, true) => GroupEnd::NotRun,
            (None, false) => GroupEnd::AllOk,
        }
    }
}

/// A member ended: update its group.
unsafe fn member_ended(h: *mut Hook, task: &Task) {
    // SAFETY: `submit` made this node a Box<Member> with the Hook first (repr(C)).
    let m = unsafe { Box::from_raw(h as *mut Member) };
    let end = task.end().unwrap_or(TaskEnd::Forked);
    // The group reports failures through its wait: they are observed.
    task.observe(end);
    m.group.member_left(m.slot, Some(end));
}
