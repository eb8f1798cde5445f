/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The policy files on disk: where they are (DIR/memgov.ini, then
 * DIR/conf.d/NAME.ini in lexical order; DIR is --config-dir, MEMGOV_CONFIG_DIR
 * or platform_policy_dir(): /etc/memgov on Linux), reading them, applying the effective configuration to the
 * run options, and reloading it. The schema and the parser are pure, in
 * policy/config.h.
 */

#include <stdbool.h>

#include "../policy/config.h"
#include "cli.h"

typedef struct PolicyFile {
        char *dir;
        bool dir_explicit; /* named by --config-dir or MEMGOV_CONFIG_DIR: it must exist */
        char **paths;      /* the files read, in order */
        ConfigSet *set;
        ConfigSelector selector;
        char *exe_path;
        char **cmdline_keys;
        char **owned; /* the "--key=value" strings argv points to */
        char **argv;  /* the options from the files, then the command line's, for cli_parse_run() */
        ConfigEffective effective;
        PolicyConfig law;
} PolicyFile;

PolicyFile *policyfile_free(PolicyFile *p);

/*
 * Reads the policy files for the run/explain command line argv (argv[0] is
 * the verb; *o is its first parse), resolves the effective configuration and
 * parses the options again with the files' values below the command line's.
 * On success *o is the final options and o->policy owns the files' state.
 * Every problem is logged; returns -EINVAL then.
 */
int policyfile_apply(int argc, char **argv, RunOptions *o);

/*
 * Reads the files again (SIGHUP). On success the new effective configuration
 * replaces the old one and *ret_law is its law; run options that cannot change
 * while the group runs are named in a notice. On any error nothing changes and
 * the reason is logged. Returns 0 or a negative errno.
 */
int policyfile_reload(PolicyFile *p, PolicyConfig *ret_law, usec_t *ret_grace_usec);

/* current with memory-max and memory-high as the policy in force says, where the command line did not set
 * them (it wins, as at start). 0, or -EINVAL when a value does not parse (the files were checked). */
int policyfile_limits(const PolicyFile *p, const LimitSpec *current, LimitSpec *ret);

/* memgov runs from policy files: it read at least one, or was pointed at a directory. SIGHUP reloads
 * them then, and is not forwarded to the child. */
bool policyfile_in_use(const PolicyFile *p);

/* Prints the files read, the profile and each key's value and origin, for explain. */
void policyfile_explain(const PolicyFile *p);

/* `memgov check [FILE...]`: returns the exit status. */
int policyfile_check_main(int argc, char **argv);
