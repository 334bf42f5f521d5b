package background_test

import (
	"context"
	"errors"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestATimedPoolReportsQueueWaitAndRunTimes(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1, Timing: true})
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	const n, held, runs = 10, 30 * time.Millisecond, 2 * time.Millisecond
	var tasks []*background.Task
	for i := 0; i < n; i++ {
		tasks = append(tasks, p.Submit(func() { time.Sleep(runs) }))
	}
	time.Sleep(held)
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		// A timed pool's Wait does not run the task itself, which would
		// leave it untimed.
		if err := task.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var tm background.Timing
	waitFor(t, "every task is timed", func() bool {
		var err error
		tm, err = p.Timing()
		return err == nil && tm.Timed == n
	})
	if tm.Run < n*runs || tm.RunP50 < runs || tm.RunP99 < tm.RunP50 {
		t.Errorf("run: total %v, p50 %v, p99 %v; want at least %v, %v, p50", tm.Run, tm.RunP50, tm.RunP99, n*runs, runs)
	}
	if tm.QueueWait < n*held || tm.QueueWaitP50 < held || tm.QueueWaitP99 < tm.QueueWaitP50 {
		t.Errorf("queue wait: total %v, p50 %v, p99 %v; want at least %v, %v, p50", tm.QueueWait, tm.QueueWaitP50, tm.QueueWaitP99, n*held, held)
	}
	var inWait, inRun uint64
	for i := 0; i < background.TimingBuckets; i++ {
		inWait += tm.QueueWaitHist[i]
		inRun += tm.RunHist[i]
	}
	if inWait != n || inRun != n {
		t.Errorf("histograms hold %d and %d tasks, want %d", inWait, inRun, n)
	}
	s, err := p.Stats()
	if err != nil || s.Timed != tm.Timed || s.Run != tm.Run || s.QueueWait != tm.QueueWait {
		t.Errorf("Stats (%v) timed %d, run %v, queue wait %v; Timing: %d, %v, %v", err, s.Timed, s.Run, s.QueueWait, tm.Timed, tm.Run, tm.QueueWait)
	}
}

func TestAnUntimedPoolReportsNoTiming(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	if err := p.Submit(func() { time.Sleep(time.Millisecond) }).WaitNoRun(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if tm, err := p.Timing(); err != nil || tm != (background.Timing{}) {
		t.Fatalf("Timing() = %+v, %v; want zeros", tm, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Timing(); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("Timing after Close: %v, want ErrClosed", err)
	}
}
