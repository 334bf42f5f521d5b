package background_test

import (
	"context"
	"testing"

	background "github.com/background-lib/background/bindings/go"
	"github.com/background-lib/background/bindings/go/internal/testc"
)

// One task at a time: submit, wait for it, then the next. This is latency,
// the path a request handler takes; the batch benchmarks measure throughput.

func BenchmarkRTGoroutineChan(b *testing.B) {
	done := make(chan struct{})
	for i := 0; i < b.N; i++ {
		go func() { done <- struct{}{} }()
		<-done
	}
}

func BenchmarkRTGoWait(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if _, err := background.Go(func() (int, error) { return 0, nil }).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// The same with the task always left to a worker (no run in the wait).
func BenchmarkRTGoWaitNoRun(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if _, err := background.Go(func() (int, error) { return 0, nil }).WaitNoRun(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRTSubmitCWait(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if err := background.SubmitC(testc.Nop, nil, nil).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRTCDriver(b *testing.B) {
	p := background.Default().C()
	b.ResetTimer()
	if n := testc.RoundTrips(p, b.N); n != b.N {
		b.Fatalf("%d of %d ran", n, b.N)
	}
}

// Go(f).Wait in batches of 1024: throughput with a handle per task.
func BenchmarkGoWaitBatch(b *testing.B) {
	ctx := context.Background()
	futs := make([]*background.Future[int], 0, 1024)
	for i := 0; i < b.N; i++ {
		futs = append(futs, background.Go(func() (int, error) { return 0, nil }))
		if len(futs) == cap(futs) || i == b.N-1 {
			for _, f := range futs {
				if _, err := f.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			futs = futs[:0]
		}
	}
}

// The C driver's fire and forget of the same empty C task as SpawnC.
func BenchmarkCDriverSpawn(b *testing.B) {
	p := background.Default().C()
	b.ResetTimer()
	if n := testc.Spawns(p, b.N); n != b.N {
		b.Fatalf("%d of %d accepted", n, b.N)
	}
}
