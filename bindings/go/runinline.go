package background

// #include "shim.h"
import "C"

import (
	"context"
	"sync/atomic"
)

// Running a task in its waiter (TBB's and GLib's "run in caller"). A Wait
// on a Go task that no worker has started yet claims it, with a CAS on the
// task's state word in its C cell, and runs the closure on the waiting
// goroutine: a one-at-a-time Go(f).Wait then costs a submit, a CAS and the
// call instead of a worker's wake-up and a wake-up back. The worker that
// dequeues the task later sees the claim in C and does not enter Go: it
// returns the waiter's result code (so Stats and a C error handler count the
// task as they would have) once the waiter has finished, helping with other
// queued work while it waits (the claimed task may itself need it).
//
// The closure runs through a cgo call and callback, as on a worker: the
// package's current pool (bg_go_current_pool) is the task's pool meanwhile,
// and runtime.Goexit is fatal, as in any task. Only plain pool tasks (Submit,
// Go, SubmitWait) are claimable: a serial queue's, keyed lane's, group's or
// batch's task must start in its order.
//
// Races: a worker and a waiter both CAS the state word from its unowned
// value (pending, perhaps watched): one wins. Cancel claims it the same way
// (CANCELLING) before bg_cancel, so a task a waiter ran is never reported
// cancelled; a worker that dequeues it meanwhile yields until Cancel has
// decided. A cancel-mode shutdown that drops a claimed task leaves its end
// to the waiter running it.

const (
	stTaken      = C.BG_GO_TAKEN
	stClaimed    = C.BG_GO_CLAIMED
	stCancelling = C.BG_GO_CANCELLING
	stOwned      = stTaken | stClaimed | stCancelling
)

// claim moves the state word from unowned to owned by; false if someone
// owns it already or it has ended.
func claim(state *uint32, by uint32) bool {
	for {
		s := atomic.LoadUint32(state)
		if s == stDone || s&stOwned != 0 {
			return false
		}
		if atomic.CompareAndSwapUint32(state, s, s|by) {
			return true
		}
	}
}

// runInline runs the task on this goroutine if no worker has taken it; it
// reports whether it did (the task has then ended).
func (t *Task) runInline() bool {
	// A paused pool's task waits for the resume (a pause that comes after
	// this check finds it running, as a worker's take just before it would).
	if isPaused(t.gcell.pool) || !claim(t.state, stClaimed) {
		return false
	}
	C.bg_go_run_inline(t.gcell) // the trampoline marks it done
	return true
}

// runCHere runs a C task (SubmitC) that no worker has started on this
// goroutine's thread, as one cgo call: the library's caller-runs wait with a
// zero timeout, which runs it if it is still queued and otherwise returns at
// once. False if a worker has it (or the pool does not let waiters run its
// tasks): then Wait waits as usual.
func (t *Task) runCHere() bool {
	p := t.retainRef()
	if p == nil {
		return false
	}
	defer C.bg_task_release(p)
	return C.bg_wait_ex(p, 0, C.BG_WAIT_RUN_HERE, nil) != C.BG_ETIMEDOUT
}

// cancelCell is Cancel for a claimable task; t.mu is held.
func (t *Task) cancelCell(p *C.bg_task) bool {
	if !claim(t.state, stCancelling) {
		return false // running, run by a waiter, or ended
	}
	// The library runs the drop wrapper here, which sees CANCELLING and
	// leaves the job's drop to us.
	switch st := C.bg_cancel(p); st {
	case C.BG_OK, C.BG_EDONE: // cancelled; or dropped by a shutdown meanwhile
		takeHandle(handle(t.gcell.handle)).drop()
		return st == C.BG_OK
	default: // a worker has dequeued it (BG_ERUNNING): it runs
		for {
			s := atomic.LoadUint32(t.state)
			if atomic.CompareAndSwapUint32(t.state, s, s&^stCancelling) {
				return false
			}
		}
	}
}

// WaitNoRun is Wait that never runs the task on the calling goroutine: it
// always waits for a worker to run it (see Options.NoRunInWait).
func (t *Task) WaitNoRun(ctx context.Context) error {
	err, _ := t.waitMay(ctx, false)
	return err
}

// WaitNoRun is Wait that never runs the task on the calling goroutine (see
// Task.WaitNoRun).
func (f *Future[T]) WaitNoRun(ctx context.Context) (T, error) {
	err, ended := f.task.waitMay(ctx, false)
	if !ended {
		var zero T
		return zero, err
	}
	return f.value, err
}
