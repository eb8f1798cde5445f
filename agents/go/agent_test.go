// SPDX-License-Identifier: MIT

// The fake governor speaks over socketpairs and Unix sockets.

//go:build unix

package agent

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeGovernor plays memgov on one end of a socketpair.
type fakeGovernor struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	seq  int
}

func socketpair(t *testing.T) (int, int) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

func fdConn(t *testing.T, fd int) net.Conn {
	f := os.NewFile(uintptr(fd), "test")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newFakeGovernor(t *testing.T, conn net.Conn) *fakeGovernor {
	return &fakeGovernor{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (g *fakeGovernor) send(format string, args ...interface{}) {
	g.t.Helper()
	if _, err := fmt.Fprintf(g.conn, format+"\n", args...); err != nil {
		g.t.Fatalf("send: %v", err)
	}
}

// expect returns the next message of type typ, skipping periodic stats unless asked for.
func (g *fakeGovernor) expect(typ string) *message {
	g.t.Helper()
	_ = g.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		line, err := g.r.ReadString('\n')
		if err != nil {
			g.t.Fatalf("waiting for %s: %v", typ, err)
		}
		m, err := parseLine([]byte(strings.TrimSuffix(line, "\n")))
		if err != nil {
			g.t.Fatalf("agent sent a malformed line %q: %v", line, err)
		}
		if m.typ == typ {
			return m
		}
		if m.typ != "stats" && m.typ != "gc-cycle" {
			g.t.Fatalf("got %q, want %s", line, typ)
		}
	}
}

func (g *fakeGovernor) expectEOF() {
	g.t.Helper()
	_ = g.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		line, err := g.r.ReadString('\n')
		if err != nil {
			return
		}
		if !strings.HasPrefix(line, "stats ") && !strings.HasPrefix(line, "gc-cycle ") && !strings.HasPrefix(line, "bye") {
			g.t.Fatalf("got %q, want the end", line)
		}
	}
}

func u64(t *testing.T, m *message, key string) uint64 {
	t.Helper()
	v, err := m.u64(key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

func TestAgentOverSocketpair(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)

	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()

	var mu sync.Mutex
	var sheds []Level
	var targets []uint64
	OnShed(func(l Level) { mu.Lock(); sheds = append(sheds, l); mu.Unlock() })
	OnTarget(func(v uint64, l Level) { mu.Lock(); targets = append(targets, v); mu.Unlock() })

	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if err := Start(&Options{Conn: p1}); err != ErrRunning {
		t.Errorf("second Start: %v", err)
	}

	hello := g.expect("hello")
	if u64(t, hello, "v") != 1 || u64(t, hello, "pid") != uint64(os.Getpid()) {
		t.Errorf("hello: %v", hello.values)
	}
	if rt, _ := hello.get("runtime"); rt != "go" {
		t.Errorf("runtime=%q", rt)
	}
	if !strings.Contains(hello.values["caps"], "limit") {
		t.Errorf("caps=%q", hello.values["caps"])
	}
	g.send("welcome v=1 id=1")

	// Periodic stats arrive on their own.
	st := g.expect("stats")
	if u64(t, st, "total_bytes") == 0 {
		t.Errorf("total_bytes=0")
	}
	u64(t, st, "heap_live_bytes")
	gc0 := u64(t, st, "gc_count")
	if _, ok := st.get("gc_cpu_fraction"); !ok {
		t.Errorf("no gc_cpu_fraction: %v", st.values)
	}

	before := clockForTest(t)
	g.send("target seq=7 bytes=123456789 level=elevated")
	ack := g.expect("applied")
	if u64(t, ack, "seq") != 7 || u64(t, ack, "limit_bytes") != 123456789 {
		t.Errorf("applied: %v", ack.values)
	}
	checkAppliedAt(t, ack, before, clockForTest(t))
	if got := debug.SetMemoryLimit(-1); got != 123456789 {
		t.Errorf("SetMemoryLimit: %d", got)
	}

	g.send("target seq=8 bytes=max level=ok")
	ack = g.expect("applied")
	if v, _ := ack.get("limit_bytes"); v != "max" || u64(t, ack, "seq") != 8 {
		t.Errorf("applied max: %v", ack.values)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("SetMemoryLimit after max: %d", got)
	}

	g.send("gc seq=9")
	g.send("release seq=10")
	g.send("shed seq=11 level=critical")
	// Unknown types and keys are ignored; the agent stays.
	g.send("frobnicate seq=12 x=1")
	g.send("stats? seq=13 future=yes")
	// Periodic stats interleave with the reply to stats?, so use an
	// acknowledged message as the barrier: the agent handles messages in
	// order, so once seq=14 is applied, shed has run.
	g.send("target seq=14 bytes=max level=ok")
	if ack = g.expect("applied"); u64(t, ack, "seq") != 14 {
		t.Errorf("applied: %v", ack.values)
	}
	// Hooks run after applied is sent, and reports come from another
	// goroutine (after each GC): one more acknowledged target is the
	// barrier for the hooks of seq=14. gc and release run in order with
	// captures, off the reader: a capture's answer is their barrier, and a
	// stats line after it was sampled after gc, release and the capture's GC.
	g.send("target seq=15 bytes=max level=ok")
	if ack = g.expect("applied"); u64(t, ack, "seq") != 15 {
		t.Errorf("applied: %v", ack.values)
	}
	g.send("capture seq=16 kind=heap path=%s", encodeValue(filepath.Join(t.TempDir(), "barrier.pprof")))
	if m := g.expect("captured"); u64(t, m, "seq") != 16 {
		t.Errorf("captured: %v", m.values)
	}
	g.send("stats? seq=17")
	st = g.expect("stats")
	if gc1 := u64(t, st, "gc_count"); gc1 < gc0+3 {
		t.Errorf("gc_count %d -> %d after gc, release and a capture", gc0, gc1)
	}
	mu.Lock()
	if len(sheds) != 1 || sheds[0] != LevelCritical {
		t.Errorf("shed hooks: %v", sheds)
	}
	if len(targets) != 4 || targets[0] != 123456789 || targets[1] != math.MaxUint64 {
		t.Errorf("target hooks: %v", targets)
	}
	mu.Unlock()

	g.send("bye seq=17")
	g.expectEOF()
}

// startQuiet starts the agent without interval reports on one end of a
// socketpair and plays memgov on the other; Stop and the close come at cleanup.
func startQuiet(t *testing.T) *fakeGovernor {
	t.Helper()
	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	t.Cleanup(func() { g.conn.Close() })
	if err := Start(&Options{Conn: fdConn(t, b), StatsInterval: -1, Logf: t.Logf}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(Stop)
	return g
}

func TestAgentClosesOnMalformed(t *testing.T) {
	g := startQuiet(t)
	g.expect("hello")
	g.send("target seq=1 bytes=12abc level=ok")
	g.expectEOF()
}

func TestFromEnvironment(t *testing.T) {
	t.Setenv("MEMGOV_FD", "")
	t.Setenv("MEMGOV_SOCKET", "")
	if err := Start(nil); err != ErrNotConfigured {
		t.Fatalf("Start without environment: %v", err)
	}

	a, b := socketpair(t)
	g := newFakeGovernor(t, fdConn(t, a))
	defer g.conn.Close()
	t.Setenv("MEMGOV_FD", strconv.Itoa(b))
	if err := Start(&Options{StatsInterval: -1}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	if v, ok := os.LookupEnv("MEMGOV_FD"); ok && v != "" {
		t.Errorf("MEMGOV_FD still set: %q", v)
	}
	g.expect("hello")
}

func TestNotASocket(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("MEMGOV_FD", strconv.Itoa(int(f.Fd())))
	if err := Start(nil); err == nil {
		Stop()
		t.Fatal("a descriptor that is not a socket was taken")
	}
}

// With MEMGOV_SOCKET, a lost connection is retried, and memgov re-syncs it.
func TestReconnect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "memgov.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("MEMGOV_FD", "")
	t.Setenv("MEMGOV_SOCKET", path)
	if err := Start(&Options{StatsInterval: -1}); err != nil {
		t.Fatal(err)
	}
	defer Stop()
	if os.Getenv("MEMGOV_SOCKET") != path {
		t.Errorf("MEMGOV_SOCKET must stay for workers")
	}

	c1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	g1 := newFakeGovernor(t, c1)
	g1.expect("hello")
	c1.Close()

	c2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	g2 := newFakeGovernor(t, c2)
	g2.expect("hello")
	g2.send("welcome v=1 id=2")
	g2.send("target seq=3 bytes=987654321 level=ok")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	if ack := g2.expect("applied"); u64(t, ack, "limit_bytes") != 987654321 {
		t.Errorf("applied after reconnect: %v", ack.values)
	}
}

// A target is applied while a stats sample is under way: the reader hands
// stats? on, and the sample holds no lock a reply needs.
func TestTargetNotHeldByStatsSample(t *testing.T) {
	gate := make(chan struct{})
	var release sync.Once
	open := func() { release.Do(func() { close(gate) }) }
	sampling := make(chan struct{}, 1)
	sampleHook = func() {
		select {
		case sampling <- struct{}{}:
		default:
		}
		<-gate
	}
	defer func() { sampleHook = nil }()
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	g := startQuiet(t)
	defer open() // before Stop (at cleanup), which waits for the reader
	g.expect("hello")
	g.send("welcome v=1 id=1")
	g.send("stats? seq=2")
	<-sampling // the sample has begun, and waits for the gate
	g.send("target seq=3 bytes=123456789 level=ok")
	if m := g.expect("applied"); u64(t, m, "seq") != 3 {
		t.Errorf("applied: %v", m.values)
	}
	open()
	g.expect("stats")
}

// A gc runs off the reader: a target sent while it runs is applied at once.
// gc asked again while one waits is the same gc; chores run in order, so the
// capture's answer comes after the collections.
func TestTargetNotHeldByGC(t *testing.T) {
	gate := make(chan struct{})
	var release sync.Once
	open := func() { release.Do(func() { close(gate) }) }
	var chores atomic.Int32
	running := make(chan struct{}, 1)
	hook := func() {
		if chores.Add(1) == 1 {
			running <- struct{}{}
			<-gate
		}
	}
	choreHook.Store(&hook)
	defer choreHook.Store(nil)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	g := startQuiet(t)
	defer open()
	g.expect("hello")
	g.send("welcome v=1 id=1")
	g.send("gc seq=2")
	<-running // the first gc has begun, and waits for the gate
	g.send("gc seq=3")
	g.send("gc seq=4") // the same as seq=3, which has not begun
	g.send("target seq=5 bytes=123456789 level=ok")
	if m := g.expect("applied"); u64(t, m, "seq") != 5 {
		t.Errorf("applied: %v", m.values)
	}
	path := filepath.Join(t.TempDir(), "after-gc.pprof")
	g.send("capture seq=6 kind=heap path=%s", encodeValue(path))
	open()
	if m := g.expect("captured"); u64(t, m, "seq") != 6 {
		t.Fatalf("captured: %v", m.values)
	}
	if n := chores.Load(); n != 3 {
		t.Errorf("%d chores ran, want 3 (gc, the two later gcs as one, capture)", n)
	}
}
