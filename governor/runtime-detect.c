/* SPDX-License-Identifier: MIT */
#include "runtime-detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../platform/platform.h"
#include "../policy/macro.h"
#include "log.h"

typedef struct MappedFile {
        void *data;
        size_t size;
} MappedFile;

static void mapped_file_done(MappedFile *m)
{
        if (m->data && m->data != MAP_FAILED)
                munmap(m->data, m->size);
}

static int map_file(const char *path, MappedFile *ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
                return -EINVAL;
        ret->size = (size_t)st.st_size;
        ret->data = mmap(NULL, ret->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (ret->data == MAP_FAILED)
                return negative_errno();
        return 0;
}

static void detect_elf(const MappedFile *m, RuntimeDetection *d, const char *prefix)
{
        const char *why;
        ElfFacts f;

        (void)runtime_elf_parse(m->data, m->size, &f);
        d->is_elf = f.is_elf;
        d->is_static = f.is_elf && !f.has_interp;
        d->has_agent = f.memgov_agent;
        d->has_sanitizer = f.needs_sanitizer;
        d->runtime = runtime_from_elf(&f, &why);
        snprintf(d->reason, sizeof(d->reason), "%s%s: %s", prefix, d->program, why);
}

static bool by_name(const char *argv0, const char *real, RuntimeDetection *d, const char *prefix)
{
        Runtime r = runtime_from_launcher_name(argv0);

        if (r == RUNTIME_UNKNOWN)
                r = runtime_from_launcher_name(real);
        if (r == RUNTIME_UNKNOWN)
                return false;
        d->runtime = r;
        snprintf(d->reason, sizeof(d->reason), "%sthe %s launcher %s", prefix,
                 r == RUNTIME_JVM    ? "java"
                 : r == RUNTIME_NODE ? "node"
                                     : "dotnet",
                 real);
        return true;
}

/* One file, without following anything further: by name, else by its ELF. */
static void detect_program(const char *name, const char *search_path, RuntimeDetection *d,
                           const char *prefix)
{
        _cleanup_free_ char *path = NULL, *real = NULL;
        _cleanup_(mapped_file_done) MappedFile m = {};
        int r;

        r = platform_find_executable(name, search_path, &path);
        if (r < 0) {
                d->runtime = RUNTIME_UNKNOWN;
                snprintf(d->reason, sizeof(d->reason), "%s%s: not found", prefix, name);
                return;
        }
        real = realpath(path, NULL);
        snprintf(d->program, sizeof(d->program), "%s", real ? real : path);
        if (by_name(name, d->program, d, prefix))
                return;
        r = map_file(d->program, &m);
        if (r < 0) {
                snprintf(d->reason, sizeof(d->reason), "%s%s: cannot read it (%s)", prefix, d->program,
                         strerror(-r));
                return;
        }
        detect_elf(&m, d, prefix);
}

static bool is_env(const char *path)
{
        const char *b = strrchr(path, '/');
        return strcmp(b ? b + 1 : path, "env") == 0;
}

/* A #! script, followed one level: the interpreter, env's command, or a shell's final exec. */
static void detect_script(const MappedFile *m, const char *search_path, RuntimeDetection *d)
{
        char interp[512], arg[512], cmd[512], prefix[PATH_MAX + 1024];
        unsigned line;
        Runtime r;

        if (runtime_parse_shebang(m->data, m->size, interp, sizeof(interp), arg, sizeof(arg)) < 0)
                return;
        snprintf(prefix, sizeof(prefix), "script %s, ", d->program);
        if (is_env(interp) && runtime_split_first_command(arg, cmd, sizeof(cmd)) == 0) {
                snprintf(prefix, sizeof(prefix), "script %s runs `env %s`: ", d->program, arg);
                detect_program(cmd, search_path, d, prefix);
                return;
        }
        if (runtime_is_shell(interp)) {
                r = runtime_script_exec(m->data, m->size, &line);
                if (r != RUNTIME_UNKNOWN) {
                        d->runtime = r;
                        snprintf(d->reason, sizeof(d->reason), "shell script %s execs %s (line %u)",
                                 d->program, r == RUNTIME_JVM ? "java" : runtime_to_string(r), line);
                        return;
                }
        }
        snprintf(prefix, sizeof(prefix), "script %s, interpreter ", d->program);
        detect_program(interp, NULL, d, prefix);
}

void runtime_detect(const char *path, char *const *argv, const char *search_path, RuntimeDetection *ret)
{
        _cleanup_free_ char *real = realpath(path, NULL);
        _cleanup_(mapped_file_done) MappedFile m = {};
        RuntimeDetection *d = ret;
        const char *split;
        int r;

        memset(d, 0, sizeof(*d));
        d->runtime = RUNTIME_UNKNOWN;
        snprintf(d->program, sizeof(d->program), "%s", real ? real : path);
        if (by_name(argv[0], d->program, d, "argv[0] is "))
                return;
        if (is_env(d->program)) {
                char cmd[PATH_MAX];
                r = runtime_env_command(argv, &split);
                if (r >= 0 && (!split || runtime_split_first_command(split, cmd, sizeof(cmd)) == 0)) {
                        detect_program(split ? cmd : argv[r], search_path, d, "env runs: ");
                        return;
                }
        }
        r = map_file(d->program, &m);
        if (r < 0) {
                snprintf(d->reason, sizeof(d->reason), "cannot read %s (%s)", d->program, strerror(-r));
                return;
        }
        if (m.size >= 2 && memcmp(m.data, "#!", 2) == 0) {
                detect_script(&m, search_path, d);
                return;
        }
        detect_elf(&m, d, "");
}
