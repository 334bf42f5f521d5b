package background_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
	"github.com/background-lib/background/bindings/go/internal/testc"
)

// patience bounds every wait in the tests: generous, for a loaded machine.
const patience = 30 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// goroutines counts the goroutines that run code. A C thread that has
// called into Go keeps an idle goroutine bound to it for its next call (Go
// 1.21+); that shows as a stack of just runtime.goexit and is not counted,
// nor is the package's hub goroutine, which starts on first use and stays.
func goroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(g), "\n")
		if len(lines) > 1 && !strings.HasPrefix(lines[1], "runtime.goexit(") && !strings.Contains(g, "(*hubState).run(") {
			n++
		}
	}
	return n
}

// noLeaks fails the test if, once it ends, goroutines or handles remain
// beyond those alive when it started.
func noLeaks(t *testing.T) {
	t.Helper()
	before := goroutines()
	handles := background.LiveHandles()
	t.Cleanup(func() {
		deadline := time.Now().Add(patience)
		for {
			g, h := goroutines(), background.LiveHandles()
			if g <= before && h == handles {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("leak: %d goroutines (was %d), %d handles (was %d)\n%s", g, before, h, handles, buf)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// newPool makes a pool that the test closes when it ends.
func newPool(t *testing.T, opts background.Options) *background.Pool {
	t.Helper()
	p, err := background.NewPool(opts)
	if err != nil {
		t.Fatalf("NewPool(%+v): %v", opts, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// blockPool occupies every thread of a pool of n threads until the returned
// function is called, so that later tasks stay queued.
// heldPool is newPool without spare threads (MaxThreads = Threads), for
// tests that hold its workers with blockPool and expect the work queued
// behind them to wait.
func heldPool(t *testing.T, opts background.Options) *background.Pool {
	t.Helper()
	if opts.MaxThreads == 0 {
		opts.MaxThreads = opts.Threads
	}
	return newPool(t, opts)
}

func blockPool(t *testing.T, p *background.Pool, n int) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		p.Spawn(func() {
			started <- struct{}{}
			<-gate
		})
	}
	for i := 0; i < n; i++ {
		select {
		case <-started:
		case <-time.After(patience):
			t.Fatal("blocking tasks did not start")
		}
	}
	return func() { close(gate) }
}

// threadsNamed counts this process's threads whose name starts with prefix.
func threadsNamed(t *testing.T, prefix string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Skip("needs /proc:", err)
	}
	n := 0
	for _, e := range entries {
		comm, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err == nil && strings.HasPrefix(string(comm), prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or patience runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shutdownCancel shuts p down in cancel mode while blockPool's tasks still
// hold its threads, and only then releases them, so that every task queued
// behind them is dropped, never run.
func shutdownCancel(t *testing.T, p *background.Pool, release func()) {
	t.Helper()
	result := make(chan error, 1)
	go func() { result <- p.Shutdown(context.Background(), background.ShutdownCancel) }()
	// The pool refuses work once the shutdown has begun; probes accepted
	// before that are dropped with the rest.
	waitFor(t, "the shutdown begins", func() bool {
		return errors.Is(p.SpawnC(testc.Nop, nil, nil), background.ErrShutdown)
	})
	release()
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Shutdown did not return")
	}
}
