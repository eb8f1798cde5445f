// SPDX-License-Identifier: MIT

package agent

import (
	"runtime"
	"sync/atomic"
)

// gcNotifier signals done after GC cycles. The runtime has no callback for
// the end of a cycle; a finalizer is the cheap stand-in: it runs after the
// cycle that found its object unreachable, and re-arms itself on a fresh
// object, so it costs one small allocation per cycle and no polling. A
// sentinel allocated while a cycle marks survives that cycle, so at most
// every other cycle may go unsignalled; the reports only need to follow GC
// closely, not count cycles.
type gcNotifier struct {
	done    chan struct{} // buffered: signals coalesce while the reader is busy
	stopped atomic.Bool
	cycle   func() // runs on the finalizer goroutine after each signalled cycle; nil: none
}

// gcSentinel holds a pointer so that it is never a tiny allocation: objects
// the tiny allocator packs together are freed together, and a finalizer on
// one of them may never run.
type gcSentinel struct{ n *gcNotifier }

func startGCNotifier(cycle func()) *gcNotifier {
	n := &gcNotifier{done: make(chan struct{}, 1), cycle: cycle}
	n.arm()
	return n
}

func (n *gcNotifier) arm() {
	runtime.SetFinalizer(&gcSentinel{n: n}, gcSentinelFired)
}

func gcSentinelFired(s *gcSentinel) {
	n := s.n
	if n.stopped.Load() {
		return
	}
	if n.cycle != nil {
		n.cycle()
	}
	select {
	case n.done <- struct{}{}:
	default:
	}
	n.arm()
}

// stop ends the chain at the next cycle; a stopped notifier holds nothing.
func (n *gcNotifier) stop() {
	n.stopped.Store(true)
}
