//! Worker stacks: how big they are, and how deep a helping wait may nest
//! tasks on one (`WorkerThread::wait_helping`).

/// The stack a worker gets for `requested` bytes: 0 means the platform's
/// default for new threads (glibc's comes from RLIMIT_STACK, typically
/// 8 MiB), not Rust's 2 MiB, which cut recursive helping waits short.
pub(crate) fn size(requested: usize) -> usize {
    if requested != 0 {
        return requested;
    }
    // SAFETY: a zeroed attr is initialised by pthread_attr_init before use and
    // destroyed after; getstacksize only writes `size`.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let mut size = 0usize;
        if libc::pthread_attr_init(&mut attr) == 0 {
            libc::pthread_attr_getstacksize(&attr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
        }
        size.max(MIN_DEFAULT_STACK)
    }
}
const MIN_DEFAULT_STACK: usize = 2 << 20;

/// A helping wait takes no more work once less than this share of the
/// worker's stack is left (clamped to `STACK_RESERVE_MIN..=STACK_RESERVE_MAX`):
/// each nested help costs the stack of a whole task, and running out is a
/// silent crash, while blocking lets the other workers run the awaited task.
const STACK_RESERVE_DIV: usize = 8;
const STACK_RESERVE_MIN: usize = 32 << 10;
const STACK_RESERVE_MAX: usize = 1 << 20;

/// An address in the current stack frame.
#[inline(always)]
pub(crate) fn pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// The stack address below which a helping wait on this thread stops taking
/// work; called at the top of a worker's stack (`main_loop`) with the pool's
/// requested size.
pub(crate) fn helping_floor(requested: usize) -> usize {
    let size = size(requested);
    let reserve = (size / STACK_RESERVE_DIV).clamp(STACK_RESERVE_MIN, STACK_RESERVE_MAX);
    pointer().saturating_sub(size).saturating_add(reserve)
}
