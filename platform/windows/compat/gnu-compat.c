/* SPDX-License-Identifier: MIT */
#include "gnu-compat.h"

#include <string.h>

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
