/* SPDX-License-Identifier: MIT */
/* The path socket: its directory, who may connect to it, and accepting them. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../policy/macro.h"
#include "control-internal.h"
#include "log.h"

#define ACCEPTS_PER_WAKEUP 16

static int check_peer(const ControlServer *s, int fd, pid_t *ret_pid, char *why, size_t why_size)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                snprintf(why, why_size, "cannot read its credentials: %m");
                return 0;
        }
        if (cred.uid != 0 && cred.uid != geteuid()) {
                snprintf(why, why_size, "pid %d runs as uid %u, neither memgov's nor root", (int)cred.pid,
                         (unsigned)cred.uid);
                return 0;
        }
        if (s->sandbox) {
                r = platform_sandbox_has_pid(s->sandbox, cred.pid);
                if (r <= 0) {
                        snprintf(why, why_size, "pid %d is not in the governed group %s%s%s", (int)cred.pid,
                                 platform_sandbox_path(s->sandbox), r < 0 ? ": " : "",
                                 r < 0 ? strerror(-r) : "");
                        return 0;
                }
        }
        *ret_pid = cred.pid;
        return 1;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        ControlServer *s = userdata;

        for (unsigned i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
                _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                char why[256];
                pid_t pid = 0;
                int r;

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Control: accept failed: %m, ignoring.");
                        return 0;
                }
                if (server_active_conns(s) >= s->limits.max_connections) {
                        log_warning("Control: refused a connection: already %u connections.",
                                    s->limits.max_connections);
                        continue;
                }
                if (!check_peer(s, cfd, &pid, why, sizeof(why))) {
                        log_warning("Control: refused a connection: %s.", why);
                        continue;
                }
                r = conn_new(s, TAKE_FD(cfd), true, pid);
                if (r < 0)
                        log_warning_errno(r,
                                          "Control: cannot take a connection from pid %d: %m, closing it.",
                                          (int)pid);
        }
        return 0;
}

static int socket_dir_prepare(const char *dir)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Anyone else able to enter could connect, or replace our socket. */
        if (st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                return -EPERM;
        return 0;
}

int control_server_listen(ControlServer *s, const char *dir, char **ret_socket_path)
{
        _cleanup_free_ char *default_dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        int r;

        if (s->listen_fd >= 0)
                return -EBUSY;
        if (!dir) {
                const char *xdg = getenv("XDG_RUNTIME_DIR");
                if (geteuid() == 0)
                        default_dir = strdup("/run/memgov");
                else if (xdg && xdg[0] == '/') {
                        if (asprintf(&default_dir, "%s/memgov", xdg) < 0)
                                default_dir = NULL;
                } else
                        return -ENXIO;
                if (!default_dir)
                        return -ENOMEM;
                dir = default_dir;
        }
        r = socket_dir_prepare(dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%d.sock", dir, (int)getpid()) < 0)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);

        /* A leftover from a memgov that had our pid and died: ours to replace, but only a socket. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                if (unlink(path) < 0)
                        return negative_errno();
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (listen(fd, 16) < 0) {
                r = negative_errno();
                (void)unlink(path);
                return r;
        }
        r = sd_event_add_io(s->event, &s->listen_source, fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                (void)unlink(path);
                return r;
        }
        s->socket_path = strdup(path);
        if (!s->socket_path) {
                s->listen_source = sd_event_source_disable_unref(s->listen_source);
                (void)unlink(path);
                return -ENOMEM;
        }
        s->listen_fd = TAKE_FD(fd);
        *ret_socket_path = TAKE_PTR(path);
        return 0;
}
