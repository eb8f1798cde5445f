// SPDX-License-Identifier: MIT

// Package agent lets memgov steer this program's garbage collector.
//
// A blank import is enough:
//
//	import _ "memgov.dev/agent"
//
// When the program runs under memgov (MEMGOV_FD or MEMGOV_SOCKET is set), the
// agent starts in init(): it applies the memory targets memgov sends with
// debug.SetMemoryLimit, runs runtime.GC or debug.FreeOSMemory when asked, and
// reports runtime/metrics statistics. Otherwise it does nothing.
//
// Programs that keep caches of their own can shrink them on memgov's request
// with OnShed (and follow the GC target with OnTarget). The protocol is in
// docs/protocol.md of the memgov repository.
package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Level is memgov's pressure level.
type Level int

const (
	LevelOK       Level = iota // no pressure
	LevelElevated              // near the budget: caches should stop growing
	LevelCritical              // at the limit: drop what can be rebuilt
)

func (l Level) String() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelElevated:
		return "elevated"
	case LevelCritical:
		return "critical"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

func parseLevel(s string) (Level, bool) {
	for _, l := range []Level{LevelOK, LevelElevated, LevelCritical} {
		if s == l.String() {
			return l, true
		}
	}
	return 0, false
}

// Options for Start. The zero value reads everything from the environment.
type Options struct {
	// Conn is an already connected stream to memgov. Nil: MEMGOV_FD, else MEMGOV_SOCKET.
	Conn net.Conn
	// StatsInterval between unrequested stats reports. 0: MEMGOV_STATS_INTERVAL, else 1s.
	// Negative: none (memgov can still ask).
	StatsInterval time.Duration
	// Logf receives the agent's few messages. Nil: standard error.
	Logf func(format string, args ...interface{})
}

var (
	// ErrNotConfigured is returned by Start when neither MEMGOV_FD nor MEMGOV_SOCKET is set.
	ErrNotConfigured = errors.New("memgov agent: neither MEMGOV_FD nor MEMGOV_SOCKET is set")
	// ErrRunning is returned by Start when the agent already runs.
	ErrRunning = errors.New("memgov agent: already running")
)

var (
	hooksMu     sync.Mutex
	shedHooks   []func(Level)
	targetHooks []func(limitBytes uint64, level Level)

	runningMu sync.Mutex
	running   *agent
)

// OnShed registers fn to be called when memgov asks the program to shed
// memory down to level (caches, pools). fn runs on the agent's goroutine:
// return quickly, or hand the work off.
func OnShed(fn func(level Level)) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	shedHooks = append(shedHooks, fn)
}

// OnTarget registers fn to be called after a new memory target was applied
// with debug.SetMemoryLimit. limitBytes is math.MaxUint64 for "no limit".
func OnTarget(fn func(limitBytes uint64, level Level)) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	targetHooks = append(targetHooks, fn)
}

func init() {
	if os.Getenv("MEMGOV_FD") == "" && os.Getenv("MEMGOV_SOCKET") == "" {
		return
	}
	if err := Start(nil); err != nil && !errors.Is(err, ErrNotConfigured) {
		fmt.Fprintf(os.Stderr, "memgov agent: %v\n", err)
	}
}

// Start starts the agent. With nil options, or a nil Conn, it connects as
// the environment says and returns ErrNotConfigured when it says nothing.
func Start(opts *Options) error {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logf == nil {
		o.Logf = func(format string, args ...interface{}) {
			fmt.Fprintf(os.Stderr, "memgov agent: "+format+"\n", args...)
		}
	}
	if o.StatsInterval == 0 {
		o.StatsInterval = statsIntervalFromEnv(o.Logf)
	}

	runningMu.Lock()
	defer runningMu.Unlock()
	if running != nil {
		return ErrRunning
	}
	a := &agent{opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	switch {
	case o.Conn != nil:
		a.first = o.Conn
	default:
		conn, dial, err := connectFromEnv()
		if err != nil {
			return err
		}
		a.first, a.dial = conn, dial
	}
	running = a
	go a.run()
	return nil
}

// Stop says bye to memgov, closes the connection and waits for the agent to end.
// The memory limit last applied stays in force.
func Stop() {
	runningMu.Lock()
	a := running
	running = nil
	runningMu.Unlock()
	if a == nil {
		return
	}
	close(a.stop)
	a.mu.Lock()
	if a.conn != nil {
		a.writeLocked("bye reason=stop\n")
		a.conn.Close()
	}
	a.mu.Unlock()
	<-a.done
}

func statsIntervalFromEnv(logf func(string, ...interface{})) time.Duration {
	s := os.Getenv("MEMGOV_STATS_INTERVAL")
	if s == "" {
		return time.Second
	}
	if s == "0" {
		return -1
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		logf("MEMGOV_STATS_INTERVAL=%q is not a duration, using 1s", s)
		return time.Second
	}
	return d
}

// stream is a connection to memgov: a net.Conn (a socket), or on Windows the
// pipe handle in MEMGOV_FD as an *os.File.
type stream = io.ReadWriteCloser

type agent struct {
	opts  Options
	first stream
	dial  func() (stream, error) // nil: no reconnecting (an inherited descriptor)
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex // guards conn and writes; never held while the stats are read
	conn  stream
	armed *armWatch     // the connection's armed capture; serve's goroutine sets it
	asked chan struct{} // the connection's stats? requests, for its reporter; serve's goroutine sets it
	work  *chores       // the connection's gc, release and capture; serve's goroutine sets it

	statsMu sync.Mutex // one stats sample at a time, its lines written in the order taken
	stats   statsReader
}

func (a *agent) stopped() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

// run serves one connection after the other: with a path socket, a lost
// connection is retried with backoff, and memgov re-syncs the new one.
func (a *agent) run() {
	defer close(a.done)
	conn := a.first
	backoff := 250 * time.Millisecond
	for {
		if conn != nil {
			byeFromMemgov := a.serve(conn)
			if byeFromMemgov || a.dial == nil || a.stopped() {
				return
			}
			backoff = 250 * time.Millisecond
		}
		select {
		case <-a.stop:
			return
		case <-time.After(backoff):
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
		c, err := a.dial()
		if err != nil {
			conn = nil
			continue
		}
		conn = c
	}
}

func (a *agent) writeLocked(line string) error {
	if a.conn == nil {
		return net.ErrClosed
	}
	// memgov drops a peer that does not read; the other way round, a memgov that
	// does not read must not hang the program's goroutines for long. (A Windows
	// pipe handle opened for synchronous I/O has no deadlines: os.ErrNoDeadline.)
	if d, ok := a.conn.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(5 * time.Second))
	}
	_, err := io.WriteString(a.conn, line)
	return err
}

func (a *agent) send(line string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writeLocked(line)
}

// serve speaks the protocol on conn until it ends; true when memgov said bye.
func (a *agent) serve(conn stream) bool {
	a.mu.Lock()
	if a.stopped() {
		a.mu.Unlock()
		conn.Close()
		return false
	}
	a.conn = conn
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.conn.Close()
		a.conn = nil
		a.mu.Unlock()
	}()

	// The first stats read is the costly one: done before memgov knows of
	// this agent, it does not compete with the target memgov sends first.
	a.statsMu.Lock()
	a.stats.read()
	a.statsMu.Unlock()

	hello := fmt.Sprintf("hello v=%d runtime=go version=%s pid=%d caps=limit,gc,release,shed,stats,capture,arm\n",
		protoVersion, encodeValue(runtime.Version()), os.Getpid())
	if err := a.send(hello); err != nil {
		return false
	}

	quit := make(chan struct{})
	defer close(quit)
	// An arm lasts as long as its connection: memgov arms a new one afresh.
	armed := newArmWatch()
	a.armed = armed
	defer armed.clear()
	gcs := startGCNotifier(func() { armed.onCycle(a) })
	defer gcs.stop()
	// The reader hands stats? to the reporter and reads on: a target behind it
	// must not wait for a sample (the program's first one took 40-70 ms in the
	// test VM, and held the target memgov sent next as long).
	a.asked = make(chan struct{}, 1)
	go a.report(a.opts.StatsInterval, gcs.done, a.asked, quit)
	// So does it hand over gc, release and capture (chores.go).
	a.work = newChores()
	go a.work.run(quit, a.stop)

	r := bufio.NewReaderSize(conn, lineMax)
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			a.opts.Logf("line from memgov longer than %d bytes, closing the connection", lineMax)
			return false
		}
		if err != nil {
			if err != io.EOF && !a.stopped() && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
				a.opts.Logf("reading from memgov: %v", err)
			}
			return false
		}
		m, err := parseLine(line[:len(line)-1])
		if err != nil {
			a.opts.Logf("%v, closing the connection", err)
			return false
		}
		bye, err := a.handle(m)
		if err != nil {
			a.opts.Logf("%v, closing the connection", err)
			return false
		}
		if bye {
			return true
		}
	}
}

// minReportGap spaces the reports that GC cycles cause: a program doing
// hundreds of collections a second sends at most one report per gap.
const minReportGap = 10 * time.Millisecond

// report sends stats when they change what memgov decides: at once (memgov
// has none before), after a GC cycle ended (the heap's size and the live heap
// move at GC), and when neither happened for a whole interval; and whenever
// memgov asks. memgov pairs each report with the group's charge read when it
// arrives, so a report soon after the change keeps that pair close. With no
// interval (every <= 0) it reports only when asked.
func (a *agent) report(every time.Duration, gcDone, asked <-chan struct{}, quit chan struct{}) {
	periodic := every > 0
	if !periodic {
		gcDone = nil
	}
	due := time.Now()
	var last time.Time
	for {
		var t *time.Timer
		var tick <-chan time.Time
		if periodic {
			t = time.NewTimer(time.Until(due))
			tick = t.C
		}
		select {
		case <-quit:
			stopTimer(t)
			return
		case <-a.stop:
			stopTimer(t)
			return
		case <-gcDone:
			stopTimer(t)
			if soon := last.Add(minReportGap); soon.Before(due) {
				due = soon
			}
			continue
		case <-asked:
			stopTimer(t)
		case <-tick:
		}
		if a.sendStats() != nil {
			return
		}
		last = time.Now()
		due = last.Add(every)
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// askStats has the reporter answer stats?; asks made while one is pending
// share its answer.
func (a *agent) askStats() {
	select {
	case a.asked <- struct{}{}:
	default:
	}
}

// sendStats reports the stats, and a gc-cycle sample when a GC ran since the
// last one. The write lock is taken only for the lines: a target's reply never
// waits for a sample.
func (a *agent) sendStats() error {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	line, cyc := a.stats.sample()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.writeLocked(line); err != nil {
		return err
	}
	if cyc == nil {
		return nil
	}
	trace.push(*cyc)
	return a.writeLocked(cyc.line())
}

func (a *agent) handle(m *message) (bye bool, err error) {
	switch m.typ {
	case "welcome":
		v, err := m.u64("v")
		if err != nil {
			return false, err
		}
		if v != protoVersion {
			_ = a.send("bye reason=version\n")
			return false, fmt.Errorf("memgov speaks protocol version %d, this agent %d", v, protoVersion)
		}
	case "target":
		return false, a.applyTarget(m)
	case "gc":
		a.work.gcNow()
	case "release":
		a.work.releaseNow()
	case "shed":
		l, err := m.level("level")
		if err != nil {
			return false, err
		}
		hooksMu.Lock()
		hooks := make([]func(Level), len(shedHooks))
		copy(hooks, shedHooks)
		hooksMu.Unlock()
		for _, h := range hooks {
			h(l)
		}
	case "stats?":
		a.askStats()
	case "capture":
		return false, a.capture(a.work, m)
	case "arm":
		return false, a.arm(a.armed, m)
	case "disarm":
		return false, a.disarm(a.armed, m)
	case "bye":
		return true, nil
	}
	// Anything else comes from a newer memgov: ignored.
	return false, nil
}

func (a *agent) applyTarget(m *message) error {
	seq, err := m.u64("seq")
	if err != nil {
		return err
	}
	bytes, err := m.limit("bytes")
	if err != nil {
		return err
	}
	level, err := m.level("level")
	if err != nil {
		return err
	}
	limit := int64(math.MaxInt64)
	if bytes < math.MaxInt64 {
		limit = int64(bytes)
	}
	debug.SetMemoryLimit(limit)
	// Read back: what the runtime has now is what memgov should believe.
	now := debug.SetMemoryLimit(-1)
	applied := limitNone
	if now != math.MaxInt64 {
		applied = uint64(now)
	}
	if err := a.send(fmt.Sprintf("applied seq=%d limit_bytes=%s%s\n", seq, formatLimit(applied), appliedAt())); err != nil {
		return err
	}
	hooksMu.Lock()
	hooks := make([]func(uint64, Level), len(targetHooks))
	copy(hooks, targetHooks)
	hooksMu.Unlock()
	for _, h := range hooks {
		h(applied, level)
	}
	return nil
}

// connectFromEnv takes MEMGOV_FD (preferred) or dials MEMGOV_SOCKET.
func connectFromEnv() (stream, func() (stream, error), error) {
	if s := os.Getenv("MEMGOV_FD"); s != "" {
		// Ours now: programs this one starts must not believe they own it.
		os.Unsetenv("MEMGOV_FD")
		fd, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || fd < 0 {
			return nil, nil, fmt.Errorf("MEMGOV_FD=%q is not a descriptor", s)
		}
		conn, err := connFromFD(fd)
		if err != nil {
			return nil, nil, fmt.Errorf("MEMGOV_FD=%d: %w", fd, err)
		}
		return conn, nil, nil
	}
	if path := os.Getenv("MEMGOV_SOCKET"); path != "" {
		dial := func() (stream, error) { return net.Dial("unix", path) }
		conn, err := dial()
		if err != nil {
			// memgov may not listen yet, or went away: the run loop retries.
			return nil, dial, nil
		}
		return conn, dial, nil
	}
	return nil, nil, ErrNotConfigured
}
