#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Conformance driver: plays memgov against any agent program.

    conformance.py --name go -- path/to/agent-program [args...]

The program is started with one end of a socketpair in MEMGOV_FD (and, in
one round, with MEMGOV_SOCKET instead) and taken through docs/protocol.md:
handshake, target and its acknowledgement, gc, release, stats on request,
shed, input it must ignore, malformed input (it must close the connection
and live on), bye, and reconnecting over a path socket.

The program should print "event target bytes=N level=L" and "event shed
level=L" lines on standard output from its callbacks (as the demo programs
do); those lines are checked too. The protocol is parsed here independently
of the C and Go implementations, so this also checks they agree.

Prints one line per check and "conformance-NAME: N passed, N failed".
"""

import argparse
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

LINE_MAX = 4096
# Waits for what must come are limits, not measures: stretched so that a loaded machine (a JIT warming up
# on shared cores) is not a failure. Waits for what must not come keep their own short windows.
SLACK = float(os.environ.get("MEMGOV_TEST_SLACK", "4"))
SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~,:/+-")
TYPE_RE = re.compile(r"^[a-z][a-z0-9_-]*\??$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
U64_RE = re.compile(r"^[0-9]+$")
FRACTION_RE = re.compile(r"^[0-9]+(\.[0-9]{1,18})?$")


class Malformed(Exception):
    pass


def parse_line(raw: bytes):
    """One line without its newline -> (type, {key: value}); raises Malformed."""
    if not raw:
        raise Malformed("empty line")
    if len(raw) >= LINE_MAX:
        raise Malformed("line too long")
    if any(c < 0x20 or c > 0x7E for c in raw):
        raise Malformed("byte outside printable ASCII")
    tokens = raw.decode("ascii").split(" ")
    typ = tokens[0]
    if not TYPE_RE.match(typ) or len(typ) > 32:
        raise Malformed(f"bad type {typ!r}")
    fields = {}
    for tok in tokens[1:]:
        if "=" not in tok:
            raise Malformed(f"no '=' in {tok!r}")
        key, value = tok.split("=", 1)
        if not KEY_RE.match(key) or len(key) > 64:
            raise Malformed(f"bad key {key!r}")
        if key in fields:
            raise Malformed(f"duplicate key {key!r}")
        out = bytearray()
        i = 0
        vb = value.encode("ascii")
        while i < len(vb):
            c = vb[i]
            if c in SAFE:
                out.append(c)
                i += 1
            elif c == ord("%") and i + 2 < len(vb) and re.match(rb"[0-9A-Fa-f]{2}", vb[i + 1 : i + 3]):
                b = int(vb[i + 1 : i + 3], 16)
                if b == 0:
                    raise Malformed("%00")
                out.append(b)
                i += 3
            else:
                raise Malformed(f"bad character in value {value!r}")
        try:
            text = out.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("value is not UTF-8")
        if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
            raise Malformed("control character in value")
        fields[key] = text
    if len(fields) > 32:
        raise Malformed("too many fields")
    return typ, fields


def u64(fields, key):
    v = fields.get(key)
    if v is None or not U64_RE.match(v) or int(v) >= 1 << 64:
        raise Malformed(f"{key}={v!r} is not a u64")
    return int(v)


def limit(fields, key):
    return "max" if fields.get(key) == "max" else u64(fields, key)


class Checks:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print(f"ok   - {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL - {what}", flush=True)
        return cond


class Agent:
    """The agent program and memgov's end of its channel."""

    def __init__(self, argv, env_extra, sock=None, pass_fds=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMGOV_")}
        env.update(env_extra)
        self.proc = subprocess.Popen(argv, env=env, pass_fds=pass_fds, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self.sock = sock
        self.buf = b""
        self.events = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.events.put(line.decode(errors="replace").strip())

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_line(self, timeout):
        """Next line (bytes, no newline), None on timeout, b'' marker -> EOF raises EOFError."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                raise EOFError
            self.buf += data
            if len(self.buf) > LINE_MAX and b"\n" not in self.buf[:LINE_MAX]:
                raise Malformed("agent sent a line longer than 4096 bytes")
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def expect(self, typ, timeout=5.0, skip=("stats",)):
        """Next message of type typ, skipping types in skip and gc-cycle samples (which follow a stats
        whenever a GC ran, and are checked on their own). (type, fields) or None."""
        end = time.monotonic() + timeout * SLACK
        while True:
            line = self.recv_line(max(0.0, end - time.monotonic()))
            if line is None:
                return None
            t, f = parse_line(line)
            if t == typ:
                return t, f
            if t == "gc-cycle":
                if typ != "gc-cycle" and "count" not in f:
                    raise Malformed(f"gc-cycle without count=: {line!r}")
                continue
            if t not in skip:
                raise Malformed(f"expected {typ}, got {line!r}")

    def eof(self, timeout):
        """Whether the agent closed its end within timeout (lines on the way are dropped)."""
        end = time.monotonic() + timeout * SLACK
        try:
            while time.monotonic() < end:
                if self.recv_line(end - time.monotonic()) is None:
                    return False
        except EOFError:
            return True
        return False

    def event(self, prefix, timeout=3.0):
        end = time.monotonic() + timeout * SLACK
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if e.startswith(prefix):
                return e

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def start_fd(argv, env_extra):
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = theirs.fileno()
    env = {"MEMGOV_FD": str(fd)}
    env.update(env_extra)
    a = Agent(argv, env, sock=ours, pass_fds=(fd,))
    theirs.close()
    return a, fd


def handshake(c, a, label):
    try:
        hello = a.expect("hello", timeout=10.0, skip=())
    except (Malformed, EOFError, OSError) as e:
        c.check(False, f"{label}: hello ({e})")
        return None
    if not c.check(hello is not None, f"{label}: hello within 10 s"):
        return None
    _, f = hello
    c.check(u64(f, "v") >= 1, f"{label}: hello v={f.get('v')}")
    c.check(bool(f.get("runtime")), f"{label}: hello runtime={f.get('runtime')}")
    c.check("pid" not in f or u64(f, "pid") == a.proc.pid, f"{label}: hello pid={f.get('pid')} is the program's")
    a.send("welcome v=1 id=1")
    return f


def round_full(c, argv):
    """Handshake, target, gc, release, stats?, shed, ignorable input, bye."""
    a, fd = start_fd(argv, {"MEMGOV_STATS_INTERVAL": "300ms"})
    try:
        hello = handshake(c, a, "fd")
        if hello is None:
            return
        caps = hello.get("caps", "").split(",")
        c.check("limit" in caps and "release" in caps, f"caps={hello.get('caps')} names limit and release")
        flags = None
        try:
            with open(f"/proc/{a.proc.pid}/fdinfo/{fd}") as fi:
                flags = int(re.search(r"flags:\s+([0-7]+)", fi.read()).group(1), 8)
        except FileNotFoundError:
            pass
        c.check(flags is None or flags & 0o2000000, f"MEMGOV_FD={fd} is closed or close-on-exec in the agent")

        st = a.expect("stats", timeout=3.0, skip=())
        c.check(st is not None, "periodic stats arrive (MEMGOV_STATS_INTERVAL=300ms)")
        if st:
            f = st[1]
            c.check(u64(f, "total_bytes") > 0, f"stats total_bytes={f.get('total_bytes')}")
            for k in ("heap_live_bytes", "gc_count"):
                if k in f:
                    u64(f, k)
            if "gc_cpu_fraction" in f:
                c.check(FRACTION_RE.match(f["gc_cpu_fraction"]) is not None,
                        f"gc_cpu_fraction={f['gc_cpu_fraction']} is a decimal")
        gc_before = u64(st[1], "gc_count") if st and "gc_count" in st[1] else None

        # The agent connects on its own (an init, a preload, a startup hook) while the program's main may not
        # have registered its callbacks yet: under load a target could be applied before the hook that prints
        # "event target" exists. Every demo prints "ready" once its callbacks are in.
        c.check(a.event("ready", timeout=10.0) is not None, "the program says ready")
        t0 = time.monotonic()
        a.send("target seq=10 bytes=268435456 level=elevated")
        ack = a.expect("applied", timeout=3.0)
        latency = time.monotonic() - t0
        if c.check(ack is not None, "target acknowledged with applied"):
            _, f = ack
            c.check(u64(f, "seq") == 10, f"applied seq={f.get('seq')}")
            c.check(limit(f, "limit_bytes") == 268435456, f"applied limit_bytes={f.get('limit_bytes')}")
            print(f"# target -> applied in {latency * 1000:.2f} ms")
        c.check(a.event("event target") == "event target bytes=268435456 level=elevated",
                "target callback called with the share and level")

        a.send("target seq=11 bytes=max level=ok")
        ack = a.expect("applied", timeout=3.0)
        c.check(ack is not None and u64(ack[1], "seq") == 11 and ack[1].get("limit_bytes") == "max",
                f"target bytes=max acknowledged: {ack}")

        a.send("gc seq=12")
        a.send("release seq=13")
        a.send("stats? seq=14")
        st = a.expect("stats", timeout=3.0, skip=())
        c.check(st is not None, "stats? answered")
        if st and gc_before is not None and "gc_count" in st[1]:
            # Periodic stats may come first; wait for the count to show both requests.
            end = time.monotonic() + 3
            while u64(st[1], "gc_count") < gc_before + 2 and time.monotonic() < end:
                st = a.expect("stats", timeout=1.0, skip=()) or st
            c.check(u64(st[1], "gc_count") >= gc_before + 2,
                    f"gc_count {gc_before} -> {st[1]['gc_count']} after gc and release")

        a.send("shed seq=15 level=critical")
        c.check(a.event("event shed") == "event shed level=critical", "shed callback called with the level")

        # Input an agent must ignore: unknown types, unknown keys, x- keys.
        a.send("frobnicate seq=16 x=1")
        a.send("gc seq=17 future=yes x-new=%C3%A9")
        a.send("welcome-extra seq=18")
        a.send("stats? seq=19 please=now")
        c.check(a.expect("stats", timeout=3.0, skip=()) is not None,
                "unknown types and keys ignored: still answers stats?")

        a.send("bye seq=20")
        c.check(a.eof(3.0), "closes the connection after bye")
        time.sleep(0.3)
        c.check(a.alive(), "the program lives on after bye")
    except (Malformed, EOFError, OSError) as e:
        c.check(False, f"protocol error from the agent: {e!r}")
    finally:
        code = a.stop()
        c.check(code == 0, f"exits cleanly on SIGTERM (status {code})")


def round_malformed(c, argv, label, bad):
    a, _ = start_fd(argv, {"MEMGOV_STATS_INTERVAL": "0"})
    try:
        if handshake(c, a, label) is None:
            return
        if label == "malformed target":
            # Periodic stats are off: nothing comes unasked.
            c.check(a.recv_line(0.8) is None, "MEMGOV_STATS_INTERVAL=0: no stats unasked")
            a.send("stats? seq=1")
            c.check(a.expect("stats", timeout=3.0, skip=()) is not None, "stats? answered with periodic stats off")
        a.send_raw(bad)
        c.check(a.eof(3.0), f"{label}: connection closed")
        time.sleep(0.3)
        c.check(a.alive(), f"{label}: the program lives on")
    except (Malformed, EOFError, OSError) as e:
        c.check(False, f"{label}: protocol error from the agent: {e!r}")
    finally:
        c.check(a.stop() == 0, f"{label}: exits cleanly")


def round_socket(c, argv):
    """MEMGOV_SOCKET: the agent connects, and reconnects after losing the connection."""
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o700)
        path = os.path.join(d, "memgov.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(4)
        ls.settimeout(10)
        a = Agent(argv, {"MEMGOV_SOCKET": path, "MEMGOV_STATS_INTERVAL": "0"})
        try:
            for n in (1, 2):
                try:
                    conn, _ = ls.accept()
                except socket.timeout:
                    c.check(False, f"socket: connection {n} within 10 s")
                    return
                a.sock, a.buf = conn, b""
                if handshake(c, a, f"socket #{n}") is None:
                    return
                a.send(f"target seq={n} bytes={n * 1000000} level=ok")
                ack = a.expect("applied", timeout=3.0)
                c.check(ack is not None and u64(ack[1], "limit_bytes") == n * 1000000,
                        f"socket #{n}: target applied after (re)connecting")
                conn.close()
        except (Malformed, EOFError, OSError) as e:
            c.check(False, f"socket: protocol error from the agent: {e!r}")
        finally:
            c.check(a.stop() == 0, "socket: exits cleanly")
            ls.close()


# What each runtime's capture file starts with.
CAPTURE_MAGIC = {"go": b"\x1f\x8b", "java": b"JAVA PROFILE 1.0.2", "node": b"{"}


def round_capture(c, argv):
    """capture (when the agent offers it): the file is written and named in captured; a request it cannot
    carry out is answered with error= naming the thing, and the connection stays."""
    a, _ = start_fd(argv, {"MEMGOV_STATS_INTERVAL": "0"})
    try:
        hello = handshake(c, a, "capture")
        if hello is None:
            return
        if "capture" not in hello.get("caps", "").split(","):
            c.check(True, f"capture: not offered by runtime={hello.get('runtime')}, not asked")
            return
        with tempfile.TemporaryDirectory() as d:
            ext = {"go": "pprof", "java": "hprof", "node": "heapsnapshot"}.get(hello.get("runtime"), "bin")
            path = os.path.join(d, f"memgov-conf 1.{ext}")
            a.send(f"capture seq=2 kind=heap path={path.replace(' ', '%20')}")
            m = a.expect("captured", timeout=30.0)
            ok = m is not None and m[1].get("path") == path and os.path.exists(path)
            c.check(ok, f"capture: written and named: {m}")
            if ok:
                c.check(u64(m[1], "bytes") == os.path.getsize(path), "capture: bytes= is the file's size")
                with open(path, "rb") as f:
                    head = f.read(32)
                magic = CAPTURE_MAGIC.get(hello.get("runtime"), b"")
                c.check(head.startswith(magic), f"capture: the file starts with {magic!r}: {head!r}")
            for seq, line, want in (
                (3, f"capture seq=3 kind=threads path={d}/x.{ext}", "threads"),
                (4, "capture seq=4 kind=heap path=relative." + ext, "not absolute"),
                (5, f"capture seq=5 kind=heap path={d}/../x.{ext}", ".."),
                (6, f"capture seq=6 kind=heap path={path.replace(' ', '%20')}", path),
            ):
                a.send(line)
                m = a.expect("captured", timeout=30.0)
                err = m[1].get("error", "") if m else ""
                c.check(m is not None and u64(m[1], "seq") == seq and want in err and "path" not in m[1],
                        f"capture: '{line}' answered with an error naming {want!r}: {err!r}")
        a.send("stats? seq=7")
        c.check(a.expect("stats", timeout=3.0, skip=()) is not None, "capture: the connection stays")
    except (Malformed, EOFError, OSError) as e:
        c.check(False, f"capture: protocol error from the agent: {e!r}")
    finally:
        a.stop()


def round_arm(c, argv):
    """arm (when the agent offers it): a bad arm is answered at once with error= naming the field, and the
    connection stays; an arm whose line the live heap is above fires after the next GC cycle, with the file
    at the armed path and the arm's seq in captured."""
    a, _ = start_fd(argv, {"MEMGOV_STATS_INTERVAL": "0"})
    try:
        hello = handshake(c, a, "arm")
        if hello is None:
            return
        if "arm" not in hello.get("caps", "").split(","):
            c.check(True, f"arm: not offered by runtime={hello.get('runtime')}, not sent")
            return
        with tempfile.TemporaryDirectory() as d:
            ext = {"go": "pprof", "java": "hprof", "node": "heapsnapshot"}.get(hello.get("runtime"), "bin")
            for seq, line, want in (
                (2, f"arm seq=2 kind=heap path={d}/x.{ext}", "heap_live_above_bytes missing"),
                (3, f"arm seq=3 kind=heap heap_live_above_bytes=1x path={d}/x.{ext}", "heap_live_above_bytes"),
                (4, "arm seq=4 kind=heap heap_live_above_bytes=0 path=relative." + ext, "not absolute"),
            ):
                a.send(line)
                m = a.expect("captured", timeout=30.0)
                err = m[1].get("error", "") if m else ""
                c.check(m is not None and u64(m[1], "seq") == seq and want in err and "path" not in m[1],
                        f"arm: '{line}' answered with an error naming {want!r}: {err!r}")
            path = os.path.join(d, f"memgov-armed 1.{ext}")
            a.send(f"arm seq=5 kind=heap heap_live_above_bytes=0 path={path.replace(' ', '%20')}")
            # Two collections: the agent learns of a cycle's end one cycle late at worst.
            a.send("gc seq=6")
            a.send("gc seq=7")
            m = a.expect("captured", timeout=30.0)
            ok = m is not None and u64(m[1], "seq") == 5 and m[1].get("path") == path and os.path.exists(path)
            c.check(ok, f"arm: fired after a GC, written and named: {m}")
            if ok:
                c.check(u64(m[1], "bytes") == os.path.getsize(path), "arm: bytes= is the file's size")
                with open(path, "rb") as f:
                    head = f.read(32)
                magic = CAPTURE_MAGIC.get(hello.get("runtime"), b"")
                c.check(head.startswith(magic), f"arm: the file starts with {magic!r}: {head!r}")
        a.send("stats? seq=8")
        c.check(a.expect("stats", timeout=3.0, skip=()) is not None, "arm: the connection stays")
    except (Malformed, EOFError, OSError) as e:
        c.check(False, f"arm: protocol error from the agent: {e!r}")
    finally:
        a.stop()


def round_absent(c, argv):
    """Neither variable set: the agent does nothing and the program runs."""
    a = Agent(argv, {})
    ready = a.event("ready", timeout=10.0)
    c.check(ready is not None, f"without MEMGOV_*: the program runs ({ready})")
    c.check(a.stop() == 0, "without MEMGOV_*: exits cleanly")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("argv", nargs="+")
    o = p.parse_args()
    c = Checks(o.name)
    t0 = time.monotonic()
    round_full(c, o.argv)
    round_malformed(c, o.argv, "malformed target", b"target seq=1 bytes=12abc level=ok\n")
    round_malformed(c, o.argv, "NUL byte", b"gc seq=1\x00\n")
    round_malformed(c, o.argv, "over-long line", b"gc seq=1 x=" + b"a" * 5000 + b"\n")
    round_socket(c, o.argv)
    round_capture(c, o.argv)
    round_arm(c, o.argv)
    round_absent(c, o.argv)
    print(f"# {time.monotonic() - t0:.1f} s")
    print(f"conformance-{o.name}: {c.passed} passed, {c.failed} failed")
    sys.exit(0 if c.failed == 0 else 1)


if __name__ == "__main__":
    main()
