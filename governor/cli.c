/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../platform/platform.h"
#include "../policy/launchenv.h"
#include "../policy/metrics-format.h"
#include "log.h"

enum {
        ARG_MEMORY_MAX = 0x100,
        ARG_MEMORY_HIGH,
        ARG_SWAP_MAX,
        ARG_NAME,
        ARG_PARENT,
        ARG_GRACE,
        ARG_CGROUP_ROOT,
        ARG_ON_CANNOT_FIT,
        ARG_AGENT_SOCKET,
        ARG_NO_AGENT,
        ARG_RUNTIME,
        ARG_GOGC,
        ARG_JVM_RESERVE,
        ARG_NODE_RESERVE,
        ARG_DOTNET_RESERVE,
        ARG_PROFILE,
        ARG_CONFIG_DIR,
        ARG_INIT,
        ARG_OBSERVE,
        ARG_OOM_SCORE_ADJ,
        ARG_METRICS_FILE,
        ARG_METRICS_LISTEN,
        ARG_TRACE,
        ARG_LOG_FORMAT,
        ARG_CAPTURE,
        ARG_CAPTURE_DIR,
        ARG_CAPTURE_BUDGET,
        ARG_CAPTURE_INTERVAL,
};

void cli_help_run(const char *verb)
{
        printf("Usage: memgov %s [OPTIONS] [--] CMD [ARG...]\n\n", verb);
        if (strcmp(verb, "explain") == 0)
                printf("Print what `memgov run` would do with these options (cgroup, limits, environment),\n"
                       "without doing it.\n\n");
        else
                printf("Run CMD in its own cgroup v2 group with memory limits, give it a GC budget in its\n"
                       "environment, forward signals to it, and exit with its exit code.\n\n");
        printf("Options:\n"
               "  --memory-max SIZE     hard limit (%s); past it the kernel OOM-kills the group\n"
               "  --memory-high SIZE|PCT  throttle point (%s), a size or a percentage of\n"
               "                        --memory-max such as 90%%\n"
               "  --swap-max SIZE       swap limit (%s); unset leaves the kernel default\n"
               "  --name NAME           the child cgroup's name (default memgov-<program>-<pid>)\n"
               "  --parent CGROUP       create the group below CGROUP (default: memgov's own cgroup,\n"
               "                        after memgov moves itself into a leaf named 'supervisor')\n"
               "  --grace DURATION      after SIGTERM/SIGINT, or after the child exits while its\n"
               "                        descendants still run, wait this long, then kill the group\n"
               "                        (default 10s)\n"
               "  --on-cannot-fit let-oom|kill\n"
               "                        when the program cannot fit its limit (its live heap alone\n"
               "                        outgrows it, or GC thrashes): stop squeezing and let the\n"
               "                        kernel decide (let-oom, the default), or kill the group and\n"
               "                        exit 122 (kill)\n"
               "  --agent-socket        also offer a path socket (MEMGOV_SOCKET) for agents in\n"
               "                        processes that cannot inherit MEMGOV_FD\n"
               "  --no-agent            steer through the environment only: no MEMGOV_FD, no\n"
               "                        agent added to the JVM, Node or C programs; memgov still\n"
               "                        watches, reclaims page cache and reports\n"
               "  --runtime auto|go|jvm|node|dotnet|glibc|jemalloc|none\n"
               "                        the runtime CMD runs, which decides the settings below\n"
               "                        (default auto: detected from the executable; see\n"
               "                        docs/runtimes.md); none sets nothing in the environment\n"
               "  --gogc VALUE          also set GOGC (default: GOGC is left alone)\n"
               "  --jvm-reserve SIZE    non-heap memory kept out of the JVM heap, on top of 10%% of\n"
               "                        the budget (default 64M)\n"
               "  --node-reserve SIZE   the same for Node's old space (default 32M, plus 5%%)\n"
               "  --dotnet-reserve SIZE the same for .NET's GC heap hard limit (default 64M)\n"
               "  --profile NAME        use [profile \"NAME\"] of the policy files, whatever its match\n"
               "                        rules say (also MEMGOV_PROFILE; see docs/policy.md)\n"
               "  --config-dir DIR      read DIR/memgov.ini and DIR/conf.d/*.ini instead of /etc/memgov\n"
               "                        (%%ProgramData%%\\memgov on Windows)\n"
               "                        (also MEMGOV_CONFIG_DIR)\n"
               "  --init                act as an init even when not PID 1: reap every orphan\n"
               "                        (as a subreaper), and after CMD exits wait --grace for\n"
               "                        its descendants, then kill them (automatic as PID 1)\n"
               "  --observe             govern inside the cgroup memgov already runs in (a\n"
               "                        container's, a pod's): read its limits, set none; chosen\n"
               "                        with a notice when no child group can be made there\n"
               "  --oom-score-adj N     the child's oom_score_adj, -1000..1000 (default: the one\n"
               "                        memgov started with; memgov lowers its own)\n"
               "  --metrics-file PATH   write Prometheus metrics to PATH at every sample, replacing\n"
               "                        it atomically (for node_exporter's textfile collector)\n"
               "  --metrics-listen ADDRESS:PORT\n"
               "                        also serve them on http://ADDRESS:PORT/metrics; loopback\n"
               "                        only (127.0.0.1:9464, [::1]:9464, localhost:9464)\n"
               "  --trace PATH          record every sample and decision in PATH as JSON lines\n"
               "                        (scripts/plot-trace draws them)\n"
               "  --capture on|off      ask the agent for a heap profile (Go pprof, JVM .hprof, V8\n"
               "                        .heapsnapshot) on entering critical and on cannot-fit, at\n"
               "                        most one per --capture-interval and only with the headroom\n"
               "                        it needs; the post-mortem names the files (default on)\n"
               "  --capture-dir DIR     where captures go (default /var/lib/memgov/captures as root,\n"
               "                        else $XDG_STATE_HOME/memgov)\n"
               "  --capture-budget SIZE the most our captures may take in DIR; the oldest are\n"
               "                        removed first (default 1G)\n"
               "  --capture-interval DURATION\n"
               "                        at least this long between two automatic captures\n"
               "                        (default 1m)\n"
               "  --log-format auto|text|logfmt|journal\n"
               "                        where memgov's messages go (default auto, or MEMGOV_LOG_FORMAT:\n"
               "                        the journal, with MEMGOV_* fields, when stderr is connected to\n"
               "                        it; else text on a terminal, logfmt on a file or pipe)\n"
               "  -v, --verbose         say more, including every decision of the control loop\n"
               "  -q, --quiet           only warnings and errors\n"
               "  -h, --help            show this help\n\n"
               "SIZE is bytes, or a number with K, M, G or T (1024-based: 512M, 1.5G), or 'max'.\n"
               "DURATION is a number with ms, s or m (500ms, 10s, 2m); a bare number is seconds.\n\n"
               "GOMEMLIMIT is set to the budget (%s if set, else %s) minus a 10%%\n"
               "headroom (at least 8M) unless the environment already has one. The runtime's own\n"
               "settings (JAVA_TOOL_OPTIONS, NODE_OPTIONS, DOTNET_/COMPlus_GCHeapHardLimit, MALLOC_ARENA_MAX,\n"
               "MALLOC_CONF, ...) are derived from the same budget and merged with yours.\n\n"
               "While CMD runs, memgov watches the group's pressure and steers CMD's garbage\n"
               "collector through an agent inside it (MEMGOV_FD; see docs/protocol.md).\n\n"
               "Exit status: the child's, or 128+N if signal N ended it; 127 if CMD was not found,\n"
               "126 if it could not be executed, 125 if memgov itself failed, 122 if memgov killed\n"
               "it because it could not fit (--on-cannot-fit kill).\n",
               platform_name(PLATFORM_NAME_MAX), platform_name(PLATFORM_NAME_HIGH),
               platform_name(PLATFORM_NAME_SWAP_MAX), platform_name(PLATFORM_NAME_HIGH),
               platform_name(PLATFORM_NAME_MAX));
}

static int parse_size_option(const char *option, const char *value, uint64_t *ret)
{
        int r = units_parse_size(value, ret);
        if (r < 0)
                log_error("%s '%s': %s", option, value, units_error_hint(r, "size"));
        return r;
}

int cli_parse_run(int argc, char **argv, RunOptions *ret)
{
        static const struct option options[] = {
                {"memory-max", required_argument, NULL, ARG_MEMORY_MAX},
                {"memory-high", required_argument, NULL, ARG_MEMORY_HIGH},
                {"swap-max", required_argument, NULL, ARG_SWAP_MAX},
                {"name", required_argument, NULL, ARG_NAME},
                {"parent", required_argument, NULL, ARG_PARENT},
                {"grace", required_argument, NULL, ARG_GRACE},
                {"on-cannot-fit", required_argument, NULL, ARG_ON_CANNOT_FIT},
                {"agent-socket", no_argument, NULL, ARG_AGENT_SOCKET},
                {"no-agent", no_argument, NULL, ARG_NO_AGENT},
                {"runtime", required_argument, NULL, ARG_RUNTIME},
                {"gogc", required_argument, NULL, ARG_GOGC},
                {"jvm-reserve", required_argument, NULL, ARG_JVM_RESERVE},
                {"node-reserve", required_argument, NULL, ARG_NODE_RESERVE},
                {"dotnet-reserve", required_argument, NULL, ARG_DOTNET_RESERVE},
                {"profile", required_argument, NULL, ARG_PROFILE},
                {"config-dir", required_argument, NULL, ARG_CONFIG_DIR},
                {"init", no_argument, NULL, ARG_INIT},
                {"observe", no_argument, NULL, ARG_OBSERVE},
                {"oom-score-adj", required_argument, NULL, ARG_OOM_SCORE_ADJ},
                {"metrics-file", required_argument, NULL, ARG_METRICS_FILE},
                {"metrics-listen", required_argument, NULL, ARG_METRICS_LISTEN},
                {"trace", required_argument, NULL, ARG_TRACE},
                {"log-format", required_argument, NULL, ARG_LOG_FORMAT},
                {"capture", required_argument, NULL, ARG_CAPTURE},
                {"capture-dir", required_argument, NULL, ARG_CAPTURE_DIR},
                {"capture-budget", required_argument, NULL, ARG_CAPTURE_BUDGET},
                {"capture-interval", required_argument, NULL, ARG_CAPTURE_INTERVAL},
                {"cgroup-root", required_argument, NULL, ARG_CGROUP_ROOT}, /* for tests; undocumented */
                {"verbose", no_argument, NULL, 'v'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        RunOptions o = {
                .spec =
                        {
                                .memory_max_bytes = SIZE_MAX_UNLIMITED,
                                .memory_high_bytes = SIZE_MAX_UNLIMITED,
                        },
                .grace_usec = GRACE_DEFAULT_USEC,
                .runtime = RUNTIME_AUTO,
                .jvm_reserve_bytes = LAUNCHENV_JVM_RESERVE_BYTES,
                .node_reserve_bytes = LAUNCHENV_NODE_RESERVE_BYTES,
                .dotnet_reserve_bytes = LAUNCHENV_DOTNET_RESERVE_BYTES,
        };
        int c, r;

        capture_config_default(&o.capture);
        optind = 0; /* full reset, so tests may parse more than once */
        opterr = 0;
        /* '+': stop at the first non-option, so CMD's own options are left alone even without "--". */
        while ((c = getopt_long(argc, argv, "+:hvq", options, NULL)) >= 0) {
                switch (c) {
                case ARG_MEMORY_MAX:
                        r = parse_size_option("--memory-max", optarg, &o.spec.memory_max_bytes);
                        if (r < 0)
                                return -EINVAL;
                        break;
                case ARG_MEMORY_HIGH:
                        r = units_parse_size_or_percent(optarg, &o.spec.memory_high_bytes,
                                                        &o.spec.memory_high_permyriad,
                                                        &o.spec.memory_high_is_percent);
                        if (r < 0) {
                                log_error("--memory-high '%s': %s", optarg,
                                          r == -ERANGE && strchr(optarg, '%')
                                                  ? "a percentage must be above 0% and at most 100%"
                                                  : units_error_hint(r, "percent"));
                                return -EINVAL;
                        }
                        break;
                case ARG_SWAP_MAX:
                        r = parse_size_option("--swap-max", optarg, &o.spec.swap_max_bytes);
                        if (r < 0)
                                return -EINVAL;
                        o.spec.swap_max_set = true;
                        break;
                case ARG_NAME:
                        o.name = optarg;
                        break;
                case ARG_PARENT:
                        if (!*optarg) {
                                log_error("--parent: must name a cgroup, such as /system.slice/app.service");
                                return -EINVAL;
                        }
                        o.parent = optarg;
                        break;
                case ARG_GRACE:
                        r = units_parse_duration(optarg, &o.grace_usec);
                        if (r < 0) {
                                log_error("--grace '%s': %s", optarg, units_error_hint(r, "duration"));
                                return -EINVAL;
                        }
                        break;
                case ARG_ON_CANNOT_FIT:
                        if (strcmp(optarg, "kill") == 0)
                                o.kill_on_cannot_fit = true;
                        else if (strcmp(optarg, "let-oom") == 0)
                                o.kill_on_cannot_fit = false;
                        else {
                                log_error("--on-cannot-fit '%s': expected 'let-oom' or 'kill'", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_AGENT_SOCKET:
                        o.agent_socket = true;
                        break;
                case ARG_CAPTURE:
                        if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                                log_error("--capture '%s': expected 'on' or 'off'", optarg);
                                return -EINVAL;
                        }
                        o.capture.enabled = strcmp(optarg, "on") == 0;
                        break;
                case ARG_CAPTURE_DIR:
                        if (optarg[0] != '/') {
                                log_error(
                                        "--capture-dir '%s': expected an absolute path (the agent in the child writes there, from its own working directory)",
                                        optarg);
                                return -EINVAL;
                        }
                        o.capture_dir = optarg;
                        break;
                case ARG_CAPTURE_BUDGET:
                        r = parse_size_option("--capture-budget", optarg, &o.capture.budget_bytes);
                        if (r < 0)
                                return -EINVAL;
                        break;
                case ARG_CAPTURE_INTERVAL:
                        r = units_parse_duration(optarg, &o.capture.interval_usec);
                        if (r < 0) {
                                log_error("--capture-interval '%s': %s", optarg,
                                          units_error_hint(r, "duration"));
                                return -EINVAL;
                        }
                        break;
                case ARG_NO_AGENT:
                        o.no_agent = true;
                        break;
                case ARG_RUNTIME:
                        if (runtime_from_string(optarg, &o.runtime) < 0) {
                                log_error(
                                        "--runtime '%s': expected auto, go, jvm, node, dotnet, glibc, jemalloc or none",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_GOGC:
                        if (!*optarg ||
                            (strcmp(optarg, "off") != 0 && strspn(optarg, "0123456789") != strlen(optarg))) {
                                log_error("--gogc '%s': expected a percentage such as 100, or 'off'",
                                          optarg);
                                return -EINVAL;
                        }
                        o.gogc = optarg;
                        break;
                case ARG_JVM_RESERVE:
                case ARG_NODE_RESERVE:
                case ARG_DOTNET_RESERVE: {
                        uint64_t *dst = c == ARG_JVM_RESERVE    ? &o.jvm_reserve_bytes
                                        : c == ARG_NODE_RESERVE ? &o.node_reserve_bytes
                                                                : &o.dotnet_reserve_bytes;
                        const char *name = c == ARG_JVM_RESERVE    ? "--jvm-reserve"
                                           : c == ARG_NODE_RESERVE ? "--node-reserve"
                                                                   : "--dotnet-reserve";
                        r = parse_size_option(name, optarg, dst);
                        if (r < 0 || *dst == SIZE_MAX_UNLIMITED) {
                                if (r >= 0)
                                        log_error("%s: a reserve must be a size, not 'max'", name);
                                return -EINVAL;
                        }
                        break;
                }
                case ARG_INIT:
                        o.init = true;
                        break;
                case ARG_OBSERVE:
                        o.observe = true;
                        break;
                case ARG_OOM_SCORE_ADJ: {
                        char *end;
                        long v;

                        errno = 0;
                        v = strtol(optarg, &end, 10);
                        if (!*optarg || *end || errno || v < -1000 || v > 1000) {
                                log_error("--oom-score-adj '%s': expected a whole number from -1000 to 1000",
                                          optarg);
                                return -EINVAL;
                        }
                        o.oom_score_adj = (int)v;
                        o.oom_score_adj_set = true;
                        break;
                }
                case ARG_METRICS_FILE:
                case ARG_TRACE:
                        if (!*optarg) {
                                log_error("%s: must name a file",
                                          c == ARG_TRACE ? "--trace" : "--metrics-file");
                                return -EINVAL;
                        }
                        *(c == ARG_TRACE ? &o.trace_file : &o.metrics_file) = optarg;
                        break;
                case ARG_METRICS_LISTEN: {
                        uint8_t addr[16];
                        uint16_t port;
                        int family;

                        r = metrics_parse_listen(optarg, &family, addr, &port);
                        if (r < 0) {
                                log_error("--metrics-listen '%s': %s", optarg, metrics_listen_error(r));
                                return -EINVAL;
                        }
                        o.metrics_listen = optarg;
                        break;
                }
                case ARG_LOG_FORMAT: {
                        LogTarget t;

                        if (log_target_from_string(optarg, &t) < 0) {
                                log_error("--log-format '%s': expected auto, text, logfmt or journal",
                                          optarg);
                                return -EINVAL;
                        }
                        if (!log_target_available(t)) {
                                log_error(
                                        "--log-format %s: this system has no journal (systemd's); text and logfmt work here",
                                        optarg);
                                return -EINVAL;
                        }
                        /* Opened by main() once every option is read: until then errors are text. */
                        o.log_format_set = true;
                        o.log_format = t;
                        break;
                }
                case ARG_CGROUP_ROOT:
                        o.cgroup_root = optarg;
                        break;
                case ARG_PROFILE:
                        o.profile = optarg;
                        break;
                case ARG_CONFIG_DIR:
                        o.config_dir = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'q':
                        log_set_max_level(LOG_WARNING);
                        break;
                case 'h':
                        cli_help_run(argv[0]);
                        return 1;
                case '?':
                        if (optopt)
                                log_error("%s: option -%c is not known (see 'memgov %s --help')", argv[0],
                                          optopt, argv[0]);
                        else
                                log_error(
                                        "%s: option '%s' is not known or lacks its value (see 'memgov %s --help')",
                                        argv[0], argv[optind - 1], argv[0]);
                        return -EINVAL;
                case ':':
                        log_error("%s: option '%s' needs a value", argv[0], argv[optind - 1]);
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        }

        if (optind >= argc) {
                log_error("%s: no command given (usage: memgov %s [OPTIONS] -- CMD [ARG...])", argv[0],
                          argv[0]);
                return -EINVAL;
        }
        if (o.observe && (o.spec.memory_max_bytes != SIZE_MAX_UNLIMITED ||
                          o.spec.memory_high_bytes != SIZE_MAX_UNLIMITED || o.spec.memory_high_is_percent ||
                          o.spec.swap_max_set || o.parent || o.name)) {
                log_error(
                        "%s: --observe governs the group memgov is already in and sets no limits; drop --memory-max, --memory-high, --swap-max, --parent and --name (the group's owner sets its limits)",
                        argv[0]);
                return -EINVAL;
        }
        o.argv = argv + optind;
        *ret = o;
        return 0;
}
