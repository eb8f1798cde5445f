// SPDX-License-Identifier: MIT

// Over agent_test.go's socketpairs, so Unix only.

//go:build unix

package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCheckCapture(t *testing.T) {
	for _, c := range []struct{ kind, path, want string }{
		{"heap", "/var/lib/memgov/captures/memgov-a-1.pprof", ""},
		{"heap", "/tmp/..x", ""},
		{"", "/tmp/x", "capture kind missing"},
		{"threads", "/tmp/x", `unknown capture kind "threads" (only heap is known)`},
		{"heap", "", "capture path missing"},
		{"heap", "x.pprof", `capture path "x.pprof" not absolute`},
		{"heap", "/tmp/", `capture path "/tmp/" names a directory`},
		{"heap", "/tmp/../etc/x", `capture path "/tmp/../etc/x" with a . or .. component`},
		{"heap", "/tmp/./x", `capture path "/tmp/./x" with a . or .. component`},
		{"heap", "/" + strings.Repeat("a", 1024), "capture path longer than 1024 bytes"},
	} {
		if got := checkCapture(c.kind, c.path); got != c.want {
			t.Errorf("checkCapture(%q, %q) = %q, want %q", c.kind, c.path, got, c.want)
		}
	}
}

var keep [][]byte

func TestCaptureAndGCTrace(t *testing.T) {
	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()
	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: -1}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	hello := g.expect("hello")
	if !strings.Contains(hello.values["caps"], "capture") {
		t.Errorf("caps=%q", hello.values["caps"])
	}
	g.send("welcome v=1 id=1")

	dir := t.TempDir()
	path := filepath.Join(dir, "memgov-test 1.pprof")
	g.send("capture seq=3 kind=heap path=%s", encodeValue(path))
	m := g.expect("captured")
	if got, _ := m.get("path"); got != path || u64(t, m, "seq") != 3 {
		t.Fatalf("captured: %v", m.values)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A pprof profile is gzipped protobuf.
	if int(u64(t, m, "bytes")) != len(data) || !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Errorf("%d bytes, header % x", len(data), data[:2])
	}

	// What cannot be done is answered with a reason, and the connection stays.
	for _, c := range []struct{ line, want string }{
		{"capture seq=4 kind=heap path=" + encodeValue(path), "file exists"},
		{"capture seq=5 kind=threads path=/tmp/x", `unknown capture kind "threads"`},
		{"capture seq=6 kind=heap path=rel.pprof", "not absolute"},
		{"capture seq=7 kind=heap", "capture path missing"},
		{"capture seq=8 kind=heap path=" + encodeValue(filepath.Join(dir, "no/such/dir.pprof")), "no such file"},
	} {
		g.send("%s", c.line)
		m := g.expect("captured")
		if e, _ := m.get("error"); !strings.Contains(e, c.want) {
			t.Errorf("%s: error=%q, want %q", c.line, e, c.want)
		}
		if _, ok := m.get("path"); ok {
			t.Errorf("%s: a path with an error", c.line)
		}
	}

	// A GC since the last report gives a gc-cycle sample after the stats.
	keep = append(keep, make([]byte, 1<<20))
	runtime.GC()
	g.send("stats? seq=9")
	g.expect("stats")
	c := g.expect("gc-cycle")
	if u64(t, c, "count") == 0 || u64(t, c, "heap_goal_bytes") == 0 || u64(t, c, "heap_live_bytes") == 0 {
		t.Errorf("gc-cycle: %v", c.values)
	}
	if _, err := c.u64("gc_cpu_fraction"); err == nil {
		t.Errorf("gc_cpu_fraction is a fraction, not a count")
	}
	tr := GCTrace()
	if len(tr) == 0 || tr[len(tr)-1].Count != u64(t, c, "count") || time.Since(tr[len(tr)-1].Time) > time.Minute {
		t.Errorf("GCTrace: %v", tr)
	}
}

func TestGCRingBounded(t *testing.T) {
	var r gcRing
	for i := 1; i <= gcRingSize+5; i++ {
		r.push(GCCycle{Count: uint64(i)})
	}
	s := r.snapshot()
	if len(s) != gcRingSize || s[0].Count != 6 || s[len(s)-1].Count != gcRingSize+5 {
		t.Errorf("ring: %d entries, %d..%d", len(s), s[0].Count, s[len(s)-1].Count)
	}
}
