package background

// #include "shim.h"
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A job is what one handle carries to the C side: a Go closure (or the
// notice that a C function finished) and where its outcome goes. The C
// library calls exactly one of run and drop, exactly once.
type job interface {
	// run executes the job on a worker thread; the result is the task's code
	// (0 = success, failedCode = an error or a panic), which the library
	// counts and groups, batches and continuations act on.
	run() int
	// drop is called instead of run when the job will never run.
	drop()
}

// failedCode is the result code of a Go task that returned an error or
// panicked, in every construct: BG_RESULT_BINDING_FAILED, the code the C++
// binding gives a call that threw. The library counts it as failed, and a
// C error handler set on the pool hears of it when nobody observed it; its
// default handler leaves the printing to this package.
const failedCode = int(C.BG_RESULT_BINDING_FAILED)

// A handle is the integer a job crosses into C as (the task's `void *arg`),
// in place of a runtime/cgo.Handle, whose sync.Map store, load and delete
// were a fifth of a spawned task's cost. It names a slot of the package's
// handle table: the slot's index plus one (no handle is 0) in the low
// idxBits, and the slot's generation above them.
//
// The slot's state word is its generation and one of free, busy (being
// filled or emptied) and live. put takes a free slot with a compare-and-swap
// to busy, stores the job and then the state live; takeHandle moves the
// state from exactly that generation, live, to busy with one
// compare-and-swap, and only the winner reads and clears the job before it
// stores the next generation, free. So each handle is taken at most once: a
// second take of it, or a take of a stale handle whose slot was reused
// since, finds another state and panics (the trampolines recover and log
// it; nothing reaches C), as cgo.Handle.Value panics on a deleted handle.
// Generations wrap (after 2^30 reuses of one slot on 64-bit, 2^10 on
// 32-bit), so a very old stale handle may go unnoticed; it was a bug in this
// package either way.
//
// The atomics on the state word are what orders the job's store before its
// load, for the race detector too (a handle travels through C, which the
// detector does not see).
type handle uintptr

const (
	ptrBits = 32 << (^uintptr(0) >> 63)
	idxBits = 22 + 10*(ptrBits/64) // 32 on 64-bit, 22 on 32-bit
	genBits = ptrBits - idxBits - 2*(ptrBits/64)
	idxMask = 1<<idxBits - 1
	genMask = 1<<genBits - 1 // a state word keeps the generation in 30 bits

	pageSlots = 512
	maxSlots  = idxMask - 1

	// A slot's state: generation<<2 | one of these.
	slotFree = 0
	slotBusy = 1
	slotLive = 2
	slotMask = 3

	// scanSlots is how many slots in use put passes before it widens the
	// window (see handleTable).
	scanSlots = 64
)

// slotData is what a slot holds.
type slotData struct {
	state atomic.Uint32
	// The job, written before state goes live and read after the take's
	// CAS: j, or a spawned closure held by value (sp, when j is nil).
	j  job
	sp spawnJob
}

// A handleSlot is padded to a cache line: the submitter filling one slot
// and a worker emptying its neighbour do not share a line.
type handleSlot struct {
	slotData
	_ [(64 - unsafe.Sizeof(slotData{})%64) % 64]byte
}

type handlePage [pageSlots]handleSlot

// handleTable is the slots, in pages that never move or go away (a stale
// handle still names memory). There is no free list: put walks the slots
// with a cursor, round a window of the first slots, and takes the first
// free one it meets; a take frees its slot where it is. So a worker that
// takes a handle touches only that slot, never a line the submitters also
// write (a free list's head moved between the two CPUs twice per spawned
// task, a third of a spawn's cost), and tasks taken in about the order they
// were made leave the cursor a free slot at once.
//
// The window, a power of two of slots (a mask, not a division, finds the
// cursor's slot), doubles when put has met scanSlots slots in use in a row
// (the table grows when the window is all of it), and halves when a whole
// pass of the cursor met fewer than an eighth of it in use, so that after a
// burst the cursor goes back to cycling over few, cached slots.
type handleTable struct {
	pages atomic.Pointer[[]*handlePage] // copied on growth; read by every take
	grow  sync.Mutex
	_     [64]byte
	// The submitters' side: the cursor, the window it cycles over, and the
	// slots in use it met in this pass.
	cursor  atomic.Uint64
	window  atomic.Uint32
	inUse   atomic.Uint32
	widened atomic.Bool // since the last pass began: that pass saw part of the window
	_       [64]byte
}

var handles handleTable

func (t *handleTable) slot(i uint32) *handleSlot {
	return &(*t.pages.Load())[i/pageSlots][i%pageSlots]
}

// widen doubles the window w (from none to one page), adding pages if the
// table has fewer slots.
func (t *handleTable) widen(w uint32) {
	t.grow.Lock()
	defer t.grow.Unlock()
	if t.window.Load() != w {
		return // another put widened it, or a pass shrank it
	}
	var pages []*handlePage
	if p := t.pages.Load(); p != nil {
		pages = *p
	}
	nw := max(2*uint64(w), pageSlots)
	if nw > uint64(len(pages))*pageSlots {
		if nw > maxSlots {
			panic(fmt.Sprintf("background: more than %d tasks in flight", len(pages)*pageSlots))
		}
		grown := pages[:len(pages):len(pages)]
		for uint64(len(grown))*pageSlots < nw {
			grown = append(grown, new(handlePage))
		}
		t.pages.Store(&grown)
	}
	t.widened.Store(true)
	t.window.Store(uint32(nw))
}

// endPass is called as the cursor starts another pass over a window of w
// slots: a window mostly free halves.
func (t *handleTable) endPass(w uint32) {
	n := t.inUse.Swap(0)
	if t.widened.Swap(false) {
		return // the cursor began this pass in a smaller window
	}
	if w > pageSlots && n < w/8 {
		t.window.CompareAndSwap(w, w/2)
	}
}

// newHandle stores j in a free slot and returns the slot's handle.
func newHandle(j job) handle { return handles.put(j, spawnJob{}) }

// newSpawnHandle is newHandle for a spawned closure, kept in the slot itself.
func newSpawnHandle(j spawnJob) handle { return handles.put(nil, j) }

func (t *handleTable) put(j job, sp spawnJob) handle {
	for {
		w := t.window.Load()
		if w == 0 {
			t.widen(0) // the first page
			continue
		}
		for k := 0; k < scanSlots; k++ {
			i := uint32(t.cursor.Add(1)-1) & (w - 1)
			if i == 0 {
				t.endPass(w)
			}
			s := t.slot(i)
			st := s.state.Load()
			if st&slotMask == slotFree && s.state.CompareAndSwap(st, st|slotBusy) {
				s.j, s.sp = j, sp // ours alone until it is live
				s.state.Store(st | slotLive)
				return handle(uintptr(st>>2)<<idxBits | uintptr(i+1))
			}
			t.inUse.Add(1)
		}
		t.widen(w)
	}
}

// taken is a job taken from its handle.
type taken struct {
	j  job
	sp spawnJob
}

func (t taken) run() int {
	if t.j != nil {
		return t.j.run()
	}
	return t.sp.run()
}

func (t taken) drop() {
	if t.j != nil {
		t.j.drop()
		return
	}
	t.sp.drop()
}

// takeHandle returns the job behind h and frees h: each handle is taken
// exactly once, by the trampoline of whichever of run or drop the library
// calls (or by Cancel, for a claimable task). A handle taken before, or never
// made, panics.
func takeHandle(h handle) taken {
	i := uint32(uintptr(h) & idxMask)
	if p := handles.pages.Load(); i == 0 || p == nil || int(i) > len(*p)*pageSlots {
		panic(fmt.Sprintf("background: invalid handle %#x", uintptr(h)))
	}
	i--
	s := handles.slot(i)
	gen := uint32(uintptr(h)>>idxBits) & genMask
	if !s.state.CompareAndSwap(gen<<2|slotLive, gen<<2|slotBusy) {
		panic(fmt.Sprintf("background: handle %#x taken twice, or stale", uintptr(h)))
	}
	j := taken{s.j, s.sp}
	s.j, s.sp = nil, spawnJob{}
	s.state.Store(((gen + 1) & genMask) << 2) // free
	return j
}

// forgetHandle frees a handle whose job the library refused, so neither
// trampoline will ever see it.
func forgetHandle(h handle) { takeHandle(h) }

// liveHandles counts the handles made and not yet taken; the tests read it
// to prove that every path frees its handle exactly once.
func liveHandles() int64 {
	p := handles.pages.Load()
	if p == nil {
		return 0
	}
	var n int64
	for _, pg := range *p {
		for k := range pg {
			if pg[k].state.Load()&slotMask != slotFree {
				n++
			}
		}
	}
	return n
}
