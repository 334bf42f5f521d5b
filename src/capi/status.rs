use std::ffi::{c_char, c_int};

use crate::capi::boundary;

/// The status every fallible function returns. 0 means success; values are
/// never renumbered, new ones are only added at the end.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum bg_status {
    /// Success. For a wait: the task ran and returned 0.
    BG_OK = 0,
    /// The task ran and returned a non-zero code, written to `*result`.
    BG_EFAILED = 1,
    /// The task was cancelled by bg_cancel() before it started; its drop ran.
    BG_ECANCELLED = 2,
    /// The pool is shut down: the task was refused, or (from a wait) it was
    /// queued when the pool shut down in cancel mode, never ran, and its drop ran.
    BG_ESHUTDOWN = 3,
    /// The timeout passed first. Nothing else changed.
    BG_ETIMEDOUT = 4,
    /// The pool's bound on queued tasks is reached; nothing was queued.
    BG_EFULL = 5,
    /// An argument is NULL, out of range, or not a live object.
    BG_EINVAL = 6,
    /// bg_cancel(): the task has already started; it will finish normally.
    BG_ERUNNING = 7,
    /// bg_cancel(): the task has already ended (ran, or was cancelled).
    BG_EDONE = 8,
    /// The call would deadlock, for example shutting a pool down from one of
    /// its own workers. Call it from outside the pool instead.
    BG_EDEADLK = 9,
    /// Out of memory, or the system refused to create a thread.
    BG_ENOMEM = 10,
    /// The pool or task belongs to the parent of this fork()ed process.
    BG_EFORKED = 11,
    /// An internal error was caught at the library boundary (a bug: please report it).
    BG_EPANIC = 12,
    /// The task had a start deadline (bg_submit_options.deadline_ns) and no
    /// worker took it by then: it never ran, and its drop ran.
    BG_EEXPIRED = 13,
}

impl bg_status {
    pub(crate) fn message(self) -> &'static [u8] {
        use bg_status::*;
        match self {
            BG_OK => b"success\0",
            BG_EFAILED => b"the task returned a non-zero code\0",
            BG_ECANCELLED => b"the task was cancelled before it started\0",
            BG_ESHUTDOWN => b"the pool is shut down\0",
            BG_ETIMEDOUT => b"timed out\0",
            BG_EFULL => b"the pool's queue is full\0",
            BG_EINVAL => b"invalid argument\0",
            BG_ERUNNING => b"the task is already running\0",
            BG_EDONE => b"the task has already ended\0",
            BG_EDEADLK => b"the call would deadlock\0",
            BG_ENOMEM => b"out of memory or threads\0",
            BG_EFORKED => b"the object belongs to the parent process (fork)\0",
            BG_EPANIC => b"internal error in the background library\0",
            BG_EEXPIRED => b"the task's start deadline passed before it started\0",
        }
    }

    pub(crate) fn from_code(code: c_int) -> Option<bg_status> {
        use bg_status::*;
        Some(match code {
            0 => BG_OK,
            1 => BG_EFAILED,
            2 => BG_ECANCELLED,
            3 => BG_ESHUTDOWN,
            4 => BG_ETIMEDOUT,
            5 => BG_EFULL,
            6 => BG_EINVAL,
            7 => BG_ERUNNING,
            8 => BG_EDONE,
            9 => BG_EDEADLK,
            10 => BG_ENOMEM,
            11 => BG_EFORKED,
            12 => BG_EPANIC,
            13 => BG_EEXPIRED,
            _ => return None,
        })
    }
}

/// A static, human-readable description of a status code. Unknown codes
/// give "unknown status". Never NULL; never free it.
#[no_mangle]
pub extern "C" fn bg_strerror(code: c_int) -> *const c_char {
    boundary(|| {
        let msg: &'static [u8] = bg_status::from_code(code).map_or(b"unknown status\0", |s| s.message());
        msg.as_ptr() as *const c_char
    })
}
