/* SPDX-License-Identifier: MIT */
/*
 * The hybrid layout of the dev hosts: memory on a v1 hierarchy, cgroup2 at
 * /sys/fs/cgroup/unified without the memory controller. memgov must detect this
 * (statfs magic) and say so; these checks pin down what it will find. Run through
 * tests/vm/vmrun --cgroup hybrid; argv[1] overrides /sys/fs/cgroup.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

static const char *base = "/sys/fs/cgroup";

static bool fs_is(const char *path, long magic)
{
        struct statfs st;

        return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

static bool self_cgroup_has_line(const char *prefix_or_infix)
{
        char line[512];
        FILE *f = fopen("/proc/self/cgroup", "re");
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, prefix_or_infix) != NULL;
        fclose(f);
        return found;
}

static int test_base_is_tmpfs_of_hierarchies(const char *parent)
{
        int ret = KT_FAIL;

        (void)parent;
        expect(fs_is(base, TMPFS_MAGIC));
        ret = KT_PASS;
cleanup:
        return ret;
}

static int test_memory_is_on_v1(const char *parent)
{
        char *memory = cg_name(base, "memory");
        int ret = KT_FAIL;

        (void)parent;
        expect(fs_is(memory, CGROUP_SUPER_MAGIC));
        expect(cg_read_long(memory, "memory.limit_in_bytes") > 0);
        expect(self_cgroup_has_line(":memory:/"));
        ret = KT_PASS;
cleanup:
        free(memory);
        return ret;
}

static int test_unified_is_cgroup2_without_memory(const char *parent)
{
        char *unified = cg_name(base, "unified");
        char controllers[256];
        int ret = KT_FAIL;

        expect(fs_is(unified, CGROUP2_SUPER_MAGIC));
        expect(cg_read(unified, "cgroup.controllers", controllers, sizeof(controllers)) >= 0);
        kt_diag("unified cgroup.controllers: \"%.*s\"", (int)strcspn(controllers, "\n"), controllers);
        expect(strstr(controllers, "memory") == NULL);
        expect(self_cgroup_has_line("0::/"));
        /* A group made there has no memory.* files: no memory control via v2. */
        expect(access(parent, F_OK) == 0);
        expect(!cg_read_contains(parent, "cgroup.controllers", "memory"));
        ret = KT_PASS;
cleanup:
        free(unified);
        return ret;
}

static const KtTest tests[] = {
        {test_base_is_tmpfs_of_hierarchies, "/sys/fs/cgroup is a tmpfs holding the hierarchies"},
        {test_memory_is_on_v1, "memory is on a cgroup v1 hierarchy"},
        {test_unified_is_cgroup2_without_memory, "unified is cgroup2 without the memory controller"},
};

int main(int argc, char **argv)
{
        char *unified;
        int r;

        if (argc > 1)
                base = argv[1];
        unified = cg_name(base, "unified");
        /* The fresh test group goes under unified: creating it is part of the check. */
        r = kt_run_tests(unified, tests, sizeof(tests) / sizeof(tests[0]));
        free(unified);
        return r;
}
