package background

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// What panjf2000/ants users reach for: a submit that waits for room, and
// gauges. The C library has no blocking submit yet; until it has one
// (SubmitWait would then call it with the context's deadline in slices, as
// waitSliced does), the wait is done here: a waiter parks on the pool's room
// channel, which a Go task of this pool closes when it leaves the queue
// (it starts, or is dropped), with a 1 ms poll as the backstop for room
// made by anything else (C tasks, other bindings).

// room is a pool's "a queued task left" signal.
type room struct {
	waiters atomic.Int32 // goroutines in SubmitWait
	mu      sync.Mutex
	ch      chan struct{}
}

// wait returns the channel to wait on; call before retrying the submit.
func (r *room) wait() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

// made is called when a queued task of the pool left the queue. From a
// trampoline the waiters are woken through the hub (see hub.go).
func (r *room) made() {
	if r == nil || r.waiters.Load() == 0 {
		return
	}
	r.mu.Lock()
	ch := r.ch
	r.ch = nil
	r.mu.Unlock()
	if ch == nil {
		return
	}
	if hub.start() {
		hub.postClose(ch)
	} else {
		close(ch)
	}
}

// SubmitWait is Submit on the current pool (see Default) that waits for room (see Pool.SubmitWait).
func SubmitWait(ctx context.Context, f func()) (*Task, error) { return ambient.SubmitWait(ctx, f) }

// SubmitWait runs f on the pool like Submit, but when the pool is full
// (Options.MaxQueued) it waits until there is room or ctx is done, holding
// no OS thread, as ants' blocking Submit does. With Options.MaxWaiting set
// and that many callers already waiting it returns ErrFull at once (ants'
// MaxBlockingTasks). The error is the refusal (ErrClosed, ErrShutdown, ...)
// or ctx.Err(); with an error there is no task and f never runs.
func (p *Pool) SubmitWait(ctx context.Context, f func()) (*Task, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	if f == nil {
		return nil, ErrInvalid
	}
	r := &p.core.room
	counted := false
	defer func() {
		if counted {
			r.waiters.Add(-1)
		}
	}()
	delay := 50 * time.Microsecond
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ch <-chan struct{}
		if counted {
			ch = r.wait() // before the try: a task leaving after it closes ch
		}
		t := p.submit(plainFunc(f))
		if !t.settled || !errors.Is(t.err, ErrFull) {
			if t.settled && t.err != nil {
				return nil, t.err
			}
			return t, nil
		}
		if !counted {
			if max := p.core.maxWaiting; max > 0 && int(r.waiters.Load()) >= max {
				return nil, ErrFull
			}
			r.waiters.Add(1)
			counted = true
			continue // register on the room channel, then try again
		}
		timer := time.NewTimer(delay)
		select {
		case <-ch:
		case <-timer.C:
			delay = min(2*delay, time.Millisecond)
		case <-ctx.Done():
		}
		timer.Stop()
	}
}

// Waiting returns how many callers are in SubmitWait waiting for room (ants' Waiting).
func (p *Pool) Waiting() int { return int(p.core.room.waiters.Load()) }

// Running returns how many tasks the pool's workers are running now (ants'
// Running); from Stats.
func (p *Pool) Running() int {
	s, _ := p.Stats()
	return int(s.Running)
}

// Cap returns the pool's number of worker threads (ants' Cap).
func (p *Pool) Cap() int { return p.Threads() }

// Free returns how many worker threads are not running a task (ants' Free).
func (p *Pool) Free() int {
	s, _ := p.Stats()
	return max(int(s.Threads)-int(s.Running), 0)
}
