package background

// #include "shim.h"
import "C"

import "unsafe"

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
// Nothing of it enters Go: fn's end is marked in C memory that Wait polls
// briefly and, once it parks, a C-side signal to this package's hub (see
// hub.go) closes its channel. SpawnC does not enter Go at all.
func (p *Pool) SubmitC(fn, arg, drop unsafe.Pointer) *Task {
	if fn == nil {
		return failedTask(ErrInvalid)
	}
	parts := newTask(nil)
	t := parts.t
	if parts.cell == nil {
		return failedTask(ErrNoMemory)
	}
	ptr, err := p.core.acquire()
	if err == nil {
		s := C.bg_go_submit_c(ptr, parts.cell, C.bg_fn(fn), arg, C.bg_drop_fn(drop))
		p.core.release()
		if err = statusError(s.status); err == nil {
			t.cell = parts.cell
			t.state = cellState(parts.cell)
			t.attach(parts.ref, s.task)
			return t
		}
	}
	return failedTask(err) // the block's cleanup frees the unused cell
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
