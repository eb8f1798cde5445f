/* SPDX-License-Identifier: MIT */
#include "win-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int win_errno(DWORD error)
{
        switch (error) {
        case ERROR_SUCCESS:
                return 0;
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
        case ERROR_INVALID_DRIVE:
        case ERROR_MOD_NOT_FOUND:
                return -ENOENT;
        case ERROR_ACCESS_DENIED:
        case ERROR_SHARING_VIOLATION:
        case ERROR_PRIVILEGE_NOT_HELD:
                return -EACCES;
        case ERROR_BAD_EXE_FORMAT:
        case ERROR_EXE_MACHINE_TYPE_MISMATCH:
        case ERROR_INVALID_EXE_SIGNATURE:
                return -ENOEXEC;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_COMMITMENT_LIMIT:
                return -ENOMEM;
        case ERROR_INVALID_PARAMETER:
        case ERROR_INVALID_HANDLE:
        case ERROR_BAD_LENGTH:
                return -EINVAL;
        case ERROR_FILENAME_EXCED_RANGE:
                return -ENAMETOOLONG;
        case ERROR_NOT_SUPPORTED:
        case ERROR_CALL_NOT_IMPLEMENTED:
                return -EOPNOTSUPP;
        case ERROR_BUSY:
                return -EBUSY;
        case WAIT_TIMEOUT:
                return -ETIMEDOUT;
        default:
                return -EIO;
        }
}

int win_last_errno(void)
{
        return win_errno(GetLastError());
}

void win_fail(PlatformError *err, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
}
