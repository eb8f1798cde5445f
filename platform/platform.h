/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one interface governor/ sees of the operating system: a sandbox (a cgroup
 * on Linux, a Job Object on Windows) that a child is spawned into, with memory
 * limits, samples, events, kill and cleanup.
 *
 * Conventions (systemd's): functions that can fail return a negative errno,
 * >= 0 on success; ret_* parameters are written only on success. Nothing here
 * logs above debug: the caller decides what a failure means and says so once.
 * Where a failure has a reason a person must read (a missing controller, a
 * cgroup with other processes in it), it is written to the caller's
 * PlatformError so the governor can print it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLATFORM_UNLIMITED UINT64_MAX

typedef struct PlatformError {
        char message[512];
} PlatformError;

/* What kind of sandbox this host offers, found once. */
typedef enum PlatformBackend {
        PLATFORM_BACKEND_NONE = 0,
        PLATFORM_BACKEND_CGROUP2,   /* pure cgroup v2, memory controller available */
        PLATFORM_BACKEND_CGROUP1,   /* legacy hierarchies only */
        PLATFORM_BACKEND_HYBRID,    /* v1 controllers plus a cgroup2 tree at .../unified */
        PLATFORM_BACKEND_JOBOBJECT, /* Windows */
} PlatformBackend;

typedef struct PlatformInfo {
        PlatformBackend backend;
        bool memory_controller; /* limits can be enforced by this backend */
        char root[256];     /* where groups are made: the cgroup v2 mount, v1's memory hierarchy, or "" */
        char unified[256];  /* hybrid: the cgroup2 mount beside the v1 hierarchies, else "" */
        char pressure[256]; /* where memory pressure is read from, for people ("" when none) */
} PlatformInfo;

/* What a backend calls memgov's limits, for people (`memgov explain`): the hard limit, the soft one, the
 * swap limit, the per-process limit beside the hard one, and the switch that kills the whole group at an
 * OOM; NULL where the backend has no such thing. Never NULL itself. */
typedef struct PlatformLimitNames {
        const char *max, *high, *swap, *max_per_process, *oom_group;
} PlatformLimitNames;
const PlatformLimitNames *platform_limit_names(PlatformBackend b);

/* cgroup_root: where cgroupfs is mounted (NULL: /sys/fs/cgroup). */
int platform_probe(const char *cgroup_root, PlatformInfo *ret, PlatformError *err);
const char *platform_backend_to_string(PlatformBackend b);

typedef struct SandboxOptions {
        const char *cgroup_root; /* NULL: /sys/fs/cgroup */
        const char *name;        /* the child group's leaf name */
        const char *parent;      /* NULL: memgov's own cgroup, after moving memgov to a leaf */
        uint64_t memory_max_bytes;
        uint64_t memory_high_bytes;
        uint64_t swap_max_bytes;
        bool swap_max_set;
} SandboxOptions;

typedef struct PlatformSandbox PlatformSandbox;

/* Where the sandbox would go, without changing anything (for `memgov explain`).
 * *ret_path is a malloc'd filesystem path; *ret_supervisor (if asked for) the
 * leaf memgov would first move itself into, or NULL when it stays put. */
int platform_sandbox_plan(const SandboxOptions *o, char **ret_path, char **ret_supervisor,
                          PlatformError *err);

/* Creates the sandbox and applies the limits. On failure nothing is left behind. */
int platform_sandbox_create(const SandboxOptions *o, PlatformSandbox **ret, PlatformError *err);
const char *platform_sandbox_path(const PlatformSandbox *s);

/* Whether pid runs in the sandbox or below it (a peer of the control socket claiming to be the child): 1 or
 * 0, or a negative errno when its membership cannot be read (it is gone, or a cgroup v1 host has no memory
 * line for it). Windows asks the Job Object (IsProcessInJob). */
int platform_sandbox_has_pid(const PlatformSandbox *s, pid_t pid);

/* Removes the sandbox. -EBUSY while anything still runs in it. */
int platform_sandbox_destroy(PlatformSandbox *s);
PlatformSandbox *platform_sandbox_free(PlatformSandbox *s);

/* Kills everything in the sandbox, race-free against forks where the kernel
 * allows (cgroup.kill, 5.14+), else by repeated sweeps of its process list. */
int platform_sandbox_kill(PlatformSandbox *s);

/* Whether any process is still in the sandbox. */
int platform_sandbox_populated(PlatformSandbox *s, bool *ret);

typedef struct PlatformSample {
        uint64_t current_bytes;
        uint64_t peak_bytes; /* PLATFORM_UNLIMITED when the kernel has no memory.peak */
        uint64_t max_bytes;  /* the limits in force now (v2: the lowest of the group's and its ancestors'),
                              * which someone else may have changed */
        uint64_t high_bytes;
        uint64_t events_low, events_high, events_max, events_oom, events_oom_kill;
        /* Where pressure comes as notifications rather than as trigger descriptors, how many so far stood
         * for a fired "some" and "full" trigger (cgroup v1's memory.pressure_level "medium", reclaim
         * struggling, and "critical", about to OOM: docs/cgroup-v1.md); zero elsewhere. */
        uint64_t pressure_some_notified, pressure_full_notified;
        /* The breakdown (memory.stat); zero where the kernel has no such key. */
        uint64_t anon_bytes, file_bytes, shmem_bytes, kernel_bytes, inactive_file_bytes;
        uint64_t anon_lru_bytes; /* inactive_anon + active_anon: mapped anon, shmem, and unmapped anon */
        /* Pressure on the group (memory.pressure): avg10 in hundredths of a percent, total stall in usec.
         * have_psi is false where the kernel has no PSI (built without it, or booted with psi=0). */
        bool have_psi;
        bool psi_system_wide; /* cgroup v1 without a cgroup2 twin: /proc/pressure/memory, the whole host's */
        uint32_t psi_some_avg10_permyriad, psi_full_avg10_permyriad;
        uint64_t psi_some_total_usec, psi_full_total_usec;
} PlatformSample;

/* Reads the counters, the breakdown and the pressure in one go. */
int platform_sandbox_sample(PlatformSandbox *s, PlatformSample *ret);
/* current_bytes alone, as platform_sandbox_sample() reads it: for a reading tied to a moment (an agent's
 * stats), without the rest. */
int platform_sandbox_current(PlatformSandbox *s, uint64_t *ret);

typedef enum PlatformPressure {
        PLATFORM_PRESSURE_SOME, /* some task stalled on memory */
        PLATFORM_PRESSURE_FULL, /* every non-idle task stalled at once */
} PlatformPressure;

/*
 * Arms a pressure trigger: the returned descriptor becomes readable with
 * POLLPRI when the group's tasks stalled on memory for stall_usec within
 * window_usec (POLLERR once the group is gone). Privileged callers get the
 * window they ask for (500 ms to 10 s); where that is refused the window is
 * rounded up to a multiple of 2 s, which kernels since 6.4 grant to
 * unprivileged callers (Debian's 6.1 too, as measured), with the stall scaled
 * along. *ret_window_usec says which was accepted. -EPERM (or -ENOENT/-EOPNOTSUPP without PSI) when no
 * trigger can be had: the caller samples avg10 instead.
 */
int platform_sandbox_pressure_trigger(PlatformSandbox *s, PlatformPressure which, uint64_t stall_usec,
                                      uint64_t window_usec, int *ret_fd, uint64_t *ret_window_usec);

/* The file a program in the sandbox watches for memory pressure as systemd's MEMORY_PRESSURE_WATCH names it
 * (the group's memory.pressure; cgroup v1: its cgroup2 twin's, else the host's), malloc'd. -EOPNOTSUPP
 * where there is none (Windows). */
int platform_sandbox_pressure_path(PlatformSandbox *s, char **ret);

/*
 * Actuators. Both can block for a long time (the writer does the reclaim
 * itself), so call them off the event loop. reclaim: memory.reclaim (5.19+;
 * -ENOENT before), -EAGAIN when the kernel could not reclaim it all.
 * set_high: memory.high; lowering it below usage makes the writer reclaim.
 */
int platform_sandbox_reclaim(PlatformSandbox *s, uint64_t bytes);
int platform_sandbox_set_high(PlatformSandbox *s, uint64_t bytes);
/* Whether a memory.high memgov sets with platform_sandbox_set_high() tells it when usage crosses it, so it
 * can serve as the law's guard: cgroup v2 (memory.events "high", and the kernel throttles over it) and a
 * Job Object (a notification-limit message). Not cgroup v1, whose soft limit neither throttles nor
 * notifies, nor observe mode, where set_high is refused. */
bool platform_sandbox_high_notifies(const PlatformSandbox *s);
/* The hard limit of a running sandbox (a policy reload): memory.max, memory.limit_in_bytes on v1, the Job
 * Object's memory limits. -EOPNOTSUPP in observe mode, where the limits are someone else's. */
int platform_sandbox_set_max(PlatformSandbox *s, uint64_t bytes);

/* Descriptors that become readable (POLLPRI/EPOLLPRI on Linux) when the
 * sandbox's events change: the memory event counters, and the populated state.
 * After each wake-up, call platform_watch_ack() on the descriptor: the kernel
 * keeps reporting the change until it is read through that very descriptor,
 * so a level-triggered loop that skips it spins. */
int platform_sandbox_memory_events_fd(PlatformSandbox *s);
int platform_sandbox_populated_fd(PlatformSandbox *s);
int platform_watch_ack(int fd);

/*
 * A descriptor that becomes readable (POLLIN) when someone writes the limits
 * the samples read: memory.max and memory.high (v1: memory.limit_in_bytes and
 * memory.soft_limit_in_bytes) of the group and of every ancestor up to the
 * mount's root (on v2 the samples report the lowest of them, as a parent's
 * limit binds the group too). A resize is then seen when it is written,
 * not at the next sample. After each wake-up, call platform_limits_watch_ack().
 * The sandbox owns the descriptor, and while it watches, a sample reads the
 * limits again only after a write (v2). -EOPNOTSUPP where there is no such
 * watch (Windows: a Job Object's limits are memgov's own); the samples still
 * read the limits, so a resize is then seen at the next sample.
 */
int platform_sandbox_limits_watch(PlatformSandbox *s, int *ret_fd);
int platform_limits_watch_ack(PlatformSandbox *s);

/*
 * Growth seen when it begins, before any limit is crossed: a descriptor
 * (platform_faults_watch_fd()) that becomes readable (POLLIN) at the first page
 * fault a process in the sandbox takes after the watch was armed. On that wake-up
 * call platform_faults_watch_disarm(), and platform_faults_watch_arm() when the
 * caller has looked (sampled): only then does the next fault wake it again, so
 * a program faulting flat out wakes the loop once per arming. A still group
 * wakes nobody.
 * -EOPNOTSUPP where there is no such count (Windows, cgroup v1 without a cgroup2 twin); the kernel's
 * error where perf events are refused (EACCES: kernel.perf_event_paranoid without
 * CAP_PERFMON; EPERM: a container's seccomp filter). Growth is then seen at the
 * next paced sample.
 */
typedef struct PlatformFaultsWatch PlatformFaultsWatch;
int platform_sandbox_faults_watch(PlatformSandbox *s, PlatformFaultsWatch **ret);
int platform_faults_watch_fd(PlatformFaultsWatch *w);
int platform_faults_watch_arm(PlatformFaultsWatch *w);
int platform_faults_watch_disarm(PlatformFaultsWatch *w);
PlatformFaultsWatch *platform_faults_watch_free(PlatformFaultsWatch *w);

/* How to wait on one of the two descriptors above: for POLLPRI (cgroup v2's files), or for POLLIN (cgroup
 * v1, which has no such files: an epoll set of eventfds registered through cgroup.event_control, and a timer
 * for the process list). PSI trigger descriptors are always PLATFORM_WATCH_PRIORITY. */
typedef enum PlatformWatchKind {
        PLATFORM_WATCH_PRIORITY,
        PLATFORM_WATCH_READABLE,
} PlatformWatchKind;
int platform_sandbox_watch_kind(PlatformSandbox *s, int fd);

typedef struct PlatformChild {
        pid_t pid;
        int wait_fd; /* a pidfd to poll for exit, or -1 when the kernel has none */
        /* After a failed platform_sandbox_spawn(): true when the program itself could not be executed (not
         * found, not executable), false when no process could be started in the sandbox at all; then hint,
         * when not NULL, says what usually causes that error there. */
        bool exec_failed;
        const char *hint;
} PlatformChild;

/*
 * Starts argv in the sandbox, so that neither the child nor anything it
 * starts ever runs outside it. path is the executable to run (already
 * resolved, see platform_find_executable()). The signal mask is cleared in
 * the child; ignored signals stay ignored, as across any exec. keep_fds are inherited by the program
 * under the same numbers (close-on-exec is cleared for it alone); every other
 * descriptor memgov holds is close-on-exec. Returns 0 once the child runs the new
 * program, or a negative errno: of the failed exec (ret->exec_failed; the child is then already gone), or
 * of starting a process in the sandbox (ret->hint may say why).
 */
int platform_sandbox_spawn(PlatformSandbox *s, const char *path, char *const argv[], char *const envp[],
                           const int *keep_fds, size_t n_keep_fds, PlatformChild *ret);

int platform_child_signal(const PlatformChild *c, int sig);
void platform_child_close(PlatformChild *c);

/*
 * Observe mode: a sandbox for the group memgov already runs in, which it does
 * not own (a container's group, a pod's). Nothing is created or removed. Its
 * samples report the effective limits (the lowest memory.max and memory.high
 * of the group and of every ancestor memgov can see); set_high is refused
 * (-EOPNOTSUPP); kill kills memgov's descendants, not the group, which holds
 * memgov itself; populated says whether memgov has any child left. Needs
 * platform_process_set_subreaper() so descendants stay memgov's children.
 */
int platform_sandbox_observe(const char *cgroup_root, PlatformSandbox **ret, PlatformError *err);
bool platform_sandbox_is_observe(const PlatformSandbox *s);

/*
 * How the next spawn sets the child up, before it runs the program:
 * oom_score_adj (PLATFORM_OOM_SCORE_ADJ_UNSET: leave it as inherited), its
 * nice value (PLATFORM_NICE_UNSET: inherited), and whether it gets SIGKILL
 * when memgov dies (PR_SET_PDEATHSIG on Linux). Ignored on Windows, which has
 * none of them (the job dies with memgov anyway).
 */
#define PLATFORM_OOM_SCORE_ADJ_UNSET (-2000)
#define PLATFORM_NICE_UNSET          (-2000)
void platform_sandbox_set_spawn_options(PlatformSandbox *s, int oom_score_adj, int nice,
                                        bool die_with_parent);

/* Stale groups: children of the parent o would use, named as memgov names them
 * (memgov-<program>-<pid>), whose memgov is gone (no process of that pid named
 * memgov in this pid namespace) and whose processes are all visible here.
 * Their processes are killed and the groups removed. *ret_removed (if asked)
 * gets the paths removed, a NULL-terminated malloc'd list; groups that could
 * not be removed are skipped silently (the caller logs the count it got). */
int platform_cleanup_stale(const SandboxOptions *o, char ***ret_removed);

/*
 * Non-root on a systemd host: asks the user's service manager (over its bus)
 * for a transient scope named unit ("NAME.scope") with Delegate=yes, MemoryMax
 * and MemoryHigh (PLATFORM_UNLIMITED: not set), and moves memgov into it.
 * Returns once systemd reports the job done; memgov's own group is then the
 * scope, delegated to its user. err says why on failure (no user bus, refused).
 */
int platform_scope_enter(const char *unit, uint64_t max_bytes, uint64_t high_bytes, const char *description,
                         PlatformError *err);

/* memgov's own process. */
int platform_process_get_oom_score_adj(int *ret);
int platform_process_set_oom_score_adj(int value);
/* The nice value (-20 to 19, lower runs first) of memgov's calling thread, its main thread, which the child
 * is spawned from. Raising the priority needs CAP_SYS_NICE (or RLIMIT_NICE); -EOPNOTSUPP on Windows. */
int platform_process_get_nice(int *ret);
int platform_process_set_nice(int value);
/* Orphaned descendants are reparented to memgov (PR_SET_CHILD_SUBREAPER), not to init. */
int platform_process_set_subreaper(void);
bool platform_process_is_init(void);
/* Runs as root (Linux: euid 0); false on Windows, where nothing memgov does depends on it. */
bool platform_process_is_root(void);
/* The machine's physical memory in bytes (what runtimes that ignore the group size themselves from). */
int platform_machine_memory(uint64_t *ret_bytes);
/* Reaps one exited child without blocking: 1 with *ret_pid and *ret_code (the
 * exit code, or 128+signal), 0 when children remain but none has exited,
 * -ECHILD when there is no child left. -EOPNOTSUPP on Windows, where exits
 * come from the sandbox's events (platform/queue.h). */
int platform_process_reap_one(pid_t *ret_pid, int *ret_code);
/* SIGKILLs every child memgov has (as subreaper, every descendant ends up one);
 * as PID 1 of a namespace, every other process in it. Returns how many.
 * -EOPNOTSUPP on Windows, where the Job Object holds the whole tree. */
int platform_process_kill_descendants(void);

/* Searches PATH (NULL: the default) for name, like execvp(). *ret is malloc'd.
 * -ENOENT when not found, -EACCES when found but not executable. */
int platform_find_executable(const char *name, const char *path, char **ret);

/*
 * The system's structured log: the systemd journal on Linux (sd-journal);
 * Windows has none that memgov writes to, and there platform_journal_send()
 * is -EOPNOTSUPP. A field is NAME=value as the journal takes it, NAME in upper
 * case (MESSAGE, PRIORITY, MEMGOV_ACTION); the caller chooses every field.
 */
typedef struct PlatformJournalField {
        const char *name;
        const char *value;
} PlatformJournalField;

bool platform_journal_available(void);
/* Whether stderr is the journal's stream: systemd names the stream it connects stderr to in
 * JOURNAL_STREAM=<dev>:<inode>, and a child of a service that redirected stderr inherits the variable, not
 * the stream. Always false where there is no journal. */
bool platform_journal_is_stderr(void);
/* Whether stderr is a terminal (a person reading), as opposed to a file, pipe or log collector. */
bool platform_stderr_is_terminal(void);
/* One entry. A negative errno when it was not sent (the caller writes the message elsewhere). */
int platform_journal_send(const PlatformJournalField *fields, size_t n_fields);

/* memgov's own executable, absolute, with '/' between components (Windows takes those too), malloc'd: where
 * its agents are looked for beside it. */
int platform_executable_path(char **ret);

/* The policy files' directory when neither --config-dir nor MEMGOV_CONFIG_DIR names one (docs/policy.md):
 * /etc/memgov on Linux, the ProgramData folder's memgov on Windows. */
const char *platform_policy_dir(void);

/* What governor/ calls the sandbox's event source, its writes, its limits and its readings in log lines,
 * help, metrics, status and the trace's "on" field, so that a person can look them up: the cgroup v2 file
 * names on Linux, the Job Object's on Windows. Never NULL. */
typedef enum PlatformName {
        PLATFORM_NAME_EVENTS,   /* what platform_sandbox_memory_events_fd() watches */
        PLATFORM_NAME_RECLAIM,  /* what platform_sandbox_reclaim() writes */
        PLATFORM_NAME_HIGH,     /* what platform_sandbox_set_high() writes */
        PLATFORM_NAME_MAX,      /* the hard limit: what platform_sandbox_set_max() writes */
        PLATFORM_NAME_SWAP_MAX, /* the swap limit (SandboxOptions.swap_max_bytes) */
        PLATFORM_NAME_CURRENT,  /* the charge: PlatformSample.current_bytes */
        PLATFORM_NAME_PEAK,     /* PlatformSample.peak_bytes */
        PLATFORM_NAME_STAT,     /* where PlatformSample's anon, file, shmem and kernel bytes come from */
        _PLATFORM_NAME_MAX,
} PlatformName;
const char *platform_name(PlatformName n);

/* A monotonic clock in microseconds, for loops that have no sd-event to ask. */
uint64_t platform_monotonic_usec(void);
/* The wall clock in microseconds since the epoch (UTC), for the times in log lines. */
uint64_t platform_realtime_usec(void);
