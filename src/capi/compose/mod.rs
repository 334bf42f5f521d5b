//! The C ABI of composition (`src/compose/`), one file per mechanism as
//! there: continuations, groups, serial queues, keyed lanes, batches,
//! delayed tasks, parallel loops and completion queues. Same conventions as
//! the rest of the header; cbindgen reads the files in the order below.

use std::ffi::c_void;

use crate::capi::castable::to_c;
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
mod limit;
mod submit_options;
mod batch;
mod timer;
mod parallel_for;
mod completion;

pub use batch::*;
pub use completion::*;
pub use continuation::*;
pub use group::*;
pub use lanes::*;
pub use limit::*;
pub use parallel_for::*;
pub use serial::*;
pub use submit_options::*;
pub use timer::*;

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
            put(out, to_c(uj.task));
            BG_OK
        }
        Err((e, job)) => {
            UserJob::refuse(uj.task, job);
            status(e)
        }
    }
}
