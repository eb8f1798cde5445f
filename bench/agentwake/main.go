// SPDX-License-Identifier: MIT

// agentwake is a Go program with the agent and a chosen number of goroutines
// that allocate without pause: bench/agent-wake.py plays memgov on its
// MEMGOV_FD and times targets and stats? against the program's load. It
// needs no cgroup (the agent only calls debug.SetMemoryLimit), so it runs on
// the host, at the speed of real hardware, where the test VM cannot tell.
//
//	agentwake [-busy N]
package main

import (
	"flag"
	"os"
	"os/signal"
	"syscall"

	_ "memgov.dev/agent"
)

var sink [][]byte

// churn allocates 4 KiB at a time and keeps up to 64 MiB of it live, so the
// collector runs as a busy server's would.
func churn() {
	var live [][]byte
	for {
		live = append(live, make([]byte, 4096))
		if len(live) == 16384 {
			sink, live = live, nil
		}
	}
}

func main() {
	busy := flag.Int("busy", 1, "goroutines allocating without pause")
	flag.Parse()
	for i := 0; i < *busy; i++ {
		go churn()
	}
	// Until the driver signals: a closed connection ends only the agent.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
