/* SPDX-License-Identifier: MIT */
#include "capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policy/macro.h"
#include "log.h"
#include "status.h"

/* A JVM dump of a few hundred MB under load takes seconds, and tens of seconds under emulation. */
#define CAPTURE_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define CAPTURE_FILES_MAX    256

typedef struct Taken {
        char path[PROTO_CAPTURE_PATH_MAX + 1];
        char error[160];
        bool failed;
        CaptureFormat format;
        CaptureWhy why;
        uint64_t bytes;
} Taken;

struct Capturer {
        sd_event *event;
        ControlServer *control;
        CaptureConfig config;
        char *dir, *name;
        capturer_done_t done;
        void *userdata;
        sd_event_source *timeout;
        /* The capture under way. */
        bool busy;
        int64_t seq;
        unsigned agent_id;
        Taken current;
        usec_t started_usec;
        bool have_last;
        usec_t last_usec;
        /* What this run captured, the newest POSTMORTEM_CAPTURES_MAX, oldest first. */
        size_t n_taken;
        Taken taken[POSTMORTEM_CAPTURES_MAX];
        char refused[CAPTURE_REASON_STRLEN];
};

int capture_dir_default(char **ret)
{
        return user_dir_default("/var/lib/memgov/captures", "XDG_STATE_HOME", ".local/state", ret);
}

int capturer_new(sd_event *e, ControlServer *control, const CaptureConfig *c, const char *dir,
                 const char *name, capturer_done_t done, void *userdata, Capturer **ret)
{
        _cleanup_free_ char *d = NULL, *n = NULL;
        Capturer *k;
        int r;

        if (dir)
                d = strdup(dir);
        else if ((r = capture_dir_default(&d)) < 0)
                return r;
        n = strdup(name ?: "group");
        if (!d || !n)
                return -ENOMEM;
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        *k = (Capturer){
                .event = sd_event_ref(e),
                .control = control,
                .config = *c,
                .dir = TAKE_PTR(d),
                .name = TAKE_PTR(n),
                .done = done,
                .userdata = userdata,
        };
        *ret = k;
        return 0;
}

Capturer *capturer_free(Capturer *k)
{
        if (!k)
                return NULL;
        sd_event_source_disable_unref(k->timeout);
        sd_event_unref(k->event);
        free(k->dir);
        free(k->name);
        free(k);
        return NULL;
}

bool capturer_busy(const Capturer *k)
{
        return k->busy;
}

static usec_t now_usec(const Capturer *k)
{
        uint64_t t = 0;

        (void)sd_event_now(k->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* mkdir -p, 0700: the profiles show what the program holds in memory. */
static int make_dir(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return negative_errno();
                if (!s)
                        return 0;
                *s = '/';
        }
}

/* Removes our oldest files until the rest take at most budget_bytes. */
static void enforce_budget(Capturer *k, uint64_t budget_bytes)
{
        CaptureFile files[CAPTURE_FILES_MAX];
        char *names[CAPTURE_FILES_MAX];
        size_t n = 0;
        DIR *d = opendir(k->dir);
        int dfd;

        if (!d)
                return;
        dfd = dirfd(d);
        for (struct dirent *de; n < CAPTURE_FILES_MAX && (de = readdir(d));) {
                struct stat st;

                if (!capture_name_is_ours(de->d_name) ||
                    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                names[n] = strdup(de->d_name);
                if (!names[n])
                        break;
                files[n] = (CaptureFile){
                        .name = names[n],
                        .mtime_usec = (uint64_t)st.st_mtim.tv_sec * USEC_PER_SEC +
                                      (uint64_t)st.st_mtim.tv_nsec / 1000,
                        .size_bytes = (uint64_t)st.st_size,
                };
                n++;
        }
        (void)capture_budget_plan(files, n, budget_bytes);
        for (size_t i = 0; i < n; i++) {
                if (files[i].remove) {
                        if (unlinkat(dfd, files[i].name, 0) < 0)
                                log_warning_errno(
                                        errno,
                                        "Failed to remove %s/%s for the capture budget: %m, ignoring.",
                                        k->dir, files[i].name);
                        else
                                log_info("Removed %s/%s (%" PRIu64 " bytes): the capture budget is %" PRIu64
                                         " bytes, oldest first.",
                                         k->dir, files[i].name, files[i].size_bytes, k->config.budget_bytes);
                }
                free(names[i]);
        }
        closedir(d);
}

/* The agent with the largest live heap among those that can capture: what filled the group is there. */
static const AgentReport *pick_agent(Capturer *k)
{
        const AgentReport *agents, *best = NULL;
        size_t n = control_server_agents(k->control, &agents);

        for (size_t i = 0; i < n; i++) {
                if (!agents[i].can_capture ||
                    capture_format_for_runtime(agents[i].runtime) == CAPTURE_FORMAT_NONE)
                        continue;
                if (!best || agents[i].heap_live_bytes > best->heap_live_bytes)
                        best = &agents[i];
        }
        return best;
}

static void capture_finish(Capturer *k)
{
        if (k->n_taken == POSTMORTEM_CAPTURES_MAX) {
                memmove(k->taken, k->taken + 1, sizeof(k->taken[0]) * (POSTMORTEM_CAPTURES_MAX - 1));
                k->n_taken--;
        }
        k->taken[k->n_taken++] = k->current;
        k->busy = false;
        k->timeout = sd_event_source_disable_unref(k->timeout);
        enforce_budget(k, k->config.budget_bytes);
        if (k->done)
                k->done(k->userdata);
}

static void capture_fail(Capturer *k, const char *why)
{
        k->current.failed = true;
        snprintf(k->current.error, sizeof(k->current.error), "%s", why);
        log_warning("Capture %s failed: %s.", k->current.path, why);
        capture_finish(k);
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
        Capturer *k = userdata;

        capture_fail(k, "no answer from the agent within 60s");
        return 0;
}

static int file_name(Capturer *k, CaptureFormat f, pid_t pid)
{
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        int n;

        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime_r(&t, &tm));
        n = snprintf(k->current.path, sizeof(k->current.path), "%s/memgov-%s-%d-%s-%" PRId64 ".%s", k->dir,
                     k->name, (int)pid, stamp, k->seq + 1, capture_format_extension(f));
        return n < 0 || (size_t)n >= sizeof(k->current.path) ? -ENAMETOOLONG : 0;
}

static int capture_send(Capturer *k, const AgentReport *a, CaptureFormat f, CaptureWhy why)
{
        int64_t seq;
        int r;

        k->current = (Taken){.format = f, .why = why};
        r = file_name(k, f, a->pid);
        if (r < 0)
                return log_error_errno(r, "Capture: the directory %s makes too long a path: %m", k->dir);
        r = make_dir(k->dir);
        if (r < 0)
                return log_error_errno(r, "Capture: failed to create %s: %m", k->dir);
        /* Room for the new file first, so that the budget holds while it is written. */
        enforce_budget(k,
                       k->config.budget_bytes > capture_expected_file_bytes(f, a->heap_live_bytes)
                               ? k->config.budget_bytes - capture_expected_file_bytes(f, a->heap_live_bytes)
                               : 0);
        seq = control_server_capture(k->control, a->id, "heap", k->current.path);
        if (seq < 0)
                return log_error_errno((int)seq, "Capture: failed to ask agent %u for %s: %m", a->id,
                                       k->current.path);
        k->seq = seq;
        k->agent_id = a->id;
        k->busy = true;
        k->have_last = true;
        k->last_usec = k->started_usec = now_usec(k);
        r = sd_event_add_time_relative(k->event, &k->timeout, CLOCK_MONOTONIC, CAPTURE_TIMEOUT_USEC, 0,
                                       on_timeout, k);
        if (r < 0)
                log_warning_errno(r, "Capture: no timeout for the answer (%m), waiting without one.");
        return 1;
}

int capturer_start(Capturer *k, CaptureWhy why, uint64_t headroom_bytes, char *reason, size_t reason_size)
{
        const AgentReport *a = pick_agent(k);
        CaptureInput in = {
                .now_usec = now_usec(k),
                .have_last = k->have_last,
                .last_usec = k->last_usec,
                .busy = k->busy,
                .format = a ? capture_format_for_runtime(a->runtime) : CAPTURE_FORMAT_NONE,
                .heap_live_bytes = a ? a->heap_live_bytes : 0,
                .headroom_bytes = headroom_bytes,
                .why = why,
        };
        CaptureDecision d;
        int r;

        capture_decide(&k->config, &in, &d);
        capture_decision_format(&in, &d, reason, reason_size);
        if (d.verdict != CAPTURE_GO) {
                log_notice("%s.", reason);
                snprintf(k->refused, sizeof(k->refused), "%s", reason);
                return 0;
        }
        r = capture_send(k, a, in.format, why);
        if (r > 0) {
                size_t n = strlen(reason);
                snprintf(reason + n, reason_size - n, " from agent %u (pid %d) into %s", a->id, (int)a->pid,
                         k->current.path);
                log_notice("%s.", reason);
        }
        return r;
}

void capturer_on_captured(Capturer *k, const AgentReport *a, const ProtoCaptured *c)
{
        struct stat st;

        if (!k->busy || a->id != k->agent_id || (int64_t)c->seq != k->seq) {
                log_debug("Capture: agent %u answered capture %" PRIu64 ", which is not the one under way.",
                          a->id, c->seq);
                return;
        }
        if (c->error) {
                capture_fail(k, c->error);
                return;
        }
        /* The agent's word for the size is checked against the file: the post-mortem names what is there. */
        if (strcmp(c->path, k->current.path) != 0) {
                capture_fail(k, "the agent wrote another path than the one asked for");
                return;
        }
        if (stat(k->current.path, &st) < 0) {
                capture_fail(k, "the agent says it wrote the file, but it is not there");
                return;
        }
        k->current.bytes = (uint64_t)st.st_size;
        log_notice("Captured %s (%" PRIu64 " bytes) on %s in %" PRIu64 "ms.", k->current.path,
                   k->current.bytes, capture_why_to_string(k->current.why),
                   (now_usec(k) - k->started_usec) / USEC_PER_MSEC);
        k->refused[0] = '\0';
        capture_finish(k);
}

void capturer_on_agent_gone(Capturer *k, const AgentReport *a)
{
        if (k->busy && a->id == k->agent_id)
                capture_fail(k, "the agent went away before it answered");
}

void capturer_fill_postmortem(const Capturer *k, Postmortem *p)
{
        p->n_captures = 0;
        for (size_t i = 0; i < k->n_taken; i++)
                p->captures[p->n_captures++] = (PostmortemCapture){
                        .path = k->taken[i].path,
                        .format = k->taken[i].format,
                        .why = k->taken[i].why,
                        .bytes = k->taken[i].bytes,
                        .error = k->taken[i].failed ? k->taken[i].error : NULL,
                };
        p->capture_refused = k->refused[0] ? k->refused : NULL;
}
