/* SPDX-License-Identifier: MIT */
#include <shlobj.h>
#include <string.h>
#include <windows.h>

#include "../platform.h"

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
