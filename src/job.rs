//! What a unit of work is.
//!
//! A [`Job`] is four words stored *by value* in the deques: a function that
//! knows its kind, and a three-word payload holding the kind's fields. Each
//! kind is a named type implementing [`JobBody`]: [`SpawnJob`] (a
//! fire-and-forget C callback, so `bg_spawn` allocates nothing),
//! `TaskJob` (a task with a handle, `task.rs`), and the composition
//! mechanisms' own kinds (a continuation, a serial queue's drain, a slice of
//! a parallel loop), which implement the same trait where they are defined.
//!
//! **Exactly once.** Every `Job` that is created must be consumed exactly
//! once, by [`Job::run`] or by [`Job::cancel`]. Running it calls the user's
//! function; cancelling it calls the user's `drop` instead. Dropping a `Job`
//! without either would leak the user's `arg`, so `Job` has no `Drop` impl
//! and no `Clone`: the queues and the shutdown sweep are the only places that
//! consume jobs, and they consume every one.

use std::ffi::{c_int, c_void};
use std::mem::{align_of, size_of, MaybeUninit};

use crate::probe::probe;
use crate::worker::WorkerThread;

/// A user callback: its return value is the task's result code (0 = success).
pub type RawFn = unsafe extern "C" fn(arg: *mut c_void) -> c_int;
/// Frees a callback's `arg` when the callback will never run.
pub type RawDrop = unsafe extern "C" fn(arg: *mut c_void);

/// How a job ended, for the pool's statistics.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Outcome {
    /// The callback ran and returned 0.
    Ok,
    /// The callback ran and returned non-zero.
    Failed,
    /// The callback never ran; its drop ran in its place.
    Cancelled,
    /// Nothing ran here: the job's task had already been cancelled elsewhere.
    Skipped,
    /// The callback never ran: its start deadline had passed; its drop ran.
    Expired,
    /// A job of a composition mechanism (a serial queue's drain, a slice of a
    /// parallel loop): the tasks it runs are counted one by one instead.
    Internal,
}

/// One kind of job: its fields, and what running or cancelling it does.
/// Stored by value in a `Job`, so it must fit the payload (checked when the
/// job is made).
pub(crate) trait JobBody: Sized {
    /// Runs the job on worker `w`.
    fn run(self, w: &WorkerThread) -> Outcome;
    /// Consumes the job without running it (its pool shut down in cancel
    /// mode, refused it, or was torn down after fork()): the user's drop
    /// runs, or the job's task ends as a shutdown.
    fn cancel(self) -> Outcome;
}

/// Three words, aligned as a pointer: room for any `JobBody`.
#[derive(Clone, Copy)]
struct Payload([MaybeUninit<usize>; 3]);

/// The payload travels as three word arguments, not a struct: the Rust ABI
/// passes a struct this size through memory, and re-reading a job just
/// written with other widths stalls store forwarding on every job.
type ExecFn = unsafe fn(Word, Word, Word, Option<&WorkerThread>) -> Outcome;
type Word = MaybeUninit<usize>;

pub(crate) struct Job {
    /// `exec::<B>` for the kind `B` stored in `data`: runs it when given the
    /// worker, cancels it when given `None`.
    exec: ExecFn,
    data: Payload,
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<Job>() == 4 * size_of::<usize>());

// SAFETY: a job is handed from the submitting thread to exactly one consumer.
// The submitter promised (by calling bg_submit) that `arg` may be used from
// another thread; task pointers are reference-counted and thread-safe, and
// every kind's other fields are (Arc of a Sync type, plain words).
unsafe impl Send for Job {}

impl Job {
    /// Stores `body` in a job.
    pub(crate) fn new<B: JobBody>(body: B) -> Job {
        #[allow(clippy::let_unit_value)] // evaluating the const is the check
        let () = Fits::<B>::CHECK;
        let mut data = Payload([MaybeUninit::uninit(); 3]);
        // SAFETY: the asserts above: `B` fits the payload and its alignment.
        unsafe { data.0.as_mut_ptr().cast::<B>().write(body) };
        Job { exec: exec::<B>, data }
    }

    /// A fire-and-forget C callback, stored inline.
    pub(crate) fn spawn(f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Job {
        Job::new(SpawnJob { f, arg, drop })
    }

    pub(crate) fn run(self, worker: &WorkerThread) -> Outcome {
        let [a, b, c] = self.data.0;
        // SAFETY: `exec` matches the payload (set together in `new`); self is
        // moved in, so the body is taken exactly once.
        unsafe { (self.exec)(a, b, c, Some(worker)) }
    }

    /// The body, if this job is of kind `B`: for the owner of a job it
    /// recognises, which then runs it directly and `abandon`s the job (a
    /// join's `b`, `join.rs`). By reference, so that only the words looked
    /// at are loaded. A `None` may be spurious (the compiler may duplicate a
    /// kind's code, so its address can differ), a `Some` never is: the
    /// caller must cope with running it as any job.
    #[inline]
    pub(crate) fn peek<B: JobBody>(&self) -> Option<&B> {
        if self.exec as *const () != exec::<B> as *const () {
            return None;
        }
        // SAFETY: `exec` is `exec::<B>`, so `data` holds a B written by `new`
        // and not taken yet (self is unconsumed).
        Some(unsafe { &*self.data.0.as_ptr().cast::<B>() })
    }

    /// Lets go of a job that was never queued (its submission was refused,
    /// or its owner took it back unrun): neither `fn` nor `drop` runs,
    /// because whoever made the job still owns what it refers to.
    pub(crate) fn abandon(self) {}

    /// Consumes the job without running it (see `JobBody::cancel`).
    pub(crate) fn cancel(self) -> Outcome {
        let [a, b, c] = self.data.0;
        // SAFETY: as in `run`.
        unsafe { (self.exec)(a, b, c, None) }
    }
}

/// A job is run or cancelled as its kind is: so `WorkerThread::execute`
/// takes a job, or a kind's body that some mechanism keeps by itself (a
/// group's call, `compose/group.rs`).
impl JobBody for Job {
    fn run(self, w: &WorkerThread) -> Outcome {
        Job::run(self, w)
    }

    fn cancel(self) -> Outcome {
        Job::cancel(self)
    }
}

/// Fails to compile (when `Job::new::<B>` is instantiated) unless a `B`
/// fits the payload.
struct Fits<B>(std::marker::PhantomData<B>);

impl<B> Fits<B> {
    const CHECK: () = {
        assert!(size_of::<B>() <= size_of::<Payload>(), "a job kind must fit in three words");
        assert!(align_of::<B>() <= align_of::<Payload>(), "a job kind must be word-aligned");
    };
}

/// Takes the `B` that `Job::new::<B>` stored and runs or cancels it.
///
/// # Safety
/// `a, b, c` must be the payload of a `B` written by `Job::new`, not taken before.
unsafe fn exec<B: JobBody>(a: Word, b: Word, c: Word, worker: Option<&WorkerThread>) -> Outcome {
    let data = Payload([a, b, c]);
    // SAFETY: the caller's contract; `new` checked size and alignment.
    let body = unsafe { data.0.as_ptr().cast::<B>().read() };
    match worker {
        Some(w) => body.run(w),
        None => body.cancel(),
    }
}

/// A fire-and-forget C callback: `f(arg)`, or `drop(arg)` if it never runs.
pub(crate) struct SpawnJob {
    f: RawFn,
    arg: *mut c_void,
    drop: Option<RawDrop>,
}

impl SpawnJob {
    pub(crate) fn new(f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> SpawnJob {
        SpawnJob { f, arg, drop }
    }

    /// Runs the callback with `call` (which calls it, and may observe it).
    pub(crate) fn run_with(self, w: &WorkerThread, call: impl FnOnce(RawFn, *mut c_void) -> c_int) -> Outcome {
        spawn_outcome(w, self.f, self.arg, call(self.f, self.arg))
    }
}

/// What a fire-and-forget callback's result code means: a failure goes to
/// the pool's error handler, since nobody waits for it.
pub(crate) fn spawn_outcome(w: &WorkerThread, f: RawFn, arg: *mut c_void, code: c_int) -> Outcome {
    if code == 0 {
        return Outcome::Ok;
    }
    w.registry().report_failure(crate::error::Failure {
        func: f as usize,
        arg: arg as usize,
        code,
        kind: crate::error::FailureKind::FireAndForget,
    });
    Outcome::Failed
}

/// Calls a task's function, firing the `start` and `end` probes around it.
/// `task` is the handle's address (0 for fire-and-forget).
#[inline(always)]
pub(crate) fn call_probed(w: &WorkerThread, f: RawFn, arg: *mut c_void, task: usize) -> c_int {
    // SAFETY: the user's callback with the user's arg, as submitted.
    call_probed_with(w, f, arg, task, || unsafe { f(arg) })
}

/// `call_probed` for a task whose function is called another way (`call`):
/// a continuation's. `f` and `arg` are what the probes report.
#[inline(always)]
pub(crate) fn call_probed_with(
    w: &WorkerThread,
    f: RawFn,
    arg: *mut c_void,
    task: usize,
    call: impl FnOnce() -> c_int,
) -> c_int {
    let _ = (f, arg, task); // the probes' arguments, on targets that have probes
    probe!("start", w.registry().id, w.index(), f as usize, arg as usize, task);
    let code = call();
    probe!("end", w.registry().id, w.index(), f as usize, arg as usize, code as i64);
    code
}

impl JobBody for SpawnJob {
    fn run(self, w: &WorkerThread) -> Outcome {
        self.run_with(w, |f, arg| call_probed(w, f, arg, 0))
    }

    fn cancel(self) -> Outcome {
        if let Some(d) = self.drop {
            // SAFETY: `f` will never run: the drop owns `arg` now.
            unsafe { d(self.arg) };
        }
        Outcome::Cancelled
    }
}
