// SPDX-License-Identifier: MIT

package agent

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
)

// choreQueue is how many chores may wait: a gc and a release (each coalesced
// while one waits) and a few captures (memgov spaces those).
const choreQueue = 8

// chores holds what memgov asks for that lasts as long as a collection (gc,
// release, capture): one goroutine per connection runs them in order, off the
// reader, so a target memgov sends after a gc is applied while the collection
// runs, not after it. memgov lowers a target and asks for a gc together, and
// lowers it again while the heap still grows.
type chores struct {
	work    chan chore
	gc      atomic.Bool // a gc waits: another one asked meanwhile is the same
	release atomic.Bool
}

// chore is one piece of work; pending, when set, is its coalescing flag,
// cleared as it begins.
type chore struct {
	pending *atomic.Bool
	do      func()
}

// choreHook, set by tests only, runs as each chore begins (atomic: a test
// sets it while an earlier test's worker may still be reading it).
var choreHook atomic.Pointer[func()]

func newChores() *chores {
	return &chores{work: make(chan chore, choreQueue)}
}

// run carries out the chores until quit or stop closes; what still waits then
// belonged to the connection that ended.
func (c *chores) run(quit, stop <-chan struct{}) {
	for {
		select {
		case <-quit:
			return
		case <-stop:
			return
		case w := <-c.work:
			if w.pending != nil {
				w.pending.Store(false)
			}
			if h := choreHook.Load(); h != nil {
				(*h)()
			}
			w.do()
		}
	}
}

// queue adds w; false when the queue is full.
func (c *chores) queue(w chore) bool {
	select {
	case c.work <- w:
		return true
	default:
		return false
	}
}

// once queues f unless one queued by the same flag has not begun yet.
func (c *chores) once(pending *atomic.Bool, f func()) {
	if !pending.CompareAndSwap(false, true) {
		return
	}
	if !c.queue(chore{pending, f}) {
		pending.Store(false)
	}
}

func (c *chores) gcNow()      { c.once(&c.gc, runtime.GC) }
func (c *chores) releaseNow() { c.once(&c.release, debug.FreeOSMemory) }

// capture answers a capture message: a request the agent cannot carry out
// (bad path, unknown kind, a failed write, too many waiting) is answered with
// error=, never by closing the connection: the program and the channel go on.
// The checks are the reader's; the write, a collection and more, is a chore.
func (a *agent) capture(c *chores, m *message) error {
	seq, err := m.u64("seq")
	if err != nil {
		return err
	}
	kind, _ := m.get("kind")
	path, _ := m.get("path")
	if why := checkCapture(kind, path); why != "" {
		return a.send(fmt.Sprintf("captured seq=%d error=%s\n", seq, encodeValue(why)))
	}
	write := func() {
		n, err := writeHeapProfile(path, true)
		if err != nil {
			_ = a.send(fmt.Sprintf("captured seq=%d error=%s\n", seq, encodeValue(err.Error())))
			return
		}
		_ = a.send(fmt.Sprintf("captured seq=%d path=%s bytes=%d\n", seq, encodeValue(path), n))
	}
	if !c.queue(chore{do: write}) {
		why := fmt.Sprintf("%d requests already wait for the agent", choreQueue)
		return a.send(fmt.Sprintf("captured seq=%d error=%s\n", seq, encodeValue(why)))
	}
	return nil
}
