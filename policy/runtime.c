/* SPDX-License-Identifier: MIT */
#include "runtime.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static const char *const runtime_names[_RUNTIME_MAX] = {
        [RUNTIME_NONE] = "none",         [RUNTIME_GO] = "go",           [RUNTIME_JVM] = "jvm",
        [RUNTIME_NODE] = "node",         [RUNTIME_DOTNET] = "dotnet",   [RUNTIME_GLIBC] = "glibc",
        [RUNTIME_JEMALLOC] = "jemalloc", [RUNTIME_UNKNOWN] = "unknown", [RUNTIME_AUTO] = "auto",
};

const char *runtime_to_string(Runtime r)
{
        return r >= 0 && r < _RUNTIME_MAX ? runtime_names[r] : "invalid";
}

int runtime_from_string(const char *s, Runtime *ret)
{
        for (Runtime r = 0; r < _RUNTIME_MAX; r++)
                if (r != RUNTIME_UNKNOWN && strcmp(s, runtime_names[r]) == 0) {
                        *ret = r;
                        return 0;
                }
        return -EINVAL;
}

static const char *basename_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* name is launcher, or launcher.exe in any case (Windows' names are case-insensitive), the directory
 * after the last '\' left out too. */
static bool launcher_is(const char *name, const char *launcher)
{
        const char *back = strrchr(name, '\\');
        size_t n = strlen(launcher);

        if (back)
                name = back + 1;
        if (strcmp(name, launcher) == 0)
                return true;
        return strncasecmp(name, launcher, n) == 0 && strcasecmp(name + n, ".exe") == 0;
}

Runtime runtime_from_launcher_name(const char *name)
{
        const char *b = basename_of(name);

        if (launcher_is(b, "java"))
                return RUNTIME_JVM;
        if (launcher_is(b, "node") || launcher_is(b, "nodejs"))
                return RUNTIME_NODE;
        if (launcher_is(b, "dotnet"))
                return RUNTIME_DOTNET;
        return RUNTIME_UNKNOWN;
}

bool runtime_is_shell(const char *path)
{
        static const char *const shells[] = {"sh", "bash", "dash", "ksh", "zsh", "ash", "busybox"};
        const char *b = basename_of(path);

        for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
                if (strcmp(b, shells[i]) == 0)
                        return true;
        return false;
}

static bool contains(const void *buf, size_t n, const char *s)
{
        return memmem(buf, n, s, strlen(s)) != NULL;
}

/* A NUL-terminated string at off in buf, or NULL when it runs off the end. */
static const char *string_at(const char *buf, size_t n, uint64_t off)
{
        if (off >= n || !memchr(buf + off, '\0', n - off))
                return NULL;
        return buf + off;
}

static bool vaddr_to_offset(const char *buf, size_t n, const Elf64_Ehdr *eh, uint64_t vaddr, uint64_t *ret)
{
        for (unsigned i = 0; i < eh->e_phnum; i++) {
                const Elf64_Phdr *ph = (const void *)(buf + eh->e_phoff + (uint64_t)i * sizeof(*ph));
                if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_filesz) {
                        *ret = ph->p_offset + (vaddr - ph->p_vaddr);
                        return *ret < n;
                }
        }
        return false;
}

static void elf_scan_dynamic(const char *buf, size_t n, const Elf64_Ehdr *eh, const Elf64_Phdr *dyn,
                             ElfFacts *f)
{
        uint64_t strtab = 0, strtab_off;
        size_t count;

        if (dyn->p_offset >= n || dyn->p_filesz > n - dyn->p_offset)
                return;
        count = dyn->p_filesz / sizeof(Elf64_Dyn);
        for (size_t i = 0; i < count; i++) {
                const Elf64_Dyn *d = (const void *)(buf + dyn->p_offset + i * sizeof(Elf64_Dyn));
                if (d->d_tag == DT_STRTAB)
                        strtab = d->d_un.d_ptr;
        }
        if (!strtab || !vaddr_to_offset(buf, n, eh, strtab, &strtab_off))
                return;
        for (size_t i = 0; i < count; i++) {
                const Elf64_Dyn *d = (const void *)(buf + dyn->p_offset + i * sizeof(Elf64_Dyn));
                const char *name;
                if (d->d_tag != DT_NEEDED)
                        continue;
                name = string_at(buf, n, strtab_off + d->d_un.d_val);
                if (!name)
                        continue;
                if (strncmp(name, "libjli.so", 9) == 0)
                        f->needs_jli = true;
                if (strncmp(name, "libjemalloc.so", 14) == 0)
                        f->needs_jemalloc = true;
                /* Sanitizer runtimes that refuse to start unless they come first among the libraries. */
                if (strncmp(name, "libasan.so", 10) == 0 || strncmp(name, "libtsan.so", 10) == 0 ||
                    strncmp(name, "libhwasan.so", 12) == 0 || strncmp(name, "liblsan.so", 10) == 0)
                        f->needs_sanitizer = true;
        }
}

static void elf_scan_sections(const char *buf, size_t n, const Elf64_Ehdr *eh, ElfFacts *f)
{
        const Elf64_Shdr *names;

        if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum ||
            eh->e_shoff > n || (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > n - eh->e_shoff)
                return;
        names = (const void *)(buf + eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(Elf64_Shdr));
        for (unsigned i = 0; i < eh->e_shnum; i++) {
                const Elf64_Shdr *sh = (const void *)(buf + eh->e_shoff + (uint64_t)i * sizeof(*sh));
                const char *name = string_at(buf, n, names->sh_offset + sh->sh_name);
                if (name && strcmp(name, ".go.buildinfo") == 0)
                        f->go_buildinfo = true;
        }
}

/* "MZ", and at the offset in its header (e_lfanew, at 0x3c) the "PE\0\0" signature. */
static bool is_pe(const char *buf, size_t n)
{
        uint32_t lfanew;

        if (n < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
                return false;
        memcpy(&lfanew, buf + 0x3c, sizeof(lfanew));
        return lfanew <= n - 4 && memcmp(buf + lfanew, "PE\0\0", 4) == 0;
}

int runtime_elf_parse(const void *data, size_t n, ElfFacts *ret)
{
        const char *buf = data;
        const Elf64_Ehdr *eh = data;
        ElfFacts f = {};

        if (is_pe(buf, n)) {
                /* Go's build info and the .NET apphost's library name are bytes in any format. */
                f.is_pe = true;
                f.go_buildinfo = contains(buf, n, "\xff Go buildinf:");
                f.hostfxr = contains(buf, n, "hostfxr.dll");
                f.has_jemalloc = contains(buf, n, "<jemalloc>: ");
                *ret = f;
                return 0;
        }
        if (n < sizeof(*eh) || memcmp(buf, ELFMAG, SELFMAG) != 0 || buf[EI_CLASS] != ELFCLASS64 ||
            buf[EI_DATA] != ELFDATA2LSB) {
                *ret = f;
                return 0;
        }
        f.is_elf = true;
        if (eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_phoff < n &&
            (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= n - eh->e_phoff)
                for (unsigned i = 0; i < eh->e_phnum; i++) {
                        const Elf64_Phdr *ph = (const void *)(buf + eh->e_phoff + (uint64_t)i * sizeof(*ph));
                        if (ph->p_type == PT_INTERP && ph->p_offset < n &&
                            ph->p_filesz <= n - ph->p_offset) {
                                size_t len = ph->p_filesz < sizeof(f.interp) ? ph->p_filesz
                                                                             : sizeof(f.interp) - 1;
                                f.has_interp = true;
                                memcpy(f.interp, buf + ph->p_offset, len);
                                f.interp[len] = '\0';
                        } else if (ph->p_type == PT_DYNAMIC)
                                elf_scan_dynamic(buf, n, eh, ph, &f);
                }
        elf_scan_sections(buf, n, eh, &f);
        /* Each scan below reads the whole file: tens of MiB for a Go server, at every launch. So none is
         * made once the headers have answered: the java launcher needs libjli, and a Go program has its
         * .go.buildinfo section (a .NET apphost never has one). What the scans find then changes nothing:
         * jemalloc's messages and the C agent's name matter for programs without a runtime of their own
         * (governor/env.c). */
        if (f.needs_jli || f.go_buildinfo) {
                *ret = f;
                return 0;
        }
        /* Stripped section headers leave the build info itself, which starts with this magic. */
        f.go_buildinfo = contains(buf, n, "\xff Go buildinf:");
        f.has_jemalloc = contains(buf, n, "<jemalloc>: ");
        f.hostfxr = contains(buf, n, "libhostfxr.so");
        f.memgov_agent = contains(buf, n, "libmemgov-agent");
        *ret = f;
        return 0;
}

Runtime runtime_from_elf(const ElfFacts *f, const char **ret_reason)
{
        const char *why = "not an ELF file memgov can read";
        Runtime r = RUNTIME_UNKNOWN;

        if (f->is_pe) {
                why = "a Windows executable with no runtime memgov knows";
                if (f->hostfxr)
                        r = RUNTIME_DOTNET,
                        why = "the Windows executable names hostfxr.dll, as .NET apphosts do";
                else if (f->go_buildinfo)
                        r = RUNTIME_GO, why = "the Windows executable has Go build info";
                else if (f->has_jemalloc)
                        r = RUNTIME_JEMALLOC,
                        why = "jemalloc is linked in (its \"<jemalloc>: \" messages are in it)";
        } else if (!f->is_elf)
                ;
        else if (f->needs_jli)
                r = RUNTIME_JVM, why = "the ELF needs libjli.so, the java launcher's library";
        else if (f->hostfxr)
                r = RUNTIME_DOTNET, why = "the ELF names libhostfxr.so, as the dotnet host and apphosts do";
        else if (f->go_buildinfo)
                r = RUNTIME_GO, why = "the ELF has Go build info (.go.buildinfo)";
        else if (f->needs_jemalloc)
                r = RUNTIME_JEMALLOC, why = "the ELF needs libjemalloc.so";
        else if (f->has_jemalloc)
                r = RUNTIME_JEMALLOC,
                why = "jemalloc is linked in (its \"<jemalloc>: \" messages are in the ELF)";
        else if (f->has_interp && strstr(f->interp, "ld-linux"))
                r = RUNTIME_GLIBC, why = "a dynamically linked ELF with glibc's loader";
        else if (f->has_interp)
                why = "a dynamically linked ELF, but its loader is not glibc's";
        else
                why = "a statically linked ELF with no runtime memgov knows";
        if (ret_reason)
                *ret_reason = why;
        return r;
}

static int copy_field(char *dst, size_t size, const char *src, size_t len)
{
        if (len >= size)
                return -ENOBUFS;
        memcpy(dst, src, len);
        dst[len] = '\0';
        return 0;
}

int runtime_parse_shebang(const char *buf, size_t n, char *interp, size_t interp_size, char *arg,
                          size_t arg_size)
{
        const char *p, *end, *w;
        int r;

        if (n < 2 || buf[0] != '#' || buf[1] != '!')
                return -ENOENT;
        end = memchr(buf, '\n', n);
        if (!end)
                end = buf + n;
        p = buf + 2;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
        if (p == w)
                return -ENOENT;
        r = copy_field(interp, interp_size, w, p - w);
        if (r < 0)
                return r;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        /* Linux passes the rest of the line as one argument, trailing blanks removed. */
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        return copy_field(arg, arg_size, p, end - p);
}

/* env options that take a value in the next argument when not joined to it. */
static bool env_option_takes_value(const char *a)
{
        return strcmp(a, "-u") == 0 || strcmp(a, "-C") == 0 || strcmp(a, "--unset") == 0 ||
               strcmp(a, "--chdir") == 0;
}

static bool is_assignment(const char *w, size_t len)
{
        const char *eq = memchr(w, '=', len);
        return eq && eq != w;
}

int runtime_split_first_command(const char *s, char *word, size_t size)
{
        bool skip_next = false;

        for (const char *p = s;;) {
                const char *w;
                size_t len;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        return -ENOENT;
                w = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                len = p - w;
                if (skip_next) {
                        skip_next = false;
                        continue;
                }
                if ((len == 2 && (strncmp(w, "-u", 2) == 0 || strncmp(w, "-C", 2) == 0)))
                        skip_next = true;
                else if (w[0] == '-' || is_assignment(w, len))
                        continue;
                else
                        return copy_field(word, size, w, len);
        }
}

int runtime_env_command(char *const *argv, const char **ret_split)
{
        bool options = true;

        *ret_split = NULL;
        for (int i = 1; argv[i]; i++) {
                const char *a = argv[i];
                if (options && strcmp(a, "--") == 0) {
                        options = false;
                        continue;
                }
                if (options && (strcmp(a, "-S") == 0 || strcmp(a, "--split-string") == 0)) {
                        if (!argv[i + 1])
                                return -ENOENT;
                        *ret_split = argv[i + 1];
                        return i + 1;
                }
                if (options && strncmp(a, "-S", 2) == 0) {
                        *ret_split = a + 2;
                        return i;
                }
                if (options && strncmp(a, "--split-string=", 15) == 0) {
                        *ret_split = a + 15;
                        return i;
                }
                if (options && env_option_takes_value(a)) {
                        i++;
                        if (!argv[i])
                                return -ENOENT;
                        continue;
                }
                if (options && a[0] == '-' && a[1])
                        continue;
                if (is_assignment(a, strlen(a)))
                        continue;
                return i;
        }
        return -ENOENT;
}

static size_t word_len(const char *p, const char *end)
{
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != ';' && *p != '\r')
                p++;
        return p - w;
}

Runtime runtime_script_exec(const char *buf, size_t n, unsigned *ret_line)
{
        const char *p = buf, *end = buf + n;
        unsigned line = 0;

        while (p < end) {
                const char *eol = memchr(p, '\n', end - p);
                char word[256];
                size_t len;
                Runtime r;

                if (!eol)
                        eol = end;
                line++;
                while (p < eol && (*p == ' ' || *p == '\t'))
                        p++;
                if (eol - p > 5 && strncmp(p, "exec", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
                        p += 5;
                        while (p < eol && (*p == ' ' || *p == '\t'))
                                p++;
                        len = word_len(p, eol);
                        /* "$JAVA_HOME/bin/java" -> $JAVA_HOME/bin/java: quotes do not change the name. */
                        size_t o = 0;
                        for (size_t i = 0; i < len && o < sizeof(word) - 1; i++)
                                if (p[i] != '"' && p[i] != '\'')
                                        word[o++] = p[i];
                        word[o] = '\0';
                        r = runtime_from_launcher_name(word);
                        if (r != RUNTIME_UNKNOWN) {
                                *ret_line = line;
                                return r;
                        }
                }
                p = eol + 1;
        }
        return RUNTIME_UNKNOWN;
}
