/* SPDX-License-Identifier: MIT */
/*
 * The control server (governor/control.c) in a real sd-event loop, against
 * peers on socketpairs and on a path socket in a temporary directory. No
 * cgroups: the peer check is run against this process's own group. The test
 * side is the agent; it pumps the loop while it waits for what it expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../governor/capture.h"
#include "../../governor/control.h"
#include "../../governor/log.h"
#include "../../platform/linux/sandbox.h"
#include "../../platform/linux/kfile.h"
#include "../unit/check.h"

static sd_event *event;

typedef struct Recorder {
        unsigned hellos, stats, applied, gone, captured, gc_cycles;
        AgentReport last;
        uint64_t captured_seq, captured_bytes, gc_count;
        char captured_path[128];
        uint64_t last_applied_seq;
        char gone_reason[160];
} Recorder;

static void on_hello(const AgentReport *a, void *ud)
{
        Recorder *r = ud;
        r->hellos++;
        r->last = *a;
}

static void on_stats(const AgentReport *a, void *ud)
{
        Recorder *r = ud;
        r->stats++;
        r->last = *a;
}

static void on_applied(const AgentReport *a, uint64_t seq, void *ud)
{
        Recorder *r = ud;
        r->applied++;
        r->last = *a;
        r->last_applied_seq = seq;
}

static void on_gone(const AgentReport *a, const char *reason, void *ud)
{
        Recorder *r = ud;
        r->gone++;
        r->last = *a;
        snprintf(r->gone_reason, sizeof(r->gone_reason), "%s", reason);
}

static void on_captured(const AgentReport *a, const ProtoCaptured *c, void *ud)
{
        Recorder *r = ud;
        r->captured++;
        r->captured_seq = c->seq;
        r->captured_bytes = c->bytes;
        snprintf(r->captured_path, sizeof(r->captured_path), "%s", c->path ? c->path : c->error);
}

static void on_gc_cycle(const AgentReport *a, const ProtoGcCycle *g, void *ud)
{
        Recorder *r = ud;
        r->gc_cycles++;
        r->gc_count = g->count;
}

static usec_t now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static void pump(usec_t usec)
{
        usec_t end = now() + usec;
        while (now() < end)
                (void)sd_event_run(event, 1000);
}

typedef struct Peer {
        int fd;
        size_t len;
        char buf[1 << 16];
} Peer;

static Peer *peer_new(int fd)
{
        Peer *p = calloc(1, sizeof(Peer));
        p->fd = fd;
        return p;
}

static Peer *peer_connect(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return NULL;
        }
        return peer_new(fd);
}

static void peer_free(Peer *p)
{
        if (p) {
                close(p->fd);
                free(p);
        }
}

static bool peer_send(Peer *p, const char *s)
{
        size_t n = strlen(s);
        while (n > 0) {
                ssize_t k = send(p->fd, s, n, MSG_NOSIGNAL);
                if (k < 0)
                        return false;
                s += k;
                n -= (size_t)k;
        }
        return true;
}

/* Reads what is there without blocking: 1 data, 0 end of file, -1 nothing now. */
static int peer_fill(Peer *p)
{
        ssize_t n;

        if (p->len == sizeof(p->buf))
                p->len = 0; /* nobody checks lines this long */
        n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, MSG_DONTWAIT);
        if (n > 0) {
                p->len += (size_t)n;
                return 1;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
                return 0;
        return -1;
}

/* The next line (without newline) within timeout, pumping the loop meanwhile. */
static bool peer_line(Peer *p, char *out, size_t size, usec_t timeout)
{
        usec_t end = now() + timeout;

        for (;;) {
                char *nl = memchr(p->buf, '\n', p->len);
                if (nl) {
                        size_t n = (size_t)(nl - p->buf);
                        snprintf(out, size, "%.*s", (int)n, p->buf);
                        memmove(p->buf, nl + 1, p->len - n - 1);
                        p->len -= n + 1;
                        return true;
                }
                if (now() >= end)
                        return false;
                if (peer_fill(p) == 0)
                        return false;
                (void)sd_event_run(event, 1000);
        }
}

/* Whether the server closed this peer within timeout (data on the way is dropped). */
static bool peer_closed(Peer *p, usec_t timeout)
{
        usec_t end = now() + timeout;

        while (now() < end) {
                if (peer_fill(p) == 0)
                        return true;
                p->len = 0;
                (void)sd_event_run(event, 1000);
        }
        return false;
}

/* Says hello and returns the welcome line. */
static bool peer_hello(Peer *p, const char *extra)
{
        char line[256], hello[256];

        snprintf(hello, sizeof(hello), "hello v=1 runtime=test version=t1%s\n", extra ? extra : "");
        if (!peer_send(p, hello))
                return false;
        return peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "welcome v=1 id=", 15) == 0;
}

/* The bytes=.. and seq=.. of the next line, which must be a target. */
static bool peer_target(Peer *p, uint64_t *ret_bytes, uint64_t *ret_seq, usec_t timeout)
{
        char line[256];
        unsigned long long b, s;

        if (!peer_line(p, line, sizeof(line), timeout))
                return false;
        if (sscanf(line, "target seq=%llu bytes=%llu level=", &s, &b) != 2) {
                fprintf(stderr, "not a target: %s\n", line);
                return false;
        }
        *ret_bytes = b;
        if (ret_seq)
                *ret_seq = s;
        return true;
}

static ControlServer *server_new(Recorder *rec, const PlatformSandbox *sandbox)
{
        ControlCallbacks cb = {
                .on_hello = on_hello,
                .on_stats = on_stats,
                .on_applied = on_applied,
                .on_captured = on_captured,
                .on_gc_cycle = on_gc_cycle,
                .on_gone = on_gone,
                .userdata = rec,
        };
        ControlServer *s = NULL;
        int r = control_server_new(event, sandbox, &cb, &s);
        CHECK(r == 0, "control_server_new: %d", r);
        return s;
}

static Peer *child_peer(ControlServer *s)
{
        int fd = -1, r;

        r = control_server_prepare_child_fd(s, &fd);
        CHECK(r == 0 && fd >= 0, "prepare_child_fd: %d", r);
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "child end is close-on-exec");
        CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0, "child end is blocking");
        CHECK(control_server_prepare_child_fd(s, &r) == -EBUSY, "one child end at a time");
        /* As after the spawn: the test keeps a dup as "the child". */
        int mine = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        control_server_child_started(s);
        return peer_new(mine);
}

static void test_handshake(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        Peer *p = child_peer(s);
        char line[256];
        uint64_t bytes = 0, seq = 0;
        const AgentReport *a;

        CHECK(control_server_agents(s, &a) == 0, "no agent before hello");
        CHECK(peer_send(p, "hello v=1 runtime=test version=t%201 pid=4242 caps=gc,release\n"), "send hello");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strcmp(line, "welcome v=1 id=1") == 0,
              "welcome: %s", line);
        CHECK(rec.hellos == 1 && rec.last.pid == 4242 && strcmp(rec.last.runtime, "test") == 0 &&
                      strcmp(rec.last.version, "t 1") == 0,
              "on_hello: pid %d runtime %s version %s", (int)rec.last.pid, rec.last.runtime,
              rec.last.version);
        CHECK(control_server_agents(s, &a) == 1 && a[0].id == 1, "one agent");

        /* No target yet: nothing sent after welcome. */
        pump(50 * USEC_PER_MSEC);
        CHECK(peer_fill(p) == -1, "nothing after welcome without a target");

        CHECK(control_server_set_target(s, 1 << 20, PROTO_LEVEL_OK) == 1, "target sent to one");
        CHECK(peer_target(p, &bytes, &seq, USEC_PER_SEC) && bytes == 1 << 20, "target bytes");
        CHECK(control_server_set_target(s, 1 << 20, PROTO_LEVEL_OK) == 0, "unchanged target not resent");
        CHECK(control_server_set_target(s, 1 << 20, (ProtoLevel)9) == -EINVAL, "bad level");

        snprintf(line, sizeof(line), "applied seq=%llu limit_bytes=1048576\n", (unsigned long long)seq);
        CHECK(peer_send(p, line), "send applied");
        pump(50 * USEC_PER_MSEC);
        CHECK(rec.applied == 1 && rec.last_applied_seq == seq && rec.last.applied_limit_bytes == 1 << 20 &&
                      rec.last.applied_usec >= rec.last.target_sent_usec,
              "on_applied");

        CHECK(control_server_request(s, PROTO_REQUEST_GC, PROTO_LEVEL_OK) == 1, "gc");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "gc seq=", 7) == 0, "gc: %s",
              line);
        CHECK(control_server_request(s, PROTO_REQUEST_RELEASE, PROTO_LEVEL_OK) == 1, "release");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "release seq=", 12) == 0,
              "release: %s", line);
        CHECK(control_server_request(s, PROTO_REQUEST_SHED, PROTO_LEVEL_CRITICAL) == 1, "shed");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "shed seq=", 9) == 0 &&
                      strstr(line, " level=critical"),
              "shed: %s", line);
        CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) == 1, "stats?");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "stats? seq=", 11) == 0,
              "stats?: %s", line);

        /* Newer agents' messages and keys are ignored, not fatal. */
        CHECK(peer_send(
                      p,
                      "frobnicate x=1\nstats total_bytes=5000 heap_live_bytes=2000 gc_count=7 gc_cpu_fraction=0.125 x-test-thing=1 future=yes\n"),
              "send stats");
        pump(50 * USEC_PER_MSEC);
        CHECK(rec.stats == 1 && rec.last.have_stats && rec.last.total_bytes == 5000 &&
                      rec.last.heap_live_bytes == 2000 && rec.last.gc_count == 7 &&
                      rec.last.gc_cpu_fraction == 0.125,
              "on_stats");
        CHECK(peer_send(p, "stats gc_count=8\n"), "partial stats");
        pump(50 * USEC_PER_MSEC);
        CHECK(rec.stats == 2 && rec.last.total_bytes == 5000 && rec.last.gc_count == 8,
              "fields left out are kept");

        CHECK(peer_send(p, "bye reason=done\n"), "bye");
        CHECK(peer_closed(p, USEC_PER_SEC), "closed after bye");
        pump(10 * USEC_PER_MSEC);
        CHECK(rec.gone == 1 && strcmp(rec.gone_reason, "said bye") == 0, "on_gone: %s", rec.gone_reason);
        CHECK(control_server_agents(s, &a) == 0, "no agent after bye");
        peer_free(p);
        control_server_free(s);
}

/* A stats? goes out once until the agent answers with any stats line, or until stats_answer_usec passes. */
static void test_stats_asked_once(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        ControlLimits l = CONTROL_LIMITS_DEFAULT;
        Peer *p = child_peer(s);
        char line[256];

        /* Long enough that no machine is slow enough to see it pass between two calls. */
        l.stats_answer_usec = 3600 * USEC_PER_SEC;
        control_server_set_limits(s, &l);
        CHECK(peer_hello(p, NULL), "hello");
        CHECK(!control_server_stats_awaited(s), "nothing awaited before a stats?");

        CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) == 1, "first stats? sent");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "stats? seq=", 11) == 0,
              "stats?: %s", line);
        CHECK(control_server_stats_awaited(s), "its answer is awaited");
        CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) == 0, "not asked twice");
        CHECK(control_server_request(s, PROTO_REQUEST_GC, PROTO_LEVEL_OK) == 1, "other requests still go");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "gc seq=", 7) == 0,
              "the next line is the gc, not a second stats?: %s", line);

        /* Any stats line answers it, a routine report too. */
        CHECK(peer_send(p, "stats total_bytes=4096\n"), "send stats");
        pump(50 * USEC_PER_MSEC);
        CHECK(rec.stats == 1 && !control_server_stats_awaited(s), "answered");
        CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) == 1, "asked again after it");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "stats? seq=", 11) == 0,
              "second stats?: %s", line);

        /* An agent that never answers is asked again once the wait has passed. */
        l.stats_answer_usec = 20 * USEC_PER_MSEC;
        control_server_set_limits(s, &l);
        pump(50 * USEC_PER_MSEC);
        CHECK(!control_server_stats_awaited(s), "the wait has passed");
        CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) == 1,
              "asked again after the wait");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "stats? seq=", 11) == 0,
              "third stats?: %s", line);
        peer_free(p);
        control_server_free(s);
}

static char *make_tmpdir(void)
{
        char *d = strdup("/tmp/memgov-test-control-XXXXXX");
        CHECK(mkdtemp(d) != NULL, "mkdtemp");
        return d;
}

static void test_listen_dir(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        char *tmp = make_tmpdir(), dir[256], *path = NULL;
        struct stat st;

        snprintf(dir, sizeof(dir), "%s/open", tmp);
        CHECK(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0, "mkdir");
        CHECK(control_server_listen(s, dir, &path) == -EPERM, "a 0755 directory is refused");
        snprintf(dir, sizeof(dir), "%s/memgov", tmp);
        CHECK(control_server_listen(s, dir, &path) == 0 && path, "listen");
        CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "created 0700: %o", st.st_mode & 0777);
        CHECK(path && stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "socket exists");
        CHECK(control_server_listen(s, dir, &path) == -EBUSY, "once");
        control_server_free(s);
        CHECK(path && stat(path, &st) < 0 && errno == ENOENT, "socket removed at free");
        rmdir(dir);
        snprintf(dir, sizeof(dir), "%s/open", tmp);
        rmdir(dir);
        rmdir(tmp);
        free(path);
        free(tmp);
}

static const char *self_cgroup(char *buf, size_t size)
{
        char text[4096] = "";
        FILE *f = fopen("/proc/self/cgroup", "re");
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

        if (f)
                fclose(f);
        text[n] = '\0';
        return kfile_cgroup2_path(text, buf, size) == 0 ? buf : NULL;
}

/* A sandbox as platform/ would describe the group rel, made up: nothing is created, only its name asked. */
static PlatformSandbox *group_sandbox(const char *rel)
{
        PlatformSandbox *s = sandbox_new(&sandbox_v2_ops);

        CHECK(s, "sandbox_new");
        s->root = strdup("/sys/fs/cgroup");
        s->path = malloc(strlen(s->root) + strlen(rel) + 1);
        CHECK(s->root && s->path, "strdup");
        strcat(strcpy(s->path, s->root), rel);
        return s;
}

static void test_peer_check(void)
{
        Recorder rec = {};
        char *tmp = make_tmpdir(), *path = NULL, own[4096];
        PlatformSandbox *elsewhere = group_sandbox("/memgov-test-not-this-group"), *here;
        ControlServer *s = server_new(&rec, elsewhere);
        Peer *p;

        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        p = peer_connect(path);
        CHECK(p && peer_closed(p, USEC_PER_SEC), "a peer outside the group is closed at once");
        CHECK(rec.hellos == 0, "and never heard");
        peer_free(p);
        control_server_free(s);
        platform_sandbox_free(elsewhere);
        free(path);
        path = NULL;

        if (!self_cgroup(own, sizeof(own))) {
                printf("test-control: no cgroup v2 line in /proc/self/cgroup, skipping the positive peer check\n");
                rmdir(tmp);
                free(tmp);
                return;
        }
        here = group_sandbox(own);
        s = server_new(&rec, here);
        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        p = peer_connect(path);
        CHECK(p && peer_hello(p, NULL), "a peer in the group (%s) is served", own);
        CHECK(rec.hellos == 1 && rec.last.pid == getpid(), "pid from SO_PEERCRED: %d", (int)rec.last.pid);
        peer_free(p);
        control_server_free(s);
        platform_sandbox_free(here);
        rmdir(tmp);
        free(path);
        free(tmp);
}

static void test_split_and_resync(void)
{
        Recorder rec = {};
        char *tmp = make_tmpdir(), *path = NULL;
        ControlServer *s = server_new(&rec, NULL);
        uint64_t b1 = 0, b2 = 0, b3 = 0;
        Peer *p1, *p2, *p3;

        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        p1 = peer_connect(path);
        p2 = peer_connect(path);
        CHECK(p1 && p2 && peer_hello(p1, NULL) && peer_hello(p2, NULL), "two agents");

        CHECK(control_server_set_target(s, 1000, PROTO_LEVEL_OK) == 2, "sent to both");
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && peer_target(p2, &b2, NULL, USEC_PER_SEC) &&
                      b1 == 500 && b2 == 500,
              "equal split before stats: %llu %llu", (unsigned long long)b1, (unsigned long long)b2);

        CHECK(peer_send(p1, "stats total_bytes=300\n") && peer_send(p2, "stats total_bytes=100\n"), "stats");
        pump(50 * USEC_PER_MSEC);
        CHECK(control_server_set_target(s, 1000, PROTO_LEVEL_ELEVATED) == 2, "new level");
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && peer_target(p2, &b2, NULL, USEC_PER_SEC) &&
                      b1 == 750 && b2 == 250,
              "proportional split: %llu %llu", (unsigned long long)b1, (unsigned long long)b2);

        /* A newcomer counts as the mean (200): weights 300, 100, 200. */
        p3 = peer_connect(path);
        CHECK(p3 && peer_hello(p3, NULL), "third agent");
        CHECK(peer_target(p3, &b3, NULL, USEC_PER_SEC) && b3 == 333, "newcomer gets the mean's share: %llu",
              (unsigned long long)b3);
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && peer_target(p2, &b2, NULL, USEC_PER_SEC) &&
                      b1 == 500 && b2 == 166,
              "the others shrink: %llu %llu", (unsigned long long)b1, (unsigned long long)b2);

        /* One leaves: the others' shares grow back without a new set_target. */
        peer_free(p3);
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && peer_target(p2, &b2, NULL, USEC_PER_SEC) &&
                      b1 == 750 && b2 == 250,
              "after one left: %llu %llu", (unsigned long long)b1, (unsigned long long)b2);
        CHECK(rec.gone == 1 && strstr(rec.gone_reason, "closed by the agent"), "gone: %s", rec.gone_reason);

        /* A reconnecting agent is brought back in sync right after its welcome. */
        peer_free(p2);
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && b1 == 1000, "alone: %llu", (unsigned long long)b1);
        p2 = peer_connect(path);
        CHECK(p2 && peer_hello(p2, NULL), "reconnect");
        CHECK(peer_target(p2, &b2, NULL, USEC_PER_SEC) && b2 == 500, "re-synced: %llu",
              (unsigned long long)b2);
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && b1 == 500, "and the other shrinks: %llu",
              (unsigned long long)b1);

        /* Absurd totals cannot overflow the split (nor divide by zero). */
        CHECK(peer_send(p1, "stats total_bytes=18446744073709551615\n") &&
                      peer_send(p2, "stats total_bytes=9223372036854775808\n"),
              "huge stats");
        pump(50 * USEC_PER_MSEC);
        CHECK(control_server_set_target(s, 1000, PROTO_LEVEL_OK) == 2, "split of huge totals");
        CHECK(peer_target(p1, &b1, NULL, USEC_PER_SEC) && peer_target(p2, &b2, NULL, USEC_PER_SEC) &&
                      b1 + b2 <= 1000 && b1 >= 499 && b2 >= 499,
              "huge totals split sanely: %llu %llu", (unsigned long long)b1, (unsigned long long)b2);

        /* No limit is no limit for everyone. */
        CHECK(control_server_set_target(s, PROTO_LIMIT_NONE, PROTO_LEVEL_OK) == 2, "max");
        char line[256];
        CHECK(peer_line(p1, line, sizeof(line), USEC_PER_SEC) && strstr(line, " bytes=max "), "max: %s",
              line);
        peer_free(p1);
        peer_free(p2);
        control_server_free(s);
        rmdir(tmp);
        free(path);
        free(tmp);
}

typedef struct BadCase {
        const char *name;
        const char *before; /* sent first, NULL: nothing (no hello) */
        const char *input;
        size_t len; /* 0: strlen */
        bool close_after;
        const char *reason; /* substring expected in on_gone's reason, when after hello */
} BadCase;

static const BadCase bad_cases[] = {
        {"message before hello", NULL, "stats total_bytes=1\n", 0, false, NULL},
        {"hello without v", NULL, "hello runtime=x\n", 0, false, NULL},
        {"length-prefixed frame claiming 4 GiB", NULL, "\x00\x00\x00\x01\x00\x00\x00\x00hello", 13, false,
         NULL},
        {"NUL byte", "", "stats total_bytes=1\0\n", 21, false, "NUL byte"},
        {"non-UTF-8 byte", "", "stats x-y=\xff\xfe\n", 0, false, "outside ASCII"},
        {"encoded invalid UTF-8", "", "stats x-y=%ff\n", 0, false, "UTF-8"},
        {"bad number", "", "stats total_bytes=12abc\n", 0, false, "bad number"},
        {"overflow", "", "stats gc_count=18446744073709551616\n", 0, false, "bad number"},
        {"bad fraction", "", "stats gc_cpu_fraction=1e-3\n", 0, false, "fraction"},
        {"missing type", "", " stats\n", 0, false, "type"},
        {"bad key=value", "", "stats total_bytes\n", 0, false, "without '='"},
        {"empty line", "", "\n", 0, false, "empty line"},
        {"second hello", "", "hello v=1 runtime=x\n", 0, false, "second hello"},
        {"applied without seq", "", "applied limit_bytes=5\n", 0, false, "seq"},
        {"truncated frame", "", "stats total_bytes=12", 0, true, "middle of a line"},
};

static void test_bad_input(void)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                Recorder rec = {};
                ControlServer *s = server_new(&rec, NULL);
                Peer *p = child_peer(s);
                size_t len = c->len ? c->len : strlen(c->input);

                if (c->before)
                        CHECK(peer_hello(p, NULL), "%s: hello", c->name);
                CHECK(send(p->fd, c->input, len, MSG_NOSIGNAL) == (ssize_t)len, "%s: send", c->name);
                if (c->close_after)
                        shutdown(p->fd, SHUT_WR);
                CHECK(peer_closed(p, USEC_PER_SEC), "%s: closed", c->name);
                pump(5 * USEC_PER_MSEC);
                if (c->before)
                        CHECK(rec.gone == 1 && strstr(rec.gone_reason, c->reason), "%s: reason '%s'",
                              c->name, rec.gone_reason);
                else
                        CHECK(rec.hellos == 0 && rec.gone == 0, "%s: never an agent", c->name);
                CHECK(control_server_buffered_bytes(s) == 0, "%s: nothing held", c->name);
                peer_free(p);
                control_server_free(s);
        }
}

/* capture goes only to an agent that offered it, with a path the protocol allows; captured and gc-cycle
 * reach the callbacks; a captured without seq= closes the connection with the reason. */
static void test_capture(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        Peer *p = child_peer(s);
        char line[256];
        int64_t seq;

        CHECK(peer_hello(p, " caps=gc,capture"), "hello");
        pump(10 * USEC_PER_MSEC);
        CHECK(control_server_capture(s, 2, "heap", "/tmp/x.pprof") == -ENOENT, "no agent 2");
        CHECK(control_server_capture(s, 1, "heap", "x.pprof") == -EINVAL, "relative path");
        CHECK(control_server_capture(s, 1, "threads", "/tmp/x.pprof") == -EINVAL, "unknown kind");
        seq = control_server_capture(s, 1, "heap", "/tmp/a b.pprof");
        CHECK(seq > 0, "capture sent: %lld", (long long)seq);
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) &&
                      strstr(line, " kind=heap path=/tmp/a%20b.pprof"),
              "capture line: %s", line);
        snprintf(line, sizeof(line), "captured seq=%lld path=/tmp/a%%20b.pprof bytes=42\ngc-cycle count=7\n",
                 (long long)seq);
        CHECK(peer_send(p, line), "send captured");
        pump(50 * USEC_PER_MSEC);
        CHECK(rec.captured == 1 && rec.captured_seq == (uint64_t)seq && rec.captured_bytes == 42 &&
                      strcmp(rec.captured_path, "/tmp/a b.pprof") == 0,
              "on_captured: %u %s", rec.captured, rec.captured_path);
        CHECK(rec.gc_cycles == 1 && rec.gc_count == 7, "on_gc_cycle");
        CHECK(peer_send(p, "captured path=/tmp/x\n"), "send bad captured");
        CHECK(peer_closed(p, USEC_PER_SEC), "closed");
        pump(5 * USEC_PER_MSEC);
        CHECK(rec.gone == 1 && strstr(rec.gone_reason, "captured without a valid seq="), "reason: %s",
              rec.gone_reason);
        peer_free(p);

        /* An agent that did not offer capture is not asked. */
        p = child_peer(s);
        CHECK(peer_hello(p, " caps=gc"), "hello without capture");
        pump(10 * USEC_PER_MSEC);
        CHECK(control_server_capture(s, 2, "heap", "/tmp/x.pprof") == -EOPNOTSUPP, "not offered");
        peer_free(p);
        control_server_free(s);
}

/* arm and disarm reach only an agent that offered arm (with capture), with the next seq. */
static void test_arm(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        Peer *p = child_peer(s);
        char line[256];
        int64_t seq;

        CHECK(peer_hello(p, " caps=gc,capture"), "hello without arm");
        pump(10 * USEC_PER_MSEC);
        CHECK(control_server_arm(s, 1, "heap", 1000, "/tmp/x.pprof") == -EOPNOTSUPP, "arm not offered");
        CHECK(control_server_disarm(s, 1) == -EOPNOTSUPP, "disarm not offered");
        peer_free(p);

        p = child_peer(s);
        CHECK(peer_hello(p, " caps=gc,capture,arm"), "hello with arm");
        pump(10 * USEC_PER_MSEC);
        CHECK(control_server_arm(s, 3, "heap", 1000, "/tmp/x.pprof") == -ENOENT, "no agent 3");
        CHECK(control_server_arm(s, 2, "heap", 1000, "x.pprof") == -EINVAL, "relative path");
        CHECK(control_server_arm(s, 2, "threads", 1000, "/tmp/x.pprof") == -EINVAL, "unknown kind");
        CHECK(control_server_next_seq(s) > 0, "next seq");
        seq = (int64_t)control_server_next_seq(s);
        CHECK(control_server_arm(s, 2, "heap", 230686720, "/tmp/a b.pprof") == seq, "arm sent with seq %lld",
              (long long)seq);
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strstr(line, "arm seq=") == line &&
                      strstr(line, " kind=heap heap_live_above_bytes=230686720 path=/tmp/a%20b.pprof"),
              "arm line: %s", line);
        CHECK(control_server_disarm(s, 2) == seq + 1, "disarm sent");
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) && strncmp(line, "disarm seq=", 11) == 0,
              "disarm line: %s", line);
        peer_free(p);
        control_server_free(s);
}

/* The capturer (governor/capture.c) over a Go-like peer: an arm that fired (its file is there) is waited for
 * before a "cannot fit" kill, as a requested capture is; its answer, or the agent going away with the file
 * there, ends the wait. Nothing here races: the test is the agent and says when it fired. */
typedef struct Armed {
        Capturer *k;
        unsigned done;
} Armed;

static void armed_on_captured(const AgentReport *a, const ProtoCaptured *c, void *ud)
{
        capturer_on_captured(((Armed *)ud)->k, a, c);
}

static void armed_on_gone(const AgentReport *a, const char *reason, void *ud)
{
        capturer_on_agent_gone(((Armed *)ud)->k, a);
}

static void armed_done(void *ud)
{
        ((Armed *)ud)->done++;
}

/* A Go-like peer that offers arm, with stats, armed by the capturer: the peer, the armed path and seq. */
static Peer *armed_peer(ControlServer *s, Capturer *k, char path[static 512], int64_t *ret_seq)
{
        PolicyDecision d = {.ideal_bytes = 200 * 1024 * 1024,
                            .headroom_bytes = 64 * 1024 * 1024,
                            .limit_bytes = 256 * 1024 * 1024};
        Peer *p = child_peer(s);
        PolicyConfig c;
        char line[700];
        long long seq = -1;

        CHECK(peer_send(p, "hello v=1 runtime=go version=go1.26 caps=gc,capture,arm\n") &&
                      peer_line(p, line, sizeof(line), USEC_PER_SEC),
              "hello");
        CHECK(peer_send(p, "stats heap_live_bytes=104857600 total_bytes=157286400\n"), "stats");
        pump(10 * USEC_PER_MSEC);
        policy_config_default(&c);
        capturer_arm(k, true, &d, &c);
        CHECK(peer_line(p, line, sizeof(line), USEC_PER_SEC) &&
                      sscanf(line, "arm seq=%lld kind=heap heap_live_above_bytes=%*u path=%511s", &seq,
                             path) == 2,
              "arm line: %s", line);
        *ret_seq = seq;
        return p;
}

/* Pumps the loop until the capture ended, at most a second: the answer is on the socket already. */
static void pump_until_done(const Armed *armed)
{
        for (int i = 0; i < 100 && armed->done == 0; i++)
                pump(10 * USEC_PER_MSEC);
}

static void test_armed_capture_awaited(void)
{
        Armed armed = {};
        ControlCallbacks cb = {
                .on_captured = armed_on_captured, .on_gone = armed_on_gone, .userdata = &armed};
        CaptureConfig cfg;
        char dir[] = "/tmp/test-control-cap.XXXXXX", path[512], line[700];
        ControlServer *s = NULL;
        Postmortem pm = {};
        int64_t seq;
        Peer *p;

        CHECK(mkdtemp(dir) != NULL, "mkdtemp");
        CHECK(control_server_new(event, NULL, &cb, &s) == 0, "server");
        capture_config_default(&cfg);
        CHECK(capturer_new(event, s, &cfg, dir, "t", armed_done, &armed, &armed.k) == 0, "capturer");
        CHECK(!capturer_await_fired_arm(armed.k), "nothing armed: nothing to wait for");

        /* Armed, not fired: no file, so a kill need not wait. Fired: the file is there. */
        p = armed_peer(s, armed.k, path, &seq);
        CHECK(!capturer_await_fired_arm(armed.k), "armed, not fired: nothing to wait for");
        close(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        CHECK(capturer_await_fired_arm(armed.k) && capturer_busy(armed.k), "fired: waited for");
        CHECK(!capturer_await_fired_arm(armed.k), "once");
        pump(10 * USEC_PER_MSEC);
        CHECK(armed.done == 0, "no answer yet");
        snprintf(line, sizeof(line), "captured seq=%lld path=%s bytes=0\n", (long long)seq, path);
        CHECK(peer_send(p, line), "captured");
        pump_until_done(&armed);
        CHECK(armed.done == 1 && !capturer_busy(armed.k), "the answer ends the wait: %u", armed.done);
        capturer_fill_postmortem(armed.k, &pm);
        CHECK(pm.n_captures == 1 && strcmp(pm.captures[0].path, path) == 0 && !pm.captures[0].error &&
                      pm.captures[0].why == CAPTURE_WHY_THRESHOLD,
              "the post-mortem names it: %zu", pm.n_captures);
        unlink(path);
        peer_free(p);
        pump(10 * USEC_PER_MSEC);
        capturer_free(armed.k);
        control_server_free(s);

        /* Fired, then the agent went away without an answer: the file is what there is. A new capturer:
         * the first one's interval since its capture holds the next arm back. */
        armed = (Armed){};
        CHECK(control_server_new(event, NULL, &cb, &s) == 0, "server");
        CHECK(capturer_new(event, s, &cfg, dir, "t", armed_done, &armed, &armed.k) == 0, "capturer");
        p = armed_peer(s, armed.k, path, &seq);
        close(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        CHECK(capturer_await_fired_arm(armed.k), "fired: waited for");
        peer_free(p);
        pump_until_done(&armed);
        CHECK(armed.done == 1 && !capturer_busy(armed.k), "the agent gone ends the wait: %u", armed.done);
        pm = (Postmortem){};
        capturer_fill_postmortem(armed.k, &pm);
        CHECK(pm.n_captures == 1 && strcmp(pm.captures[0].path, path) == 0 && !pm.captures[0].error,
              "the post-mortem names the file: %zu", pm.n_captures);
        unlink(path);
        capturer_free(armed.k);
        control_server_free(s);
        CHECK(rmdir(dir) == 0, "the directory is left empty");
}

static long vm_rss_kib(void)
{
        char text[8192];
        FILE *f = fopen("/proc/self/status", "re");
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
        char *p;

        if (f)
                fclose(f);
        text[n] = '\0';
        p = strstr(text, "VmRSS:");
        return p ? strtol(p + 6, NULL, 10) : -1;
}

/* An endless line: the server takes at most one line's worth, then closes. */
static void test_endless_line(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        Peer *p = child_peer(s);
        static char chunk[65536];
        size_t sent = 0, max_held = 0;
        bool closed = false;
        usec_t end = now() + 3 * USEC_PER_SEC;

        CHECK(peer_hello(p, NULL), "hello");
        memset(chunk, '7', sizeof(chunk));
        CHECK(peer_send(p, "stats total_bytes="), "start of the line");
        /* Writes as if the line went on for 4 GiB, as fast as the server takes it. */
        while (!closed && sent < (UINT64_C(4) << 30) && now() < end) {
                ssize_t n = send(p->fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n > 0)
                        sent += (size_t)n;
                else if (errno == EPIPE || errno == ECONNRESET)
                        closed = true;
                (void)sd_event_run(event, 1000);
                size_t held = control_server_buffered_bytes(s);
                if (held > max_held)
                        max_held = held;
                closed = closed || rec.gone > 0;
        }
        CHECK(closed && rec.gone == 1 && strstr(rec.gone_reason, "longer than 4096"),
              "closed at the bound: %s", rec.gone_reason);
        CHECK(max_held <= PROTO_LINE_MAX, "held at most one line: %zu", max_held);
        CHECK(sent < (8u << 20), "the peer got rid of only %zu bytes before the close", sent);
        peer_free(p);
        control_server_free(s);
}

/* A peer that trickles one byte at a time does not block others and is closed at the line timeout. */
static void test_trickle(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        ControlLimits l = CONTROL_LIMITS_DEFAULT;
        char *tmp = make_tmpdir(), *path = NULL, line[256];
        const char *text = "stats total_bytes=123456789\n";
        Peer *slow, *fast, *silent;
        uint64_t b = 0;
        usec_t t0;

        l.line_timeout_usec = 2 * USEC_PER_SEC;
        l.hello_timeout_usec = 1 * USEC_PER_SEC;
        l.stats_answer_usec = 0; /* the fast agent never answers its stats?: each is sent */
        control_server_set_limits(s, &l);
        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        slow = peer_connect(path);
        fast = peer_connect(path);
        silent = peer_connect(path);
        CHECK(slow && fast && silent && peer_hello(slow, NULL) && peer_hello(fast, NULL), "agents");

        t0 = now();
        for (size_t i = 0; text[i] && rec.gone == 0; i++) {
                char byte[2] = {text[i], 0};
                if (!peer_send(slow, byte))
                        break;
                /* Meanwhile the other agent is served at once. */
                usec_t sent = now();
                CHECK(control_server_request(s, PROTO_REQUEST_STATS, PROTO_LEVEL_OK) >= 1, "request");
                /* Bounds loose enough for a loaded 2-core machine, and still far from what blocking behind
                 * the trickler would cost (a byte a second, closed after 2 s). */
                CHECK(peer_line(fast, line, sizeof(line), 500 * USEC_PER_MSEC) &&
                              strncmp(line, "stats?", 6) == 0,
                      "fast agent served while the slow one trickles");
                CHECK(now() - sent < 500 * USEC_PER_MSEC, "promptly: %llu us",
                      (unsigned long long)(now() - sent));
                if (now() - sent < USEC_PER_SEC)
                        pump(USEC_PER_SEC - (now() - sent));
        }
        pump(10 * USEC_PER_MSEC);
        usec_t took = now() - t0;
        CHECK(rec.gone >= 1 && strstr(rec.gone_reason, "not completed"), "trickler closed: %s",
              rec.gone_reason);
        CHECK(took >= 2 * USEC_PER_SEC && took < 6 * USEC_PER_SEC, "at the line timeout: %llu ms",
              (unsigned long long)(took / USEC_PER_MSEC));
        CHECK(peer_closed(silent, 10 * USEC_PER_MSEC), "the silent peer was closed at the hello timeout");
        CHECK(control_server_set_target(s, 100, PROTO_LEVEL_OK) == 1, "only the fast one is left");
        CHECK(peer_target(fast, &b, NULL, USEC_PER_SEC) && b == 100, "and gets everything");
        peer_free(slow);
        peer_free(fast);
        peer_free(silent);
        control_server_free(s);
        rmdir(tmp);
        free(path);
        free(tmp);
}

/* 10,000 messages a second for 3 s from another process; another agent still gets its target promptly. */
static void test_flood(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        char *tmp = make_tmpdir(), *path = NULL;
        usec_t worst = 0, end;
        size_t max_held = 0;
        long rss0, rss1;
        unsigned rounds = 0;
        Peer *calm;
        pid_t pid;
        int status = 0;

        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        pid = fork();
        if (pid == 0) {
                Peer *f = peer_connect(path);
                char buf[64];
                usec_t start = now();
                unsigned long i = 0, dropped = 0;

                if (!f || !peer_send(f, "hello v=1 runtime=flood\n"))
                        _exit(2);
                while (now() - start < 3 * USEC_PER_SEC) {
                        /* Paced to 10,000 a second; what the socket does not take is counted, not queued. */
                        while (i < (now() - start) / 100) {
                                int n = snprintf(buf, sizeof(buf), "stats total_bytes=%lu gc_count=%lu\n", i,
                                                 i);
                                if (send(f->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
                                        dropped++;
                                i++;
                        }
                        usleep(100);
                }
                fprintf(stderr, "flood: %lu messages tried, %lu not taken by the socket\n", i, dropped);
                _exit(0);
        }
        calm = peer_connect(path);
        CHECK(calm && peer_hello(calm, NULL), "calm agent");
        pump(200 * USEC_PER_MSEC);
        rss0 = vm_rss_kib();
        end = now() + 3 * USEC_PER_SEC;
        for (uint64_t t = 1000; now() < end; t += 1000) {
                uint64_t b = 0;
                usec_t sent = now();
                control_server_set_target(s, t, PROTO_LEVEL_OK);
                /* The flooder reported, so the calm one's share varies: any target will do. */
                bool got = peer_target(calm, &b, NULL, USEC_PER_SEC);
                usec_t lat = now() - sent;
                CHECK(got, "calm agent got a target in round %u", rounds);
                if (lat > worst)
                        worst = lat;
                size_t held = control_server_buffered_bytes(s);
                if (held > max_held)
                        max_held = held;
                rounds++;
                pump(20 * USEC_PER_MSEC);
        }
        rss1 = vm_rss_kib();
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "flooder ran");
        printf("test-control: flood: %u targets, worst latency %llu us, stats handled %u, held at most %zu bytes, VmRSS %ld -> %ld KiB\n",
               rounds, (unsigned long long)worst, rec.stats, max_held, rss0, rss1);
        CHECK(rounds > 50, "rounds: %u", rounds);
        CHECK(worst < 100 * USEC_PER_MSEC, "worst latency %llu us", (unsigned long long)worst);
        /* 200/s with bursts of 400 over ~3 s, not 30,000. */
        CHECK(rec.stats > 100 && rec.stats < 1100, "rate-limited: %u stats handled", rec.stats);
        CHECK(max_held <= 2 * PROTO_LINE_MAX, "held at most %zu bytes", max_held);
        CHECK(rss1 - rss0 < 1024, "VmRSS grew by %ld KiB", rss1 - rss0);
        peer_free(calm);
        control_server_free(s);
        rmdir(tmp);
        free(path);
        free(tmp);
}

/* A peer that never reads: the output queue stays bounded and the peer is dropped. */
static void test_never_reads(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        Peer *p = child_peer(s), *q;
        ControlLimits l = CONTROL_LIMITS_DEFAULT;
        size_t max_held = 0;
        unsigned i;

        CHECK(peer_hello(p, NULL), "hello");
        for (i = 0; i < 1000000 && rec.gone == 0; i++) {
                control_server_request(s, PROTO_REQUEST_GC, PROTO_LEVEL_OK);
                size_t held = control_server_buffered_bytes(s);
                if (held > max_held)
                        max_held = held;
                if (i % 64 == 0)
                        (void)sd_event_run(event, 0);
        }
        pump(10 * USEC_PER_MSEC);
        CHECK(rec.gone == 1 && strstr(rec.gone_reason, "does not read"), "dropped after %u requests: %s", i,
              rec.gone_reason);
        CHECK(max_held <= l.max_output_bytes, "queue bounded: %zu", max_held);
        peer_free(p);
        control_server_free(s);

        /* The same with room to queue, but no byte taken for the stall timeout. */
        rec = (Recorder){};
        s = server_new(&rec, NULL);
        l.max_output_bytes = 16 << 20;
        l.output_stall_usec = USEC_PER_SEC;
        control_server_set_limits(s, &l);
        q = child_peer(s);
        CHECK(peer_hello(q, NULL), "hello");
        for (i = 0; i < 100000; i++)
                control_server_request(s, PROTO_REQUEST_GC, PROTO_LEVEL_OK);
        CHECK(rec.gone == 0 && control_server_buffered_bytes(s) > 0, "queued, still connected");
        pump(3 * USEC_PER_SEC); /* the 1 s stall timeout, with room for a loaded machine */
        CHECK(rec.gone == 1 && strstr(rec.gone_reason, "stalled"), "dropped at the stall timeout: %s",
              rec.gone_reason);
        peer_free(q);
        control_server_free(s);
}

static void test_max_connections(void)
{
        Recorder rec = {};
        ControlServer *s = server_new(&rec, NULL);
        ControlLimits l = CONTROL_LIMITS_DEFAULT;
        char *tmp = make_tmpdir(), *path = NULL;
        Peer *p[5];
        unsigned served = 0, refused = 0;

        l.max_connections = 3;
        control_server_set_limits(s, &l);
        CHECK(control_server_listen(s, tmp, &path) == 0, "listen");
        for (unsigned i = 0; i < 5; i++) {
                p[i] = peer_connect(path);
                pump(20 * USEC_PER_MSEC);
        }
        for (unsigned i = 0; i < 5; i++) {
                if (p[i] && peer_hello(p[i], NULL))
                        served++;
                else
                        refused++;
        }
        CHECK(served == 3 && refused == 2, "served %u, refused %u", served, refused);
        for (unsigned i = 0; i < 5; i++)
                peer_free(p[i]);
        control_server_free(s);
        rmdir(tmp);
        free(path);
        free(tmp);
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        log_set_max_level(argc > 1 ? LOG_DEBUG : LOG_WARNING);
        CHECK(sd_event_new(&event) >= 0, "sd_event_new");

        test_handshake();
        test_stats_asked_once();
        test_listen_dir();
        test_peer_check();
        test_split_and_resync();
        test_bad_input();
        test_capture();
        test_arm();
        test_armed_capture_awaited();
        test_endless_line();
        test_never_reads();
        test_max_connections();
        test_trickle();
        test_flood();

        sd_event_unref(event);
        return check_finish("test-control");
}
