//! Composition through the C ABI, as a C program sees it: continuations,
//! groups, serial queues and keyed lanes, batches, delayed tasks, parallel
//! loops and completion queues. Each test builds its own pool.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use background::capi::compose::bg_batch_policy::*;
use background::capi::compose::bg_group_flags::*;
use background::capi::compose::*;
use background::capi::pool::bg_shutdown_mode::*;
use background::capi::pool::*;
use background::capi::status::bg_status::{self, *};
use background::capi::task::*;

mod common;
use common::*;

fn pool(threads: usize) -> *mut bg_pool {
    pool_named(threads, c"compose")
}

/// Counts runs and drops of the values it hands out.
#[derive(Clone, Default)]
struct Counter {
    ran: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Counter {
    /// A task body that counts its run (returning `code`), or its drop if it never runs.
    fn task(&self, code: c_int) -> impl FnOnce() -> c_int + Send + 'static {
        let ran = Arc::clone(&self.ran);
        let token = DropCount(Arc::clone(&self.dropped));
        move || {
            std::mem::forget(token);
            ran.fetch_add(1, SeqCst);
            code
        }
    }
    fn ran(&self) -> usize {
        self.ran.load(SeqCst)
    }
    fn dropped(&self) -> usize {
        self.dropped.load(SeqCst)
    }
}

extern "C" fn noop(_: *mut c_void) -> c_int {
    0
}

/// True once `p` refuses work from outside (its shutdown has begun).
fn closed(p: *mut bg_pool) -> bool {
    bg_pool_submit(p, Some(noop), std::ptr::null_mut(), None, std::ptr::null_mut()) == BG_ESHUTDOWN
}

// ---- continuations -------------------------------------------------------------

/// A continuation body: receives (status, result), returns a code.
type ThenBody = Box<dyn FnOnce(bg_status, c_int) -> c_int + Send>;

unsafe extern "C" fn run_then(arg: *mut c_void, status: bg_status, result: c_int) -> c_int {
    (Box::from_raw(arg as *mut ThenBody))(status, result)
}

unsafe extern "C" fn drop_then(arg: *mut c_void) {
    drop(Box::from_raw(arg as *mut ThenBody));
}

fn then(
    t: *mut bg_task,
    f: impl FnOnce(bg_status, c_int) -> c_int + Send + 'static,
) -> Result<*mut bg_task, bg_status> {
    let arg = Box::into_raw(Box::new(Box::new(f) as ThenBody)) as *mut c_void;
    let mut c = std::ptr::null_mut();
    match bg_then(t, Some(run_then), arg, Some(drop_then), &mut c) {
        BG_OK => Ok(c),
        s => {
            unsafe { drop_then(arg) };
            Err(s)
        }
    }
}

#[test]
fn then_runs_after_the_task_with_its_status_and_result() {
    let p = pool(2);
    let gate = Gate::default();
    let g = gate.clone();
    let t = submit(p, move || {
        g.wait();
        7
    });
    let c = then(t, |s, r| {
        assert_eq!((s, r), (BG_EFAILED, 7));
        40 + r
    })
    .unwrap();
    assert!(!bg_done(c), "a continuation waits for its task");
    gate.open();
    assert_eq!(wait(c), (BG_EFAILED, 47), "the continuation's own result is its return value");
    assert_eq!(wait(t), (BG_EFAILED, 7));
    release(c);
    release(t);
    free(p);
}

#[test]
fn then_on_an_ended_task_still_runs_once() {
    let p = pool(2);
    let t = submit(p, || 0);
    wait(t);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let c = then(t, move |s, _| {
        assert_eq!(s, BG_OK);
        r.fetch_add(1, SeqCst);
        0
    })
    .unwrap();
    assert_eq!(wait(c), (BG_OK, 0));
    assert_eq!(runs.load(SeqCst), 1);
    release(c);
    release(t);
    free(p);
}

#[test]
fn then_attached_while_the_task_ends_runs_exactly_once() {
    // Attach from another thread at the moment tasks complete, many times:
    // each continuation runs once, whichever side wins the race.
    let p = pool(2);
    let runs = Arc::new(AtomicUsize::new(0));
    const N: usize = 2000;
    let tasks: Vec<usize> = (0..N).map(|_| submit(p, || 0) as usize).collect();
    let r = Arc::clone(&runs);
    let attacher = std::thread::spawn(move || {
        let mut conts = Vec::new();
        for &t in &tasks {
            let r = Arc::clone(&r);
            let c = then(t as *mut bg_task, move |s, _| {
                assert_eq!(s, BG_OK);
                r.fetch_add(1, SeqCst);
                0
            })
            .unwrap();
            conts.push((t, c as usize));
        }
        conts
    });
    for (t, c) in attacher.join().unwrap() {
        assert_eq!(wait(c as *mut bg_task), (BG_OK, 0));
        release(c as *mut bg_task);
        release(t as *mut bg_task);
    }
    assert_eq!(runs.load(SeqCst), N);
    free(p);
}

#[test]
fn continuations_chain_and_see_each_others_results() {
    let p = pool(2);
    let t = submit(p, || 1);
    let c1 = then(t, |s, r| {
        assert_eq!(s, BG_EFAILED);
        r + 1
    })
    .unwrap();
    let c2 = then(c1, |s, r| {
        assert_eq!(s, BG_EFAILED);
        r * 10
    })
    .unwrap();
    assert_eq!(wait(c2), (BG_EFAILED, 20));
    for h in [c2, c1, t] {
        release(h);
    }
    free(p);
}

#[test]
fn then_reports_a_cancelled_task_and_can_itself_be_cancelled() {
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    let victim = submit(p, || 0);
    let seen = Arc::new(Mutex::new(None));
    let s2 = Arc::clone(&seen);
    let c = then(victim, move |s, r| {
        *s2.lock().unwrap() = Some((s, r));
        0
    })
    .unwrap();
    // A continuation still waiting for its task can be cancelled: its drop runs once.
    let counter = Counter::default();
    let f = counter.task(0);
    let pending = then(blocker, move |_, _| f()).unwrap();
    assert_eq!(bg_cancel(pending), BG_OK);
    assert_eq!((counter.ran(), counter.dropped()), (0, 1));

    assert_eq!(bg_cancel(victim), BG_OK);
    gate.open(); // the continuation runs on the pool's only worker
    assert_eq!(wait(c), (BG_OK, 0));
    assert_eq!(*seen.lock().unwrap(), Some((BG_ECANCELLED, 0)));
    assert_eq!(wait(pending).0, BG_ECANCELLED);
    assert_eq!((counter.ran(), counter.dropped()), (0, 1), "a cancelled continuation never runs later");
    for h in [pending, c, victim, blocker] {
        release(h);
    }
    free(p);
}

#[test]
fn a_continuation_due_after_a_cancel_shutdown_is_dropped_not_lost() {
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    let f = counter.task(0);
    let c = then(blocker, move |_, _| f()).unwrap();
    let pp = p as usize;
    let closer = std::thread::spawn(move || bg_pool_shutdown(pp as *mut bg_pool, BG_SHUTDOWN_CANCEL as u32, 30 * SEC));
    // Once the pool refuses outside work, let the blocker end: its
    // continuation falls due on a pool that drops queued work.
    eventually("the pool to close", || closed(p));
    gate.open();
    assert_eq!(closer.join().unwrap(), BG_OK);
    assert_eq!(wait(c).0, BG_ESHUTDOWN);
    assert_eq!((counter.ran(), counter.dropped()), (0, 1));
    assert_eq!(then(blocker, |_, _| 0).unwrap_err(), BG_ESHUTDOWN, "a closed pool refuses new continuations");
    release(c);
    release(blocker);
    free(p);
}

static REPORTS: AtomicUsize = AtomicUsize::new(0);
unsafe extern "C" fn count_report(_: *mut c_void, _: *const bg_failure) {
    REPORTS.fetch_add(1, SeqCst);
}

#[test]
fn a_continuation_observes_its_tasks_failure() {
    let p = pool(2);
    assert_eq!(bg_pool_set_error_handler(p, Some(count_report), std::ptr::null_mut()), BG_OK);
    let t = submit(p, || 3);
    let c = then(t, |_, _| 0).unwrap();
    release(t); // never waited for: only the continuation saw the failure
    assert_eq!(wait(c), (BG_OK, 0));
    release(c);
    free(p);
    assert_eq!(REPORTS.load(SeqCst), 0, "no unobserved-failure report");
}

#[test]
fn then_rejects_bad_arguments() {
    let p = pool(1);
    let t = submit(p, || 0);
    let mut c = std::ptr::null_mut();
    assert_eq!(bg_then(std::ptr::null_mut(), Some(run_then), std::ptr::null_mut(), None, &mut c), BG_EINVAL);
    assert_eq!(bg_then(t, None, std::ptr::null_mut(), None, &mut c), BG_EINVAL);
    wait(t);
    release(t);
    free(p);
}

// ---- groups ------------------------------------------------------------------------

fn group(p: *mut bg_pool, flags: u32) -> *mut bg_group {
    let mut g = std::ptr::null_mut();
    assert_eq!(bg_group_new(p, flags, &mut g), BG_OK);
    g
}

fn group_submit(g: *mut bg_group, f: impl FnOnce() -> c_int + Send + 'static) -> bg_status {
    let arg = body(f);
    let s = bg_group_submit(g, Some(run_body), arg, Some(drop_body), std::ptr::null_mut());
    if s != BG_OK {
        unsafe { drop_body(arg) };
    }
    s
}

fn group_wait(g: *mut bg_group) -> (bg_status, c_int) {
    let mut first = -1;
    let s = bg_group_wait(g, 30 * SEC, &mut first);
    assert_ne!(s, BG_ETIMEDOUT);
    (s, first)
}

#[test]
fn group_wait_reports_ok_first_failure_or_cancelled() {
    let p = pool(2);
    let g = group(p, 0);
    assert_eq!(group_wait(g), (BG_OK, -1), "an empty group is done");
    for _ in 0..100 {
        assert_eq!(group_submit(g, || 0), BG_OK);
    }
    assert_eq!(group_wait(g), (BG_OK, -1));
    assert_eq!(group_submit(g, || 5), BG_OK);
    assert_eq!(group_wait(g), (BG_EFAILED, 5), "waiting again after more submits");
    assert_eq!(bg_group_free(g), BG_OK);

    let p1 = pool(1);
    let g = group(p1, 0);
    let (gate, blocker) = block_one_worker(p1);
    let counter = Counter::default();
    assert_eq!(group_submit(g, counter.task(0)), BG_OK);
    assert_eq!(bg_group_wait(g, MS, std::ptr::null_mut()), BG_ETIMEDOUT);
    assert_eq!(bg_group_cancel(g), BG_OK);
    assert_eq!(counter.dropped(), 1, "cancel drops unstarted members before it returns");
    assert_eq!(group_wait(g).0, BG_ECANCELLED);
    assert_eq!(group_submit(g, || 0), BG_ECANCELLED, "a cancelled group refuses submits");
    gate.open();
    wait(blocker);
    assert_eq!(counter.ran(), 0);
    release(blocker);
    assert_eq!(bg_group_free(g), BG_OK);
    free(p1);
    free(p);
}

#[test]
fn group_cancel_on_error_drops_the_rest() {
    let p = pool(1);
    let g = group(p, BG_GROUP_CANCEL_ON_ERROR as u32);
    let (gate, blocker) = block_one_worker(p);
    // Queued behind the blocker on the only worker: the failure runs first.
    assert_eq!(group_submit(g, || 9), BG_OK);
    let counter = Counter::default();
    for _ in 0..50 {
        assert_eq!(group_submit(g, counter.task(0)), BG_OK);
    }
    gate.open();
    assert_eq!(group_wait(g), (BG_EFAILED, 9));
    assert_eq!((counter.ran(), counter.dropped()), (0, 50));
    assert_eq!(group_submit(g, || 0), BG_ECANCELLED);
    wait(blocker);
    release(blocker);
    assert_eq!(bg_group_free(g), BG_OK);
    free(p);
}

#[test]
fn group_members_run_exactly_once_under_many_producers() {
    let p = pool(2);
    let g = group(p, 0);
    let counter = Counter::default();
    let (gg, pp) = (g as usize, p as usize);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let c = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    let mut t = std::ptr::null_mut();
                    let arg = body(c.task(0));
                    assert_eq!(
                        bg_group_submit(gg as *mut bg_group, Some(run_body), arg, Some(drop_body), &mut t),
                        BG_OK
                    );
                    release(t);
                }
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(group_wait(g), (BG_OK, -1));
    assert_eq!((counter.ran(), counter.dropped()), (4000, 0));
    assert_eq!(bg_group_free(g), BG_OK);
    free(pp as *mut bg_pool);
}

#[test]
fn group_wait_inside_a_task_helps_on_one_thread() {
    let p = pool(1);
    let pp = p as usize;
    let t = submit(p, move || {
        let g = group(pp as *mut bg_pool, 0);
        for i in 0..10 {
            assert_eq!(group_submit(g, move || (i == 3) as c_int * 4), BG_OK);
        }
        let (s, first) = group_wait(g);
        assert_eq!(bg_group_free(g), BG_OK);
        assert_eq!(s, BG_EFAILED);
        first
    });
    assert_eq!(wait(t), (BG_EFAILED, 4));
    release(t);
    free(p);
}

#[test]
fn group_members_dropped_by_a_cancel_shutdown_wake_the_waiter() {
    let p = pool(1);
    let g = group(p, 0);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    for _ in 0..20 {
        assert_eq!(group_submit(g, counter.task(0)), BG_OK);
    }
    let gg = g as usize;
    let waiter = std::thread::spawn(move || bg_group_wait(gg as *mut bg_group, 30 * SEC, std::ptr::null_mut()));
    let pp = p as usize;
    let closer = std::thread::spawn(move || bg_pool_shutdown(pp as *mut bg_pool, BG_SHUTDOWN_CANCEL as u32, 30 * SEC));
    eventually("the pool to close", || group_submit(g, || 0) == BG_ESHUTDOWN);
    gate.open();
    assert_eq!(closer.join().unwrap(), BG_OK);
    assert_eq!(waiter.join().unwrap(), BG_ECANCELLED);
    assert_eq!((counter.ran(), counter.dropped()), (0, 20));
    release(blocker);
    assert_eq!(bg_group_free(g), BG_OK);
    free(p);
}

// ---- serial queues and keyed lanes -----------------------------------------------

#[test]
fn serial_queue_runs_one_at_a_time_in_submission_order() {
    let p = pool(4);
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    let log = Arc::new(Mutex::new(Vec::new()));
    let busy = Arc::new(AtomicBool::new(false));
    let qq = q as usize;
    let producers: Vec<_> = (0..4)
        .map(|who| {
            let (log, busy) = (Arc::clone(&log), Arc::clone(&busy));
            std::thread::spawn(move || {
                for i in 0..500 {
                    let (log, busy) = (Arc::clone(&log), Arc::clone(&busy));
                    let arg = body(move || {
                        assert!(!busy.swap(true, SeqCst), "two tasks of one serial queue ran at once");
                        log.lock().unwrap().push((who, i));
                        busy.store(false, SeqCst);
                        0
                    });
                    assert_eq!(
                        bg_serial_submit(
                            qq as *mut bg_serial,
                            Some(run_body),
                            arg,
                            Some(drop_body),
                            std::ptr::null_mut()
                        ),
                        BG_OK
                    );
                }
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    // A last task with a handle: when it has run, everything before it has.
    let mut last = std::ptr::null_mut();
    assert_eq!(bg_serial_submit(q, Some(run_body), body(|| 0), Some(drop_body), &mut last), BG_OK);
    assert_eq!(wait(last), (BG_OK, 0));
    release(last);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2000);
    for who in 0..4 {
        let mine: Vec<i32> = log.iter().filter(|e| e.0 == who).map(|e| e.1).collect();
        assert_eq!(mine, (0..500).collect::<Vec<_>>(), "producer {who}'s tasks ran out of order");
    }
    assert_eq!(bg_serial_free(q), BG_OK);
    free(p);
}

#[test]
fn different_serial_queues_run_in_parallel() {
    let p = pool(2);
    let (mut a, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(bg_serial_new(p, &mut a), BG_OK);
    assert_eq!(bg_serial_new(p, &mut b), BG_OK);
    // Each task waits until the other queue's task has started: this can
    // only finish if the two queues run at the same time.
    let (ga, gb) = (Gate::default(), Gate::default());
    let mut handles = Vec::new();
    for (q, mine, theirs) in [(a, ga.clone(), gb.clone()), (b, gb.clone(), ga.clone())] {
        let mut t = std::ptr::null_mut();
        let arg = body(move || {
            mine.open();
            theirs.wait();
            0
        });
        assert_eq!(bg_serial_submit(q, Some(run_body), arg, Some(drop_body), &mut t), BG_OK);
        handles.push(t);
    }
    for t in handles {
        assert_eq!(wait(t), (BG_OK, 0));
        release(t);
    }
    assert_eq!(bg_serial_free(a), BG_OK);
    assert_eq!(bg_serial_free(b), BG_OK);
    free(p);
}

#[test]
fn waiting_on_a_later_task_of_the_same_serial_queue_is_a_deadlock_error() {
    let p = pool(2);
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    let mut other = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut other), BG_OK);
    let later = Arc::new(AtomicUsize::new(0));
    let (l2, oq) = (Arc::clone(&later), other as usize);
    let gate = Gate::default();
    let g2 = gate.clone();
    let mut first = std::ptr::null_mut();
    let arg = body(move || {
        g2.wait();
        let s = bg_wait(l2.load(SeqCst) as *mut bg_task, std::ptr::null_mut());
        // A task of another queue is fine to wait for.
        let mut o = std::ptr::null_mut();
        assert_eq!(bg_serial_submit(oq as *mut bg_serial, Some(run_body), body(|| 0), Some(drop_body), &mut o), BG_OK);
        assert_eq!(bg_wait(o, std::ptr::null_mut()), BG_OK);
        release(o);
        s as c_int
    });
    assert_eq!(bg_serial_submit(q, Some(run_body), arg, Some(drop_body), &mut first), BG_OK);
    let mut second = std::ptr::null_mut();
    assert_eq!(bg_serial_submit(q, Some(run_body), body(|| 0), Some(drop_body), &mut second), BG_OK);
    later.store(second as usize, SeqCst);
    gate.open();
    assert_eq!(wait(first), (BG_EFAILED, BG_EDEADLK as c_int));
    assert_eq!(wait(second), (BG_OK, 0));
    release(first);
    release(second);
    assert_eq!(bg_serial_free(q), BG_OK);
    assert_eq!(bg_serial_free(other), BG_OK);
    free(p);
}

#[test]
fn serial_tasks_are_dropped_exactly_once_by_a_cancel_shutdown() {
    let p = pool(1);
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    let mut handles = Vec::new();
    for _ in 0..100 {
        let mut t = std::ptr::null_mut();
        assert_eq!(bg_serial_submit(q, Some(run_body), body(counter.task(0)), Some(drop_body), &mut t), BG_OK);
        handles.push(t);
    }
    assert_eq!(bg_serial_free(q), BG_OK);
    let pp = p as usize;
    let closer = std::thread::spawn(move || bg_pool_shutdown(pp as *mut bg_pool, BG_SHUTDOWN_CANCEL as u32, 30 * SEC));
    eventually("the pool to close", || closed(p));
    gate.open();
    assert_eq!(closer.join().unwrap(), BG_OK);
    for t in handles {
        assert_eq!(wait(t).0, BG_ESHUTDOWN);
        release(t);
    }
    assert_eq!((counter.ran(), counter.dropped()), (0, 100));
    release(blocker);
    free(p);
}

#[test]
fn a_busy_serial_queue_lets_other_work_of_its_worker_run() {
    // One worker: a task queues local work X, then 1000 serial tasks. The
    // drain yields every 64 tasks, so X runs long before the queue empties.
    let p = pool(1);
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    let done = Arc::new(AtomicUsize::new(0));
    let ran_before_x = Arc::new(AtomicUsize::new(usize::MAX));
    let (d, r, qq) = (Arc::clone(&done), Arc::clone(&ran_before_x), q as usize);
    let t = submit(p, move || {
        let (d2, r2) = (Arc::clone(&d), Arc::clone(&r));
        let x = bg_submit(
            Some(run_body),
            body(move || {
                r2.store(d2.load(SeqCst), SeqCst);
                0
            }),
        );
        assert!(!x.is_null());
        release(x);
        for _ in 0..1000 {
            let d = Arc::clone(&d);
            let arg = body(move || {
                d.fetch_add(1, SeqCst);
                0
            });
            assert_eq!(
                bg_serial_submit(qq as *mut bg_serial, Some(run_body), arg, Some(drop_body), std::ptr::null_mut()),
                BG_OK
            );
        }
        0
    });
    wait(t);
    release(t);
    eventually("the queue to drain", || done.load(SeqCst) == 1000);
    let before = ran_before_x.load(SeqCst);
    assert!(before < 1000, "the worker's own task waited for the whole serial queue ({before} tasks ran first)");
    assert_eq!(bg_serial_free(q), BG_OK);
    free(p);
}

#[test]
fn a_closed_pool_refuses_serial_and_keyed_submits_leaving_arg_with_the_caller() {
    let p = pool(1);
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    let counter = Counter::default();
    let arg = body(counter.task(0));
    assert_eq!(bg_serial_submit(q, Some(run_body), arg, Some(drop_body), std::ptr::null_mut()), BG_ESHUTDOWN);
    assert_eq!(bg_pool_submit_keyed(p, 1, Some(run_body), arg, Some(drop_body), std::ptr::null_mut()), BG_ESHUTDOWN);
    assert_eq!((counter.ran(), counter.dropped()), (0, 0));
    unsafe { drop_body(arg) };
    assert_eq!(bg_serial_free(q), BG_OK);
    free(p);
}

// That an idle key leaves nothing behind is checked beside the code
// (compose/lanes.rs: an_idle_key_leaves_the_lane_map).
#[test]
fn keyed_lanes_keep_per_key_order() {
    let p = pool(4);
    const KEYS: u64 = 16;
    const PER_KEY: usize = 300;
    let logs: Arc<Vec<Mutex<Vec<usize>>>> = Arc::new((0..KEYS).map(|_| Mutex::new(Vec::new())).collect());
    let running: Arc<Vec<AtomicBool>> = Arc::new((0..KEYS).map(|_| AtomicBool::new(false)).collect());
    let pp = p as usize;
    let producers: Vec<_> = (0..2)
        .map(|half| {
            let (logs, running) = (Arc::clone(&logs), Arc::clone(&running));
            std::thread::spawn(move || {
                for i in 0..PER_KEY {
                    for key in (half..KEYS).step_by(2) {
                        let (logs, running) = (Arc::clone(&logs), Arc::clone(&running));
                        let arg = body(move || {
                            let k = key as usize;
                            assert!(!running[k].swap(true, SeqCst), "two tasks of key {key} ran at once");
                            logs[k].lock().unwrap().push(i);
                            running[k].store(false, SeqCst);
                            0
                        });
                        let s = bg_pool_submit_keyed(
                            pp as *mut bg_pool,
                            key,
                            Some(run_body),
                            arg,
                            Some(drop_body),
                            std::ptr::null_mut(),
                        );
                        assert_eq!(s, BG_OK);
                    }
                }
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    eventually("every lane to drain", || {
        logs.iter().map(|l| l.lock().unwrap().len()).sum::<usize>() == KEYS as usize * PER_KEY
    });
    for (key, log) in logs.iter().enumerate() {
        assert_eq!(*log.lock().unwrap(), (0..PER_KEY).collect::<Vec<_>>(), "key {key} ran out of order");
    }
    free(p);
}

#[test]
fn waiting_on_a_later_task_of_the_same_lane_is_a_deadlock_error() {
    let p = pool(2);
    let later = Arc::new(AtomicUsize::new(0));
    let l2 = Arc::clone(&later);
    let gate = Gate::default();
    let g2 = gate.clone();
    let mut first = std::ptr::null_mut();
    let arg = body(move || {
        g2.wait();
        bg_wait(l2.load(SeqCst) as *mut bg_task, std::ptr::null_mut()) as c_int
    });
    assert_eq!(bg_pool_submit_keyed(p, 42, Some(run_body), arg, Some(drop_body), &mut first), BG_OK);
    let mut second = std::ptr::null_mut();
    assert_eq!(bg_pool_submit_keyed(p, 42, Some(run_body), body(|| 0), Some(drop_body), &mut second), BG_OK);
    later.store(second as usize, SeqCst);
    gate.open();
    assert_eq!(wait(first), (BG_EFAILED, BG_EDEADLK as c_int));
    assert_eq!(wait(second), (BG_OK, 0));
    release(first);
    release(second);
    free(p);
}

// ---- batches --------------------------------------------------------------------------

fn batch_with(codes: &[c_int], counter: &Counter) -> *mut bg_batch {
    let mut b = std::ptr::null_mut();
    assert_eq!(bg_batch_new(&mut b), BG_OK);
    for &c in codes {
        assert_eq!(bg_batch_add(b, Some(run_body), body(counter.task(c)), Some(drop_body)), BG_OK);
    }
    assert_eq!(bg_batch_size(b), codes.len());
    b
}

fn item(b: *mut bg_batch, i: usize) -> (bg_status, c_int) {
    let mut rc = -1;
    (bg_batch_status(b, i, &mut rc), rc)
}

#[test]
fn a_batch_stops_at_the_first_failure_and_drops_the_rest() {
    let p = pool(2);
    let counter = Counter::default();
    let b = batch_with(&[0, 0, 6, 0, 0], &counter);
    assert_eq!(item(b, 0).0, BG_ERUNNING, "nothing runs before the batch is submitted");
    assert_eq!(counter.ran(), 0);
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_batch_submit(b, p, BG_BATCH_STOP_ON_ERROR as u32, &mut t), BG_OK);
    assert_eq!(wait(t), (BG_EFAILED, 6));
    assert_eq!((counter.ran(), counter.dropped()), (3, 2));
    assert_eq!(item(b, 0), (BG_OK, -1));
    assert_eq!(item(b, 2), (BG_EFAILED, 6));
    assert_eq!(item(b, 3).0, BG_ECANCELLED);
    assert_eq!(item(b, 5).0, BG_EINVAL);
    let mut t2 = std::ptr::null_mut();
    assert_eq!(bg_batch_submit(b, p, 0, &mut t2), BG_EINVAL, "a batch is submitted once");
    assert_eq!(bg_batch_add(b, Some(run_body), std::ptr::null_mut(), None), BG_EINVAL);
    release(t);
    assert_eq!(bg_batch_free(b), BG_OK);
    free(p);
}

#[test]
fn a_run_all_batch_runs_everything_in_order_and_records_each_status() {
    let p = pool(4);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut b = std::ptr::null_mut();
    assert_eq!(bg_batch_new(&mut b), BG_OK);
    for i in 0..100 {
        let o = Arc::clone(&order);
        let arg = body(move || {
            o.lock().unwrap().push(i);
            if i % 10 == 3 {
                i
            } else {
                0
            }
        });
        assert_eq!(bg_batch_add(b, Some(run_body), arg, Some(drop_body)), BG_OK);
    }
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_batch_submit(b, p, BG_BATCH_RUN_ALL as u32, &mut t), BG_OK);
    assert_eq!(wait(t), (BG_EFAILED, 3), "the first failure's code");
    assert_eq!(*order.lock().unwrap(), (0..100).collect::<Vec<_>>());
    for i in 0..100 {
        let want = if i % 10 == 3 { (BG_EFAILED, i as c_int) } else { (BG_OK, -1) };
        assert_eq!(item(b, i), want);
    }
    release(t);
    assert_eq!(bg_batch_free(b), BG_OK);
    free(p);
}

#[test]
fn a_discarded_or_cancelled_batch_runs_no_task_and_every_drop() {
    let p = pool(1);
    let counter = Counter::default();
    let b = batch_with(&[0, 0, 0], &counter);
    assert_eq!(bg_batch_free(b), BG_OK);
    assert_eq!((counter.ran(), counter.dropped()), (0, 3), "freed unsubmitted: every drop runs");

    let (gate, blocker) = block_one_worker(p);
    let b = batch_with(&[0, 0, 0, 0], &counter);
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_batch_submit(b, p, BG_BATCH_RUN_ALL as u32, &mut t), BG_OK);
    assert_eq!(item(b, 0).0, BG_ERUNNING);
    assert_eq!(bg_cancel(t), BG_OK);
    assert_eq!((counter.ran(), counter.dropped()), (0, 7));
    assert_eq!(item(b, 3).0, BG_ECANCELLED);
    gate.open();
    release(blocker);
    release(t);
    assert_eq!(bg_batch_free(b), BG_OK);
    free(p);
}

#[test]
fn a_batch_freed_before_it_runs_still_runs_every_task() {
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    let b = batch_with(&[0, 0, 0], &counter);
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_batch_submit(b, p, BG_BATCH_STOP_ON_ERROR as u32, &mut t), BG_OK);
    assert_eq!(bg_batch_free(b), BG_OK);
    gate.open();
    assert_eq!(wait(t), (BG_OK, 0));
    assert_eq!((counter.ran(), counter.dropped()), (3, 0));
    release(t);
    release(blocker);
    free(p);
}

// ---- delayed tasks -----------------------------------------------------------------------

fn submit_after(p: *mut bg_pool, delay_ns: u64, f: impl FnOnce() -> c_int + Send + 'static) -> *mut bg_task {
    let mut t = std::ptr::null_mut();
    assert_eq!(bg_pool_submit_after(p, delay_ns, Some(run_body), body(f), Some(drop_body), &mut t), BG_OK);
    t
}

#[test]
fn a_delayed_task_runs_no_earlier_than_its_delay_and_in_due_order() {
    let p = pool(1);
    let start = Instant::now();
    let order = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = [30u64, 10, 20]
        .iter()
        .map(|&ms| {
            let o = Arc::clone(&order);
            submit_after(p, ms * MS, move || {
                o.lock().unwrap().push((ms, start.elapsed()));
                0
            })
        })
        .collect();
    for t in handles {
        assert_eq!(wait(t), (BG_OK, 0));
        release(t);
    }
    let order = order.lock().unwrap();
    assert_eq!(order.iter().map(|e| e.0).collect::<Vec<_>>(), [10, 20, 30]);
    for &(ms, at) in order.iter() {
        assert!(at >= Duration::from_millis(ms), "task due after {ms} ms ran after {at:?}");
    }
    free(p);
}

fn timer_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|e| {
            let comm = std::fs::read_to_string(e.as_ref().unwrap().path().join("comm")).unwrap_or_default();
            comm.trim() == "onetimer-timer"
        })
        .count()
}

#[test]
fn delayed_tasks_are_cancellable_while_waiting_and_share_one_timer_thread() {
    let p = pool_named(1, c"onetimer");
    assert_eq!(timer_threads(), 0, "the timer starts on first use");
    let counter = Counter::default();
    let handles: Vec<_> = (0..500).map(|_| submit_after(p, 3600 * SEC, counter.task(0))).collect();
    // A thread names itself as it starts: give it the time to.
    eventually("the timer thread to start", || timer_threads() == 1);
    for &t in &handles {
        assert_eq!(bg_cancel(t), BG_OK);
        assert_eq!(wait(t).0, BG_ECANCELLED);
    }
    assert_eq!((counter.ran(), counter.dropped()), (0, 500));
    // More delayed tasks after the cancels: the same thread serves them.
    let soon = submit_after(p, MS, || 0);
    assert_eq!(wait(soon), (BG_OK, 0));
    assert_eq!(timer_threads(), 1);
    for t in handles.into_iter().chain([soon]) {
        release(t);
    }
    free(p);
    assert_eq!(timer_threads(), 0, "shutdown joins the timer thread");
}

#[test]
fn shutdown_drops_delayed_tasks_not_yet_due() {
    let p = pool(2);
    let counter = Counter::default();
    let t = submit_after(p, 3600 * SEC, counter.task(0));
    let mut none = std::ptr::null_mut();
    assert_eq!(
        bg_pool_submit_after(
            p,
            3600 * SEC,
            Some(run_body),
            body(counter.task(0)),
            Some(drop_body),
            std::ptr::null_mut()
        ),
        BG_OK
    );
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    assert_eq!(wait(t).0, BG_ESHUTDOWN);
    assert_eq!((counter.ran(), counter.dropped()), (0, 2));
    let arg = body(|| 0);
    assert_eq!(bg_pool_submit_after(p, 0, Some(run_body), arg, Some(drop_body), &mut none), BG_ESHUTDOWN);
    unsafe { drop_body(arg) };
    release(t);
    free(p);
}

// ---- parallel loops ------------------------------------------------------------------------

struct Coverage {
    hits: Vec<AtomicUsize>,
    grain: usize,
    oversized: AtomicBool,
}

unsafe extern "C" fn cover(lo: usize, hi: usize, ctx: *mut c_void) {
    let c = &*(ctx as *const Coverage);
    if c.grain != 0 && hi - lo > c.grain {
        c.oversized.store(true, SeqCst);
    }
    for i in lo..hi {
        c.hits[i].fetch_add(1, SeqCst);
    }
}

fn check_loop(p: *mut bg_pool, n: usize, grain: usize) {
    let c = Coverage { hits: (0..n).map(|_| AtomicUsize::new(0)).collect(), grain, oversized: AtomicBool::new(false) };
    let s = bg_parallel_for(p, 0, n, grain, Some(cover), &c as *const Coverage as *mut c_void);
    assert_eq!(s, BG_OK);
    assert!(c.hits.iter().all(|h| h.load(SeqCst) == 1), "n={n} grain={grain}: an index ran twice or never");
    assert!(!c.oversized.load(SeqCst), "a chunk exceeded the grain");
}

#[test]
fn parallel_for_runs_every_index_exactly_once() {
    for threads in [1, 2, 4] {
        let p = pool(threads);
        for (n, grain) in [(0, 1), (1, 1), (10, 3), (1000, 1), (10_000, 7), (100_000, 0), (4097, 64)] {
            check_loop(p, n, grain);
        }
        free(p);
    }
}

#[test]
fn parallel_for_nests_inside_tasks_on_one_thread() {
    let p = pool(1);
    let pp = p as usize;
    let t = submit(p, move || {
        check_loop(pp as *mut bg_pool, 5000, 10);
        0
    });
    assert_eq!(wait(t), (BG_OK, 0));
    release(t);
    free(p);
}

#[test]
fn parallel_for_completes_on_the_caller_alone_when_every_worker_is_busy() {
    // The only worker is blocked: the calling thread takes back every half
    // it queued and runs the whole range itself.
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    check_loop(p, 10_000, 10);
    gate.open();
    wait(blocker);
    release(blocker);
    free(p);
}

unsafe extern "C" fn cover_slowly(lo: usize, hi: usize, ctx: *mut c_void) {
    std::thread::sleep(Duration::from_micros(300));
    cover(lo, hi, ctx);
}

#[test]
fn a_long_parallel_for_is_taken_back_when_every_worker_is_busy() {
    // Long enough that the caller leaves it to the pool, whose only worker
    // is blocked: after a few chunks' wait the caller runs it all itself.
    let p = pool(1);
    let (gate, blocker) = block_one_worker(p);
    let pp = p as usize;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let c = Coverage {
            hits: (0..40).map(|_| AtomicUsize::new(0)).collect(),
            grain: 1,
            oversized: AtomicBool::new(false),
        };
        let s = bg_parallel_for(pp as *mut bg_pool, 0, 40, 1, Some(cover_slowly), &c as *const Coverage as *mut c_void);
        tx.send((s, c.hits.iter().all(|h| h.load(SeqCst) == 1))).unwrap();
    });
    let got = rx.recv_timeout(Duration::from_secs(20));
    gate.open();
    assert_eq!(got.expect("the loop waited for a blocked worker"), (BG_OK, true));
    wait(blocker);
    release(blocker);
    free(p);
}

struct Blocking {
    started: Gate,
    gate: Gate,
    ran: AtomicUsize,
}

unsafe extern "C" fn block_first_chunk(lo: usize, hi: usize, ctx: *mut c_void) {
    let b = &*(ctx as *const Blocking);
    if lo == 0 {
        b.started.open();
        b.gate.spin_wait(); // busy, not blocked: no spare takes the queued halves
    }
    b.ran.fetch_add(hi - lo, SeqCst);
}

#[test]
fn parallel_for_reports_chunks_dropped_by_a_cancel_shutdown() {
    let p = pool(1);
    let b = Arc::new(Blocking { started: Gate::default(), gate: Gate::default(), ran: AtomicUsize::new(0) });
    let (b2, pp) = (Arc::clone(&b), p as usize);
    // Inside a task, the loop's halves wait on the worker's own deque.
    let t = submit(p, move || {
        bg_parallel_for(pp as *mut bg_pool, 0, 100, 1, Some(block_first_chunk), Arc::as_ptr(&b2) as *mut c_void)
            as c_int
    });
    b.started.wait();
    let closer = std::thread::spawn(move || bg_pool_shutdown(pp as *mut bg_pool, BG_SHUTDOWN_CANCEL as u32, 30 * SEC));
    eventually("the pool to close", || closed(p));
    b.gate.open();
    assert_eq!(closer.join().unwrap(), BG_OK);
    assert_eq!(wait(t), (BG_EFAILED, BG_ESHUTDOWN as c_int));
    let ran = b.ran.load(SeqCst);
    assert!((1..100).contains(&ran), "the first chunk ran, the queued ones were dropped ({ran} ran)");
    release(t);
    free(p);
}

#[test]
fn parallel_for_checks_its_arguments_and_the_pool() {
    let p = pool(1);
    assert_eq!(bg_parallel_for(p, 5, 4, 1, Some(cover), std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_parallel_for(p, 0, 4, 1, None, std::ptr::null_mut()), BG_EINVAL);
    assert_eq!(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN as u32, 30 * SEC), BG_OK);
    assert_eq!(bg_parallel_for(p, 0, 4, 1, Some(cover), std::ptr::null_mut()), BG_ESHUTDOWN);
    free(p);
}

#[test]
fn a_bounded_pool_never_strands_work_it_accepted() {
    // max_queued bounds user submissions; a serial queue rescheduling its
    // drain, a continuation or a delayed task falling due are not refused.
    let mut o: bg_pool_options = unsafe { std::mem::zeroed() };
    bg_pool_options_init(&mut o);
    o.threads = 1;
    o.max_queued = 1;
    let mut p = std::ptr::null_mut();
    assert_eq!(bg_pool_new(&o, &mut p), BG_OK);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    let mut q = std::ptr::null_mut();
    assert_eq!(bg_serial_new(p, &mut q), BG_OK);
    for _ in 0..200 {
        assert_eq!(
            bg_serial_submit(q, Some(run_body), body(counter.task(0)), Some(drop_body), std::ptr::null_mut()),
            BG_OK
        );
    }
    let f = counter.task(0);
    let c = then(blocker, move |_, _| f()).unwrap();
    let d = submit_after(p, 0, counter.task(0));
    gate.open();
    assert_eq!(wait(c), (BG_OK, 0));
    assert_eq!(wait(d), (BG_OK, 0));
    assert_eq!(bg_serial_free(q), BG_OK);
    free(p); // drains
    assert_eq!((counter.ran(), counter.dropped()), (202, 0));
    for h in [c, d, blocker] {
        release(h);
    }
}

// ---- completion queues -------------------------------------------------------------------------

fn readable(fd: c_int) -> bool {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
}

fn wait_readable(fd: c_int) {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 30_000) }, 1, "the completion fd never became readable");
}

#[test]
fn completion_queue_delivers_one_record_per_task_and_signals_its_fd() {
    let p = pool(2);
    let mut cq = std::ptr::null_mut();
    assert_eq!(bg_cq_new(&mut cq), BG_OK);
    let fd = bg_cq_fd(cq);
    assert!(fd >= 0);
    assert!(!readable(fd), "nothing pending yet");
    const N: usize = 1000;
    for i in 0..N {
        let arg = body(move || (i % 3) as c_int);
        assert_eq!(
            bg_cq_submit(cq, p, Some(run_body), arg, Some(drop_body), i as *mut c_void, std::ptr::null_mut()),
            BG_OK
        );
    }
    let mut seen = vec![0u32; N];
    let mut got = 0;
    let mut recs =
        vec![
            bg_completion { task: std::ptr::null_mut(), status: BG_OK, result: 0, user_data: std::ptr::null_mut() };
            64
        ];
    while got < N {
        wait_readable(fd);
        let n = bg_cq_drain(cq, recs.as_mut_ptr(), recs.len());
        assert!(n > 0, "a readable fd has records");
        for r in &recs[..n] {
            let i = r.user_data as usize;
            seen[i] += 1;
            let want = if i % 3 == 0 { (BG_OK, 0) } else { (BG_EFAILED, (i % 3) as c_int) };
            assert_eq!((r.status, r.result), want);
        }
        got += n;
    }
    assert!(seen.iter().all(|&s| s == 1), "every task delivers exactly one record");
    assert!(!readable(fd), "drained: the fd is no longer readable");
    assert_eq!(bg_cq_drain(cq, recs.as_mut_ptr(), recs.len()), 0);

    // Watching a task that already ended delivers at once.
    let t = submit(p, || 0);
    wait(t);
    assert_eq!(bg_cq_watch(cq, t, 7 as *mut c_void), BG_OK);
    assert!(readable(fd));
    assert_eq!(bg_cq_drain(cq, recs.as_mut_ptr(), 1), 1);
    assert_eq!((recs[0].task, recs[0].user_data as usize, recs[0].status), (t, 7, BG_OK));
    release(t);
    assert_eq!(bg_cq_free(cq), BG_OK);
    free(p);
}

#[test]
fn freeing_a_completion_queue_with_pending_watches_is_safe() {
    let p = pool(1);
    let mut cq = std::ptr::null_mut();
    assert_eq!(bg_cq_new(&mut cq), BG_OK);
    let (gate, blocker) = block_one_worker(p);
    let counter = Counter::default();
    let mut t = std::ptr::null_mut();
    assert_eq!(
        bg_cq_submit(cq, p, Some(run_body), body(counter.task(0)), Some(drop_body), std::ptr::null_mut(), &mut t),
        BG_OK
    );
    assert_eq!(bg_cq_watch(cq, blocker, std::ptr::null_mut()), BG_OK);
    assert_eq!(bg_cq_free(cq), BG_OK);
    assert_eq!(bg_cq_fd(cq), -1, "a freed queue is detected");
    gate.open();
    assert_eq!(wait(t), (BG_OK, 0));
    assert_eq!(counter.ran(), 1);
    release(t);
    release(blocker);
    free(p);
}
