/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * <arpa/inet.h> for the Windows build: policy/metrics-format.c parses the
 * --metrics-listen address with inet_pton() and compares it with
 * in6addr_loopback. Winsock has both (ws2_32, linked in cmake/windows.cmake).
 * memgov calls no WSAStartup() for it: Wine's inet_pton() needs none (test-metrics
 * runs under Wine without one), and Microsoft documents no WSANOTINITIALISED for
 * it, but that is not confirmed on Windows (docs/windows.md). AF_INET6 is 23
 * there, not Linux's 10: callers compare with the constant, never a number.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
