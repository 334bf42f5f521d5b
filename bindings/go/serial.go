package background

// #include "shim.h"
import "C"

import (
	"fmt"
	"sync"
)

// SerialQueue runs its tasks one at a time, in submission order, on its
// pool's threads; different queues run in parallel. It holds no thread of
// its own. Waiting, inside one of its tasks, for a task queued after it on
// the same queue returns ErrDeadlock instead of hanging.
type SerialQueue struct {
	core    *serialCore
	cleanup cleanup
}

type serialCore struct {
	mu      sync.RWMutex // as poolCore.mu: read-held while ptr is in use
	ptr     *C.bg_serial
	onError func(error)
}

// NewSerialQueue makes a serial queue on the current pool (see Default).
func NewSerialQueue() (*SerialQueue, error) { return ambient.NewSerialQueue() }

// NewSerialQueue makes a serial queue on the pool. Close it when done; one
// garbage collected unclosed is let go of by a cleanup.
func (p *Pool) NewSerialQueue() (*SerialQueue, error) {
	var ptr *C.bg_serial
	err := p.core.use(func(pp *C.bg_pool) error {
		pp, err := p.core.cptr(pp)
		if err != nil {
			return err
		}
		return statusError(C.bg_serial_new(pp, &ptr))
	})
	if err != nil {
		return nil, err
	}
	core := &serialCore{ptr: ptr, onError: p.core.onError}
	q := &SerialQueue{core: core}
	q.cleanup = addCleanup(q, func(c *serialCore) { _ = c.free() }, core)
	return q, nil
}

// Submit queues f after every task submitted before it and returns its handle.
func (q *SerialQueue) Submit(f func()) *Task {
	if f == nil {
		return failedTask(ErrInvalid)
	}
	return submitTask(func() error { f(); return nil }, q.core.onError, func(h C.uintptr_t) (s C.bg_go_submitted, err error) {
		err = q.core.use(func(ptr *C.bg_serial) error {
			s = C.bg_go_serial_submit(ptr, h, 1)
			return statusError(s.status)
		})
		return s, err
	})
}

// Spawn queues f without a handle; a panic or refusal goes to the error
// handler, as with Pool.Spawn.
func (q *SerialQueue) Spawn(f func()) {
	if f == nil {
		report(q.core.onError, fmt.Errorf("background: Spawn(nil): %w", ErrInvalid))
		return
	}
	spawnWith(func() error { f(); return nil }, q.core.onError, func(h C.uintptr_t) error {
		return q.core.use(func(ptr *C.bg_serial) error {
			return statusError(C.bg_go_serial_submit(ptr, h, 0).status)
		})
	})
}

// Close lets go of the queue without waiting: tasks already submitted still
// run, in order. Later submissions fail with ErrClosed.
func (q *SerialQueue) Close() error {
	if err := q.core.free(); err != nil {
		return err
	}
	q.cleanup.stop()
	return nil
}

func (c *serialCore) use(f func(ptr *C.bg_serial) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	return f(c.ptr)
}

func (c *serialCore) free() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return ErrClosed
	}
	st := C.bg_serial_free(c.ptr)
	c.ptr = nil
	return statusError(st)
}

// SubmitKeyed runs f on the current pool (see Default) in the lane of key (see
// Pool.SubmitKeyed).
func SubmitKeyed(key uint64, f func()) *Task { return ambient.SubmitKeyed(key, f) }

// SubmitKeyed runs f so that tasks with the same key run one at a time in
// submission order and tasks with different keys run in parallel (per
// account, per connection, per file). A key costs nothing while idle.
func (p *Pool) SubmitKeyed(key uint64, f func()) *Task {
	if f == nil {
		return failedTask(ErrInvalid)
	}
	return submitTask(func() error { f(); return nil }, p.core.onError, func(h C.uintptr_t) (s C.bg_go_submitted, err error) {
		err = p.core.use(func(ptr *C.bg_pool) error {
			s = C.bg_go_submit_keyed(ptr, C.uint64_t(key), h, 1)
			return statusError(s.status)
		})
		return s, err
	})
}
