//! How a pool is built: bg_pool_options, read from C with its size checked.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;

use crate::capi::boundary;
use crate::capi::status::bg_status::{self, *};
use crate::default_pool;
use crate::qos::Qos;
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
    /// The most threads the pool runs at once, workers plus spare threads
    /// started while workers are blocked in the kernel inside a task (see
    /// "Blocking tasks" in the README). 0 means the default: 4 per worker,
    /// at least 256, at most 1024. Equal to `threads`: no spares. Below
    /// `threads`, or above 1024: BG_EINVAL.
    pub max_threads: usize,
    /// The threads' CPU and I/O priority class (spares inherit it).
    pub qos: bg_qos,
    /// Non-zero: time each task's queue wait and run (bg_pool_timing(),
    /// bg_stats.queue_wait_ns and run_ns): three clock reads per task more.
    pub timing: c_int,
}

/// How much priority a pool's threads give the rest of the process.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum bg_qos {
    /// The priority of the thread that created the pool (today's behaviour).
    BG_QOS_DEFAULT = 0,
    /// Nice +10 and the lowest best-effort I/O priority.
    BG_QOS_UTILITY = 1,
    /// Nice 19 and the lowest best-effort I/O priority: the foreground
    /// keeps its latency while the pool computes (see the README).
    BG_QOS_BACKGROUND = 2,
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
                max_threads: 0,
                qos: bg_qos::BG_QOS_DEFAULT,
                timing: 0,
            };
        }
    })
}

/// The size of the first version of bg_pool_options (up to `hook_ctx`),
/// from before `max_threads` and `qos` were appended.
const V1_SIZE: usize = std::mem::offset_of!(bg_pool_options, max_threads);

/// Reads options from C, checking the size the caller compiled against: the
/// first version's struct reads as if the fields it lacks were zero; a larger one (a newer header) is accepted only if
/// every field this library does not know is zero.
pub(crate) fn read_options(o: *const bg_pool_options) -> Result<Config, bg_status> {
    let mut cfg = Config { threads: default_pool::cpu_threads(), name: "bg".into(), ..Config::default() };
    if o.is_null() {
        return Ok(cfg);
    }
    // SAFETY: the caller passes a readable options struct; struct_size, its
    // first field, is read first and bounds every other read.
    let size = unsafe { std::ptr::addr_of!((*o).struct_size).read() };
    let ours = std::mem::size_of::<bg_pool_options>();
    // Only the sizes a header ever had: the first version's, or this one's
    // or larger (`timing` filled padding, so versions 2 and 3 share a size).
    // Any other is a broken caller, not an older header.
    if size != V1_SIZE && !(ours..=4096).contains(&size) {
        return Err(BG_EINVAL);
    }
    if size > ours {
        // SAFETY: the caller declared struct_size readable bytes at `o`.
        let extra = unsafe { std::slice::from_raw_parts((o as *const u8).add(ours), size - ours) };
        if extra.iter().any(|&b| b != 0) {
            return Err(BG_EINVAL);
        }
    }
    let qos_at = std::mem::offset_of!(bg_pool_options, qos);
    if size >= qos_at + 4 {
        // SAFETY: within the struct_size bytes declared readable; read as an
        // integer, since a C caller may store any value in the enum's field.
        let qos = unsafe { (o as *const u8).add(qos_at).cast::<u32>().read_unaligned() };
        if qos > bg_qos::BG_QOS_BACKGROUND as u32 {
            return Err(BG_EINVAL);
        }
    }
    // SAFETY: all-zero bytes are a valid bg_pool_options (null pointers, no
    // hooks, BG_QOS_DEFAULT); then min(size, ours) bytes, the qos among them
    // checked valid above, the caller declared
    // readable are copied over it.
    let o = unsafe {
        let mut copy: bg_pool_options = std::mem::zeroed();
        std::ptr::copy_nonoverlapping(o as *const u8, &mut copy as *mut _ as *mut u8, size.min(ours));
        copy
    };
    let o = &o;
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
    if o.max_threads != 0 && (o.max_threads < cfg.threads || o.max_threads > MAX_THREADS) {
        return Err(BG_EINVAL);
    }
    cfg.max_threads = o.max_threads;
    cfg.qos = match o.qos {
        bg_qos::BG_QOS_DEFAULT => Qos::Default,
        bg_qos::BG_QOS_UTILITY => Qos::Utility,
        bg_qos::BG_QOS_BACKGROUND => Qos::Background,
    };
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
