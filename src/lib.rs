//! background: run callbacks on a work-stealing thread pool, from C, C++ and Go.
//!
//! The crate is a safe-ish Rust core with a thin C ABI on top (`capi`). One
//! mechanism per file:
//!
//! | file | what it is |
//! |---|---|
//! | `job.rs` | what a unit of work is (stored by value, consumed exactly once) |
//! | `task.rs` | the waitable handle and its state machine |
//! | `join.rs` | fork-join: `b` offered from the caller's stack, `a` run inline; `worker/join.rs`: the worker's side |
//! | `latch.rs` | one-shot latches: a group's or a parallel loop's end |
//! | `slab.rs` | memory for handles: per-thread slabs, no malloc per task |
//! | `depot.rs` | where slabs come from: mapped regions, a free list, memory given back when unused |
//! | `reclaim.rs` | what the threads of pools that are gone leave behind in crossbeam-epoch, given back |
//! | `lifecycle.rs` | a pool's states and the one admission rule every submit path asks |
//! | `registry.rs` | a pool's queues, admission, shutdown, the per-pool extension hook; `registry/table.rs`: the table of all pools; `registry/admission.rs`: admitted submitters queueing jobs |
//! | `resize.rs`, `stats.rs` | worker slots and live resizing; the statistics |
//! | `observe.rs`, `probe.rs` | task timing and hooks for tracers; USDT probes |
//! | `monitor.rs`, `blocking.rs` | finding workers blocked in the kernel; spare threads that stand in for them |
//! | `qos.rs` | a pool's CPU and I/O priority class |
//! | `worker.rs` | a worker thread: running work, idling, helping while waiting; `worker/find.rs`: finding work; `worker/help.rs`: the helping wait |
//! | `stack.rs` | worker stacks: the default size, how deep helping may nest |
//! | `sleep.rs` + `sleep.md` | how idle workers park and are woken |
//! | `error.rs` | failures nobody waits for go to an error handler |
//! | `control.rs` | pause and resume, waiting for room and for idle |
//! | `deadline.rs`, `priority.rs` | start deadlines (a job kind); high and low queues |
//! | `fork.rs` | what a forked child inherits |
//! | `pool.rs`, `default_pool.rs` | pools as users hold them; the default pool |
//! | `compose/` | continuations, groups, serial queues, lanes, batches, delays, parallel loops, completion queues |
//! | `capi/` | the C ABI, from which cbindgen writes `include/background.h` |
//!
//! Layers, and what each may import (a tree: `tests/layers.rs` fails when a
//! core module names an upper layer):
//!
//! ```text
//! capi/          the C ABI: translates arguments and statuses, decides nothing
//!   compose/     composition, built on the jobs, handles and hooks of the core
//!     core       job, join, task, latch, slab, depot, reclaim, registry, lifecycle, resize,
//!                stats, observe, probe, worker, stack, sleep, sync, fork, error, pool,
//!                default_pool, control, deadline, priority, monitor, blocking, qos
//! ```
//!
//! Each layer may import the ones below it, never one above. Within the
//! core, memory does not drive the scheduler: `depot.rs` names no scheduler
//! module (it wakes a parked worker through a hook the registry sets).
//!
//! The core never imports `compose` or `capi`: what composition keeps per
//! pool hangs off the registry as an `Extension` that shutdown closes.

#![allow(clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]

// Only the C ABI is public: everything else is reached through it.
pub mod capi;
mod compose;
mod control;
mod deadline;
mod default_pool;
mod blocking;
mod depot;
mod reclaim;
mod error;
mod fork;
mod job;
mod join;
mod latch;
mod lifecycle;
mod monitor;
mod observe;
mod pool;
mod priority;
mod probe;
mod qos;
mod registry;
mod resize;
mod slab;
mod sleep;
mod stack;
mod stats;
mod sync;
mod task;
mod worker;
