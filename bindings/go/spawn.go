package background

// #include "shim.h"
import "C"

import (
	"fmt"
	"log"
	"sync/atomic"
)

var errorHandler atomic.Pointer[func(error)]

// SetErrorHandler sets the function that receives the failures of spawned
// tasks (panics, errors, and tasks that never ran) for pools without their
// own Options.ErrorHandler. nil restores the default, which logs them with
// the standard log package. The handler runs on a worker thread and must not
// block for long; a panic in it is logged, never propagated.
func SetErrorHandler(h func(error)) {
	if h == nil {
		errorHandler.Store(nil)
		return
	}
	errorHandler.Store(&h)
}

func report(h func(error), err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Printf("background: error handler panicked: %v (handling: %v)", r, err)
		}
	}()
	if h == nil {
		if p := errorHandler.Load(); p != nil {
			h = *p
		}
	}
	if h == nil {
		log.Printf("background: spawned task failed: %v", err)
		return
	}
	h(err)
}

// spawnJob is a fire-and-forget Go closure: fn, or fnErr. It is held by
// value in its handle's slot (newSpawnHandle), so a spawn allocates nothing
// of its own.
type spawnJob struct {
	fn      func()
	fnErr   func() error
	onError func(error)
}

func (j spawnJob) run() int {
	var err error
	if j.fn != nil {
		err = callNoErr(j.fn)
	} else {
		err = call(j.fnErr)
	}
	if err != nil {
		// The handler runs once the task has ended, as ants' PanicHandler
		// runs after its worker stopped counting as running: it is not this
		// task's work, and a slow handler must not hold a pool thread.
		go report(j.onError, err)
		return failedCode
	}
	return 0
}

func (j spawnJob) drop() {
	report(j.onError, fmt.Errorf("background: spawned task never ran: %w", ErrShutdown))
}

// Spawn runs f on the current pool (see Default) without a handle (fire and forget).
func Spawn(f func()) { ambient.Spawn(f) }

// SpawnErr runs f on the current pool (see Default) without a handle; its error goes to
// the error handler.
func SpawnErr(f func() error) { ambient.SpawnErr(f) }

// Spawn runs f on the pool without a handle. A panic in f, or the pool
// refusing f, goes to the error handler; it never crashes the program.
func (p *Pool) Spawn(f func()) {
	if f == nil {
		report(p.core.onError, fmt.Errorf("background: Spawn(nil): %w", ErrInvalid))
		return
	}
	p.core.spawn(spawnJob{fn: f, onError: p.core.onError})
}

// SpawnErr is Spawn for a function that returns an error: a non-nil error
// goes to the error handler.
func (p *Pool) SpawnErr(f func() error) {
	if f == nil {
		report(p.core.onError, fmt.Errorf("background: SpawnErr(nil): %w", ErrInvalid))
		return
	}
	p.core.spawn(spawnJob{fnErr: f, onError: p.core.onError})
}

// spawn submits j to the pool without a handle; a refusal goes to the handler.
func (c *poolCore) spawn(j spawnJob) {
	h := newSpawnHandle(j)
	ptr, err := c.acquire()
	if err == nil {
		st := C.bg_go_submit(ptr, C.uintptr_t(h), 0).status
		c.release()
		err = statusError(st)
	}
	if err != nil {
		forgetHandle(h)
		report(j.onError, fmt.Errorf("background: spawned task refused: %w", err))
	}
}

// spawnWith hands f, as a handle, to submit; a refusal goes to the handler.
func spawnWith(f func() error, onError func(error), submit func(h C.uintptr_t) error) {
	spawnJobWith(spawnJob{fnErr: f, onError: onError}, submit)
}

func spawnJobWith(j spawnJob, submit func(h C.uintptr_t) error) {
	h := newSpawnHandle(j)
	if err := submit(C.uintptr_t(h)); err != nil {
		forgetHandle(h)
		report(j.onError, fmt.Errorf("background: spawned task refused: %w", err))
	}
}
