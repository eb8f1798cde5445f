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
        var done = new ManualResetEvent(false);
        // SIGTERM raises ProcessExit; holding it until Main returns makes the exit status Main's 0 (else 143).
        AppDomain.CurrentDomain.ProcessExit += (s, e) => {
            stop.Set();
            done.WaitOne(5000);
        };
        Listen();
        Console.WriteLine("ready");
        stop.WaitOne();
        done.Set();
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
