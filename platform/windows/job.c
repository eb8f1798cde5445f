/* SPDX-License-Identifier: MIT */
/*
 * The Windows sandbox: one Job Object per child, unnamed and not inheritable,
 * with KILL_ON_JOB_CLOSE (the tree dies with memgov's last handle, even when
 * memgov itself is killed) and never BREAKAWAY_OK. memory-max is
 * JobMemoryLimit and ProcessMemoryLimit (a hard cap on committed memory: an
 * allocation past it fails, nothing is killed); memory-high is a
 * notification-only limit (JobObjectNotificationLimitInformation). The job's
 * messages reach memgov through a completion port (job-source.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../queue.h"
#include "job-source.h"
#include "job.h"
#include "win-util.h"

/* What a job's processes exit with when memgov ends them: 128 + SIGKILL, as a killed child reports on
 * Linux, so scripts read the same status on both. */
#define JOB_KILL_EXIT_CODE 137

struct PlatformSandbox {
        HANDLE job, port;
        JobSource *source;
        JobSource *port_source; /* the real one behind source, for the channel's completions */
        char path[300];
        uint64_t max_bytes, high_bytes;
        uint64_t events_high, events_max;
        HANDLE child_process; /* the spawned child, for its exit code (spawn.c) */
        uint32_t child_pid;
};

/* The port Ctrl-C is posted to: the newest sandbox's. The console handler reads it on its own thread. */
static HANDLE volatile interrupt_port;

const char *platform_backend_to_string(PlatformBackend b)
{
        switch (b) {
        case PLATFORM_BACKEND_JOBOBJECT:
                return "Windows Job Object";
        case PLATFORM_BACKEND_CGROUP2:
                return "cgroup v2";
        case PLATFORM_BACKEND_CGROUP1:
                return "cgroup v1";
        case PLATFORM_BACKEND_HYBRID:
                return "hybrid (cgroup v1 controllers, cgroup2 at unified/)";
        case PLATFORM_BACKEND_NONE:
                break;
        }
        return "none";
}

const char *platform_event_to_string(PlatformEventKind k)
{
        static const char *const names[_PLATFORM_EVENT_MAX] = {
                [PLATFORM_EVENT_TIMEOUT] = "tick",          [PLATFORM_EVENT_NEW_PROCESS] = "new-process",
                [PLATFORM_EVENT_EXIT_PROCESS] = "exit",     [PLATFORM_EVENT_EMPTY] = "empty",
                [PLATFORM_EVENT_MEMORY_MAX] = "memory-max", [PLATFORM_EVENT_MEMORY_HIGH] = "memory-high",
                [PLATFORM_EVENT_INTERRUPT] = "interrupt",   [PLATFORM_EVENT_CHANNEL] = "channel",
        };
        return (unsigned)k < _PLATFORM_EVENT_MAX ? names[k] : "unknown";
}

int platform_probe(const char *cgroup_root, PlatformInfo *ret, PlatformError *err)
{
        *ret = (PlatformInfo){.backend = PLATFORM_BACKEND_JOBOBJECT, .memory_controller = true};
        return 0;
}

static int check_options(const SandboxOptions *o, PlatformError *err)
{
        if (o->parent) {
                win_fail(err,
                         "--parent names a cgroup; Windows has none (each child gets its own Job Object)");
                return -EINVAL;
        }
        if (o->cgroup_root) {
                win_fail(err,
                         "a cgroup root was given; Windows has no cgroups (each child gets a Job Object)");
                return -EINVAL;
        }
        if (o->swap_max_set) {
                win_fail(
                        err,
                        "--swap-max has no counterpart on Windows: a Job Object limits committed memory, which includes what is paged out");
                return -EOPNOTSUPP;
        }
        return 0;
}

int platform_sandbox_plan(const SandboxOptions *o, char **ret_path, char **ret_supervisor,
                          PlatformError *err)
{
        char buf[300];
        char *p;
        int r;

        r = check_options(o, err);
        if (r < 0)
                return r;
        snprintf(buf, sizeof(buf), "job object %s", o->name ? o->name : "memgov");
        p = strdup(buf);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        if (ret_supervisor)
                *ret_supervisor = NULL;
        return 0;
}

static int set_hard_limits(PlatformSandbox *s, uint64_t max_bytes)
{
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext = {};

        /* Breakaway (JOB_OBJECT_LIMIT_BREAKAWAY_OK, _SILENT_BREAKAWAY_OK) is never allowed: nothing the
         * child starts may leave the job. */
        ext.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if (max_bytes != PLATFORM_UNLIMITED) {
                if (max_bytes > SIZE_MAX)
                        return -ERANGE;
                ext.BasicLimitInformation.LimitFlags |=
                        JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_PROCESS_MEMORY;
                ext.JobMemoryLimit = (SIZE_T)max_bytes;
                ext.ProcessMemoryLimit = (SIZE_T)max_bytes;
        }
        if (!SetInformationJobObject(s->job, JobObjectExtendedLimitInformation, &ext, sizeof(ext)))
                return win_last_errno();
        return 0;
}

int platform_sandbox_set_max(PlatformSandbox *s, uint64_t bytes)
{
        int r = set_hard_limits(s, bytes);

        if (r < 0)
                return r;
        s->max_bytes = bytes;
        return 0;
}

int platform_sandbox_set_high(PlatformSandbox *s, uint64_t bytes)
{
        JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION n = {};

        if (bytes != PLATFORM_UNLIMITED) {
                n.LimitFlags = JOB_OBJECT_LIMIT_JOB_MEMORY;
                n.JobMemoryLimit = bytes;
        }
        if (!SetInformationJobObject(s->job, JobObjectNotificationLimitInformation, &n, sizeof(n)))
                return win_last_errno();
        s->high_bytes = bytes;
        return 0;
}

static BOOL WINAPI on_console_ctrl(DWORD type)
{
        /* Ctrl-C and Ctrl-Break reach every process on the console, the child's included, as a terminal's
         * signal reaches its foreground process group: memgov only has to stop within the grace period. */
        if (interrupt_port &&
            PostQueuedCompletionStatus(interrupt_port, type, JOB_SOURCE_KEY_INTERRUPT, NULL))
                return TRUE;
        return FALSE;
}

static int open_port(PlatformSandbox *s)
{
        JOBOBJECT_ASSOCIATE_COMPLETION_PORT acp;
        JobSource *real;
        int r;

        s->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
        if (!s->port)
                return win_last_errno();
        acp = (JOBOBJECT_ASSOCIATE_COMPLETION_PORT){.CompletionKey = (PVOID)JOB_SOURCE_KEY_JOB,
                                                    .CompletionPort = s->port};
        if (!SetInformationJobObject(s->job, JobObjectAssociateCompletionPortInformation, &acp, sizeof(acp)))
                return win_last_errno();
        r = job_source_new_port(s->job, s->port, &real);
        if (r < 0)
                return r;
        s->port_source = real;
        s->source = job_source_wrap(real);
        return 0;
}

PlatformSandbox *platform_sandbox_free(PlatformSandbox *s)
{
        if (!s)
                return NULL;
        if (s->port && interrupt_port == s->port) {
                interrupt_port = NULL;
                SetConsoleCtrlHandler(on_console_ctrl, FALSE);
        }
        if (s->source)
                s->source->free(s->source);
        if (s->child_process)
                CloseHandle(s->child_process);
        if (s->port)
                CloseHandle(s->port);
        /* KILL_ON_JOB_CLOSE: closing the last handle ends whatever still runs in the job. */
        if (s->job)
                CloseHandle(s->job);
        free(s);
        return NULL;
}

int platform_sandbox_create(const SandboxOptions *o, PlatformSandbox **ret, PlatformError *err)
{
        PlatformSandbox *s;
        int r;

        r = check_options(o, err);
        if (r < 0)
                return r;
        if (o->memory_high_bytes != PLATFORM_UNLIMITED && o->memory_high_bytes > o->memory_max_bytes) {
                win_fail(err, "memory-high is above memory-max");
                return -EINVAL;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        snprintf(s->path, sizeof(s->path), "job object %s", o->name ? o->name : "memgov");
        s->max_bytes = o->memory_max_bytes;
        s->high_bytes = PLATFORM_UNLIMITED;

        /* Unnamed, and NULL security attributes: the handle is not inheritable and no one can open it. */
        s->job = CreateJobObjectA(NULL, NULL);
        if (!s->job) {
                r = win_last_errno();
                win_fail(err, "cannot create a Job Object: error %lu", GetLastError());
        } else if ((r = set_hard_limits(s, o->memory_max_bytes)) < 0)
                win_fail(err, "cannot set the Job Object's memory limit (%" PRIu64 " bytes): %s",
                         o->memory_max_bytes, strerror(-r));
        else if ((r = open_port(s)) < 0)
                win_fail(err, "cannot attach a completion port to the Job Object: %s", strerror(-r));
        if (r < 0) {
                platform_sandbox_free(s);
                return r;
        }
        if (o->memory_high_bytes != PLATFORM_UNLIMITED) {
                r = platform_sandbox_set_high(s, o->memory_high_bytes);
                if (r < 0) {
                        /* Not fatal: the law still steers toward memory-high from its samples; only the
                         * early notification is lost. Told to the caller, who says so. */
                        s->high_bytes = o->memory_high_bytes;
                        win_fail(
                                err,
                                "memory-high: this system refused a notification limit on the Job Object (%s); memory-high is followed from samples only",
                                strerror(-r));
                }
        }
        interrupt_port = s->port;
        (void)SetConsoleCtrlHandler(on_console_ctrl, TRUE);
        *ret = s;
        return 0;
}

const char *platform_sandbox_path(const PlatformSandbox *s)
{
        return s->path;
}

int platform_sandbox_has_pid(const PlatformSandbox *s, pid_t pid)
{
        /* Windows lets IsProcessInJob() do with the limited right; Wine wants the full one. */
        HANDLE process = OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, (DWORD)pid);
        BOOL in = FALSE;
        int r = 0;

        if (!process)
                return win_last_errno();
        if (!IsProcessInJob(process, s->job, &in))
                r = win_last_errno();
        CloseHandle(process);
        return r < 0 ? r : in ? 1 : 0;
}

int platform_sandbox_pressure_path(PlatformSandbox *s, char **ret)
{
        (void)s;
        (void)ret;
        return -EOPNOTSUPP;
}

int platform_sandbox_populated(PlatformSandbox *s, bool *ret)
{
        JOBOBJECT_BASIC_ACCOUNTING_INFORMATION basic = {};

        if (!QueryInformationJobObject(s->job, JobObjectBasicAccountingInformation, &basic, sizeof(basic),
                                       NULL))
                return win_last_errno();
        *ret = basic.ActiveProcesses > 0;
        return 0;
}

int platform_sandbox_destroy(PlatformSandbox *s)
{
        bool populated = false;
        int r = platform_sandbox_populated(s, &populated);

        if (r < 0)
                return r;
        /* An empty job has nothing to remove: it goes with its handle in platform_sandbox_free(). */
        return populated ? -EBUSY : 0;
}

int platform_sandbox_kill(PlatformSandbox *s)
{
        /* Race-free against CreateProcess inside the job: the job itself is terminated. */
        if (!TerminateJobObject(s->job, JOB_KILL_EXIT_CODE))
                return win_last_errno();
        return 0;
}

int platform_sandbox_current(PlatformSandbox *s, uint64_t *ret)
{
        JobAccounting a;
        int r = s->source->accounting(s->source, &a);

        if (r < 0)
                return r;
        *ret = a.current_bytes;
        return 0;
}

int platform_sandbox_sample(PlatformSandbox *s, PlatformSample *ret)
{
        JobAccounting a;
        int r = s->source->accounting(s->source, &a);

        if (r < 0)
                return r;
        *ret = (PlatformSample){
                .current_bytes = a.current_bytes,
                .peak_bytes = a.peak_bytes,
                .max_bytes = s->max_bytes,
                .high_bytes = s->high_bytes,
                .events_high = s->events_high,
                /* A refused allocation is both "at the limit" and "failed": Windows has no reclaim to try
                 * first and kills nothing, so the program sees the failure itself. */
                .events_max = s->events_max,
                .events_oom = s->events_max,
                /* Committed memory is anonymous memory: a job's file cache is not charged to it. */
                .anon_bytes = a.current_bytes,
        };
        return 0;
}

int platform_sandbox_next_event(PlatformSandbox *s, uint64_t timeout_usec, PlatformEvent *ret)
{
        uint64_t ms = (timeout_usec + 999) / 1000;
        PlatformEvent e;
        int r;

        r = s->source->next_event(s->source, ms >= INFINITE ? INFINITE - 1 : (uint32_t)ms, &e);
        if (r < 0)
                return r;
        if (e.kind == PLATFORM_EVENT_MEMORY_MAX)
                s->events_max++;
        else if (e.kind == PLATFORM_EVENT_MEMORY_HIGH)
                s->events_high++;
        *ret = e;
        return 0;
}

/* Linux's pollable descriptors and PSI: Windows has no counterpart; the completion port replaces them. */
int platform_sandbox_memory_events_fd(PlatformSandbox *s)
{
        return -EOPNOTSUPP;
}

int platform_sandbox_populated_fd(PlatformSandbox *s)
{
        return -EOPNOTSUPP;
}

int platform_watch_ack(int fd)
{
        return -EOPNOTSUPP;
}

int platform_sandbox_watch_kind(PlatformSandbox *s, int fd)
{
        return -EOPNOTSUPP; /* no descriptors to wait on: the completion port replaces them */
}

int platform_sandbox_limits_watch(PlatformSandbox *s, int *ret_fd)
{
        return -EOPNOTSUPP; /* the Job Object's limits are memgov's own: nobody else resizes them */
}

int platform_limits_watch_ack(PlatformSandbox *s)
{
        return -EOPNOTSUPP;
}

/* A Job Object counts no page faults for its processes as a whole: growth is seen at the next paced sample.
 */
int platform_sandbox_faults_watch(PlatformSandbox *s, PlatformFaultsWatch **ret)
{
        return -EOPNOTSUPP;
}

int platform_faults_watch_fd(PlatformFaultsWatch *w)
{
        return -EOPNOTSUPP;
}

int platform_faults_watch_arm(PlatformFaultsWatch *w)
{
        return -EOPNOTSUPP;
}

int platform_faults_watch_disarm(PlatformFaultsWatch *w)
{
        return -EOPNOTSUPP;
}

PlatformFaultsWatch *platform_faults_watch_free(PlatformFaultsWatch *w)
{
        return NULL;
}

int platform_sandbox_pressure_trigger(PlatformSandbox *s, PlatformPressure which, uint64_t stall_usec,
                                      uint64_t window_usec, int *ret_fd, uint64_t *ret_window_usec)
{
        return -EOPNOTSUPP;
}

int platform_sandbox_reclaim(PlatformSandbox *s, uint64_t bytes)
{
        /* Committed memory cannot be taken back from outside the process (trimming the working set only
         * pages it out, and the job limit counts commit): only the runtime inside can release it. */
        return -EOPNOTSUPP;
}

uint64_t platform_monotonic_usec(void)
{
        static LARGE_INTEGER freq;
        LARGE_INTEGER now;

        if (freq.QuadPart == 0)
                QueryPerformanceFrequency(&freq);
        QueryPerformanceCounter(&now);
        return (uint64_t)(now.QuadPart / freq.QuadPart) * 1000000u +
               (uint64_t)(now.QuadPart % freq.QuadPart) * 1000000u / (uint64_t)freq.QuadPart;
}

HANDLE win_sandbox_job(PlatformSandbox *s)
{
        return s->job;
}

HANDLE win_sandbox_port(PlatformSandbox *s)
{
        return s->port;
}

JobSource *win_sandbox_port_source(PlatformSandbox *s)
{
        return s->port_source;
}

void win_sandbox_set_child(PlatformSandbox *s, HANDLE process, uint32_t pid)
{
        if (s->child_process)
                CloseHandle(s->child_process);
        s->child_process = process;
        s->child_pid = pid;
}

int platform_child_exit_status(PlatformSandbox *s, const PlatformChild *c, int *ret)
{
        DWORD code;

        if (!s->child_process || (uint32_t)c->pid != s->child_pid)
                return -ESRCH;
        if (WaitForSingleObject(s->child_process, 0) != WAIT_OBJECT_0)
                return -EAGAIN;
        if (!GetExitCodeProcess(s->child_process, &code))
                return win_last_errno();
        *ret = (int)code;
        return 0;
}
