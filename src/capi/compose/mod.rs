//! The C ABI of composition (`src/compose/`), one file per mechanism as
//! there: continuations, groups, serial queues, keyed lanes, batches,
//! delayed tasks, parallel loops and completion queues. Same conventions as
//! the rest of the header; cbindgen reads the files in the order below.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::capi::put;
use crate::capi::status::bg_status::{self, *};
use crate::capi::task::{bg_drop_fn, bg_fn, bg_task};
use crate::compose::UserJob;
use crate::job::Job;
use crate::registry::Registry;
use crate::task::Task;

// The header follows this order.
mod continuation;
mod group;
mod serial;
mod lanes;
mod batch;
mod timer;
mod parallel_for;
mod completion;

pub use batch::*;
pub use completion::*;
pub use continuation::*;
pub use group::*;
pub use lanes::*;
pub use parallel_for::*;
pub use serial::*;
pub use timer::*;

// ---- handles ---------------------------------------------------------------

/// What a C pointer to one of these objects points at: a magic word that
/// catches most freed or foreign pointers, and the object.
struct Handle<T> {
    magic: AtomicU64,
    inner: T,
}

const DEAD: u64 = 0x6465_6164_6465_6164;
const GROUP: u64 = 0x6267_5f67_726f_7570; // "bg_group"
const SERIAL: u64 = 0x6267_5f73_6572_6961; // "bg_seria"
const BATCH: u64 = 0x6267_5f62_6174_6368; // "bg_batch"
const CQ: u64 = 0x6267_5f63_715f_5f5f; // "bg_cq___"

fn new_handle<T, C>(magic: u64, inner: T) -> *mut C {
    Box::into_raw(Box::new(Handle { magic: AtomicU64::new(magic), inner })) as *mut C
}

fn handle_ref<'a, T, C>(p: *const C, magic: u64) -> Option<&'a T> {
    // SAFETY: non-null pointers from C are assumed to be handles we returned;
    // the magic check then catches most freed or foreign pointers.
    let h = unsafe { (p as *const Handle<T>).as_ref()? };
    (h.magic.load(Ordering::Relaxed) == magic).then_some(&h.inner)
}

fn free_handle<T, C>(p: *mut C, magic: u64) -> Option<T> {
    handle_ref::<T, C>(p, magic)?;
    // SAFETY: a live handle of this type came from Box::into_raw in new_handle.
    let h = unsafe { Box::from_raw(p as *mut Handle<T>) };
    h.magic.store(DEAD, Ordering::Relaxed);
    Some(h.inner)
}

/// Makes `fn(arg)` a job (with a handle if `out` asks for one) and hands it
/// to `queue`. Accepted: the handle goes to `out`. Refused: neither `fn`
/// nor `drop` runs, `arg` stays the caller's, and `status` names why.
fn submit_user<E>(
    reg: &Registry,
    func: bg_fn,
    arg: *mut c_void,
    drop: bg_drop_fn,
    out: *mut *mut bg_task,
    queue: impl FnOnce(Job, *const Task) -> Result<(), (E, Job)>,
    status: impl FnOnce(E) -> bg_status,
) -> bg_status {
    let Some(f) = func else { return BG_EINVAL };
    let uj = UserJob::new(reg, f, arg, drop, !out.is_null());
    match queue(uj.job, uj.task) {
        Ok(()) => {
            put(out, uj.task as *mut bg_task);
            BG_OK
        }
        Err((e, job)) => {
            UserJob::refuse(uj.task, job);
            status(e)
        }
    }
}
