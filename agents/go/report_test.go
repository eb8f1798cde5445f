// SPDX-License-Identifier: MIT

//go:build unix

package agent

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Reports come at once after hello and after GC cycles, long before the
// periodic one (an hour here) would.
func TestStatsAtHelloAndAfterGC(t *testing.T) {
	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()
	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	g.expect("hello")
	g.send("welcome v=1 id=1")
	gc0 := u64(t, g.expect("stats"), "gc_count")

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for {
		st := g.expect("stats")
		if u64(t, st, "gc_count") > gc0 {
			break
		}
	}
}

// A program collecting as fast as it can gets at most one report per
// minReportGap and one gc-cycle sample per gcSampleEvery. The bounds hold
// on any machine: reports start at least minReportGap apart, and all of
// them were sent between start and the barrier's answer.
func TestReportsRateLimited(t *testing.T) {
	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()
	start := time.Now()
	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	g.expect("hello")
	g.send("welcome v=1 id=1")

	// The collections run while the test reads: a reader that stopped
	// would block the agent's writes and hide what it would have sent. The
	// target after them is the barrier: its answer comes after all reports
	// sent up to then.
	gcs := make(chan int, 1)
	go func() {
		n := 0
		for t0 := time.Now(); time.Since(t0) < 300*time.Millisecond; n++ {
			runtime.GC()
		}
		gcs <- n
		_, _ = fmt.Fprintf(g.conn, "target seq=1 bytes=max level=ok\n")
	}()
	var stats, cycles int
	_ = g.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := g.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		switch {
		case strings.HasPrefix(line, "stats "):
			stats++
			// Every line read so far was sent by now.
			if max := 1 + int(time.Since(start)/minReportGap); stats > max {
				t.Fatalf("%d stats reports after %v, want at most %d", stats, time.Since(start), max)
			}
		case strings.HasPrefix(line, "gc-cycle "):
			cycles++
		case strings.HasPrefix(line, "applied "):
		default:
			t.Fatalf("unexpected %q", line)
		}
		if strings.HasPrefix(line, "applied ") {
			break
		}
	}
	span := time.Since(start)
	t.Logf("%d GC cycles, %d stats, %d gc-cycle in %v", <-gcs, stats, cycles, span)
	if max := 1 + int(span/minReportGap); stats > max {
		t.Errorf("%d stats reports in %v, want at most %d", stats, span, max)
	}
	if max := 1 + int(span/gcSampleEvery); cycles > max {
		t.Errorf("%d gc-cycle samples in %v, want at most %d", cycles, span, max)
	}
	if stats < 1 {
		t.Errorf("no stats report at all")
	}
}

// The notifier signals after a collection, and a stopped one ends its chain.
func TestGCNotifier(t *testing.T) {
	n := startGCNotifier(nil)
	deadline := time.After(5 * time.Second)
	for signalled := false; !signalled; {
		runtime.GC()
		select {
		case <-n.done:
			signalled = true
		case <-deadline:
			t.Fatal("no signal after GC cycles")
		case <-time.After(10 * time.Millisecond):
		}
	}
	n.stop()
	// Signals may be in flight from before stop, none come after the
	// chain's last sentinel fired.
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-n.done:
	default:
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	time.Sleep(50 * time.Millisecond)
	select {
	case <-n.done:
		t.Error("a stopped notifier still signals")
	default:
	}
}
