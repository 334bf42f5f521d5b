package background

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Group runs a set of tasks and waits for them together, with the
// semantics of golang.org/x/sync/errgroup: Wait returns the first non-nil
// error. A group made by GroupWithContext also cancels on the first error:
// its tasks that have not started never run, later Go calls are refused, and
// its context is cancelled.
//
// As with errgroup, the zero Group is ready to use: it runs every task, on
// the default pool. The library's group is freed when the Group is garbage
// collected; its tasks do not need it.
type Group struct {
	once sync.Once
	core *groupCore
}

// groupCore is what the group's tasks and its cleanup reach: the library's
// group, and the outcome, kept in Go so that Wait waits on a channel.
type groupCore struct {
	ptr    *C.bg_group
	cancel context.CancelCauseFunc // nil unless made by GroupWithContext

	// cmu orders bg_group_cancel (from a failing task) before the cleanup's
	// bg_group_free; freed is set by the latter.
	cmu   sync.Mutex
	freed bool

	// sem holds a slot per running task when SetLimit set a limit.
	sem chan struct{}

	mu      sync.Mutex
	waiting bool // a Wait is parked on idle: close it through the hub
	pending int
	idle    chan struct{} // closed while pending == 0
	err     error         // the first error
	dropped bool          // a task never ran
}

// NewGroup makes a group on the current pool (see Default) that runs every task.
func NewGroup() (*Group, error) { return ambient.NewGroup() }

// GroupWithContext makes a group on the current pool (see Default) that cancels on the
// first error, and a context derived from ctx that is cancelled then (or
// when Wait returns).
func GroupWithContext(ctx context.Context) (*Group, context.Context, error) {
	return ambient.GroupWithContext(ctx)
}

// NewGroup makes a group on the pool that runs every task.
func (p *Pool) NewGroup() (*Group, error) {
	return p.newGroup(C.BG_GROUP_DEFAULT, nil)
}

// GroupWithContext makes a group on the pool that cancels on the first
// error, and a context derived from ctx that is cancelled then (or when
// Wait returns), for the tasks to watch.
func (p *Pool) GroupWithContext(ctx context.Context) (*Group, context.Context, error) {
	if ctx == nil {
		return nil, nil, errNilContext
	}
	ctx, cancel := context.WithCancelCause(ctx)
	g, err := p.newGroup(C.BG_GROUP_CANCEL_ON_ERROR, cancel)
	if err != nil {
		cancel(err)
		return nil, nil, err
	}
	return g, ctx, nil
}

func (p *Pool) newGroup(flags C.uint32_t, cancel context.CancelCauseFunc) (*Group, error) {
	var ptr *C.bg_group
	err := p.core.use(func(pp *C.bg_pool) error {
		pp, err := p.core.cptr(pp)
		if err != nil {
			return err
		}
		return statusError(C.bg_group_new(pp, flags, &ptr))
	})
	if err != nil {
		return nil, err
	}
	g := &Group{core: newGroupCore(ptr, cancel)}
	addCleanup(g, (*groupCore).free, g.core)
	return g, nil
}

func newGroupCore(ptr *C.bg_group, cancel context.CancelCauseFunc) *groupCore {
	idle := make(chan struct{})
	close(idle)
	return &groupCore{ptr: ptr, cancel: cancel, idle: idle}
}

// c returns the group's core, making the library's group for a zero Group.
func (g *Group) c() *groupCore {
	g.once.Do(func() {
		if g.core != nil {
			return // made by NewGroup or GroupWithContext
		}
		var ptr *C.bg_group
		err := ambient.core.use(func(pp *C.bg_pool) error {
			pp, err := ambient.core.cptr(pp)
			if err != nil {
				return err
			}
			return statusError(C.bg_group_new(pp, C.BG_GROUP_DEFAULT, &ptr))
		})
		g.core = newGroupCore(ptr, nil)
		if err != nil {
			g.core.err = err // every Go is refused; Wait returns it
			return
		}
		addCleanup(g, (*groupCore).free, g.core)
	})
	return g.core
}

// Go runs f on the group's pool as a member of the group. If the group
// refuses it (cancelled, or its pool shut down or full) f never runs and the
// refusal is recorded as the group's error if it has none yet. With a limit
// (SetLimit), Go first blocks until a slot is free, as errgroup's does.
func (g *Group) Go(f func() error) {
	c := g.c()
	if c.sem != nil {
		c.sem <- struct{}{}
	}
	g.submit(c, f)
}

// TryGo runs f as Go does only if the group is below its limit (SetLimit)
// and reports whether it did: false if the limit is reached (f is not
// run), or if the group refused f (its error then records why, as in Go).
func (g *Group) TryGo(f func() error) bool {
	c := g.c()
	if c.sem != nil {
		select {
		case c.sem <- struct{}{}:
		default:
			return false
		}
	}
	return g.submit(c, f)
}

// SetLimit bounds the group's tasks in flight (queued or running) to n; a
// negative n removes the bound. As in errgroup, it panics if tasks of the
// group are in flight; n == 0 makes Go block for ever and TryGo fail.
func (g *Group) SetLimit(n int) {
	c := g.c()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != 0 {
		panic(fmt.Errorf("background: modify limit while %v tasks in the group are still in flight", c.pending))
	}
	if n < 0 {
		c.sem = nil
		return
	}
	c.sem = make(chan struct{}, n)
}

// submit hands f to the library; a slot of sem, if any, is already taken.
func (g *Group) submit(c *groupCore, f func() error) bool {
	if f == nil {
		c.fail(ErrInvalid)
		c.release()
		return false
	}
	if c.ptr == nil { // the zero Group could not make its library group
		c.release()
		return false
	}
	c.add()
	h := newHandle(&groupJob{g: c, fn: f})
	s := C.bg_go_group_submit(c.ptr, C.uintptr_t(h))
	runtime.KeepAlive(g) // the cleanup must not free the group during the call
	if s.status != C.BG_OK {
		forgetHandle(h)
		c.fail(Status(s.status))
		c.finish()
		return false
	}
	return true
}

// Wait waits until every task given to Go so far has ended and returns the
// first error: a task's error or *PanicError, a refusal, or ErrCancelled if
// no task failed but some never ran (Cancel, or a cancel shutdown). It then
// cancels the group's context, if it has one. Wait may be called again after
// more calls to Go. Inside a task of the pool it lets its worker run other
// tasks meanwhile.
func (g *Group) Wait() error {
	c := g.c()
	if c.ptr != nil && C.bg_current_pool() != nil {
		C.bg_group_wait(c.ptr, C.BG_FOREVER, nil) // helps; the outcome is kept in Go
	}
	c.mu.Lock()
	idle := c.idle
	if c.pending != 0 && hub.start() {
		c.waiting = true // the last task closes idle through the hub
	}
	c.mu.Unlock()
	<-idle
	runtime.KeepAlive(g)
	c.mu.Lock()
	err := c.err
	if err == nil && c.dropped {
		err = ErrCancelled
	}
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel(err) // the cause is the first error, as errgroup's
	}
	return err
}

// Cancel cancels the group: its tasks that have not started never run,
// later Go calls are refused, and its context (if any) is cancelled.
// Running tasks finish.
func (g *Group) Cancel() {
	c := g.c()
	c.cancelC()
	runtime.KeepAlive(g)
	if c.cancel != nil {
		c.cancel(context.Canceled)
	}
}

// cancelC cancels the library's group unless the cleanup has freed it.
func (c *groupCore) cancelC() {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.ptr != nil && !c.freed {
		C.bg_group_cancel(c.ptr)
	}
}

// free frees the library's group; its tasks do not need it.
func (c *groupCore) free() {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.freed = true
	C.bg_group_free(c.ptr)
}

// release frees a task's slot (SetLimit).
func (c *groupCore) release() {
	if c.sem != nil {
		<-c.sem
	}
}

func (c *groupCore) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == 0 {
		c.idle = make(chan struct{})
	}
	c.pending++
}

func (c *groupCore) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending--
	if c.pending == 0 {
		if c.waiting {
			c.waiting = false
			hub.postClose(c.idle)
		} else {
			close(c.idle)
		}
	}
}

// fail records err if it is the group's first.
func (c *groupCore) fail(err error) {
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err = err
	}
	c.mu.Unlock()
	if first && c.cancel != nil {
		// The library's group first, so that no Go call gets a task in
		// once the context says the group has failed.
		c.cancelC()
		c.cancel(err)
	}
}

// groupJob is one member of a group.
type groupJob struct {
	g  *groupCore
	fn func() error
}

func (j *groupJob) run() int {
	err := call(j.fn)
	if err != nil {
		j.g.fail(err)
	}
	j.g.release()
	j.g.finish()
	if err != nil {
		return failedCode // the library cancels a cancel-on-error group on it
	}
	return 0
}

func (j *groupJob) drop() {
	j.g.mu.Lock()
	j.g.dropped = true
	j.g.mu.Unlock()
	j.g.release()
	j.g.finish()
}
