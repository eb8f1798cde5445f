/* SPDX-License-Identifier: MIT */
#include <windows.h>

#include "../platform.h"

/* FILETIME counts 100 ns since 1601-01-01; the Unix epoch is this many of them later. */
#define FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

uint64_t platform_realtime_usec(void)
{
        FILETIME ft;
        uint64_t t;

        GetSystemTimePreciseAsFileTime(&ft);
        t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
        return t < FILETIME_UNIX_EPOCH ? 0 : (t - FILETIME_UNIX_EPOCH) / 10u;
}
