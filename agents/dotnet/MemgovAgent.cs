// SPDX-License-Identifier: MIT
//
// memgov's agent for .NET: speaks docs/protocol.md with the memgov that runs this process. Loaded
// without code changes as a startup hook,
//
//     DOTNET_STARTUP_HOOKS=/path/to/MemgovAgent.dll
//
// which memgov adds itself when it detects dotnet (docs/runtimes.md). Does nothing unless MEMGOV_FD or
// MEMGOV_SOCKET is set. Built against .NET Core 3.1's own assemblies, so it loads on 3.1 and later.
// Linux only: the channel is a Unix socket read and written through libc (.NET Core 3.1 cannot wrap an
// inherited socket descriptor: Socket(SafeSocketHandle) came with .NET 5).
//
// A target sets the GC's hard limit where the runtime can change it at run time (.NET 8's
// GC.RefreshMemoryLimit, found by reflection); elsewhere (3.1 to 7) the hard limit stays the one set at
// start (COMPlus_/DOTNET_GCHeapHardLimit), and the target is acknowledged with the target recorded, as
// the Node and C agents do, with x-limit-applied=no. Either way it is passed on to the application:
//
//     Memgov.Agent.MemoryPressure += (level, bytes) => { ... }
//     // level: "ok" | "elevated" | "critical"; bytes: the target, -1 for no limit, or null for a shed
//
// gc and release run GC.Collect (release compacts the large object heap too). Everything runs on
// background threads: the agent never keeps the process alive and never throws into the application.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

// The runtime calls StartupHook.Initialize() (no namespace) before Main.
internal static class StartupHook
{
    public static void Initialize()
    {
        try
        {
            Memgov.Agent.Start();
        }
        catch (Exception e)
        {
            Memgov.Agent.Log("not started: " + e.Message);
        }
    }
}

namespace Memgov
{
    public sealed class MalformedException : Exception
    {
        public MalformedException(string why) : base(why) { }
    }

    // One message: its type and key=value pairs, parsed and checked as docs/protocol.md says.
    public sealed class Message
    {
        public const int LineMax = 4096;
        const string Safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~,:/+-";

        public readonly string Type;
        readonly Dictionary<string, string> fields = new Dictionary<string, string>();

        Message(string type) { Type = type; }

        static bool Lower(char c) { return c >= 'a' && c <= 'z'; }

        static bool Word(string s, int from)
        {
            for (int i = from; i < s.Length; i++)
            {
                char c = s[i];
                if (!(Lower(c) || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                    return false;
            }
            return true;
        }

        // One line without its newline.
        public static Message Parse(byte[] line, int len)
        {
            if (len == 0)
                throw new MalformedException("empty line");
            if (len >= LineMax)
                throw new MalformedException("line too long");
            for (int i = 0; i < len; i++)
            {
                if (line[i] == 0)
                    throw new MalformedException("NUL byte");
                if (line[i] >= 0x80)
                    throw new MalformedException("byte outside ASCII");
                if (line[i] < 0x20 || line[i] == 0x7f)
                    throw new MalformedException("control byte");
            }
            string[] tokens = Encoding.ASCII.GetString(line, 0, len).Split(' ');
            string type = tokens[0];
            string bare = type.EndsWith("?") ? type.Substring(0, type.Length - 1) : type;
            if (type.Length > 32 || bare.Length == 0 || !Lower(bare[0]) || !Word(bare, 1))
                throw new MalformedException("bad message type");
            var m = new Message(type);
            for (int t = 1; t < tokens.Length; t++)
            {
                string tok = tokens[t];
                if (tok.Length == 0)
                    throw new MalformedException("empty token (two spaces, or a trailing space)");
                int eq = tok.IndexOf('=');
                if (eq < 0)
                    throw new MalformedException("key without '='");
                string key = tok.Substring(0, eq);
                if (key.Length == 0 || key.Length > 64 || !Lower(key[0]) || !Word(key, 1))
                    throw new MalformedException("bad key");
                if (m.fields.ContainsKey(key))
                    throw new MalformedException("duplicate key");
                if (m.fields.Count >= 32)
                    throw new MalformedException("too many key=value pairs");
                m.fields[key] = Decode(tok.Substring(eq + 1));
            }
            return m;
        }

        static int Hex(char c)
        {
            if (c >= '0' && c <= '9')
                return c - '0';
            if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
            if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
            return -1;
        }

        static string Decode(string raw)
        {
            var bytes = new List<byte>(raw.Length);
            for (int i = 0; i < raw.Length; i++)
            {
                char c = raw[i];
                if (Safe.IndexOf(c) >= 0)
                {
                    bytes.Add((byte)c);
                    continue;
                }
                if (c != '%')
                    throw new MalformedException("character not allowed in a value");
                int hi = i + 1 < raw.Length ? Hex(raw[i + 1]) : -1, lo = i + 2 < raw.Length ? Hex(raw[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                    throw new MalformedException("bad percent-encoding");
                if (hi == 0 && lo == 0)
                    throw new MalformedException("%00 in a value");
                bytes.Add((byte)(hi * 16 + lo));
                i += 2;
            }
            string s;
            try
            {
                s = new UTF8Encoding(false, true).GetString(bytes.ToArray());
            }
            catch (ArgumentException)
            {
                throw new MalformedException("value is not UTF-8 text");
            }
            foreach (char c in s)
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
                    throw new MalformedException("value is not UTF-8 text");
            return s;
        }

        public static string Encode(string s)
        {
            var sb = new StringBuilder();
            foreach (byte b in Encoding.UTF8.GetBytes(s))
            {
                if (Safe.IndexOf((char)b) >= 0)
                    sb.Append((char)b);
                else
                    sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }

        public string Get(string key)
        {
            string v;
            return fields.TryGetValue(key, out v) ? v : null;
        }

        string Required(string key)
        {
            string v = Get(key);
            if (v == null)
                throw new MalformedException(Type + " without " + key + "=");
            return v;
        }

        public ulong U64(string key)
        {
            string s = Required(key);
            ulong v;
            if (s.Length == 0 || s[0] < '0' || s[0] > '9' ||
                !ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v))
                throw new MalformedException("bad number in " + key + "=");
            return v;
        }

        // null for max.
        public ulong? Limit(string key)
        {
            if (Required(key) == "max")
                return null;
            return U64(key);
        }

        public string Level(string key)
        {
            string l = Required(key);
            if (l != "ok" && l != "elevated" && l != "critical")
                throw new MalformedException("bad level");
            return l;
        }
    }

    // The channel: a connected Unix stream socket, by descriptor.
    static class Libc
    {
        const string Lib = "libc.so.6";
        public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, F_SETFD = 2, FD_CLOEXEC = 1,
                         EINTR = 4;

        [DllImport(Lib, SetLastError = true)]
        public static extern IntPtr read(int fd, byte[] buf, IntPtr count);
        [DllImport(Lib, SetLastError = true)]
        public static extern IntPtr send(int fd, byte[] buf, IntPtr count, int flags);
        [DllImport(Lib, SetLastError = true)]
        public static extern int close(int fd);
        [DllImport(Lib)]
        public static extern int getpid();
        [DllImport(Lib, SetLastError = true)]
        public static extern int shutdown(int fd, int how);
        [DllImport(Lib, SetLastError = true)]
        public static extern int fcntl(int fd, int cmd, int arg);
        [DllImport(Lib, SetLastError = true)]
        public static extern int socket(int domain, int type, int protocol);
        [DllImport(Lib, SetLastError = true)]
        public static extern int connect(int fd, byte[] addr, int len);
        [DllImport(Lib, SetLastError = true)]
        public static extern int getsockopt(int fd, int level, int name, out int value, ref int len);
        [DllImport(Lib)]
        static extern int clock_gettime(int clock, long[] ts); // struct timespec of a 64-bit Linux

        // CLOCK_MONOTONIC in microseconds, or -1.
        public static long MonotonicUsec()
        {
            var ts = new long[2];
            return IntPtr.Size == 8 && clock_gettime(1 /* CLOCK_MONOTONIC */, ts) == 0 ? ts[0] * 1000000 + ts[1] / 1000 : -1;
        }

        // A path socket: connected descriptor or -errno.
        public static int Connect(string path)
        {
            byte[] p = Encoding.UTF8.GetBytes(path);
            if (p.Length >= 108)
                return -36; // ENAMETOOLONG: sun_path holds 108 bytes with the NUL
            var addr = new byte[2 + p.Length + 1];
            addr[0] = AF_UNIX; // sa_family_t, little-endian on the platforms .NET runs on
            Array.Copy(p, 0, addr, 2, p.Length);
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return -Marshal.GetLastWin32Error();
            if (connect(fd, addr, addr.Length) < 0)
            {
                int e = Marshal.GetLastWin32Error();
                close(fd);
                return -e;
            }
            return fd;
        }

        // Whether fd is a stream socket (SOL_SOCKET 1, SO_TYPE 3).
        public static bool IsStreamSocket(int fd)
        {
            int type, len = 4;
            return getsockopt(fd, 1, 3, out type, ref len) == 0 && type == SOCK_STREAM;
        }
    }

    public sealed class Agent
    {
        const int ProtoVersion = 1;
        const int ReconnectMinMs = 250, ReconnectMaxMs = 30000;

        // Targets and sheds, for the application: (level, target bytes or -1 for max) or (level, null).
        public static event Action<string, long?> MemoryPressure;

        static Agent instance;

        readonly string path;
        readonly int intervalMs;
        readonly MethodInfo refresh;             // GC.RefreshMemoryLimit, .NET 8+
        readonly PropertyInfo committed;         // GCMemoryInfo.TotalCommittedBytes, .NET 5+
        readonly long startLimit;                // the GC's limit at start: the hard limit, or memory.max
        readonly object sendLock = new object();
        int fd = -1;
        Timer timer;

        public static void Log(string msg)
        {
            try
            {
                Console.Error.WriteLine("memgov-agent: " + msg);
            }
            catch (Exception)
            {
                // stderr closed: nothing to say it on.
            }
        }

        Agent(string path, int intervalMs)
        {
            this.path = path;
            this.intervalMs = intervalMs;
            refresh = typeof(GC).GetMethod("RefreshMemoryLimit", BindingFlags.Public | BindingFlags.Static, null,
                                           Type.EmptyTypes, null);
            committed = typeof(GCMemoryInfo).GetProperty("TotalCommittedBytes");
            startLimit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        }

        // MEMGOV_STATS_INTERVAL: "500ms", "2s", "1m" or bare seconds; default 1 s; 0 turns periodic stats off.
        static int StatsIntervalMs(string s)
        {
            if (string.IsNullOrEmpty(s))
                return 1000;
            double scale = 1000;
            string n = s;
            if (s.EndsWith("ms"))
            {
                scale = 1;
                n = s.Substring(0, s.Length - 2);
            }
            else if (s.EndsWith("s"))
                n = s.Substring(0, s.Length - 1);
            else if (s.EndsWith("m"))
            {
                scale = 60000;
                n = s.Substring(0, s.Length - 1);
            }
            double v;
            if (n.Length == 0 || n[0] < '0' || n[0] > '9' ||
                !double.TryParse(n, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out v))
            {
                Log("MEMGOV_STATS_INTERVAL=" + s + " is not a duration, using 1s");
                return 1000;
            }
            return (int)Math.Min(int.MaxValue, Math.Round(v * scale));
        }

        public static void Start()
        {
            if (instance != null)
                return;
            string fdText = Environment.GetEnvironmentVariable("MEMGOV_FD");
            string path = Environment.GetEnvironmentVariable("MEMGOV_SOCKET");
            if (string.IsNullOrEmpty(fdText) && string.IsNullOrEmpty(path))
                return;
            if (Environment.OSVersion.Platform != PlatformID.Unix)
            {
                Log("only Linux is supported yet, not started");
                return;
            }
            var a = new Agent(path, StatsIntervalMs(Environment.GetEnvironmentVariable("MEMGOV_STATS_INTERVAL")));
            instance = a;
            int fd = -1;
            if (!string.IsNullOrEmpty(fdText))
            {
                // Processes this one starts must not believe they own it.
                Environment.SetEnvironmentVariable("MEMGOV_FD", null);
                if (!int.TryParse(fdText, NumberStyles.None, CultureInfo.InvariantCulture, out fd) ||
                    !Libc.IsStreamSocket(fd))
                {
                    Log("MEMGOV_FD=" + fdText + " is not a stream socket, ignoring it");
                    return;
                }
                Libc.fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
            }
            var t = new Thread(() => a.Run(fd));
            t.IsBackground = true;
            t.Name = "memgov-agent";
            t.Start();
        }

        void Run(int inherited)
        {
            if (inherited >= 0)
            {
                Serve(inherited);
                return;
            }
            int backoff = ReconnectMinMs;
            for (;;)
            {
                int s = Libc.Connect(path);
                if (s >= 0)
                {
                    backoff = ReconnectMinMs;
                    Serve(s);
                }
                else if (s != -111 && s != -2) // ECONNREFUSED, ENOENT: memgov not (yet) there
                    Log("connect " + path + ": errno " + (-s));
                Thread.Sleep(backoff);
                backoff = Math.Min(backoff * 2, ReconnectMaxMs);
            }
        }

        void Serve(int s)
        {
            lock (sendLock)
                fd = s;
            try
            {
                string caps = "limit,gc,release,shed,stats";
                Send("hello v=" + ProtoVersion + " runtime=dotnet version=" + Message.Encode(Environment.Version.ToString()) +
                     " pid=" + Libc.getpid() + " caps=" + caps);
                if (intervalMs > 0)
                    timer = new Timer(_ => Send(StatsLine()), null, intervalMs, intervalMs);
                ReadLoop(s);
            }
            catch (MalformedException e)
            {
                Log("malformed line from memgov: " + e.Message + ", closing the connection");
            }
            catch (Exception e)
            {
                Log(e.Message + ", closing the connection");
            }
            finally
            {
                if (timer != null)
                    timer.Dispose();
                timer = null;
                lock (sendLock)
                {
                    fd = -1;
                    Libc.close(s);
                }
            }
        }

        void ReadLoop(int s)
        {
            var buf = new byte[Message.LineMax];
            var chunk = new byte[Message.LineMax];
            int have = 0;
            for (;;)
            {
                long n = (long)Libc.read(s, chunk, (IntPtr)(buf.Length - have));
                if (n < 0)
                {
                    if (Marshal.GetLastWin32Error() == Libc.EINTR)
                        continue;
                    throw new Exception("read: errno " + Marshal.GetLastWin32Error());
                }
                if (n == 0)
                    return;
                Array.Copy(chunk, 0, buf, have, (int)n);
                have += (int)n;
                int start = 0;
                for (int nl; (nl = Array.IndexOf(buf, (byte)'\n', start, have - start)) >= 0; start = nl + 1)
                    if (Handle(Message.Parse(buf.Slice(start, nl - start), nl - start)))
                        return;
                // Bytes outside the line charset close the connection as soon as they arrive.
                for (int i = start; i < have; i++)
                    if (buf[i] < 0x20 || buf[i] > 0x7e)
                        throw new MalformedException("byte outside the line charset");
                Array.Copy(buf, start, buf, 0, have - start);
                have -= start;
                if (have >= Message.LineMax)
                    throw new MalformedException("line longer than " + Message.LineMax + " bytes");
            }
        }

        void Send(string line)
        {
            byte[] b = Encoding.ASCII.GetBytes(line + "\n");
            lock (sendLock)
            {
                for (int off = 0; fd >= 0 && off < b.Length;)
                {
                    byte[] part = off == 0 ? b : b.Slice(off, b.Length - off);
                    long n = (long)Libc.send(fd, part, (IntPtr)part.Length, 0x4000); // MSG_NOSIGNAL
                    if (n < 0 && Marshal.GetLastWin32Error() == Libc.EINTR)
                        continue;
                    if (n <= 0)
                    {
                        Libc.shutdown(fd, 2); // the reader sees the end and closes
                        return;
                    }
                    off += (int)n;
                }
            }
        }

        string StatsLine()
        {
            GCMemoryInfo info = GC.GetGCMemoryInfo();
            long inUse = GC.GetTotalMemory(false);
            // What the GC holds from the OS: its committed bytes where the runtime tells (.NET 5+); else the
            // heap in use plus the free space between objects at the last GC, which leaves out committed but
            // empty space, so memgov sees a little more memory outside the runtime than there is.
            long total = committed != null ? (long)committed.GetValue(info) : inUse + info.FragmentedBytes;
            long live = info.HeapSizeBytes > 0 ? info.HeapSizeBytes - info.FragmentedBytes : inUse;
            return "stats total_bytes=" + Math.Max(1, total) + " heap_live_bytes=" + Math.Max(0, live) +
                   " gc_count=" + GC.CollectionCount(0) + " x-gen2-count=" + GC.CollectionCount(2) +
                   " x-heap-size-bytes=" + info.HeapSizeBytes + " x-fragmented-bytes=" + info.FragmentedBytes +
                   " x-total-available-bytes=" + info.TotalAvailableMemoryBytes;
        }

        // Returns true on bye.
        bool Handle(Message m)
        {
            switch (m.Type)
            {
            case "welcome":
                if (m.U64("v") != ProtoVersion)
                {
                    Send("bye reason=version");
                    throw new Exception("memgov speaks protocol version " + m.Get("v") + ", this agent " +
                                        ProtoVersion);
                }
                return false;
            case "target":
                ApplyTarget(m.U64("seq"), m.Limit("bytes"), m.Level("level"));
                return false;
            case "gc":
                m.U64("seq");
                GC.Collect();
                return false;
            case "release":
                m.U64("seq");
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, true, true);
                return false;
            case "shed":
                m.U64("seq");
                Notify(m.Level("level"), null);
                return false;
            case "stats?":
                m.U64("seq");
                Send(StatsLine());
                return false;
            case "bye":
                return true;
            default:
                return false; // from a newer memgov: ignored
            }
        }

        void ApplyTarget(ulong seq, ulong? bytes, string level)
        {
            string applied = bytes.HasValue ? bytes.Value.ToString(CultureInfo.InvariantCulture) : "max";
            string how = "no";
            if (refresh != null)
            {
                // .NET 8+: the hard limit moves to the target; max restores the one in force at start.
                ulong limit = bytes.HasValue ? bytes.Value : (ulong)startLimit;
                try
                {
                    AppContext.SetData("GCHeapHardLimit", limit);
                    refresh.Invoke(null, null);
                    long now = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
                    applied = !bytes.HasValue && now == startLimit ? "max" : now.ToString(CultureInfo.InvariantCulture);
                    how = "yes";
                }
                catch (Exception e)
                {
                    Log("GC.RefreshMemoryLimit(" + limit + "): " + (e.InnerException ?? e).Message);
                    how = "failed";
                }
            }
            Send("applied seq=" + seq + " limit_bytes=" + applied + AppliedAt() + " x-limit-applied=" + how +
                 " x-total-available-bytes=" + GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            Notify(level, bytes.HasValue ? (long?)(long)Math.Min(bytes.Value, (ulong)long.MaxValue) : -1);
        }

        // applied's at_us=: CLOCK_MONOTONIC, memgov's clock, so memgov times a target to when the agent had it
        // rather than to when its own loop read the answer (docs/protocol.md).
        static string AppliedAt()
        {
            long us = Libc.MonotonicUsec();
            return us < 0 ? "" : " at_us=" + us.ToString(CultureInfo.InvariantCulture);
        }

        static void Notify(string level, long? bytes)
        {
            var handlers = MemoryPressure;
            if (handlers == null)
                return;
            foreach (Action<string, long?> h in handlers.GetInvocationList())
            {
                try
                {
                    h(level, bytes);
                }
                catch (Exception e)
                {
                    Log("a MemoryPressure handler threw: " + e);
                }
            }
        }
    }

    static class ArrayShim
    {
        // Span<T> is not in what mcs understands: plain copies instead.
        public static byte[] Slice(this byte[] a, int from, int len)
        {
            var r = new byte[len];
            Array.Copy(a, from, r, 0, len);
            return r;
        }
    }
}
