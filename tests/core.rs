//! Behaviour of the core through the C ABI, as a C program sees it.
//! Each test builds its own pool; default-pool behaviour that is
//! process-wide (BG_THREADS, shutting it down) is covered by the C tests.

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use background::capi::pool::bg_shutdown_mode::*;
use background::capi::pool::*;
use background::capi::status::bg_status::*;
use background::capi::task::bg_wait_flags::*;
use background::capi::task::*;

mod common;
use common::*;

fn pool(threads: usize) -> *mut bg_pool {
    pool_with(|o| o.threads = threads)
}

#[test]
fn wait_reports_success_failure_and_the_code() {
    let p = pool(2);
    let ok = submit(p, || 0);
    let failed = submit(p, || 42);
    assert_eq!(wait(ok), (BG_OK, 0));
    assert_eq!(wait(failed), (BG_EFAILED, 42));
    // result may be NULL
    assert_eq!(bg_wait(failed, std::ptr::null_mut()), BG_EFAILED);
    release(ok);
    release(failed);
    free(p);
}

#[test]
fn null_and_invalid_arguments_get_einval() {
    let p = pool(1);
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_pool_submit(p, None, std::ptr::null_mut(), None, &mut t), BG_EINVAL);
    assert!(t.is_null(), "outputs are written only on success");
    assert_eq!(bg_pool_submit(std::ptr::null_mut(), Some(run_body), std::ptr::null_mut(), None, &mut t), BG_EINVAL);
    assert!(bg_submit(None, std::ptr::null_mut()).is_null());
    assert_eq!(bg_spawn(None, std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_wait(std::ptr::null_mut(), std::ptr::null_mut()), BG_EINVAL);
    assert!(!bg_done(std::ptr::null()));
    assert_eq!(bg_cancel(std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_task_release(std::ptr::null_mut()), BG_OK);
    assert!(bg_task_retain(std::ptr::null_mut()).is_null());
    assert_eq!(bg_pool_new(std::ptr::null(), std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_pool_set_threads(p, 0), BG_EINVAL);
    assert_eq!(bg_pool_set_threads(p, 1_000_000), BG_EINVAL);
    assert_eq!(bg_pool_shutdown(p, 7, SEC), BG_EINVAL);
    assert_eq!(bg_pool_stats(p, std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_pool_free(bg_default_pool()), BG_EINVAL, "the default pool is never freed");
    let t = submit(p, || 0);
    let mut rc = 0;
    assert_eq!(bg_wait_ex(t, SEC, 99, &mut rc), BG_EINVAL, "unknown wait flags");
    wait(t);
    release(t);
    free(p);
}

#[test]
fn options_struct_size_is_checked() {
    let mut o: bg_pool_options = unsafe { std::mem::zeroed() };
    bg_pool_options_init(&mut o);
    let mut p = std::ptr::null_mut();
    // The first version ended at hook_ctx; max_threads and qos came later.
    let v1 = std::mem::offset_of!(bg_pool_options, max_threads);
    o.struct_size = v1 - 8;
    assert_eq!(bg_pool_new(&o, &mut p), BG_EINVAL, "smaller than any version of the struct");
    o.struct_size = v1;
    o.max_threads = 1; // beyond the caller's struct: never read
    assert_eq!(bg_pool_new(&o, &mut p), BG_OK, "a caller compiled against the first version");
    free(p);
    bg_pool_options_init(&mut o);
    assert_eq!(bg_pool_new(std::ptr::null(), &mut p), BG_OK, "NULL options mean defaults");
    free(p);
    // A newer header's larger struct: accepted if the fields we do not know are zero.
    #[repr(C)]
    struct Newer {
        o: bg_pool_options,
        extra: u64,
    }
    let mut n: Newer = unsafe { std::mem::zeroed() };
    bg_pool_options_init(&mut n.o);
    n.o.struct_size = std::mem::size_of::<Newer>();
    n.o.threads = 1;
    assert_eq!(bg_pool_new(&n.o, &mut p), BG_OK);
    free(p);
    n.extra = 1;
    assert_eq!(bg_pool_new(&n.o, &mut p), BG_EINVAL, "an option this library does not know is set");
    bg_pool_options_init(&mut o);
    o.threads = 5000;
    assert_eq!(bg_pool_new(&o, &mut p), BG_EINVAL);
}

#[test]
fn any_number_of_threads_wait_on_one_handle() {
    let p = pool(2);
    let gate = Gate::default();
    let g = gate.clone();
    let t = submit(p, move || {
        g.wait();
        7
    });
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let t = bg_task_retain(t) as usize;
            std::thread::spawn(move || {
                let r = wait(t as *mut bg_task);
                release(t as *mut bg_task);
                r
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    assert!(!bg_done(t));
    gate.open();
    for w in waiters {
        assert_eq!(w.join().unwrap(), (BG_EFAILED, 7));
    }
    assert!(bg_done(t));
    release(t);
    free(p);
}

#[test]
fn wait_timeout_times_out_and_changes_nothing() {
    let p = pool(1);
    let gate = Gate::default();
    let g = gate.clone();
    let t = submit(p, move || {
        g.wait();
        0
    });
    let start = Instant::now();
    assert_eq!(bg_wait_timeout(t, 20_000_000, std::ptr::null_mut()), BG_ETIMEDOUT);
    assert!(start.elapsed() >= Duration::from_millis(19));
    assert_eq!(bg_wait_timeout(t, 0, std::ptr::null_mut()), BG_ETIMEDOUT);
    gate.open();
    assert_eq!(wait(t), (BG_OK, 0));
    release(t);
    free(p);
}

#[test]
fn cancel_before_start_runs_drop_once_and_wakes_waiters() {
    let p = pool(1);
    let gate = Gate::default();
    let g = gate.clone();
    let blocker = submit(p, move || {
        g.wait();
        0
    });
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicBool::new(false));
    let (d, r) = (DropCount(drops.clone()), ran.clone());
    let t = submit(p, move || {
        let _d = d;
        r.store(true, SeqCst);
        0
    });
    let waiter = {
        let t = bg_task_retain(t) as usize;
        std::thread::spawn(move || {
            let r = wait(t as *mut bg_task);
            release(t as *mut bg_task);
            r.0
        })
    };
    assert_eq!(bg_cancel(t), BG_OK);
    assert_eq!(drops.load(SeqCst), 1, "drop ran before bg_cancel returned");
    assert_eq!(waiter.join().unwrap(), BG_ECANCELLED);
    assert_eq!(bg_cancel(t), BG_EDONE, "cancel twice");
    gate.open();
    assert_eq!(wait(blocker).0, BG_OK);
    assert_eq!(wait(t).0, BG_ECANCELLED);
    assert!(!ran.load(SeqCst), "a cancelled task never runs");
    assert_eq!(drops.load(SeqCst), 1);
    release(t);
    release(blocker);
    free(p);
}

#[test]
fn cancel_reports_running_and_finished() {
    let p = pool(1);
    let (gate, t) = block_one_worker(p);
    assert_eq!(bg_cancel(t), BG_ERUNNING);
    gate.open();
    assert_eq!(wait(t).0, BG_OK);
    assert_eq!(bg_cancel(t), BG_EDONE);
    release(t);
    free(p);
}

#[test]
fn releasing_never_cancels() {
    let p = pool(1);
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let r = ran.clone();
        let t = submit(p, move || {
            r.fetch_add(1, SeqCst);
            0
        });
        release(t);
    }
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    assert_eq!(ran.load(SeqCst), 100);
    free(p);
}

extern "C" fn fib(arg: *mut c_void) -> c_int {
    let n = arg as usize;
    if n < 2 {
        return n as c_int;
    }
    let t = bg_submit(Some(fib), (n - 1) as *mut c_void);
    assert!(!t.is_null());
    let b = fib((n - 2) as *mut c_void);
    let mut a = 0;
    let s = bg_wait(t, &mut a);
    assert!(s == BG_OK || s == BG_EFAILED);
    bg_task_release(t);
    a + b
}

#[test]
fn recursive_fork_join_works_on_one_thread() {
    for threads in [1, 2, 4] {
        let p = pool(threads);
        let t = {
            let mut t = std::ptr::null_mut();
            assert_eq!(bg_pool_submit(p, Some(fib), 20 as *mut c_void, None, &mut t), BG_OK);
            t
        };
        assert_eq!(wait(t), (BG_EFAILED, 6765), "fib(20) with {threads} thread(s)");
        release(t);
        free(p);
    }
}

#[test]
fn submit_from_a_task_goes_to_its_own_pool() {
    let p = pool_with(|o| {
        o.threads = 2;
        o.name_prefix = c"ownpool".as_ptr();
    });
    let t = submit(p, || {
        // bg_submit inside a task: same pool (a named thread), not the default pool.
        extern "C" fn name_check(_: *mut c_void) -> c_int {
            let name = std::thread::current().name().unwrap_or("").to_string();
            name.starts_with("ownpool-") as c_int
        }
        let inner = bg_submit(Some(name_check), std::ptr::null_mut());
        let mut rc = 0;
        bg_wait(inner, &mut rc);
        bg_task_release(inner);
        rc
    });
    assert_eq!(wait(t), (BG_EFAILED, 1), "inner task ran on an ownpool- thread");
    release(t);
    free(p);
}

#[test]
fn waiting_without_helping_blocks_only_the_caller() {
    let p = pool(2);
    let t = submit(p, || {
        let inner = bg_submit(Some(fib), 10 as *mut c_void);
        let mut rc = 0;
        // The other worker steals it while this one blocks.
        let s = bg_wait_ex(inner, 30 * SEC, BG_WAIT_NO_HELP as u32, &mut rc);
        bg_task_release(inner);
        if s == BG_EFAILED {
            rc
        } else {
            -1
        }
    });
    assert_eq!(wait(t), (BG_EFAILED, 55));
    release(t);
    free(p);
}

#[test]
fn threads_are_named_and_hooks_run_on_them() {
    static STARTS: AtomicUsize = AtomicUsize::new(0);
    static STOPS: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn on_start(ctx: *mut c_void, _i: usize) {
        assert_eq!(ctx as usize, 0xabc);
        let name = std::thread::current().name().unwrap_or("").to_string();
        assert!(name.starts_with("hooked-"), "{name}");
        STARTS.fetch_add(1, SeqCst);
    }
    unsafe extern "C" fn on_stop(_ctx: *mut c_void, _i: usize) {
        STOPS.fetch_add(1, SeqCst);
    }
    let p = pool_with(|o| {
        o.threads = 3;
        o.name_prefix = c"hooked".as_ptr();
        o.stack_size = 256 * 1024;
        o.on_thread_start = Some(on_start);
        o.on_thread_stop = Some(on_stop);
        o.hook_ctx = 0xabc as *mut c_void;
    });
    eventually("3 threads started", || STARTS.load(SeqCst) == 3);
    // The names are visible to the OS (top -H, gdb).
    let comms: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("comm")).ok())
        .collect();
    assert_eq!(comms.iter().filter(|c| c.starts_with("hooked-")).count(), 3, "{comms:?}");
    free(p);
    assert_eq!(STOPS.load(SeqCst), 3);
}

#[test]
fn bounded_queue_refuses_with_full_and_loses_nothing() {
    let p = pool_with(|o| {
        o.threads = 1;
        o.max_queued = 4;
    });
    let (gate, blocker) = block_one_worker(p);
    let ran = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let mut accepted = 0;
    let mut full = 0;
    for _ in 0..10 {
        let (r, d) = (ran.clone(), DropCount(drops.clone()));
        match try_spawn(p, move || {
            let _d = d;
            r.fetch_add(1, SeqCst);
            0
        }) {
            BG_OK => accepted += 1,
            BG_EFULL => full += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((accepted, full), (4, 6));
    assert_eq!(drops.load(SeqCst), 6, "refused closures are the caller's (freed by the test)");
    gate.open();
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    assert_eq!(ran.load(SeqCst), 4, "every accepted task ran");
    release(blocker);
    free(p);
}

#[test]
fn refused_submission_leaves_arg_with_the_caller() {
    let p = pool(1);
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, SEC), BG_OK);
    let drops = Arc::new(AtomicUsize::new(0));
    let arg = body({
        let d = DropCount(drops.clone());
        move || {
            drop(d);
            0
        }
    });
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_pool_submit(p, Some(run_body), arg, Some(drop_body), &mut t), BG_ESHUTDOWN);
    assert!(t.is_null());
    assert_eq!(drops.load(SeqCst), 0, "the library must not run drop for a refused task");
    unsafe { drop_body(arg) };
    assert_eq!(drops.load(SeqCst), 1);
    free(p);
}

#[test]
fn drain_shutdown_runs_everything_queued() {
    let p = pool(2);
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..10_000 {
        let r = ran.clone();
        assert_eq!(
            try_spawn(p, move || {
                r.fetch_add(1, SeqCst);
                0
            }),
            BG_OK
        );
    }
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 60 * SEC), BG_OK);
    assert_eq!(ran.load(SeqCst), 10_000);
    assert_eq!(try_spawn(p, || 0), BG_ESHUTDOWN, "refuses new work");
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, SEC), BG_OK, "shutdown twice");
    let mut st: bg_stats = unsafe { std::mem::zeroed() };
    assert_eq!(bg_pool_stats(p, &mut st), BG_OK);
    assert_eq!((st.completed, st.queued, st.running, st.threads), (10_000, 0, 0, 0));
    free(p);
}

#[test]
fn cancel_shutdown_drops_queued_tasks_and_wakes_their_waiters() {
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    let ran = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let handles: Vec<usize> = (0..100)
        .map(|_| {
            let (r, d) = (ran.clone(), DropCount(drops.clone()));
            submit(p, move || {
                let _d = d;
                r.fetch_add(1, SeqCst);
                0
            }) as usize
        })
        .collect();
    let waiter = {
        let t = bg_task_retain(handles[50] as *mut bg_task) as usize;
        std::thread::spawn(move || {
            let r = wait(t as *mut bg_task).0;
            release(t as *mut bg_task);
            r
        })
    };
    let opener = {
        let g = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            g.open();
        })
    };
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL as u32, 30 * SEC), BG_OK);
    opener.join().unwrap();
    assert_eq!(waiter.join().unwrap(), BG_ESHUTDOWN);
    assert_eq!(ran.load(SeqCst), 0, "queued tasks never run");
    assert_eq!(drops.load(SeqCst), 100, "each drop ran exactly once");
    assert_eq!(wait(blocker).0, BG_OK, "the running task finished");
    for h in handles {
        assert_eq!(wait(h as *mut bg_task).0, BG_ESHUTDOWN);
        release(h as *mut bg_task);
    }
    release(blocker);
    let mut st: bg_stats = unsafe { std::mem::zeroed() };
    bg_pool_stats(p, &mut st);
    assert_eq!((st.completed, st.cancelled), (1, 100));
    free(p);
}

#[test]
fn shutdown_or_free_from_own_worker_reports_deadlock() {
    let p = pool(2);
    let pp = p as usize;
    let t = submit(p, move || {
        let a = bg_pool_free(pp as *mut bg_pool);
        let b = bg_pool_shutdown(pp as *mut bg_pool, BG_SHUTDOWN_DRAIN as u32, SEC);
        (a == BG_EDEADLK && b == BG_EDEADLK) as c_int
    });
    assert_eq!(wait(t), (BG_EFAILED, 1));
    release(t);
    // The close began inside; finishing it from outside works.
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    free(p);
}

#[test]
fn drain_shutdown_timeout_then_retry() {
    let p = pool(1);
    let gate = Gate::default();
    let g = gate.clone();
    let t = submit(p, move || {
        g.wait();
        0
    });
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 20_000_000), BG_ETIMEDOUT);
    gate.open();
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    assert_eq!(wait(t).0, BG_OK);
    release(t);
    free(p);
}

#[test]
fn live_resize_grows_at_once_and_shrinks_without_losing_work() {
    let p = pool(1);
    assert_eq!(bg_pool_set_threads(p, 4), BG_OK);
    assert_eq!(bg_pool_threads(p), 4);
    // Four tasks that each need the others to be running at the same time.
    let barrier = Arc::new(Barrier::new(4));
    let ts: Vec<usize> = (0..4)
        .map(|_| {
            let b = barrier.clone();
            submit(p, move || {
                b.wait();
                0
            }) as usize
        })
        .collect();
    for t in ts {
        assert_eq!(wait(t as *mut bg_task).0, BG_OK);
        release(t as *mut bg_task);
    }
    // Shrink while work is queued and running: nothing is lost.
    let ran = Arc::new(AtomicUsize::new(0));
    for i in 0..20_000 {
        let r = ran.clone();
        assert_eq!(
            try_spawn(p, move || {
                r.fetch_add(1, SeqCst);
                0
            }),
            BG_OK
        );
        if i == 5_000 {
            assert_eq!(bg_pool_set_threads(p, 1), BG_OK);
        }
        if i == 10_000 {
            assert_eq!(bg_pool_set_threads(p, 3), BG_OK);
        }
        if i == 15_000 {
            assert_eq!(bg_pool_set_threads(p, 2), BG_OK);
        }
    }
    eventually("all 20000 ran", || ran.load(SeqCst) == 20_000);
    assert_eq!(bg_pool_threads(p), 2);
    let mut st: bg_stats = unsafe { std::mem::zeroed() };
    bg_pool_stats(p, &mut st);
    assert_eq!(st.threads, 2);
    free(p);
}

static FAILURES: Mutex<Vec<(c_int, c_int)>> = Mutex::new(Vec::new());

unsafe extern "C" fn record_failure(ctx: *mut c_void, f: *const bg_failure) {
    let f = &*f;
    FAILURES.lock().unwrap().push((ctx as c_int, f.code * 10 + f.unobserved_handle));
}

extern "C" fn returns_arg(arg: *mut c_void) -> c_int {
    arg as usize as c_int
}

#[test]
fn failures_nobody_waits_for_go_to_the_error_handler() {
    let p = pool(1);
    assert_eq!(bg_pool_set_error_handler(p, Some(record_failure), 77 as *mut c_void), BG_OK);
    // 1. a fire-and-forget failure
    assert_eq!(bg_pool_submit(p, Some(returns_arg), 5 as *mut c_void, None, std::ptr::null_mut()), BG_OK);
    // 2. a failed task whose handle is released unobserved
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_pool_submit(p, Some(returns_arg), 6 as *mut c_void, None, &mut t), BG_OK);
    eventually("task 6 done", || bg_done(t));
    release(t);
    // 3. a failure someone waited for is not reported
    assert_eq!(bg_pool_submit(p, Some(returns_arg), 7 as *mut c_void, None, &mut t), BG_OK);
    assert_eq!(wait(t), (BG_EFAILED, 7));
    release(t);
    // 4. released before it ran: reported when it fails later
    assert_eq!(bg_pool_submit(p, Some(returns_arg), 8 as *mut c_void, None, &mut t), BG_OK);
    release(t);
    // 5. success is never reported
    assert_eq!(bg_pool_submit(p, Some(returns_arg), std::ptr::null_mut(), None, std::ptr::null_mut()), BG_OK);
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    let mut got = FAILURES.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, vec![(77, 50), (77, 61), (77, 81)]);
    // Silencing.
    FAILURES.lock().unwrap().clear();
    let q = pool(1);
    assert_eq!(bg_pool_set_error_handler(q, Some(bg_error_ignore), std::ptr::null_mut()), BG_OK);
    assert_eq!(bg_pool_submit(q, Some(returns_arg), 9 as *mut c_void, None, std::ptr::null_mut()), BG_OK);
    free(q);
    assert!(FAILURES.lock().unwrap().is_empty());
    free(p);
}

#[test]
fn stats_count_what_happened() {
    let p = pool(2);
    for i in 0..10 {
        assert_eq!(bg_pool_submit(p, Some(returns_arg), (i % 2) as *mut c_void, None, std::ptr::null_mut()), BG_OK);
    }
    assert_eq!(bg_pool_set_error_handler(p, Some(bg_error_ignore), std::ptr::null_mut()), BG_OK);
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    let mut st: bg_stats = unsafe { std::mem::zeroed() };
    assert_eq!(bg_pool_stats(p, &mut st), BG_OK);
    assert_eq!((st.completed, st.failed, st.cancelled, st.queued, st.running), (5, 5, 0, 0, 0));
    assert!(st.reserved.iter().all(|&r| r == 0));
    free(p);
}

#[test]
fn an_idle_pool_burns_no_cpu() {
    let p = pool_with(|o| {
        o.threads = 2;
        o.name_prefix = c"idlecheck".as_ptr();
    });
    for _ in 0..1000 {
        assert_eq!(try_spawn(p, || 0), BG_OK);
    }
    assert_eq!(bg_pool_set_threads(p, 2), BG_OK);
    std::thread::sleep(Duration::from_millis(50)); // let the burst finish and the workers park
    let cpu = || {
        // utime + stime of the pool's threads, in clock ticks (/proc/<pid>/task/<tid>/stat)
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|e| {
                let dir = e.unwrap().path();
                let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
                if !comm.starts_with("idlecheck-") {
                    return None;
                }
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                let rest = &stat[stat.rfind(')')? + 2..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some(f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?)
            })
            .sum::<u64>()
    };
    let before = cpu();
    std::thread::sleep(Duration::from_millis(500));
    let burned = cpu() - before;
    // A spinning idle pool would burn ~100 ticks (2 threads x 0.5 s at 100 Hz).
    assert!(burned < 20, "idle pool threads burned {burned} ticks in 0.5 s");
    free(p);
}

#[test]
fn outside_work_is_not_starved_by_a_self_feeding_worker() {
    let p = pool(1);
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn respawn(_: *mut c_void) -> c_int {
        if !STOP.load(SeqCst) {
            // Feeds its own deque forever (until told to stop).
            assert_eq!(bg_spawn(Some(respawn), std::ptr::null_mut()), BG_OK);
        }
        0
    }
    assert_eq!(bg_pool_submit(p, Some(respawn), std::ptr::null_mut(), None, std::ptr::null_mut()), BG_OK);
    std::thread::sleep(Duration::from_millis(20));
    let t = submit(p, || 3);
    let r = bg_wait_timeout(t, 10 * SEC, std::ptr::null_mut());
    STOP.store(true, SeqCst);
    assert_eq!(r, BG_EFAILED, "an injected task must run while the worker feeds itself");
    release(t);
    free(p);
}

#[test]
fn strerror_and_version() {
    let s = |c: c_int| unsafe { CStr::from_ptr(background::capi::status::bg_strerror(c)) }.to_str().unwrap();
    assert_eq!(s(0), "success");
    assert_eq!(s(BG_EFULL as c_int), "the pool's queue is full");
    assert_eq!(s(-1), "unknown status");
    assert_eq!(s(1000), "unknown status");
    for code in 0..=12 {
        assert_ne!(s(code), "unknown status", "code {code} has a message");
    }
    let v = unsafe { CStr::from_ptr(background::capi::version::bg_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}
