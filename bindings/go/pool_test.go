package background_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	background "github.com/background-lib/background/bindings/go"
	"github.com/background-lib/background/bindings/go/internal/testc"
)

func TestNewPoolRejectsBadOptions(t *testing.T) {
	for _, opts := range []background.Options{
		{Threads: -1}, {Threads: 1025}, {StackSize: -1}, {MaxQueued: -1},
	} {
		if p, err := background.NewPool(opts); !errors.Is(err, background.ErrInvalid) {
			if p != nil {
				p.Close()
			}
			t.Errorf("NewPool(%+v): %v, want ErrInvalid", opts, err)
		}
	}
}

func TestAPoolHasTheThreadsItWasGiven(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 3, Name: "three"})
	if n := p.Threads(); n != 3 {
		t.Fatalf("Threads() = %d, want 3", n)
	}
	waitFor(t, "3 threads named three-*", func() bool { return threadsNamed(t, "three-") == 3 })
}

func TestCloseRunsEverythingQueuedThenRefusesWork(t *testing.T) {
	noLeaks(t)
	p, err := background.NewPool(background.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	release := blockPool(t, p, 1)
	var ran atomic.Int32
	tasks := make([]*background.Task, 50)
	for i := range tasks {
		tasks[i] = p.Submit(func() { ran.Add(1) })
	}
	go func() { time.Sleep(10 * time.Millisecond); release() }()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := ran.Load(); n != 50 {
		t.Fatalf("%d of 50 queued tasks ran before Close returned", n)
	}
	for _, task := range tasks {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Submit(func() {}).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if p.Threads() != 0 {
		t.Fatal("a closed pool reports threads")
	}
}

func TestTasksMaySubmitMoreWorkWhileThePoolDrains(t *testing.T) {
	noLeaks(t)
	p, err := background.NewPool(background.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var leaves atomic.Int32
	var tree func(depth int)
	tree = func(depth int) {
		if depth == 0 {
			leaves.Add(1)
			return
		}
		p.Spawn(func() { tree(depth - 1) })
		p.Spawn(func() { tree(depth - 1) })
	}
	p.Spawn(func() { tree(8) })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := leaves.Load(); n != 256 {
		t.Fatalf("%d of 256 leaves ran", n)
	}
}

func TestShutdownCancelDropsQueuedTasks(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	var ran atomic.Int32
	tasks := make([]*background.Task, 20)
	for i := range tasks {
		tasks[i] = p.Submit(func() { ran.Add(1) })
	}
	shutdownCancel(t, p, release)
	for i, task := range tasks {
		if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrShutdown) {
			t.Fatalf("task %d: %v, want ErrShutdown", i, err)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d dropped tasks ran", n)
	}
	if err := p.Submit(func() {}).Wait(ctxT(t)); !errors.Is(err, background.ErrShutdown) {
		t.Fatalf("Submit after Shutdown: %v, want ErrShutdown", err)
	}
}

func TestShutdownStopsWaitingWhenItsContextEnds(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx, background.ShutdownDrain); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown with a running task and a short deadline: %v", err)
	}
	release()
	if err := p.Shutdown(ctxT(t), background.ShutdownDrain); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestClosingAPoolFromItsOwnTaskIsErrDeadlock(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	f := background.GoOn(p, func() (error, error) { return p.Close(), nil })
	if err, _ := f.Wait(ctxT(t)); !errors.Is(err, background.ErrDeadlock) {
		t.Fatalf("Close from inside: %v, want ErrDeadlock", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close from outside afterwards: %v", err)
	}
}

func TestTheDefaultPoolCannotBeClosed(t *testing.T) {
	if err := background.Default().Close(); err == nil {
		t.Fatal("closing the default pool succeeded")
	}
	if err := background.Submit(func() {}).Wait(ctxT(t)); err != nil {
		t.Fatalf("default pool after a refused Close: %v", err)
	}
}

func TestSetThreadsResizesALivePool(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1, Name: "resize"})
	if err := p.SetThreads(3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 threads named resize-*", func() bool { return threadsNamed(t, "resize-") == 3 })
	if err := p.SetThreads(1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1 thread named resize-*", func() bool { return threadsNamed(t, "resize-") == 1 })
	for _, n := range []int{0, -1, 1025} {
		if err := p.SetThreads(n); !errors.Is(err, background.ErrInvalid) {
			t.Errorf("SetThreads(%d): %v, want ErrInvalid", n, err)
		}
	}
}

func TestSetThreadsSizesTheDefaultPool(t *testing.T) {
	old := background.Threads()
	t.Cleanup(func() { _ = background.SetThreads(old) })
	if err := background.SetThreads(3); err != nil {
		t.Fatal(err)
	}
	if n := background.Threads(); n != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", n)
	}
	if err := background.SetThreads(0); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("SetThreads(0): %v", err)
	}
}

func TestAFullQueueRefusesWithErrFull(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1, MaxQueued: 2})
	release := blockPool(t, p, 1)
	defer release()
	refused := 0
	for i := 0; i < 10; i++ {
		task := p.Submit(func() {})
		select {
		case <-task.Done(): // a refused task is done at once
			if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrFull) {
				t.Fatalf("refused with %v, want ErrFull", err)
			}
			refused++
		default:
		}
	}
	// The bound is checked against a snapshot of the queue: allow slack.
	if refused < 5 {
		t.Fatalf("a pool with MaxQueued 2 accepted %d of 10 tasks behind a busy worker", 10-refused)
	}
}

func TestStatsCountTasks(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	for i := 0; i < 10; i++ {
		if err := p.Submit(func() {}).Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait returns as soon as the Go function has returned; the library
	// counts the task a moment later, when the trampoline is back in C.
	var s background.Stats
	waitFor(t, "10 tasks counted", func() bool {
		var err error
		if s, err = p.Stats(); err != nil {
			t.Fatal(err)
		}
		return s.Completed == 10
	})
	if s.Threads != 2 || s.Failed != 0 || s.Cancelled != 0 {
		t.Fatalf("Stats = %+v, want Threads 2, nothing failed or cancelled", s)
	}
}

func TestAnAbandonedPoolIsClosedByItsCleanup(t *testing.T) {
	noLeaks(t)
	var ran atomic.Bool
	func() {
		p, err := background.NewPool(background.Options{Threads: 2, Name: "abandoned"})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the pool's threads start", func() bool { return threadsNamed(t, "abandoned-") == 2 })
		p.Submit(func() { ran.Store(true) })
	}()
	waitFor(t, "the abandoned pool's threads exit", func() bool {
		runtime.GC()
		return threadsNamed(t, "abandoned-") == 0
	})
	if !ran.Load() {
		t.Fatal("the cleanup did not drain the queued task")
	}
}

func TestCloseFromATaskDuringAnOutsideShutdownIsErrDeadlock(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	shuttingDown := make(chan struct{})
	inside := background.GoOn(p, func() (error, error) {
		<-shuttingDown
		return p.Close(), nil
	})
	result := make(chan error, 1)
	go func() { result <- p.Shutdown(context.Background(), background.ShutdownDrain) }()
	waitFor(t, "the shutdown begins", func() bool {
		return errors.Is(p.SpawnC(testc.Nop, nil, nil), background.ErrShutdown)
	})
	close(shuttingDown)
	if err, _ := inside.Wait(ctxT(t)); !errors.Is(err, background.ErrDeadlock) {
		t.Fatalf("Close from inside during a shutdown: %v, want ErrDeadlock", err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("the outside Shutdown hung")
	}
}

func TestConcurrentClosesFreeThePoolOnce(t *testing.T) {
	noLeaks(t)
	p, err := background.NewPool(background.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	release := blockPool(t, p, 2)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() { errs <- p.Close() }()
	}
	time.Sleep(10 * time.Millisecond) // let the Closes pile up behind the drain
	release()
	ok := 0
	for i := 0; i < 4; i++ {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, background.ErrClosed):
			t.Fatalf("Close: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d Closes succeeded, want exactly 1", ok)
	}
}

// The package-level functions inside a task use that task's pool, the one
// bg_submit() would pick in C; the binding asks the library (bg_current_pool)
// rather than keeping its own copy.
func TestPackageLevelCallsInsideATaskUseItsPool(t *testing.T) {
	// With NoRunInWait every task runs on a worker, where C code sees its
	// pool too; by default the outer task below runs in its Wait, and
	// package-level calls still go to its pool (WaitNoRun for the inner one
	// so that it runs on a worker, where the C function can see where).
	for _, noRun := range []bool{true, false} {
		p := newPool(t, background.Options{Threads: 2, NoRunInWait: noRun})
		if testc.CurrentPool() != nil {
			t.Fatal("bg_current_pool() outside any task is not nil")
		}
		onPool := func() (unsafe.Pointer, error) { return testc.CurrentPool(), nil }
		got, err := background.GoOn(p, func() (unsafe.Pointer, error) {
			return background.Go(onPool).WaitNoRun(context.Background())
		}).Wait(context.Background())
		if err != nil || got != p.C() {
			t.Fatalf("NoRunInWait %v: Go inside a task of p ran on %p (err %v), want p = %p", noRun, got, err, p.C())
		}
		// Naming the default pool still means the default pool.
		got, err = background.GoOn(p, func() (unsafe.Pointer, error) {
			return background.GoOn(background.Default(), onPool).WaitNoRun(context.Background())
		}).Wait(context.Background())
		if err != nil || got != background.Default().C() {
			t.Fatalf("NoRunInWait %v: GoOn(Default()) inside a task of p ran on %p (err %v), want the default pool", noRun, got, err)
		}
	}
}
