/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers of the Windows backend: the one conversion of Win32 error codes to negative errno, and the
 * PlatformError writer. */

#include <windows.h>

#include "../../policy/macro.h"
#include "../platform.h"

/* GetLastError() codes as the rest of memgov sees errors: a negative errno. */
int win_errno(DWORD error);
/* win_errno(GetLastError()), for the line after a failed call. */
int win_last_errno(void);

_printf_(2, 3) void win_fail(PlatformError *err, const char *fmt, ...);
