/* SPDX-License-Identifier: MIT */
/* memgov: keeps a server alive close to its memory limit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "explain.h"
#include "log.h"
#include "policyfile.h"
#include "run.h"
#include "status.h"

#ifndef MEMGOV_VERSION
#define MEMGOV_VERSION "0.0.0"
#endif

static void help(void)
{
        printf("memgov %s: keeps a server alive close to its memory limit.\n\n"
               "Usage:\n"
               "  memgov run [OPTIONS] -- CMD [ARG...]      run CMD in a memory-limited cgroup\n"
               "  memgov explain [OPTIONS] -- CMD [ARG...]  print what run would do, and do nothing\n"
               "  memgov check [FILE...]                    validate policy files (docs/policy.md)\n"
               "  memgov status [NAME|PID] [--json]         show the running governors\n"
               "  memgov capture NAME|PID                   ask one for a heap capture now\n"
               "  memgov --version\n\n"
               "'memgov run --help' lists the options.\n",
               MEMGOV_VERSION);
}

int main(int argc, char *argv[])
{
        RunOptions o;
        const char *verb, *bad;
        int r;

        /* Text until the command is known: check and status are read by a person (or a CI log). */
        (void)log_open(LOG_TARGET_TEXT);
        if (argc < 2) {
                help();
                return EXIT_MEMGOV_FAILURE;
        }
        verb = argv[1];
        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
                help();
                return 0;
        }
        if (strcmp(verb, "--version") == 0 || strcmp(verb, "version") == 0) {
                printf("memgov %s\n", MEMGOV_VERSION);
                return 0;
        }
        if (strcmp(verb, "check") == 0)
                return policyfile_check_main(argc - 1, argv + 1);
        if (strcmp(verb, "status") == 0)
                return status_main(argc - 1, argv + 1);
        if (strcmp(verb, "capture") == 0)
                return capture_main(argc - 1, argv + 1);
        if (strcmp(verb, "run") != 0 && strcmp(verb, "explain") != 0) {
                log_error(
                        "'%s' is not a memgov command (known: run, explain, check, status, capture; see 'memgov --help')",
                        verb);
                return EXIT_MEMGOV_FAILURE;
        }

        /* Still text: a usage error (options, MEMGOV_*, policy files) is read by the person who typed the
         * command, as systemd-run's, docker's and env's are, even when stderr is a pipe. */
        r = cli_parse_run(argc - 1, argv + 1, &o);
        if (r == 1)
                return 0;
        if (r < 0)
                return EXIT_MEMGOV_FAILURE;
        /* The policy files sit below the command line: parse again with their options first. */
        r = policyfile_apply(argc - 1, argv + 1, &o);
        if (r < 0)
                return EXIT_MEMGOV_FAILURE;

        /* From here on a governor's messages are a log: logfmt unless a person reads them (log.h). */
        r = log_open_default(&bad);
        if (r == -EINVAL) {
                log_error("MEMGOV_LOG_FORMAT='%s': expected auto, text, logfmt or journal", bad);
                return EXIT_MEMGOV_FAILURE;
        }
        if (r < 0) {
                log_error(
                        "MEMGOV_LOG_FORMAT=%s: this system has no journal (systemd's); text and logfmt work here",
                        bad);
                return EXIT_MEMGOV_FAILURE;
        }
        if (o.log_format_set)
                (void)log_open(o.log_format); /* available: cli_parse_run() checked */

        if (strcmp(verb, "explain") == 0)
                r = explain_main(&o);
        else
                r = run_main(&o);
        policyfile_free(o.policy);
        return r;
}
