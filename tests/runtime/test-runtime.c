/* SPDX-License-Identifier: MIT */
/* The detection rules of policy/runtime.c on buffers built here: no files. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "../../policy/macro.h"
#include "../../policy/runtime.h"
#include "../unit/check.h"

/* A minimal ELF64: header, PT_LOAD over the whole buffer, optional PT_INTERP, PT_DYNAMIC with DT_NEEDED
 * entries, and extra bytes (a section name, a magic string) at the end. */
typedef struct FakeElf {
        unsigned char buf[4096];
        size_t size;
} FakeElf;

static void fake_elf(FakeElf *f, const char *interp, const char *needed, const char *extra)
{
        Elf64_Ehdr *eh = (void *)f->buf;
        Elf64_Phdr *ph = (void *)(f->buf + sizeof(*eh));
        size_t off = sizeof(*eh) + 3 * sizeof(*ph), strtab, n = 0;
        Elf64_Dyn *dyn;

        memset(f, 0, sizeof(*f));
        memcpy(eh->e_ident, ELFMAG, SELFMAG);
        eh->e_ident[EI_CLASS] = ELFCLASS64;
        eh->e_ident[EI_DATA] = ELFDATA2LSB;
        eh->e_phoff = sizeof(*eh);
        eh->e_phentsize = sizeof(*ph);
        ph[n++] = (Elf64_Phdr){
                .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0x400000, .p_filesz = sizeof(f->buf)};
        if (interp) {
                ph[n++] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = off, .p_filesz = strlen(interp) + 1};
                strcpy((char *)f->buf + off, interp);
                off += strlen(interp) + 1;
        }
        strtab = off;
        f->buf[off++] = '\0';
        if (needed) {
                strcpy((char *)f->buf + off, needed);
                off += strlen(needed) + 1;
                off = (off + 7) & ~(size_t)7;
                dyn = (void *)(f->buf + off);
                dyn[0] = (Elf64_Dyn){.d_tag = DT_NEEDED, .d_un.d_val = 1};
                dyn[1] = (Elf64_Dyn){.d_tag = DT_STRTAB, .d_un.d_ptr = 0x400000 + strtab};
                dyn[2] = (Elf64_Dyn){.d_tag = DT_NULL};
                ph[n++] = (Elf64_Phdr){
                        .p_type = PT_DYNAMIC, .p_offset = off, .p_filesz = 3 * sizeof(Elf64_Dyn)};
                off += 3 * sizeof(Elf64_Dyn);
        }
        if (extra) {
                memcpy(f->buf + off, extra, strlen(extra));
                off += strlen(extra);
        }
        eh->e_phnum = n;
        f->size = off;
}

static void test_elf(void)
{
        static const struct {
                const char *interp, *needed, *extra;
                Runtime want;
                bool is_static;
        } rows[] = {
                {"/lib64/ld-linux-x86-64.so.2", "libc.so.6", NULL, RUNTIME_GLIBC, false},
                {"/lib64/ld-linux-x86-64.so.2", "libjli.so", NULL, RUNTIME_JVM, false},
                {"/lib64/ld-linux-x86-64.so.2", "libjemalloc.so.2", NULL, RUNTIME_JEMALLOC, false},
                {"/lib64/ld-linux-x86-64.so.2", "libc.so.6", "x<jemalloc>: Invalid conf", RUNTIME_JEMALLOC,
                 false},
                {NULL, NULL, "<jemalloc>: Error in malloc_conf", RUNTIME_JEMALLOC, true},
                {NULL, NULL, "\xff Go buildinf:\x08\x02", RUNTIME_GO, true},
                {"/lib64/ld-linux-x86-64.so.2", "libc.so.6", "\xff Go buildinf:", RUNTIME_GO, false},
                {"/lib64/ld-linux-x86-64.so.2", "libstdc++.so.6", "libhostfxr.so", RUNTIME_DOTNET, false},
                {"/lib/ld-musl-x86_64.so.1", "libc.musl-x86_64.so.1", NULL, RUNTIME_UNKNOWN, false},
                {NULL, NULL, NULL, RUNTIME_UNKNOWN, true},
        };
        FakeElf f;
        ElfFacts facts;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const char *why = NULL;
                fake_elf(&f, rows[i].interp, rows[i].needed, rows[i].extra);
                CHECK(runtime_elf_parse(f.buf, f.size, &facts) == 0 && facts.is_elf, "row %zu: parsed", i);
                CHECK(runtime_from_elf(&facts, &why) == rows[i].want && why, "row %zu: %s, want %s (%s)", i,
                      runtime_to_string(runtime_from_elf(&facts, NULL)), runtime_to_string(rows[i].want),
                      why);
                CHECK(facts.has_interp == !rows[i].is_static, "row %zu: static", i);
                CHECK(!facts.memgov_agent, "row %zu: not built with the agent", i);
        }
        fake_elf(&f, "/lib64/ld-linux-x86-64.so.2", "libasan.so.8", NULL);
        CHECK(runtime_elf_parse(f.buf, f.size, &facts) == 0 && facts.needs_sanitizer &&
                      runtime_from_elf(&facts, NULL) == RUNTIME_GLIBC,
              "DT_NEEDED libasan: glibc, with a sanitizer runtime");
        fake_elf(&f, "/lib64/ld-linux-x86-64.so.2", "libmemgov-agent.so.0", NULL);
        CHECK(runtime_elf_parse(f.buf, f.size, &facts) == 0 && facts.memgov_agent,
              "DT_NEEDED libmemgov-agent");
        fake_elf(&f, NULL, NULL, "libmemgov-agent-0.1.0");
        CHECK(runtime_elf_parse(f.buf, f.size, &facts) == 0 && facts.memgov_agent,
              "the static agent's version");
        CHECK(runtime_elf_parse("#!/bin/sh\n", 10, &facts) == 0 && !facts.is_elf, "a script is no ELF");
        CHECK(runtime_elf_parse("\177ELF", 4, &facts) == 0 && !facts.is_elf, "truncated");
        /* A header whose program headers point past the end must not be read. */
        fake_elf(&f, "/lib64/ld-linux-x86-64.so.2", "libjli.so", NULL);
        ((Elf64_Ehdr *)f.buf)->e_phoff = 1u << 30;
        CHECK(runtime_elf_parse(f.buf, f.size, &facts) == 0 && facts.is_elf && !facts.has_interp &&
                      !facts.needs_jli,
              "bad e_phoff ignored");
}

#ifndef _WIN32 /* mmap and mprotect; the parse itself is the same code on Windows */
/* A Go program is known by its .go.buildinfo section without a byte of the file past the headers: the page
 * after them cannot be read, so a whole-file scan would fault here. */
static void test_elf_headers_only(void)
{
        static const char names[] = "\0.go.buildinfo\0.shstrtab";
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        Elf64_Ehdr *eh = (void *)m;
        Elf64_Shdr *sh = (void *)(m + sizeof(*eh));
        size_t names_off = sizeof(*eh) + 3 * sizeof(*sh);
        ElfFacts facts;

        CHECK(m != MAP_FAILED, "mmap");
        if (m == MAP_FAILED)
                return;
        memcpy(eh->e_ident, ELFMAG, SELFMAG);
        eh->e_ident[EI_CLASS] = ELFCLASS64;
        eh->e_ident[EI_DATA] = ELFDATA2LSB;
        eh->e_shoff = sizeof(*eh);
        eh->e_shentsize = sizeof(*sh);
        eh->e_shnum = 3;
        eh->e_shstrndx = 2;
        memcpy(m + names_off, names, sizeof(names));
        sh[1] = (Elf64_Shdr){.sh_name = 1, .sh_type = SHT_PROGBITS, .sh_offset = page, .sh_size = 32};
        sh[2] = (Elf64_Shdr){
                .sh_name = 15, .sh_type = SHT_STRTAB, .sh_offset = names_off, .sh_size = sizeof(names)};
        /* What a scan would find, and must not look for: the .NET host's name would make it dotnet. */
        memcpy(m + page, "libhostfxr.so <jemalloc>: ", 26);
        CHECK(mprotect(m + page, page, PROT_NONE) == 0, "mprotect");
        CHECK(runtime_elf_parse(m, 2 * page, &facts) == 0 && facts.is_elf && facts.go_buildinfo &&
                      !facts.hostfxr && !facts.has_jemalloc && runtime_from_elf(&facts, NULL) == RUNTIME_GO,
              "a Go ELF by its section, headers only");
        munmap(m, 2 * page);
}
#endif

/* A Windows executable: "MZ", e_lfanew at 0x3c, "PE\0\0" there; then body bytes. */
static size_t fake_pe(char *buf, size_t size, const char *body)
{
        uint32_t lfanew = 0x40;

        memset(buf, 0, size);
        memcpy(buf, "MZ", 2);
        memcpy(buf + 0x3c, &lfanew, sizeof(lfanew));
        memcpy(buf + lfanew, "PE\0\0", 4);
        memcpy(buf + 0x80, body, strlen(body));
        return 0x80 + strlen(body) + 16;
}

static void test_pe(void)
{
        static const struct {
                const char *body;
                Runtime want;
        } rows[] = {
                {"\xff Go buildinf:\x08\x02", RUNTIME_GO},
                {"api-ms-win-crt hostfxr.dll", RUNTIME_DOTNET},
                {"<jemalloc>: bad conf", RUNTIME_JEMALLOC},
                {"just a C program", RUNTIME_UNKNOWN},
        };
        char buf[512];
        ElfFacts facts;
        const char *why;
        uint32_t far = 1u << 30;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                size_t n = fake_pe(buf, sizeof(buf), rows[i].body);
                CHECK(runtime_elf_parse(buf, n, &facts) == 0 && facts.is_pe && !facts.is_elf, "row %zu", i);
                CHECK(runtime_from_elf(&facts, &why) == rows[i].want, "row %zu: %s", i, why);
        }
        /* e_lfanew past the end: not a PE file (and not read there). */
        fake_pe(buf, sizeof(buf), "\xff Go buildinf:");
        memcpy(buf + 0x3c, &far, sizeof(far));
        CHECK(runtime_elf_parse(buf, sizeof(buf), &facts) == 0 && !facts.is_pe &&
                      runtime_from_elf(&facts, NULL) == RUNTIME_UNKNOWN,
              "bad e_lfanew");
        CHECK(runtime_elf_parse("MZ", 2, &facts) == 0 && !facts.is_pe, "truncated MZ");
}

static void test_names(void)
{
        static const struct {
                const char *name;
                Runtime want;
        } rows[] = {
                {"java", RUNTIME_JVM},
                {"/usr/lib/jvm/x/bin/java", RUNTIME_JVM},
                {"node", RUNTIME_NODE},
                {"/usr/bin/nodejs", RUNTIME_NODE},
                {"dotnet", RUNTIME_DOTNET},
                {"javac", RUNTIME_UNKNOWN},
                {"nodemon", RUNTIME_UNKNOWN},
                {"", RUNTIME_UNKNOWN},
                /* Windows: .exe in any case, and a directory after a backslash. */
                {"node.exe", RUNTIME_NODE},
                {"C:\\Program Files\\Java\\bin\\JAVA.EXE", RUNTIME_JVM},
                {"dotnet.Exe", RUNTIME_DOTNET},
                {"java.exe.bak", RUNTIME_UNKNOWN},
                {"javaw.exe", RUNTIME_UNKNOWN},
        };
        Runtime r;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                CHECK(runtime_from_launcher_name(rows[i].name) == rows[i].want, "%s", rows[i].name);
        CHECK(runtime_from_string("jvm", &r) == 0 && r == RUNTIME_JVM, "jvm");
        CHECK(runtime_from_string("auto", &r) == 0 && r == RUNTIME_AUTO, "auto");
        CHECK(runtime_from_string("unknown", &r) == -EINVAL, "unknown is not for users");
        CHECK(runtime_from_string("python", &r) == -EINVAL, "python");
}

static void test_shebang(void)
{
        static const struct {
                const char *text;
                int ret;
                const char *interp, *arg;
        } rows[] = {
                {"#!/bin/sh\nexec java\n", 0, "/bin/sh", ""},
                {"#! /usr/bin/env node\n", 0, "/usr/bin/env", "node"},
                {"#!/usr/bin/env -S java -Xmx1g  \r\n", 0, "/usr/bin/env", "-S java -Xmx1g"},
                {"#!/bin/bash", 0, "/bin/bash", ""},
                {"#!\n", -ENOENT, NULL, NULL},
                {"echo hi\n", -ENOENT, NULL, NULL},
                {"", -ENOENT, NULL, NULL},
        };
        char interp[64], arg[64];

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = runtime_parse_shebang(rows[i].text, strlen(rows[i].text), interp, sizeof(interp),
                                              arg, sizeof(arg));
                CHECK(r == rows[i].ret, "row %zu: %d", i, r);
                if (r == 0)
                        CHECK(strcmp(interp, rows[i].interp) == 0 && strcmp(arg, rows[i].arg) == 0,
                              "row %zu: '%s' '%s'", i, interp, arg);
        }
        CHECK(runtime_parse_shebang("#!/bin/sh\n", 10, interp, 4, arg, sizeof(arg)) == -ENOBUFS, "too long");
}

static void test_env(void)
{
        static const struct {
                const char *argv[8];
                int want;
                const char *split;
        } rows[] = {
                {{"env", "java", "-version"}, 1, NULL},
                {{"env", "-i", "A=1", "B=2", "node", "x.js"}, 4, NULL},
                {{"env", "-u", "HOME", "java"}, 3, NULL},
                {{"env", "--unset=HOME", "-C", "/tmp", "dotnet"}, 4, NULL},
                {{"env", "-S", "java -Xmx1g", "x"}, 2, "java -Xmx1g"},
                {{"env", "-Snode --trace-gc"}, 1, "node --trace-gc"},
                {{"env", "--", "-weird"}, 2, NULL},
                {{"env", "-i", "A=1"}, -ENOENT, NULL},
                {{"env", "-u"}, -ENOENT, NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const char *split;
                int r = runtime_env_command((char *const *)rows[i].argv, &split);
                CHECK(r == rows[i].want, "row %zu: %d, want %d", i, r, rows[i].want);
                CHECK((!split && !rows[i].split) ||
                              (split && rows[i].split && strcmp(split, rows[i].split) == 0),
                      "row %zu: split '%s'", i, split ? split : "(null)");
        }
}

static void test_split(void)
{
        static const struct {
                const char *s;
                const char *want;
        } rows[] = {
                {"java -Xmx1g", "java"},      {"-S java", "java"}, {"-i A=1 node x", "node"},
                {"-u HOME dotnet", "dotnet"}, {"  ", NULL},        {"-S A=1", NULL},
        };
        char w[32];

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = runtime_split_first_command(rows[i].s, w, sizeof(w));
                if (rows[i].want)
                        CHECK(r == 0 && strcmp(w, rows[i].want) == 0, "row %zu: '%s'", i, r == 0 ? w : "");
                else
                        CHECK(r == -ENOENT, "row %zu: %d", i, r);
        }
}

static void test_script_exec(void)
{
        static const struct {
                const char *text;
                Runtime want;
                unsigned line;
        } rows[] = {
                {"#!/bin/sh\nset -e\nexec java -jar app.jar \"$@\"\n", RUNTIME_JVM, 3},
                {"#!/bin/sh\n  exec \"$JAVA_HOME/bin/java\" $OPTS\n", RUNTIME_JVM, 2},
                {"#!/bin/sh\nexec node server.js\n", RUNTIME_NODE, 2},
                {"#!/bin/sh\nexec\tdotnet app.dll\n", RUNTIME_DOTNET, 2},
                {"#!/bin/sh\njava -jar app.jar\n", RUNTIME_UNKNOWN, 0}, /* not exec: a child of the shell */
                {"#!/bin/sh\nexec javac X.java\n", RUNTIME_UNKNOWN, 0},
                {"#!/bin/sh\nexecute java\n", RUNTIME_UNKNOWN, 0},
                {"#!/bin/sh\nexec ", RUNTIME_UNKNOWN, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned line = 0;
                Runtime r = runtime_script_exec(rows[i].text, strlen(rows[i].text), &line);
                CHECK(r == rows[i].want && line == rows[i].line, "row %zu: %s line %u", i,
                      runtime_to_string(r), line);
        }
}

int main(void)
{
        test_elf();
#ifndef _WIN32
        test_elf_headers_only();
#endif
        test_pe();
        test_names();
        test_shebang();
        test_env();
        test_split();
        test_script_exec();
        return check_finish("test-runtime");
}
