/* SPDX-License-Identifier: MIT */
/*
 * For the tests only: the one function of bcryptprimitives.dll that Go's
 * runtime needs (Go 1.22+ draws its random numbers from ProcessPrng and stops
 * at start without it). Wine 8.0 has no bcryptprimitives.dll, so Go programs
 * cannot run under it; go-prefix.sh puts this one into the test prefix's
 * system32 (never over a DLL that is already there: Wine 9 has its own).
 * Windows 10 and later have the real one.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
        while (len > 0) {
                ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;

                if (!RtlGenRandom(data, n))
                        return FALSE;
                data += n;
                len -= n;
        }
        return TRUE;
}
