/* SPDX-License-Identifier: MIT */
#include "gnu-compat.h"

#include <errno.h>
#include <stdbool.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <windows.h>

void *memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len)
{
        const unsigned char *h = haystack;

        if (needle_len == 0)
                return (void *)haystack;
        for (size_t i = 0; needle_len <= haystack_len && i <= haystack_len - needle_len; i++)
                if (h[i] == *(const unsigned char *)needle && memcmp(h + i, needle, needle_len) == 0)
                        return (void *)(h + i);
        return NULL;
}

char *strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *p = malloc(len + 1);

        if (!p) {
                errno = ENOMEM;
                return NULL;
        }
        memcpy(p, s, len);
        p[len] = '\0';
        return p;
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
        HANDLE file = (HANDLE)_get_osfhandle(fd), mapping;
        void *p;

        if (addr || prot != PROT_READ || flags != MAP_PRIVATE || offset != 0 || length == 0 ||
            file == INVALID_HANDLE_VALUE) {
                errno = EINVAL;
                return MAP_FAILED;
        }
        mapping = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
        if (!mapping) {
                errno = EACCES;
                return MAP_FAILED;
        }
        p = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, length);
        CloseHandle(mapping); /* the view keeps the mapping alive */
        if (!p) {
                errno = ENOMEM;
                return MAP_FAILED;
        }
        return p;
}

int munmap(void *addr, size_t length)
{
        if (!UnmapViewOfFile(addr)) {
                errno = EINVAL;
                return -1;
        }
        return 0;
}

char *realpath(const char *path, char *resolved)
{
        char buf[MAX_PATH];
        DWORD n = GetFullPathNameA(path, sizeof(buf), buf, NULL);

        if (n == 0 || n >= sizeof(buf)) {
                errno = n == 0 ? EINVAL : ENAMETOOLONG;
                return NULL;
        }
        if (GetFileAttributesA(buf) == INVALID_FILE_ATTRIBUTES) {
                errno = ENOENT;
                return NULL;
        }
        if (resolved)
                return strcpy(resolved, buf);
        return strdup(buf);
}

static bool env_name_valid(const char *name)
{
        return name && *name && !strchr(name, '=');
}

int setenv(const char *name, const char *value, int overwrite)
{
        int e;

        if (!env_name_valid(name)) {
                errno = EINVAL;
                return -1;
        }
        if (!overwrite && getenv(name))
                return 0;
        e = _putenv_s(name, value);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return 0;
}

int unsetenv(const char *name)
{
        return setenv(name, "", 1);
}
