package background

// #include "shim.h"
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
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
// The slot's state word is its generation and a live bit. newHandle takes a
// free slot, stores the job and then the state (live); takeHandle moves the
// state from exactly that generation, live, to the next generation, free,
// with one compare-and-swap, and only the winner reads the job. So each
// handle is taken at most once: a second take of it, or a take of a stale
// handle whose slot was reused since, finds another state and panics (the
// trampolines recover and log it; nothing reaches C), as cgo.Handle.Value
// panics on a deleted handle. Generations wrap (after 2^31 reuses of one
// slot on 64-bit, 2^10 on 32-bit), so a very old stale handle may go
// unnoticed; it was a bug in this package either way.
//
// The atomics on the state word and on the free list are what orders the
// job's store before its load, for the race detector too (a handle travels
// through C, which the detector does not see).
type handle uintptr

const (
	ptrBits = 32 << (^uintptr(0) >> 63)
	idxBits = 22 + 10*(ptrBits/64) // 32 on 64-bit, 22 on 32-bit
	genBits = ptrBits - idxBits - ptrBits/64
	idxMask = 1<<idxBits - 1
	genMask = 1<<genBits - 1 // a state word keeps the generation in 31 bits

	pageSlots = 512
	maxSlots  = idxMask - 1
)

type handleSlot struct {
	state atomic.Uint32 // generation<<1 | live
	next  atomic.Uint32 // on the free list: the next free slot's index plus one, or 0
	// The job, written before state goes live and read after the take's
	// CAS: j, or a spawned closure held by value (sp, when j is nil).
	j  job
	sp spawnJob
}

type handlePage [pageSlots]handleSlot

// handleTable is the slots, in pages that never move or go away (a stale
// handle still names memory), and a lock-free LIFO list of the free ones:
// a Treiber stack whose head carries a counter against ABA.
type handleTable struct {
	pages atomic.Pointer[[]*handlePage] // copied on growth
	free  atomic.Uint64                 // counter<<32 | index of the top free slot plus one (0: empty)
	grow  sync.Mutex
}

var handles handleTable

func (t *handleTable) slot(i uint32) *handleSlot {
	return &(*t.pages.Load())[i/pageSlots][i%pageSlots]
}

// pop takes a free slot, growing the table if none is free.
func (t *handleTable) pop() uint32 {
	for {
		head := t.free.Load()
		top := uint32(head)
		if top == 0 {
			return t.addPage()
		}
		next := t.slot(top - 1).next.Load() // stale if another pop won: the CAS fails
		if t.free.CompareAndSwap(head, (head>>32+1)<<32|uint64(next)) {
			return top - 1
		}
	}
}

// push returns slots first..last, already linked from first to last by next,
// to the free list.
func (t *handleTable) push(first, last uint32) {
	s := t.slot(last)
	for {
		head := t.free.Load()
		s.next.Store(uint32(head))
		if t.free.CompareAndSwap(head, (head>>32+1)<<32|uint64(first+1)) {
			return
		}
	}
}

// addPage adds a page of slots: the first is the caller's, the rest go on
// the free list.
func (t *handleTable) addPage() uint32 {
	t.grow.Lock()
	defer t.grow.Unlock()
	var pages []*handlePage
	if p := t.pages.Load(); p != nil {
		pages = *p
	}
	base := len(pages) * pageSlots
	if base+pageSlots > maxSlots {
		panic(fmt.Sprintf("background: more than %d tasks in flight", base))
	}
	pg := new(handlePage)
	for k := 1; k < pageSlots-1; k++ {
		pg[k].next.Store(uint32(base + k + 2))
	}
	grown := append(pages[:len(pages):len(pages)], pg)
	t.pages.Store(&grown)
	t.push(uint32(base+1), uint32(base+pageSlots-1))
	return uint32(base)
}

// newHandle stores j in a free slot and returns the slot's handle.
func newHandle(j job) handle { return handles.put(j, spawnJob{}) }

// newSpawnHandle is newHandle for a spawned closure, kept in the slot itself.
func newSpawnHandle(j spawnJob) handle { return handles.put(nil, j) }

func (t *handleTable) put(j job, sp spawnJob) handle {
	i := t.pop()
	s := t.slot(i)
	gen := s.state.Load() >> 1 // free: ours alone until it is live
	s.j, s.sp = j, sp
	s.state.Store(gen<<1 | 1)
	return handle(uintptr(gen)<<idxBits | uintptr(i+1))
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
	if !s.state.CompareAndSwap(gen<<1|1, ((gen+1)&genMask)<<1) {
		panic(fmt.Sprintf("background: handle %#x taken twice, or stale", uintptr(h)))
	}
	j := taken{s.j, s.sp}
	s.j, s.sp = nil, spawnJob{}
	handles.push(i, i)
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
			n += int64(pg[k].state.Load() & 1)
		}
	}
	return n
}
