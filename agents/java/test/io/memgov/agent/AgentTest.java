// SPDX-License-Identifier: MIT
package io.memgov.agent;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent against a fake memgov on a Unix socket. A target is applied while a stats report is under way:
 * the reader hands stats? to the reporter, and a report holds no lock that the reply to a target needs. A
 * target is applied while a gc runs: gc, release and capture are chores, run in order off the reader, and a
 * gc asked while one waits is that one. Exits 0 when that holds, 1 (with the reason) when not.
 */
public final class AgentTest {
    private static final long WAIT_S = 10;

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("memgov-agent-test");
        Path sock = dir.resolve("s");
        Path dump = dir.resolve("after-gc.hprof");
        try (ServerSocketChannel srv = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            srv.bind(UnixDomainSocketAddress.of(sock));
            CountDownLatch sampling = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            Agent.sampleHook = new Runnable() {
                @Override
                public void run() {
                    sampling.countDown();
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            // No interval: the only report is the answer to stats?.
            Thread agent = new Thread(new Agent(sock.toString(), "0"), "memgov-agent");
            agent.setDaemon(true);
            agent.start();
            try (SocketChannel c = srv.accept()) {
                BlockingQueue<String> lines = reader(c);
                expect(lines, "hello");
                send(c, "welcome v=1 id=1");
                send(c, "stats? seq=2");
                if (!sampling.await(WAIT_S, TimeUnit.SECONDS))
                    fail("stats? did not start a report");
                long before = System.nanoTime() / 1000;
                send(c, "target seq=3 bytes=123456789 level=ok");
                String applied = expect(lines, "applied");
                if (!applied.contains(" seq=3 "))
                    fail("applied the wrong target: " + applied);
                checkAppliedAt(applied, before, System.nanoTime() / 1000);
                gate.countDown();
                expect(lines, "stats");

                CountDownLatch collecting = new CountDownLatch(1);
                CountDownLatch gcGate = new CountDownLatch(1);
                AtomicInteger chores = new AtomicInteger();
                Agent.choreHook = new Runnable() {
                    @Override
                    public void run() {
                        if (chores.incrementAndGet() != 1)
                            return;
                        collecting.countDown();
                        try {
                            gcGate.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                };
                send(c, "gc seq=4");
                if (!collecting.await(WAIT_S, TimeUnit.SECONDS))
                    fail("gc did not start a chore");
                send(c, "gc seq=5");
                send(c, "release seq=6"); // the same collection as seq=5, which has not begun
                send(c, "target seq=7 bytes=123456789 level=ok");
                applied = expect(lines, "applied");
                if (!applied.contains(" seq=7 "))
                    fail("applied the wrong target: " + applied);
                send(c, "capture seq=8 kind=heap path=" + dump);
                gcGate.countDown();
                String captured = expect(lines, "captured");
                if (!captured.startsWith("captured seq=8 path="))
                    fail("capture: " + captured);
                if (chores.get() != 3)
                    fail(chores.get() + " chores ran, want 3 (gc, the later gc and release as one, capture)");
            }
        } finally {
            Files.deleteIfExists(dump);
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
        System.out.println("ok: targets were applied while a stats report and a gc were under way");
    }

    /** On Linux an applied carries at_us=, taken between the send and the arrival (the clock memgov reads it on). */
    private static void checkAppliedAt(String applied, long before, long after) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" at_us=([0-9]+)( |$)").matcher(applied);
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            if (m.find())
                fail("at_us= where the clock is not memgov's: " + applied);
            return;
        }
        if (!m.find())
            fail("applied without at_us=: " + applied);
        long at = Long.parseLong(m.group(1));
        if (at < before || at > after)
            fail("applied at_us=" + at + ", not between the send (" + before + ") and the arrival (" + after + ")");
    }

    private static void fail(String why) {
        System.err.println("AgentTest: " + why);
        System.exit(1);
    }

    private static void send(SocketChannel c, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining())
            c.write(b);
    }

    /** The agent's lines, read on a daemon thread: a SocketChannel has no read timeout. */
    private static BlockingQueue<String> reader(SocketChannel c) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                ByteBuffer buf = ByteBuffer.allocate(Agent.LINE_MAX);
                StringBuilder line = new StringBuilder();
                try {
                    while (c.read(buf) >= 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            char ch = (char) buf.get();
                            if (ch != '\n') {
                                line.append(ch);
                                continue;
                            }
                            q.add(line.toString());
                            line.setLength(0);
                        }
                        buf.clear();
                    }
                } catch (IOException e) {
                    // closed
                }
            }
        }, "fake-memgov-reader");
        t.setDaemon(true);
        t.start();
        return q;
    }

    /** The next line of type typ, skipping others; fails after WAIT_S. */
    private static String expect(BlockingQueue<String> lines, String typ) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        for (;;) {
            String l = lines.poll(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null)
                fail("no " + typ + " line within " + WAIT_S + " s");
            if (l.equals(typ) || l.startsWith(typ + " "))
                return l;
        }
    }
}
