/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "../platform/platform.h"
#include "../policy/macro.h"
#include "cli.h"
#include "log.h"
#include "oneshot.h"

#define STATUS_REQUEST_MAX     64
#define STATUS_TIMEOUT_USEC    (5 * USEC_PER_SEC)
#define STATUS_CONNECTIONS_MAX 4

struct StatusServer {
        sd_event *event;
        int fd;
        char *path;
        OneshotServer *server;
        status_snapshot_t snapshot;
        status_capture_t capture;
        void *userdata;
};

int user_dir_default(const char *as_root, const char *xdg_var, const char *home_rel, char **ret)
{
        const char *xdg = getenv(xdg_var), *home = getenv("HOME");
        char *d = NULL;

        if (geteuid() == 0)
                d = strdup(as_root);
        else if (xdg && *xdg == '/') {
                if (asprintf(&d, "%s/memgov", xdg) < 0)
                        d = NULL;
        } else if (home_rel && home && *home == '/') {
                if (asprintf(&d, "%s/%s/memgov", home, home_rel) < 0)
                        d = NULL;
        } else
                return -ENXIO;
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

int status_dir_default(char **ret)
{
        return user_dir_default("/run/memgov", "XDG_RUNTIME_DIR", NULL, ret);
}

/* Ours and closed to everyone else, or refused: a directory others can write could hold a planted socket. */
static int ensure_private_dir(const char *dir)
{
        struct stat st;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        if (lstat(dir, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
                return -EPERM;
        return 0;
}

/* The directory already keeps others out; this holds even if someone loosens it. */
static bool status_admit(void *userdata, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
            (cred.uid != 0 && cred.uid != geteuid())) {
                log_debug("Refused a status request from uid %d.", (int)cred.uid);
                return false;
        }
        return true;
}

static bool status_request_complete(const char *request)
{
        return strchr(request, '\n');
}

static int status_respond(void *userdata, char *request, char **ret, size_t *ret_len)
{
        StatusServer *s = userdata;
        _cleanup_free_ char *out = NULL;
        StatusSnapshot snap;
        bool json;
        int n;

        out = malloc(STATUS_STRLEN);
        if (!out)
                return -ENOMEM;
        request[strcspn(request, "\r\n")] = '\0';
        json = strcmp(request, "json") == 0;
        if (strcmp(request, "capture") == 0) {
                char reason[256];
                int r = s->capture ? s->capture(s->userdata, reason, sizeof(reason)) : 0;
                if (!s->capture)
                        snprintf(reason, sizeof(reason), "capture refused: this memgov cannot capture");
                n = snprintf(out, STATUS_STRLEN, "%s: %s\n", r > 0 ? "ok" : "refused", reason);
        } else if (!json && strcmp(request, "text") != 0)
                n = snprintf(out, STATUS_STRLEN, "error: expected 'json', 'text' or 'capture'\n");
        else {
                s->snapshot(s->userdata, &snap);
                n = json ? status_format_json(&snap, out, STATUS_STRLEN)
                         : status_format_text(&snap, out, STATUS_STRLEN);
                if (n < 0)
                        n = snprintf(out, STATUS_STRLEN, "error: the status does not fit\n");
        }
        *ret = TAKE_PTR(out);
        *ret_len = (size_t)n;
        return 0;
}

static const OneshotOps status_ops = {
        .request_max = STATUS_REQUEST_MAX,
        .timeout_usec = STATUS_TIMEOUT_USEC,
        .connections_max = STATUS_CONNECTIONS_MAX,
        .admit = status_admit,
        .complete = status_request_complete,
        .respond = status_respond,
};

int status_server_new(sd_event *e, const char *dir, status_snapshot_t snapshot, void *userdata,
                      StatusServer **ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *d = NULL;
        StatusServer *s;
        int r;

        if (dir)
                d = strdup(dir);
        else if ((r = status_dir_default(&d)) < 0)
                return r;
        if (!d)
                return -ENOMEM;
        r = ensure_private_dir(d);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->snapshot = snapshot;
        s->userdata = userdata;
        s->fd = -1;
        if (asprintf(&s->path, "%s/%d.status", d, (int)getpid()) < 0) {
                s->path = NULL;
                status_server_free(s);
                return -ENOMEM;
        }
        if (strlen(s->path) >= sizeof(sa.sun_path)) {
                status_server_free(s);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, s->path);
        (void)unlink(s->path); /* a previous memgov with this pid that was SIGKILLed */
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(s->path, 0600) < 0 ||
            listen(s->fd, 8) < 0)
                r = negative_errno();
        else
                r = oneshot_server_new(e, s->fd, &status_ops, s, &s->server);
        if (r < 0) {
                status_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void status_server_set_capture(StatusServer *s, status_capture_t capture)
{
        s->capture = capture;
}

StatusServer *status_server_free(StatusServer *s)
{
        if (!s)
                return NULL;
        oneshot_server_free(s->server);
        if (s->fd >= 0 && s->path)
                (void)unlink(s->path);
        safe_close(s->fd);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

/* --- the client: memgov status ------------------------------------------------------------------------- */

static int query(const char *path, const char *request, char **ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;
        struct timeval tv = {.tv_sec = 5};
        char *buf = NULL;
        size_t n = 0;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0)
                return negative_errno();
        buf = malloc(STATUS_STRLEN + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = recv(fd, buf + n, STATUS_STRLEN - n, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = negative_errno();
                        free(buf);
                        return r;
                }
                if (k == 0 || (n += (size_t)k) == STATUS_STRLEN)
                        break;
        }
        buf[n] = '\0';
        *ret = buf;
        return 0;
}

/* Whether the status (JSON) is the governor the operator named: its group name, or memgov's pid. */
static bool matches(const char *json, const char *pid_of_socket, const char *filter)
{
        char pattern[300];

        if (!filter)
                return true;
        if (strcmp(filter, pid_of_socket) == 0)
                return true;
        snprintf(pattern, sizeof(pattern), "\"name\":\"%s\"", filter);
        return strstr(json, pattern) != NULL;
}

/* Where the clients look: $MEMGOV_STATUS_DIR, else the default. Logged on failure. */
static int client_dir(const char *verb, char **ret)
{
        int r = getenv("MEMGOV_STATUS_DIR") ? ((*ret = strdup(getenv("MEMGOV_STATUS_DIR"))) ? 0 : -ENOMEM)
                                            : status_dir_default(ret);
        if (r < 0)
                log_error_errno(
                        r, "%s: no place to look for governors (%m): as a user, XDG_RUNTIME_DIR must be set",
                        verb);
        return r;
}

/* "<pid>.status" -> pid; false for anything else in the directory. */
static bool socket_pid(const char *name, char pid[static 32])
{
        const char *dot = strrchr(name, '.');

        if (!dot || strcmp(dot, ".status") != 0 || (size_t)(dot - name) >= 32)
                return false;
        snprintf(pid, 32, "%.*s", (int)(dot - name), name);
        return true;
}

int capture_main(int argc, char *argv[])
{
        _cleanup_free_ char *dir = NULL, *answer = NULL;
        DIR *d;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: memgov capture NAME|PID\n\n"
                       "Ask the governor whose group is NAME, or whose memgov has PID, for a heap capture\n"
                       "now (Go pprof, JVM .hprof, V8 .heapsnapshot) in its --capture-dir. Prints where it\n"
                       "goes, or why it was refused (no agent that can capture, too little headroom).\n");
                return 0;
        }
        if (argc != 2 || argv[1][0] == '-') {
                log_error("capture: expected one NAME or PID (see 'memgov capture --help')");
                return EXIT_MEMGOV_FAILURE;
        }
        if (client_dir("capture", &dir) < 0)
                return EXIT_MEMGOV_FAILURE;
        d = opendir(dir);
        for (struct dirent *de; d && !answer && (de = readdir(d));) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                char pid[32];

                if (!socket_pid(de->d_name, pid) || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        continue;
                if (query(path, "json\n", &text) >= 0 && matches(text, pid, argv[1]))
                        (void)query(path, "capture\n", &answer);
        }
        if (d)
                closedir(d);
        if (!answer) {
                log_error("capture: no running memgov named '%s' or with pid %s (looked in %s)", argv[1],
                          argv[1], dir);
                return 1;
        }
        fputs(answer, stdout);
        return strncmp(answer, "ok: ", 4) == 0 ? 0 : 1;
}

int status_main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *dir = NULL;
        const char *filter = NULL;
        bool json = false;
        unsigned found = 0;
        DIR *d;
        int c, r;

        optind = 0;
        opterr = 0;
        /* Options may follow NAME|PID: "memgov status app --json". */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("Usage: memgov status [NAME|PID] [--json]\n\n"
                               "Show the running governors (all, or the one whose group is NAME or whose memgov\n"
                               "has PID): limits, %s and peak, pressure, the agents and what they\n"
                               "report, the GC target, the last decisions. --json prints one object for\n"
                               "NAME|PID and an array otherwise (docs/status.md).\n",
                               platform_name(PLATFORM_NAME_CURRENT));
                        return 0;
                default:
                        log_error("status: option '%s' is not known (see 'memgov status --help')",
                                  argv[optind - 1]);
                        return EXIT_MEMGOV_FAILURE;
                }
        }
        if (optind < argc)
                filter = argv[optind++];
        if (optind < argc) {
                log_error("status: one NAME or PID at most (got '%s' too)", argv[optind]);
                return EXIT_MEMGOV_FAILURE;
        }
        r = client_dir("status", &dir);
        if (r < 0)
                return EXIT_MEMGOV_FAILURE;
        d = opendir(dir);
        if (!d && errno != ENOENT) {
                log_error_errno(errno, "status: cannot read %s: %m", dir);
                return EXIT_MEMGOV_FAILURE;
        }
        if (json && !filter)
                printf("[");
        for (struct dirent *de; d && (de = readdir(d));) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                char pid[32];

                if (!socket_pid(de->d_name, pid))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        break;
                /* A socket nobody listens on is a memgov that was SIGKILLed: nothing to show. */
                if (query(path, "json\n", &text) < 0 || !matches(text, pid, filter))
                        continue;
                if (!json) {
                        free(text);
                        text = NULL;
                        if (query(path, "text\n", &text) < 0)
                                continue;
                }
                if (json && !filter && found > 0)
                        printf(",");
                if (!json && found > 0)
                        printf("\n");
                text[strcspn(text, "\0")] = '\0';
                if (json) /* one object per line inside the array, without its own newline */
                        text[strcspn(text, "\n")] = '\0';
                fputs(text, stdout);
                found++;
                if (filter)
                        break;
        }
        if (d)
                closedir(d);
        if (json && !filter)
                printf("]\n");
        else if (json && found)
                printf("\n");
        if (found == 0) {
                if (filter)
                        log_error("status: no running memgov named '%s' or with pid %s (looked in %s)",
                                  filter, filter, dir);
                else if (!json)
                        printf("No memgov is running (looked in %s).\n", dir);
                return filter ? 1 : 0;
        }
        return 0;
}
