// workload is the Go program of memgov's benchmark matrix (bench/matrix.sh).
// Each subcommand is one shape of the OOM-avoidance matrix; all of them link
// the Go agent, which is active only when memgov gives them MEMGOV_FD.
//
//	steady   the live heap grows toward -live MiB while garbage is made
//	burst    a base live heap, and bursts of short-lived data on top of it
//	outside  a live heap, and memory outside the runtime's view that grows:
//	         -kind mmap (anonymous mappings), shm (a tmpfs file: shmem page
//	         cache) or helper (another process in the same group)
//	jump     a live heap, then memory outside it mapped and touched in one go,
//	         then garbage (prints the jump's CLOCK_MONOTONIC stamps)
//	resize   a live heap while someone lowers memory.max (it waits for that)
//	leak     the live heap grows without bound (-rate: how fast, once past
//	         -fast-until; the slow leak of golang/go#58106 is -rate 2)
//	idle     sleeps (memgov's idle overhead with an agent connected)
//	hog      the helper of outside -kind helper (reads steps on stdin)
//
// The work is fixed (MiB of garbage allocated), not the time, so wall time
// compares strategies. The growth of the live heap and of the outside memory
// follows the work done, so a slower run sees the same memory story. Lines on
// stdout, for the runner:
//
//	progress work_mib=N gc_cpu=F        (every 250 ms: work done if killed)
//	cannot_fit at_ns=N live_mib=N       (leak: the heap crossed the line)
//	jump at_us=N, jumped at_us=N        (jump: CLOCK_MONOTONIC, as memgov's at_us=)
//	done work_mib=N gc_cpu=F wall_ms=N  (completed)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"
	"unsafe"

	_ "memgov.dev/agent"
)

const mib = 1 << 20

var (
	sink    []byte
	started = time.Now()
	printed time.Time
)

func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "workload: "+format+"\n", args...)
	os.Exit(3)
}

// gcCPU is the share of the process's CPU time the GC used so far (runtime/metrics, Go 1.20+).
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 || s[1].Value.Kind() != metrics.KindFloat64 || s[1].Value.Float64() == 0 {
		return -1
	}
	return s[0].Value.Float64() / s[1].Value.Float64()
}

func progress(work int) {
	if time.Since(printed) < 250*time.Millisecond {
		return
	}
	printed = time.Now()
	fmt.Printf("progress work_mib=%d gc_cpu=%.4f\n", work, gcCPU())
}

func done(work int) {
	fmt.Printf("done work_mib=%d gc_cpu=%.4f wall_ms=%d\n", work, gcCPU(), time.Since(started).Milliseconds())
}

// churn does the work: MiB after MiB of garbage, each after step(w) (nil: none), with progress reports.
func churn(work int, step func(w int)) {
	for w := 0; w < work; w++ {
		if step != nil {
			step(w)
		}
		garbage()
		progress(w)
	}
	done(work)
}

// garbage allocates and drops one MiB in 64 KiB objects.
func garbage() {
	for i := 0; i < 16; i++ {
		b := make([]byte, 64<<10)
		touch(b)
		sink = b
	}
}

// heap holds live MiB chunks.
type heap [][]byte

func (h *heap) growTo(n int) {
	for len(*h) < n {
		b := make([]byte, mib)
		touch(b)
		*h = append(*h, b)
	}
}

// fraction returns how much of total the work done calls for, reaching all of it at by% of the work.
func fraction(total, work, of, by int) int {
	n := total * work * 100 / (of * by)
	if n > total {
		return total
	}
	return n
}

func steady(args []string) {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	live := fs.Int("live", 180, "live heap at the end, MiB")
	work := fs.Int("work", 1200, "garbage to allocate, MiB")
	fs.Parse(args)

	var h heap
	churn(*work, func(w int) { h.growTo(fraction(*live, w, *work, 60)) })
	runtime.KeepAlive(h)
}

func burst(args []string) {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	live := fs.Int("live", 60, "base live heap, MiB")
	size := fs.Int("burst", 100, "data held during a burst, MiB")
	every := fs.Int("every", 50, "garbage between bursts, MiB")
	work := fs.Int("work", 1200, "MiB to allocate, bursts included")
	fs.Parse(args)

	var h heap
	h.growTo(*live)
	for w := 0; w < *work; {
		var b heap
		b.growTo(*size)
		w += *size
		b = nil
		for i := 0; i < *every && w < *work; i++ {
			garbage()
			w++
			progress(w)
		}
	}
	done(*work)
	runtime.KeepAlive(h)
}

// outsider grows memory the Go runtime does not account, one step at a time.
type outsider interface {
	grow(mb int)
	close()
}

type mmapOutside struct{}

func (mmapOutside) grow(mb int) {
	b, err := syscall.Mmap(-1, 0, mb*mib, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fail("mmap: %v", err)
	}
	touch(b)
}
func (mmapOutside) close() {}

// shmOutside writes a file in a tmpfs: shmem pages, charged to the group, on the anon LRU.
type shmOutside struct{ f *os.File }

func (s *shmOutside) grow(mb int) {
	buf := make([]byte, mib)
	for i := 0; i < mb; i++ {
		if _, err := s.f.Write(buf); err != nil {
			fail("shm write: %v", err)
		}
	}
}
func (s *shmOutside) close() { os.Remove(s.f.Name()) }

// helperOutside is a second process in the same group; it maps a step for each line it reads.
type helperOutside struct {
	cmd *exec.Cmd
	in  *os.File
	out *bufio.Reader
}

func (h *helperOutside) grow(mb int) {
	fmt.Fprintln(h.in, mb)
	if _, err := h.out.ReadString('\n'); err != nil { // wait until it is touched
		fail("helper: %v", err)
	}
}
func (h *helperOutside) close() { h.in.Close(); h.cmd.Wait() }

func newOutsider(kind, dir string) outsider {
	switch kind {
	case "mmap":
		return mmapOutside{}
	case "shm":
		f, err := os.CreateTemp(dir, "bench-shm-")
		if err != nil {
			fail("shm: %v", err)
		}
		return &shmOutside{f}
	case "helper":
		self, _ := os.Executable()
		cmd := exec.Command(self, "hog")
		in, err := cmd.StdinPipe()
		if err != nil {
			fail("helper: %v", err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			fail("helper: %v", err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			fail("helper: %v", err)
		}
		return &helperOutside{cmd, in.(*os.File), bufio.NewReader(out)}
	}
	fail("unknown -kind %q", kind)
	return nil
}

func outside(args []string) {
	fs := flag.NewFlagSet("outside", flag.ExitOnError)
	kind := fs.String("kind", "mmap", "mmap, shm or helper")
	dir := fs.String("dir", "/dev/shm", "the tmpfs of -kind shm")
	live := fs.Int("live", 100, "live heap, MiB")
	total := fs.Int("outside", 100, "memory outside the heap at the end, MiB")
	step := fs.Int("step", 5, "outside growth per step, MiB")
	pace := fs.Int("pace", 1, "how many times faster than the garbage the outside memory grows: steps of "+
		"-step x pace, all of it by 90%/pace of the work (the same total)")
	work := fs.Int("work", 1200, "garbage to allocate, MiB")
	fs.Parse(args)
	if *pace < 1 || *pace > 90 {
		fail("-pace %d: must be 1 to 90", *pace)
	}

	var h heap
	h.growTo(*live)
	o := newOutsider(*kind, *dir)
	defer o.close()
	grown := 0
	churn(*work, func(w int) {
		if grown < *total && grown < fraction(*total, w, *work, 90 / *pace) {
			n := min(*step**pace, *total-grown)
			o.grow(n)
			grown += n
		}
	})
	runtime.KeepAlive(h)
}

func hog() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var mb int
		fmt.Sscan(in.Text(), &mb)
		mmapOutside{}.grow(mb)
		fmt.Println("ok")
	}
}

func monotonicUsec() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Sec*1000000 + ts.Nsec/1000
}

// jump: a live heap, then -outside MiB mapped and touched at once, then garbage. Under memory.max 256M the
// defaults (110M live, 60M outside) fit, yet GOMEMLIMIT = 90% of the limit with the default GOGC lets the
// heap grow to twice the live set (220M) before a GC: with the 60M outside, past memory.max.
func jump(args []string) {
	fs := flag.NewFlagSet("jump", flag.ExitOnError)
	live := fs.Int("live", 110, "live heap, MiB")
	size := fs.Int("outside", 60, "the jump outside the heap, MiB (anonymous mmap)")
	work := fs.Int("work", 600, "garbage to allocate after the jump, MiB")
	fs.Parse(args)

	var h heap
	h.growTo(*live)
	fmt.Printf("jump at_us=%d\n", monotonicUsec())
	mmapOutside{}.grow(*size)
	fmt.Printf("jumped at_us=%d\n", monotonicUsec())
	churn(*work, nil)
	runtime.KeepAlive(h)
}

// memoryMax reads memory.max of the cgroup this process is in (cgroup v2).
func memoryMax() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			v, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup", p, "memory.max"))
			return strings.TrimSpace(string(v))
		}
	}
	return ""
}

func resize(args []string) {
	fs := flag.NewFlagSet("resize", flag.ExitOnError)
	live := fs.Int("live", 100, "live heap, MiB")
	work := fs.Int("work", 1200, "garbage to allocate, MiB")
	wait := fs.Duration("wait", 5*time.Second, "how long to wait for memory.max to change (0: do not)")
	fs.Parse(args)

	var h heap
	h.growTo(*live)
	debug.FreeOSMemory() // usage is the live heap when the limit comes down, not the garbage of building it
	before := memoryMax()
	fmt.Printf("low memory_max=%s\n", before) // the runner lowers memory.max now
	for t := time.Now(); *wait > 0 && time.Since(t) < *wait && memoryMax() == before; {
		time.Sleep(20 * time.Millisecond)
	}
	churn(*work, nil)
	runtime.KeepAlive(h)
}

// leak keeps every MiB it allocates. The cannot-fit line is where the live heap and the law's minimum
// heap headroom (10%, at least 4M) no longer fit under memory.max less the law's headroom (5%, at least
// 8M), counting nothing outside the heap (docs/control-law.md).
func leak(args []string) {
	fs := flag.NewFlagSet("leak", flag.ExitOnError)
	max := fs.Int("max", 256, "memory.max, MiB: where the cannot-fit line is")
	fast := fs.Int("fast-until", 190, "leak at full speed up to this, MiB")
	rate := fs.Int("rate", 10, "then this many MiB/s")
	fs.Parse(args)

	line := float64(*max) - max64(float64(*max)*0.05, 8)
	crossed := false
	var h heap
	for n := 1; ; n++ {
		h.growTo(n)
		garbage()
		if !crossed && float64(n)+max64(float64(n)*0.1, 4) > line {
			crossed = true
			fmt.Printf("cannot_fit at_ns=%d live_mib=%d\n", time.Now().UnixNano(), n)
		}
		progress(n)
		if n >= *fast {
			time.Sleep(time.Second / time.Duration(*rate))
		}
	}
}

func max64(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: workload steady|burst|outside|jump|resize|leak|idle|hog [flags]")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "steady":
		steady(os.Args[2:])
	case "burst":
		burst(os.Args[2:])
	case "outside":
		outside(os.Args[2:])
	case "jump":
		jump(os.Args[2:])
	case "resize":
		resize(os.Args[2:])
	case "leak":
		leak(os.Args[2:])
	case "idle":
		time.Sleep(time.Hour)
	case "hog":
		hog()
	default:
		fmt.Fprintln(os.Stderr, "workload: unknown shape", os.Args[1])
		os.Exit(64)
	}
}
