//! USDT probes: static tracepoints that `bpftrace`, `perf` and SystemTap
//! find in the ELF notes of the library and can attach to in a running
//! process, with nothing enabled in it.
//!
//! Each probe is what `sys/sdt.h`'s `STAP_PROBEn` emits, written with
//! `asm!` because Rust has no sdt.h: a `nop` at the probe site and a
//! `.note.stapsdt` ELF note naming the provider (`background`), the probe,
//! the `nop`'s address and where each argument is (`8@%rdi`: 8 bytes in
//! that register). No semaphore: a probe nobody attached to costs the
//! `nop` and keeping its arguments in registers, no branch, no load. An
//! attached tracer turns the `nop` into a breakpoint.
//!
//! The probes, all arguments 64-bit unsigned:
//!
//! | probe | arguments | where |
//! |---|---|---|
//! | `submit` | pool id, fn, arg, task (0 for fire-and-forget) | a task is being queued (`bg_submit`, `bg_spawn`, `bg_pool_submit`); before the queue, so that it comes before `start`: a refused submission fires it too |
//! | `start` | pool id, worker index, fn, arg, task | a task's function is about to be called |
//! | `end` | pool id, worker index, fn, arg, result code | it returned (same thread as `start`, nested LIFO) |
//! | `steal` | pool id, thief's index, victim's index | a worker took work from another's deque |
//! | `park` | pool id, worker index | an idle worker goes to sleep |
//! | `wake` | pool id, worker index | it woke up |
//! | `spare_start`, `spare_stop` | pool id, thread index | a spare thread (blocking compensation) starts / stops |
//!
//! `spare_stop` also fires when a grow makes a spare a worker (it goes on
//! as one, under the same index).
//!
//! x86_64 Linux only; elsewhere the probes compile to nothing.

/// Fires USDT probe `background:$name` with up to six `u64` arguments.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
macro_rules! probe {
    (@note $name:literal, $args:literal, $($operands:tt)*) => {
        // SAFETY: a `nop` plus data in a non-allocated note section, the
        // same bytes sys/sdt.h emits: no memory, stack or flags touched.
        unsafe {
            core::arch::asm!(
                // The note is linked (SHF_LINK_ORDER) to the code's section, so
                // that the linker drops it with the function when that is
                // unused (sdt.h's "?" group does this for C's comdat code).
                // Each site needs a label of its own, across asm blocks: a counter.
                ".ifndef .L_bg_probe_n",
                ".set .L_bg_probe_n, 0",
                ".endif",
                ".set .L_bg_probe_n, .L_bg_probe_n + 1",
                ".altmacro",
                ".macro _bg_probe n",
                ".L_bg_probe_\\n: nop",
                ".pushsection .note.stapsdt,\"o\",\"note\",.L_bg_probe_\\n",
                ".balign 4",
                ".4byte 992f-991f, 994f-993f, 3",
                "991: .asciz \"stapsdt\"",
                "992: .balign 4",
                "993: .8byte .L_bg_probe_\\n",
                ".8byte _.stapsdt.base",
                ".8byte 0",
                ".asciz \"background\"",
                concat!(".asciz \"", $name, "\""),
                concat!(".asciz \"", $args, "\""),
                "994: .balign 4",
                ".popsection",
                ".endm",
                "_bg_probe %(.L_bg_probe_n)",
                ".purgem _bg_probe",
                ".noaltmacro",
                ".ifndef _.stapsdt.base",
                ".pushsection .stapsdt.base,\"aGR\",\"progbits\",.stapsdt.base,comdat",
                ".weak _.stapsdt.base",
                ".hidden _.stapsdt.base",
                "_.stapsdt.base: .space 1",
                ".size _.stapsdt.base, 1",
                ".popsection",
                ".endif",
                $($operands)*
                options(att_syntax, nomem, nostack, preserves_flags),
            )
        }
    };
    ($name:literal, $a:expr, $b:expr) => {
        probe!(@note $name, "8@{0} 8@{1}", in(reg) ($a) as u64, in(reg) ($b) as u64,)
    };
    ($name:literal, $a:expr, $b:expr, $c:expr) => {
        probe!(@note $name, "8@{0} 8@{1} 8@{2}", in(reg) ($a) as u64, in(reg) ($b) as u64, in(reg) ($c) as u64,)
    };
    ($name:literal, $a:expr, $b:expr, $c:expr, $d:expr) => {
        probe!(@note $name, "8@{0} 8@{1} 8@{2} 8@{3}",
            in(reg) ($a) as u64, in(reg) ($b) as u64, in(reg) ($c) as u64, in(reg) ($d) as u64,)
    };
    ($name:literal, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => {
        probe!(@note $name, "8@{0} 8@{1} 8@{2} 8@{3} 8@{4}",
            in(reg) ($a) as u64, in(reg) ($b) as u64, in(reg) ($c) as u64, in(reg) ($d) as u64,
            in(reg) ($e) as u64,)
    };
}

/// Elsewhere: the arguments are not even evaluated.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
macro_rules! probe {
    ($name:literal $(, $arg:expr)*) => {{}};
}

pub(crate) use probe;

/// A spare thread starts (`blocking.rs`).
pub(crate) fn spare_start(pool: u64, idx: usize) {
    let _ = (pool, idx); // unused where probes compile to nothing
    probe!("spare_start", pool, idx);
}

/// A spare thread stops, or a grow made it a worker.
pub(crate) fn spare_stop(pool: u64, idx: usize) {
    let _ = (pool, idx);
    probe!("spare_stop", pool, idx);
}
