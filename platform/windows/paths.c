/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <shlobj.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "../platform.h"
#include "win-util.h"

/* Machine-wide settings live in the ProgramData known folder (C:\ProgramData unless an administrator moved
 * it); a path like /etc/memgov would mean \etc\memgov on whatever drive memgov was started from. */
const char *platform_policy_dir(void)
{
        static char dir[MAX_PATH + 8];
        PWSTR known = NULL;

        if (dir[0])
                return dir;
        if (SHGetKnownFolderPath(&FOLDERID_ProgramData, KF_FLAG_DEFAULT, NULL, &known) == S_OK &&
            WideCharToMultiByte(CP_ACP, 0, known, -1, dir, MAX_PATH, NULL, NULL) > 0)
                strcat(dir, "\\memgov");
        else
                strcpy(dir, "C:\\ProgramData\\memgov"); /* the folder's default, when Windows cannot say */
        CoTaskMemFree(known);
        return dir;
}

const PlatformLimitNames *platform_limit_names(PlatformBackend b)
{
        static const PlatformLimitNames job = {
                .max = "JobMemoryLimit",
                .high = "notification limit",
                .max_per_process = "ProcessMemoryLimit",
        };

        (void)b;
        return &job;
}

int platform_executable_path(char **ret)
{
        char path[MAX_PATH];
        DWORD n = GetModuleFileNameA(NULL, path, sizeof(path));

        if (n == 0)
                return win_last_errno();
        if (n >= sizeof(path)) /* truncated: Windows says so only by filling the buffer */
                return -ENAMETOOLONG;
        for (char *p = path; *p; p++)
                if (*p == '\\')
                        *p = '/';
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}
