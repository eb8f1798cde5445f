// child is the Go program memgov starts as a container's entrypoint in tests/real. It links the Go
// agent, which is active only when memgov gives it MEMGOV_FD.
//
//	serve    holds a live heap and churns garbage until a signal ends it; prints the Go runtime's
//	         memory limit each time it changes (the agent applying memgov's target), and the signal
//	exit N   exits with status N
//	orphans  leaves N orphans that exit; then waits for each to be reaped and prints how many stayed zombies
//	oom      maps memory outside the Go heap until the kernel's OOM killer ends it
//
// Every subcommand first prints the GOMEMLIMIT it was launched with.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "memgov.dev/agent"
)

const mib = 1 << 20

var sink []byte

// held is serve's live heap: a global, so the GC cannot find it dead while serve loops forever.
var held [][]byte

func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	live := fs.Int("live", 40, "live heap, MiB")
	rate := fs.Int("churn", 10, "garbage, MiB/s")
	fs.Parse(args)

	held = make([][]byte, *live)
	for i := range held {
		held[i] = make([]byte, mib)
		touch(held[i])
	}
	// A signal is said, then taken with its default action, so the status memgov passes on is the
	// signal's (128+N) and the test knows the signal reached this process, not only memgov.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Printf("got signal=%d\n", s.(syscall.Signal))
		signal.Reset()
		// As a container's PID 1 (no memgov in front) the kernel spares this process its own signal and
		// the Go runtime exits 2 instead.
		syscall.Kill(os.Getpid(), s.(syscall.Signal))
	}()
	fmt.Printf("ready live_mib=%d\n", *live)
	last := int64(-2)
	tick := time.Second / time.Duration(*rate)
	for {
		b := make([]byte, mib)
		touch(b)
		sink = b
		// The limit the runtime runs with now: the launch GOMEMLIMIT, then each target the agent applied.
		if l := debug.SetMemoryLimit(-1); l != last {
			fmt.Printf("limit bytes=%d\n", l)
			last = l
		}
		time.Sleep(tick)
	}
}

// state is a process's state letter from /proc/PID/stat ("" once it is gone).
func state(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// orphans: each sh starts a short sleep in the background and exits at once, so the sleep is reparented
// to PID 1 (memgov), which must reap it when it exits. A zombie is reported only after its sleep has long
// ended, so a slow machine makes this wait, not fail.
func orphans(args []string) {
	fs := flag.NewFlagSet("orphans", flag.ExitOnError)
	n := fs.Int("n", 20, "orphans")
	wait := fs.Duration("wait", 60*time.Second, "how long an exited orphan may stay a zombie")
	fs.Parse(args)

	var pids []int
	for i := 0; i < *n; i++ {
		out, err := exec.Command("/bin/sh", "-c", "sleep 0.2 </dev/null >/dev/null 2>&1 & echo $!").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: orphans: sh:", err)
			os.Exit(2)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "child: orphans: sh printed %q, not a pid\n", out)
			os.Exit(2)
		}
		pids = append(pids, pid)
	}
	reparented := 0
	for _, pid := range pids {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) > 1 && f[1] == "1" {
				reparented++
			}
		}
	}
	deadline := time.Now().Add(*wait)
	zombies := 0
	for {
		zombies = 0
		for _, pid := range pids {
			if state(pid) != "" {
				zombies++ // still there: running (not yet exited) or a zombie nobody reaped
			}
		}
		if zombies == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("orphans=%d seen_reparented_to_1=%d left=%d\n", len(pids), reparented, zombies)
	if zombies > 0 {
		os.Exit(1)
	}
}

// oom maps and touches memory the Go runtime does not manage (as cgo or a memory-mapped cache would), so
// no GC target can help: the container's memory.max is reached and the OOM killer picks this process.
func oom(args []string) {
	fs := flag.NewFlagSet("oom", flag.ExitOnError)
	step := fs.Int("step", 8, "MiB per mapping")
	fs.Parse(args)

	var keep [][]byte
	for {
		b, err := syscall.Mmap(-1, 0, *step*mib, syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: oom: mmap:", err)
			os.Exit(2)
		}
		touch(b)
		keep = append(keep, b)
		if len(keep)%8 == 0 {
			fmt.Printf("mapped_mib=%d\n", len(keep)**step)
		}
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: child serve|exit N|orphans|oom [flags]")
		os.Exit(64)
	}
	fmt.Printf("env GOMEMLIMIT=%s\n", os.Getenv("GOMEMLIMIT"))
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "exit":
		code := 0
		if len(os.Args) > 2 {
			code, _ = strconv.Atoi(os.Args[2])
		}
		runtime.GC()
		os.Exit(code)
	case "orphans":
		orphans(os.Args[2:])
	case "oom":
		oom(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "child: unknown subcommand", os.Args[1])
		os.Exit(64)
	}
}
