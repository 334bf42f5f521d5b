package background

import (
	"sync"
	"testing"
)

type countJob struct{ id int }

func (countJob) run() int { return 0 }
func (countJob) drop()    {}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

// A handle is taken once: a second take, a stale handle whose slot was
// reused, and a handle never made are refused with a panic (which the
// trampolines recover), never a wrong job or a crash.
func TestHandleTakenOnce(t *testing.T) {
	h := newHandle(countJob{1})
	if got := takeHandle(h).j.(countJob).id; got != 1 {
		t.Fatalf("took job %d, want 1", got)
	}
	mustPanic(t, "second take", func() { takeHandle(h) })
	// The cursor comes back to h's slot within a pass over the window.
	var h2 handle
	for k := 0; ; k++ {
		h2 = newHandle(countJob{2})
		if h2&idxMask == h&idxMask {
			break
		}
		takeHandle(h2)
		if k > maxSlots {
			t.Fatal("h's slot was never reused")
		}
	}
	mustPanic(t, "stale take", func() { takeHandle(h) })
	if got := takeHandle(h2).j.(countJob).id; got != 2 {
		t.Fatalf("took job %d, want 2", got)
	}
	mustPanic(t, "handle 0", func() { takeHandle(0) })
	mustPanic(t, "handle beyond the table", func() { takeHandle(handle(idxMask)) })
}

// Handles made and taken from many goroutines at once each give back their
// own job (run with -race: the table's atomics order each job's store
// before its load).
func TestHandleConcurrent(t *testing.T) {
	const workers, each = 8, 2000
	before := liveHandles()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var hs []handle
			for i := 0; i < each; i++ {
				hs = append(hs, newHandle(countJob{w*each + i}))
				if i%3 == 2 { // take some early, out of order
					h := hs[len(hs)-2]
					hs = append(hs[:len(hs)-2], hs[len(hs)-1])
					_ = takeHandle(h)
				}
			}
			for _, h := range hs {
				j := takeHandle(h).j.(countJob)
				if j.id/each != w {
					t.Errorf("goroutine %d took job %d", w, j.id)
				}
			}
		}(w)
	}
	wg.Wait()
	if n := liveHandles(); n != before {
		t.Fatalf("%d live handles, want %d", n, before)
	}
}

// The cursor's window grows with the handles in flight and shrinks back
// once they are taken, so that put cycles over few slots again; a handle
// left live beyond the window is still taken by its own slot.
func TestHandleWindow(t *testing.T) {
	shrink := func() {
		t.Helper()
		// Halving passes: fewer than twice the window's puts in all.
		for k, n := 0, 4*int(handles.window.Load())+4*pageSlots; k < n && handles.window.Load() > pageSlots; k++ {
			takeHandle(newHandle(countJob{-1}))
		}
		if w := handles.window.Load(); w != pageSlots {
			t.Fatalf("window %d once no handle is live, want %d", w, pageSlots)
		}
	}
	shrink() // earlier tests may have widened it
	const burst = 5 * pageSlots
	hs := make([]handle, 0, burst)
	for i := 0; i < burst; i++ {
		hs = append(hs, newHandle(countJob{i}))
	}
	if w := handles.window.Load(); w < burst {
		t.Fatalf("window %d with %d handles live", w, burst)
	}
	last := hs[burst-1]
	for i, h := range hs[:burst-1] {
		if got := takeHandle(h).j.(countJob).id; got != i {
			t.Fatalf("took job %d, want %d", got, i)
		}
	}
	shrink()
	if got := takeHandle(last).j.(countJob).id; got != burst-1 {
		t.Fatalf("took job %d, want %d", got, burst-1)
	}
}
