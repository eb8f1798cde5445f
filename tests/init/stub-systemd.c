/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for the user's systemd on a private bus, for the test VM (which
 * boots without systemd). It answers org.freedesktop.systemd1.Manager's
 * StartTransientUnit for scopes the way systemd does what memgov relies on:
 * it makes the scope's group under CG/user.slice, writes MemoryMax and
 * MemoryHigh to memory.max and memory.high, moves the PIDs into it, hands the
 * group to the PIDs' owner when Delegate=yes, and reports the job with
 * JobRemoved "done". Every call is printed as one line for the test to check.
 * It is not systemd: it checks no policy, and runs as root.
 * It stays beside the real systemd of tests/real/run-systemd.sh for what a real manager will not do:
 * it shows the call exactly as memgov sends it, and FAULT makes it misbehave:
 *   bad-reply   answers with a string where systemd returns the job's object path
 *   job-failed  makes no scope and reports the job with JobRemoved "failed"
 * Usage: stub-systemd CGROUP_ROOT [FAULT] (with DBUS_SESSION_BUS_ADDRESS set)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define JOB_PATH "/org/freedesktop/systemd1/job/1"

static const char *cgroot;
static const char *fault = "";

typedef struct Scope {
        const char *name;
        int delegate;
        uint32_t pids[8];
        unsigned n_pids;
        uint64_t max, high;
        int has_max, has_high;
} Scope;

static int write_file(const char *dir, const char *file, const char *value)
{
        char path[4096];
        int fd, r = 0;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static uid_t pid_uid(uint32_t pid)
{
        char path[64], line[256];
        unsigned uid = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%u/status", pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Uid: %u", &uid) == 1)
                        break;
        fclose(f);
        return (uid_t)uid;
}

static int read_property(sd_bus_message *m, Scope *s)
{
        const char *key;
        int r;

        r = sd_bus_message_enter_container(m, 'r', "sv");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        if (strcmp(key, "Delegate") == 0)
                r = sd_bus_message_read(m, "v", "b", &s->delegate);
        else if (strcmp(key, "MemoryMax") == 0)
                r = s->has_max = sd_bus_message_read(m, "v", "t", &s->max);
        else if (strcmp(key, "MemoryHigh") == 0)
                r = s->has_high = sd_bus_message_read(m, "v", "t", &s->high);
        else if (strcmp(key, "PIDs") == 0) {
                r = sd_bus_message_enter_container(m, 'v', "au");
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "u");
                while (r >= 0 && s->n_pids < 8 && (r = sd_bus_message_read(m, "u", &s->pids[s->n_pids])) > 0)
                        s->n_pids++;
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else
                r = sd_bus_message_skip(m, "v");
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

static int make_scope(const Scope *s)
{
        char slice[2048], dir[4096], v[32];
        int r;

        snprintf(slice, sizeof(slice), "%s/user.slice", cgroot);
        snprintf(dir, sizeof(dir), "%s/%s", slice, s->name);
        (void)write_file(cgroot, "cgroup.subtree_control", "+memory");
        if (mkdir(slice, 0755) < 0 && errno != EEXIST)
                return -errno;
        (void)write_file(slice, "cgroup.subtree_control", "+memory");
        if (mkdir(dir, 0755) < 0)
                return -errno;
        if (s->has_max) {
                snprintf(v, sizeof(v), "%" PRIu64, s->max);
                if ((r = write_file(dir, "memory.max", v)) < 0)
                        return r;
        }
        if (s->has_high) {
                snprintf(v, sizeof(v), "%" PRIu64, s->high);
                if ((r = write_file(dir, "memory.high", v)) < 0)
                        return r;
        }
        for (unsigned i = 0; i < s->n_pids; i++) {
                snprintf(v, sizeof(v), "%u", s->pids[i]);
                if ((r = write_file(dir, "cgroup.procs", v)) < 0)
                        return r;
        }
        if (s->delegate && s->n_pids > 0) {
                static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control",
                                                    "/cgroup.threads"};
                uid_t uid = pid_uid(s->pids[0]);
                for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                        char p[4200];
                        snprintf(p, sizeof(p), "%s%s", dir, files[i]);
                        if (chown(p, uid, (gid_t)-1) < 0)
                                return -errno;
                }
        }
        return 0;
}

static int on_start_transient_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Scope s = {};
        const char *mode;
        int r;

        r = sd_bus_message_read(m, "ss", &s.name, &mode);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = read_property(m, &s)) > 0)
                ;
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        printf("StartTransientUnit name=%s mode=%s Delegate=%d PIDs=%u", s.name, mode, s.delegate,
               s.n_pids ? s.pids[0] : 0);
        if (s.has_max)
                printf(" MemoryMax=%" PRIu64, s.max);
        if (s.has_high)
                printf(" MemoryHigh=%" PRIu64, s.high);
        printf("\n");
        fflush(stdout);
        if (strlen(s.name) < 7 || strcmp(s.name + strlen(s.name) - 6, ".scope") != 0)
                return sd_bus_error_set(error, "org.freedesktop.DBus.Error.InvalidArgs", "not a scope");
        if (strcmp(fault, "bad-reply") == 0)
                return sd_bus_reply_method_return(m, "s", JOB_PATH);
        if (strcmp(fault, "job-failed") == 0) {
                r = sd_bus_reply_method_return(m, "o", JOB_PATH);
                if (r < 0)
                        return r;
                return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                          "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", 1,
                                          JOB_PATH, s.name, "failed");
        }
        r = make_scope(&s);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "stub: cannot make the scope: %s", strerror(-r));
        r = sd_bus_reply_method_return(m, "o", JOB_PATH);
        if (r < 0)
                return r;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", 1, JOB_PATH,
                                  s.name, "done");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", on_start_transient_unit, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

/* For bad-reply: the method as declared by a manager that returns a string. */
static const sd_bus_vtable bad_reply_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "s", on_start_transient_unit, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

int main(int argc, char *argv[])
{
        sd_bus *bus = NULL;
        int r;

        if (argc < 2 || argc > 3 ||
            (argc == 3 && strcmp(argv[2], "bad-reply") != 0 && strcmp(argv[2], "job-failed") != 0)) {
                fprintf(stderr, "usage: stub-systemd CGROUP_ROOT [bad-reply|job-failed]\n");
                return 64;
        }
        cgroot = argv[1];
        if (argc == 3)
                fault = argv[2];
        r = sd_bus_open_user(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(
                        bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                        strcmp(fault, "bad-reply") == 0 ? bad_reply_vtable : manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "stub-systemd: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return 1;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return 1;
        }
}
