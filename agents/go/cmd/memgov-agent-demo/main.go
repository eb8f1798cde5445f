// SPDX-License-Identifier: MIT

// memgov-agent-demo is the smallest Go program under memgov: a blank import
// of the agent. It keeps some garbage coming, reports the agent's callbacks on
// standard output ("event shed level=critical") for the conformance driver,
// and runs until SIGTERM or SIGINT.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"memgov.dev/agent"
)

var sink [][]byte

func main() {
	agent.OnShed(func(l agent.Level) { fmt.Printf("event shed level=%s\n", l) })
	agent.OnTarget(func(b uint64, l agent.Level) {
		if b == ^uint64(0) {
			fmt.Printf("event target bytes=max level=%s\n", l)
		} else {
			fmt.Printf("event target bytes=%d level=%s\n", b, l)
		}
	})
	// Before "ready": the driver may send SIGTERM as soon as it reads it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("ready")
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-sig:
			agent.Stop()
			os.Exit(0)
		case <-tick.C:
			sink = append(sink, make([]byte, 64<<10))
			if len(sink) > 64 {
				sink = sink[:0]
			}
		}
	}
}
