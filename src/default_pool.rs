//! The default pool (the Python seed's `background.n`): started on first
//! use, one worker per CPU the process may run on (cgroup quota and affinity
//! respected), overridden by `BG_THREADS` or by `set_threads` before or
//! after it starts. `BG_QOS` (default, utility, background) sets its
//! threads' priority class (`qos.rs`). In a forked child it is rebuilt on first use.
//!
//! At process exit (`exit()` or a return from `main`) it drains, like
//! Python's executor at interpreter exit: an `atexit` handler, registered
//! when the pool first starts, runs what is queued and joins the workers,
//! for at most `BG_EXIT_TIMEOUT_MS` if that is set; tasks still queued then
//! are abandoned with the process.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Once;

use crate::fork::{self, GenLock};
use crate::pool::Pool;
use crate::registry::{Config, Registry, ResizeError, ShutdownMode, MAX_THREADS};

static DEFAULT: AtomicPtr<Pool> = AtomicPtr::new(std::ptr::null_mut());
static INIT: GenLock<()> = GenLock::new(());
/// A size asked for before the pool started (0 = none).
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// The size the default pool starts with.
pub fn initial_threads() -> usize {
    let asked = REQUESTED.load(Ordering::Relaxed);
    if asked != 0 {
        return asked;
    }
    if let Ok(v) = std::env::var("BG_THREADS") {
        match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_THREADS).contains(&n) => return n,
            _ => {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    eprintln!("background: ignoring BG_THREADS={v:?}: expected a number from 1 to {MAX_THREADS}")
                });
            }
        }
    }
    cpu_threads()
}

/// One thread per CPU this process may use (affinity mask and cgroup quota).
pub fn cpu_threads() -> usize {
    num_cpus::get().clamp(1, MAX_THREADS)
}

/// The started default pool of this process, if any.
pub fn get_if_started() -> Option<&'static Pool> {
    let p = DEFAULT.load(Ordering::Acquire);
    // SAFETY: DEFAULT only ever holds leaked, never-freed pools.
    let pool = unsafe { p.as_ref()? };
    (pool.reg.fork_gen() == fork::generation()).then_some(pool)
}

/// The pool a submit that names none goes to: the calling worker's own
/// inside a task (so its jobs go on that worker's deque), the default pool
/// (started if needed) elsewhere.
pub(crate) fn ambient() -> std::io::Result<&'static Registry> {
    match crate::worker::WorkerThread::current() {
        Some(w) => Ok(w.registry()),
        None => match crate::task::inline_pool() {
            // A waiting thread running a task in its place (task/caller_runs.rs).
            Some(reg) => Ok(reg),
            None => Ok(get()?.registry()),
        },
    }
}

/// The default pool, started if needed.
pub fn get() -> std::io::Result<&'static Pool> {
    if let Some(p) = get_if_started() {
        return Ok(p);
    }
    let _g = INIT.lock();
    if let Some(p) = get_if_started() {
        return Ok(p);
    }
    // A pool inherited from before a fork is leaked, never touched again:
    // its locks may be held by threads that do not exist here.
    let reg = Registry::new(Config {
        threads: initial_threads(),
        name: "bg".into(),
        qos: crate::qos::Qos::from_env(),
        ..Config::default()
    })?;
    let pool = Box::leak(Box::new(Pool::wrap(reg, true)));
    pool.own();
    DEFAULT.store(pool, Ordering::Release);
    register_exit_drain();
    Ok(pool)
}

/// Registers `drain_at_exit` once per process (a forked child inherits it).
fn register_exit_drain() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: atexit stores a plain function pointer; the library is linked
        // with -z nodelete, so the handler's code is still mapped at exit.
        if unsafe { libc::atexit(drain_at_exit) } != 0 {
            eprintln!("background: atexit failed: the default pool will not drain at exit");
        }
    });
}

/// The bound on the exit drain from `BG_EXIT_TIMEOUT_MS` (None = no bound).
fn exit_timeout_ns() -> Option<u64> {
    let v = std::env::var("BG_EXIT_TIMEOUT_MS").ok()?;
    match v.trim().parse::<u64>() {
        Ok(ms) => Some(ms.saturating_mul(1_000_000)),
        Err(_) => {
            eprintln!("background: ignoring BG_EXIT_TIMEOUT_MS={v:?}: expected milliseconds");
            None
        }
    }
}

/// Drains the default pool at process exit. From one of its own workers
/// (a task called `exit()`) the shutdown only closes the pool and returns
/// at once: a worker cannot join itself, and the process is ending anyway.
extern "C" fn drain_at_exit() {
    // No panic may unwind out of an atexit handler.
    let _ = std::panic::catch_unwind(|| {
        if let Some(p) = get_if_started() {
            let deadline = exit_timeout_ns().and_then(crate::sync::deadline_after);
            let _ = p.reg.shutdown(ShutdownMode::Drain, deadline);
        }
    });
}

/// Sets the default pool's size: remembered if it has not started, applied
/// live (grow at once, shrink at task boundaries) if it has.
pub fn set_threads(n: usize) -> Result<(), ResizeError> {
    if n == 0 || n > MAX_THREADS {
        return Err(ResizeError::InvalidSize);
    }
    let _g = INIT.lock();
    REQUESTED.store(n, Ordering::Relaxed);
    match get_if_started() {
        Some(p) => p.reg.set_threads(n),
        None => Ok(()),
    }
}

/// The default pool's size: its live size if started, else the size it will start with.
pub fn threads() -> usize {
    match get_if_started() {
        Some(p) => p.reg.target(),
        None => initial_threads(),
    }
}
