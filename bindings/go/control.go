package background

// #include "shim.h"
import "C"

import (
	"context"
	"sync"
	"sync/atomic"
)

// Pause stops the pool's workers taking queued tasks until Resume: tasks
// running now finish, queued ones wait, and submissions are still accepted
// (within Options.MaxQueued); delayed tasks that fall due meanwhile wait
// too, and a serial queue or keyed lane stops between two of its tasks.
// Pausing a paused pool is allowed. A Wait does not run a task of a paused
// pool itself (see Options.NoRunInWait); it waits for the resume.
//
// Shutdown and Close resume the pool first: a drain runs what is queued,
// a cancel shutdown drops it. It returns ErrShutdown once the pool is
// shut down, ErrClosed once closed.
func (p *Pool) Pause() error {
	return p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		if err != nil {
			return err
		}
		if err := statusError(C.bg_pool_pause(d)); err != nil {
			return err
		}
		notePaused(d)
		return nil
	})
}

// Resume lets a paused pool's workers take queued tasks again. Resuming a
// pool that is not paused does nothing.
func (p *Pool) Resume() error {
	return p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		if err != nil {
			return err
		}
		err = statusError(C.bg_pool_resume(d))
		forgetPaused(d) // after: until it returns, waiters must not run tasks
		return err
	})
}

// WaitIdle waits until the pool is idle, nothing queued and nothing
// running, without shutting it down, or until ctx is done (ctx.Err()).
// Tasks submitted meanwhile are waited for too: with producers still
// submitting it may never return. Tasks still waiting for their delay, or
// in a Limit behind a running task, are not queued yet. A paused pool with
// tasks queued is not idle.
//
// Like Shutdown it blocks an OS thread while it waits (the library polls
// with a 10 µs to 1 ms backoff), in 50 ms slices when ctx has no deadline.
// From one of the pool's own tasks, which keeps it busy, it returns
// ErrDeadlock at once.
func (p *Pool) WaitIdle(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	return p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		if err != nil {
			return err
		}
		return waitSliced(ctx, func(ns C.uint64_t) C.bg_status { return C.bg_go_pool_wait_idle(d, ns) })
	})
}

// The pools paused through Pause, for runInline: a waiter must not run a
// task of a paused pool, as the library's own caller-runs refuses to
// (src/task/caller_runs.rs). The library has no cheap query for it
// (bg_pool_stats sums every worker's counters), so this package notes its
// own pauses; a pool paused from C (bg_pool_pause on Pool.C) is not seen
// here. n keeps the common case, no pool paused, to one atomic load.
var paused struct {
	n   atomic.Int32
	mu  sync.Mutex
	set map[*C.bg_pool]struct{}
}

func notePaused(ptr *C.bg_pool) {
	paused.mu.Lock()
	defer paused.mu.Unlock()
	if paused.set == nil {
		paused.set = make(map[*C.bg_pool]struct{})
	}
	paused.set[ptr] = struct{}{}
	paused.n.Store(int32(len(paused.set)))
}

func forgetPaused(ptr *C.bg_pool) {
	if !pausedAny() {
		return
	}
	paused.mu.Lock()
	defer paused.mu.Unlock()
	delete(paused.set, ptr)
	paused.n.Store(int32(len(paused.set)))
}

func pausedAny() bool { return paused.n.Load() != 0 }

// isPaused reports whether ptr was paused through Pause and not resumed.
func isPaused(ptr *C.bg_pool) bool {
	if !pausedAny() {
		return false
	}
	paused.mu.Lock()
	defer paused.mu.Unlock()
	_, ok := paused.set[ptr]
	return ok
}
