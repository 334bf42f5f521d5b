package background_test

// The behaviour panjf2000/ants v2.11.4's tests check that maps onto Pool:
// submit and wait, a blocking submit with a bound on waiters
// (MaxBlockingTasks), the Running/Free/Cap/Waiting gauges, the panic
// handler, and release (Close) with a fresh pool after it. Written again,
// not copied. Idle-worker expiry has no counterpart yet: the C pool keeps
// its threads.

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestAntsSubmitAndWait(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	var wg sync.WaitGroup
	var sum atomic.Int64
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		i := i
		p.Spawn(func() { sum.Add(int64(i)); wg.Done() })
	}
	wg.Wait()
	if sum.Load() != 999*1000/2 {
		t.Fatalf("sum %d", sum.Load())
	}
}

func TestAntsGauges(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 3})
	if p.Cap() != 3 {
		t.Fatalf("Cap() = %d, want 3", p.Cap())
	}
	waitFor(t, "an idle pool shows 3 free", func() bool { return p.Free() == 3 && p.Running() == 0 })
	release := blockPool(t, p, 2)
	waitFor(t, "two tasks running", func() bool { return p.Running() == 2 && p.Free() == 1 })
	release()
	waitFor(t, "the pool idle again", func() bool { return p.Running() == 0 && p.Free() == 3 })
	if p.Waiting() != 0 {
		t.Fatalf("Waiting() = %d with nobody in SubmitWait", p.Waiting())
	}
}

// A blocking submit waits for room; MaxWaiting bounds the waiters and a
// caller beyond it gets ErrFull at once; a context ends a wait.
func TestAntsBlockingSubmitWithMaxWaiting(t *testing.T) {
	noLeaks(t)
	ctx := ctxT(t)
	p := heldPool(t, background.Options{Threads: 1, MaxQueued: 1, MaxWaiting: 2})
	release := blockPool(t, p, 1)
	queued, err := p.SubmitWait(ctx, func() {}) // takes the one queue slot
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	results := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			task, err := p.SubmitWait(ctx, func() { ran.Add(1) })
			if err == nil {
				err = task.Wait(ctx)
			}
			results <- err
		}()
	}
	waitFor(t, "two callers waiting", func() bool { return p.Waiting() == 2 })
	if _, err := p.SubmitWait(ctx, func() {}); !errors.Is(err, background.ErrFull) {
		t.Fatalf("a third waiter: %v, want ErrFull", err)
	}
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	p2 := heldPool(t, background.Options{Threads: 1, MaxQueued: 1})
	release2 := blockPool(t, p2, 1)
	if _, err := p2.SubmitWait(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.SubmitWait(short, func() {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait past its context: %v", err)
	}
	release2()
	release()
	for i := 0; i < 2; i++ {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if err := queued.Wait(ctx); err != nil || ran.Load() != 2 {
		t.Fatalf("queued: %v; %d of 2 waiters' tasks ran", err, ran.Load())
	}
	if p.Waiting() != 0 {
		t.Fatalf("Waiting() = %d after all got in", p.Waiting())
	}
}

// The panic handler (ants' PanicHandler; here the pool's ErrorHandler)
// hears of the panic, and the task no longer counts as running while it does.
func TestAntsPanicHandler(t *testing.T) {
	noLeaks(t)
	got := make(chan error, 1)
	var p *background.Pool
	running := make(chan int, 1)
	p = newPool(t, background.Options{Threads: 1, ErrorHandler: func(err error) {
		// The library counts the task once its trampoline has returned;
		// a handler run inside the task would see 1 for ever.
		n, deadline := p.Running(), time.Now().Add(patience)
		for n != 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			n = p.Running()
		}
		running <- n
		got <- err
	}})
	p.Spawn(func() { panic("ants-style panic") })
	var pe *background.PanicError
	if err := <-got; !errors.As(err, &pe) || pe.Value != "ants-style panic" {
		t.Fatalf("handler got %v", err)
	}
	if n := <-running; n != 0 {
		t.Fatalf("Running() = %d inside the handler", n)
	}
}

// Release (Close), then a new pool: ants' Reboot. The closed pool refuses work.
func TestAntsReleaseAndReboot(t *testing.T) {
	noLeaks(t)
	ctx := ctxT(t)
	p, err := background.NewPool(background.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(func() {}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(func() {}).Wait(ctx); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if _, err := p.SubmitWait(ctx, func() {}); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("SubmitWait after Close: %v, want ErrClosed", err)
	}
	p = newPool(t, background.Options{Threads: 2})
	if err := p.Submit(func() {}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
