/* SPDX-License-Identifier: MIT */
/*
 * Non-root on a systemd host: ask the user's systemd for a transient scope
 * with Delegate=yes and the memory limits, with memgov itself as its one
 * process (what `systemd-run --user --scope -p Delegate=yes` does). Once the
 * job is done, memgov's own group is the scope and is delegated to it: the
 * cgroup v2 path then works unchanged (supervisor leaf, child group).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "../../policy/macro.h"
#include "../platform.h"

#define SCOPE_TIMEOUT_USEC (10 * 1000000ULL)

typedef struct JobWait {
        const char *job; /* the object path StartTransientUnit returned; NULL until then */
        char result[32]; /* "done", "failed", ...; "" until JobRemoved names our job */
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && strcmp(path, w->job) == 0)
                snprintf(w->result, sizeof(w->result), "%s", result);
        return 0;
}

static int append_properties(sd_bus_message *m, uint64_t max_bytes, uint64_t high_bytes, const char *desc)
{
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)getpid());
        if (r >= 0 && max_bytes != PLATFORM_UNLIMITED)
                r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", max_bytes);
        if (r >= 0 && high_bytes != PLATFORM_UNLIMITED)
                r = sd_bus_message_append(m, "(sv)", "MemoryHigh", "t", high_bytes);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Description", "s", desc);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0) /* no auxiliary units */
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        return r;
}

/* Waits for JobRemoved of our job: until then the scope may not hold us yet. */
static int wait_job(sd_bus *bus, JobWait *w)
{
        for (int i = 0; i < 100 && !w->result[0]; i++) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, SCOPE_TIMEOUT_USEC / 10);
                if (r < 0)
                        return r;
        }
        return w->result[0] ? 0 : -ETIMEDOUT;
}

int platform_scope_enter(const char *unit, uint64_t max_bytes, uint64_t high_bytes, const char *description,
                         PlatformError *err)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *job = NULL;
        JobWait w = {};
        const char *path;
        int r;

        r = sd_bus_open_user(&bus);
        if (r < 0) {
                snprintf(
                        err->message, sizeof(err->message),
                        "cannot reach the user's systemd: no user bus (%s; neither DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus works)",
                        strerror(-r));
                return r;
        }
        /* Subscribed before the call, so a job that finishes at once is not missed. */
        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                                   "/org/freedesktop/systemd1",
                                                   "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = append_properties(m, max_bytes, high_bytes, description);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "cannot build the StartTransientUnit call: %s",
                         strerror(-r));
                return r;
        }
        r = sd_bus_call(bus, m, SCOPE_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message),
                         "the user's systemd refused a transient scope %s: %s", unit,
                         error.message ?: strerror(-r));
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0 && !(job = strdup(path)))
                r = -ENOMEM;
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "unexpected StartTransientUnit reply: %s",
                         strerror(-r));
                return r;
        }
        w.job = job;
        r = wait_job(bus, &w);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "the job starting scope %s did not finish: %s",
                         unit, strerror(-r));
                return r;
        }
        if (strcmp(w.result, "done") != 0) {
                snprintf(err->message, sizeof(err->message), "systemd could not start scope %s: job %s",
                         unit, w.result);
                return -EIO;
        }
        return 0;
}
