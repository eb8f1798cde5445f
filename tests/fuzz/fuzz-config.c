/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the policy file parser (policy/config-parse.c). The input is
 * two files: the first byte picks where the second (a drop-in) starts. Each is
 * loaded in turn; invariants: a load returns 0 or -EINVAL, with no error
 * listed exactly when it returns 0; a rejected file leaves the set as it was
 * (the effective configuration does not move); whatever is accepted resolves,
 * every effective value passes its key's own validation, and the law accepts
 * all of it. A broken invariant aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/config.h"

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *argv_[] = {(char *)"api-server", NULL};
static char *env_[] = {(char *)"ROLE=web", NULL};

/* The effective configuration as one string, to compare before and after a rejected load. */
static char *snapshot(const ConfigSet *s)
{
        ConfigProblems p = {};
        ConfigEffective e;
        PolicyConfig law;
        char *out = NULL;
        size_t n = 0;
        FILE *f;
        int r;

        r = config_resolve(s,
                           &(ConfigSelector){.argv = argv_, .exe_path = "/usr/bin/api-server", .envp = env_},
                           &e, &p);
        REQUIRE(r == 0 && p.n == 0);
        REQUIRE(config_effective_law(&e, &law) == 0);
        f = open_memstream(&out, &n);
        REQUIRE(f);
        fprintf(f, "profile=%s\n", e.profile ? e.profile : "");
        for (size_t i = 0; i < e.n_values; i++) {
                const char *reason;
                REQUIRE(config_key_validate(config_key(i), e.values[i].value, &reason) == 0);
                fprintf(f, "%s=%s@%s:%u\n", config_key(i)->name, e.values[i].value,
                        e.values[i].file ? e.values[i].file : "", e.values[i].line);
        }
        fclose(f);
        config_effective_clear(&e);
        return out;
}

static void load(ConfigSet *s, const char *name, const uint8_t *data, size_t size)
{
        ConfigProblems p = {};
        char *before = snapshot(s), *after;
        char buf[1024];
        int r;

        r = config_set_load_buffer(s, name, (const char *)data, size, &p);
        REQUIRE(r == 0 || r == -EINVAL);
        REQUIRE((r == 0) == (p.n_errors == 0));
        for (size_t i = 0; i < p.n; i++) {
                REQUIRE(p.items[i].line >= 1);
                config_problem_format(&p.items[i], buf, sizeof(buf));
        }
        if (r == 0) {
                size_t errors = p.n_errors;
                REQUIRE(config_set_check(s, &p) == 0);
                REQUIRE(p.n_errors == errors); /* cross-checks only warn */
        }
        after = snapshot(s);
        if (r < 0)
                REQUIRE(strcmp(before, after) == 0);
        free(before);
        free(after);
        config_problems_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ConfigSet *s;
        size_t split;

        if (size == 0)
                return 0;
        split = 1 + (size - 1) * data[0] / 255;
        REQUIRE(config_set_new(&s) == 0);
        load(s, "memgov.ini", data + 1, split - 1);
        load(s, "conf.d/50-x.ini", data + split, size - split);
        config_set_free(s);
        return 0;
}
