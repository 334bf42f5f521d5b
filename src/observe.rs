//! Watching a pool's tasks: their queue wait and run time (in the pool's
//! statistics) and per-pool hooks around each task, for tracers.
//!
//! Timing costs a clock read per submit and two per run, and the time of
//! submission has to travel with the job, which has no room for it in the
//! common case (a fire-and-forget job is three full words). So it is paid
//! only by pools that ask: created with `Config::timing`, or given task
//! hooks. Such a pool's submissions make *timed* job kinds that carry the
//! submission time and observe the call; every other pool makes the plain
//! kinds, and its submit and run paths are unchanged but for one
//! predictable branch on `Observe::timed` when a job is made.
//!
//! A task is observed if it was submitted while timing was on: hooks set
//! later see only tasks submitted after. Tasks that never run (cancelled,
//! dropped by a cancelling shutdown) are neither timed nor hooked.

use std::ffi::{c_int, c_void};
use std::sync::atomic::AtomicPtr;

use crate::job::{call_probed_with, spawn_outcome, Job, JobBody, Outcome, RawDrop, RawFn, SpawnJob};
use crate::registry::Registry;
use crate::sync::{lock, now_ns, AtomicBool, Mutex, Ordering};
use crate::task::Task;
use crate::worker::WorkerThread;

/// What a task hook is told.
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo {
    /// The index of the worker running the task.
    pub worker: usize,
    pub func: RawFn,
    pub arg: *mut c_void,
    /// The task's handle; null for fire-and-forget.
    pub task: *const Task,
    /// Nanoseconds from submission to the start of the call.
    pub queue_wait_ns: u64,
    /// Nanoseconds the call took (0 at the start).
    pub run_ns: u64,
    /// The code the function returned (0 at the start).
    pub result: c_int,
}

pub type TaskHook = Box<dyn Fn(&TaskInfo) + Send + Sync>;

/// Called just before and just after each task's function, on the worker
/// running it: a task's end comes on the thread of its start, and the
/// tasks a worker runs nested (helping while it waits) start and end LIFO.
#[derive(Default)]
pub struct TaskHooks {
    pub on_start: Option<TaskHook>,
    pub on_end: Option<TaskHook>,
}

/// A pool's timing switch and hooks (a field of `Registry`).
pub(crate) struct Observe {
    /// Submissions make timed jobs.
    timed: AtomicBool,
    /// Timed because the pool was created so (hooks turn it on too).
    configured: bool,
    /// The hooks, or null. Replaced hooks stay allocated in `retired` until
    /// the pool goes away: a worker may still be calling them.
    hooks: AtomicPtr<TaskHooks>,
    #[allow(clippy::vec_box)] // workers may hold pointers to them: they must not move
    retired: Mutex<Vec<Box<TaskHooks>>>,
}

impl Observe {
    pub(crate) fn new(timing: bool) -> Observe {
        Observe {
            timed: AtomicBool::new(timing),
            configured: timing,
            hooks: AtomicPtr::new(std::ptr::null_mut()),
            retired: Mutex::new(Vec::new()),
        }
    }
}

impl Drop for Observe {
    fn drop(&mut self) {
        let p = *self.hooks.get_mut();
        if !p.is_null() {
            // SAFETY: made by Box::into_raw in set_task_hooks; no worker is
            // left to call it once the registry is dropped.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl Registry {
    /// Installs (or with `None`, removes) the pool's task hooks; they see
    /// tasks submitted from now on. Hooks already running may still be
    /// running the old ones when this returns.
    pub fn set_task_hooks(&self, hooks: Option<TaskHooks>) {
        let mut retired = lock(&self.observe.retired);
        let on = hooks.is_some();
        let new = hooks.map_or(std::ptr::null_mut(), |h| Box::into_raw(Box::new(h)));
        let old = self.observe.hooks.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: made by Box::into_raw above; kept alive (not dropped)
            // because a worker may still be calling it.
            retired.push(unsafe { Box::from_raw(old) });
        }
        self.observe.timed.store(on || self.observe.configured, Ordering::Relaxed);
    }

    /// True when this pool's submissions are timed.
    pub fn is_timed(&self) -> bool {
        self.observe.timed.load(Ordering::Relaxed)
    }

    /// A fire-and-forget job, timed if the pool times its tasks.
    #[inline]
    pub(crate) fn spawn_job(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Job {
        if !self.is_timed() {
            return Job::spawn(f, arg, drop);
        }
        let at = now_ns();
        match drop {
            None => Job::new(Timed { body: Spawn { f, arg }, at }),
            // No room for the time beside three words: box the job.
            Some(_) => Job::new(Timed { body: Box::new(SpawnJob::new(f, arg, drop)), at }),
        }
    }

    /// A task with a handle and its job, timed if the pool times its tasks.
    #[inline]
    pub(crate) fn task_job(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> (*const Task, Job) {
        if !self.is_timed() {
            return Task::new(f, arg, drop, self.id);
        }
        let task = Task::new_unqueued(f, arg, drop, self.id, true);
        (task, Job::new(Timed { body: TaskBody { task }, at: now_ns() }))
    }
}

/// Calls `f(arg)` on `w` for a task submitted at `at`: hooks, timing, probes.
pub(crate) fn call_observed(w: &WorkerThread, f: RawFn, arg: *mut c_void, task: *const Task, at: u64) -> c_int {
    // SAFETY: the user's callback with the user's arg, as submitted.
    observe_call(w, f, arg, task, at, || unsafe { f(arg) })
}

/// `call_observed` for a task whose function is called another way (`call`):
/// a continuation's. `f` and `arg` are what the hooks are told.
pub(crate) fn observe_call(
    w: &WorkerThread,
    f: RawFn,
    arg: *mut c_void,
    task: *const Task,
    at: u64,
    call: impl FnOnce() -> c_int,
) -> c_int {
    let reg = w.registry();
    let start = now_ns();
    let mut info = TaskInfo {
        worker: w.index(),
        func: f,
        arg,
        task,
        queue_wait_ns: start.saturating_sub(at),
        run_ns: 0,
        result: 0,
    };
    // SAFETY: hooks are freed only with the registry (see `retired`), which
    // outlives its workers.
    let hooks = unsafe { reg.observe.hooks.load(Ordering::Acquire).as_ref() };
    if let Some(h) = hooks.and_then(|h| h.on_start.as_ref()) {
        h(&info);
    }
    let code = call_probed_with(w, f, arg, task as usize, call);
    info.run_ns = now_ns().saturating_sub(start);
    info.result = code;
    w.timing().record(info.queue_wait_ns, info.run_ns);
    if let Some(h) = hooks.and_then(|h| h.on_end.as_ref()) {
        h(&info);
    }
    code
}

/// A job kind that also carries when it was submitted.
pub(crate) struct Timed<B> {
    body: B,
    at: u64,
}

/// What a timed job holds (one or two words, so that the time fits too).
pub(crate) trait Observed {
    fn run_observed(self, w: &WorkerThread, at: u64) -> Outcome;
    fn cancel(self) -> Outcome;
}

impl<B> Timed<B> {
    /// `body`, submitted now.
    pub(crate) fn now(body: B) -> Timed<B> {
        Timed { body, at: now_ns() }
    }
}

impl<B: Observed> JobBody for Timed<B> {
    fn run(self, w: &WorkerThread) -> Outcome {
        self.body.run_observed(w, self.at)
    }

    fn cancel(self) -> Outcome {
        self.body.cancel()
    }
}

/// A fire-and-forget callback without a drop.
struct Spawn {
    f: RawFn,
    arg: *mut c_void,
}

impl Observed for Spawn {
    fn run_observed(self, w: &WorkerThread, at: u64) -> Outcome {
        spawn_outcome(w, self.f, self.arg, call_observed(w, self.f, self.arg, std::ptr::null(), at))
    }

    fn cancel(self) -> Outcome {
        Outcome::Cancelled
    }
}

impl Observed for Box<SpawnJob> {
    fn run_observed(self, w: &WorkerThread, at: u64) -> Outcome {
        (*self).run_with(w, |f, arg| call_observed(w, f, arg, std::ptr::null(), at))
    }

    fn cancel(self) -> Outcome {
        JobBody::cancel(*self)
    }
}

/// A task with a handle; owns the task's job reference, like `TaskJob`.
struct TaskBody {
    task: *const Task,
}

impl Observed for TaskBody {
    fn run_observed(self, w: &WorkerThread, at: u64) -> Outcome {
        // SAFETY: the job's reference keeps the task alive until released here.
        unsafe {
            let outcome = (*self.task).run_with(|f, arg| call_observed(w, f, arg, self.task, at));
            Task::release_job(self.task);
            outcome
        }
    }

    fn cancel(self) -> Outcome {
        // SAFETY: as in `run_observed`.
        unsafe {
            let outcome = (*self.task).cancel_for_shutdown();
            Task::release_job(self.task);
            outcome
        }
    }
}
