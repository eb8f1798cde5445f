// The JVM program of memgov's benchmark matrix (bench/matrix.sh): the steady
// and outside shapes of bench/workload/main.go, with the same options and the
// same lines on stdout. Outside memory is a file in a tmpfs (shmem pages the
// JVM does not see). gc_cpu is the collectors' accumulated collection time
// over the process's CPU time: an approximation (collection time is wall time).
import com.sun.management.OperatingSystemMXBean;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
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
            System.err.println("usage: Bench steady|outside [-flag value]...");
            System.exit(64);
        }
        Map<String, String> f = flags(a);
        int work = num(f, "work", 600);
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
            default:
                System.err.println("Bench: unknown shape " + a[0]);
                System.exit(64);
        }
        done(work);
    }
}
