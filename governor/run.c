/* SPDX-License-Identifier: MIT */
/*
 * The supervisor: create the group, start the child in it, then loop on
 * sd-event until the child and everything it started are gone:
 *   child exit (pidfd) -> note the code; if descendants remain, grace, then kill
 *   the group empty (platform_sandbox_populated()) -> remove the group, exit with the child's code
 *   SIGTERM/SIGINT -> forward, grace, then kill the group (platform_sandbox_kill())
 *   other signals -> forward
 * As an init (PID 1, --init, observe mode; governor/init.c) one SIGCHLD source replaces the child's pidfd:
 * it reaps every child and finds the main one among them.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "../platform/platform.h"
#include "../policy/launchenv.h"
#include "../policy/macro.h"
#include "env.h"
#include "govern.h"
#include "init.h"
#include "log.h"
#include "policyfile.h"

extern char **environ;

/* rmdir right after populated=0 can still see the last task on its way out. */
#define RMDIR_RETRY_USEC (20 * USEC_PER_MSEC)
#define RMDIR_RETRIES    100

static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

typedef struct Supervisor {
        RunState run;
        LimitSpec spec; /* the options' limits; a policy reload may change them */
        sd_event *event;
        PlatformSandbox *sandbox;
        Governor *governor;
        sd_event_source *child_source;
        sd_event_source *populated_source;
        sd_event_source *grace_source;
        sd_event_source *rmdir_source;
        sd_event_source *sigchld_source; /* init mode: reaps every child, the main one included */
        bool init_mode;
        bool killing;      /* the grace period is over: kill descendants that appear */
        usec_t grace_usec; /* from the options; a policy reload may change it */
        bool finishing;
        unsigned rmdir_tries;
} Supervisor;

const char *run_command_basename(const char *cmd)
{
        const char *base = strrchr(cmd, '/');

        return base ? base + 1 : cmd;
}

static void report_oom(Supervisor *s)
{
        char max[UNITS_SIZE_STRLEN], peak[UNITS_SIZE_STRLEN];
        PlatformSample x;
        int r;

        r = platform_sandbox_sample(s->sandbox, &x);
        if (r < 0) {
                log_debug_errno(r, "Failed to read the final memory counters: %m, ignoring.");
                return;
        }
        if (x.events_oom_kill == 0)
                return;
        units_format_size_human(x.max_bytes, max, sizeof(max));
        if (x.peak_bytes == PLATFORM_UNLIMITED)
                snprintf(peak, sizeof(peak), "unknown (no %s)", platform_name(PLATFORM_NAME_PEAK));
        else
                units_format_size_human(x.peak_bytes, peak, sizeof(peak));
        log_error("%s was OOM-killed: %s=%s, peak=%s, %" PRIu64
                  " process(es) killed in %s. Raise --memory-max, or make the program use less memory.",
                  s->run.opts->argv[0], platform_name(PLATFORM_NAME_MAX), max, peak, x.events_oom_kill,
                  platform_sandbox_path(s->sandbox));
        governor_postmortem(s->governor, s->run.opts->argv[0], "was OOM-killed", &x);
}

/* Everything is gone: remove the group, retrying briefly while the kernel finishes tearing down. */
static int on_rmdir_retry(sd_event_source *source, uint64_t usec, void *userdata);

static void finish(Supervisor *s)
{
        int r;

        if (!s->finishing) {
                s->finishing = true;
                report_oom(s);
        }
        r = platform_sandbox_destroy(s->sandbox);
        if (r == -EBUSY && s->rmdir_tries++ < RMDIR_RETRIES) {
                r = sd_event_add_time_relative(s->event, &s->rmdir_source, CLOCK_MONOTONIC, RMDIR_RETRY_USEC,
                                               0, on_rmdir_retry, s);
                if (r >= 0)
                        return;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to remove cgroup %s: %m, leaving it behind.",
                                  platform_sandbox_path(s->sandbox));
        sd_event_exit(s->event, s->run.exit_code);
}

static int on_rmdir_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
        Supervisor *s = userdata;

        s->rmdir_source = sd_event_source_unref(s->rmdir_source);
        finish(s);
        return 0;
}

static bool sandbox_empty(Supervisor *s)
{
        bool populated = true;
        int r;

        r = platform_sandbox_populated(s->sandbox, &populated);
        if (r < 0)
                log_warning_errno(r, "Failed to read whether %s is empty: %m, assuming the group is in use.",
                                  platform_sandbox_path(s->sandbox));
        return !populated;
}

static int on_grace_expired(sd_event_source *source, uint64_t usec, void *userdata)
{
        Supervisor *s = userdata;
        int r;

        log_notice("Grace period over, killing what is left %s %s.",
                   platform_sandbox_is_observe(s->sandbox) ? "of memgov's descendants in" : "in",
                   platform_sandbox_path(s->sandbox));
        s->killing = true;
        r = platform_sandbox_kill(s->sandbox);
        if (r < 0)
                log_error_errno(r, "Failed to kill the processes in %s: %m",
                                platform_sandbox_path(s->sandbox));
        return 0;
}

static void start_grace(Supervisor *s)
{
        int r;

        if (s->grace_source)
                return;
        r = sd_event_add_time_relative(s->event, &s->grace_source, CLOCK_MONOTONIC, s->grace_usec, 0,
                                       on_grace_expired, s);
        if (r < 0) {
                log_error_errno(r, "Failed to arm the grace timer: %m; killing the group now.");
                on_grace_expired(NULL, 0, s);
        }
}

static void child_exited(Supervisor *s, int code)
{
        run_state_child_exited(&s->run, code);
        governor_stop(s->governor);
        log_debug("Child %d exited, status %d.", (int)s->run.child.pid, s->run.exit_code);

        if (sandbox_empty(s)) {
                finish(s);
                return;
        }
        log_notice("%s exited; its descendants still run in %s, waiting up to the grace period for them.",
                   s->run.opts->argv[0], platform_sandbox_path(s->sandbox));
        start_grace(s);
}

static int on_child_exit(sd_event_source *source, const siginfo_t *si, void *userdata)
{
        Supervisor *s = userdata;

        child_exited(s, si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status);
        return 0;
}

/* Init mode: one SIGCHLD may stand for many exits (signals coalesce), so reap until none is left, and
 * recognise the main child among them by its pid rather than expect a signal of its own. */
static int on_sigchld(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
        Supervisor *s = userdata;
        bool main_exited = false;
        int code, main_code = 0, r;
        pid_t pid;

        while ((r = platform_process_reap_one(&pid, &code)) > 0) {
                if (pid == s->run.child.pid && !s->run.child_exited) {
                        main_exited = true;
                        main_code = code;
                } else
                        log_debug("Reaped %d (status %d).", (int)pid, code);
        }
        if (r < 0 && r != -ECHILD)
                log_warning_errno(r, "Failed to reap children: %m, ignoring.");
        if (main_exited) {
                child_exited(s, main_code);
                return 0;
        }
        if (!s->run.child_exited || s->finishing)
                return 0;
        if (sandbox_empty(s))
                finish(s);
        else if (s->killing) /* descendants that were orphaned by the last round came back to us */
                (void)platform_sandbox_kill(s->sandbox);
        return 0;
}

static int on_populated_changed(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Supervisor *s = userdata;

        (void)platform_watch_ack(fd);
        /* populated=0 before the child's exit is reaped is possible; the child source finishes then. */
        if (s->run.child_exited && !s->finishing && sandbox_empty(s))
                finish(s);
        return 0;
}

/* memory-max and memory-high from a reloaded policy, applied to the running group (the law sees them in its
 * next sample); the command line's own values stay, as at start. */
static void reload_limits(Supervisor *s)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN];
        MemoryLimits limits;
        LimitSpec spec;
        LimitError le;
        int r;

        if (!s->sandbox || !s->run.opts->policy ||
            policyfile_limits(s->run.opts->policy, &s->spec, &spec) < 0)
                return;
        le = limits_resolve(&spec, &limits);
        if (le != LIMIT_OK) {
                log_error("The reloaded limits are not applied: %s.", limit_error_to_string(le));
                return;
        }
        if (limits.max_bytes == s->run.limits.max_bytes && limits.high_bytes == s->run.limits.high_bytes)
                return;
        r = platform_sandbox_set_max(s->sandbox, limits.max_bytes);
        if (r >= 0)
                r = platform_sandbox_set_high(s->sandbox, limits.high_bytes);
        if (r < 0) {
                (void)log_full_errno(LOG_WARNING, r,
                                     "Cannot apply the reloaded limits to %s: %m; it keeps %s=%s %s=%s.",
                                     platform_sandbox_path(s->sandbox), platform_name(PLATFORM_NAME_MAX),
                                     units_format_size(s->run.limits.max_bytes, a, sizeof(a)),
                                     platform_name(PLATFORM_NAME_HIGH),
                                     units_format_size(s->run.limits.high_bytes, b, sizeof(b)));
                /* The hard limit may be in place and the throttle point not: put back what was there. */
                (void)platform_sandbox_set_max(s->sandbox, s->run.limits.max_bytes);
                return;
        }
        s->spec = spec;
        s->run.limits = limits;
        log_notice("Limits of %s now %s=%s %s=%s (policy reload).", platform_sandbox_path(s->sandbox),
                   platform_name(PLATFORM_NAME_MAX), units_format_size(limits.max_bytes, a, sizeof(a)),
                   platform_name(PLATFORM_NAME_HIGH), units_format_size(limits.high_bytes, b, sizeof(b)));
}

/* SIGHUP: read the policy files again; any error keeps the policy in force (policyfile_reload() says why).
 */
static void reload_policy(Supervisor *s)
{
        PolicyConfig law;
        usec_t grace;

        if (policyfile_reload(s->run.opts->policy, &law, &grace) < 0)
                return;
        s->grace_usec = grace;
        if (s->governor)
                governor_set_config(s->governor, &law);
        reload_limits(s);
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
        Supervisor *s = userdata;
        int sig = (int)si->ssi_signo, r;

        /* With policy files, SIGHUP is memgov's: many programs (Go's default) exit on it. Without, it is
         * forwarded as before. */
        if (sig == SIGHUP && policyfile_in_use(s->run.opts->policy) && si->ssi_code != SI_KERNEL) {
                log_notice("Got SIGHUP, reloading the policy.");
                reload_policy(s);
                return 0;
        }

        /* Signals a terminal sends (Ctrl-C, Ctrl-\, window size, hangup) reach the whole foreground process
         * group, the child included: forwarding them again would deliver them twice. */
        if (si->ssi_code != SI_KERNEL && !s->run.child_exited) {
                r = platform_child_signal(&s->run.child, sig);
                if (r < 0 && r != -ESRCH)
                        log_warning_errno(r, "Failed to forward signal %d to %d: %m, ignoring.", sig,
                                          (int)s->run.child.pid);
        }
        if (sig == SIGTERM || sig == SIGINT) {
                log_debug("Got signal %d, stopping within the grace period.", sig);
                start_grace(s);
        }
        return 0;
}

static int watch_signals(Supervisor *s)
{
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++) {
                int r = sd_event_add_signal(s->event, NULL, forwarded_signals[i], on_signal, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signal %d: %m", forwarded_signals[i]);
        }
        return 0;
}

static int watch_child(Supervisor *s)
{
        int r;

        if (s->init_mode) {
                r = sd_event_add_signal(s->event, &s->sigchld_source, SIGCHLD, on_sigchld, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch SIGCHLD: %m");
                return 0;
        }
        if (s->run.child.wait_fd >= 0)
                r = sd_event_add_child_pidfd(s->event, &s->child_source, s->run.child.wait_fd, WEXITED,
                                             on_child_exit, s);
        else
                r = sd_event_add_child(s->event, &s->child_source, s->run.child.pid, WEXITED, on_child_exit,
                                       s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the child: %m");
        return 0;
}

static int watch_populated(Supervisor *s)
{
        int fd = platform_sandbox_populated_fd(s->sandbox);
        int r = sd_event_add_io(s->event, &s->populated_source, fd, governor_watch_events(s->sandbox, fd),
                                on_populated_changed, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch whether %s is empty: %m",
                                       platform_sandbox_path(s->sandbox));
        return 0;
}

static int block_signals(void)
{
        sigset_t set;

        /* Blocked before the child starts, so none sent in between is lost; the child unblocks them. */
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&set, forwarded_signals[i]);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return negative_errno();
        return 0;
}

static void on_policy_kill(int exit_status, void *userdata)
{
        Supervisor *s = userdata;
        int r;

        if (!run_state_policy_kill(&s->run, exit_status))
                return;
        r = platform_sandbox_kill(s->sandbox);
        if (r < 0)
                log_error_errno(r, "Failed to kill the processes in %s: %m",
                                platform_sandbox_path(s->sandbox));
}

static void supervisor_done(Supervisor *s)
{
        governor_free(s->governor);
        sd_event_source_disable_unref(s->child_source);
        sd_event_source_disable_unref(s->populated_source);
        sd_event_source_disable_unref(s->grace_source);
        sd_event_source_disable_unref(s->rmdir_source);
        sd_event_source_disable_unref(s->sigchld_source);
        platform_child_close(&s->run.child);
        platform_sandbox_free(s->sandbox);
        sd_event_unref(s->event);
}

static int spawn_child(Supervisor *s, const char *path, char **envp, int keep_fd)
{
        int r;

        r = platform_sandbox_spawn(s->sandbox, path, s->run.opts->argv, envp, &keep_fd, keep_fd >= 0 ? 1 : 0,
                                   &s->run.child);
        if (r < 0) {
                int code = run_spawn_failed(s->run.opts->argv[0], platform_sandbox_path(s->sandbox),
                                            &s->run.child, r);

                r = platform_sandbox_destroy(s->sandbox);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove cgroup %s: %m, leaving it behind.",
                                          platform_sandbox_path(s->sandbox));
                return code;
        }
        log_debug("Started %s as %d in %s.", path, (int)s->run.child.pid, platform_sandbox_path(s->sandbox));
        return 0;
}

/* The loop, the agent channel and the child's environment: everything that needs the group to exist. */
static int prepare_governor(Supervisor *s, const LaunchEnv *plan, char ***ret_envp, int *ret_keep_fd)
{
        _cleanup_strv_free_ char **extra = NULL;
        GovernorOptions go;
        int r;

        governor_options_default(&go);
        if (s->run.opts->policy)
                go.config = s->run.opts->policy->law;
        go.config.give_up = s->run.opts->kill_on_cannot_fit ? POLICY_GIVE_UP_KILL : POLICY_GIVE_UP_LET_OOM;
        /* Java cannot adopt an inherited socket: its agent connects to MEMGOV_SOCKET. */
        go.agent_socket = !s->run.opts->no_agent && (s->run.opts->agent_socket || plan->java_agent);
        go.no_agent = s->run.opts->no_agent;
        go.program = s->run.opts->argv[0];
        go.metrics_file = s->run.opts->metrics_file;
        go.metrics_listen = s->run.opts->metrics_listen;
        go.trace_file = s->run.opts->trace_file;
        go.capture = s->run.opts->capture;
        go.capture_dir = s->run.opts->capture_dir;
        r = governor_new(s->event, s->sandbox, &go, on_policy_kill, s, &s->governor);
        if (r < 0 && go.agent_socket && !s->run.opts->agent_socket) {
                /* Only the JVM agent wanted the socket (unprivileged, no XDG_RUNTIME_DIR...): run without.
                 */
                (void)log_full_errno(
                        LOG_NOTICE, r,
                        "Cannot offer a path socket for the JVM agent: %m; the JVM runs without it.");
                go.agent_socket = false;
                r = governor_new(s->event, s->sandbox, &go, on_policy_kill, s, &s->governor);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to start watching %s: %m",
                                       platform_sandbox_path(s->sandbox));
        r = governor_prepare_child(s->governor, ret_keep_fd, &extra);
        if (r < 0)
                return log_error_errno(r, "Failed to prepare the agent channel: %m");
        r = env_build(environ, plan, extra, ret_envp);
        if (r < 0)
                return log_error_errno(r, "Failed to build the child's environment: %m");
        return 0;
}

/* Observe mode: the budget comes from the limits someone else set on the group and its ancestors. */
static void observe_limits(Supervisor *s)
{
        char max[UNITS_SIZE_STRLEN], high[UNITS_SIZE_STRLEN];
        PlatformSample x;
        int r;

        r = platform_sandbox_sample(s->sandbox, &x);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the limits of %s: %m; the child gets no budget.",
                                  platform_sandbox_path(s->sandbox));
                return;
        }
        s->run.limits.max_bytes = x.max_bytes;
        s->run.limits.high_bytes = x.high_bytes;
        units_format_size_human(x.max_bytes, max, sizeof(max));
        units_format_size_human(x.high_bytes, high, sizeof(high));
        log_notice(
                "Observing %s: effective %s=%s %s=%s (the lowest of the group and its ancestors); memgov sets no limits in this mode.",
                platform_sandbox_path(s->sandbox), platform_name(PLATFORM_NAME_MAX), max,
                platform_name(PLATFORM_NAME_HIGH), high);
}

int run_main(const RunOptions *o)
{
        _cleanup_strv_free_ char **envp = NULL;
        _cleanup_free_ char *path = NULL;
        Supervisor s = {.grace_usec = o->grace_usec, .spec = o->spec};
        int keep_fd = -1;
        char name[256];
        bool observe;
        int child_oom, child_nice;
        LaunchEnv plan;
        RuntimeDetection detection;
        SandboxOptions so;
        int r;

        r = run_state_init(&s.run, o, &path);
        if (r != 0)
                return r;
        if (governor_check_outputs(o->metrics_file, o->metrics_listen, o->trace_file) < 0)
                return EXIT_MEMGOV_FAILURE;

        run_sandbox_options(o, &s.run.limits, name, sizeof(name), &so);

        r = block_signals();
        if (r < 0) {
                log_error_errno(r, "Failed to block signals: %m");
                return EXIT_MEMGOV_FAILURE;
        }
        if (init_protect(o, &child_oom, &child_nice) < 0)
                return EXIT_MEMGOV_FAILURE;
        r = init_acquire_sandbox(o, &so, &s.sandbox, &observe);
        if (r < 0)
                return EXIT_MEMGOV_FAILURE;
        if (init_become_reaper(o, observe, &s.init_mode) < 0) {
                (void)platform_sandbox_destroy(s.sandbox);
                platform_sandbox_free(s.sandbox);
                return EXIT_MEMGOV_FAILURE;
        }
        platform_sandbox_set_spawn_options(s.sandbox, child_oom, child_nice, true);
        if (observe)
                observe_limits(&s);
        env_plan(o, path, &s.run.limits, &detection, &plan);
        env_report(&plan);

        r = sd_event_default(&s.event);
        if (r < 0)
                log_error_errno(r, "Failed to allocate the event loop: %m");
        else
                r = prepare_governor(&s, &plan, &envp, &keep_fd);
        if (r < 0) {
                (void)platform_sandbox_destroy(s.sandbox);
                supervisor_done(&s);
                return EXIT_MEMGOV_FAILURE;
        }
        r = spawn_child(&s, path, envp, keep_fd);
        if (r != 0) {
                supervisor_done(&s);
                return r;
        }
        governor_set_child_pid(s.governor, s.run.child.pid);
        governor_child_started(s.governor);

        /* From here on the child runs: any failure to watch it kills the group rather than orphaning it. */
        r = watch_signals(&s);
        if (r >= 0)
                r = watch_child(&s);
        if (r >= 0)
                r = watch_populated(&s);
        if (r < 0) {
                (void)platform_sandbox_kill(s.sandbox);
                (void)waitpid(s.run.child.pid, NULL, 0);
                s.run.child_exited = true;
                s.run.exit_code = EXIT_MEMGOV_FAILURE;
                finish(&s); /* the loop below runs its rmdir retries, then exits */
        }
        r = sd_event_loop(s.event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m; killing the group.");
                (void)platform_sandbox_kill(s.sandbox);
                r = EXIT_MEMGOV_FAILURE;
        }
        supervisor_done(&s);
        return r;
}
