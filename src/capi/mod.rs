//! The C ABI: the only place with `#[no_mangle]` items. cbindgen turns
//! these files (in the order below) into `include/background.h`.
//!
//! Conventions, for every function:
//! * Fallible functions return a `bg_status` (0 = `BG_OK`); outputs are
//!   written, and ownership moves, only on success.
//! * NULL and detectably invalid pointers get `BG_EINVAL`, never a crash:
//!   every opaque pointer becomes a Rust object through `castable::try_ref`,
//!   typed per C type, and a Rust object becomes a C pointer through `to_c`.
//! * Every body runs inside [`boundary`]: a Rust panic becomes `BG_EPANIC`
//!   (or NULL, false, 0), and never unwinds into C.
//! * Rust names equal C names, so grep finds both sides.

#![allow(non_camel_case_types)]
// These functions are called from C, which has no `unsafe`: the validity of
// every pointer argument is the C caller's contract, stated in the header.
// Marking them `unsafe fn` would change nothing for C and hide that from no one.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

// The header follows this order: statuses, tasks, pools (the default pool
// after the others), composition, version.
mod castable;
pub mod status;
pub mod task;
pub mod options;
pub mod pool;
pub mod control;
pub mod observe;
pub mod default_pool;
pub mod join;
pub mod compose;
pub mod version;

use std::panic::{catch_unwind, AssertUnwindSafe};

use status::bg_status;

/// The most worker threads a pool can have.
pub const BG_MAX_THREADS: usize = 1024;
const _: () = assert!(BG_MAX_THREADS == crate::registry::MAX_THREADS);

/// What a function returns when a panic was caught at the boundary.
pub(crate) trait PanicDefault {
    fn on_panic() -> Self;
}

impl PanicDefault for bg_status {
    fn on_panic() -> Self {
        bg_status::BG_EPANIC
    }
}

impl<T> PanicDefault for *mut T {
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> PanicDefault for *const T {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl PanicDefault for bool {
    fn on_panic() -> Self {
        false
    }
}

impl PanicDefault for usize {
    fn on_panic() -> Self {
        0
    }
}

impl PanicDefault for u32 {
    fn on_panic() -> Self {
        0
    }
}

/// The only `int` returned is a file descriptor (bg_cq_fd): -1 is "none".
impl PanicDefault for std::ffi::c_int {
    fn on_panic() -> Self {
        -1
    }
}

impl PanicDefault for () {
    fn on_panic() -> Self {}
}

/// Writes `v` to `*out`, or nothing if `out` is NULL (an optional output).
pub(crate) fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: C passes writable storage for every non-null output (the
        // header's contract); `write` drops nothing that was there.
        unsafe { out.write(v) };
    }
}

/// Runs an exported function's body; no panic crosses into C.
pub(crate) fn boundary<R: PanicDefault>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            eprintln!("background: internal error caught at the C boundary");
            R::on_panic()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status_not_an_unwind() {
        std::panic::set_hook(Box::new(|_| {}));
        assert_eq!(boundary(|| -> bg_status { panic!("bug") }), bg_status::BG_EPANIC);
        assert!(boundary(|| -> *mut u8 { panic!("bug") }).is_null());
        assert!(!boundary(|| -> bool { panic!("bug") }));
        let _ = std::panic::take_hook();
    }
}
