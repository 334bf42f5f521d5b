// Package testc holds the C functions the tests submit as C tasks (cgo is
// not allowed in _test.go files).
package testc

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../include
#include "background.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

static atomic_long runs;
static atomic_long drops;

// Adds its arg (an integer smuggled in the pointer) to runs; returns 0.
static int count_run(void *arg) {
	atomic_fetch_add(&runs, (long)(intptr_t)arg);
	return 0;
}

// Returns its arg as the task's failure code.
static int fail_with(void *arg) {
	return (int)(intptr_t)arg;
}

// Counts the drop.
static void count_drop(void *arg) {
	(void)arg;
	atomic_fetch_add(&drops, 1);
}

// Blocks until *gate (an atomic_int in C memory) is non-zero, then counts.
static int wait_gate(void *gate) {
	while (atomic_load((atomic_int *)gate) == 0) {
	}
	atomic_fetch_add(&runs, 1);
	return 0;
}

static int nop(void *arg) {
	(void)arg;
	return 0;
}

// C code sharing a pool with Go: submits n count_run(1) tasks to it and
// waits for them; returns how many were accepted and ran.
static int submit_from_c(void *pool, int n) {
	int ok = 0;
	for (int i = 0; i < n; i++) {
		bg_task *t = NULL;
		if (bg_pool_submit((bg_pool *)pool, count_run, (void *)(intptr_t)1, NULL, &t) != BG_OK) {
			continue;
		}
		if (bg_wait(t, NULL) == BG_OK) {
			ok++;
		}
		bg_task_release(t);
	}
	return ok;
}

// The C driver the benchmarks compare against: n round trips of an empty
// task, each submitted with a handle and waited for (bg_pool_submit +
// bg_wait + bg_task_release) from this (non-worker) thread.
static int c_round_trips(void *pool, int n) {
	int ok = 0;
	for (int i = 0; i < n; i++) {
		bg_task *t = NULL;
		if (bg_pool_submit((bg_pool *)pool, nop, NULL, NULL, &t) != BG_OK) {
			continue;
		}
		if (bg_wait(t, NULL) == BG_OK) {
			ok++;
		}
		bg_task_release(t);
	}
	return ok;
}

// The C driver's fire and forget: n count_run(1) tasks without handles, then
// a spin until all of them have run.
static int c_spawns(void *pool, int n) {
	long before = atomic_load(&runs);
	int ok = 0;
	for (int i = 0; i < n; i++) {
		if (bg_pool_submit((bg_pool *)pool, count_run, (void *)(intptr_t)1, NULL, NULL) == BG_OK) {
			ok++;
		}
	}
	while (atomic_load(&runs) - before < ok) {
	}
	return ok;
}

static void *fn_count_run(void) { return (void *)count_run; }
static void *fn_fail_with(void) { return (void *)fail_with; }
static void *fn_count_drop(void) { return (void *)count_drop; }
static void *fn_wait_gate(void) { return (void *)wait_gate; }
static void *fn_nop(void) { return (void *)nop; }
static void *int_arg(long v) { return (void *)(intptr_t)v; }
static long load_runs(void) { return atomic_load(&runs); }
static long load_drops(void) { return atomic_load(&drops); }
static void *new_gate(void) { return calloc(1, sizeof(atomic_int)); }
static void open_gate(void *g) { atomic_store((atomic_int *)g, 1); }
*/
import "C"

import "unsafe"

// CountRun is a bg_fn that adds its integer arg to Runs and returns 0.
var CountRun = unsafe.Pointer(C.fn_count_run())

// FailWith is a bg_fn that returns its integer arg as its code.
var FailWith = unsafe.Pointer(C.fn_fail_with())

// CountDrop is a bg_drop_fn that adds 1 to Drops.
var CountDrop = unsafe.Pointer(C.fn_count_drop())

// WaitGate is a bg_fn that spins until the gate passed as arg is opened, then adds 1 to Runs.
var WaitGate = unsafe.Pointer(C.fn_wait_gate())

// Nop is a bg_fn that returns 0.
var Nop = unsafe.Pointer(C.fn_nop())

// Int returns v carried in a pointer-sized arg (never dereferenced).
func Int(v int) unsafe.Pointer { return C.int_arg(C.long(v)) }

// Runs is the sum CountRun has added so far.
func Runs() int { return int(C.load_runs()) }

// Drops is how many times CountDrop has run.
func Drops() int { return int(C.load_drops()) }

// NewGate allocates a closed gate in C memory (freed with Free).
func NewGate() unsafe.Pointer { return C.new_gate() }

// OpenGate releases every WaitGate task spinning on g.
func OpenGate(g unsafe.Pointer) { C.open_gate(g) }

// SubmitFromC has C code submit n CountRun(1) tasks to pool (a bg_pool *)
// and wait for them; it returns how many ran.
func SubmitFromC(pool unsafe.Pointer, n int) int { return int(C.submit_from_c(pool, C.int(n))) }

// RoundTrips has C code do n one-at-a-time round trips of an empty task on
// pool (submit with a handle, bg_wait, release); it returns how many ran.
func RoundTrips(pool unsafe.Pointer, n int) int { return int(C.c_round_trips(pool, C.int(n))) }

// Spawns has C code spawn n CountRun(1) tasks on pool and spin until they
// have run; it returns how many were accepted.
func Spawns(pool unsafe.Pointer, n int) int { return int(C.c_spawns(pool, C.int(n))) }

// Free frees C memory from NewGate.
func Free(p unsafe.Pointer) { C.free(p) }

// CurrentPool is bg_current_pool() on the calling thread: inside a Go task,
// the pool running it (a task's goroutine stays on its worker thread).
func CurrentPool() unsafe.Pointer { return unsafe.Pointer(C.bg_current_pool()) }
