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
)

func TestArmWatchFiresOnceAbove(t *testing.T) {
	w := newArmWatch()
	if s := w.due(1 << 40); s != nil {
		t.Fatalf("nothing armed, yet due: %+v", s)
	}
	w.set(&armSpec{seq: 7, liveAbove: 100, path: "/x"})
	for _, live := range []uint64{0, 99, 100} {
		if s := w.due(live); s != nil {
			t.Fatalf("live %d is not above 100, yet due", live)
		}
	}
	if s := w.due(101); s == nil || s.seq != 7 {
		t.Fatalf("live 101 above 100: got %+v, want seq 7", s)
	}
	if s := w.due(1 << 40); s != nil {
		t.Fatalf("fired twice: %+v", s)
	}
}

func TestArmReplacedAndDisarmed(t *testing.T) {
	a := &agent{}
	w := newArmWatch()
	msg := func(line string) *message {
		m, err := parseLine([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	dir := t.TempDir()
	if err := a.arm(w, msg("arm seq=3 kind=heap heap_live_above_bytes=1000 path="+encodeValue(dir+"/a.pprof"))); err != nil {
		t.Fatal(err)
	}
	if err := a.arm(w, msg("arm seq=4 kind=heap heap_live_above_bytes=2000 path="+encodeValue(dir+"/b.pprof"))); err != nil {
		t.Fatal(err)
	}
	if s := w.due(1500); s != nil {
		t.Fatalf("the replaced arm (1000) fired: %+v", s)
	}
	if s := w.due(2001); s == nil || s.seq != 4 || s.path != dir+"/b.pprof" {
		t.Fatalf("the new arm: %+v", s)
	}
	if err := a.arm(w, msg("arm seq=5 kind=heap heap_live_above_bytes=0 path="+encodeValue(dir+"/c.pprof"))); err != nil {
		t.Fatal(err)
	}
	if err := a.disarm(w, msg("disarm seq=6")); err != nil {
		t.Fatal(err)
	}
	if s := w.due(1 << 40); s != nil {
		t.Fatalf("disarmed, yet due: %+v", s)
	}
	if err := a.disarm(w, msg("disarm")); err == nil {
		t.Error("disarm without seq= accepted")
	}
}

func TestCheckArm(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "there.pprof")
	if err := os.WriteFile(exists, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ line, want string }{
		{"arm seq=1 kind=heap heap_live_above_bytes=5 path=" + encodeValue(dir+"/new.pprof"), ""},
		{"arm seq=1 kind=heap path=/tmp/x", "heap_live_above_bytes missing"},
		{"arm seq=1 kind=heap heap_live_above_bytes=5M path=/tmp/x", `heap_live_above_bytes "5M" is not a byte count`},
		{"arm seq=1 kind=heap heap_live_above_bytes=99999999999999999999 path=/tmp/x", "is not a byte count"},
		{"arm seq=1 kind=threads heap_live_above_bytes=5 path=/tmp/x", `unknown capture kind "threads"`},
		{"arm seq=1 kind=heap heap_live_above_bytes=5 path=rel.pprof", "not absolute"},
		{"arm seq=1 kind=heap heap_live_above_bytes=5", "capture path missing"},
		{"arm seq=1 kind=heap heap_live_above_bytes=5 path=" + encodeValue(exists), "exists"},
	} {
		m, err := parseLine([]byte(c.line))
		if err != nil {
			t.Fatal(err)
		}
		_, why := checkArm(m)
		if (c.want == "") != (why == "") || !strings.Contains(why, c.want) {
			t.Errorf("%s: %q, want %q", c.line, why, c.want)
		}
	}
}

// Over the socket: an arm whose line the live heap is already above fires at
// the next GC, with the profile at the path and the captured answer; a bad
// arm is answered with the reason and the connection goes on.
func TestArmedCaptureOverTheSocket(t *testing.T) {
	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()
	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: -1}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	hello := g.expect("hello")
	if caps := hello.values["caps"]; !strings.Contains(caps, "capture") || !strings.Contains(caps, ",arm") {
		t.Errorf("caps=%q", caps)
	}
	g.send("welcome v=1 id=1")

	dir := t.TempDir()
	g.send("arm seq=3 kind=heap heap_live_above_bytes=5 path=rel.pprof")
	if m := g.expect("captured"); u64(t, m, "seq") != 3 || !strings.Contains(m.values["error"], "not absolute") {
		t.Fatalf("bad path: %v", m.values)
	}
	g.send("arm seq=4 kind=heap heap_live_above_bytes=x path=/tmp/x")
	if m := g.expect("captured"); u64(t, m, "seq") != 4 || m.values["error"] != `heap_live_above_bytes "x" is not a byte count` {
		t.Fatalf("bad line: %v", m.values)
	}

	// A write that fails when the arm fires is answered with the reason too.
	g.send("arm seq=5 kind=heap heap_live_above_bytes=0 path=%s", encodeValue(filepath.Join(dir, "no/such/dir.pprof")))
	g.send("stats? seq=6") // answered after the arm is in place: the reader goes in order
	g.expect("stats")
	keep = append(keep, make([]byte, 1<<20))
	runtime.GC() // twice: a sentinel allocated while a cycle ran outlives that cycle (gcnotify.go)
	runtime.GC()
	if m := g.expect("captured"); u64(t, m, "seq") != 5 || !strings.Contains(m.values["error"], "no such file") {
		t.Fatalf("failed write: %v", m.values)
	}

	path := filepath.Join(dir, "memgov-armed 1.pprof")
	g.send("arm seq=7 kind=heap heap_live_above_bytes=0 path=%s", encodeValue(path))
	g.send("stats? seq=8")
	g.expect("stats")
	runtime.GC()
	runtime.GC()
	m := g.expect("captured")
	if got, _ := m.get("path"); got != path || u64(t, m, "seq") != 7 {
		t.Fatalf("captured: %v", m.values)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int(u64(t, m, "bytes")) != len(data) || !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Errorf("%d bytes, header % x", len(data), data[:2])
	}

	// Fired once: more cycles, and the next message is the answer to a probe, not a second capture.
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	g.send("stats? seq=9")
	g.expect("stats")
}
