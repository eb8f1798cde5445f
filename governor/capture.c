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
#include <unistd.h>

#include "../policy/macro.h"
#include "../platform/platform.h"
#include "../policy/units.h"
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

typedef struct Arm {
        unsigned agent_id;
        int64_t seq;
        uint64_t line_bytes;
        Taken file;
} Arm;

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
        /* The agent armed to capture by itself (docs/protocol.md, "Armed captures"), and the arm before it,
         * replaced or disarmed: an agent may have fired that one before the message that ended it came. */
        bool armed, have_prev, have_arm_sent;
        Arm arm, prev;
        usec_t arm_sent_usec;
        bool dir_made_for_arm; /* removed again at the end if nothing was written into it */
        bool dir_ready;        /* made (or found) once: capturer_prepare_dir() */
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
        /* An arm that never fired leaves no empty directory behind; one with files stays (ENOTEMPTY). */
        if (k->dir_made_for_arm)
                (void)rmdir(k->dir);
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

int capturer_prepare_dir(Capturer *k)
{
        int r;

        if (k->dir_ready)
                return 0;
        if (access(k->dir, F_OK) < 0)
                k->dir_made_for_arm = true;
        r = make_dir(k->dir);
        if (r < 0)
                return r;
        k->dir_ready = true;
        return 0;
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
static const AgentReport *pick_agent(Capturer *k, bool to_arm)
{
        const AgentReport *agents, *best = NULL;
        size_t n = control_server_agents(k->control, &agents);

        for (size_t i = 0; i < n; i++) {
                if (!agents[i].can_capture || (to_arm && !agents[i].can_arm) ||
                    capture_format_for_runtime(agents[i].runtime) == CAPTURE_FORMAT_NONE)
                        continue;
                if (!best || agents[i].heap_live_bytes > best->heap_live_bytes)
                        best = &agents[i];
        }
        return best;
}

static void remember(Capturer *k, const Taken *t);

static void capture_finish(Capturer *k)
{
        remember(k, &k->current);
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

/* k->current (named already) is under way: the answer with this seq from this agent ends it, or the
 * timeout. */
static void under_way(Capturer *k, int64_t seq, unsigned agent_id)
{
        int r;

        k->seq = seq;
        k->agent_id = agent_id;
        k->busy = true;
        k->have_last = true;
        k->last_usec = k->started_usec = now_usec(k);
        r = sd_event_add_time_relative(k->event, &k->timeout, CLOCK_MONOTONIC, CAPTURE_TIMEOUT_USEC, 0,
                                       on_timeout, k);
        if (r < 0)
                log_warning_errno(r, "Capture: no timeout for the answer (%m), waiting without one.");
}

/* Whether path is a regular file, and its size. */
static bool file_there(const char *path, uint64_t *ret_bytes)
{
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        if (ret_bytes)
                *ret_bytes = (uint64_t)st.st_size;
        return true;
}

static void disarm(Capturer *k, const char *why);

bool capturer_await_fired_arm(Capturer *k)
{
        Arm arm;

        if (k->busy)
                return false;
        /* The arm before the last may have fired before the re-arm that replaced it came. */
        if (k->have_prev && file_there(k->prev.file.path, NULL)) {
                arm = k->prev;
                k->have_prev = false;
                disarm(k, "the arm before it fired");
        } else if (k->armed && file_there(k->arm.file.path, NULL)) {
                arm = k->arm;
                k->armed = false;
        } else
                return false;
        k->current = arm.file;
        under_way(k, arm.seq, arm.agent_id);
        log_notice("Capture %s armed at the heap threshold is being written: waiting for the agent.",
                   k->current.path);
        return true;
}

/* memgov-NAME-PID-STAMP-SEQ.EXT, SEQ the seq of the message that asks for it. */
static int file_name(Capturer *k, CaptureFormat f, pid_t pid, char path[static PROTO_CAPTURE_PATH_MAX + 1])
{
        char stamp[UNITS_UTC_STRLEN];
        int n;

        /* Not strftime() or gmtime_r(): both read the time zone (/etc/localtime) at their first call, 14-29
         * ms in the VM at the first arm, on the loop. */
        units_format_utc(platform_realtime_usec() / USEC_PER_SEC, true, stamp, sizeof(stamp));
        n = snprintf(path, PROTO_CAPTURE_PATH_MAX + 1, "%s/memgov-%s-%d-%s-%" PRIu64 ".%s", k->dir, k->name,
                     (int)pid, stamp, control_server_next_seq(k->control), capture_format_extension(f));
        return n < 0 || n > (int)PROTO_CAPTURE_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The directory made, and room in the budget for a file of this format. */
static int make_room(Capturer *k, CaptureFormat f, uint64_t heap_live_bytes)
{
        uint64_t file = capture_expected_file_bytes(f, heap_live_bytes);
        int r = make_dir(k->dir);

        if (r < 0)
                return log_error_errno(r, "Capture: failed to create %s: %m", k->dir);
        /* Room for the new file first, so that the budget holds while it is written. */
        enforce_budget(k, k->config.budget_bytes > file ? k->config.budget_bytes - file : 0);
        return 0;
}

static void disarm(Capturer *k, const char *why)
{
        int64_t r;

        if (!k->armed)
                return;
        k->armed = false;
        k->prev = k->arm;
        k->have_prev = true;
        k->have_arm_sent = true;
        k->arm_sent_usec = now_usec(k);
        r = control_server_disarm(k->control, k->arm.agent_id);
        if (r < 0 && r != -ENOENT)
                log_warning_errno((int)r, "Capture: failed to disarm agent %u: %m, ignoring.",
                                  k->arm.agent_id);
        else
                log_debug("Capture: disarmed agent %u: %s.", k->arm.agent_id, why);
}

static int capture_send(Capturer *k, const AgentReport *a, CaptureFormat f, CaptureWhy why)
{
        int64_t seq;
        int r;

        /* One automatic capture per interval: this one, not also the armed one. */
        disarm(k, "a capture was asked for");
        k->current = (Taken){.format = f, .why = why};
        r = file_name(k, f, a->pid, k->current.path);
        if (r < 0)
                return log_error_errno(r, "Capture: the directory %s makes too long a path: %m", k->dir);
        r = make_room(k, f, a->heap_live_bytes);
        if (r < 0)
                return r;
        seq = control_server_capture(k->control, a->id, "heap", k->current.path);
        if (seq < 0)
                return log_error_errno((int)seq, "Capture: failed to ask agent %u for %s: %m", a->id,
                                       k->current.path);
        under_way(k, seq, a->id);
        return 1;
}

int capturer_start(Capturer *k, CaptureWhy why, uint64_t headroom_bytes, char *reason, size_t reason_size)
{
        const AgentReport *a = pick_agent(k, false);
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
        if (d.verdict == CAPTURE_REFUSE_TOO_SOON && why == CAPTURE_WHY_CANNOT_FIT && k->n_taken > 0 &&
            k->taken[k->n_taken - 1].why == CAPTURE_WHY_THRESHOLD && !k->taken[k->n_taken - 1].failed) {
                /* What the armed capture is for: the evidence was taken before the program got here. */
                snprintf(reason, reason_size, "capture on %s: the one taken at the heap threshold is %s",
                         capture_why_to_string(why), k->taken[k->n_taken - 1].path);
                log_notice("%s.", reason);
                return 0;
        }
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

static void remember(Capturer *k, const Taken *t)
{
        if (!t->failed)
                k->dir_made_for_arm = false;
        if (k->n_taken == POSTMORTEM_CAPTURES_MAX) {
                memmove(k->taken, k->taken + 1, sizeof(k->taken[0]) * (POSTMORTEM_CAPTURES_MAX - 1));
                k->n_taken--;
        }
        k->taken[k->n_taken++] = *t;
}

/* The armed capture fired: it is this interval's automatic capture, as if memgov had asked for it. */
static void armed_captured(Capturer *k, const Arm *arm, const ProtoCaptured *c)
{
        char line[UNITS_SIZE_STRLEN];
        Taken t = arm->file;
        struct stat st;

        k->have_last = true;
        k->last_usec = now_usec(k);
        units_format_size_human(arm->line_bytes, line, sizeof(line));
        if (c->error)
                snprintf(t.error, sizeof(t.error), "%s", c->error);
        else if (strcmp(c->path, t.path) != 0)
                snprintf(t.error, sizeof(t.error), "the agent wrote another path than the one armed");
        else if (stat(t.path, &st) < 0)
                snprintf(t.error, sizeof(t.error), "the agent says it wrote the file, but it is not there");
        else
                t.bytes = (uint64_t)st.st_size;
        t.failed = t.error[0] != '\0';
        if (t.failed)
                log_warning("Capture %s armed at a live heap of %s failed: %s.", t.path, line, t.error);
        else {
                log_notice("Captured %s (%" PRIu64 " bytes) on %s: the live heap passed %s.", t.path,
                           t.bytes, capture_why_to_string(t.why), line);
                k->refused[0] = '\0';
        }
        remember(k, &t);
        enforce_budget(k, k->config.budget_bytes);
}

void capturer_on_captured(Capturer *k, const AgentReport *a, const ProtoCaptured *c)
{
        struct stat st;

        if (k->armed && a->id == k->arm.agent_id && (int64_t)c->seq == k->arm.seq) {
                k->armed = false;
                armed_captured(k, &k->arm, c);
                return;
        }
        if (k->have_prev && a->id == k->prev.agent_id && (int64_t)c->seq == k->prev.seq) {
                /* It fired before the arm or disarm that ended it came: this interval's capture is taken. */
                Arm fired = k->prev;

                armed_captured(k, &fired, c);
                disarm(k, "the arm before it fired");
                k->have_prev = false;
                return;
        }
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

/*
 * The armed agent is gone, or the program ended, with no answer: an agent killed (by the kernel's OOM
 * killer, say) right after it wrote the file cannot say so. A file there is that evidence; it may be cut
 * short if the kill came while it was written, and the post-mortem says so.
 */
static bool settle_unanswered(Capturer *k, Taken *t)
{
        if (!file_there(t->path, &t->bytes))
                return false;
        k->have_last = true;
        k->last_usec = now_usec(k);
        log_notice(
                "Capture %s (%" PRIu64
                " bytes) armed at the heap threshold is there, but the agent never said it was done: it may be cut short.",
                t->path, t->bytes);
        return true;
}

static bool settle_armed(Capturer *k, const Arm *arm)
{
        Taken t = arm->file;

        if (!settle_unanswered(k, &t))
                return false;
        remember(k, &t);
        enforce_budget(k, k->config.budget_bytes);
        return true;
}

void capturer_arm(Capturer *k, bool have_line, const PolicyDecision *d, const PolicyConfig *c)
{
        const AgentReport *a = pick_agent(k, true), *agents;
        size_t n = control_server_agents(k->control, &agents);
        uint64_t others = 0;
        CaptureArmInput in;
        CaptureArmDecision ad;
        Arm next;
        char line[UNITS_SIZE_STRLEN];
        int64_t seq;
        int r;

        if (k->armed && (!a || a->id != k->arm.agent_id))
                disarm(k, "another agent holds the largest heap");
        for (size_t i = 0; a && i < n; i++)
                if (agents[i].id != a->id && agents[i].have_stats)
                        others += agents[i].heap_live_bytes;
        in = (CaptureArmInput){
                .now_usec = now_usec(k),
                .format = a ? capture_format_for_runtime(a->runtime) : CAPTURE_FORMAT_NONE,
                .have_line = have_line && d->ideal_bytes != POLICY_TARGET_NONE,
                .ideal_bytes = d->ideal_bytes,
                .headroom_bytes = d->headroom_bytes,
                .heap_headroom_permyriad = c->heap_headroom_permyriad,
                .heap_headroom_min_bytes = c->heap_headroom_min_bytes,
                .others_heap_live_bytes = others,
                .have_last = k->have_last,
                .last_usec = k->last_usec,
                .busy = k->busy,
                .armed = k->armed,
                .armed_line_bytes = k->arm.line_bytes,
                .have_sent = k->have_arm_sent,
                .sent_usec = k->arm_sent_usec,
        };
        capture_arm_decide(&k->config, &in, &ad);
        if (ad.verdict == CAPTURE_ARM_DISARM)
                disarm(k, "no automatic capture is allowed now");
        if (ad.verdict != CAPTURE_ARM_ARM)
                return;
        next = (Arm){.agent_id = a->id, .line_bytes = ad.line_bytes};
        next.file = (Taken){.format = in.format, .why = CAPTURE_WHY_THRESHOLD};
        /* The directory now, the agent cannot make it; but no old file is removed for a capture that may
         * never fire: the budget is enforced when it does. */
        if (file_name(k, in.format, a->pid, next.file.path) < 0)
                return;
        r = capturer_prepare_dir(k);
        if (r < 0) {
                log_warning_errno(r, "Capture: failed to create %s: %m, not arming.", k->dir);
                return;
        }
        k->have_arm_sent = true;
        k->arm_sent_usec = in.now_usec;
        seq = control_server_arm(k->control, a->id, "heap", ad.line_bytes, next.file.path);
        if (seq < 0) {
                log_warning_errno((int)seq, "Capture: failed to arm agent %u: %m, ignoring.", a->id);
                return;
        }
        next.seq = seq;
        units_format_size_human(ad.line_bytes, line, sizeof(line));
        /* The first arm is news; the line following the law's view after it is detail. */
        log_full(
                k->armed ? LOG_DEBUG : LOG_INFO,
                "Capture: armed agent %u (pid %d) to write %s once its live heap passes %s, where the law would start to count toward cannot-fit.",
                a->id, (int)a->pid, next.file.path, line);
        if (k->armed) {
                k->prev = k->arm;
                k->have_prev = true;
        }
        k->arm = next;
        k->armed = true;
}

void capturer_on_agent_gone(Capturer *k, const AgentReport *a)
{
        if (k->have_prev && a->id == k->prev.agent_id) {
                (void)settle_armed(k, &k->prev);
                k->have_prev = false;
        }
        if (k->armed && a->id == k->arm.agent_id) {
                (void)settle_armed(k, &k->arm);
                k->armed = false;
        }
        if (!k->busy || a->id != k->agent_id)
                return;
        /* An arm that fired and was then waited for (capturer_await_fired_arm()): its file is the evidence.
         */
        if (k->current.why == CAPTURE_WHY_THRESHOLD && settle_unanswered(k, &k->current))
                capture_finish(k);
        else
                capture_fail(k, "the agent went away before it answered");
}

void capturer_fill_postmortem(Capturer *k, Postmortem *p)
{
        /* The agent may still be there: an arm whose file is not is left as it is. */
        if (k->have_prev && settle_armed(k, &k->prev))
                k->have_prev = false;
        if (k->armed && settle_armed(k, &k->arm))
                k->armed = false;
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
