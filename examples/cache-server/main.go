// cache-server is the workload of memgov's demo: a server that keeps a cache of
// hot objects (its live heap) and handles requests that each allocate short-lived
// buffers (its garbage). With GOGC=100 and no memory limit, Go lets the heap grow
// to about twice the live set before collecting, so a cache that fits the
// container comfortably still gets the server OOM-killed. A GOMEMLIMIT below the
// container's limit makes the collector run earlier instead.
//
// It serves requests from an in-process load loop rather than the network, so the
// demo needs no ports; what it measures is the same.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

const entrySize = 64 << 10

var sink []byte // keeps the compiler from dropping request buffers

func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i)
	}
}

func main() {
	liveMiB := flag.Int("live", 120, "cache size (the live heap), MiB")
	requests := flag.Int("requests", 6000, "requests to serve")
	reqKiB := flag.Int("request-kib", 512, "garbage allocated per request, KiB")
	flag.Parse()

	limit := debug.SetMemoryLimit(-1)
	if limit == 1<<63-1 {
		fmt.Println("cache-server: GOMEMLIMIT: none (the heap may grow to twice the live set)")
	} else {
		fmt.Printf("cache-server: GOMEMLIMIT: %d MiB\n", limit>>20)
	}

	cache := make([][]byte, *liveMiB*(1<<20)/entrySize)
	for i := range cache {
		cache[i] = make([]byte, entrySize)
		touch(cache[i])
	}
	fmt.Printf("cache-server: cache filled: %d MiB live\n", *liveMiB)

	start := time.Now()
	var ms runtime.MemStats
	var peak uint64
	for i := 1; i <= *requests; i++ {
		buf := make([]byte, *reqKiB<<10)
		touch(buf)
		sink = buf
		if i%8 == 0 { // cache churn: an entry is replaced, the old one becomes garbage
			e := make([]byte, entrySize)
			touch(e)
			cache[rand.Intn(len(cache))] = e
		}
		if i%500 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapSys-ms.HeapReleased > peak {
				peak = ms.HeapSys - ms.HeapReleased
			}
			fmt.Printf("cache-server: %5d requests, heap %4d MiB, %3d GCs\n", i, ms.HeapAlloc>>20, ms.NumGC)
		}
	}
	runtime.ReadMemStats(&ms)
	fmt.Printf("cache-server: served %d requests in %.1fs; peak heap held from the OS %d MiB; %d GCs\n",
		*requests, time.Since(start).Seconds(), peak>>20, ms.NumGC)
	os.Exit(0)
}
