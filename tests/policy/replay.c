/* SPDX-License-Identifier: MIT */
/*
 * memgov-replay: drives the control law through a recorded or synthetic trace
 * and prints one logfmt line per step: "t=<ms> rule=... level=... target=...
 * actions=... ...", the same text the governor logs for a decision.
 *
 * The trace is CSV with a header naming its columns (any order, any subset):
 *   t_ms,max,high,current,anon,file,shmem,kernel,inactive_file,
 *   psi_some_avg10,psi_full_avg10,some_fired,full_fired,
 *   ev_high,ev_max,ev_oom,ev_oom_kill,agent,rt_total,heap_live,gc_cpu
 * Sizes take the units of policy/units.h ("512M", "max"); PSI averages are
 * percent as the kernel prints them ("12.34"); gc_cpu is a fraction ("0.45");
 * the rest are integers. A missing column reads as 0, max as "max". Without a
 * high column, or where its cell is empty, memory.high is what the law last
 * wrote ("max" before that), as the kernel would keep it.
 * Lines starting with '#' are comments; "# set key=value" sets a PolicyConfig
 * field by name, as --set does, so a trace can carry its own policy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/law.h"
#include "../../policy/macro.h"

typedef enum Column {
        COL_T_MS,
        COL_MAX,
        COL_HIGH,
        COL_CURRENT,
        COL_ANON,
        COL_FILE,
        COL_SHMEM,
        COL_KERNEL,
        COL_INACTIVE_FILE,
        COL_PSI_SOME,
        COL_PSI_FULL,
        COL_SOME_FIRED,
        COL_FULL_FIRED,
        COL_EV_HIGH,
        COL_EV_MAX,
        COL_EV_OOM,
        COL_EV_OOM_KILL,
        COL_AGENT,
        COL_RT_TOTAL,
        COL_HEAP_LIVE,
        COL_GC_CPU,
        _COL_MAX,
} Column;

static const char *const column_names[_COL_MAX] = {
        "t_ms",   "max",           "high",           "current",        "anon",       "file",       "shmem",
        "kernel", "inactive_file", "psi_some_avg10", "psi_full_avg10", "some_fired", "full_fired", "ev_high",
        "ev_max", "ev_oom",        "ev_oom_kill",    "agent",          "rt_total",   "heap_live",  "gc_cpu",
};

#define MAX_FIELDS 64
#define LINE_MAX_  4096

static char *strip(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* Splits at commas in place; returns the number of fields. */
static size_t split(char *line, char **fields, size_t max)
{
        size_t n = 0;

        for (char *p = line; n < max;) {
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                fields[n++] = strip(p);
                if (!comma)
                        break;
                p = comma + 1;
        }
        return n;
}

/* "12.34" with at most `decimals` digits after the point, scaled by 10^decimals. */
static int parse_fixed(const char *s, unsigned decimals, uint64_t *ret)
{
        uint64_t v = 0;
        unsigned seen = 0;
        bool point = false;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s == '.' && !point) {
                        point = true;
                        continue;
                }
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (point && ++seen > decimals)
                        return -EINVAL;
                if (v > UINT64_MAX / 10 - 9)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        for (; seen < decimals; seen++)
                v *= 10;
        *ret = v;
        return 0;
}

static int parse_cell(Column col, const char *s, PolicySample *x)
{
        uint64_t v;
        int r;

        switch (col) {
        case COL_MAX:
        case COL_HIGH:
        case COL_CURRENT:
        case COL_ANON:
        case COL_FILE:
        case COL_SHMEM:
        case COL_KERNEL:
        case COL_INACTIVE_FILE:
        case COL_RT_TOTAL:
        case COL_HEAP_LIVE:
                r = units_parse_size(s, &v);
                break;
        case COL_PSI_SOME:
        case COL_PSI_FULL:
                r = parse_fixed(s, 2, &v); /* percent to permyriad */
                if (r >= 0 && v > 10000)
                        r = -ERANGE;
                break;
        case COL_GC_CPU:
                r = parse_fixed(s, 4, &v); /* fraction to permyriad */
                if (r >= 0 && v > 10000)
                        r = -ERANGE;
                break;
        default:
                r = parse_fixed(s, 0, &v);
        }
        if (r < 0)
                return r;

        switch (col) {
        case COL_T_MS:
                if (v > UINT64_MAX / USEC_PER_MSEC)
                        return -ERANGE;
                x->now_usec = v * USEC_PER_MSEC;
                break;
        case COL_MAX:
                x->limits.max_bytes = v;
                break;
        case COL_HIGH:
                x->limits.high_bytes = v;
                break;
        case COL_CURRENT:
                x->current_bytes = v;
                break;
        case COL_ANON:
                x->anon_bytes = v;
                break;
        case COL_FILE:
                x->file_bytes = v;
                break;
        case COL_SHMEM:
                x->shmem_bytes = v;
                break;
        case COL_KERNEL:
                x->kernel_bytes = v;
                break;
        case COL_INACTIVE_FILE:
                x->inactive_file_bytes = v;
                break;
        case COL_PSI_SOME:
                x->psi_some_avg10_permyriad = (uint32_t)v;
                break;
        case COL_PSI_FULL:
                x->psi_full_avg10_permyriad = (uint32_t)v;
                break;
        case COL_SOME_FIRED:
                x->psi_some_fired = v != 0;
                break;
        case COL_FULL_FIRED:
                x->psi_full_fired = v != 0;
                break;
        case COL_EV_HIGH:
                x->events_high = v;
                break;
        case COL_EV_MAX:
                x->events_max = v;
                break;
        case COL_EV_OOM:
                x->events_oom = v;
                break;
        case COL_EV_OOM_KILL:
                x->events_oom_kill = v;
                break;
        case COL_AGENT:
                x->agent_present = v != 0;
                break;
        case COL_RT_TOTAL:
                x->runtime_total_bytes = v;
                break;
        case COL_HEAP_LIVE:
                x->heap_live_bytes = v;
                break;
        case COL_GC_CPU:
                x->gc_cpu_permyriad = (uint32_t)v;
                break;
        case _COL_MAX:
                return -EINVAL;
        }
        return 0;
}

typedef struct Replay {
        const char *path;
        unsigned line;
        PolicyConfig config;
        PolicyState state;
        bool have_header, have_state, quiet;
        uint64_t high_written;   /* the law's last memory.high, for traces without a high column */
        int columns[MAX_FIELDS]; /* Column of each field in the trace */
        size_t n_columns;
} Replay;

static int fail(const Replay *r, const char *what, const char *detail)
{
        fprintf(stderr, "%s:%u: %s%s%s\n", r->path, r->line, what, detail ? ": " : "", detail ? detail : "");
        return -EINVAL;
}

static int config_set(Replay *r, const char *assignment)
{
        char key[128];
        const char *eq = strchr(assignment, '=');
        int k;

        if (!eq || (size_t)(eq - assignment) >= sizeof(key))
                return fail(r, "expected key=value", assignment);
        memcpy(key, assignment, (size_t)(eq - assignment));
        key[eq - assignment] = '\0';
        k = policy_config_set(&r->config, strip(key), eq + 1);
        if (k == -ENOENT)
                return fail(r, "no such policy parameter", key);
        if (k < 0)
                return fail(r, units_error_hint(k, key), eq + 1);
        return 0;
}

static int parse_header(Replay *r, char **fields, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int col = -1;
                for (int c = 0; c < _COL_MAX; c++)
                        if (strcmp(fields[i], column_names[c]) == 0)
                                col = c;
                if (col < 0)
                        return fail(r, "unknown column", fields[i]);
                r->columns[i] = col;
        }
        r->n_columns = n;
        r->have_header = true;
        return 0;
}

static int replay_row(Replay *r, char **fields, size_t n)
{
        PolicySample x = {.limits = {SIZE_MAX_UNLIMITED, SIZE_MAX_UNLIMITED}};
        PolicyDecision d;
        bool high_given = false;
        char line[POLICY_DECISION_STRLEN];

        if (n != r->n_columns)
                return fail(r, "wrong number of fields", NULL);
        for (size_t i = 0; i < n; i++) {
                if (r->columns[i] == COL_HIGH && *fields[i] == '\0')
                        continue;
                high_given = high_given || r->columns[i] == COL_HIGH;
                if (parse_cell((Column)r->columns[i], fields[i], &x) < 0)
                        return fail(r, column_names[r->columns[i]], *fields[i] ? fields[i] : "(empty)");
        }
        if (!r->have_state) {
                policy_state_init(&r->state, &r->config);
                r->have_state = true;
                r->high_written = SIZE_MAX_UNLIMITED;
        }
        if (!high_given)
                x.limits.high_bytes = r->high_written;
        policy_step(&r->config, &r->state, &x, &d);
        if (d.actions & POLICY_ACTION_SET_HIGH)
                r->high_written = d.memory_high_bytes;
        if (!r->quiet || d.actions != 0 || d.level_changed)
                printf("t=%" PRIu64 " %s\n", x.now_usec / USEC_PER_MSEC,
                       policy_decision_format(&d, line, sizeof(line)));
        return 0;
}

static int replay_line(Replay *r, char *text)
{
        char *fields[MAX_FIELDS], *s = strip(text);
        size_t n;

        if (*s == '\0')
                return 0;
        if (*s == '#') {
                s = strip(s + 1);
                if (strncmp(s, "set ", 4) != 0)
                        return 0;
                if (r->have_state)
                        return fail(r, "\"# set\" after the first sample", NULL);
                return config_set(r, strip(s + 4));
        }
        n = split(s, fields, MAX_FIELDS);
        if (!r->have_header)
                return parse_header(r, fields, n);
        return replay_row(r, fields, n);
}

static int replay_file(Replay *r, FILE *f)
{
        char buf[LINE_MAX_];

        while (fgets(buf, sizeof(buf), f)) {
                r->line++;
                if (!strchr(buf, '\n') && !feof(f))
                        return fail(r, "line too long", NULL);
                if (replay_line(r, buf) < 0)
                        return -EINVAL;
        }
        if (ferror(f))
                return fail(r, "read error", strerror(errno));
        return 0;
}

static void help(void)
{
        printf("memgov-replay [--set KEY=VALUE]... [--quiet] [TRACE.csv|-]\n\n"
               "Replays a trace through the control law and prints one decision per step.\n"
               "  --set KEY=VALUE  set a policy parameter (see --list)\n"
               "  --quiet          print only steps that act or change the level\n"
               "  --list           list the policy parameters\n");
}

int main(int argc, char **argv)
{
        Replay r = {.path = "-"};
        const char *path = NULL;
        FILE *f = stdin;
        int k;

        policy_config_default(&r.config);
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
                        r.path = "--set";
                        if (config_set(&r, argv[++i]) < 0)
                                return 2;
                } else if (strcmp(argv[i], "--quiet") == 0)
                        r.quiet = true;
                else if (strcmp(argv[i], "--list") == 0) {
                        for (size_t j = 0; policy_config_field_name(j); j++)
                                printf("%s\n", policy_config_field_name(j));
                        return 0;
                } else if (strcmp(argv[i], "--help") == 0) {
                        help();
                        return 0;
                } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
                        fprintf(stderr, "Unknown option %s; see --help.\n", argv[i]);
                        return 2;
                } else if (!path)
                        path = argv[i];
                else {
                        fprintf(stderr, "One trace at a time.\n");
                        return 2;
                }
        }

        r.path = path ? path : "-";
        if (path && strcmp(path, "-") != 0) {
                f = fopen(path, "re");
                if (!f) {
                        fprintf(stderr, "Failed to open %s: %m\n", path);
                        return 2;
                }
        }
        k = replay_file(&r, f);
        if (f != stdin)
                fclose(f);
        return k < 0 ? 1 : 0;
}
