// SPDX-License-Identifier: MIT

package agent

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// checkCapture says what is wrong with a capture request, as docs/protocol.md
// ("Captures") defines it, or "" when nothing is.
func checkCapture(kind, path string) string {
	switch {
	case kind == "":
		return "capture kind missing"
	case kind != "heap":
		return fmt.Sprintf("unknown capture kind %q (only heap is known)", kind)
	case path == "":
		return "capture path missing"
	case !strings.HasPrefix(path, "/"):
		return fmt.Sprintf("capture path %q not absolute", path)
	case len(path) > 1024:
		return "capture path longer than 1024 bytes"
	case strings.HasSuffix(path, "/"):
		return fmt.Sprintf("capture path %q names a directory", path)
	}
	for _, c := range strings.Split(path, "/") {
		if c == "." || c == ".." {
			return fmt.Sprintf("capture path %q with a . or .. component", path)
		}
	}
	return ""
}

// writeHeapProfile writes a pprof heap profile to path, which must not exist
// yet: memgov names a new file for each capture, and an existing one is
// somebody else's. With gc, a GC first, so the profile shows the heap as it
// is now, not as of the last cycle.
func writeHeapProfile(path string, gc bool) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	if gc {
		runtime.GC()
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		os.Remove(path)
		return 0, err
	}
	st, err := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// GCCycle is one sample of the runtime's GC counters, taken at a stats
// report in which the cycle count had moved, at most one a second.
type GCCycle struct {
	Time          time.Time
	Count         uint64  // GC cycles since start
	HeapGoal      uint64  // bytes
	HeapLive      uint64  // bytes, after the last GC
	GCCPUFraction float64 // share of CPU spent in GC since the previous sample
}

func (c GCCycle) line() string {
	return fmt.Sprintf("gc-cycle count=%d heap_goal_bytes=%d heap_live_bytes=%d gc_cpu_fraction=%s\n",
		c.Count, c.HeapGoal, c.HeapLive, formatFraction(c.GCCPUFraction))
}

// gcRingSize bounds the trace: at most one sample a second (gcSampleEvery), over four minutes.
const gcRingSize = 256

type gcRing struct {
	mu   sync.Mutex
	buf  [gcRingSize]GCCycle
	n    int
	next int
}

var trace gcRing

func (r *gcRing) push(c GCCycle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = c
	r.next = (r.next + 1) % gcRingSize
	if r.n < gcRingSize {
		r.n++
	}
}

func (r *gcRing) snapshot() []GCCycle {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GCCycle, 0, r.n)
	for i := 0; i < r.n; i++ {
		out = append(out, r.buf[(r.next+gcRingSize-r.n+i)%gcRingSize])
	}
	return out
}

// GCTrace returns the GC samples the agent recorded while connected, oldest
// first (at most 256). memgov gets each as it is taken and keeps its own copy
// for the post-mortem.
func GCTrace() []GCCycle {
	return trace.snapshot()
}
