/* SPDX-License-Identifier: MIT */
/*
 * The C agent: one thread that polls the socket and a stop pipe, frames and
 * parses lines with policy/proto.c (compiled into this library), and acts.
 */
#include "memgov-agent.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../../policy/proto.h"

/* libmemgov-preload.so carries this code too, but exports none of it (preload.c). */
#ifdef MEMGOV_AGENT_PRELOAD
#define API
#else
#define API __attribute__((visibility("default")))
#endif
#define MAX_CALLBACKS  8
#define SEND_TIMEOUT_S 5

typedef struct Agent {
        pthread_t thread;
        int fd;        /* the connection, -1 between connections */
        int inherited; /* fd came from MEMGOV_FD or the options: no reconnecting */
        char *socket_path;
        char *runtime_version;
        unsigned stats_interval_ms; /* 0: none */
        int stop_pipe[2];
        uint64_t releases;
        ProtoFramer in;
} Agent;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Agent *running;

static struct {
        MemgovTargetCallback cb;
        void *userdata;
} target_cbs[MAX_CALLBACKS];
static struct {
        MemgovShedCallback cb;
        void *userdata;
} shed_cbs[MAX_CALLBACKS];

static void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void agent_log(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("memgov agent: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

API int memgov_agent_on_target(MemgovTargetCallback cb, void *userdata)
{
        int r = -ENOSPC;

        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < MAX_CALLBACKS; i++)
                if (!target_cbs[i].cb) {
                        target_cbs[i].cb = cb;
                        target_cbs[i].userdata = userdata;
                        r = 0;
                        break;
                }
        pthread_mutex_unlock(&lock);
        return r;
}

API int memgov_agent_on_shed(MemgovShedCallback cb, void *userdata)
{
        int r = -ENOSPC;

        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < MAX_CALLBACKS; i++)
                if (!shed_cbs[i].cb) {
                        shed_cbs[i].cb = cb;
                        shed_cbs[i].userdata = userdata;
                        r = 0;
                        break;
                }
        pthread_mutex_unlock(&lock);
        return r;
}

static void call_target_cbs(uint64_t bytes, MemgovLevel level)
{
        __typeof__(target_cbs) copy;

        pthread_mutex_lock(&lock);
        memcpy(copy, target_cbs, sizeof(copy));
        pthread_mutex_unlock(&lock);
        for (size_t i = 0; i < MAX_CALLBACKS && copy[i].cb; i++)
                copy[i].cb(bytes, level, copy[i].userdata);
}

static void call_shed_cbs(MemgovLevel level)
{
        __typeof__(shed_cbs) copy;

        pthread_mutex_lock(&lock);
        memcpy(copy, shed_cbs, sizeof(copy));
        pthread_mutex_unlock(&lock);
        for (size_t i = 0; i < MAX_CALLBACKS && copy[i].cb; i++)
                copy[i].cb(level, copy[i].userdata);
}

typedef int (*MallctlFn)(const char *, void *, size_t *, void *, size_t);

static MallctlFn jemalloc_mallctl(void)
{
        /* Present only when jemalloc is linked in or preloaded. */
        return (MallctlFn)dlsym(RTLD_DEFAULT, "mallctl");
}

static void release_memory(Agent *a)
{
        MallctlFn mallctl = jemalloc_mallctl();

        if (mallctl) {
                /* 4096 is MALLCTL_ARENAS_ALL. */
                (void)mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
        } else {
#ifdef __GLIBC__
                (void)malloc_trim(0);
#endif
        }
        a->releases++;
}

static uint64_t rss_bytes(void)
{
        unsigned long long size = 0, resident = 0;
        FILE *f = fopen("/proc/self/statm", "re");

        if (!f)
                return 0;
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
                resident = 0;
        fclose(f);
        return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t heap_bytes(void)
{
        MallctlFn mallctl = jemalloc_mallctl();

        if (mallctl) {
                uint64_t epoch = 1;
                size_t allocated = 0, len = sizeof(allocated), elen = sizeof(epoch);
                /* jemalloc's statistics are a snapshot refreshed by writing the epoch. */
                (void)mallctl("epoch", &epoch, &elen, &epoch, sizeof(epoch));
                if (mallctl("stats.allocated", &allocated, &len, NULL, 0) == 0)
                        return allocated;
                return 0;
        }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
        struct mallinfo2 mi = mallinfo2();
        return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#else
        return 0;
#endif
}

static int agent_send(Agent *a, const char *line, int n)
{
        if (n < 0)
                return n;
        for (size_t off = 0; off < (size_t)n;) {
                ssize_t k = send(a->fd, line + off, (size_t)n - off, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (size_t)k;
        }
        return 0;
}

static int send_stats(Agent *a)
{
        char line[PROTO_LINE_MAX + 1];
        ProtoStats st = {
                .total_bytes = rss_bytes(),
                .heap_live_bytes = heap_bytes(),
                .gc_count = a->releases,
                .gc_cpu_fraction = 0,
        };

        return agent_send(a, line, proto_format_stats(line, sizeof(line), &st));
}

static int send_hello(Agent *a)
{
        char line[PROTO_LINE_MAX + 1];
        ProtoHello h = {
                .version = PROTO_VERSION,
                .runtime = "c",
                .runtime_version = a->runtime_version,
                .pid = (uint64_t)getpid(),
                .caps = "limit,gc,release,shed,stats",
        };

        return agent_send(a, line, proto_format_hello(line, sizeof(line), &h));
}

/* CLOCK_MONOTONIC, memgov's clock: an applied's at_us= is read against it. */
static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
        return now_usec() / 1000;
}

static int handle_target(Agent *a, const ProtoMessage *m)
{
        char line[PROTO_LINE_MAX + 1];
        uint64_t seq, bytes;
        ProtoLevel level;
        int r;

        if (proto_get_u64(m, "seq", &seq) < 0 || proto_get_limit(m, "bytes", &bytes) < 0 ||
            proto_get_level(m, "level", &level) < 0)
                return -EBADMSG;
        /* A C heap has no limit to set: the program's callbacks are how it follows the target. */
        call_target_cbs(bytes, (MemgovLevel)level);
        r = agent_send(a, line, proto_format_applied(line, sizeof(line), seq, bytes, now_usec()));
        return r;
}

/* 1: memgov said bye; 0: go on; < 0: close. */
static int handle_line(Agent *a, char *line, size_t len)
{
        const char *reason = NULL;
        ProtoMessage m;
        ProtoLevel level;
        uint64_t v;
        int r;

        r = proto_parse(line, len, &m, &reason);
        if (r < 0) {
                agent_log("malformed line from memgov (%s), closing the connection", reason);
                return r;
        }
        if (strcmp(m.type, "welcome") == 0) {
                if (proto_get_u64(&m, "v", &v) < 0 || v != PROTO_VERSION) {
                        agent_log("memgov speaks another protocol version, closing the connection");
                        (void)agent_send(a, "bye reason=version\n", 19);
                        return -EPROTO;
                }
        } else if (strcmp(m.type, "target") == 0) {
                r = handle_target(a, &m);
                if (r == -EBADMSG)
                        agent_log("malformed target from memgov, closing the connection");
                return r;
        } else if (strcmp(m.type, "gc") == 0 || strcmp(m.type, "release") == 0) {
                release_memory(a);
        } else if (strcmp(m.type, "shed") == 0) {
                if (proto_get_level(&m, "level", &level) < 0) {
                        agent_log("malformed shed from memgov, closing the connection");
                        return -EBADMSG;
                }
                call_shed_cbs((MemgovLevel)level);
        } else if (strcmp(m.type, "stats?") == 0) {
                return send_stats(a);
        } else if (strcmp(m.type, "bye") == 0)
                return 1;
        /* Anything else comes from a newer memgov: ignored. */
        return 0;
}

/* Reads what is there and handles complete lines. 1 bye, 0 go on, < 0 closed or broken. */
static int read_lines(Agent *a)
{
        const char *reason;
        char *p, *line;
        size_t room = proto_framer_space(&a->in, &p), len;
        ssize_t n;
        int r;

        n = recv(a->fd, p, room, MSG_DONTWAIT);
        if (n == 0)
                return -ECONNRESET;
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (proto_check_bytes(p, (size_t)n, &reason) < 0) {
                agent_log("malformed bytes from memgov (%s), closing the connection", reason);
                return -EBADMSG;
        }
        proto_framer_commit(&a->in, (size_t)n);
        while ((r = proto_framer_next(&a->in, &line, &len)) > 0) {
                r = handle_line(a, line, len);
                if (r != 0)
                        return r;
        }
        if (r < 0)
                agent_log("line from memgov longer than %u bytes, closing the connection", PROTO_LINE_MAX);
        return r;
}

/* Serves one connection. 1: memgov said bye, 0: stopped, < 0: lost. */
static int serve(Agent *a)
{
        uint64_t next_stats = now_ms() + a->stats_interval_ms;
        int r;

        proto_framer_init(&a->in);
        r = send_hello(a);
        if (r < 0)
                return r;
        for (;;) {
                struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN},
                                      {.fd = a->stop_pipe[0], .events = POLLIN}};
                int timeout = -1;

                if (a->stats_interval_ms > 0) {
                        uint64_t now = now_ms();
                        timeout = next_stats > now ? (int)(next_stats - now) : 0;
                }
                r = poll(p, 2, timeout);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (p[1].revents)
                        return 0;
                if (p[0].revents) {
                        r = read_lines(a);
                        if (r != 0)
                                return r;
                }
                if (a->stats_interval_ms > 0 && now_ms() >= next_stats) {
                        next_stats = now_ms() + a->stats_interval_ms;
                        r = send_stats(a);
                        if (r < 0)
                                return r;
                }
        }
}

static int dial(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void set_send_timeout(int fd)
{
        /* memgov drops an agent that does not read; an agent must not hang on a memgov that does not. */
        struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Waits ms or until stopped; true when stopped. */
static bool wait_stop(Agent *a, int ms)
{
        struct pollfd p = {.fd = a->stop_pipe[0], .events = POLLIN};
        return poll(&p, 1, ms) > 0;
}

static void *agent_main(void *arg)
{
        Agent *a = arg;
        int backoff_ms = 250;

        for (;;) {
                if (a->fd < 0) {
                        a->fd = dial(a->socket_path);
                        if (a->fd < 0) {
                                if (wait_stop(a, backoff_ms))
                                        break;
                                backoff_ms = backoff_ms < 30000 ? backoff_ms * 2 : backoff_ms;
                                continue;
                        }
                        backoff_ms = 250;
                }
                set_send_timeout(a->fd);
                int r = serve(a);
                if (r == 0) /* stopped: say so */
                        (void)agent_send(a, "bye reason=stop\n", 16);
                close(a->fd);
                a->fd = -1;
                if (r >= 0 || a->inherited)
                        break;
                if (wait_stop(a, backoff_ms))
                        break;
        }
        return NULL;
}

static unsigned stats_interval_from_env(void)
{
        const char *s = getenv("MEMGOV_STATS_INTERVAL");
        char *end;
        double v;

        if (!s || !*s)
                return 1000;
        v = strtod(s, &end);
        if (end == s || v < 0)
                return 1000;
        if (strcmp(end, "ms") == 0)
                return (unsigned)v;
        if (strcmp(end, "s") == 0 || *end == '\0')
                return (unsigned)(v * 1000);
        if (strcmp(end, "m") == 0)
                return (unsigned)(v * 60000);
        return 1000;
}

static int take_inherited_fd(const char *text)
{
        char *end;
        long fd;
        int type = 0;
        socklen_t len = sizeof(type);

        errno = 0;
        fd = strtol(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || fd < 0 || fd > INT32_MAX)
                return -EBADF;
        if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
                return -EBADF;
        /* Ours now: programs this one starts must not inherit it, nor believe they own it. */
        if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        unsetenv("MEMGOV_FD");
        return (int)fd;
}

static Agent *agent_free(Agent *a)
{
        if (!a)
                return NULL;
        if (a->fd >= 0)
                close(a->fd);
        if (a->stop_pipe[0] >= 0)
                close(a->stop_pipe[0]);
        if (a->stop_pipe[1] >= 0)
                close(a->stop_pipe[1]);
        free(a->socket_path);
        free(a->runtime_version);
        free(a);
        return NULL;
}

/* The first options with size: up to and including no_periodic_stats. */
#define OPTIONS_SIZE_VER1 (offsetof(MemgovAgentOptions, no_periodic_stats) + sizeof(int))

/* The caller's options as this library's struct: defaults for what an older caller does not know, a
 * refusal for what a newer caller asks that this library does not know (copy_struct_from_user()'s rule). */
static int options_read(const MemgovAgentOptions *o, MemgovAgentOptions *ret)
{
        *ret = (MemgovAgentOptions)MEMGOV_AGENT_OPTIONS_INIT;
        if (!o)
                return 0;
        if (o->size == 0) { /* written before size: the fields of then, fd <= 0 for the environment */
                memcpy(ret, o, OPTIONS_SIZE_VER1);
                ret->size = sizeof(*ret);
                if (ret->fd <= 0)
                        ret->fd = -1;
                return 0;
        }
        if (o->size < OPTIONS_SIZE_VER1)
                return -EINVAL;
        for (size_t i = sizeof(*ret); i < o->size; i++)
                if (((const unsigned char *)o)[i] != 0)
                        return -E2BIG;
        memcpy(ret, o, o->size < sizeof(*ret) ? o->size : sizeof(*ret));
        ret->size = sizeof(*ret);
        return ret->fd < -1 ? -EBADF : 0;
}

static int agent_configure(Agent *a, const MemgovAgentOptions *options)
{
        const char *fd_text = getenv("MEMGOV_FD");
        MemgovAgentOptions opts;
        const MemgovAgentOptions *o = &opts;
        const char *path;
        int r;

        r = options_read(options, &opts);
        if (r < 0)
                return r;
        path = o->socket_path ? o->socket_path : getenv("MEMGOV_SOCKET");
        if (o->fd >= 0) {
                a->fd = o->fd;
                a->inherited = 1;
        } else if (fd_text && *fd_text) {
                a->fd = take_inherited_fd(fd_text);
                if (a->fd < 0)
                        return a->fd;
                a->inherited = 1;
        } else if (path && *path) {
                a->socket_path = strdup(path);
                if (!a->socket_path)
                        return -ENOMEM;
                /* Connected by the thread, which retries while memgov is not there. */
        } else
                return 0;

        if (o->runtime_version)
                a->runtime_version = strdup(o->runtime_version);
        else
                a->runtime_version = strdup("libmemgov-agent-" MEMGOV_VERSION);
        if (!a->runtime_version)
                return -ENOMEM;
        if (o->no_periodic_stats)
                a->stats_interval_ms = 0;
        else if (o->stats_interval_ms > 0)
                a->stats_interval_ms = o->stats_interval_ms;
        else
                a->stats_interval_ms = stats_interval_from_env();
        return 1;
}

API int memgov_agent_start(const MemgovAgentOptions *o)
{
        Agent *a;
        int r;

        pthread_mutex_lock(&lock);
        if (running) {
                pthread_mutex_unlock(&lock);
                return -EALREADY;
        }
        a = calloc(1, sizeof(*a));
        if (!a) {
                pthread_mutex_unlock(&lock);
                return -ENOMEM;
        }
        a->fd = a->stop_pipe[0] = a->stop_pipe[1] = -1;
        r = agent_configure(a, o);
        if (r > 0 && pipe2(a->stop_pipe, O_CLOEXEC) < 0)
                r = -errno;
        if (r > 0) {
                r = -pthread_create(&a->thread, NULL, agent_main, a);
                if (r == 0) {
                        running = a;
                        r = 1;
                }
        }
        if (r <= 0)
                agent_free(a);
        pthread_mutex_unlock(&lock);
        return r;
}

API void memgov_agent_stop(void)
{
        Agent *a;

        pthread_mutex_lock(&lock);
        a = running;
        running = NULL;
        pthread_mutex_unlock(&lock);
        if (!a)
                return;
        (void)!write(a->stop_pipe[1], "x", 1);
        pthread_join(a->thread, NULL);
        agent_free(a);
}
