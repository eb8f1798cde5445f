/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Which runtime a command runs, decided from what can be seen before it
 * starts: the launcher's name, its ELF headers, a script's first line. Pure
 * parsers over buffers; governor/runtime-detect.c reads the files. The rules
 * are documented in docs/runtimes.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum Runtime {
        RUNTIME_NONE, /* memgov sets no runtime settings at all */
        RUNTIME_GO,
        RUNTIME_JVM,
        RUNTIME_NODE,
        RUNTIME_DOTNET,
        RUNTIME_GLIBC,    /* a dynamically linked program on glibc's malloc */
        RUNTIME_JEMALLOC, /* a program on jemalloc */
        RUNTIME_UNKNOWN,  /* auto found nothing it knows: only GOMEMLIMIT, as for any child */
        RUNTIME_AUTO,     /* --runtime auto: detect */
        _RUNTIME_MAX,
} Runtime;

const char *runtime_to_string(Runtime r);
/* -EINVAL for an unknown name. "unknown" is not accepted from users. */
int runtime_from_string(const char *s, Runtime *ret);

/* java, node, nodejs, dotnet (the basename of name); else RUNTIME_UNKNOWN. */
Runtime runtime_from_launcher_name(const char *name);

/* A shell by its file name (sh, bash, dash, ...; a path's last part). */
bool runtime_is_shell(const char *path);

/* What memgov looks at in an ELF file. Only 64-bit little-endian ELF is parsed; others give is_elf=false.
 * The headers come first; the byte scans (has_jemalloc, hostfxr, memgov_agent, and go_buildinfo without a
 * section) are not made when the headers found libjli or a .go.buildinfo section, and stay false then. */
typedef struct ElfFacts {
        bool is_elf;
        bool is_pe;       /* a Windows executable ("MZ", then "PE\0\0"): only the byte scans below apply */
        bool has_interp;  /* PT_INTERP: dynamically linked */
        char interp[128]; /* the requested program interpreter */
        bool needs_jli;   /* DT_NEEDED libjli.so: the java launcher (or a jlink'ed one) */
        bool needs_jemalloc;  /* DT_NEEDED libjemalloc.so* */
        bool needs_sanitizer; /* DT_NEEDED libasan/libtsan/...: their runtime must be the first library */
        bool has_jemalloc;    /* the "<jemalloc>: " message prefix every jemalloc build carries */
        bool go_buildinfo;    /* a .go.buildinfo section, or the "\xff Go buildinf:" magic */
        bool hostfxr;         /* names libhostfxr.so: the dotnet muxer or an apphost */
        bool memgov_agent;    /* names libmemgov-agent: built with the C agent (linked or DT_NEEDED) */
} ElfFacts;

int runtime_elf_parse(const void *buf, size_t n, ElfFacts *ret);

/* From an ELF's facts to a runtime, with the reason ("has Go build info"). is_static is !has_interp. */
Runtime runtime_from_elf(const ElfFacts *f, const char **ret_reason);

/*
 * "#!interp arg" on the first line of buf: 0 with interp and arg (may be "") filled, -ENOENT when buf is
 * no script, -ENOBUFS when a field does not fit.
 */
int runtime_parse_shebang(const char *buf, size_t n, char *interp, size_t interp_size, char *arg,
                          size_t arg_size);

/*
 * argv of env(1) (argv[0] is env itself): the index of the command env runs, or -ENOENT. Skips options
 * (-i, -0, -u NAME, -C DIR, --unset=NAME, ...) and NAME=value assignments. With -S/--split-string the
 * command is the first word of the split string: then *ret_split points at that word in the argument and
 * the return is the argument's index.
 */
int runtime_env_command(char *const *argv, const char **ret_split);

/* The first word of s that is not an env option or an assignment, copied into word. -ENOENT if none. */
int runtime_split_first_command(const char *s, char *word, size_t size);

/*
 * A shell script that ends in `exec java ...` (or node, dotnet): scans buf for a line whose first word is
 * exec and whose next word names a launcher ("$JAVA_HOME/bin/java" counts: its basename is java). Returns
 * the runtime and the 1-based line number, or RUNTIME_UNKNOWN.
 */
Runtime runtime_script_exec(const char *buf, size_t n, unsigned *ret_line);
