package background_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestAPausedPoolRunsWhatWasSubmittedOnceResumed(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	if err := p.Pause(); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if err := p.Pause(); err != nil {
		t.Fatalf("a second Pause: %v, want nil", err)
	}
	if s, _ := p.Stats(); !s.Paused {
		t.Fatal("Stats().Paused is false while paused")
	}
	var ran atomic.Int32
	task := p.Submit(func() { ran.Add(1) })
	// A Wait that may run the task itself must not run a paused pool's task.
	waited := make(chan error, 1)
	go func() { waited <- task.Wait(context.Background()) }()
	time.Sleep(30 * time.Millisecond)
	select {
	case err := <-waited:
		t.Fatalf("Wait returned %v while the pool was paused", err)
	default:
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("the task ran %d times while the pool was paused", n)
	}
	if err := p.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("Wait after Resume: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("the task did not run after Resume")
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
	if s, _ := p.Stats(); s.Paused {
		t.Fatal("Stats().Paused is true after Resume")
	}
	if err := p.Resume(); err != nil {
		t.Fatalf("Resume of a running pool: %v, want nil", err)
	}
}

func TestClosingAPausedPoolRunsWhatIsQueued(t *testing.T) {
	noLeaks(t)
	p, err := background.NewPool(background.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	for i := 0; i < 10; i++ {
		p.Spawn(func() { ran.Add(1) })
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := ran.Load(); n != 10 {
		t.Fatalf("%d of 10 queued tasks ran before Close returned", n)
	}
	for name, err := range map[string]error{"Pause": p.Pause(), "Resume": p.Resume(), "WaitIdle": p.WaitIdle(ctxT(t))} {
		if !errors.Is(err, background.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestPausingAShutDownPoolIsErrShutdown(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	if err := p.Shutdown(ctxT(t), background.ShutdownDrain); err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(); !errors.Is(err, background.ErrShutdown) {
		t.Fatalf("Pause after Shutdown: %v, want ErrShutdown", err)
	}
	if err := p.WaitIdle(ctxT(t)); err != nil {
		t.Fatalf("WaitIdle of a shut down pool: %v, want nil (nothing queued or running)", err)
	}
}

func TestWaitIdleReturnsOnceQueuedWorkHasRun(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	var ran atomic.Int32
	for i := 0; i < 50; i++ {
		p.Spawn(func() { ran.Add(1) })
	}
	go func() { time.Sleep(20 * time.Millisecond); release() }()
	if err := p.WaitIdle(ctxT(t)); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	if n := ran.Load(); n != 50 {
		t.Fatalf("WaitIdle returned with %d of 50 queued tasks run", n)
	}
	// The pool stays open.
	if err := p.Submit(func() {}).Wait(ctxT(t)); err != nil {
		t.Fatalf("Submit after WaitIdle: %v", err)
	}
}

func TestWaitIdleEndsWithTheContext(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	task := p.Submit(func() {}) // a paused pool with a task queued is not idle
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := p.WaitIdle(ctx); err != context.DeadlineExceeded {
		t.Fatalf("WaitIdle with a deadline: %v, want DeadlineExceeded", err)
	}
	// A context without a deadline is watched between the library's slices.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if err := p.WaitIdle(ctx); err != context.Canceled {
		t.Fatalf("WaitIdle with a cancelled context: %v, want Canceled", err)
	}
	if err := p.WaitIdle(nil); err == nil {
		t.Fatal("WaitIdle(nil): nil error")
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitIdle(ctxT(t)); err != nil {
		t.Fatalf("WaitIdle after Resume: %v", err)
	}
	if !isDone(task) {
		t.Fatal("WaitIdle returned before the queued task ended")
	}
}

func isDone(t *background.Task) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

func TestWaitIdleFromATaskOfThePoolIsErrDeadlock(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	// On a worker (the library refuses), and run by its waiter (the
	// binding refuses: the task's job is still queued).
	for _, wait := range []func(*background.Task, context.Context) error{
		(*background.Task).WaitNoRun, (*background.Task).Wait,
	} {
		var got error
		task := p.Submit(func() { got = p.WaitIdle(context.Background()) })
		if err := wait(task, context.Background()); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(got, background.ErrDeadlock) {
			t.Fatalf("WaitIdle inside a task of the pool: %v, want ErrDeadlock", got)
		}
	}
}
