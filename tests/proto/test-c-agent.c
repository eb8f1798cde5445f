/* SPDX-License-Identifier: MIT */
/* libmemgov-agent's options: fd 0 is a descriptor like any other and -1 is none, and the size field
 * lets the struct grow (older callers get defaults, newer ones are refused only for what is unknown). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memgov-agent.h"
#include "../unit/check.h"

/* The agent's first line on the socket, or "" when none came. The agent sends hello as soon as its
 * thread runs, so the wait is for something that must come; 30 s bounds a hung agent. */
static const char *first_line(int peer, char *buf, size_t size)
{
        struct pollfd p = {.fd = peer, .events = POLLIN};
        ssize_t n;

        buf[0] = '\0';
        if (poll(&p, 1, 30000) != 1)
                return buf;
        n = recv(peer, buf, size - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

/* Starts the agent on fd (with the given options) and returns its hello, the other end being peer. */
static const char *hello_on(MemgovAgentOptions *o, int peer, char *buf, size_t size)
{
        int r = memgov_agent_start(o);

        CHECK(r == 1, "start on fd %d: %d", o->fd, r);
        if (r != 1)
                return "";
        first_line(peer, buf, size);
        memgov_agent_stop();
        return buf;
}

int main(void)
{
        union { /* a newer header's struct: ours and fields after it */
                MemgovAgentOptions o;
                unsigned char bytes[sizeof(MemgovAgentOptions) + 16];
        } newer;
        MemgovAgentOptions o = MEMGOV_AGENT_OPTIONS_INIT, *big = &newer.o;
        char buf[512];
        int sv[2], r;

        unsetenv("MEMGOV_FD");
        unsetenv("MEMGOV_SOCKET");
        CHECK(o.size == sizeof(MemgovAgentOptions) && o.fd == -1, "INIT: size %u fd %d", o.size, o.fd);

        /* Nothing to talk to: NULL, fd -1, and a caller from before size (zeroed, fd 0 then meant none). */
        CHECK(memgov_agent_start(NULL) == 0, "NULL");
        CHECK(memgov_agent_start(&o) == 0, "fd -1");
        CHECK(memgov_agent_start(&(MemgovAgentOptions){.runtime_version = "old"}) == 0, "size 0, fd 0");

        /* fd 0 is a socket like any other (a program started with its stdin closed gets it). */
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %m");
        CHECK(dup2(sv[0], 0) == 0, "dup2: %m");
        close(sv[0]);
        o.fd = 0;
        o.runtime_version = "fd-zero";
        CHECK(strstr(hello_on(&o, sv[1], buf, sizeof(buf)), "version=fd-zero"), "hello on fd 0: '%s'", buf);
        close(sv[1]);
        /* The agent closed fd 0 on stop; fill it, so the sockets below are not on 0. */
        CHECK(open("/dev/null", O_RDONLY | O_CLOEXEC) == 0, "fd 0 again: %m");

        /* A caller from before size, with a real descriptor: as it was. */
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %m");
        CHECK(strstr(hello_on(&(MemgovAgentOptions){.fd = sv[0], .runtime_version = "old"}, sv[1], buf,
                              sizeof(buf)),
                     "version=old"),
              "hello, size 0: '%s'", buf);
        close(sv[1]);

        /* A newer caller's larger struct: fine while the fields this library does not know are zero. */
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %m");
        memset(&newer, 0, sizeof(newer));
        *big = (MemgovAgentOptions)MEMGOV_AGENT_OPTIONS_INIT;
        big->size = sizeof(newer);
        big->fd = sv[0];
        big->runtime_version = "newer";
        CHECK(strstr(hello_on(big, sv[1], buf, sizeof(buf)), "version=newer"), "hello, larger: '%s'", buf);
        close(sv[1]);
        newer.bytes[sizeof(newer) - 1] = 1;
        big->fd = -1;
        CHECK((r = memgov_agent_start(big)) == -E2BIG, "an unknown field set: %d", r);

        /* Too small to hold what every caller with size has, and fds below -1. */
        o = (MemgovAgentOptions)MEMGOV_AGENT_OPTIONS_INIT;
        o.size = 4;
        CHECK((r = memgov_agent_start(&o)) == -EINVAL, "size 4: %d", r);
        o = (MemgovAgentOptions)MEMGOV_AGENT_OPTIONS_INIT;
        o.fd = -2;
        CHECK((r = memgov_agent_start(&o)) == -EBADF, "fd -2: %d", r);
        return check_finish("test-c-agent");
}
