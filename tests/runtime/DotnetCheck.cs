// SPDX-License-Identifier: MIT
//
// .NET programs for vm.runtime (tests/runtime/run-runtime.sh), compiled with mcs against .NET Core 3.1.
//
//   DotnetCheck.dll limit SECONDS
//     prints the GC's limit (GCMemoryInfo.TotalAvailableMemoryBytes: the hard limit when one is set, else
//     the memory the runtime sees), then after SECONDS whether memgov's agent is loaded, MEMGOV_FD as the
//     program sees it, and its GC count.
//   DotnetCheck.dll live MIB ROUNDS
//     a live set of MIB arrays of 1M, each replaced ROUNDS times: the replaced ones are garbage on the
//     large object heap, which only a full collection frees.
//   DotnetCheck.dll native TOTAL CACHE-SIZE KIB PAUSE-MS
//     a server-like loop: each "request" takes a buffer of KIB of native memory from a small cache, and
//     an evicted buffer is dropped without Dispose(), a common bug. Each holds KIB outside the GC heap
//     against a few dozen bytes in it; only a GC (then its finalizer) frees it. The evicted ones are
//     promoted garbage that grows the heap too little for the GC to collect on its own.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

sealed class NativeBuffer
{
    readonly IntPtr p;

    public NativeBuffer(int bytes)
    {
        p = Marshal.AllocHGlobal(bytes);
        for (int off = 0; off < bytes; off += 4096)
            Marshal.WriteByte(p, off, 1); // touched: charged to the cgroup
    }

    ~NativeBuffer() { Marshal.FreeHGlobal(p); }
}

public static class DotnetCheck
{
    public static int Main(string[] a)
    {
        if (a.Length == 2 && a[0] == "limit")
            return Limit(int.Parse(a[1]));
        if (a.Length == 3 && a[0] == "live")
            return Live(int.Parse(a[1]), int.Parse(a[2]));
        if (a.Length == 5 && a[0] == "native")
            return Native(int.Parse(a[1]), int.Parse(a[2]), int.Parse(a[3]), int.Parse(a[4]));
        Console.Error.WriteLine("usage: DotnetCheck limit SECONDS | live MIB ROUNDS | native TOTAL CACHE-SIZE KIB PAUSE-MS");
        return 2;
    }

    static int Limit(int seconds)
    {
        Console.WriteLine("limit=" + GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        Thread.Sleep(seconds * 1000);
        bool agent = false;
        foreach (Assembly asm in AppDomain.CurrentDomain.GetAssemblies())
            agent |= asm.GetType("Memgov.Agent") != null;
        Console.WriteLine("agent=" + agent + " MEMGOV_FD=" + (Environment.GetEnvironmentVariable("MEMGOV_FD") ?? "unset") +
                          " gc_count=" + GC.CollectionCount(0));
        return 0;
    }

    static int Live(int mib, int rounds)
    {
        var live = new byte[mib][];
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < mib; i++)
            {
                var b = new byte[1 << 20];
                for (int off = 0; off < b.Length; off += 4096)
                    b[off] = 1; // touched: charged to the cgroup
                live[i] = b;
            }
        Console.WriteLine("done " + mib + "M x " + rounds + " gen2=" + GC.CollectionCount(2));
        return 0;
    }

    static int Native(int total, int cacheSize, int kib, int pauseMs)
    {
        var cache = new Queue<NativeBuffer>();
        for (int i = 0; i < total; i++)
        {
            cache.Enqueue(new NativeBuffer(kib << 10));
            if (cache.Count > cacheSize)
                cache.Dequeue(); // dropped, not disposed
            if (pauseMs > 0)
                Thread.Sleep(pauseMs); // requests arrive over time
        }
        Console.WriteLine("done " + total + " gc_count=" + GC.CollectionCount(0) + " gen2=" + GC.CollectionCount(2));
        return 0;
    }
}
