package background_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestSubmitRunsTheFunctionOnce(t *testing.T) {
	noLeaks(t)
	var runs atomic.Int32
	task := background.Submit(func() { runs.Add(1) })
	if err := task.Wait(ctxT(t)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := task.Wait(ctxT(t)); err != nil { // a second wait sees the same end
		t.Fatalf("second Wait: %v", err)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
}

func TestGoReturnsTheValueAndTheError(t *testing.T) {
	noLeaks(t)
	v, err := background.Go(func() (string, error) { return "ok", nil }).Wait(ctxT(t))
	if v != "ok" || err != nil {
		t.Fatalf("got (%q, %v), want (\"ok\", nil)", v, err)
	}
	boom := errors.New("boom")
	n, err := background.Go(func() (int, error) { return 7, boom }).Wait(ctxT(t))
	if n != 7 || err != boom {
		t.Fatalf("got (%d, %v), want (7, boom): both as the function returned them", n, err)
	}
}

func TestPanicInAWaitedTaskIsReturnedWithItsStack(t *testing.T) {
	noLeaks(t)
	_, err := background.Go(func() (int, error) { panicInTask(); return 0, nil }).Wait(ctxT(t))
	var pe *background.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait error %v (%T), want *PanicError", err, err)
	}
	if pe.Value != "kaboom" {
		t.Fatalf("panic value %v, want kaboom", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panicInTask") {
		t.Fatalf("stack does not show where it panicked:\n%s", pe.Stack)
	}
}

func panicInTask() { panic("kaboom") }

func TestPanicWithAnErrorUnwrapsToIt(t *testing.T) {
	err := background.Submit(func() { panic(os.ErrNotExist) }).Wait(ctxT(t))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Wait error %v does not unwrap to the panic's error", err)
	}
}

func TestWaitEndsAtTheContextDeadlineAndTheTaskGoesOn(t *testing.T) {
	noLeaks(t)
	gate := make(chan struct{})
	f := background.Go(func() (int, error) { <-gate; return 1, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if v, err := f.Wait(ctx); err != context.DeadlineExceeded || v != 0 {
		t.Fatalf("got (%d, %v), want (0, DeadlineExceeded)", v, err)
	}
	close(gate)
	if v, err := f.Wait(ctxT(t)); v != 1 || err != nil {
		t.Fatalf("after the gate opened: (%d, %v), want (1, nil)", v, err)
	}
}

func TestWaitEndsWhenTheContextIsCancelled(t *testing.T) {
	noLeaks(t)
	gate := make(chan struct{})
	task := background.Submit(func() { <-gate })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := task.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait: %v, want context.Canceled", err)
	}
	close(gate)
	if err := task.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWaitRejectsANilContext(t *testing.T) {
	task := background.Submit(func() {})
	//lint:ignore SA1012 the nil context is the point of the test
	if err := task.Wait(nil); err == nil { //nolint:staticcheck
		t.Fatal("Wait(nil) returned nil")
	}
	if err := task.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWaitingGoroutinesHoldNoOSThreads(t *testing.T) {
	noLeaks(t)
	before := threadsNamed(t, "")
	gate := make(chan struct{})
	const waiters = 200
	task := background.Submit(func() { <-gate })
	var waiting, done atomic.Int32
	for i := 0; i < waiters; i++ {
		go func() {
			waiting.Add(1)
			if err := task.Wait(context.Background()); err == nil {
				done.Add(1)
			}
		}()
	}
	waitFor(t, "all waiters started", func() bool { return waiting.Load() == waiters })
	time.Sleep(50 * time.Millisecond) // let them block
	during := threadsNamed(t, "")
	close(gate)
	waitFor(t, "all waiters returned", func() bool { return done.Load() == waiters })
	// A waiter blocked in C would pin one thread each: 200 more threads.
	if during-before > waiters/4 {
		t.Fatalf("%d waiting goroutines raised the thread count from %d to %d", waiters, before, during)
	}
}

func TestDoneIsClosedWhenTheTaskEnds(t *testing.T) {
	noLeaks(t)
	gate := make(chan struct{})
	task := background.Submit(func() { <-gate })
	select {
	case <-task.Done():
		t.Fatal("Done closed before the task ended")
	case <-time.After(10 * time.Millisecond):
	}
	close(gate)
	select {
	case <-task.Done():
	case <-time.After(patience):
		t.Fatal("Done not closed after the task ended")
	}
	if err := task.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCancelBeforeStartMeansTheTaskNeverRuns(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	var ran atomic.Bool
	f := background.GoOn(p, func() (int, error) { ran.Store(true); return 1, nil })
	if !f.Cancel() {
		t.Fatal("Cancel of a queued task returned false")
	}
	if f.Cancel() {
		t.Fatal("a second Cancel returned true")
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done not closed by Cancel")
	}
	if v, err := f.Wait(ctxT(t)); v != 0 || !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Wait: (%d, %v), want (0, ErrCancelled)", v, err)
	}
	release()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Fatal("a cancelled task ran")
	}
}

func TestCancelOfARunningOrFinishedTaskReturnsFalse(t *testing.T) {
	noLeaks(t)
	started, gate := make(chan struct{}), make(chan struct{})
	task := background.Submit(func() { close(started); <-gate })
	<-started
	if task.Cancel() {
		t.Fatal("Cancel of a running task returned true")
	}
	close(gate)
	if err := task.Wait(ctxT(t)); err != nil {
		t.Fatalf("a task whose Cancel came too late should finish normally: %v", err)
	}
	if task.Cancel() {
		t.Fatal("Cancel of a finished task returned true")
	}
}

func TestATaskMayWaitForItsSubtaskOnAOneThreadPool(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	outer := background.GoOn(p, func() (int, error) {
		inner := background.GoOn(p, func() (int, error) { return 20, nil })
		v, err := inner.Wait(context.Background()) // the one worker runs inner meanwhile
		return v + 1, err
	})
	if v, err := outer.Wait(ctxT(t)); v != 21 || err != nil {
		t.Fatalf("got (%d, %v), want (21, nil)", v, err)
	}
}

func TestAWaitInsideATaskHonoursItsContext(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	gate := make(chan struct{})
	blocked := background.GoOn(p, func() (int, error) { <-gate; return 0, nil })
	outer := background.GoOn(p, func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := blocked.Wait(ctx)
		return 0, err
	})
	if _, err := outer.Wait(ctxT(t)); err != context.DeadlineExceeded {
		t.Fatalf("inner wait: %v, want DeadlineExceeded", err)
	}
	close(gate)
	if _, err := blocked.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestNilFunctionsAreRefusedWithErrInvalid(t *testing.T) {
	noLeaks(t)
	if err := background.Submit(nil).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("Submit(nil): %v", err)
	}
	if _, err := background.Go[int](nil).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("Go(nil): %v", err)
	}
}

func TestManyTasksLeaveNoHandlesAndNoGoroutines(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	var sum atomic.Int64
	tasks := make([]*background.Future[int], 2000)
	for i := range tasks {
		i := i
		tasks[i] = background.GoOn(p, func() (int, error) { sum.Add(int64(i)); return i, nil })
	}
	for i, f := range tasks {
		if i%3 == 0 {
			f.Cancel() // some are cancelled, the rest run
		}
	}
	ran := 0
	for i, f := range tasks {
		v, err := f.Wait(ctxT(t))
		switch {
		case err == nil && v == i:
			ran++
		case errors.Is(err, background.ErrCancelled) && v == 0:
		default:
			t.Fatalf("task %d: (%d, %v)", i, v, err)
		}
	}
	if ran == 0 {
		t.Fatal("no task ran")
	}
}
