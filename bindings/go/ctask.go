package background

// #include "shim.h"
import "C"

import "unsafe"

// cJob is told when a C task's function has returned (run) or that it
// never will (drop). What the function returned stays in the library until
// the task is settled.
type cJob struct{ t *Task }

func (j cJob) run() int { close(j.t.done); return 0 }
func (j cJob) drop()    { close(j.t.done) }

// SubmitC runs the C function fn(arg) on the current pool (see Default) (see Pool.SubmitC).
func SubmitC(fn, arg, drop unsafe.Pointer) *Task { return ambient.SubmitC(fn, arg, drop) }

// SpawnC runs the C function fn(arg) on the current pool (see Default) without a handle
// (see Pool.SpawnC).
func SpawnC(fn, arg, drop unsafe.Pointer) error { return ambient.SpawnC(fn, arg, drop) }

// SubmitC runs a C library's callback on the pool: fn is a C function
// pointer of type bg_fn, int (*)(void *arg), called on a worker thread
// directly, without entering Go; a non-zero return is the task's failure
// code and Wait returns it as a *FailedError. drop is a bg_drop_fn,
// void (*)(void *arg), or nil: it frees arg if fn will never run (the task
// was cancelled or its pool shut down in cancel mode). arg must be C memory
// (or nil): C keeps it after this call returns, which cgo forbids for Go
// memory. If the pool refuses the task, arg stays the caller's.
//
// Only the completion crosses into Go, once, so that Wait can wait on a
// channel; SpawnC does not enter Go at all.
func (p *Pool) SubmitC(fn, arg, drop unsafe.Pointer) *Task {
	if fn == nil {
		return failedTask(ErrInvalid)
	}
	t := newTask()
	h := newHandle(cJob{t})
	var s C.bg_go_submitted
	err := p.core.use(func(ptr *C.bg_pool) error {
		s = C.bg_go_submit_c(ptr, C.bg_fn(fn), arg, C.bg_drop_fn(drop), C.uintptr_t(h))
		return statusError(s.status)
	})
	if err != nil {
		forgetHandle(h)
		return failedTask(err)
	}
	t.attach(&taskRef{}, s.task)
	return t
}

// SpawnC runs fn(arg) on the pool with no handle and no Go involved (fn and
// drop as in SubmitC). A non-zero return goes to the pool's C error handler
// (by default a line on stderr). On error arg stays the caller's.
func (p *Pool) SpawnC(fn, arg, drop unsafe.Pointer) error {
	if fn == nil {
		return ErrInvalid
	}
	return p.core.use(func(ptr *C.bg_pool) error {
		return statusError(C.bg_go_spawn_c(ptr, C.bg_fn(fn), arg, C.bg_drop_fn(drop)))
	})
}
