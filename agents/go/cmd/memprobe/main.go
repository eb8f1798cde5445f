// SPDX-License-Identifier: MIT

// memprobe puts the Go runtime's view of its memory (runtime/metrics,
// /memory/classes/*) next to what its cgroup charges (memory.current,
// memory.stat) and what the kernel maps (smaps_rollup), while a live heap
// grows under garbage churn like bench/workload's steady shape. It is the
// measurement behind the agent's total_bytes: what the runtime reports and
// what the group charges must differ only by memory outside the runtime.
//
//	memprobe [-live MiB] [-work MiB] [-every DURATION]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "memgov.dev/agent"
)

const mib = 1 << 20

var sink []byte

func cgroupDir() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "0::") {
			return filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(l, "0::"))
		}
	}
	return ""
}

func readKV(path string) map[string]uint64 {
	m := map[string]uint64{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		k := strings.TrimSuffix(fs[0], ":")
		v, err := strconv.ParseUint(fs[1], 10, 64)
		if err != nil {
			continue
		}
		if len(fs) == 3 && fs[2] == "kB" {
			v *= 1024
		}
		m[k] = v
	}
	return m
}

func readU64(path string) uint64 {
	b, _ := os.ReadFile(path)
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

var classes []metrics.Sample

func runtimeClasses() map[string]uint64 {
	if classes == nil {
		for _, d := range metrics.All() {
			if strings.HasPrefix(d.Name, "/memory/classes/") || d.Name == "/gc/heap/goal:bytes" ||
				d.Name == "/gc/gomemlimit:bytes" || d.Name == "/gc/heap/live:bytes" || d.Name == "/gc/cycles/total:gc-cycles" {
				classes = append(classes, metrics.Sample{Name: d.Name})
			}
		}
	}
	metrics.Read(classes)
	m := map[string]uint64{}
	for _, s := range classes {
		if s.Value.Kind() == metrics.KindUint64 {
			m[s.Name] = s.Value.Uint64()
		}
	}
	return m
}

func m(v uint64) string { return fmt.Sprintf("%.1fM", float64(v)/mib) }

// line is one compact sample: the charge, the runtime's total as the agent
// reports it, and the parts of the charge the difference could be made of.
func line(cg string, tag string) {
	r := runtimeClasses()
	cur := readU64(filepath.Join(cg, "memory.current"))
	st := readKV(filepath.Join(cg, "memory.stat"))
	sm := readKV("/proc/self/smaps_rollup")
	rt := r["/memory/classes/total:bytes"] - r["/memory/classes/heap/released:bytes"]
	lru := st["inactive_anon"] + st["active_anon"]
	fmt.Printf("%s t=%dms cur=%s rt=%s cur-rt=%s | unmapped_anon=%s | anon=%s anon-rt=%s anon_thp=%s file=%s kernel=%s pagetables=%s slab=%s | rss_anon=%s AnonHuge=%s | free=%s released=%s live=%s goal=%s gcs=%d\n",
		tag, time.Since(start).Milliseconds(), m(cur), m(rt), m(cur-rt), m(lru-st["anon"]-st["shmem"]), m(st["anon"]), m(st["anon"]-rt), m(st["anon_thp"]),
		m(st["file"]), m(st["kernel"]), m(st["pagetables"]), m(st["slab"]), m(sm["Anonymous"]), m(sm["AnonHugePages"]),
		m(r["/memory/classes/heap/free:bytes"]), m(r["/memory/classes/heap/released:bytes"]), m(r["/gc/heap/live:bytes"]),
		m(r["/gc/heap/goal:bytes"]), r["/gc/cycles/total:gc-cycles"])
}

// dump prints every field, for a field-by-field comparison.
func dump(cg string, tag string) {
	fmt.Printf("== %s t=%dms group=%s\n", tag, time.Since(start).Milliseconds(), cg)
	r := runtimeClasses()
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  rt %-48s %10s\n", k, m(r[k]))
	}
	fmt.Printf("  cg memory.current %s\n", m(readU64(filepath.Join(cg, "memory.current"))))
	st := readKV(filepath.Join(cg, "memory.stat"))
	for _, k := range []string{"anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "vmalloc", "shmem", "file_mapped", "file_dirty", "anon_thp", "file_thp", "shmem_thp", "inactive_anon", "active_anon", "inactive_file", "active_file", "slab_reclaimable", "slab_unreclaimable", "slab", "thp_fault_alloc", "thp_collapse_alloc"} {
		if v, ok := st[k]; ok {
			if strings.HasPrefix(k, "thp_") {
				fmt.Printf("  cg %-20s %d\n", k, v)
			} else {
				fmt.Printf("  cg %-20s %10s\n", k, m(v))
			}
		}
	}
	sm := readKV("/proc/self/smaps_rollup")
	for _, k := range []string{"Rss", "Anonymous", "AnonHugePages", "Shared_Clean", "Private_Clean", "Private_Dirty"} {
		fmt.Printf("  smaps %-14s %10s\n", k, m(sm[k]))
	}
}

var start = time.Now()

func main() {
	live := flag.Int("live", 190, "live heap at the end, MiB")
	work := flag.Int("work", 600, "garbage to allocate, MiB")
	every := flag.Duration("every", 200*time.Millisecond, "compact sample interval")
	reclaim := flag.String("reclaim", "", "at the end, after debug.FreeOSMemory, write this to the group's memory.reclaim (test VM only)")
	flag.Parse()
	cg := cgroupDir()
	for _, f := range []string{"enabled", "defrag", "khugepaged/defrag", "khugepaged/max_ptes_none", "khugepaged/pages_collapsed", "shmem_enabled"} {
		b, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/" + f)
		fmt.Printf("thp %s: %s\n", f, strings.TrimSpace(string(b)))
	}
	dump(cg, "start")
	go func() {
		for {
			time.Sleep(*every)
			line(cg, "sample")
		}
	}()
	var held [][]byte
	next := *live / 4
	for w := 1; w <= *work; w++ {
		// Live heap grows with the work, reaching -live at 60% of it.
		want := *live * w * 10 / (*work * 6)
		if want > *live {
			want = *live
		}
		for len(held) < want {
			b := make([]byte, mib)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			held = append(held, b)
		}
		g := make([]byte, mib)
		for i := 0; i < len(g); i += 4096 {
			g[i] = 1
		}
		sink = g
		if len(held) >= next {
			dump(cg, fmt.Sprintf("live=%dM", len(held)))
			next += *live / 4
		}
	}
	dump(cg, "end")
	runtime.GC()
	time.Sleep(1500 * time.Millisecond)
	dump(cg, "after GC + 1.5s")
	if *reclaim != "" {
		debug.FreeOSMemory()
		line(cg, "after FreeOSMemory")
		// Pages of a huge page the runtime released are unmapped but stay charged until the
		// kernel splits the huge page, which its deferred-split shrinker does under reclaim.
		err := os.WriteFile(filepath.Join(cg, "memory.reclaim"), []byte(*reclaim), 0)
		line(cg, fmt.Sprintf("after memory.reclaim=%s (err=%v)", *reclaim, err))
	}
	runtime.KeepAlive(held)
}
