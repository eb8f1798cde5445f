// workload is the Go child of memgov's closed-loop tests (tests/loop). Each
// subcommand is one shape from the "Close the loop" issue; all of them link the
// Go agent, which is active only when memgov gives them MEMGOV_FD.
//
//	outside  the heap churns at its limit while memory outside it (mmap) grows
//	leak     the live heap grows without bound
//	burst    garbage sits in the heap; then memory outside it jumps
//	resize   the heap churns at a steady rate while someone lowers memory.max
//	mapleak  request payloads pile up in a map nobody cleans (the capture tests look for it)
//	hold     a fixed live heap, then idle
//
// They print what they see (GC count, limit) as "key=value" lines for the test.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"

	_ "memgov.dev/agent"
)

const mib = 1 << 20

var sink []byte

func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

// mmapOutside maps and touches n MiB the Go runtime does not see (like cgo or a memory-mapped cache).
func mmapOutside(n int) {
	touch(mapOutside(n))
}

// mapOutside maps n MiB outside the Go heap, untouched.
func mapOutside(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n*mib, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workload: mmap:", err)
		os.Exit(3)
	}
	return b
}

// churn allocates and drops garbage at rate MiB/s until the deadline.
func churn(rate int, until time.Time) {
	tick := time.Second / time.Duration(rate)
	next := time.Now()
	for time.Now().Before(until) {
		b := make([]byte, mib)
		touch(b)
		sink = b
		next = next.Add(tick)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// monotonicUsec is CLOCK_MONOTONIC, the clock memgov stamps its decisions with.
func monotonicUsec() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Sec*1000000 + ts.Nsec/1000
}

func numGC() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

func report(what string) {
	fmt.Printf("%s gc=%d limit_mib=%d\n", what, numGC(), debug.SetMemoryLimit(-1)/mib)
}

func outside(args []string) {
	fs := flag.NewFlagSet("outside", flag.ExitOnError)
	live := fs.Int("live", 40, "live heap, MiB")
	total := fs.Int("outside", 120, "memory outside the heap at the end, MiB")
	step := fs.Int("step", 4, "outside growth per interval, MiB")
	interval := fs.Duration("interval", 250*time.Millisecond, "")
	rate := fs.Int("churn", 40, "garbage, MiB/s")
	secs := fs.Duration("for", 12*time.Second, "")
	stop := fs.String("stop-file", "", "end early, once this file exists (a test's checks are done)")
	fs.Parse(args)

	hold := make([][]byte, *live)
	for i := range hold {
		hold[i] = make([]byte, mib)
		touch(hold[i])
	}
	go func() {
		for grown := 0; grown < *total; grown += *step {
			mmapOutside(*step)
			time.Sleep(*interval)
		}
		report("outside-done")
	}()
	end := time.Now().Add(*secs)
	for time.Now().Before(end) {
		next := time.Now().Add(500 * time.Millisecond)
		if next.After(end) {
			next = end
		}
		churn(*rate, next)
		if _, err := os.Stat(*stop); *stop != "" && err == nil {
			break
		}
	}
	report("completed")
	runtime.KeepAlive(hold)
}

func leak(args []string) {
	fs := flag.NewFlagSet("leak", flag.ExitOnError)
	fast := fs.Int("fast-until", 160, "leak quickly up to this, MiB")
	slow := fs.Int("slow", 4, "then this many MiB/s")
	fs.Parse(args)

	var hold [][]byte
	for i := 0; ; i++ {
		b := make([]byte, mib)
		touch(b)
		hold = append(hold, b)
		if len(hold) < *fast {
			continue
		}
		if len(hold)%16 == 0 {
			report(fmt.Sprintf("leaked_mib=%d", len(hold)))
		}
		time.Sleep(time.Second / time.Duration(*slow))
	}
}

// leaked is the map mapleak never cleans.
var leaked = map[int][]byte{}

// leakIntoMap is the function the capture tests expect at the top of the heap profile: every byte of the
// leak is allocated here.
//
//go:noinline
func leakIntoMap(i int) {
	b := make([]byte, 256<<10)
	touch(b)
	leaked[i] = b
}

func mapleak(args []string) {
	fs := flag.NewFlagSet("mapleak", flag.ExitOnError)
	fast := fs.Int("fast-until", 48, "leak quickly up to this, MiB")
	slow := fs.Int("slow", 4, "then this many MiB/s")
	fs.Parse(args)

	for i := 0; ; i++ {
		leakIntoMap(i)
		if i*256<<10 < *fast*mib {
			continue
		}
		time.Sleep(time.Second / time.Duration(*slow*4))
	}
}

func hold(args []string) {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	n := fs.Int("mib", 8, "live heap, MiB")
	secs := fs.Int("seconds", 60, "then idle this long")
	fs.Parse(args)

	keep := make([][]byte, *n)
	for i := range keep {
		keep[i] = make([]byte, mib)
		touch(keep[i])
	}
	fmt.Println("holding")
	time.Sleep(time.Duration(*secs) * time.Second)
	runtime.KeepAlive(keep)
}

// burst leaves garbage in the heap, then (optionally) jumps outside it, then keeps producing garbage until
// the next GC, and reports the heap size at which that GC came. With GOGC=off, a GC comes only when the heap
// reaches the memory limit: memgov's target, lowered by the jump, brings it earlier.
func burst(args []string) {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	garbage := fs.Int("garbage", 60, "garbage left in the heap first, MiB")
	jump := fs.Int("outside", 60, "the jump outside the heap, MiB (0: none)")
	rate := fs.Int("churn", 40, "garbage after the jump, MiB/s")
	wait := fs.Duration("wait", 20*time.Second, "how long to wait for a GC")
	fs.Parse(args)

	for i := 0; i < *garbage; i++ {
		b := make([]byte, mib)
		touch(b)
		sink = b
	}
	time.Sleep(2 * time.Second) // let memgov see the quiet state first
	before := numGC()
	if *jump > 0 {
		fmt.Printf("jump at_us=%d\n", monotonicUsec())
		b := mapOutside(*jump)
		// The first 2 MiB: the mapping's unaligned head in 4 KiB pages, then a
		// huge page charged whole. Under emulation the head alone took 15-350 ms.
		head := len(b)
		if head > 2*mib {
			head = 2 * mib
		}
		touch(b[:head])
		first := monotonicUsec()
		touch(b[head:])
		fmt.Printf("jumped at_us=%d\n", monotonicUsec())
		fmt.Printf("jump_2m at_us=%d\n", first)
	}
	start := time.Now()
	tick := time.Second / time.Duration(*rate)
	var ms runtime.MemStats
	var heap uint64
	for time.Since(start) < *wait {
		b := make([]byte, mib)
		touch(b)
		sink = b
		runtime.ReadMemStats(&ms)
		if ms.NumGC > before {
			fmt.Printf("first_gc heap_mib=%d ms=%d limit_mib=%d\n", heap/mib, time.Since(start).Milliseconds(),
				debug.SetMemoryLimit(-1)/mib)
			return
		}
		if ms.HeapAlloc > heap {
			heap = ms.HeapAlloc
		}
		time.Sleep(tick)
	}
	fmt.Printf("no_gc heap_mib=%d\n", heap/mib)
	os.Exit(1)
}

func resize(args []string) {
	fs := flag.NewFlagSet("resize", flag.ExitOnError)
	rate := fs.Int("churn", 20, "garbage, MiB/s")
	secs := fs.Duration("for", 12*time.Second, "")
	fs.Parse(args)

	debug.FreeOSMemory()
	report("low") // the test lowers memory.max now, while usage is small
	time.Sleep(time.Second)
	churn(*rate, time.Now().Add(*secs))
	report("completed")
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: workload outside|leak|burst|resize|mapleak|hold [flags]")
		os.Exit(64)
	}
	// What the environment set at launch: the agent's first target may replace it within milliseconds.
	fmt.Printf("env GOMEMLIMIT=%s\n", os.Getenv("GOMEMLIMIT"))
	switch os.Args[1] {
	case "outside":
		outside(os.Args[2:])
	case "mapleak":
		mapleak(os.Args[2:])
	case "hold":
		hold(os.Args[2:])
	case "leak":
		leak(os.Args[2:])
	case "burst":
		burst(os.Args[2:])
	case "resize":
		resize(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "workload: unknown shape", os.Args[1])
		os.Exit(64)
	}
}
