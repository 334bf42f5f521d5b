package background

// #include "shim.h"
import "C"

import (
	"context"
	"sync"
	"sync/atomic"
)

// Task is a handle to one submitted task: wait for it, watch its Done
// channel, or cancel it before it starts. Its methods are safe for
// concurrent use.
type Task struct {
	// done is made by the first caller that needs it (Done, a wait that
	// parks), under dmu: a task waited for by running it, or seen done at
	// once, never makes one. closed says the task has ended for Done's
	// callers: done is closed, or will be made closed.
	dmu    sync.Mutex
	done   chan struct{}
	closed atomic.Bool
	// state is the task's state word (hub.go): &gostate, or the word of
	// its C cell: a C task's (cell) or a claimable Go task's (gcell).
	state   *uint32
	gostate uint32
	cell    *C.bg_go_cell
	gcell   *C.bg_go_cell // a Go task a waiter may run itself (runinline.go)
	noRun   bool          // its pool's Options.NoRunInWait

	// Written by the trampoline before done is closed, read after; ended
	// (set in between) is for the race detector, which does not see the
	// atomics on a cell's word in C memory.
	ended   atomic.Bool
	ran     bool  // the Go closure ran and outcome is its error
	outcome error // nil, the closure's error, or a *PanicError

	mu      sync.Mutex
	ref     *taskRef // the library's handle, until settled
	settled bool
	err     error // the final outcome, once settled
}

// taskRef holds the C handle apart from the Task so that its block's
// cleanup can release it once the Task is unreachable (taskblock.go), and
// what that cleanup must report: a failure that no Wait returned.
type taskRef struct {
	mu      sync.Mutex
	p       *C.bg_task
	failed  error // the Go function's error or panic
	read    bool  // a Wait returned the outcome
	onError func(error)
}

// fail records the Go function's error (before the task is seen to end).
func (r *taskRef) fail(err error) {
	r.mu.Lock()
	r.failed = err
	r.mu.Unlock()
}

func (r *taskRef) load() *C.bg_task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p
}

// take returns the handle and forgets it; the caller releases it.
func (r *taskRef) take() *C.bg_task {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.p
	r.p = nil
	return p
}

// newTask returns a Task of a block (taskblock.go), with its job and its
// taskRef, for a task about to be submitted.
func newTask(onError func(error)) taskParts {
	parts := newTaskParts()
	parts.t.state = &parts.t.gostate
	parts.ref.onError = onError
	return parts
}

// failedTask is a task that was refused: it is done, with err. It holds
// nothing to release, so it is not carved from a block.
func failedTask(err error) *Task {
	t := &Task{}
	t.state = &t.gostate
	t.settled, t.err = true, err
	t.gostate = stDone
	t.closeDone()
	return t
}

// attach takes ownership of the library's handle for t; ref is the one
// the task's job was given. Its block's cleanup releases the handle if
// no Wait does.
func (t *Task) attach(ref *taskRef, p *C.bg_task) {
	ref.mu.Lock()
	ref.p = p
	ref.mu.Unlock()
	t.ref = ref
}

// Done returns a channel that is closed when the task has ended: it ran,
// was cancelled, or its pool dropped it.
func (t *Task) Done() <-chan struct{} {
	t.watch()
	return t.doneChan()
}

// Cancel stops the task if it has not started; it then never runs and its
// waiters get ErrCancelled. It reports whether this call cancelled it: false
// if it is running, has ended, or was never accepted.
func (t *Task) Cancel() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ref == nil {
		return false
	}
	p := t.ref.load()
	if p == nil {
		return false
	}
	if t.gcell != nil {
		return t.cancelCell(p)
	}
	// The drop trampoline runs here, on this goroutine, before bg_cancel returns.
	return C.bg_cancel(p) == C.BG_OK
}

// Wait waits until the task has ended or ctx is done, and returns the
// task's error: nil, the function's error, a *PanicError, a *FailedError (a
// C task's non-zero code), ErrCancelled or ErrShutdown; or ctx.Err().
// A context that ends the wait does not cancel the task.
//
// A waiting goroutine holds no OS thread: it waits on the Done channel.
// Inside a task of the pool, where the goroutine is bound to a worker thread
// anyway, Wait lets that worker run other queued tasks meanwhile, so tasks
// may wait for tasks they submitted even on a one-thread pool.
func (t *Task) Wait(ctx context.Context) error {
	err, _ := t.wait(ctx)
	return err
}

// wait is Wait that also reports whether the task ended (false: ctx ended
// the wait, or ctx is nil).
func (t *Task) wait(ctx context.Context) (error, bool) {
	return t.waitMay(ctx, !t.noRun)
}

// waitMay is wait; run says whether it may run a task no worker has
// started on this goroutine (runinline.go).
func (t *Task) waitMay(ctx context.Context, run bool) (error, bool) {
	if ctx == nil {
		return errNilContext, false
	}
	if t.isDone() {
		return t.settle(), true
	}
	// Only a context that can never end may wait by running the task:
	// a running closure cannot be left at a deadline.
	if run && t.gcell != nil && ctx.Done() == nil && t.runInline() {
		return t.settle(), true
	}
	if run && t.cell != nil && ctx.Done() == nil && t.runCHere() {
		return t.settle(), true
	}
	if C.bg_current_pool() != nil { // a task of some pool holds this thread: help
		if err := t.helpWait(ctx); err != nil {
			return err, false
		}
		// The trampoline (or C's cell) marked it done before the library ended it.
		return t.settle(), true
	}
	if t.spin() {
		return t.settle(), true
	}
	t.watch()
	select {
	case <-t.doneChan():
		return t.settle(), true
	case <-ctx.Done():
		return ctx.Err(), false
	}
}

// helpWait waits in the library, whose wait on a worker thread runs other
// queued work until the task ends. It returns nil once the task has ended,
// ErrDeadlock for a wait that could never end (a serial-queue task waiting
// for a task queued after it on the same queue), or ctx.Err().
func (t *Task) helpWait(ctx context.Context) error {
	p := t.retainRef()
	if p == nil {
		return nil
	}
	defer C.bg_task_release(p)
	return waitSliced(ctx, func(ns C.uint64_t) C.bg_status {
		switch st := C.bg_wait_timeout(p, ns, nil); st {
		case C.BG_ETIMEDOUT, C.BG_EDEADLK, C.BG_EINVAL, C.BG_EPANIC:
			return st
		default: // it ended; how is settle's business
			return C.BG_OK
		}
	})
}

// retainRef returns a reference of its own to the library's handle (release
// it), or nil once the handle is gone.
func (t *Task) retainRef() *C.bg_task {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ref == nil {
		return nil
	}
	return C.bg_task_retain(t.ref.load())
}

// settle fixes the task's final error once it has ended and releases the
// library's handle. How a dropped task ended (cancelled or shut down) and
// what a C task returned are known only to the library.
func (t *Task) settle() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.settled {
		return t.err
	}
	t.settled = true
	t.closeDone() // for Done's callers: it has ended
	t.ref.mu.Lock()
	t.ref.read = true
	t.ref.mu.Unlock()
	if t.ended.Load() && t.ran {
		t.err = t.outcome
		return t.err // the block's cleanup releases the handle, with the cell
	}
	p := t.ref.take()
	w := C.bg_go_settle(p)
	// The cell stays until the block's cleanup: t.state points into it.
	switch w.status {
	case C.BG_OK:
		t.err = nil
	case C.BG_EFAILED:
		t.err = &FailedError{Code: int(w.result)}
	default:
		t.err = Status(w.status)
	}
	return t.err
}

// goJob runs a Go closure submitted with a handle.
type goJob struct {
	t    *Task
	ref  *taskRef
	fn   body
	room *room         // the pool's, to signal SubmitWait's waiters; or nil
	cell *C.bg_go_cell // the task's cell if a waiter may run it
}

func (j *goJob) run() int {
	// The job stays in its block as long as the block's other Tasks:
	// let go of what it points to now (a pool's room reaches its core).
	fn, r := j.fn, j.room
	j.fn, j.room = nil, nil
	r.made()
	err := callBody(fn)
	if err != nil {
		j.ref.fail(err)
	}
	j.t.outcome = err
	j.t.ran = true
	code := 0
	if err != nil {
		code = failedCode
	}
	if j.cell != nil {
		// For the worker that dequeues a task a waiter ran: read after DONE.
		j.cell.code = C.int(code)
	}
	j.t.complete()
	return code
}

func (j *goJob) drop() {
	r := j.room
	j.fn, j.room = nil, nil
	r.made()
	j.t.complete()
}

// Submit runs f on the current pool (see Default) and returns its handle.
func Submit(f func()) *Task { return ambient.Submit(f) }

// Submit runs f on the pool and returns its handle. If the pool refuses it
// (closed, shut down, full) the task is already done with that error.
func (p *Pool) Submit(f func()) *Task {
	if f == nil {
		return failedTask(ErrInvalid)
	}
	return p.submit(plainFunc(f))
}

// submit queues fn on the pool with a claimable cell (runinline.go).
func (p *Pool) submit(fn body) *Task {
	parts := newTask(p.core.onError)
	t, c := parts.t, parts.cell
	// The cell first: the job and the Task must point at it before a worker
	// can run the job.
	if c == nil {
		return failedTask(ErrNoMemory)
	}
	t.gcell, t.state, t.noRun = c, cellState(c), p.core.noRun
	*parts.job = goJob{t: t, ref: parts.ref, fn: fn, room: &p.core.room, cell: c}
	h := newHandle(parts.job)
	ptr, err := p.core.acquire()
	if err == nil {
		s := C.bg_go_submit_cell(ptr, c, C.uintptr_t(h))
		p.core.release()
		if err = statusError(s.status); err == nil {
			t.attach(parts.ref, s.task)
			return t
		}
	}
	forgetHandle(h) // refused: the block's cleanup frees the unused cell
	return failedTask(err)
}

// submitTask hands fn, as a handle, to submit (which queues it somewhere)
// and returns its Task; a refused task is done with the refusal.
func submitTask(fn func() error, onError func(error), submit func(h C.uintptr_t) (C.bg_go_submitted, error)) *Task {
	return submitTaskTo(nil, fn, onError, submit)
}

// submitTaskTo is submitTask whose job signals r when it leaves the queue.
func submitTaskTo(r *room, fn func() error, onError func(error), submit func(h C.uintptr_t) (C.bg_go_submitted, error)) *Task {
	parts := newTask(onError)
	t := parts.t
	*parts.job = goJob{t: t, ref: parts.ref, fn: errFunc(fn), room: r}
	h := newHandle(parts.job)
	s, err := submit(C.uintptr_t(h))
	if err != nil {
		forgetHandle(h)
		return failedTask(err)
	}
	t.attach(parts.ref, s.task)
	return t
}

// A body is a task's Go code: call runs it and returns its error. A
// func() or func() error converts to one without an allocation, and a
// Future is one itself: no wrapper closure per task.
type body interface{ call() error }

type plainFunc func()

func (f plainFunc) call() error { f(); return nil }

type errFunc func() error

func (f errFunc) call() error { return f() }
