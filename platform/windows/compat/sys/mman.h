/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Read-only file mappings, the one use governor/runtime-detect.c makes of
 * mmap(): PROT_READ, MAP_PRIVATE, a whole file from offset 0. Anything else
 * fails with EINVAL. Implemented over CreateFileMapping in gnu-compat.c.
 */

#include <stddef.h>
#include <sys/types.h>

#define PROT_READ   1
#define MAP_PRIVATE 2
#define MAP_FAILED  ((void *)-1)

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);
