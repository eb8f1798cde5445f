// The JVM program of memgov's benchmark matrix (bench/matrix.sh): the steady
// and outside shapes of bench/workload/main.go, with the same options and the
// same lines on stdout. Outside memory is a file in a tmpfs (shmem pages the
// JVM does not see). The offheap shape keeps direct buffers live next to a
// garbage-heavy heap: the JVM's default MaxDirectMemorySize is its heap limit,
// so the container default (a quarter of memory.max) refuses them with
// "OutOfMemoryError: Direct buffer memory". With -Dbench.sample=1 a thread
// samples the group's memory.current and anon against the heap committed and
// prints, at exit, an "overhead" line on stderr (bench/jvm-overhead.sh). gc_cpu is the collectors' accumulated collection time
// over the process's CPU time: an approximation (collection time is wall time).
import com.sun.management.OperatingSystemMXBean;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

public class Bench {
    static final int MIB = 1 << 20;
    static byte[] sink;
    static final ArrayList<byte[]> h = new ArrayList<>(); // the live set, reachable to the end
    static final long started = System.nanoTime();
    static long printed;

    static double gcCpu() {
        long gcMs = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
            gcMs += Math.max(0, b.getCollectionTime());
        long cpuNs = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        return cpuNs > 0 ? Math.min(1.0, gcMs * 1e6 / cpuNs) : -1;
    }

    static void progress(int work) {
        long now = System.nanoTime();
        if (now - printed < 250_000_000L) return;
        printed = now;
        System.out.printf("progress work_mib=%d gc_cpu=%.4f%n", work, gcCpu());
        System.out.flush();
    }

    static void done(int work) {
        System.out.printf("done work_mib=%d gc_cpu=%.4f wall_ms=%d%n", work, gcCpu(), (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
    }

    /* One MiB of garbage in 64 KiB arrays. */
    static void garbage() {
        for (int i = 0; i < 16; i++) {
            byte[] b = new byte[64 << 10];
            for (int j = 0; j < b.length; j += 4096) b[j] = 1;
            sink = b;
        }
    }

    static void growTo(ArrayList<byte[]> h, int n) {
        while (h.size() < n) {
            byte[] b = new byte[MIB];
            for (int j = 0; j < b.length; j += 4096) b[j] = 1;
            h.add(b);
        }
    }

    /* The group's memory against the heap: memory outside the heap is memory.current (or anon) minus the
     * heap committed, since committed heap pages are charged to the group once touched. */
    static final class Sampler extends Thread {
        final Path dir;
        final MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long maxCommitted, maxUsed, maxNonHeap, maxOutside, maxAnonOutside;

        Sampler() throws IOException {
            String line = Files.readAllLines(Path.of("/proc/self/cgroup")).get(0);
            dir = Path.of("/sys/fs/cgroup" + line.substring(line.indexOf("::") + 2));
            setDaemon(true);
        }

        long read(String file) throws IOException {
            return Long.parseLong(Files.readString(dir.resolve(file)).trim());
        }

        long anon() throws IOException {
            for (String l : Files.readAllLines(dir.resolve("memory.stat")))
                if (l.startsWith("anon ")) return Long.parseLong(l.substring(5).trim());
            return 0;
        }

        synchronized void sample() throws IOException {
            long committed = mem.getHeapMemoryUsage().getCommitted();
            maxCommitted = Math.max(maxCommitted, committed);
            maxUsed = Math.max(maxUsed, mem.getHeapMemoryUsage().getUsed());
            maxNonHeap = Math.max(maxNonHeap, mem.getNonHeapMemoryUsage().getCommitted());
            maxOutside = Math.max(maxOutside, read("memory.current") - committed);
            maxAnonOutside = Math.max(maxAnonOutside, anon() - committed);
        }

        @Override
        public void run() {
            try {
                for (;;) {
                    sample();
                    Thread.sleep(20);
                }
            } catch (IOException | InterruptedException e) {
                System.err.println("sampler: " + e);
            }
        }

        static String m(long b) {
            return String.format("%.1f", b / (double) MIB);
        }

        synchronized void report() throws IOException {
            sample();
            StringBuilder gcs = new StringBuilder();
            for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
                gcs.append(gcs.length() > 0 ? "+" : "").append(b.getName().replace(' ', '_'));
            long peak = read("memory.peak");
            System.err.printf("overhead gc=%s max_heap_mib=%s peak_mib=%s max_committed_mib=%s max_used_mib=%s "
                    + "peak_minus_committed_mib=%s max_current_minus_committed_mib=%s "
                    + "max_anon_minus_committed_mib=%s max_nonheap_committed_mib=%s%n",
                    gcs, m(Runtime.getRuntime().maxMemory()), m(peak), m(maxCommitted), m(maxUsed),
                    m(peak - maxCommitted), m(maxOutside), m(maxAnonOutside), m(maxNonHeap));
        }
    }

    /* How much of total the work done calls for: all of it at by% of the work. */
    static int fraction(int total, int work, int of, int by) {
        return (int) Math.min(total, (long) total * work * 100 / ((long) of * by));
    }

    static Map<String, String> flags(String[] a) {
        Map<String, String> m = new HashMap<>();
        for (int i = 1; i + 1 < a.length; i += 2) m.put(a[i].replaceFirst("^-+", ""), a[i + 1]);
        return m;
    }

    static int num(Map<String, String> f, String k, int def) {
        return f.containsKey(k) ? Integer.parseInt(f.get(k)) : def;
    }

    public static void main(String[] a) throws IOException {
        if (a.length < 1) {
            System.err.println("usage: Bench steady|outside|offheap [-flag value]...");
            System.exit(64);
        }
        Map<String, String> f = flags(a);
        int work = num(f, "work", 600);
        Sampler sampler = null;
        if (Boolean.getBoolean("bench.sample")) {
            sampler = new Sampler();
            sampler.start();
        }
        switch (a[0]) {
            case "steady": {
                int live = num(f, "live", 150);
                for (int w = 0; w < work; w++) {
                    growTo(h, fraction(live, w, work, 60));
                    garbage();
                    progress(w);
                }
                break;
            }
            case "outside": {
                int total = num(f, "outside", 150), step = num(f, "step", 5), grown = 0;
                growTo(h, num(f, "live", 60));
                File file = File.createTempFile("bench-shm-", "", new File(f.getOrDefault("dir", "/dev/shm")));
                file.deleteOnExit();
                byte[] buf = new byte[MIB];
                try (FileOutputStream out = new FileOutputStream(file)) {
                    for (int w = 0; w < work; w++) {
                        if (grown < fraction(total, w, work, 90)) {
                            for (int i = 0; i < step; i++) out.write(buf);
                            grown += step;
                        }
                        garbage();
                        progress(w);
                    }
                }
                break;
            }
            case "offheap": {
                // Direct buffers grow to -direct MiB in the first 60% of the work and stay live; each step
                // also drops one (only a GC frees its memory) and makes a MiB of heap garbage.
                int live = num(f, "live", 60), direct = num(f, "direct", 120);
                ArrayList<ByteBuffer> buffers = new ArrayList<>();
                growTo(h, live);
                for (int w = 0; w < work; w++) {
                    while (buffers.size() < fraction(direct, w, work, 60)) buffers.add(touched(ByteBuffer.allocateDirect(MIB)));
                    touched(ByteBuffer.allocateDirect(MIB));
                    garbage();
                    progress(w);
                }
                break;
            }
            default:
                System.err.println("Bench: unknown shape " + a[0]);
                System.exit(64);
        }
        done(work);
        if (sampler != null) sampler.report();
    }

    static ByteBuffer touched(ByteBuffer b) {
        for (int j = 0; j < b.capacity(); j += 4096) b.put(j, (byte) 1);
        return b;
    }
}
