//! How a pool is built: bg_pool_options, read from C with its size checked.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;

use crate::capi::boundary;
use crate::capi::status::bg_status::{self, *};
use crate::default_pool;
use crate::registry::{Config, MAX_THREADS};

/// Called on each worker thread as it starts or stops, with the thread's
/// index in its pool (0-based) and the options' `hook_ctx`.
pub type bg_thread_hook = Option<unsafe extern "C" fn(ctx: *mut c_void, index: usize)>;

/// How to build a pool. Always initialise with bg_pool_options_init() and
/// then change fields: the struct grows at the end in later versions, and
/// `struct_size` tells the library which version you compiled against.
#[repr(C)]
pub struct bg_pool_options {
    /// sizeof(bg_pool_options) as your program sees it; set by bg_pool_options_init().
    pub struct_size: usize,
    /// Worker threads, 1 to 1024; 0 means one per CPU available to the process.
    pub threads: usize,
    /// Thread name prefix (copied): threads are named "<prefix>-<index>", as
    /// `top -H` and gdb show them (Linux keeps 15 bytes). NULL means "bg".
    pub name_prefix: *const c_char,
    /// Stack size of each worker in bytes; 0 means the system default for
    /// new threads (glibc derives it from RLIMIT_STACK: typically 8 MiB).
    /// It bounds how deep helping waits nest (see bg_wait()).
    pub stack_size: usize,
    /// Refuse submissions with BG_EFULL once this many tasks are queued
    /// (back-pressure); 0 means no bound. Tasks cancelled while queued keep
    /// their place until a worker skips them.
    pub max_queued: usize,
    /// Runs on each worker thread when it starts, before any task; may be NULL.
    pub on_thread_start: bg_thread_hook,
    /// Runs on each worker thread when it stops, after its last task; may be NULL.
    pub on_thread_stop: bg_thread_hook,
    /// Passed to both hooks.
    pub hook_ctx: *mut c_void,
    // Fields appended by later versions follow, each after its own comment.
    /// Non-zero: time each task's queue wait and run (bg_pool_timing(),
    /// bg_stats.queue_wait_ns and run_ns): three clock reads per task more.
    pub timing: c_int,
}

/// Fills `options` with the defaults and sets its `struct_size`.
#[no_mangle]
pub extern "C" fn bg_pool_options_init(options: *mut bg_pool_options) {
    boundary(|| {
        // SAFETY: the caller passes a writable bg_pool_options (or NULL, checked).
        if let Some(o) = unsafe { options.as_mut() } {
            *o = bg_pool_options {
                struct_size: std::mem::size_of::<bg_pool_options>(),
                threads: 0,
                name_prefix: std::ptr::null(),
                stack_size: 0,
                max_queued: 0,
                on_thread_start: None,
                on_thread_stop: None,
                hook_ctx: std::ptr::null_mut(),
                timing: 0,
            };
        }
    })
}

/// Reads options from C, checking the size the caller compiled against: a
/// smaller struct is rejected; a larger one (a newer header) is accepted
/// only if every field this library does not know is zero.
pub(crate) fn read_options(o: *const bg_pool_options) -> Result<Config, bg_status> {
    let mut cfg = Config { threads: default_pool::cpu_threads(), name: "bg".into(), ..Config::default() };
    // SAFETY: the caller passes a readable options struct (or NULL, checked);
    // struct_size is read first and bounds every other read.
    let Some(o) = (unsafe { o.as_ref() }) else { return Ok(cfg) };
    let ours = std::mem::size_of::<bg_pool_options>();
    if o.struct_size < ours || o.struct_size > 4096 {
        return Err(BG_EINVAL);
    }
    if o.struct_size > ours {
        // SAFETY: the caller declared struct_size readable bytes at `o`.
        let extra = unsafe { std::slice::from_raw_parts((o as *const _ as *const u8).add(ours), o.struct_size - ours) };
        if extra.iter().any(|&b| b != 0) {
            return Err(BG_EINVAL);
        }
    }
    if o.threads > MAX_THREADS {
        return Err(BG_EINVAL);
    }
    if o.threads != 0 {
        cfg.threads = o.threads;
    }
    if !o.name_prefix.is_null() {
        // SAFETY: name_prefix is documented as a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(o.name_prefix) }.to_string_lossy().into_owned();
        if name.contains('\0') || name.len() > 256 {
            return Err(BG_EINVAL);
        }
        cfg.name = name;
    }
    cfg.stack_size = o.stack_size;
    cfg.max_queued = o.max_queued;
    cfg.timing = o.timing != 0;
    let ctx = o.hook_ctx as usize;
    if let Some(h) = o.on_thread_start {
        // SAFETY (when called): the user's hook with the user's context, as documented.
        cfg.on_thread_start = Some(Arc::new(move |i| unsafe { h(ctx as *mut c_void, i) }));
    }
    if let Some(h) = o.on_thread_stop {
        // SAFETY: as above.
        cfg.on_thread_stop = Some(Arc::new(move |i| unsafe { h(ctx as *mut c_void, i) }));
    }
    Ok(cfg)
}
