package background_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestALimitRunsAtMostNOfItsTasksAtOnce(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	const width = 2
	l, err := p.NewLimit(width)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var running, most atomic.Int32
	var overCount atomic.Bool
	f := func() {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if r, _, _ := l.Counts(); r > width {
			overCount.Store(true)
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
	}
	var tasks []*background.Task
	for i := 0; i < 40; i++ {
		if i%2 == 0 {
			tasks = append(tasks, l.Submit(f))
		} else {
			tasks = append(tasks, p.SubmitWith(background.SubmitOptions{Limit: l}, f))
		}
	}
	for _, task := range tasks {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if m := most.Load(); m > width || m < 1 {
		t.Fatalf("at most %d ran at once, want 1 to %d", m, width)
	}
	if overCount.Load() {
		t.Fatalf("Counts reported more than %d running", width)
	}
	waitFor(t, "the limiter is empty", func() bool {
		r, q, err := l.Counts()
		return r == 0 && q == 0 && err == nil
	})
}

func TestCancellingALimitedTaskFreesItsSlot(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	l, err := p.NewLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	var ranA, ranB atomic.Int32
	a := l.Submit(func() { ranA.Add(1) }) // started: queued on the paused pool, holding the slot
	b := l.Submit(func() { ranB.Add(1) }) // waits in the limiter
	if r, q, err := l.Counts(); r != 1 || q != 1 || err != nil {
		t.Fatalf("Counts = (%d, %d, %v), want (1, 1, nil)", r, q, err)
	}
	if !a.Cancel() {
		t.Fatal("Cancel of a queued limited task: false")
	}
	// a's slot went to b, which is now queued on the pool.
	waitFor(t, "b takes the freed slot", func() bool {
		r, q, _ := l.Counts()
		return r == 1 && q == 0
	})
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(ctxT(t)); err != nil {
		t.Fatalf("b: %v", err)
	}
	if err := a.Wait(ctxT(t)); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("a: %v, want ErrCancelled", err)
	}
	if ranA.Load() != 0 || ranB.Load() != 1 {
		t.Fatalf("runs a=%d b=%d, want 0 and 1", ranA.Load(), ranB.Load())
	}
}

func TestCancellingATaskWaitingInALimitTakesItOut(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	l, err := p.NewLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	gate := make(chan struct{})
	started := make(chan struct{})
	var ran atomic.Int32
	x := l.Submit(func() { close(started); <-gate })
	<-started
	y := l.Submit(func() { ran.Add(1) })
	z := l.Submit(func() { ran.Add(10) })
	if !y.Cancel() {
		t.Fatal("Cancel of a task waiting in the limiter: false")
	}
	if err := y.Wait(ctxT(t)); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("y: %v, want ErrCancelled", err)
	}
	close(gate)
	for _, task := range []*background.Task{x, z} {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ran.Load(); n != 10 {
		t.Fatalf("runs %d, want 10: z ran, y never", n)
	}
}

func TestALimitAfterCloseGivesErrors(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	for _, n := range []int{0, -1} {
		if _, err := p.NewLimit(n); !errors.Is(err, background.ErrInvalid) {
			t.Errorf("NewLimit(%d): %v, want ErrInvalid", n, err)
		}
	}
	l, err := p.NewLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	before := l.Submit(func() { ran.Add(1) })
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, background.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := l.Submit(func() { ran.Add(100) }).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}
	if _, _, err := l.Counts(); !errors.Is(err, background.ErrClosed) {
		t.Errorf("Counts after Close: %v, want ErrClosed", err)
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := before.Wait(ctxT(t)); err != nil || ran.Load() != 1 {
		t.Fatalf("a task submitted before Close: %v, %d runs; want nil, 1", err, ran.Load())
	}

	var zero background.Limit
	if err := zero.Submit(func() {}).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Errorf("zero Limit Submit: %v, want ErrInvalid", err)
	}
	if _, _, err := zero.Counts(); !errors.Is(err, background.ErrInvalid) {
		t.Errorf("zero Limit Counts: %v, want ErrInvalid", err)
	}
	if err := zero.Close(); !errors.Is(err, background.ErrInvalid) {
		t.Errorf("zero Limit Close: %v, want ErrInvalid", err)
	}
	if err := l.Submit(nil).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Errorf("Submit(nil): %v, want ErrInvalid", err)
	}
}

func TestALimitOutlivesItsPool(t *testing.T) {
	noLeaks(t)
	p, err := background.NewPool(background.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.NewLimit(2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(func() { t.Error("ran on a closed pool") }).Wait(ctxT(t)); !errors.Is(err, background.ErrShutdown) {
		t.Errorf("Submit through a limit of a closed pool: %v, want ErrShutdown", err)
	}
	if r, q, err := l.Counts(); r != 0 || q != 0 || err != nil {
		t.Errorf("Counts = (%d, %d, %v), want (0, 0, nil)", r, q, err)
	}
	if _, err := p.NewLimit(1); !errors.Is(err, background.ErrClosed) {
		t.Errorf("NewLimit on a closed pool: %v, want ErrClosed", err)
	}
}
