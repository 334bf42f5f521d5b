//! rayon behind the C functions bench/peer_rayon.c calls. Tasks call back
//! into the driver's `bench_task`; the fork-join, loop and group workloads
//! use rayon's own constructs (`join`, `par_iter_mut`'s splitting, `scope`).

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, OnceLock};

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

extern "C" {
    fn bench_task(arg: *mut c_void) -> c_int;
    fn bench_counter_word() -> *mut u64;
}

static POOL: OnceLock<ThreadPool> = OnceLock::new();

fn pool() -> &'static ThreadPool {
    POOL.get().expect("rayon_init was called")
}

/// A task argument: an index encoded as a pointer, sent to another thread.
#[derive(Clone, Copy)]
struct Arg(*mut c_void);
// SAFETY: the driver's task arguments are plain integers cast to pointers.
unsafe impl Send for Arg {}

fn run(arg: Arg) {
    // SAFETY: bench_task accepts any argument the driver produced.
    unsafe { bench_task(arg.0) };
}

#[no_mangle]
pub extern "C" fn rayon_init(threads: c_int) -> c_int {
    match ThreadPoolBuilder::new().num_threads(threads as usize).build() {
        Ok(p) => {
            let _ = POOL.set(p);
            0
        }
        Err(_) => -1,
    }
}

#[no_mangle]
pub extern "C" fn rayon_spawn(arg: *mut c_void) {
    let a = Arg(arg);
    pool().spawn(move || run(a));
}

thread_local! {
    static COUNTER: Cell<*const AtomicU64> = const { Cell::new(std::ptr::null()) };
}

/// One more call on this thread (the driver sums the per-thread words).
fn count() {
    COUNTER.with(|c| {
        let mut p = c.get();
        if p.is_null() {
            // SAFETY: the driver hands out a word that lives for the whole
            // process, written only by this thread.
            p = unsafe { bench_counter_word() } as *const AtomicU64;
            c.set(p);
        }
        // SAFETY: p is this thread's counter word (see above); u64 and
        // AtomicU64 have the same layout.
        let w = unsafe { &*p };
        w.store(w.load(Ordering::Relaxed) + 1, Ordering::Release);
    });
}

fn fib(n: u32) -> u64 {
    count();
    if n < 2 {
        return n as u64;
    }
    let (x, y) = rayon::join(|| fib(n - 1), || fib(n - 2));
    x + y
}

#[no_mangle]
pub extern "C" fn rayon_fib(n: c_int) -> u64 {
    pool().install(|| fib(n as u32))
}

extern "C" {
    /// bench/driver.c: the loop kernel every peer calls (see bench/common.h).
    fn bench_kernel_range(a: *mut u64, lo: usize, hi: usize);
}

/// A raw pointer the loop's chunks share; each chunk touches its own range.
#[derive(Clone, Copy)]
struct Array(*mut u64);
// SAFETY: chunks are disjoint ranges of an array the caller lends for the call.
unsafe impl Send for Array {}
unsafe impl Sync for Array {}

/// # Safety
/// `a` points to `n` elements that nothing else touches during the call.
#[no_mangle]
pub unsafe extern "C" fn rayon_pfor(a: *mut u64, n: usize) {
    // par_iter_mut's splitting (halves, split further when stolen), with the
    // shared range kernel as the body instead of a per-element closure.
    let a = Array(a);
    pool().install(|| {
        rayon::iter::split((0, n), |(lo, hi)| {
            if hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                ((lo, mid), Some((mid, hi)))
            } else {
                ((lo, hi), None)
            }
        })
        .for_each(move |(lo, hi)| {
            let a = a;
            // SAFETY: disjoint ranges of the caller's array.
            unsafe { bench_kernel_range(a.0, lo, hi) }
        })
    });
}

/// rayon has no serial queue; the nearest is a one-thread pool fed with
/// `spawn_fifo`, which runs in submission order.
#[no_mangle]
pub extern "C" fn rayon_serial(n: usize) {
    let q = ThreadPoolBuilder::new().num_threads(1).build().expect("one-thread pool");
    for i in 0..n {
        let a = Arg((i + 1) as *mut c_void);
        q.spawn_fifo(move || run(a));
    }
    let (tx, rx) = mpsc::channel();
    q.spawn_fifo(move || {
        let _ = tx.send(());
    });
    rx.recv().expect("the serial pool ran its last task");
}

#[no_mangle]
pub extern "C" fn rayon_group(rounds: usize, k: usize) {
    for r in 0..rounds {
        pool().scope(|s| {
            for j in 0..k {
                let a = Arg((r * k + j + 1) as *mut c_void);
                s.spawn(move |_| run(a));
            }
        });
    }
}

/// The fork-join ports (bench/common.h): fib is `rayon_fib` above.
#[no_mangle]
pub extern "C" fn rayon_fibj(n: c_int) -> u64 {
    rayon_fib(n)
}

const SKYNET_DIV: u64 = 10;

/// skynet: the children `lo..hi` of node (num, size), halved by joins.
fn sky(num: u64, size: u64, lo: u64, hi: u64) -> u64 {
    if hi - lo == 1 {
        let sub = size / SKYNET_DIV;
        let child = num + lo * sub;
        if sub == 1 {
            count();
            return child;
        }
        return sky(child, sub, 0, SKYNET_DIV);
    }
    let mid = lo + (hi - lo) / 2;
    let (x, y) = rayon::join(|| sky(num, size, lo, mid), || sky(num, size, mid, hi));
    x + y
}

#[no_mangle]
pub extern "C" fn rayon_skynet(leaves: u64) -> u64 {
    pool().install(|| sky(0, leaves, 0, SKYNET_DIV))
}

const NQ_MAX: usize = 16;

fn nq_ok(a: &[i8], row: usize, col: usize) -> bool {
    (0..row).all(|i| {
        let d = a[i] as i64 - col as i64;
        d != 0 && d != (row - i) as i64 && d != i as i64 - row as i64
    })
}

fn nq_cols(a: &[i8; NQ_MAX], n: usize, row: usize, lo: usize, hi: usize) -> u64 {
    if hi - lo == 1 {
        if !nq_ok(a, row, lo) {
            return 0;
        }
        let mut b = *a;
        b[row] = lo as i8;
        return nq_node(&b, n, row + 1);
    }
    let mid = lo + (hi - lo) / 2;
    let (x, y) = rayon::join(|| nq_cols(a, n, row, lo, mid), || nq_cols(a, n, row, mid, hi));
    x + y
}

fn nq_node(a: &[i8; NQ_MAX], n: usize, row: usize) -> u64 {
    count();
    if row == n {
        return 1;
    }
    nq_cols(a, n, row, 0, n)
}

#[no_mangle]
pub extern "C" fn rayon_nqueens(n: c_int) -> u64 {
    pool().install(|| nq_node(&[0; NQ_MAX], n as usize, 0))
}
