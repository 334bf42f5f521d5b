//! The depot's bookkeeping, without threads: plans checked against a clock.

use super::*;

const S: u64 = INTERVAL_NS;

/// The slab part of a plan, for a worker that ran no burst.
fn plan(d: &mut Depot, worker: usize, now: u64) -> (Vec<usize>, Option<u64>) {
    let p = d.plan_trim(worker, now, false);
    assert!(!p.heap);
    (p.slabs, p.wake)
}

#[test]
fn the_heap_is_trimmed_once_an_interval_after_the_last_burst() {
    let mut d = Depot::new(0);
    // Worker 1 ran a burst: it keeps the clock, due in an interval.
    d.heap_dirty = true;
    d.heap_due = 11 * S;
    assert_eq!(d.plan_trim(1, 10 * S, true), Plan { slabs: vec![], heap: false, wake: Some(11 * S) });
    // Another burst ends later: the trim waits for it to be quiet too.
    d.heap_due = 12 * S;
    assert_eq!(d.plan_trim(2, 10 * S + 5, true).wake, Some(12 * S));
    // Worker 1 wakes at its old deadline: not yet, and not its watch.
    assert_eq!(d.plan_trim(1, 11 * S, false), Plan { slabs: vec![], heap: false, wake: None });
    // Worker 2 at the deadline: trims once, and nothing is left to watch.
    assert_eq!(d.plan_trim(2, 12 * S, false), Plan { slabs: vec![], heap: true, wake: None });
    assert_eq!(d.plan_trim(2, 13 * S, false), Plan { slabs: vec![], heap: false, wake: None });
    assert_eq!(d.armed, 0);
}

#[test]
fn the_depot_knows_no_scheduler() {
    // Memory must not drive the scheduler (it used to lock the pool
    // table from `give`): no path into the scheduler's modules.
    let src = include_str!("../depot.rs");
    for module in ["registry", "worker", "sleep", "pool", "task", "job", "compose", "capi"] {
        let path = format!("crate::{module}");
        assert!(!src.contains(&path), "depot.rs uses {path}");
    }
}

#[test]
fn slabs_are_aligned_distinct_and_reused_most_recent_first() {
    let mut d = Depot::new(0);
    let slabs: Vec<usize> = (0..100).map(|_| d.take()).collect();
    let mut sorted = slabs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), slabs.len());
    for &s in &slabs {
        assert_eq!(s % SLAB_BYTES, 0);
        // SAFETY: a slab is SLAB_BYTES of writable memory.
        unsafe { std::ptr::write_bytes(s as *mut u8, 0xab, SLAB_BYTES) };
    }
    for &s in &slabs {
        d.give(s, 0);
    }
    assert_eq!(d.take(), slabs[99]);
}

#[test]
fn a_surplus_unused_for_an_interval_goes_back_in_steps() {
    let mut d = Depot::new(0);
    let slabs: Vec<usize> = (0..STEP + 10).map(|_| d.take()).collect();
    d.hot.extend(&slabs);
    // First look: the surplus is only now seen; nothing goes yet, and
    // this worker is to come back in an interval.
    assert_eq!(plan(&mut d, 1, 10 * S), (vec![], Some(11 * S)));
    // Another worker parking meanwhile is not armed; the armed one,
    // parking again after work woke it early, still is.
    assert_eq!(plan(&mut d, 2, 10 * S + 1).1, None);
    assert_eq!(plan(&mut d, 1, 10 * S + 2).1, Some(11 * S));
    // Nothing was taken in the interval: all of it goes, STEP at a time.
    let (first, again) = plan(&mut d, 1, 11 * S);
    assert_eq!(first, slabs[..STEP]);
    assert_eq!(again, Some(11 * S + STEP_GAP_NS));
    let (second, again) = plan(&mut d, 1, 11 * S + STEP_GAP_NS);
    assert_eq!(second, slabs[STEP..]);
    assert_eq!(again, None, "nothing resident is left to watch");
    assert!(d.hot.is_empty());
}

#[test]
fn a_slab_given_back_with_nobody_watching_wakes_one_worker_an_interval() {
    let mut d = Depot::new(0);
    let [a, b, c, e] = [d.take(), d.take(), d.take(), d.take()];
    assert!(d.give(a, 10 * S), "every worker parked before there was anything to watch");
    assert!(!d.give(b, 10 * S + 1), "one nudge an interval");
    // The nudged worker parks again and takes the watch: no more nudges.
    assert_eq!(plan(&mut d, 7, 10 * S + 2).1, Some(11 * S + 2));
    assert!(!d.give(c, 11 * S));
    // Its watch lapsed (its pool shut down): the next give wakes another.
    assert!(d.give(e, 11 * S + 3));
}

#[test]
fn slabs_in_use_during_the_interval_stay() {
    let mut d = Depot::new(0);
    let slabs: Vec<usize> = (0..20).map(|_| d.take()).collect();
    d.hot.extend(&slabs);
    plan(&mut d, 1, 10 * S);
    // A burst takes 15 of the 20 and gives them back: only 5 were surplus.
    let burst: Vec<usize> = (0..15).map(|_| d.take()).collect();
    d.hot.extend(&burst);
    let (gone, _) = plan(&mut d, 1, 11 * S);
    assert_eq!(gone.len(), 5);
    assert_eq!(d.hot.len(), 15);
}

#[test]
fn a_given_back_slab_reads_as_zeroes_and_is_handed_out_again() {
    let mut d = Depot::new(0);
    let s = d.take();
    // SAFETY: a slab is SLAB_BYTES of writable memory.
    unsafe { std::ptr::write_bytes(s as *mut u8, 0xab, SLAB_BYTES) };
    d.hot.push(s);
    plan(&mut d, 1, 10 * S);
    let (mut gone, _) = plan(&mut d, 1, 11 * S);
    assert_eq!(gone, [s]);
    release(&mut gone);
    d.clean.extend(gone);
    assert_eq!(d.take(), s);
    // SAFETY: as above; the range is still mapped.
    assert!(unsafe { std::slice::from_raw_parts(s as *const u8, SLAB_BYTES) }.iter().all(|&b| b == 0));
}
