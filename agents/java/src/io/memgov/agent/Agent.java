// SPDX-License-Identifier: MIT
package io.memgov.agent;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationFilter;
import javax.management.NotificationListener;

/**
 * memgov's agent for the JVM: speaks docs/protocol.md with the memgov that runs this JVM. Loaded without
 * code changes with -javaagent:memgov-agent.jar in JAVA_TOOL_OPTIONS, which memgov adds when it detects
 * java (docs/runtimes.md). Java cannot adopt an inherited socket descriptor, so this agent connects to
 * MEMGOV_SOCKET (memgov offers it for JVM children); with MEMGOV_FD alone it says so once and does nothing.
 *
 * <p>A target sets SoftMaxHeapSize where the collector honours it (ZGC, Shenandoah) and, for every
 * collector, MinHeapFreeRatio/MaxHeapFreeRatio by level, so the heap shrinks after collections under
 * pressure. gc and release run System.gc(). The agent's three threads (the reader, the reporter that
 * also answers stats?, and the chores thread that runs gc, release and capture) are daemons: the agent
 * never keeps the JVM alive and never throws into the application.
 */
public final class Agent implements Runnable {
    static final int PROTO_VERSION = 1;
    static final int LINE_MAX = 4096;
    static final String SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~,:/+-";

    /** Listeners for applications: (level, bytes or -1 for max) on target; (level, null) on shed. */
    private static final List<BiConsumer<String, Long>> listeners = new CopyOnWriteArrayList<>();

    /* The last target's level and bytes: a listener registered after it came hears it at once, since the
     * agent's thread may connect and get its first target before main has registered anything. */
    private static String lastLevel;
    private static Long lastBytes;

    public static void onMemoryPressure(BiConsumer<String, Long> listener) {
        synchronized (listeners) {
            listeners.add(listener);
            if (lastLevel != null)
                call(listener, lastLevel, lastBytes);
        }
    }

    private final String path;
    private final long intervalMs;
    private final HotSpotDiagnosticMXBean hotspot;
    private final boolean softMax;
    private final String minFree0;
    private final String maxFree0;
    /* Looked up once: each ManagementFactory call builds new bean objects and lists, on every report. */
    private final List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
    private final List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
    private final List<BufferPoolMXBean> buffers = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    private SocketChannel channel;
    private long lastGcMs;
    private long lastCpuNs;
    /** Reports: after each collection (at most one per REPORT_MIN_MS), else every intervalMs. */
    static final long REPORT_MIN_MS = 10;
    /** gc-cycle samples, which memgov keeps in a ring of 256 for the post-mortem: at most one a second. */
    static final long GC_CYCLE_MIN_MS = 1000;
    private final Object wake = new Object();
    private boolean collected, asked; // guarded by wake
    /* One report at a time, its lines in the order taken. Never held by send(): a target's reply does not
     * wait for the MXBeans to be read. */
    private final Object statsLock = new Object();
    private long lastReportMs;
    /** Set by tests only: runs as each report begins. */
    static volatile Runnable sampleHook;
    private long cycleCount, cycleAtMs, cycleGcMs, cycleCpuNs;
    /* gc, release and capture last as long as a full collection (a heap dump runs one first): the chores
     * thread runs them in order, off the reader, so a target memgov sends after a gc is applied meanwhile.
     * A gc or release asked while one waits is that one. */
    static final int CHORE_QUEUE = 8;
    private final BlockingQueue<Runnable> chores = new ArrayBlockingQueue<>(CHORE_QUEUE);
    private final AtomicBoolean collectWaits = new AtomicBoolean();
    private final Runnable collect = System::gc;
    /** Set by tests only: runs as each chore begins. */
    static volatile Runnable choreHook;

    public static void premain(String args, Instrumentation inst) {
        start();
    }

    public static void agentmain(String args, Instrumentation inst) {
        start();
    }

    private static void start() {
        try {
            String path = System.getenv("MEMGOV_SOCKET");
            if (path == null || path.isEmpty()) {
                if (System.getenv("MEMGOV_FD") != null)
                    log("MEMGOV_FD cannot be adopted from Java; run memgov with --agent-socket (MEMGOV_SOCKET)");
                return;
            }
            // The MXBeans are looked up on the agent's thread, not in premain: main need not wait for them.
            final String interval = System.getenv("MEMGOV_STATS_INTERVAL");
            Thread t = new Thread(new Runnable() {
                @Override
                public void run() {
                    Agent a;
                    try {
                        a = new Agent(path, interval);
                    } catch (Throwable e) {
                        log("not started: " + e);
                        return;
                    }
                    a.run();
                }
            }, "memgov-agent");
            t.setDaemon(true);
            t.start();
        } catch (Throwable e) {
            log("not started: " + e);
        }
    }

    static void log(String msg) {
        System.err.println("memgov-agent: " + msg);
    }

    Agent(String path, String interval) {
        this.path = path;
        this.intervalMs = parseInterval(interval);
        this.hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        boolean soft = false;
        for (GarbageCollectorMXBean gc : gcs) {
            String n = gc.getName();
            if (n.startsWith("ZGC") || n.startsWith("Shenandoah"))
                soft = true;
        }
        this.softMax = soft;
        this.minFree0 = option("MinHeapFreeRatio");
        this.maxFree0 = option("MaxHeapFreeRatio");
        watchCollections();
    }

    /** A collection changes what the heap holds: it wakes the reporter (HotSpot's GC notifications). */
    private void watchCollections() {
        for (GarbageCollectorMXBean gc : gcs) {
            if (!(gc instanceof NotificationEmitter))
                continue;
            ((NotificationEmitter) gc).addNotificationListener(new NotificationListener() {
                @Override
                public void handleNotification(Notification n, Object hb) {
                    synchronized (wake) {
                        collected = true;
                        wake.notifyAll();
                    }
                }
            }, new NotificationFilter() {
                private static final long serialVersionUID = 1L;

                @Override
                public boolean isNotificationEnabled(Notification n) {
                    return "com.sun.management.gc.notification".equals(n.getType());
                }
            }, null);
        }
    }

    static long parseInterval(String s) {
        if (s == null || s.isEmpty())
            return 1000;
        try {
            if (s.endsWith("ms"))
                return Math.round(Double.parseDouble(s.substring(0, s.length() - 2)));
            if (s.endsWith("m"))
                return Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 60000);
            if (s.endsWith("s"))
                return Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000);
            return Math.round(Double.parseDouble(s) * 1000);
        } catch (NumberFormatException e) {
            log("MEMGOV_STATS_INTERVAL=" + s + " is not a duration, using 1s");
            return 1000;
        }
    }

    private String option(String name) {
        try {
            return hotspot.getVMOption(name).getValue();
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void run() {
        long backoff = 250;
        for (;;) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(path));
                backoff = 250;
                synchronized (this) {
                    channel = ch;
                }
                serve(ch);
            } catch (Malformed e) {
                log("malformed line from memgov: " + e.getMessage() + ", closing the connection");
            } catch (IOException e) {
                // memgov gone or not yet there: retry below
            } catch (Throwable e) {
                log("closing the connection: " + e);
            }
            synchronized (this) {
                channel = null;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            backoff = Math.min(backoff * 2, 30000);
        }
    }

    private void serve(SocketChannel ch) throws IOException, Malformed {
        String caps = "limit,gc,release,shed,stats,capture";
        send("hello v=" + PROTO_VERSION + " runtime=java version=" + encode(Runtime.version().toString())
                + " pid=" + ProcessHandle.current().pid() + " caps=" + caps);
        // The reporter also answers stats?, so that the reader never waits for the MXBeans.
        Thread stats = new Thread(new Runnable() {
            @Override
            public void run() {
                reportLoop();
            }
        }, "memgov-agent-stats");
        stats.setDaemon(true);
        stats.start();
        chores.clear(); // a connection's chores end with it
        collectWaits.set(false);
        Thread work = new Thread(new Runnable() {
            @Override
            public void run() {
                choreLoop();
            }
        }, "memgov-agent-chores");
        work.setDaemon(true);
        work.start();
        try {
            ByteBuffer buf = ByteBuffer.allocate(LINE_MAX);
            for (;;) {
                if (ch.read(buf) < 0)
                    return;
                buf.flip();
                int start = 0;
                for (int i = 0; i < buf.limit(); i++) {
                    if (buf.get(i) != '\n')
                        continue;
                    byte[] line = new byte[i - start];
                    buf.get(start, line);
                    start = i + 1;
                    if (handle(Proto.parse(line)))
                        return;
                }
                buf.position(start);
                buf.compact();
                if (!buf.hasRemaining())
                    throw new Malformed("line longer than " + LINE_MAX + " bytes");
            }
        } finally {
            stats.interrupt();
            work.interrupt();
        }
    }

    private void choreLoop() {
        try {
            for (;;) {
                Runnable r = chores.take();
                if (r == collect)
                    collectWaits.set(false);
                Runnable hook = choreHook;
                if (hook != null)
                    hook.run();
                r.run();
            }
        } catch (InterruptedException e) {
            // connection closed
        }
    }

    /**
     * The reporter: at once after hello (memgov steers an agent only once it has its stats), then after each
     * collection, at most one report per REPORT_MIN_MS, and when intervalMs passed without one; and at once
     * when memgov asks (stats?). With no interval (intervalMs <= 0) it reports only when asked.
     */
    private void reportLoop() {
        boolean periodic = intervalMs > 0;
        try {
            if (periodic)
                report();
            for (;;) {
                boolean now;
                synchronized (wake) {
                    for (;;) {
                        if (asked)
                            break;
                        long left = periodic ? lastReportMs + intervalMs - System.currentTimeMillis() : 0;
                        if (periodic && (collected || left <= 0))
                            break;
                        wake.wait(left);
                    }
                    now = asked;
                    asked = false;
                    collected = false;
                }
                long early = lastReportMs + REPORT_MIN_MS - System.currentTimeMillis();
                if (!now && early > 0)
                    Thread.sleep(early);
                report();
            }
        } catch (InterruptedException | IOException e) {
            // connection closed or agent stopping
        }
    }

    /** stats?: the reporter answers; asks made while one is pending share its answer. */
    private void ask() {
        synchronized (wake) {
            asked = true;
            wake.notifyAll();
        }
    }

    /** A stats line, and a gc-cycle sample when collections ran since the last one and a second passed. */
    private void report() throws IOException {
        synchronized (statsLock) {
            Runnable hook = sampleHook;
            if (hook != null)
                hook.run();
            reportLocked();
        }
    }

    private void reportLocked() throws IOException {
        lastReportMs = System.currentTimeMillis();
        send(statsLine());
        long count = 0, gcMs = 0, cpuNs = cpuNs();
        for (GarbageCollectorMXBean gc : gcs) {
            count += Math.max(0, gc.getCollectionCount());
            gcMs += Math.max(0, gc.getCollectionTime());
        }
        if (count == cycleCount || lastReportMs - cycleAtMs < GC_CYCLE_MIN_MS)
            return;
        double frac = cpuNs > cycleCpuNs ? Math.min(1.0, (gcMs - cycleGcMs) * 1e6 / (cpuNs - cycleCpuNs)) : 0;
        send("gc-cycle count=" + count + " heap_goal_bytes="
                + memory.getHeapMemoryUsage().getCommitted() + " heap_live_bytes="
                + liveBytes() + " gc_cpu_fraction=" + String.format(Locale.ROOT, "%.6f", Math.max(0, frac)));
        cycleCount = count;
        cycleAtMs = lastReportMs;
        cycleGcMs = gcMs;
        cycleCpuNs = cpuNs;
    }

    private long cpuNs() {
        if (os instanceof com.sun.management.OperatingSystemMXBean)
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        return 0;
    }

    /** The heap pools' use after their last collection: the nearest to "live" the JVM tells. */
    private long liveBytes() {
        long live = 0;
        for (MemoryPoolMXBean p : pools) {
            MemoryUsage after = p.getType() == MemoryType.HEAP ? p.getCollectionUsage() : null;
            if (after != null)
                live += after.getUsed();
        }
        return live;
    }

    private void send(String line) throws IOException {
        synchronized (this) {
            if (channel == null)
                throw new IOException("not connected");
            ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining())
                channel.write(b);
        }
    }

    /** Returns true on bye. */
    private boolean handle(Proto.Message m) throws IOException, Malformed {
        switch (m.type) {
        case "welcome":
            if (m.u64("v") != PROTO_VERSION) {
                send("bye reason=version");
                throw new Malformed("memgov speaks protocol version " + m.get("v"));
            }
            return false;
        case "target":
            applyTarget(m);
            return false;
        case "gc":
        case "release":
            if (collectWaits.compareAndSet(false, true) && !chores.offer(collect))
                collectWaits.set(false);
            return false;
        case "shed":
            notifyListeners(m.level("level"), null);
            return false;
        case "stats?":
            ask();
            return false;
        case "capture":
            capture(m);
            return false;
        case "bye":
            return true;
        default:
            return false;
        }
    }

    /** What is wrong with a capture request (docs/protocol.md, "Captures"), or null. */
    static String checkCapture(String kind, String path) {
        if (kind == null || kind.isEmpty())
            return "capture kind missing";
        if (!kind.equals("heap"))
            return "unknown capture kind '" + kind + "' (only heap is known)";
        if (path == null || path.isEmpty())
            return "capture path missing";
        if (!path.startsWith("/"))
            return "capture path '" + path + "' not absolute";
        if (path.length() > 1024)
            return "capture path longer than 1024 bytes";
        if (path.endsWith("/"))
            return "capture path '" + path + "' names a directory";
        for (String c : path.split("/"))
            if (c.equals(".") || c.equals(".."))
                return "capture path '" + path + "' with a . or .. component";
        return null;
    }

    /* A heap dump of the live objects (a full GC first, inside dumpHeap), a chore. A request that cannot be
     * carried out is answered with error=: the connection and the program go on. */
    private void capture(Proto.Message m) throws IOException, Malformed {
        long seq = m.u64("seq");
        String path = m.get("path");
        String why = checkCapture(m.get("kind"), path);
        if (why == null) {
            Runnable dump = new Runnable() {
                @Override
                public void run() {
                    String answer;
                    try {
                        hotspot.dumpHeap(path, true);
                        long size = java.nio.file.Files.size(java.nio.file.Path.of(path));
                        answer = "path=" + encode(path) + " bytes=" + size;
                    } catch (IOException | RuntimeException e) {
                        answer = "error=" + encode("dumpHeap " + path + ": " + e);
                    }
                    try {
                        send("captured seq=" + seq + " " + answer);
                    } catch (IOException e) {
                        // connection closed
                    }
                }
            };
            if (chores.offer(dump))
                return;
            why = CHORE_QUEUE + " requests already wait for the agent";
        }
        send("captured seq=" + seq + " error=" + encode(why));
    }

    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux");

    /**
     * applied's at_us=: on Linux HotSpot's nanoTime is CLOCK_MONOTONIC, memgov's clock, so memgov times a target
     * to when the JVM had it rather than to when its own loop read the answer. memgov ignores a stamp outside
     * the send and the arrival (docs/protocol.md); elsewhere there is none.
     */
    static String appliedAt() {
        return LINUX ? " at_us=" + System.nanoTime() / 1000 : "";
    }

    private void applyTarget(Proto.Message m) throws IOException, Malformed {
        long seq = m.u64("seq");
        long bytes = m.limit("bytes"); // -1: max
        String level = m.level("level");
        String applied = bytes < 0 ? "max" : Long.toUnsignedString(bytes);
        long maxHeap = memory.getHeapMemoryUsage().getMax();
        if (softMax && maxHeap > 0) {
            long soft = bytes < 0 || Long.compareUnsigned(bytes, maxHeap) > 0 ? maxHeap : bytes;
            try {
                hotspot.setVMOption("SoftMaxHeapSize", Long.toString(soft));
                String now = option("SoftMaxHeapSize");
                if (now != null)
                    applied = bytes < 0 && Long.parseLong(now) == maxHeap ? "max" : now;
            } catch (RuntimeException e) {
                log("cannot set SoftMaxHeapSize: " + e.getMessage());
            }
        }
        setFreeRatios(level);
        send("applied seq=" + seq + " limit_bytes=" + applied + appliedAt() + " x-max-heap-bytes="
                + Math.max(0, maxHeap) + " x-soft-max=" + (softMax ? "yes" : "no"));
        synchronized (listeners) {
            lastLevel = level;
            lastBytes = bytes;
            notifyListeners(level, bytes);
        }
    }

    /* Under pressure the heap keeps less free space after a collection: G1 and Parallel shrink towards
     * it. At ok, the JVM's own values come back. */
    private void setFreeRatios(String level) {
        String min = minFree0, max = maxFree0;
        if (level.equals("elevated")) {
            min = "10";
            max = "30";
        } else if (level.equals("critical")) {
            min = "5";
            max = "10";
        }
        if (min == null || max == null)
            return;
        try {
            // Min must stay <= Max at every step: lower Min first when shrinking, raise Max first otherwise.
            if (Integer.parseInt(min) <= Integer.parseInt(option("MinHeapFreeRatio"))) {
                hotspot.setVMOption("MinHeapFreeRatio", min);
                hotspot.setVMOption("MaxHeapFreeRatio", max);
            } else {
                hotspot.setVMOption("MaxHeapFreeRatio", max);
                hotspot.setVMOption("MinHeapFreeRatio", min);
            }
        } catch (RuntimeException e) {
            log("cannot set the heap free ratios: " + e.getMessage());
        }
    }

    private static void notifyListeners(String level, Long bytes) {
        for (BiConsumer<String, Long> l : listeners)
            call(l, level, bytes);
    }

    private static void call(BiConsumer<String, Long> l, String level, Long bytes) {
        try {
            l.accept(level, bytes);
        } catch (Throwable e) {
            log("a memory-pressure listener threw: " + e);
        }
    }

    String statsLine() {
        MemoryUsage heap = memory.getHeapMemoryUsage(), nonHeap = memory.getNonHeapMemoryUsage();
        long direct = 0;
        for (BufferPoolMXBean p : buffers)
            direct += Math.max(0, p.getMemoryUsed());
        long live = liveBytes();
        long gcCount = 0, gcMs = 0;
        for (GarbageCollectorMXBean gc : gcs) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMs += Math.max(0, gc.getCollectionTime());
        }
        long cpuNs = cpuNs();
        double frac = 0;
        if (cpuNs > lastCpuNs)
            frac = Math.min(1.0, (gcMs - lastGcMs) * 1e6 / (cpuNs - lastCpuNs));
        lastGcMs = gcMs;
        lastCpuNs = cpuNs;
        long total = heap.getCommitted() + nonHeap.getCommitted() + direct;
        return "stats total_bytes=" + Math.max(1, total) + " heap_live_bytes=" + live + " gc_count=" + gcCount
                + " gc_cpu_fraction=" + String.format(Locale.ROOT, "%.6f", Math.max(0, frac))
                + " x-heap-committed=" + heap.getCommitted() + " x-heap-used=" + heap.getUsed()
                + " x-nonheap-committed=" + nonHeap.getCommitted() + " x-direct=" + direct;
    }

    static String encode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            if (SAFE.indexOf(c & 0xff) >= 0 && c > 0)
                b.append((char) c);
            else
                b.append(String.format(Locale.ROOT, "%%%02X", c & 0xff));
        }
        return b.toString();
    }

    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String why) {
            super(why);
        }
    }

    /** The protocol's line format: parse and check, as policy/proto.c does. */
    static final class Proto {
        static final class Message {
            final String type;
            final Map<String, String> fields = new HashMap<>();

            Message(String type) {
                this.type = type;
            }

            String get(String k) {
                return fields.get(k);
            }

            String need(String k) throws Malformed {
                String v = fields.get(k);
                if (v == null)
                    throw new Malformed(type + " without " + k + "=");
                return v;
            }

            long u64(String k) throws Malformed {
                String v = need(k);
                if (v.isEmpty() || !allDigits(v))
                    throw new Malformed("bad number in " + k + "=");
                try {
                    return Long.parseUnsignedLong(v);
                } catch (NumberFormatException e) {
                    throw new Malformed("number out of range in " + k + "=");
                }
            }

            long limit(String k) throws Malformed {
                return "max".equals(need(k)) ? -1 : u64(k);
            }

            String level(String k) throws Malformed {
                String v = need(k);
                if (!v.equals("ok") && !v.equals("elevated") && !v.equals("critical"))
                    throw new Malformed("bad level");
                return v;
            }
        }

        static Message parse(byte[] line) throws Malformed {
            if (line.length == 0)
                throw new Malformed("empty line");
            if (line.length >= LINE_MAX)
                throw new Malformed("line too long");
            for (byte c : line)
                if (c < 0x20 || c == 0x7f)
                    throw new Malformed("byte outside printable ASCII");
            String[] tokens = new String(line, StandardCharsets.US_ASCII).split(" ", -1);
            if (tokens[0].length() > 32 || !tokens[0].matches("[a-z][a-z0-9_-]*\\??"))
                throw new Malformed("bad message type");
            Message m = new Message(tokens[0]);
            for (int i = 1; i < tokens.length; i++) {
                String t = tokens[i];
                int eq = t.indexOf('=');
                if (t.isEmpty() || eq < 0)
                    throw new Malformed("bad key=value");
                String k = t.substring(0, eq);
                if (k.length() > 64 || !k.matches("[a-z][a-z0-9_-]*"))
                    throw new Malformed("bad key");
                if (m.fields.containsKey(k))
                    throw new Malformed("duplicate key");
                if (m.fields.size() >= 32)
                    throw new Malformed("too many key=value pairs");
                m.fields.put(k, decode(t.substring(eq + 1)));
            }
            return m;
        }

        /* Loops, not String.chars() streams: a stream's lambda bootstraps java.lang.invoke at the agent's
         * first message, which is seconds of class loading in an interpreter (docs/runtimes.md). */
        static boolean allDigits(String v) {
            for (int i = 0; i < v.length(); i++)
                if (v.charAt(i) < '0' || v.charAt(i) > '9')
                    return false;
            return true;
        }

        static boolean hasControl(String s) {
            for (int i = 0; i < s.length(); i++) {
                char ch = s.charAt(i);
                if (ch < 0x20 || (ch >= 0x7f && ch <= 0x9f))
                    return true;
            }
            return false;
        }

        static String decode(String raw) throws Malformed {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (SAFE.indexOf(c) >= 0) {
                    out.write(c);
                    continue;
                }
                if (c != '%')
                    throw new Malformed("character not allowed in a value");
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0)
                    throw new Malformed("bad percent-encoding");
                int v = hi << 4 | lo;
                if (v == 0)
                    throw new Malformed("%00 in a value");
                out.write(v);
                i += 2;
            }
            String s;
            try {
                s = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(out.toByteArray())).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new Malformed("value is not UTF-8 text");
            }
            if (hasControl(s))
                throw new Malformed("value is not UTF-8 text");
            return s;
        }
    }
}
