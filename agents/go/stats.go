// SPDX-License-Identifier: MIT

package agent

import (
	"fmt"
	"runtime/metrics"
	"strings"
	"sync"
	"time"
)

// statsReader reads runtime/metrics and formats a stats line. Metrics a
// runtime does not have (older Go) are left out of the line.
type statsReader struct {
	once    sync.Once
	samples []metrics.Sample
	index   map[string]int

	lastGC, lastTotal float64 // CPU seconds at the previous report
	lastCycles        uint64  // the GC count at the last gc-cycle sample
	cycleAt           time.Time
	cycleGC           float64 // CPU seconds at the last gc-cycle sample
	cycleTotal        float64
}

// gcSampleEvery spaces the gc-cycle samples. Reports follow GC cycles, up to
// one per minReportGap; the samples keep the pace of one a second, so the
// ring (and memgov's copy, of the same size) still spans minutes.
const gcSampleEvery = time.Second

const (
	mTotal      = "/memory/classes/total:bytes"
	mReleased   = "/memory/classes/heap/released:bytes"
	mLive       = "/gc/heap/live:bytes"                // Go 1.21+
	mHeapObjs   = "/memory/classes/heap/objects:bytes" // the live-heap fallback before 1.21
	mCycles     = "/gc/cycles/total:gc-cycles"
	mCPUGC      = "/cpu/classes/gc/total:cpu-seconds" // Go 1.20+
	mCPUTotal   = "/cpu/classes/total:cpu-seconds"
	mGoal       = "/gc/heap/goal:bytes"
	mMemLimit   = "/gc/gomemlimit:bytes" // Go 1.21+
	mGoroutines = "/sched/goroutines:goroutines"
)

var extras = []struct{ key, metric string }{
	{"x-go-heap-goal", mGoal},
	{"x-go-gomemlimit", mMemLimit},
	{"x-go-goroutines", mGoroutines},
	{"x-go-heap-objects", mHeapObjs},
}

func (s *statsReader) init() {
	want := map[string]bool{mTotal: true, mReleased: true, mLive: true, mHeapObjs: true, mCycles: true, mCPUGC: true,
		mCPUTotal: true, mGoal: true, mMemLimit: true, mGoroutines: true}
	s.index = map[string]int{}
	for _, d := range metrics.All() {
		if want[d.Name] {
			s.index[d.Name] = len(s.samples)
			s.samples = append(s.samples, metrics.Sample{Name: d.Name})
		}
	}
}

// read takes the metrics now. The first read is the costly one (the runtime
// builds its table of metrics: 40-70 ms in the test VM); the agent takes it
// before hello and keeps nothing of it.
func (s *statsReader) read() {
	s.once.Do(s.init)
	metrics.Read(s.samples)
}

func (s *statsReader) value(name string) (float64, bool) {
	i, ok := s.index[name]
	if !ok {
		return 0, false
	}
	v := s.samples[i].Value
	switch v.Kind() {
	case metrics.KindUint64:
		return float64(v.Uint64()), true
	case metrics.KindFloat64:
		return v.Float64(), true
	}
	return 0, false
}

func (s *statsReader) u64(name string) (uint64, bool) {
	i, ok := s.index[name]
	if !ok || s.samples[i].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s.samples[i].Value.Uint64(), true
}

// line reads the metrics now. The GC CPU fraction is over the time since the
// previous call (the runtime updates these counters at each GC).
func (s *statsReader) line() string {
	l, _ := s.sample()
	return l
}

// sampleHook, set by tests only, runs as each sample begins.
var sampleHook func()

// sample reads the metrics now: the stats line, and a GC sample when the
// cycle count moved since the last one and that one is gcSampleEvery old
// (nil otherwise).
func (s *statsReader) sample() (string, *GCCycle) {
	if sampleHook != nil {
		sampleHook()
	}
	s.read()
	var cyc *GCCycle
	now := time.Now()
	if n, ok := s.u64(mCycles); ok && n != s.lastCycles && (s.cycleAt.IsZero() || now.Sub(s.cycleAt) >= gcSampleEvery) {
		s.lastCycles, s.cycleAt = n, now
		cyc = &GCCycle{Time: now, Count: n}
		cyc.HeapGoal, _ = s.u64(mGoal)
		if v, ok := s.u64(mLive); ok {
			cyc.HeapLive = v
		} else {
			cyc.HeapLive, _ = s.u64(mHeapObjs)
		}
	}

	var b strings.Builder
	b.WriteString("stats")
	if v, ok := s.u64(mTotal); ok {
		// What the OS charges: heap pages the scavenger already returned are mapped but not resident,
		// and memgov compares this with the cgroup's memory.current.
		if r, ok := s.u64(mReleased); ok && r <= v {
			v -= r
		}
		fmt.Fprintf(&b, " total_bytes=%d", v)
	}
	if v, ok := s.u64(mLive); ok {
		fmt.Fprintf(&b, " heap_live_bytes=%d", v)
	} else if v, ok := s.u64(mHeapObjs); ok {
		fmt.Fprintf(&b, " heap_live_bytes=%d", v)
	}
	if v, ok := s.u64(mCycles); ok {
		fmt.Fprintf(&b, " gc_count=%d", v)
	}
	gc, ok1 := s.value(mCPUGC)
	total, ok2 := s.value(mCPUTotal)
	if ok1 && ok2 {
		f := 0.0
		if dt := total - s.lastTotal; dt > 0 {
			f = (gc - s.lastGC) / dt
		}
		s.lastGC, s.lastTotal = gc, total
		b.WriteString(" gc_cpu_fraction=" + formatFraction(f))
		if cyc != nil {
			if dt := total - s.cycleTotal; dt > 0 {
				cyc.GCCPUFraction = (gc - s.cycleGC) / dt
			}
			s.cycleGC, s.cycleTotal = gc, total
		}
	}
	for _, x := range extras {
		if v, ok := s.u64(x.metric); ok {
			fmt.Fprintf(&b, " %s=%d", x.key, v)
		}
	}
	b.WriteByte('\n')
	return b.String(), cyc
}
