/* SPDX-License-Identifier: MIT */
/*
 * Starting the child inside the Job Object. PROC_THREAD_ATTRIBUTE_JOB_LIST
 * (Windows 10 / Server 2016+) makes the process a member from its creation,
 * so neither it nor anything it starts ever runs outside the job. Older
 * systems refuse the attribute; there the child is created suspended,
 * assigned, then resumed, and a memgov killed in between would leave a
 * suspended orphan outside the job. MEMGOV_SPAWN_SUSPENDED=1 forces that
 * path, for its tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/macro.h"
#include "../queue.h"
#include "job.h"
#include "win-util.h"

static bool needs_quotes(const char *a)
{
        return a[0] == '\0' || strpbrk(a, " \t\n\v\"") != NULL;
}

/* Appends a quoted: the C runtime's rules, where only backslashes before a quote are special. */
static char *quote_arg(char *out, const char *a)
{
        if (!needs_quotes(a)) {
                size_t n = strlen(a);
                memcpy(out, a, n);
                return out + n;
        }
        *out++ = '"';
        for (const char *p = a;; p++) {
                size_t backslashes = 0;

                while (*p == '\\') {
                        backslashes++;
                        p++;
                }
                if (*p == '\0') {
                        /* Before the closing quote every backslash is doubled. */
                        memset(out, '\\', 2 * backslashes);
                        out += 2 * backslashes;
                        break;
                }
                if (*p == '"') {
                        memset(out, '\\', 2 * backslashes + 1);
                        out += 2 * backslashes + 1;
                } else {
                        memset(out, '\\', backslashes);
                        out += backslashes;
                }
                *out++ = *p;
        }
        *out++ = '"';
        return out;
}

int win_build_command_line(char *const argv[], char **ret)
{
        size_t size = 1;
        char *line, *out;

        for (char *const *a = argv; *a; a++)
                size += 2 * strlen(*a) + 3 + 1; /* every byte escaped at worst, quotes, a space */
        line = out = malloc(size);
        if (!line)
                return -ENOMEM;
        for (char *const *a = argv; *a; a++) {
                if (a != argv)
                        *out++ = ' ';
                out = quote_arg(out, *a);
        }
        *out = '\0';
        *ret = line;
        return 0;
}

static int compare_names(const void *a, const void *b)
{
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
        int c = _strnicmp(x, y, nx < ny ? nx : ny);

        return c != 0 ? c : (int)nx - (int)ny;
}

int win_build_environment_block(char *const envp[], char **ret)
{
        _cleanup_free_ const char **sorted = NULL;
        size_t n = 0, size = 2;
        char *block, *out;

        for (char *const *e = envp; e && *e; e++, n++)
                size += strlen(*e) + 1;
        sorted = calloc(n + 1, sizeof(*sorted));
        block = out = malloc(size);
        if (!sorted || !block) {
                free(block);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                sorted[i] = envp[i];
        qsort(sorted, n, sizeof(*sorted), compare_names);
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(sorted[i]) + 1;
                memcpy(out, sorted[i], len);
                out += len;
        }
        if (n == 0)
                *out++ = '\0';
        *out = '\0';
        *ret = block;
        return 0;
}

/* The standard handles that can be inherited, and keep (handle values), without duplicates: all the child
 * may inherit. */
static size_t inheritable_handles(const int *keep, size_t n_keep, HANDLE *ret)
{
        static const DWORD which[] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
        size_t n = 0;

        for (size_t i = 0; i < 3 + n_keep; i++) {
                HANDLE h = i < 3 ? GetStdHandle(which[i]) : (HANDLE)(uintptr_t)(unsigned)keep[i - 3];
                DWORD flags;
                bool dup = false;

                if (!h || h == INVALID_HANDLE_VALUE || !GetHandleInformation(h, &flags) ||
                    !(flags & HANDLE_FLAG_INHERIT))
                        continue;
                for (size_t k = 0; k < n; k++)
                        dup = dup || ret[k] == h;
                if (!dup)
                        ret[n++] = h;
        }
        return n;
}

/* The attributes: the job to start in (job may be NULL: none), and the handles to inherit. */
static int make_attributes(HANDLE *job, HANDLE *handles, size_t n_handles, LPPROC_THREAD_ATTRIBUTE_LIST *ret)
{
        DWORD count = (job ? 1 : 0) + (n_handles > 0 ? 1 : 0);
        LPPROC_THREAD_ATTRIBUTE_LIST list;
        SIZE_T size = 0;
        int r = 0;

        (void)InitializeProcThreadAttributeList(NULL, count, 0, &size);
        list = malloc(size);
        if (!list)
                return -ENOMEM;
        if (!InitializeProcThreadAttributeList(list, count, 0, &size)) {
                free(list);
                return win_last_errno();
        }
        if (job && !UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_JOB_LIST, job, sizeof(*job),
                                              NULL, NULL))
                r = win_last_errno();
        if (r >= 0 && n_handles > 0 &&
            !UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles,
                                       n_handles * sizeof(*handles), NULL, NULL))
                r = win_last_errno();
        if (r < 0) {
                DeleteProcThreadAttributeList(list);
                free(list);
                return r;
        }
        *ret = list;
        return 0;
}

static int create_process(const char *path, char *cmdline, char *env, HANDLE job, bool suspended,
                          const int *keep, size_t n_keep, PROCESS_INFORMATION *pi)
{
        STARTUPINFOEXA si = {.StartupInfo = {.cb = sizeof(si)}};
        HANDLE inherit[3 + 8];
        size_t n_inherit = inheritable_handles(keep, n_keep, inherit);
        DWORD flags = EXTENDED_STARTUPINFO_PRESENT | (suspended ? CREATE_SUSPENDED : 0);
        BOOL ok;
        int r;

        /* The standard handles, and nothing else memgov holds, reach the child (HANDLE_LIST): the job and
         * the port are not inheritable anyway, but handles memgov itself inherited may be. */
        r = make_attributes(suspended ? NULL : &job, inherit, n_inherit, &si.lpAttributeList);
        if (r < 0)
                return r;
        if (n_inherit > 0) {
                si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
                si.StartupInfo.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
                si.StartupInfo.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
                si.StartupInfo.hStdError = GetStdHandle(STD_ERROR_HANDLE);
        }
        ok = CreateProcessA(path, cmdline, NULL, NULL, n_inherit > 0, flags, env, NULL, &si.StartupInfo, pi);
        r = ok ? 0 : win_last_errno();
        DeleteProcThreadAttributeList(si.lpAttributeList);
        free(si.lpAttributeList);
        return r;
}

static int assign_and_resume(HANDLE job, PROCESS_INFORMATION *pi)
{
        int r = 0;

        if (!AssignProcessToJobObject(job, pi->hProcess))
                r = win_last_errno();
        else if (ResumeThread(pi->hThread) == (DWORD)-1)
                r = win_last_errno();
        if (r < 0)
                TerminateProcess(pi->hProcess, 1);
        return r;
}

int platform_sandbox_spawn(PlatformSandbox *s, const char *path, char *const argv[], char *const envp[],
                           const int *keep_fds, size_t n_keep_fds, PlatformChild *ret)
{
        _cleanup_free_ char *cmdline = NULL, *env = NULL;
        const char *force = getenv("MEMGOV_SPAWN_SUSPENDED");
        bool suspended = force && strcmp(force, "1") == 0;
        PROCESS_INFORMATION pi = {};
        int r;

        ret->exec_failed = false;
        ret->hint = NULL;
        /* keep_fds are handle values here (platform_channel_open()'s), which must be inheritable. */
        if (n_keep_fds > 8)
                return -E2BIG;
        r = win_build_command_line(argv, &cmdline);
        if (r >= 0)
                r = win_build_environment_block(envp, &env);
        if (r < 0)
                return r;

        r = create_process(path, cmdline, env, win_sandbox_job(s), suspended, keep_fds, n_keep_fds, &pi);
        if (r == -EINVAL && !suspended) {
                /* Before Windows 10 the job list attribute is refused: the suspended way, with its window.
                 */
                suspended = true;
                r = create_process(path, cmdline, env, win_sandbox_job(s), suspended, keep_fds, n_keep_fds,
                                   &pi);
        }
        if (r < 0) {
                ret->exec_failed = true; /* CreateProcess() found no program it could run */
                return r;
        }
        if (suspended)
                r = assign_and_resume(win_sandbox_job(s), &pi);
        CloseHandle(pi.hThread);
        if (r < 0) {
                CloseHandle(pi.hProcess);
                return r;
        }
        win_sandbox_set_child(s, pi.hProcess, pi.dwProcessId);
        *ret = (PlatformChild){.pid = (pid_t)pi.dwProcessId, .wait_fd = -1};
        return 0;
}

int platform_child_signal(const PlatformChild *c, int sig)
{
        HANDLE h;
        BOOL ok;

        /* Only a kill has a meaning across processes here; Ctrl-C reaches the child from the console. */
        if (sig != 9)
                return -EOPNOTSUPP;
        /* The sandbox holds the child's handle, so its pid cannot have been reused. */
        h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)c->pid);
        if (!h)
                return -ESRCH;
        ok = TerminateProcess(h, 128 + 9);
        CloseHandle(h);
        return ok ? 0 : win_last_errno();
}

void platform_child_close(PlatformChild *c)
{
        c->wait_fd = -1;
}

static bool has_extension(const char *name)
{
        const char *base = name;

        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == '\\' || *p == ':')
                        base = p + 1;
        return strchr(base, '.') != NULL;
}

static int check_file(const char *p)
{
        DWORD a = GetFileAttributesA(p);

        if (a == INVALID_FILE_ATTRIBUTES)
                return -ENOENT;
        if (a & FILE_ATTRIBUTE_DIRECTORY)
                return -EACCES;
        return 0;
}

int platform_find_executable(const char *name, const char *path, char **ret)
{
        char buf[MAX_PATH];
        DWORD n;
        int r;

        if (name[0] == '\0')
                return -ENOENT;
        if (strpbrk(name, "/\\:")) {
                /* A path: as given, else with .exe, as CreateProcess would try it. */
                snprintf(buf, sizeof(buf), "%s", name);
                r = check_file(buf);
                if (r == -ENOENT && !has_extension(name)) {
                        snprintf(buf, sizeof(buf), "%s.exe", name);
                        r = check_file(buf);
                }
                if (r < 0)
                        return r;
        } else {
                n = SearchPathA(path, name, ".exe", sizeof(buf), buf, NULL);
                if (n == 0 || n >= sizeof(buf))
                        return n == 0 ? -ENOENT : -ENAMETOOLONG;
                r = check_file(buf);
                if (r < 0)
                        return r;
        }
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
