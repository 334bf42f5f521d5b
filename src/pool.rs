//! The pool as users hold it: a checked, owned reference to a registry, and
//! the operations on it that the C ABI exposes.

use std::ffi::c_void;
use std::sync::Arc;

use crate::job::{RawDrop, RawFn};
use crate::registry::{Config, Registry, SubmitError};
use crate::sync::{AtomicU64, Ordering};
use crate::task::Task;
use crate::worker::WorkerThread;

const MAGIC_LIVE: u64 = 0x6267_5f70_6f6f_6c21; // "bg_pool!"
const MAGIC_DEAD: u64 = 0x6465_6164_706f_6f6c;

pub struct Pool {
    magic: AtomicU64,
    pub(crate) reg: Arc<Registry>,
    /// The default pool is never freed.
    pub(crate) is_default: bool,
}

impl Pool {
    pub fn new(config: Config) -> std::io::Result<Box<Pool>> {
        let pool = Box::new(Pool::wrap(Registry::new(config)?, false));
        pool.own();
        Ok(pool)
    }

    /// Makes this the pool its tasks see as theirs (`current`). Called once
    /// the pool has its final address, before anyone can submit to it.
    pub(crate) fn own(&self) {
        self.reg.owner.store(self as *const Pool as *mut c_void, Ordering::Release);
    }

    /// The pool whose task the calling thread is running: None outside a
    /// task, on a pool nobody holds, and in a fork() child.
    pub(crate) fn current() -> Option<&'static Pool> {
        // A waiting thread running a task of the pool in its place counts too.
        let reg = match WorkerThread::current() {
            Some(w) => w.registry(),
            None => crate::task::inline_pool()?,
        };
        let p = reg.owner.load(Ordering::Acquire) as *const Pool;
        // SAFETY: `owner` points at the live Pool of this registry: a pool is
        // freed only after its workers have exited, and this is one of them.
        unsafe { p.as_ref() }
    }

    pub(crate) fn wrap(reg: Arc<Registry>, is_default: bool) -> Pool {
        Pool { magic: AtomicU64::new(MAGIC_LIVE), reg, is_default }
    }

    /// Best-effort check that a pointer from C still refers to a live pool.
    pub fn is_live(&self) -> bool {
        self.magic.load(Ordering::Relaxed) == MAGIC_LIVE
    }

    pub(crate) fn mark_dead(&self) {
        self.magic.store(MAGIC_DEAD, Ordering::Relaxed);
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.reg
    }

    pub fn spawn(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<(), SubmitError> {
        self.reg.spawn_fn(f, arg, drop)
    }

    pub fn submit(&self, f: RawFn, arg: *mut c_void, drop: Option<RawDrop>) -> Result<*const Task, SubmitError> {
        self.reg.submit_fn(f, arg, drop)
    }
}
