// SPDX-License-Identifier: MIT
//
// A .NET program that knows nothing of memgov but listens to its agent when one is loaded (as a startup
// hook): prints "event target bytes=N level=L" and "event shed level=L" for the conformance driver
// (tests/proto/conformance.py), "ready" once running, and exits with 0 on SIGTERM.
using System;
using System.Reflection;
using System.Threading;

public static class Demo
{
    public static int Main()
    {
        var stop = new ManualResetEvent(false);
        var never = new ManualResetEvent(false);
        int calls = 0;
        // SIGTERM raises ProcessExit; when that handler returns, the runtime re-raises SIGTERM and the exit
        // status is 143. So the first call holds (1 s) until Main has returned and the shutdown has begun;
        // releasing it just before Main returned raced that exit (143 under load). A second call, from the
        // shutdown after Main, returns at once.
        AppDomain.CurrentDomain.ProcessExit += (s, e) => {
            stop.Set();
            if (Interlocked.Increment(ref calls) == 1)
                never.WaitOne(1000);
        };
        Listen();
        Console.WriteLine("ready");
        stop.WaitOne();
        return 0;
    }

    // The agent's event, found by reflection: the program needs no reference to the agent's assembly.
    static void Listen()
    {
        foreach (Assembly a in AppDomain.CurrentDomain.GetAssemblies())
        {
            Type t = a.GetType("Memgov.Agent");
            EventInfo ev = t == null ? null : t.GetEvent("MemoryPressure");
            if (ev == null)
                continue;
            Action<string, long?> h = (level, bytes) => {
                if (bytes == null)
                    Console.WriteLine("event shed level=" + level);
                else
                    Console.WriteLine("event target bytes=" + (bytes < 0 ? "max" : bytes.ToString()) + " level=" + level);
            };
            ev.AddEventHandler(null, h);
        }
    }
}
