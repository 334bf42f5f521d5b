package background_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	background "github.com/background-lib/background/bindings/go"
	"github.com/background-lib/background/bindings/go/internal/testc"
)

// Each benchmark runs b.N tasks of the same size and waits for all of them;
// ns/op is the cost per task. Sizes: an empty task, and two amounts of
// arithmetic whose cost alone BenchmarkWorkAlone measures in the same run.
var sizes = []struct {
	name   string
	rounds int
}{{"empty", 0}, {"small", 400}, {"large", 8000}}

var sink uint64

// spin does n rounds of arithmetic the compiler cannot drop.
func spin(n int) {
	x := uint64(n) | 1
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	if x == 0 {
		sink++
	}
}

// The work of one task, run inline on one goroutine: what a task costs
// without any concurrency.
func BenchmarkWorkAlone(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				spin(s.rounds)
			}
		})
	}
}

// go f() for each task, joined with a WaitGroup: the baseline.
func BenchmarkGoroutineWaitGroup(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			var wg sync.WaitGroup
			for i := 0; i < b.N; i++ {
				wg.Add(1)
				go func() {
					spin(s.rounds)
					wg.Done()
				}()
			}
			wg.Wait()
		})
	}
}

// The same Go closure through the pool, fire and forget, joined with a
// WaitGroup: the pool's cost for Go code.
func BenchmarkPoolSpawnWaitGroup(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			var wg sync.WaitGroup
			for i := 0; i < b.N; i++ {
				wg.Add(1)
				background.Spawn(func() {
					spin(s.rounds)
					wg.Done()
				})
			}
			wg.Wait()
		})
	}
}

// Through the pool with a handle per task, each waited for: Submit + Wait.
func BenchmarkPoolSubmitWait(b *testing.B) {
	ctx := context.Background()
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			tasks := make([]*background.Task, 0, 1024)
			for i := 0; i < b.N; i++ {
				tasks = append(tasks, background.Submit(func() { spin(s.rounds) }))
				if len(tasks) == cap(tasks) || i == b.N-1 {
					for _, t := range tasks {
						if err := t.Wait(ctx); err != nil {
							b.Fatal(err)
						}
					}
					tasks = tasks[:0]
				}
			}
		})
	}
}

// An empty C function through the pool with no Go on the task's path
// (SpawnC): the pool's own cost per task. Completion is observed through
// the C counter the function bumps.
func BenchmarkPoolSpawnC(b *testing.B) {
	before := testc.Runs()
	for i := 0; i < b.N; i++ {
		if err := background.SpawnC(testc.CountRun, testc.Int(1), nil); err != nil {
			b.Fatal(err)
		}
	}
	for testc.Runs()-before < b.N {
		runtime.Gosched()
	}
}

// A C function through the pool with a handle, waited for from Go.
func BenchmarkPoolSubmitCWait(b *testing.B) {
	ctx := context.Background()
	tasks := make([]*background.Task, 0, 1024)
	for i := 0; i < b.N; i++ {
		tasks = append(tasks, background.SubmitC(testc.Nop, nil, nil))
		if len(tasks) == cap(tasks) || i == b.N-1 {
			for _, t := range tasks {
				if err := t.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			tasks = tasks[:0]
		}
	}
}

// A group of Go closures against golang.org/x/sync/errgroup's shape
// (goroutines + WaitGroup + first error).
func BenchmarkGroup(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			g, err := background.NewGroup()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				g.Go(func() error { spin(s.rounds); return nil })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
