//! Parallel loops: a range split recursively over the work-stealing deques.

use std::ffi::c_void;

use crate::capi::boundary;
use crate::capi::castable::try_ref;
use crate::capi::pool::{bg_pool, submit_error_status};
use crate::capi::status::bg_status::{self, *};
use crate::compose::parallel_for;

/// A parallel loop's body: handles the items `[lo, hi)`, with the `ctx`
/// given to bg_parallel_for(). Called from several threads at once, on
/// disjoint ranges.
pub type bg_range_fn = Option<unsafe extern "C" fn(lo: usize, hi: usize, ctx: *mut c_void)>;

/// Runs `body` over `[begin, end)` in chunks of at most `grain` items
/// (0: chosen from the range and the pool's size), splitting the range
/// recursively over the pool's work-stealing deques, and returns once every
/// chunk has run (dispatch_apply, TBB parallel_for). The calling thread
/// runs chunks too: from outside the pool, the first chunk and, if the loop
/// turns out short or every worker is busy, as many as it can; a long loop
/// it leaves to the pool's threads while it waits, so that the loop uses as
/// many threads as the pool has. From inside a task it waits helping, so
/// nested loops work, even on a one-thread pool.
///
/// Returns BG_OK when every chunk ran (also for an empty range);
/// BG_ESHUTDOWN if the pool is shut down (nothing ran) or shut down in
/// cancel mode during the loop (some chunks never ran); BG_EINVAL (NULL
/// pool or body, `begin > end`); BG_EFORKED.
#[no_mangle]
pub extern "C" fn bg_parallel_for(
    pool: *mut bg_pool,
    begin: usize,
    end: usize,
    grain: usize,
    body: bg_range_fn,
    ctx: *mut c_void,
) -> bg_status {
    boundary(|| {
        let Some(p) = try_ref(pool) else { return BG_EINVAL };
        let Some(body) = body else { return BG_EINVAL };
        if begin > end {
            return BG_EINVAL;
        }
        match parallel_for::parallel_for(p.registry(), begin, end, grain, body, ctx) {
            Ok(true) => BG_OK,
            Ok(false) => BG_ESHUTDOWN,
            Err(e) => submit_error_status(e),
        }
    })
}
