// SPDX-License-Identifier: MIT

package agent

import (
	"fmt"
	"os"
	"runtime/metrics"
	"sync/atomic"
)

// An armed capture (docs/protocol.md, "Armed captures"): memgov says in
// advance at which live heap it would give up on the program, and the agent
// writes the heap profile itself at the end of the first GC cycle past that
// line. A leak of 100 MiB/s crosses the room between that line and the
// cgroup's limit in a fraction of a second, sooner than a stats report, a
// decision and a capture request can cross the socket.
type armSpec struct {
	seq       uint64
	liveAbove uint64 // bytes: fire when the live heap after a GC is above this
	path      string
}

// armWatch holds the one arm of a connection. The GC notifier checks it on
// each cycle: an atomic load when nothing is armed, one runtime/metrics read
// into a preallocated sample when something is, no allocation either way.
type armWatch struct {
	spec atomic.Pointer[armSpec]
	live []metrics.Sample // read on the finalizer goroutine only
}

func newArmWatch() *armWatch {
	w := &armWatch{}
	for _, name := range []string{mLive, mHeapObjs} { // /gc/heap/live is Go 1.21+
		for _, d := range metrics.All() {
			if d.Name == name && w.live == nil {
				w.live = []metrics.Sample{{Name: name}}
			}
		}
	}
	return w
}

func (w *armWatch) set(s *armSpec) { w.spec.Store(s) }
func (w *armWatch) clear()         { w.spec.Store(nil) }

// due returns the armed spec, and disarms it, when live is above its line;
// nil otherwise. At most one caller gets a given spec: an arm fires once.
func (w *armWatch) due(live uint64) *armSpec {
	s := w.spec.Load()
	if s == nil || live <= s.liveAbove {
		return nil
	}
	if !w.spec.CompareAndSwap(s, nil) {
		return nil
	}
	return s
}

// liveHeap is the live heap after the last GC, as runtime/metrics has it.
func (w *armWatch) liveHeap() uint64 {
	if w.live == nil {
		return 0
	}
	metrics.Read(w.live)
	if w.live[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return w.live[0].Value.Uint64()
}

// onCycle runs on the finalizer goroutine after a GC cycle. The profile is
// written on a goroutine of its own, so that other finalizers do not wait
// for the file.
func (w *armWatch) onCycle(a *agent) {
	if w.spec.Load() == nil {
		return
	}
	if s := w.due(w.liveHeap()); s != nil {
		go a.fire(s)
	}
}

// fire writes the armed profile, at once and without the GC a requested
// capture runs first: the cycle that crossed the line has just ended, and
// at the pace that crossed it a forced GC is time the program does not have.
func (a *agent) fire(s *armSpec) {
	n, err := writeHeapProfile(s.path, false)
	if err != nil {
		_ = a.send(fmt.Sprintf("captured seq=%d error=%s\n", s.seq, encodeValue(err.Error())))
		return
	}
	_ = a.send(fmt.Sprintf("captured seq=%d path=%s bytes=%d\n", s.seq, encodeValue(s.path), n))
}

// checkArm says what is wrong with an arm message, or "" when nothing is.
func checkArm(m *message) (*armSpec, string) {
	kind, _ := m.get("kind")
	path, _ := m.get("path")
	if why := checkCapture(kind, path); why != "" {
		return nil, why
	}
	raw, ok := m.get("heap_live_above_bytes")
	if !ok {
		return nil, "heap_live_above_bytes missing"
	}
	live, err := parseU64(raw)
	if err != nil {
		return nil, fmt.Sprintf("heap_live_above_bytes %q is not a byte count", raw)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Sprintf("capture path %q exists", path)
	}
	return &armSpec{liveAbove: live, path: path}, ""
}

// arm answers an arm message: a new arm replaces the one before, a refused
// one leaves none, and a refusal is answered with error= at once; the
// connection stays.
func (a *agent) arm(w *armWatch, m *message) error {
	seq, err := m.u64("seq")
	if err != nil {
		return err
	}
	s, why := checkArm(m)
	if why != "" {
		w.clear()
		return a.send(fmt.Sprintf("captured seq=%d error=%s\n", seq, encodeValue(why)))
	}
	s.seq = seq
	w.set(s)
	return nil
}

func (a *agent) disarm(w *armWatch, m *message) error {
	if _, err := m.u64("seq"); err != nil {
		return err
	}
	w.clear()
	return nil
}
