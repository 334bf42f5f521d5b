package background_test

// Blocking tasks (issue 14): a Go task blocked in time.Sleep, on a channel or
// in a system call sits in the kernel on its worker thread (a cgo callback
// keeps the goroutine on that thread), so the pool's monitor sees it and a
// spare thread runs the work queued behind it. Bounds are generous: a loaded
// 2-CPU CI machine must pass them.

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

// A task queued behind a sleeping one starts well before the sleep ends.
func TestBlockingSleepDoesNotDelayAQueuedTask(t *testing.T) {
	const sleep, bound = 3 * time.Second, 2 * time.Second
	p := newPool(t, background.Options{Threads: 1})
	asleep := make(chan struct{})
	p.Spawn(func() {
		close(asleep)
		time.Sleep(sleep)
	})
	<-asleep
	t0 := time.Now()
	f := background.GoOn(p, func() (time.Time, error) { return time.Now(), nil })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	started, err := f.Wait(ctx)
	if err != nil {
		t.Fatalf("queued task: %v", err)
	}
	if d := started.Sub(t0); d > bound {
		t.Errorf("the queued task started %v after submission, behind a task sleeping %v", d, sleep)
	}
}

// Without a spare these deadlock: the blocked task waits for what only the
// queued task does.
func TestBlockingChannelDoesNotDelayAQueuedTask(t *testing.T) {
	p := newPool(t, background.Options{Threads: 1})
	ch := make(chan int)
	got := background.GoOn(p, func() (int, error) { return <-ch, nil })
	sent := background.GoOn(p, func() (bool, error) { ch <- 7; return true, nil })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := sent.Wait(ctx); err != nil {
		t.Fatalf("sender: %v", err)
	}
	if v, err := got.Wait(ctx); err != nil || v != 7 {
		t.Fatalf("receiver: %v, %v", v, err)
	}
}

func TestBlockingSyscallDoesNotDelayAQueuedTask(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	p := newPool(t, background.Options{Threads: 1})
	read := background.GoOn(p, func() (int, error) {
		var b [1]byte
		return syscall.Read(fds[0], b[:]) // a blocking read(2) on the worker thread
	})
	wrote := background.GoOn(p, func() (int, error) { return syscall.Write(fds[1], []byte{'x'}) })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if n, err := wrote.Wait(ctx); err != nil || n != 1 {
		t.Fatalf("writer: %v, %v", n, err)
	}
	if n, err := read.Wait(ctx); err != nil || n != 1 {
		t.Fatalf("reader: %v, %v", n, err)
	}
}

// Issue 14's blocking workload from Go: 100 tasks that each sleep 100 ms,
// all submitted at once; ns/op is the time until all are done (one wave:
// 100 ms). Goroutines are the baseline; the pool's spares should come close.
//
//	go test -run '^$' -bench BenchmarkBlocking -benchtime 5x
func benchBlocking(b *testing.B, spawn func(func())) {
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		wg.Add(100)
		for j := 0; j < 100; j++ {
			spawn(func() {
				time.Sleep(100 * time.Millisecond)
				wg.Done()
			})
		}
		wg.Wait()
	}
}

func BenchmarkBlocking100x100msGoroutines(b *testing.B) {
	benchBlocking(b, func(f func()) { go f() })
}

func BenchmarkBlocking100x100msPool(b *testing.B) {
	p, err := background.NewPool(background.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	benchBlocking(b, p.Spawn)
}

// Blocking: a task that waits without blocking in the kernel (spinning, so
// the monitor rightly never counts it) still gets a spare for the task that
// ends its wait, because it said it blocks. Without Blocking this spins
// until the test's patience runs out.
func TestBlockingHintGetsASpare(t *testing.T) {
	p := newPool(t, background.Options{Threads: 1, MaxThreads: 2})
	var flag atomic.Bool
	spinner := background.GoOn(p, func() (bool, error) {
		background.Blocking(func() {
			for !flag.Load() {
				runtime.Gosched()
			}
		})
		return true, nil
	})
	setter := background.GoOn(p, func() (uint64, error) {
		s, err := p.Stats()
		flag.Store(true)
		return s.Blocked, err
	})
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	blocked, err := setter.Wait(ctx)
	if err != nil {
		t.Fatalf("setter: %v", err)
	}
	// At least the spinner. The setter's own thread may be counted too: a
	// callback's thread that waited for a P when the monitor looked is
	// blocked in the kernel like any other (1 in ~100 runs).
	if blocked < 1 {
		t.Errorf("Stats().Blocked = %d while the spinner was inside Blocking, want at least 1", blocked)
	}
	if _, err := spinner.Wait(ctx); err != nil {
		t.Fatalf("spinner: %v", err)
	}
	// Outside a task it only calls f.
	ran := false
	background.Blocking(func() { ran = true })
	if !ran {
		t.Error("Blocking did not call f outside a task")
	}
}
