/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for journald in the test VM, which runs no systemd: binds the
 * native protocol's datagram socket (argv[1], normally
 * /run/systemd/journal/socket) and writes every entry it receives to stdout,
 * its fields one per line, then "--". Stops at SIGTERM.
 * It stays beside the real journald of tests/real/run-systemd.sh because it shows the entries exactly as
 * sent, before journald adds its own fields, and needs no systemd boot.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        static char buf[256 * 1024];
        int fd;

        if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: journal-sink SOCKET-PATH\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        (void)unlink(argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("journal-sink");
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        return 1;
                /* Entries with a newline in a value use a binary length prefix; memgov's do not. */
                fwrite(buf, 1, (size_t)n, stdout);
                if (n > 0 && buf[n - 1] != '\n')
                        fputc('\n', stdout);
                printf("--\n");
                fflush(stdout);
        }
}
