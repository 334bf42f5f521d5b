package background

// #include "shim.h"
import "C"

import "sync"

// Limit is a limiter: of the tasks submitted through it, at most n run at
// once, started in submission order; the others wait in the limiter,
// holding no thread (Taskflow's semaphores; what errgroup's SetLimit does,
// except that a submit returns at once and the task waits inside the
// limiter). Submit through it with Limit.Submit or SubmitOptions.Limit.
//
// A task leaves its slot when it ends in any way: it ran, was cancelled
// (Cancel on a task waiting in the limiter takes it out; on one already
// queued on the pool it frees the slot for the next), expired, or was
// dropped by a shutdown. Tasks waiting in a limiter do not count towards
// Options.MaxQueued. A Limit is safe for concurrent use.
type Limit struct {
	core    *limitCore
	cleanup cleanup
}

type limitCore struct {
	mu      sync.RWMutex // as poolCore.mu: read-held while ptr is in use
	ptr     *C.bg_limit
	onError func(error)
}

// NewLimit makes a limiter of width n (at least 1) on the current pool
// (see Default).
func NewLimit(n int) (*Limit, error) { return ambient.NewLimit(n) }

// NewLimit makes a limiter of width n (at least 1) on the pool. Close it
// when done; one garbage collected unclosed is let go of by a cleanup.
func (p *Pool) NewLimit(n int) (*Limit, error) {
	if n < 1 {
		return nil, ErrInvalid
	}
	var ptr *C.bg_limit
	err := p.core.use(func(pp *C.bg_pool) error {
		pp, err := p.core.cptr(pp)
		if err != nil {
			return err
		}
		return statusError(C.bg_limit_new(pp, C.size_t(n), &ptr))
	})
	if err != nil {
		return nil, err
	}
	core := &limitCore{ptr: ptr, onError: p.core.onError}
	l := &Limit{core: core}
	l.cleanup = addCleanup(l, func(c *limitCore) { _ = c.free() }, core)
	return l, nil
}

// Submit runs f within the limiter, on its pool, and returns its handle:
// f starts once fewer than n of the limiter's tasks run and every task
// submitted through it before f has started. After Close the Task is done
// with ErrClosed.
func (l *Limit) Submit(f func()) *Task {
	if f == nil {
		return failedTask(ErrInvalid)
	}
	c := l.c()
	if c == nil {
		return failedTask(ErrInvalid)
	}
	return submitTask(func() error { f(); return nil }, c.onError, func(h C.uintptr_t) (s C.bg_go_submitted, err error) {
		err = c.use(func(ptr *C.bg_limit) error {
			s = C.bg_go_limit_submit(ptr, h)
			return statusError(s.status)
		})
		return s, err
	})
}

// Counts returns how many of the limiter's tasks run now (started and not
// ended: at most n) and how many wait in it, as a snapshot; ErrClosed
// after Close.
func (l *Limit) Counts() (running, queued int, err error) {
	var r, q C.size_t
	err = l.c().use(func(ptr *C.bg_limit) error {
		return statusError(C.bg_limit_counts(ptr, &r, &q))
	})
	return int(r), int(q), err
}

// Close lets go of the limiter without waiting: tasks already submitted
// still run, within the limit. Later submissions through it fail with
// ErrClosed, as does a second Close.
func (l *Limit) Close() error {
	if err := l.c().free(); err != nil {
		return err
	}
	l.cleanup.stop()
	return nil
}

// useOrNone runs f with the limiter's pointer, or with nil for a nil Limit
// (SubmitOptions without one).
func (l *Limit) useOrNone(f func(ptr *C.bg_limit) error) error {
	if l == nil {
		return f(nil)
	}
	return l.c().use(f)
}

// c is the limiter's core; nil for a Limit not made by NewLimit, which
// every method refuses with ErrInvalid.
func (l *Limit) c() *limitCore {
	if l == nil {
		return nil
	}
	return l.core
}

func (c *limitCore) use(f func(ptr *C.bg_limit) error) error {
	if c == nil {
		return ErrInvalid
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	return f(c.ptr)
}

func (c *limitCore) free() error {
	if c == nil {
		return ErrInvalid
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return ErrClosed
	}
	st := C.bg_limit_free(c.ptr)
	c.ptr = nil
	return statusError(st)
}
